"""Maximum-likelihood calibration of P_sw(V, t) from pulse-switching counts (binomial likelihood)."""

from __future__ import annotations

import dataclasses
from functools import partial
import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import stats

from cimjax.errors import ConfigError
from cimjax.device._measurements import SwitchingData
from cimjax.device._switching import LOGISTIC_10_90, SwitchingCurve

PARAMETERS = ("v50", "v_scale", "precession_period", "damping_time")
DERIVED = ("first_peak_width", "window_10_90")
_NS = 1e-9  # widths are fitted in nanoseconds so every parameter is O(1)


def _curve(theta) -> SwitchingCurve:
    """Fit space (v50, log v_scale, log T/ns, log tau/ns) -> curve in volts and nanoseconds."""
    return SwitchingCurve(theta[0], jnp.exp(theta[1]), jnp.exp(theta[2]), jnp.exp(theta[3]))


def _nll(theta, v, t_ns, k, n):
    """Binomial negative log-likelihood (without the constant log C(n, k))."""
    c = _curve(theta)
    z = (v - c.v50) / c.v_scale
    h = c._g(t_ns) / c._g(c.first_peak_width)
    log_p = jax.nn.log_sigmoid(z) + jnp.log(h)
    # 1 - sigma(z) h = (1 - h) + h sigma(-z): no cancellation where p is close to 1.
    log_q = jnp.log(jnp.maximum(1.0 - h, 0.0) + h * jax.nn.sigmoid(-z))
    return -jnp.sum(jnp.where(k > 0, k * log_p, 0.0) + jnp.where(n - k > 0, (n - k) * log_q, 0.0))


_nll_jit = jax.jit(_nll)
_grad_jit = jax.jit(jax.grad(_nll))


def _derived(theta):
    c = _curve(theta)
    return jnp.stack([c.first_peak_width, LOGISTIC_10_90 * c.v_scale])


@jax.jit
def _grid_start(v, t_ns, k, n):
    """Best point of a coarse grid over the data's range: the multi-start that avoids the
    wrong precession branch (the width oscillation makes the likelihood multi-modal in T)."""
    v_lo, v_hi = jnp.min(v), jnp.max(v)
    span = jnp.maximum(v_hi - v_lo, 1e-3)
    t_lo, t_hi = jnp.min(t_ns), jnp.max(t_ns)
    v50 = jnp.linspace(v_lo, v_hi, 17)
    log_s = jnp.log(span) + jnp.linspace(jnp.log(0.01), 0.0, 9)
    log_t = jnp.linspace(jnp.log(0.5 * t_lo), jnp.log(8.0 * t_hi), 20)
    log_tau = jnp.linspace(jnp.log(0.5 * t_lo), jnp.log(20.0 * t_hi), 10)
    rest = jnp.stack([g.ravel() for g in jnp.meshgrid(log_s, log_t, log_tau, indexing="ij")], axis=-1)

    def best_for(v50_i):
        thetas = jnp.concatenate([jnp.full((rest.shape[0], 1), v50_i), rest], axis=1)
        nll = jax.vmap(lambda th: _nll(th, v, t_ns, k, n))(thetas)
        nll = jnp.where(jnp.isfinite(nll), nll, jnp.inf)
        i = jnp.argmin(nll)
        return nll[i], thetas[i]

    nlls, thetas = jax.lax.map(best_for, v50)
    return thetas[jnp.argmin(nlls)]


@partial(jax.jit, static_argnames="iterations")
def _lbfgs(theta, v, t_ns, k, n, iterations: int = 100):
    """optax L-BFGS with a backtracking line search on the per-trial NLL."""
    f = lambda th: _nll(th, v, t_ns, k, n) / jnp.maximum(jnp.sum(n), 1)
    linesearch = optax.scale_by_backtracking_linesearch(max_backtracking_steps=20, store_grad=True)
    opt = optax.lbfgs(linesearch=linesearch)
    value_and_grad = optax.value_and_grad_from_state(f)

    def step(_, carry):
        theta, state = carry
        value, grad = value_and_grad(theta, state=state)
        updates, state = opt.update(grad, state, theta, value=value, grad=grad, value_fn=f)
        return optax.apply_updates(theta, updates), state

    theta, _ = jax.lax.fori_loop(0, iterations, step, (theta, opt.init(theta)))
    return theta


