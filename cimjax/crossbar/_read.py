"""One crossbar read end to end: DAC -> differential pairs with in-situ P-bits -> ADC.

    x (B, N) --DAC--> row voltages
             --cells (N, M*S): mapped weights, programming variation, stuck-at faults
             --P-bits: each cell kept with its P_sw (exact / refresh / moment / off)
             --read noise, per-tile ADC, digital sum over row tiles
             --shift-and-add over the S slices, times the mapping scale--> y (B, M)

Mode "moment" replaces everything after the DAC by one Gaussian draw per output from
the read's closed-form moments (`crossbar_moments`).

This lives in `cimjax.kernels` because it calls the kernels, and `cimjax.crossbar`
(which the kernels import) re-exports it as `cimjax.crossbar.crossbar_matmul`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from cimjax.errors import ConfigError
from cimjax.crossbar._config import CrossbarConfig
from cimjax.crossbar._mapping import map_weights, program_cells
from cimjax.crossbar._nonideal import resolved_read_noise
from cimjax.crossbar._periphery import adc, adc_full_scale, dac, read_noise_std
from cimjax.crossbar._probability import keep_probability
from cimjax.kernels import keep_threshold, normal_from_counters, pair_keys, sample_words, seed_words
from cimjax.kernels import gaussian_read, moment_weights, pbit_matmul_refresh
from cimjax.kernels import BlockSizes, check_prng_key, pbit_matmul, resolve_backend

_FLOATS = (jnp.float16, jnp.bfloat16, jnp.float32, jnp.float64)


def _is_float(arr) -> bool:
    return any(arr.dtype == d for d in _FLOATS)


def _validate(x, weights, key, config, keep_prob, sample_index) -> None:
    if not isinstance(config, CrossbarConfig):
        raise ConfigError(f"config={config!r} must be a CrossbarConfig")
    if getattr(x, "ndim", None) != 2 or getattr(weights, "ndim", None) != 2:
        raise ConfigError(f"x.shape={jnp.shape(x)} and weights.shape={jnp.shape(weights)} must be (B, N) and (N, M)")
    if x.shape[1] != weights.shape[0]:
        raise ConfigError(f"x.shape={x.shape} and weights.shape={weights.shape}: x's N={x.shape[1]} must equal "
                         f"weights' N={weights.shape[0]}")
    if 0 in weights.shape:
        raise ConfigError(f"weights.shape={weights.shape} is empty: a crossbar needs N >= 1 rows and M >= 1 columns")
    if not _is_float(x) or not _is_float(weights):
        raise ConfigError(f"x.dtype={x.dtype} and weights.dtype={weights.dtype} must be floating point "
                         f"(float16, bfloat16, float32, float64)")
    if key is not None:
        check_prng_key(key)
    n, m = weights.shape
    if n * m * config.mapping.slices * (1 + -(-n // config.tile.rows)) >= 2**32:
        raise ConfigError(f"weights.shape={weights.shape} with {config.mapping.slices} slices exceeds the 2^32 "
                         f"counter space of the P-bit hash")
    if keep_prob is not None:
        shape = jnp.shape(keep_prob)
        if shape not in ((), (n, m)):
            raise ConfigError(f"keep_prob.shape={shape} must be () or weights.shape={weights.shape}")
        if not isinstance(keep_prob, jax.core.Tracer):
            p = np.asarray(keep_prob, dtype=np.float64)
            if not np.all((p >= 0.0) & (p <= 1.0)):  # NaN fails both comparisons
                finite = p[~np.isnan(p)]
                lo, hi = (finite.min(), finite.max()) if finite.size else (None, None)
                raise ConfigError(f"keep_prob must be probabilities in [0, 1] without NaN; got min={lo}, "
                                 f"max={hi}, NaN count={int(np.isnan(p).sum())}")
    if sample_index is not None:
        if jnp.shape(sample_index) != (x.shape[0],):
            raise ConfigError(f"sample_index.shape={jnp.shape(sample_index)} must be (B,)=({x.shape[0]},)")
        if not jnp.issubdtype(jnp.asarray(sample_index).dtype, jnp.integer):
            raise ConfigError(f"sample_index.dtype={jnp.asarray(sample_index).dtype} must be an integer type (uint32)")


def crossbar_matmul(x: jax.Array, weights: jax.Array, key: jax.Array, config: CrossbarConfig | None = None, *,
                    keep_prob: jax.Array | float | None = None, sample_index: jax.Array | None = None,
                    block_sizes: BlockSizes | None = None, interpret: bool = False) -> jax.Array:
    """One read of a stochastic crossbar: y (B, M) ~ x (B, N) @ (weights (N, M) * P-bit mask).

    Args:
      x: (B, N) float inputs, one row per input vector (sample).
      weights: (N, M) float trainable weights; quantised by the mapping with a
        straight-through gradient when binary or bit-sliced.
      key: the read's JAX PRNG key. Different keys give independent masks, so layers and
        steps split keys.
      config: the crossbar (`CrossbarConfig()` when None).
      keep_prob: () or (N, M) keep probabilities overriding the device's P_sw per cell
        (shared by a weight's slices). Ignored in mode "off".
      sample_index: (B,) uint32 global sample ids (default 0..B-1). A sample's mask is a
        function of (key, sample id, row, column) only: batch size and sharding never
        change it.
      block_sizes: kernel tiling (`BlockSizes.get_default()` when None).
      interpret: run the Pallas kernel in interpret mode (backend "pallas" on CPU).

    Returns:
      (B, M) array, float32 (float64 if an input is float64). Differentiable w.r.t. x and weights in
      every mode (exact: custom VJP regenerating the masks).

    Raises:
      ConfigError: mismatched or empty (N or M = 0) shapes, non-float dtypes, a key that is not a PRNG key,
        probabilities outside [0, 1] or NaN, a bad sample_index, Pallas on CPU without
        interpret. Raised before any compute.
    """
    config = CrossbarConfig() if config is None else config
    if key is None:
        raise ConfigError("key=None: a read needs one JAX PRNG key (jax.random.key(seed)), also with P-bits off "
                          "(read noise)")
    _validate(x, weights, key, config, keep_prob, sample_index)
    backend = resolve_backend(config.backend, interpret)
    if keep_prob is not None:
        keep_prob = jnp.asarray(keep_prob, jnp.float32)
    if sample_index is not None:
        sample_index = jnp.asarray(sample_index).astype(jnp.uint32)
    out_dtype = jnp.promote_types(jnp.promote_types(x.dtype, weights.dtype), jnp.float32)
    y = _read(x, weights, key, keep_prob, sample_index, config=config, backend=backend,
              block_sizes=block_sizes or BlockSizes.get_default(), interpret=bool(interpret))
    return y.astype(out_dtype)


def crossbar_moments(x: jax.Array, weights: jax.Array, config: CrossbarConfig | None = None, *,
                     keep_prob: jax.Array | float | None = None) -> tuple[jax.Array, jax.Array]:
    """Closed-form mean and variance (B, M) of one read over its P-bits and periphery noise.

    Every differential pair (slice s of weight (n, m), programmed output c_nms, keep
    probability p_nms with its device spread) is kept independently, and slices are
    recombined with significance g_s = 2^s times the mapping scale, so with DAC-quantised
    inputs u::

        E[y_m]   = scale * sum_n u_n sum_s g_s p_nms c_nms
        Var[y_m] = scale^2 * (sum_n u_n^2 sum_s g_s^2 p_nms (1 - p_nms) c_nms^2 + periphery)

    The periphery adds independent terms: read noise (sigma^2 sum_n u_n^2 per physical
    column) and the ADC's rounding error, taken as uniform on one step (step^2 / 12 per
    conversion, Widrow's model, good when the read's spread exceeds a step). ADC clipping
    is left out. Mode "moment" draws its reads from N(mean, var); the Gaussian NLL loss
    uses them. Differentiable (straight-through mapping and DAC).

    Args:
      x: (B, N) float inputs; weights: (N, M) float weights; config: the crossbar
        (`CrossbarConfig()` when None; mode "off" keeps every cell: zero P-bit variance).
      keep_prob: () or (N, M) keep probabilities overriding the device's P_sw.

    Returns:
      (mean, var), each (B, M), float32 (float64 if an input is float64).

    Raises:
      ConfigError: as `crossbar_matmul`, before any compute.
    """
    config = CrossbarConfig() if config is None else config
    _validate(x, weights, None, config, keep_prob, None)
    if keep_prob is not None:
        keep_prob = jnp.asarray(keep_prob, jnp.float32)
    out_dtype = jnp.promote_types(jnp.promote_types(x.dtype, weights.dtype), jnp.float32)
    mean, var = _moments(x, weights, keep_prob, config=config)
    return mean.astype(out_dtype), var.astype(out_dtype)


# cumulants of a Bernoulli(p) keep variable, from its variance q = p (1 - p)
_BERNOULLI_CUMULANTS = {2: lambda q, p: q, 3: lambda q, p: q * (1.0 - 2.0 * p), 4: lambda q, p: q * (1.0 - 6.0 * q)}


def crossbar_cumulant(x: jax.Array, weights: jax.Array, config: CrossbarConfig | None = None, *, order: int,
                      keep_prob: jax.Array | float | None = None) -> jax.Array:
    """Closed-form cumulant (B, M) of one read over its P-bits, of `order` 2, 3 or 4.

    A kept pair is Bernoulli(p) times its output g_s c; the pairs are independent and
    cumulants add, so with k_r(p) the Bernoulli's (p(1-p), p(1-p)(1-2p), p(1-p)(1-6p(1-p))):

        k_r[y_m] = scale^r * sum_n u_n^r sum_s g_s^r k_r(p_nms) c_nms^r.

    Order 2 is the P-bits' share of `crossbar_moments`' variance. Read noise (normal) adds
    nothing of order 3 or 4, the ADC's rounding (uniform, Widrow's model) nothing of order
    3 and -step^4/120 of order 4, left out. At p = 0.1 a single cell's skewness is
    (1 - 2p) / sqrt(p (1 - p)) = 2.67 and its excess kurtosis 5.1; at p = 1/2, 0 and -2.
    Mode "moment" draws Gaussian reads and mode "off" keeps every cell: zero for both.

    Raises:
      ConfigError: `order` not 2, 3 or 4; otherwise as `crossbar_moments`, before any compute.
    """
    if order not in _BERNOULLI_CUMULANTS:
        raise ConfigError(f"order={order!r} must be 2, 3 or 4")
    config = CrossbarConfig() if config is None else config
    _validate(x, weights, None, config, keep_prob, None)
    if keep_prob is not None:
        keep_prob = jnp.asarray(keep_prob, jnp.float32)
    out_dtype = jnp.promote_types(jnp.promote_types(x.dtype, weights.dtype), jnp.float32)
    if config.pbit.mode in ("moment", "off"):
        return jnp.zeros((x.shape[0], weights.shape[1]), out_dtype)
    return _cumulant(x, weights, keep_prob, config=config, order=order).astype(out_dtype)


@functools.partial(jax.jit, static_argnames=("config", "order"))
def _cumulant(x, weights, keep_prob, *, config, order):
    mapped, cells, p = _cells_and_probs(weights, keep_prob, config)
    n, slices = cells.shape[0], config.mapping.slices
    u = dac(x.astype(jnp.float32), config.periphery)
    per_cell = (_BERNOULLI_CUMULANTS[order](p * (1.0 - p), p) * cells**order).reshape(n, -1, slices)
    w_k = jnp.einsum("nms,s->nm", per_cell, mapped.significance**order)
    return mapped.scale**order * jnp.dot(u**order, w_k, precision=lax.Precision.HIGHEST)


def _cells_and_probs(weights, keep_prob, config):
    """Mapped weights, programmed cells (N, M*S) and their keep probabilities (N, M*S)."""
    n, m = weights.shape
    slices, mode = config.mapping.slices, config.pbit.mode
    mapped = map_weights(weights.astype(jnp.float32), config.mapping)
    cells = program_cells(mapped.cells, config)
    if keep_prob is not None and mode != "off":
        p = jnp.repeat(jnp.broadcast_to(keep_prob, (n, m)), slices, axis=1)
    else:
        p = keep_probability(config, (n, m * slices), cells)  # the signs pick a two-direction device's curves
    return mapped, cells, p


@functools.partial(jax.jit, static_argnames=("config",))
def _moments(x, weights, keep_prob, *, config):
    mapped, cells, p = _cells_and_probs(weights, keep_prob, config)
    return _read_moments(dac(x.astype(jnp.float32), config.periphery), mapped, cells, p, config)


def _read_moments(u, mapped, cells, p, config):
    """(mean, var) (B, M) of a read with DAC outputs u (B, N); see `crossbar_moments`."""
    n = cells.shape[0]
    slices = config.mapping.slices
    sig = mapped.significance
    w_mean, w_var = moment_weights(cells.reshape(n, -1, slices), p.reshape(n, -1, slices), sig)
    hp = lax.Precision.HIGHEST
    mean = jnp.dot(u, w_mean, precision=hp)
    var = jnp.dot(u * u, w_var, precision=hp)
    read_noise = resolved_read_noise(config)
    if read_noise > 0:  # one normal per physical column, std sigma * ||u|| over the tiles
        var = var + read_noise**2 * jnp.sum(sig * sig) * jnp.sum(u * u, axis=1, keepdims=True)
    var = var + _adc_variance(config, n, sig)
    return mapped.scale * mean, jnp.square(mapped.scale) * var


def _adc_variance(config: CrossbarConfig, n_rows: int, significance: jax.Array) -> jax.Array | float:
    """Variance of one output's ADC rounding error in cell units (uniform error, step^2 / 12)."""
    periphery = config.periphery
    if periphery.adc_bits is None:
        return 0.0
    mapping = config.mapping
    step = adc_full_scale(periphery, config.tile.rows, mapping.adc_gain) / (2 ** (periphery.adc_bits - 1) - 1)
    row_tiles = -(-n_rows // config.tile.rows)
    per_column = row_tiles * step * step / 12.0
    # Separately converted slices add their errors with weights significance^2.
    return per_column if mapping.merged or mapping.slices == 1 else per_column * jnp.sum(significance**2)


@functools.partial(jax.jit, static_argnames=("config", "backend", "block_sizes", "interpret"))
def _read(x, weights, key, keep_prob, sample_index, *, config, backend, block_sizes, interpret):
    batch, n = x.shape
    m = weights.shape[1]
    mapping, periphery, pbit = config.mapping, config.periphery, config.pbit
    slices = mapping.slices
    cols = m * slices
    mapped, cells, p = _cells_and_probs(weights, keep_prob, config)
    mode = pbit.mode
    xin = dac(x.astype(jnp.float32), periphery)
    seed = seed_words(key)
    ids = jnp.arange(batch, dtype=jnp.uint32) if sample_index is None else sample_index
    if mode == "moment":
        return gaussian_read(*_read_moments(xin, mapped, cells, p, config), seed, ids)
    refresh = pbit.refresh if mode == "refresh" else 1
    if mode in ("exact", "refresh"):
        threshold = keep_threshold(p)
        pkeys = pair_keys(seed, n, cols)
        skeys = sample_words(seed, ids, refresh)
    merge = mapping.merged
    full_scale = adc_full_scale(periphery, config.tile.rows, mapping.adc_gain)
    # Tiles matter numerically only through the per-tile ADC and read noise.
    read_noise = resolved_read_noise(config)
    step = config.tile.rows if (periphery.adc_bits is not None or read_noise > 0) else n
    acc = None
    for t, r0 in enumerate(range(0, n, step)):
        rows = slice(r0, min(n, r0 + step))
        xt, ct = xin[:, rows], cells[rows]
        if mode == "off":
            yt = jnp.dot(xt, ct, precision=lax.Precision.HIGHEST)
        else:
            pt = pkeys[r0 // 2:(rows.stop + 1) // 2]  # the row pairs this tile's rows belong to
            if refresh > 1 and sample_index is None:
                yt = pbit_matmul_refresh(xt, ct, threshold[rows], seed, pt, refresh, row_offset=r0)
            else:
                yt = pbit_matmul(xt, ct, threshold[rows], skeys, pt, row_offset=r0, block_sizes=block_sizes,
                                 backend=backend, interpret=interpret)
        if read_noise > 0:
            z = normal_from_counters(seed, ids, cols, col_offset=t * cols, words=(4, 5))
            yt = yt + read_noise_std(xt, read_noise) * z
        if merge:
            yt = jnp.einsum("bms,s->bm", yt.reshape(batch, m, slices), mapped.significance)
        yt = adc(yt, periphery, full_scale)
        acc = yt if acc is None else acc + yt
    if slices > 1 and not merge:
        acc = jnp.einsum("bms,s->bm", acc.reshape(batch, m, slices), mapped.significance)
    return acc * mapped.scale
