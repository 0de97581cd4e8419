"""Training losses and proper scoring rules for MC-dropconnect networks.

Pure functions of arrays. Three losses train a network on the crossbar:

- `mse`: mean squared error, for the deterministic ANN (P-bits held fixed).
- `gaussian_nll`: Gaussian negative log-likelihood of a moment-matched output
  (mean and variance, e.g. from `CrossbarMLP.moments`).
- `energy_score`: the sample-based proper scoring rule of Gneiting & Raftery
  (2007, JASA 102:359, eq. 22), estimated from S >= 2 stochastic passes. Minimised
  when the distribution of the passes equals the data's conditional distribution,
  so the spread of the in-situ P-bit randomness is trained to match the data's
  spread, not only its mean (the point of Fig. 22b).
- `dawid_sebastiani_score`: the Dawid-Sebastiani score (Dawid & Sebastiani 1999,
  Ann. Stat. 27:65; Gneiting & Raftery 2007, eq. 27) of the S passes' sample mean
  and variance, log var + (y - mean)^2 / var. Scale-free: a point's weight does not
  grow with its noise level, as the energy score's does (it is in y's units).

`crps_gaussian` is the closed-form continuous ranked probability score of a normal
forecast (Gneiting & Raftery 2007, eq. 21), used to score the ANN's fitted
constant-variance predictive; in one dimension `energy_score` is the CRPS of the
sample forecast. `categorical_nll` is the log score of a classifier: of one pass's
logits, or of the mixture of S passes (the MC-dropconnect predictive itself). These
are the scoring rules of every application (training and
held-out scores alike); there is no second definition.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from cimjax.errors import ConfigError

__all__ = ["mse", "gaussian_nll", "energy_score", "dawid_sebastiani_score", "crps_gaussian", "categorical_nll"]

_LOG_2PI = math.log(2.0 * math.pi)


def _check_obs(where: str, y: jax.Array, shape: tuple, what: str) -> None:
    """y must have `shape` (no silent broadcasting) and, when concrete, finite values."""
    if y.shape != tuple(shape):
        raise ConfigError(f"{where}: y.shape={y.shape} must be {tuple(shape)}, {what}")
    if not isinstance(y, jax.core.Tracer) and jnp.issubdtype(y.dtype, jnp.inexact):
        arr = np.asarray(y)
        if not np.all(np.isfinite(arr)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ConfigError(f"{where}: y holds a non-finite value {arr[bad]} at index {bad}")


def _check_samples(where: str, samples: jax.Array, y: jax.Array) -> None:
    if samples.ndim != 3:
        raise ConfigError(f"{where}: samples.shape={samples.shape} must be (S, B, D)")
    _check_obs(where, y, samples.shape[1:], "the samples' (B, D)")


def mse(pred: jax.Array, y: jax.Array) -> jax.Array:
    """Mean squared error over every element. pred, y: (B, D) -> scalar.

    Raises:
      ConfigError: y of another shape than pred (no broadcasting), or a NaN/inf in a concrete y.
    """
    pred, y = jnp.asarray(pred), jnp.asarray(y)
    _check_obs("mse", y, pred.shape, "pred's")
    return jnp.mean(jnp.square(pred - y))


def gaussian_nll(mean: jax.Array, var: jax.Array, y: jax.Array, *, min_var: float = 1e-6) -> jax.Array:
    """Mean Gaussian negative log-likelihood, -log N(y | mean, var), per element.

    Args:
      mean, var, y: (B, D). `var` is floored at `min_var` so that a layer whose
        P-bits all keep (zero variance) gives a finite loss.
    Returns:
      scalar, averaged over B and D (nats per element).
    """
    mean, var, y = jnp.asarray(mean), jnp.asarray(var), jnp.asarray(y)
    _check_obs("gaussian_nll", y, mean.shape, "mean's")
    if jnp.broadcast_shapes(var.shape, mean.shape) != mean.shape:
        raise ConfigError(f"gaussian_nll: var.shape={var.shape} must broadcast to mean's {mean.shape}")
    if not isinstance(var, jax.core.Tracer) and not np.all(np.asarray(var) >= 0):  # NaN too
        raise ConfigError(f"gaussian_nll: var must be >= 0, got min {np.nanmin(np.asarray(var))}")
    var = jnp.maximum(var, min_var)
    return 0.5 * jnp.mean(_LOG_2PI + jnp.log(var) + jnp.square(y - mean) / var)


def _norm(d: jax.Array) -> jax.Array:
    """Euclidean norm over the last axis with a zero gradient at 0 (not NaN)."""
    sq = jnp.sum(jnp.square(d), axis=-1)
    positive = sq > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


def energy_score(samples: jax.Array, y: jax.Array) -> jax.Array:
    """Fair (unbiased) energy score of a sample forecast, averaged over the batch.

    ES = E||X - y|| - 1/2 E||X - X'||, with X, X' independent stochastic passes,
    estimated as mean_s ||x_s - y|| - 1/(2 S (S-1)) sum_{s != s'} ||x_s - x_s'||
    (Gneiting & Raftery 2007, eq. 22; the "fair" estimator of Ferro 2014).

    In one dimension (D = 1) this is the fair sample CRPS, computed in O(S log S)
    from the sorted passes: sum_{s,s'} |x_s - x_s'| = 2 sum_i (2i - S - 1) x_(i).

    Args:
      samples: (S, B, D) outputs of S >= 2 independent stochastic passes.
      y: (B, D) observations.
    Returns:
      scalar, averaged over B.
    """
    samples, y = jnp.asarray(samples), jnp.asarray(y)
    _check_samples("energy_score", samples, y)
    s = samples.shape[0]
    if s < 2:
        raise ConfigError(f"energy_score needs >= 2 stochastic passes, got {s=}")
    if samples.shape[-1] == 1:
        x, obs = samples[..., 0], y[..., 0]
        weights = (2 * jnp.arange(1, s + 1) - s - 1).astype(x.dtype)[:, None]
        pair_sum = 2.0 * jnp.sum(weights * jnp.sort(x, axis=0), axis=0)
        return jnp.mean(jnp.mean(jnp.abs(x - obs[None]), axis=0) - pair_sum / (2 * s * (s - 1)))
    to_data = jnp.mean(_norm(samples - y[None]), axis=0)
    pair = _norm(samples[:, None] - samples[None, :])  # (S, S, B); diagonal is 0
    spread = jnp.sum(pair, axis=(0, 1)) / (s * (s - 1))
    return jnp.mean(to_data - 0.5 * spread)


def dawid_sebastiani_score(samples: jax.Array, y: jax.Array, *, min_var: float = 1e-6) -> jax.Array:
    """Dawid-Sebastiani score of the S passes' sample moments, averaged over the batch.

    DSS = log(k v) + (y - m)^2 / (k v), with m the passes' mean, v their unbiased
    variance and k = (S - 1) / (S - 3). Why k: for Gaussian passes of variance s^2,
    m and v are independent, E[(y - m)^2] = sigma_y^2 + s^2 / S + bias^2 and
    E[1 / v] = (S - 1) / ((S - 3) s^2), so the expected score is minimised at
    s^2 = sigma_y^2 exactly when k = (S - 1) / (S - 3) (with k = 1, at s^2 = k sigma_y^2:
    bands 18% too wide at S = 8).

    Args:
      samples: (S, B, D) outputs of S >= 4 independent stochastic passes.
      y: (B, D) observations.
      min_var: floor of k v, so that a point whose passes all agree gives a finite loss.
    Returns:
      scalar, averaged over B and D (the constant log 2 pi of the Gaussian NLL left out).
    """
    samples, y = jnp.asarray(samples), jnp.asarray(y)
    _check_samples("dawid_sebastiani_score", samples, y)
    s = samples.shape[0]
    if s < 4:
        raise ConfigError(f"dawid_sebastiani_score needs >= 4 stochastic passes (E[1/var] is finite), got {s=}")
    mean = jnp.mean(samples, axis=0)
    var = jnp.sum(jnp.square(samples - mean[None]), axis=0) / (s - 1)
    var = jnp.maximum(var * (s - 1) / (s - 3), min_var)
    return jnp.mean(jnp.log(var) + jnp.square(y - mean) / var)


def crps_gaussian(mean: jax.Array, std: jax.Array, y: jax.Array) -> jax.Array:
    """CRPS of N(mean, std^2) at y, per element (Gneiting & Raftery 2007, eq. 21).

    CRPS = std * [z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi)], z = (y - mean) / std.
    """
    mean, std, y = jnp.asarray(mean), jnp.asarray(std), jnp.asarray(y)
    _check_obs("crps_gaussian", y, mean.shape, "mean's")
    if jnp.broadcast_shapes(std.shape, mean.shape) != mean.shape:
        raise ConfigError(f"crps_gaussian: std.shape={std.shape} must broadcast to mean's {mean.shape}")
    if not isinstance(std, jax.core.Tracer) and not np.all(np.asarray(std) > 0):  # NaN too
        raise ConfigError(f"crps_gaussian: std must be > 0, got min {np.nanmin(np.asarray(std))}")
    z = (y - mean) / std
    cdf = jax.scipy.stats.norm.cdf(z)
    pdf = jax.scipy.stats.norm.pdf(z)
    return std * (z * (2.0 * cdf - 1.0) + 2.0 * pdf - 1.0 / math.sqrt(math.pi))


def categorical_nll(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """Mean negative log-likelihood of integer labels under softmax predictive(s).

    With logits (B, K), the usual cross-entropy -log softmax(logits)[y]. With
    logits (S, B, K) from S stochastic passes, the log score of their mixture,
    -log (1/S) sum_s softmax(logits_s)[y] (the MC-dropconnect predictive), computed
    stably as log S - logsumexp_s log softmax(logits_s)[y].

    Args:
      logits: (B, K) or (S, B, K).
      labels: (B,) integers in [0, K).
    Returns:
      scalar, averaged over B (nats).
    """
    logits, labels = jnp.asarray(logits), jnp.asarray(labels)
    if logits.ndim not in (2, 3):
        raise ConfigError(f"categorical_nll: logits.shape={logits.shape} must be (B, K) or (S, B, K)")
    if labels.shape != logits.shape[-2:-1]:
        raise ConfigError(f"categorical_nll: labels.shape={labels.shape} must be {logits.shape[-2:-1]}, one per example")
    if not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ConfigError(f"categorical_nll: labels.dtype={labels.dtype} must be an integer type")
    if not isinstance(labels, jax.core.Tracer) and labels.size:
        lo, hi = int(jnp.min(labels)), int(jnp.max(labels))
        if lo < 0 or hi >= logits.shape[-1]:
            raise ConfigError(f"categorical_nll: labels span {lo}..{hi}, outside [0, {logits.shape[-1]}) classes")
    log_p = jax.nn.log_softmax(logits if logits.ndim == 3 else logits[None], axis=-1)
    picked = jnp.take_along_axis(log_p, jnp.asarray(labels, jnp.int32)[None, :, None], axis=-1)[..., 0]
    return jnp.mean(math.log(log_p.shape[0]) - jax.scipy.special.logsumexp(picked, axis=0))
