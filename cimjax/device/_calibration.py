"""Maximum-likelihood calibration of P_sw(V, t) from pulse-switching counts, for every switching form."""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from cimjax.errors import ConfigError, DataFileError
from cimjax.device._likelihood import (
    NS,
    STARTS,
    TRANSFORMS,
    curve_from_theta,
    first_peak_width_ns,
    log_choose,
    negative_log_likelihood,
    probabilities,
    to_si,
    window_10_90,
)
from cimjax.device._measurements import SwitchingData
from cimjax.device._models import CORE, FIT_INDEX, FIT_PARAMETERS, SwitchingModel, check_identifiable, parse_switching_model

PARAMETERS = CORE
DERIVED = ("first_peak_width", "window_10_90")
_STARTS = 3  # local fits from the best grid periods (multi-start against aliasing)
_PAD = 256  # rows are padded (trials = 0) to a power of two >= this: one compilation per size class

_nll_jit = jax.jit(negative_log_likelihood)
_grad_jit = jax.jit(jax.grad(negative_log_likelihood))


def data_arrays(data: SwitchingData):
    """(v, t_ns, k, n) float64, padded with empty rows to a power of two >= _PAD."""
    size = max(_PAD, 1 << (len(data.voltage) - 1).bit_length())
    pad = lambda a, fill: np.concatenate([np.asarray(a, float), np.full(size - len(a), fill)])  # noqa: E731
    v0, t0 = float(np.median(data.voltage)), float(np.median(data.width)) / NS
    return tuple(jnp.asarray(x, jnp.float64) for x in (pad(data.voltage, v0), pad(data.width / NS, t0),
                                                          pad(data.switched, 0.0), pad(data.trials, 0.0)))


@partial(jax.jit, static_argnames="beta_binomial")
def _grid_starts(start, code, beta_binomial, v, t_ns, k, n):
    """For each precession period of a log grid, the best (nll, theta) over a coarse grid of
    (v50, v_scale, tau) within the data's range. The likelihood is multi-modal in T (the
    width oscillation aliases with the sampled widths), so the best few periods seed the fit."""
    used = n > 0
    v_lo, v_hi = jnp.min(jnp.where(used, v, jnp.inf)), jnp.max(jnp.where(used, v, -jnp.inf))
    t_lo, t_hi = jnp.min(jnp.where(used, t_ns, jnp.inf)), jnp.max(jnp.where(used, t_ns, -jnp.inf))
    span = jnp.maximum(v_hi - v_lo, 1e-3)
    v50 = jnp.linspace(v_lo, v_hi, 9)
    log_s = jnp.log(span) + jnp.linspace(jnp.log(0.01), 0.0, 5)
    log_tau = jnp.linspace(jnp.log(0.5 * t_lo), jnp.log(20.0 * t_hi), 6)
    rest = jnp.stack([g.ravel() for g in jnp.meshgrid(v50, log_s, log_tau, indexing="ij")], axis=-1)

    def best_for(log_t):
        thetas = jnp.tile(start, (rest.shape[0], 1)).at[:, jnp.array([0, 1, 3])].set(rest).at[:, 2].set(log_t)
        nll = jax.vmap(lambda th: negative_log_likelihood(th, start, code, beta_binomial, v, t_ns, k, n))(thetas)
        nll = jnp.where(jnp.isfinite(nll), nll, jnp.inf)
        i = jnp.argmin(nll)
        return nll[i], thetas[i]

    return jax.lax.map(best_for, jnp.linspace(jnp.log(0.5 * t_lo), jnp.log(8.0 * t_hi), 24))


_value = jax.jit(negative_log_likelihood, static_argnames="beta_binomial")
_probabilities = jax.jit(probabilities)