def _hessian(grad, theta, h=1e-5):
    """Central-difference Hessian of the NLL from its exact gradient (symmetrised, float64).

    Four parameters need eight gradient calls; this avoids compiling a second-order program."""
    cols = [(np.asarray(grad(theta + h * e)) - np.asarray(grad(theta - h * e))) / (2 * h) for e in np.eye(theta.shape[0])]
    hess = np.stack(cols, axis=1)
    return 0.5 * (hess + hess.T)


def _levenberg_marquardt(f, grad, theta, max_steps: int = 200, tol: float = 1e-9):
    """Damped Newton (Levenberg-Marquardt) minimisation of f from `theta`."""
    theta = np.asarray(theta, float)
    value = float(f(theta))
    hess = _hessian(grad, theta)
    lam = 1e-3 * float(np.max(np.abs(np.diag(hess)))) + 1e-12
    for _ in range(max_steps):
        g = np.asarray(grad(theta))
        step = np.linalg.solve(hess + lam * np.eye(theta.shape[0]), g)
        trial = theta - step
        trial_value = float(f(trial))
        if np.isfinite(trial_value) and trial_value <= value:
            converged = value - trial_value <= tol * max(1.0, abs(value)) and np.max(np.abs(step)) < 1e-7
            theta, value, lam = trial, trial_value, lam / 5.0
            hess = _hessian(grad, theta)
            if converged:
                break
        else:
            lam *= 4.0
            if lam > 1e12 * (1.0 + float(np.max(np.abs(np.diag(hess))))):
                break
    return theta


@dataclasses.dataclass(frozen=True)
class SwitchingFit:
    """Result of a maximum-likelihood fit of `SwitchingCurve` to switching counts.

    Attributes:
      curve: the fitted curve (scalar leaves, SI units).
      estimates: parameter -> value (SI), for PARAMETERS and DERIVED.
      stderr: parameter -> standard error from the observed Fisher information (delta method).
      intervals: parameter -> (low, high) at `confidence`; v50 symmetric, the positive
        parameters symmetric in log space (so they stay positive).
      confidence: coverage of each interval (not simultaneous).
      covariance: 4x4 covariance of (v50, log v_scale, log T, log tau).
      nll: minimised negative log-likelihood (without log C(n, k)).
      converged: gradient small and Hessian positive definite at the optimum.
      n_rows, n_trials: data size.
      device: device identifier ("" for pooled data).
    """

    curve: SwitchingCurve
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

    def to_dict(self) -> dict:
        return {
            "device": self.device, "converged": self.converged, "nll": self.nll,
            "n_rows": self.n_rows, "n_trials": self.n_trials, "confidence": self.confidence,
            "parameters": self.estimates, "stderr": self.stderr,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
        }


