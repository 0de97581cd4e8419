"""Goodness of fit of a switching fit: deviance or Pearson chi-square, a parametric bootstrap for
small cells, the dispersion, and the model-free over-dispersion test on replicate rows."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from cimjax.device._calibration import _probabilities
from cimjax.device._likelihood import FIT_INDEX, NS

# Cochran's rule: the chi-square reference holds when at most 20% of the expected counts are
# below 5 and none below 1; otherwise the p-value comes from a parametric bootstrap.
_COCHRAN_SMALL, _COCHRAN_FRACTION, _COCHRAN_MIN = 5.0, 0.2, 1.0


def fitted_probabilities(fit, data) -> tuple[np.ndarray, np.ndarray]:
    """(P_sw, 1 - P_sw) of `fit` at every row of `data`, float64."""
    with jax.enable_x64(True):
        p, q = _probabilities(jnp.asarray(fit.theta), jnp.asarray(fit.model.code), jnp.asarray(data.voltage, jnp.float64),
                              jnp.asarray(data.width / NS, jnp.float64))
    return np.clip(np.asarray(p), 1e-300, 1.0), np.clip(np.asarray(q), 1e-300, 1.0)


def _rho(fit) -> float:
    if not fit.model.beta_binomial:
        return 0.0
    return float(1.0 / (1.0 + np.exp(-fit.theta[FIT_INDEX["overdispersion"]])))


def pearson_residuals(fit, data) -> np.ndarray:
    """(k - n p) / sqrt(n p q (1 + (n - 1) rho)) per row (0 where trials = 0)."""
    p, q = fitted_probabilities(fit, data)
    n, k = data.trials.astype(float), data.switched.astype(float)
    var = n * p * q * (1.0 + (n - 1.0) * _rho(fit))
    return np.where(n > 0, (k - n * p) / np.sqrt(np.maximum(var, 1e-300)), 0.0)


def _deviance(k, n, p, q):
    """Binomial deviance against the saturated model, per replicate (last axis = rows)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(k > 0, k * np.log(k / (n * p)), 0.0)
        b = np.where(n - k > 0, (n - k) * np.log((n - k) / (n * q)), 0.0)
    return 2.0 * np.sum(a + b, axis=-1)


def _pearson(k, n, p, q, rho):
    var = n * p * q * (1.0 + (n - 1.0) * rho)
    return np.sum(np.where(n > 0, (k - n * p) ** 2 / np.maximum(var, 1e-300), 0.0), axis=-1)


@dataclasses.dataclass(frozen=True)
class GoodnessOfFit:
    """Goodness of fit of one fit.

    Attributes:
      statistic: "deviance" (binomial) or "pearson" (beta-binomial, variance-scaled).
      value: the statistic at the fit.
      df: rows with trials minus free parameters.
      p_value: upper tail of `value` under the fitted form.
      method: "chi-square" (Cochran's rule holds) or "bootstrap" (parametric, one-step refits).
      dispersion: Pearson chi-square / df: 1 for a form that fits binomial counts.
      small_cells: fraction of rows with an expected count (switched or not) below 5.
      bootstrap: number of bootstrap replicates (0 for chi-square).
    """

    statistic: str
    value: float
    df: int
    p_value: float
    method: str
    dispersion: float
    small_cells: float
    bootstrap: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _jacobian(fit, data, h=1e-6) -> np.ndarray:
    """d P_sw / d theta (free coordinates) per row by central differences, (N, P)."""
    cols = []
    for i in np.flatnonzero(fit.model.mask):
        e = np.zeros_like(fit.theta)
        e[i] = h
        plus = fitted_probabilities(dataclasses.replace(fit, theta=fit.theta + e), data)[0]
        minus = fitted_probabilities(dataclasses.replace(fit, theta=fit.theta - e), data)[0]
        cols.append((plus - minus) / (2 * h))
    return np.stack(cols, axis=1)