@partial(jax.jit, static_argnames="beta_binomial")
def _gradient_hessian(theta, start, code, beta_binomial, v, t_ns, k, n, h=1e-5):
    """Gradient and central-difference Hessian (symmetrised) of the NLL, both zero outside the
    free coordinates: one batch of 2 D + 1 gradient calls, far cheaper to compile than
    forward-over-reverse through the likelihood."""
    grad_f = jax.grad(lambda th: negative_log_likelihood(th, start, code, beta_binomial, v, t_ns, k, n))
    eye = h * jnp.eye(theta.shape[0], dtype=theta.dtype)
    points = jnp.concatenate([theta[None], theta[None] + eye, theta[None] - eye])
    grads = jax.lax.map(grad_f, points)  # not vmap: XLA CPU mis-evaluates the batched beta-binomial gradient (jax 0.10)
    d = theta.shape[0]
    diff = (grads[1 : d + 1] - grads[d + 1 :]) / (2.0 * h)
    m = (code[:d] > 0).astype(theta.dtype)
    return grads[0] * m, 0.5 * (diff + diff.T) * m[:, None] * m[None, :]


# Box on the fit-space coordinates: a parameter running to its boundary (tau_phi -> inf, eps -> 0)
# stops at a finite value far past any effect on P_sw instead of overflowing.
_BOX = np.array([[-1e3, -30.0, -30.0, -30.0, -40.0, -40.0, -30.0, -1e3, -40.0],
                 [1e3, 30.0, 30.0, 30.0, 40.0, 40.0, 30.0, 1e3, 40.0]])


def _levenberg_marquardt(start, model: SwitchingModel, arrays, max_steps: int = 100, tol: float = 1e-10):
    """Damped Newton (Levenberg-Marquardt, Marquardt's diagonal scaling) on the free coordinates."""
    args = (jnp.asarray(start), jnp.asarray(model.code), model.beta_binomial, *arrays)
    f = lambda th: float(_value(jnp.asarray(th), *args))  # noqa: E731
    gh = lambda th: [np.asarray(x) for x in _gradient_hessian(jnp.asarray(th), *args)]  # noqa: E731
    m = model.mask.astype(float)
    theta, value, lam = np.asarray(start, float), f(start), 1e-3
    g, h = gh(theta)
    for _ in range(max_steps):
        scale = np.maximum(np.abs(np.diag(h)), 1e-8) * m + (1.0 - m)
        step = np.linalg.solve(h + np.diag(1.0 - m) + lam * np.diag(scale), g) * m
        trial = np.clip(theta - step, *_BOX)
        trial_value = f(trial)
        if np.isfinite(trial_value) and trial_value <= value:
            done = value - trial_value <= tol * max(1.0, abs(value)) and np.max(np.abs(step)) < 1e-7
            theta, value, lam = trial, trial_value, lam * 0.3
            g, h = gh(theta)
            if done:
                break
        else:
            lam *= 5.0
            if lam > 1e12:
                break
    return theta, value, g, h


def _derived(theta, code):
    return jnp.stack([first_peak_width_ns(theta, code), window_10_90(theta, code)])


_derived_jit = jax.jit(_derived)
_derived_jacobian = jax.jit(jax.jacobian(_derived))


