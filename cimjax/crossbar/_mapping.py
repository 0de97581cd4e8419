"""Weights to probabilistic differential pairs: quantisation, bit-slicing, programming errors.

A pair's output is the difference of its two conductances, normalised here so that a
fully programmed pair gives +-1 (Fig. 9: three states +1, 0, -1). A weight matrix
(N, M) becomes a cell matrix (N, M * S) of normalised pair outputs, S slices per weight
(column m * S + s holds slice s of weight column m), plus a digital scale and per-slice
significance that the periphery applies after the ADC (shift-and-add).
"""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from cimjax.crossbar._config import CrossbarConfig, Mapping
from cimjax.crossbar._nonideal import resolved_programming_sigma

# Programming-key streams: one fold_in index per programming-time draw.
STREAM_VARIATION, STREAM_FAULT, STREAM_FAULT_SIGN, STREAM_PBIT_SPREAD = 0, 1, 2, 3


class MappedWeights(NamedTuple):
    """Cells of a mapped weight matrix.

    Attributes:
      cells: (N, M * S) float32 normalised pair outputs in [-1, 1] (before variation).
      scale: () float32 digital scale: weight = scale * sum_s significance[s] * cell_s.
      significance: (S,) float32 shift-and-add weights 2^s (ones for one slice).
    """

    cells: jax.Array
    scale: jax.Array
    significance: jax.Array


def _safe(scale: jax.Array) -> jax.Array:
    return jax.lax.stop_gradient(jnp.where(scale > 0, scale, 1.0))


def map_weights(weights: jax.Array, mapping: Mapping) -> MappedWeights:
    """Quantises (N, M) weights to pair outputs with a straight-through gradient.

    The straight-through estimator makes d(scale * sum_s 2^s cell_s)/dw = 1: the
    quantiser is the identity for the gradient, spread over the slices by significance.
    """
    n, m = weights.shape
    w = weights.astype(jnp.float32)
    if mapping.scheme == "analog":
        scale = _safe(jnp.max(jnp.abs(w)))
        return MappedWeights(w / scale, scale, jnp.ones((1,), jnp.float32))
    if mapping.scheme == "binary":
        scale = _safe(jnp.mean(jnp.abs(w)))  # XNOR-net scale: keeps E|w| of the layer
        hard = jnp.where(w >= 0, 1.0, -1.0)
        soft = w / scale
        return MappedWeights(soft + jax.lax.stop_gradient(hard - soft), scale, jnp.ones((1,), jnp.float32))
    levels = 2**mapping.bits - 1
    scale = _safe(jnp.max(jnp.abs(w))) / levels
    q = jnp.clip(jnp.round(jnp.abs(w) / scale), 0, levels).astype(jnp.int32)
    shifts = jnp.arange(mapping.bits, dtype=jnp.int32)
    bits = ((q[:, :, None] >> shifts[None, None, :]) & 1).astype(jnp.float32)
    hard = jnp.sign(w)[:, :, None] * bits  # (N, M, S) in {-1, 0, 1}
    significance = (2.0 ** shifts).astype(jnp.float32)
    # Straight-through share of slice s: 2^s / sum_s 4^s, so sum_s 2^s * share_s = 1.
    share = significance / jnp.sum(significance**2)
    # Stacked, not broadcast: the gradient then gathers the S slices with adds instead of
    # a reduction over the short minor axis, which XLA's CPU backend runs slowly.
    soft = jnp.stack([(w / scale) * share[s] for s in range(mapping.bits)], axis=-1)
    cells = soft + jax.lax.stop_gradient(hard - soft)
    return MappedWeights(cells.reshape(n, m * mapping.bits), scale, significance)


def programming_key(config: CrossbarConfig, stream: int) -> jax.Array:
    """Key of one programming-time draw, a pure function of the configuration's seed."""
    return jax.random.fold_in(jax.random.PRNGKey(config.programming_seed), stream)


def config_constant(fn: Callable[[CrossbarConfig, tuple[int, ...]], jax.Array], config: CrossbarConfig,
                    shape: tuple[int, ...]) -> jax.Array:
    """`fn(config, shape)` evaluated once per (fn, config, shape) and reused as a constant.

    For programming-time draws (variation, faults, P_sw spread): they are pure functions
    of the static configuration, so inside a jitted read they need not be recomputed on
    every call (XLA does not fold random-number generation). Evaluated eagerly even
    while a jit is being traced; cached on the host (a few recent entries).
    """
    shape = tuple(int(s) for s in shape)
    return jnp.asarray(_config_constant(fn, config, shape, bool(jax.config.jax_enable_x64)))


@functools.lru_cache(maxsize=64)
def _config_constant(fn, config, shape, x64):  # x64 in the key: it changes default dtypes
    with jax.ensure_compile_time_eval():
        return np.asarray(fn(config, shape))


def _variation(config: CrossbarConfig, shape: tuple[int, ...]) -> jax.Array:
    """Multiplicative programming variation 1 + sigma * z, z ~ N(0, 1) per pair."""
    z = jax.random.normal(programming_key(config, STREAM_VARIATION), shape)
    return 1.0 + resolved_programming_sigma(config) * z


def _fault_state(config: CrossbarConfig, shape: tuple[int, ...]) -> jax.Array:
    """Per pair: 0 healthy, 1 stuck at zero, 2 stuck at +1, 3 stuck at -1 (int8)."""
    u = jax.random.uniform(programming_key(config, STREAM_FAULT), shape)
    positive = jax.random.bernoulli(programming_key(config, STREAM_FAULT_SIGN), 0.5, shape)
    stuck_one = (u >= config.stuck_at_zero) & (u < config.stuck_at_zero + config.stuck_at_one)
    state = jnp.where(u < config.stuck_at_zero, 1, jnp.where(stuck_one, jnp.where(positive, 2, 3), 0))
    return state.astype(jnp.int8)


def program_cells(cells: jax.Array, config: CrossbarConfig) -> jax.Array:
    """Applies programming variation and stuck-at faults, both drawn once from the seed.

    Variation multiplies each pair's output by (1 + sigma * z), z ~ N(0, 1) (Fig. 9
    spread; sigma is `programming_sigma`, by default the device's). A stuck-at-zero pair outputs 0; a stuck-at-one pair outputs +-1 (random
    sign), whatever was programmed. Faulty cells carry no gradient. The draws depend
    only on the configuration and shape, so they are computed once (`config_constant`).
    """
    shape = cells.shape
    if resolved_programming_sigma(config) > 0:
        cells = cells * config_constant(_variation, config, shape).astype(cells.dtype)
    if config.stuck_at_zero > 0 or config.stuck_at_one > 0:
        state = config_constant(_fault_state, config, shape)
        stuck = jnp.where(state == 2, 1.0, -1.0).astype(cells.dtype)
        cells = jnp.where(state == 1, 0.0, jnp.where(state >= 2, stuck, cells))
    return cells


def effective_weights(weights: jax.Array, config: CrossbarConfig) -> jax.Array:
    """The (N, M) weights the crossbar realises with every P-bit kept: mapping + programming."""
    mapped = map_weights(weights, config.mapping)
    cells = program_cells(mapped.cells, config)
    n, m = weights.shape
    slices = cells.reshape(n, m, -1)
    return mapped.scale * jnp.einsum("nms,s->nm", slices, mapped.significance)