def goodness_of_fit(fit, data, *, seed: int = 0, bootstrap: int = 999) -> GoodnessOfFit:
    """Deviance (binomial) or variance-scaled Pearson (beta-binomial) goodness of fit.

    With large expected counts the statistic is referred to chi-square(df); otherwise to a
    parametric bootstrap: `bootstrap` data sets drawn from the fit (seeded by `seed`), each
    statistic taken after a one-step Newton refit, D*(theta*) = D*(theta) - g*^T H^-1 g*
    (g* the score of the replicate, H the observed information), so the reference accounts
    for the fitted parameters. p = (1 + #{T* >= T}) / (B + 1).
    """
    p, q = fitted_probabilities(fit, data)
    n, k = data.trials.astype(float), data.switched.astype(float)
    rho = _rho(fit)
    used = n > 0
    df = max(int(np.sum(used)) - len(fit.model.parameters), 1)
    pearson = float(_pearson(k, n, p, q, rho))
    statistic = "pearson" if fit.model.beta_binomial else "deviance"
    value = pearson if fit.model.beta_binomial else float(_deviance(k, n, p, q))
    expected = np.minimum(n * p, n * q)[used]
    small = float(np.mean(expected < _COCHRAN_SMALL)) if expected.size else 0.0
    if small <= _COCHRAN_FRACTION and (expected.size == 0 or expected.min() >= _COCHRAN_MIN):
        return GoodnessOfFit(statistic, value, df, float(stats.chi2.sf(value, df)), "chi-square", pearson / df, small)
    rng = np.random.default_rng(seed)
    if rho > 0:
        a = p * (1.0 / rho - 1.0)
        b = q * (1.0 / rho - 1.0)
        draws = rng.binomial(n.astype(np.int64), rng.beta(a, b, size=(bootstrap, len(n))))
    else:
        draws = rng.binomial(n.astype(np.int64), p, size=(bootstrap, len(n)))
    draws = draws.astype(float)
    free = np.flatnonzero(fit.model.mask)
    h = fit.information
    jac = _jacobian(fit, data)
    if fit.model.beta_binomial:  # the overdispersion coordinate does not move P_sw
        keep = [j for j, i in enumerate(free) if i != FIT_INDEX["overdispersion"]]
        jac, h = jac[:, keep], h[np.ix_(keep, keep)]
    scale = np.where(used, 1.0 / (p * q * (1.0 + (n - 1.0) * rho)), 0.0)
    score = -((draws - n * p) * scale) @ jac  # d NLL* / d theta at the fit, (B, P)
    # no finite information (an unconverged fit): no refit correction, a conservative p-value
    drop = np.einsum("bi,ij,bj->b", score, np.linalg.pinv(h), score) if np.all(np.isfinite(h)) else 0.0
    base = _pearson(draws, n, p, q, rho) if fit.model.beta_binomial else _deviance(draws, n, p, q)
    replicates = base - drop
    p_value = float((1 + np.sum(replicates >= value)) / (bootstrap + 1))
    return GoodnessOfFit(statistic, value, df, p_value, "bootstrap", pearson / df, small, bootstrap)


def replicate_dispersion(data) -> tuple[float, int, float]:
    """Model-free over-dispersion test on replicate rows (several rows with one pulse).

    Within each pulse with two or more rows, the Pearson chi-square of the rows against their
    pooled fraction; under binomial counts it is chi-square with sum(rows - 1) df whatever the
    form, so excess variance here is over-dispersion, not lack of fit.
    Returns (statistic, df, p_value); (nan, 0, nan) without replicates.
    """
    keys = np.round(np.stack([data.voltage, data.width / NS], axis=1), 9)
    _, group = np.unique(keys, axis=0, return_inverse=True)
    group = group.ravel()
    k, n = data.switched.astype(float), data.trials.astype(float)
    total_k, total_n = np.bincount(group, k), np.bincount(group, n)
    rows = np.bincount(group, (n > 0).astype(float))
    pooled = np.divide(total_k, total_n, out=np.zeros_like(total_k), where=total_n > 0)
    ok = (rows >= 2) & (pooled > 0) & (pooled < 1)
    if not ok.any():
        return float("nan"), 0, float("nan")
    pg = pooled[group]
    sel = ok[group] & (n > 0)
    value = float(np.sum((k[sel] - n[sel] * pg[sel]) ** 2 / (n[sel] * pg[sel] * (1 - pg[sel]))))
    df = int(np.sum(rows[ok] - 1))
    return value, df, float(stats.chi2.sf(value, df))
