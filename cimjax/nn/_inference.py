"""MC-dropconnect inference: S stochastic passes of a network on the crossbar.

Each pass is one read of every array with freshly written P-bits (a new key in
the "pbit" rng collection); the passes are vectorised with `jax.vmap` over keys
(in chunks via `jax.lax.map(..., batch_size=...)` when memory asks for it), never
a Python loop. The spread of the passes is the model's predictive uncertainty
(Fig. 22b); with the P-bits held fixed (the ANN, Fig. 22a) every pass is the same
and the spread is exactly zero.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from cimjax.errors import ConfigError
from cimjax.kernels import check_prng_key

__all__ = ["Predictive", "mc_samples", "mc_predict", "summarize_samples", "warn_narrow_spread"]


class Predictive(NamedTuple):
    """Predictive summary of S stochastic passes.

    mean, variance: (B, D); quantiles: (Q, B, D) at `levels` (Q,);
    samples: (S, B, D) or None when not kept; zero_spread_count: how many of the
    B * D outputs have a variance of exactly zero over the passes (every pass gave
    the same value), zero_spread_fraction: that count over B * D. A zero spread
    gives an infinite Gaussian NLL at any target off the mean.
    """

    mean: jax.Array
    variance: jax.Array
    levels: jax.Array
    quantiles: jax.Array
    samples: jax.Array | None
    zero_spread_count: int = 0
    zero_spread_fraction: float = 0.0


def mc_samples(
    apply_fn: Callable[..., jax.Array],
    variables: Any,
    x: jax.Array,
    key: jax.Array,
    num_samples: int,
    *,
    chunk: int | None = None,
    **kwargs: Any,
) -> jax.Array:
    """Outputs of `num_samples` independent stochastic passes, vectorised over keys.

    Args:
      apply_fn: a flax `Module.apply` (or any fn(variables, x, rngs=..., **kwargs)).
      variables: the module's variables, e.g. {"params": params}.
      x: (B, N) inputs.
      key: PRNG key; pass s reads with key `fold_in(key, s)`, so a pass's output
        does not depend on `num_samples` or `chunk`.
      num_samples: S >= 1.
      chunk: passes vectorised at a time (None: all S at once).
      **kwargs: forwarded to `apply_fn` (sample_index, t, cond, deterministic...).
    Returns:
      (S, B, D) outputs.
    """
    for name, value in (("num_samples", num_samples), ("chunk", 1 if chunk is None else chunk)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name}={value!r} must be an integer >= 1" + (" or None" if name == "chunk" else ""))
    check_prng_key(key)
    arrays = {k: v for k, v in kwargs.items() if isinstance(v, (jax.Array, np.ndarray))}
    static = tuple(sorted((k, v) for k, v in kwargs.items() if k not in arrays))
    chunk = None if chunk is None or int(chunk) >= int(num_samples) else int(chunk)
    try:
        hash((apply_fn, static))
    except TypeError:  # unhashable callable or option: trace it eagerly instead
        return _passes(apply_fn, variables, x, key, arrays, int(num_samples), chunk, static)
    return _passes_jit(apply_fn, variables, x, key, arrays, int(num_samples), chunk, static)


def _passes(apply_fn, variables, x, key, arrays, num_samples, chunk, static):
    """The S passes of `mc_samples`: (S, B, D)."""
    keys = jax.vmap(lambda s: jax.random.fold_in(key, s))(jnp.arange(num_samples, dtype=jnp.uint32))

    def one(k: jax.Array) -> jax.Array:
        return apply_fn(variables, x, rngs={"pbit": k}, **arrays, **dict(static))

    if chunk is None:
        return jax.vmap(one)(keys)
    return jax.lax.map(one, keys, batch_size=chunk)


# One compiled program for all S passes (not op-by-op dispatch of a vmapped flax apply).
_passes_jit = jax.jit(_passes, static_argnums=(0, 5, 6, 7))


def summarize_samples(
    samples: jax.Array, levels: Sequence[float] = (0.05, 0.5, 0.95), keep_samples: bool = False
) -> Predictive:
    """Mean, unbiased variance (ddof=1; 0 when S == 1) and quantiles over axis 0.

    Args:
      samples: (S, B, D).
      levels: quantile levels in [0, 1].
    """
    lv = np.asarray(levels, dtype=np.float64)
    if lv.ndim != 1 or np.any(~np.isfinite(lv)) or np.any((lv < 0) | (lv > 1)):
        raise ConfigError(f"quantile {levels=} must be a 1-D sequence of numbers in [0, 1]")
    s = samples.shape[0]
    mean = jnp.mean(samples, axis=0)
    # shifted-data variance: identical passes (P-bits fixed) give exactly 0, not rounding residue
    d = samples - samples[:1]
    if s > 1:
        var = jnp.maximum(jnp.sum(d * d, axis=0) - jnp.square(jnp.sum(d, axis=0)) / s, 0.0) / (s - 1)
    else:
        var = jnp.zeros_like(mean)
    lv_j = jnp.asarray(lv, dtype=samples.dtype)
    q = jnp.quantile(samples, lv_j, axis=0)
    zero = int(jnp.sum(var == 0)) if not isinstance(var, jax.core.Tracer) else 0
    return Predictive(mean, var, lv_j, q, samples if keep_samples else None, zero, zero / max(int(var.size), 1))


def warn_narrow_spread(pred: Predictive, resolution: float | None = None) -> int:
    """Warns (one line, with the count) when a predictive spread is below one output step.

    Args:
      pred: a `Predictive`.
      resolution: one ADC step of the output in the model's output units; None
        counts only spreads of exactly zero.
    Returns:
      the number of outputs whose standard deviation is below `resolution` (zero
      without it), 0 when none (and then nothing is warned).
    """
    if isinstance(pred.variance, jax.core.Tracer):
        return 0
    std = np.sqrt(np.asarray(pred.variance, dtype=np.float64))
    narrow = int(np.sum(std < resolution)) if resolution is not None else pred.zero_spread_count
    if narrow:
        what = f"below one output step ({resolution:.3g})" if resolution is not None else "exactly zero"
        warnings.warn(f"{narrow} of {std.size} predictive outputs have a spread {what}: their Gaussian NLL is "
                      "(near) infinite; train with an exact-read loss (TrainConfig(loss='energy')) or use more "
                      "passes", RuntimeWarning, stacklevel=3)
    return narrow


def mc_predict(
    apply_fn: Callable[..., jax.Array],
    variables: Any,
    x: jax.Array,
    key: jax.Array,
    num_samples: int,
    *,
    levels: Sequence[float] = (0.05, 0.5, 0.95),
    chunk: int | None = None,
    keep_samples: bool = False,
    resolution: float | None = None,
    **kwargs: Any,
) -> Predictive:
    """Predictive mean, variance and quantiles from S vectorised stochastic passes.

    Warns (`RuntimeWarning`, one line with the count) when any output's predictive
    standard deviation is below `resolution`, one ADC step of the output layer in
    the model's output units, which the caller knows from its scaling; without it,
    when any output's spread is exactly zero. The P-bits-fixed ANN always warns.

    Raises:
      ConfigError: `x` holds NaN or inf (checked on the host before any pass when
        `x` is concrete), or bad `num_samples`, `chunk`, `levels`.
    """
    if not isinstance(x, jax.core.Tracer):
        arr = np.asarray(x)
        if not np.all(np.isfinite(arr)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ConfigError(f"x holds a non-finite value at index {bad}: {arr[bad]}")
    if resolution is not None and not (np.isfinite(resolution) and resolution > 0):
        raise ConfigError(f"{resolution=} must be a positive number or None")
    samples = mc_samples(apply_fn, variables, x, key, num_samples, chunk=chunk, **kwargs)
    pred = summarize_samples(samples, levels, keep_samples)
    warn_narrow_spread(pred, resolution)
    return pred