def fit_switching_curve(data: SwitchingData, *, confidence: float = 0.95, max_steps: int = 200) -> SwitchingFit:
    """Maximum-likelihood fit of the closed-form P_sw(V, t) to every row of `data` (pooled).

    Likelihood: switched_i ~ Binomial(trials_i, P_sw(V_i, t_i)). Optimisation, all in float64:
    a coarse grid (multi-start against the multi-modal width oscillation), optax L-BFGS,
    then a Levenberg-Marquardt (damped Newton) polish on the Hessian (exact jax gradient,
    central differences), so the optimum and its Fisher information are accurate.
    Uncertainty: covariance = inverse observed Fisher information (Hessian of the NLL) in the
    fit space (v50, log v_scale, log T, log tau), mapped to SI by the delta method.

    Raises:
      ConfigError: confidence outside (0, 1), no trials, or fewer distinct widths/voltages
        than the model needs (>= 2 voltages, >= 3 widths).
    """
    if not 0 < confidence < 1:
        raise ConfigError(f"{confidence=} must be in (0, 1)")
    if int(np.sum(data.trials)) == 0:
        raise ConfigError(f"{data.source}: no trials to fit")
    if len(np.unique(data.voltage)) < 2 or len(np.unique(data.width)) < 3:
        raise ConfigError(f"{data.source}: need >= 2 distinct voltages and >= 3 distinct widths to fit 4 parameters")
    with jax.enable_x64(True):
        arrays = [jnp.asarray(a, jnp.float64) for a in (data.voltage, data.width / _NS, data.switched, data.trials)]
        f = lambda th: _nll_jit(jnp.asarray(th), *arrays)
        grad = lambda th: _grad_jit(jnp.asarray(th), *arrays)
        start = _grid_start(*arrays)
        theta = _lbfgs(start, *arrays)
        if not np.all(np.isfinite(np.asarray(theta))) or not f(theta) <= f(start):
            theta = start  # L-BFGS went astray: polish from the grid point instead
        theta = _levenberg_marquardt(f, grad, theta, max_steps=max_steps)
        h = _hessian(grad, theta)
        g = np.asarray(grad(theta))
        eig = np.linalg.eigvalsh(h)
        converged = bool(eig.min() > 0 and np.max(np.abs(g)) < 1e-3 * max(1.0, np.sqrt(eig.max())))
        cov = np.linalg.inv(h) if eig.min() > 0 else np.full((4, 4), np.nan)
        jac = np.asarray(jax.jacobian(_derived)(theta))
        theta = np.asarray(theta)
        der = np.asarray(_derived(theta))
        nll = float(f(theta))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    se_fit = np.sqrt(np.diag(cov))
    unit = np.array([1.0, 1.0, _NS, _NS])
    values = np.array([theta[0], *np.exp(theta[1:])]) * unit
    estimates, stderr, intervals = {}, {}, {}
    for i, name in enumerate(PARAMETERS):
        estimates[name] = float(values[i])
        if i == 0:
            stderr[name] = float(se_fit[0])
            intervals[name] = (float(values[0] - z * se_fit[0]), float(values[0] + z * se_fit[0]))
        else:
            stderr[name] = float(values[i] * se_fit[i])
            intervals[name] = (float(values[i] * np.exp(-z * se_fit[i])), float(values[i] * np.exp(z * se_fit[i])))
    der_cov = jac @ cov @ jac.T
    for i, name in enumerate(DERIVED):
        u = _NS if name == "first_peak_width" else 1.0
        se = float(np.sqrt(der_cov[i, i]))
        estimates[name], stderr[name] = float(der[i] * u), se * u
        intervals[name] = (float((der[i] - z * se) * u), float((der[i] + z * se) * u))
    curve = SwitchingCurve.create(*(estimates[p] for p in PARAMETERS))
    return SwitchingFit(curve, estimates, stderr, intervals, confidence, cov, nll, converged,
                        int(len(data.voltage)), int(np.sum(data.trials)), str(data.device[0]) if len(set(data.device)) == 1 else "")


def fit_devices(data: SwitchingData, *, confidence: float = 0.95, progress: bool = False) -> dict[str, SwitchingFit]:
    """One `fit_switching_curve` per device of `data` (its `device` column), in file order."""
    devices = data.devices
    iterator = devices
    if progress:
        from tqdm import tqdm

        iterator = tqdm(devices, desc="fitting devices", unit="device")
    return {d: fit_switching_curve(data.select(d), confidence=confidence) for d in iterator}


def stack_curves(fits) -> SwitchingCurve:
    """Per-device curves of several fits as one curve whose leaves have shape (len(fits),)."""
    curves = [f.curve for f in (fits.values() if isinstance(fits, dict) else fits)]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *curves)
