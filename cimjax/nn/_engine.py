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
from cimjax.crossbar.mapping import config_constant
from cimjax.crossbar.periphery import adc_full_scale

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

    plus the periphery's own noise, added as independent terms: read noise
    (sigma^2 sum_n u_n^2 per physical column) and the ADC's rounding error, taken
    as uniform on one step (variance step^2 / 12 per conversion: R_t row tiles,
    times sum_s 4^s when the slices are converted separately). Without these the
    NLL loss cannot see the spread the ADC adds to a read, and the trained network
    over-covers where the data's own spread is small. ADC clipping is left out.
    Gradients flow through the mapping's straight-through estimator.
    """
    mapped = map_weights(weights.astype(jnp.float32), config.mapping)
    cells = program_cells(mapped.cells, config)  # (N, M*S)
    # P_sw of every cell depends on the configuration only: drawn once, not every step
    p = config_constant(keep_probability, config, cells.shape)
    u = dac(x.astype(jnp.float32), config.periphery)
    hp = lax.Precision.HIGHEST
    mean_s = jnp.dot(u, p * cells, precision=hp)
    var_s = jnp.dot(u * u, p * (1.0 - p) * cells * cells, precision=hp)
    periphery = config.periphery
    if periphery.read_noise > 0:  # one normal per physical column, std sigma * ||u|| (summed over tiles)
        var_s = var_s + periphery.read_noise**2 * jnp.sum(u * u, axis=1, keepdims=True)
    batch, m = x.shape[0], weights.shape[1]
    sig = mapped.significance
    mean = mapped.scale * jnp.einsum("bms,s->bm", mean_s.reshape(batch, m, -1), sig)
    var = jnp.einsum("bms,s->bm", var_s.reshape(batch, m, -1), sig * sig)
    var = jnp.square(mapped.scale) * (var + _adc_variance(config, x.shape[1], sig))
    return mean, var


def _adc_variance(config: CrossbarConfig, n_rows: int, significance: jax.Array) -> jax.Array | float:
    """Variance of one output's ADC rounding error in cell units (uniform error, step^2 / 12)."""
    periphery = config.periphery
    if periphery.adc_bits is None:
        return 0.0
    slices = config.mapping.slices
    merge = slices > 1 and not config.mapping.shift_and_add
    gain = float(sum(2.0**s for s in range(slices))) if merge else 1.0  # as the read's merged column
    step = adc_full_scale(periphery, config.tile.rows, gain) / (2 ** (periphery.adc_bits - 1) - 1)
    row_tiles = -(-n_rows // config.tile.rows)
    per_column = row_tiles * step * step / 12.0
    return per_column if merge or slices == 1 else per_column * jnp.sum(significance * significance)
