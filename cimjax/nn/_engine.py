"""The nn layers' single point of contact with the crossbar engine.

Everything `cimjax.nn` needs from `cimjax.crossbar` / `cimjax.kernels` goes through
these few functions: one read (`crossbar_matmul`), configuration edits, the nominal
keep probability, and the closed-form moments of a read over its P-bits.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp

from cimjax.crossbar import (CrossbarConfig, crossbar_matmul, crossbar_moments, direction_probabilities,
                             nominal_keep_probability)
from cimjax.crossbar import OpCounts, count_read
from cimjax.errors import ConfigError

__all__ = ["resolve_config", "with_pbit", "fixed_pbits", "nominal_keep_prob", "direction_compensated", "read", "read_moments", "counts",
           "counter_space", "CrossbarConfig", "OpCounts"]


def resolve_config(config: CrossbarConfig | None) -> CrossbarConfig:
    """`config`, or the engine's default `CrossbarConfig()` when None."""
    return CrossbarConfig() if config is None else config


def with_pbit(config: CrossbarConfig, *, keep_prob: float | None = None,
              pulse: tuple[float, float] | None = None) -> CrossbarConfig:
    """The configuration with the P-bit keep probability or write pulse (V, t) replaced."""
    if keep_prob is None and pulse is None:
        return config
    if keep_prob is not None:
        pbit = dataclasses.replace(config.pbit, keep_prob=float(keep_prob))
    else:
        pbit = dataclasses.replace(config.pbit, keep_prob=None, voltage=float(pulse[0]), width=float(pulse[1]))
    return dataclasses.replace(config, pbit=pbit)


def fixed_pbits(config: CrossbarConfig) -> CrossbarConfig:
    """The configuration with the P-bits held in the switched state (mode "off"): the ANN."""
    return dataclasses.replace(config, pbit=dataclasses.replace(config.pbit, mode="off"))


@functools.lru_cache(maxsize=256)
def nominal_keep_prob(config: CrossbarConfig) -> float:
    """Nominal keep probability p = P_sw(V, t) of the nominal device (1 when off), the layers' gain 1/p.

    Evaluated eagerly even while a jitted function is being traced: the value is a
    constant of the (static, hashable) configuration.

    Raises:
      ConfigError: p = 0 (keep_prob=0, or a pulse that never switches): the gain 1/p is undefined.
    """
    with jax.ensure_compile_time_eval():
        p = nominal_keep_probability(config.pbit)
    if not p > 0:
        pbit = config.pbit
        cause = (f"keep_prob={pbit.keep_prob}" if pbit.keep_prob is not None
                 else f"the write pulse (voltage={pbit.voltage}, width={pbit.width}; None: the device's) switches with P_sw=0")
        raise ConfigError(f"{cause}: a stochastic read keeps no cell and its gain 1/p is undefined; use a keep "
                          f"probability > 0 (a stronger pulse) or rescale=False")
    return p


@functools.lru_cache(maxsize=256)
def _direction_gains(config: CrossbarConfig) -> tuple[float, float] | None:
    """(p / p_P->AP, p / p_AP->P) with p the nominal keep probability, or None when they are one."""
    pbit = config.pbit
    if pbit.mode == "off" or pbit.keep_prob is not None:
        return None
    with jax.ensure_compile_time_eval():
        p_to_ap, ap_to_p = direction_probabilities(pbit)
    if p_to_ap == ap_to_p:
        return None
    p = 0.5 * (p_to_ap + ap_to_p)
    return p / p_to_ap, p / ap_to_p


def direction_compensated(weights: jax.Array, config: CrossbarConfig) -> jax.Array:
    """Weights (N, M) to program so that the digital gain 1/p makes the mean read the float product.

    On a device whose two switching directions differ, a cell storing w >= 0 keeps with
    p_P->AP and one storing w < 0 with p_AP->P (`cimjax.crossbar.keep_probability`), while
    the column's gain 1/p is one number. The sign of every weight is known when it is
    programmed, so each is scaled there by p / p_direction (digital pre-compensation).
    Unchanged on a one-direction device, with a forced keep probability or P-bits off.
    """
    gains = _direction_gains(config)
    if gains is None:
        return weights
    return weights * jnp.where(weights >= 0, gains[0], gains[1]).astype(weights.dtype)


def read(x: jax.Array, weights: jax.Array, key: jax.Array, config: CrossbarConfig, *,
         sample_index: jax.Array | None = None) -> jax.Array:
    """One crossbar read: x (B, N) @ (weights (N, M) * P-bit mask) -> (B, M)."""
    if sample_index is not None:
        sample_index = jnp.asarray(sample_index).astype(jnp.uint32)
    return crossbar_matmul(x, weights, key, config, sample_index=sample_index)


def read_moments(x: jax.Array, weights: jax.Array, config: CrossbarConfig) -> tuple[jax.Array, jax.Array]:
    """Closed-form mean and variance (B, M) of one read over its P-bits (`crossbar_moments`).

    Mapping, programming, P_sw spread, DAC, read noise and ADC rounding included; ADC
    clipping left out. Gradients flow through the mapping's straight-through estimator.
    """
    return crossbar_moments(x, weights, config)


def counts(config: CrossbarConfig, reads: int, rows: int, cols: int, scheme: str = "in_situ") -> OpCounts:
    """Op counts of `reads` input vectors through a (rows, cols) weight array (`count_read`)."""
    return count_read(config, reads, rows, cols, scheme=scheme)


def counter_space(config: CrossbarConfig, rows: int, cols: int) -> int:
    """Hash counters a (rows, cols) weight array uses; `crossbar_matmul` needs fewer than 2^32.

    The same expression as `crossbar_matmul`'s own check, so that a layer can be refused
    by name before any compute.
    """
    return rows * cols * config.mapping.slices * (1 + -(-rows // config.tile.rows))
