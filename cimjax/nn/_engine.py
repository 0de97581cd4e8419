"""The nn layers' single point of contact with the crossbar engine.

Everything `cimjax.nn` needs from `cimjax.crossbar` / `cimjax.kernels` goes through
these few functions: one read (`crossbar_matmul`), configuration edits, the nominal
keep probability, and the closed-form moments of a read over its P-bits.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from cimjax.crossbar import (
    CrossbarConfig,
    crossbar_matmul,
    dac,
    keep_probability,
    map_weights,
    program_cells,
)

__all__ = ["resolve_config", "with_pbit", "fixed_pbits", "nominal_keep_prob", "read", "read_moments"]


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
    """Nominal keep probability p = P_sw(V, t) of the nominal device (1 when off).

    Evaluated eagerly even while a jitted function is being traced: the value is a
    constant of the (static, hashable) configuration.
    """
    with jax.ensure_compile_time_eval():
        return float(config.pbit.nominal_keep_prob())


def read(x: jax.Array, weights: jax.Array, key: jax.Array, config: CrossbarConfig, *,
         sample_index: jax.Array | None = None) -> jax.Array:
    """One crossbar read: x (B, N) @ (weights (N, M) * P-bit mask) -> (B, M)."""
    if sample_index is not None:
        sample_index = jnp.asarray(sample_index).astype(jnp.uint32)
    return crossbar_matmul(x, weights, key, config, sample_index=sample_index)


def read_moments(x: jax.Array, weights: jax.Array, config: CrossbarConfig) -> tuple[jax.Array, jax.Array]:
    """Closed-form mean and variance (B, M) of one read over its P-bits.

    Every differential pair (slice s of weight (n, m), programmed output c_nms,
    keep probability p_nms from the device curve with its spread) is kept
    independently, and slices are recombined with significance 2^s times the
    mapping scale, so with DAC-quantised inputs u::

        E[y_m]   = scale * sum_s 2^s sum_n u_n p_nms c_nms
        Var[y_m] = scale^2 * sum_s 4^s sum_n u_n^2 p_nms (1 - p_nms) c_nms^2

    ADC quantisation and clipping and read noise are left out (the approximation
    the Gaussian NLL loss accepts). Gradients flow through the mapping's
    straight-through estimator.
    """
    mapped = map_weights(weights.astype(jnp.float32), config.mapping)
    cells = program_cells(mapped.cells, config)  # (N, M*S)
    p = keep_probability(config, cells.shape)
    u = dac(x.astype(jnp.float32), config.periphery)
    hp = lax.Precision.HIGHEST
    mean_s = jnp.dot(u, p * cells, precision=hp)
    var_s = jnp.dot(u * u, p * (1.0 - p) * cells * cells, precision=hp)
    batch, m = x.shape[0], weights.shape[1]
    sig = mapped.significance
    mean = mapped.scale * jnp.einsum("bms,s->bm", mean_s.reshape(batch, m, -1), sig)
    var = jnp.square(mapped.scale) * jnp.einsum("bms,s->bm", var_s.reshape(batch, m, -1), sig * sig)
    return mean, var