@dataclasses.dataclass(frozen=True)
class SwitchingFit:
    """Result of a maximum-likelihood fit of one switching form to switching counts.

    Attributes:
      curve: the fitted curve (`SwitchingCurve` or `PrecessionCurve`, scalar leaves, SI units).
      estimates: parameter -> value (SI), for the form's free parameters and DERIVED
        (first_peak_width is the first maximum over width at v50).
      stderr: parameter -> standard error from the observed Fisher information (delta method).
      intervals: parameter -> (low, high) at `confidence`: symmetric in the fit space (v50 and
        frequency_slope linear, positive parameters in log, probabilities in logit), so every
        interval stays inside its parameter's range.
      confidence: coverage of each interval (not simultaneous).
      covariance: covariance of the free fit-space coordinates (`model.parameters` order).
      nll: minimised negative log-likelihood, including the binomial coefficients.
      converged: gradient small and Hessian positive definite at the optimum.
      n_rows, n_trials: data size.
      device: device identifier ("" for pooled data).
      model: the fitted form.
      theta: the full fit-space vector (`FIT_PARAMETERS` order; fixed coordinates unused).
      information: observed Fisher information of the free coordinates (the NLL's Hessian).
    """

    curve: object
    estimates: dict
    stderr: dict
    intervals: dict
    confidence: float
    covariance: np.ndarray
    nll: float
    converged: bool
    n_rows: int
    n_trials: int
    device: str = ""
    model: SwitchingModel = SwitchingModel()
    theta: np.ndarray | None = None
    information: np.ndarray | None = None

    @property
    def log_likelihood(self) -> float:
        return -self.nll

    def predict(self, voltage, width) -> np.ndarray:
        """P_sw of the fit at pulses (`voltage` [V], `width` [s]) in float64, from the fit space
        (the likelihood's own evaluation; `curve` is the same in float32)."""
        v, t = np.broadcast_arrays(np.asarray(voltage, float), np.asarray(width, float))
        with jax.enable_x64(True):
            p = _probabilities(jnp.asarray(self.theta), jnp.asarray(self.model.code), jnp.asarray(v), jnp.asarray(t / NS))
        return np.asarray(p[0])

    def to_dict(self) -> dict:
        return {
            "device": self.device, "model": self.model.name,
            "likelihood": "beta-binomial" if self.model.beta_binomial else "binomial",
            "converged": self.converged, "nll": self.nll,
            "n_rows": self.n_rows, "n_trials": self.n_trials, "confidence": self.confidence,
            "parameters": self.estimates, "stderr": self.stderr,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
        }


def _interval(name, x, se, z):
    """(value, stderr, (lo, hi)) in SI of fit-space coordinate x with standard error se."""
    value = to_si(name, x)
    kind = TRANSFORMS[name]
    lo, hi = to_si(name, x - z * se), to_si(name, x + z * se)
    if kind == "logit":
        return value, value * (1.0 - value) * se, (lo, hi)
    return value, (se if kind == "linear" else value * se), (lo, hi)


def grow_start(theta, parent: SwitchingModel, model: SwitchingModel) -> np.ndarray:
    """`theta` of `parent` as the start of `model`: the coordinates it frees near their nulls."""
    start = np.asarray(theta, float).copy()
    for name in set(model.parameters) - set(parent.parameters):
        start[FIT_INDEX[name]] = STARTS[name]
    return start


def fit_theta(arrays, model: SwitchingModel, start=None):
    """(theta, nll, gradient, Hessian) of `model` on padded `arrays` (`data_arrays`).

    Without `start`, a base form starts from the grid and a form with modifiers from its
    parent's optimum (`grow_start`): a chain of warm starts along `model.chain()`."""
    if start is None and len(model.chain()) > 1:
        parent = model.chain()[-2]
        start = grow_start(fit_theta(arrays, parent)[0], parent, model)
    if start is None:
        nlls, thetas = (np.asarray(x) for x in _grid_starts(jnp.zeros(len(FIT_PARAMETERS)), jnp.asarray(model.code),
                                                             model.beta_binomial, *arrays))
        best = [_levenberg_marquardt(thetas[i], model, arrays) for i in np.argsort(nlls)[:_STARTS]]
        theta, nll, g, h = min(best, key=lambda r: r[1] if np.isfinite(r[1]) else np.inf)
    else:
        theta, nll, g, h = _levenberg_marquardt(np.asarray(start, float), model, arrays)
    constant = float(np.sum(log_choose(arrays[2], arrays[3])))
    return np.asarray(theta), float(nll) - constant, np.asarray(g), np.asarray(h)


def summarise_fit(theta, nll, g, h, model: SwitchingModel, data: SwitchingData, confidence: float) -> SwitchingFit:
    """A `SwitchingFit` from an optimum: intervals from the inverse observed Fisher information."""
    free = np.flatnonzero(model.mask)
    hf = h[np.ix_(free, free)]
    eig = np.linalg.eigvalsh(hf) if np.all(np.isfinite(hf)) else np.array([np.nan])
    converged = bool(eig.min() > 0 and np.max(np.abs(g)) < 1e-3 * max(1.0, np.sqrt(eig.max())))  # nan: False
    cov = np.linalg.inv(hf) if eig.min() > 0 else np.full(hf.shape, np.nan)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    se_fit = np.sqrt(np.maximum(np.diag(cov), 0.0))
    estimates, stderr, intervals = {}, {}, {}
    for j, i in enumerate(free):
        name = FIT_PARAMETERS[i]
        estimates[name], stderr[name], intervals[name] = _interval(name, theta[i], se_fit[j], z)
    with jax.enable_x64(True):
        args = (jnp.asarray(theta), jnp.asarray(model.code))
        der = np.asarray(_derived_jit(*args))
        jac = np.asarray(_derived_jacobian(*args))[:, free]
    der_se = np.sqrt(np.maximum(np.diag(jac @ cov @ jac.T), 0.0))
    for i, (name, unit) in enumerate(zip(DERIVED, (NS, 1.0))):
        estimates[name], stderr[name] = float(der[i] * unit), float(der_se[i] * unit)
        intervals[name] = (float((der[i] - z * der_se[i]) * unit), float((der[i] + z * der_se[i]) * unit))
    device = str(data.device[0]) if len(set(data.device)) == 1 else ""
    return SwitchingFit(curve_from_theta(theta, model), estimates, stderr, intervals, confidence, cov, nll, converged,
                        int(len(data.voltage)), int(np.sum(data.trials)), device, model, np.asarray(theta, float), hf)


def fit_switching_curve(data: SwitchingData, *, model: str | SwitchingModel = "normalised",
                        confidence: float = 0.95) -> SwitchingFit:
    """Maximum-likelihood fit of one switching form to every row of `data` (pooled).

    Likelihood: switched_i ~ Binomial(trials_i, P_sw(V_i, t_i)) (beta-binomial for a model with
    `beta_binomial`). Optimisation, all in float64: a coarse grid (multi-start against the
    multi-modal width oscillation) for the base form, warm starts along the nested chain for
    modifiers, optax L-BFGS, then a Levenberg-Marquardt polish on the exact Hessian.
    Uncertainty: covariance = inverse observed Fisher information in the fit space
    (`cimjax.device._likelihood`), mapped to SI by the delta method.

    Args:
      model: a form name (`parse_switching_model`) or a `SwitchingModel`; "normalised" is today's form.

    Raises:
      ConfigError: confidence outside (0, 1), an unknown model name.
      DataFileError: no trials, or data that cannot identify a parameter of the form (named).
    """
    if not 0 < confidence < 1:
        raise ConfigError(f"{confidence=} must be in (0, 1)")
    model = parse_switching_model(model) if isinstance(model, str) else model
    if int(np.sum(data.trials)) == 0:
        raise DataFileError(f"{data.source}: no trials to fit")
    check_identifiable(data, model)
    with jax.enable_x64(True):
        arrays = data_arrays(data)
        theta, nll, g, h = fit_theta(arrays, model)
    return summarise_fit(theta, nll, g, h, model, data, confidence)


def fit_devices(data: SwitchingData, *, model: str | SwitchingModel = "normalised", confidence: float = 0.95,
                progress: bool = False) -> dict[str, SwitchingFit]:
    """One `fit_switching_curve` per device of `data` (its `device` column), in file order."""
    iterator = data.devices
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc="fitting devices", unit="device")
    return {d: fit_switching_curve(data.select(d), model=model, confidence=confidence) for d in iterator}


def stack_curves(fits):
    """Per-device curves of several fits as one curve whose leaves have shape (len(fits),)."""
    curves = [f.curve for f in (fits.values() if isinstance(fits, dict) else fits)]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *curves)
