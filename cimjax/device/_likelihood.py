"""The likelihood of switching counts under every form, in one fit space (one compiled program).

Fit space (float64, every coordinate O(1); widths in nanoseconds)::

    theta = (v50, log v_scale, log T/ns, log tau/ns, logit a, logit eps, log tau_phi/ns,
             frequency_slope, logit rho)

A form frees a subset (`SwitchingModel.mask`); the others are held at their null values
(a = 1, eps = 0, tau_phi = inf, slope = 0, rho = 0) whatever theta holds there, so every form
shares one traced program and the optimiser compiles once per data size.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betaln
from scipy.special import expit

from cimjax.errors import ConfigError
from cimjax.device._models import FIT_INDEX, FIT_PARAMETERS, SwitchingModel
from cimjax.device._precession import PrecessionCurve, precession_terms
from cimjax.device._switching import SwitchingCurve, bisect

NS = 1e-9  # widths are fitted in nanoseconds
_TINY = 1e-300
# Parameter -> transform from fit space: "linear", "log" (times in ns or volts), "logit".
TRANSFORMS = {"v50": "linear", "v_scale": "log", "precession_period": "log_ns", "damping_time": "log_ns",
              "amplitude": "logit", "floor": "logit", "dephasing_time": "log_ns", "frequency_slope": "linear",
              "overdispersion": "logit"}
# Start values of the non-core coordinates when a form frees them (near, not on, their null).
STARTS = {"amplitude": math.log(0.97 / 0.03), "floor": math.log(0.005 / 0.995), "dephasing_time": math.log(20.0),
          "frequency_slope": 0.0, "overdispersion": math.log(1e-3 / (1 - 1e-3))}


def to_si(name: str, x: float) -> float:
    """A fit-space coordinate of `name` in SI units."""
    kind = TRANSFORMS[name]
    if kind == "linear":
        return float(x)
    if kind == "logit":
        return float(expit(x))
    with np.errstate(over="ignore"):  # a parameter run off to its boundary (tau_phi -> inf) reads inf
        return float(np.exp(x) * (NS if kind == "log_ns" else 1.0))


def from_si(name: str, value: float) -> float:
    """Inverse of `to_si`."""
    kind = TRANSFORMS[name]
    if kind == "linear":
        return float(value)
    if kind == "logit":
        return float(math.log(value / (1.0 - value)))
    return float(math.log(value / (NS if kind == "log_ns" else 1.0)))


def _free(theta, code, name, fn, null):
    i = FIT_INDEX[name]
    return jnp.where(code[i] > 0, fn(theta[i]), null)


_PROBIT, _NORMALISED = len(FIT_PARAMETERS), len(FIT_PARAMETERS) + 1  # switches after the mask in `code`


def probabilities(theta, code, v, t_ns):
    """(P_sw, 1 - P_sw) of the form `code` (`SwitchingModel.code`) at theta for pulses (v [V], t_ns [ns])."""
    v50, v_scale, period, damping = theta[0], jnp.exp(theta[1]), jnp.exp(theta[2]), jnp.exp(theta[3])
    a = _free(theta, code, "amplitude", jax.nn.sigmoid, 1.0)
    not_a = _free(theta, code, "amplitude", lambda x: jax.nn.sigmoid(-x), 0.0)
    eps = _free(theta, code, "floor", jax.nn.sigmoid, 0.0)
    not_eps = _free(theta, code, "floor", lambda x: jax.nn.sigmoid(-x), 1.0)
    rate = _free(theta, code, "dephasing_time", lambda x: jnp.exp(-2.0 * x), 0.0)
    slope = _free(theta, code, "frequency_slope", lambda x: x, 0.0)
    p, q = precession_terms(v, t_ns, v50, v_scale, period, damping, a, not_a, eps, not_eps, rate, slope,
                            code[_PROBIT] > 0)
    # the peak-normalised form (SwitchingCurve): sigmoid * g(t) / g(t_peak), closed-form t_peak
    omega = 2.0 * jnp.pi / period
    t_peak = (jnp.pi - jnp.arctan(1.0 / (omega * damping))) / omega
    g = lambda t: 1.0 - jnp.exp(-t / damping) * jnp.cos(omega * t)  # noqa: E731
    h = g(t_ns) / g(t_peak)
    z = (v - v50) / v_scale
    normalised = code[_NORMALISED] > 0
    return (jnp.where(normalised, jax.nn.sigmoid(z) * h, p),
            jnp.where(normalised, jnp.maximum(1.0 - h, 0.0) + h * jax.nn.sigmoid(-z), q))


def log_choose(k, n) -> np.ndarray:
    """log C(n, k) per row: the constant part of both likelihoods (kept out of the optimiser)."""
    from scipy.special import gammaln as np_gammaln

    k, n = np.asarray(k, float), np.asarray(n, float)
    return np_gammaln(n + 1.0) - np_gammaln(k + 1.0) - np_gammaln(n - k + 1.0)


def log_likelihood_terms(theta, code, beta_binomial: bool, v, t_ns, k, n):
    """Per-row log-likelihood without log C(n, k) (`log_choose`); rows with n = 0 give 0.
    `beta_binomial` is a static Python bool."""
    p, q = probabilities(theta, code, v, t_ns)
    p, q = jnp.maximum(p, _TINY), jnp.maximum(q, _TINY)
    if not beta_binomial:
        return k * jnp.log(p) + (n - k) * jnp.log(q)
    # beta-binomial with intra-cell correlation rho: Var = n p q (1 + (n - 1) rho)
    precision = 1.0 / jax.nn.sigmoid(theta[FIT_INDEX["overdispersion"]]) - 1.0
    return betaln(k + p * precision, n - k + q * precision) - betaln(p * precision, q * precision)


def negative_log_likelihood(theta, start, code, beta_binomial: bool, v, t_ns, k, n):
    """-log L (without log C(n, k)) with the coordinates a form does not free taken from `start`."""
    theta = jnp.where(code[: theta.shape[0]] > 0, theta, start)
    return -jnp.sum(log_likelihood_terms(theta, code, beta_binomial, v, t_ns, k, n))


def first_peak_width_ns(theta, code):
    """Width [ns] of the first maximum over t at v50, differentiable in theta.

    Bisection (no gradient) then one Newton step on h(t) = omega t + arctan(r(t)/omega) - pi,
    whose derivative is the implicit-function one."""
    period, damping = jnp.exp(theta[2]), jnp.exp(theta[3])
    rate = _free(theta, code, "dephasing_time", lambda x: jnp.exp(-2.0 * x), 0.0) * (code[_NORMALISED] <= 0)
    omega = 2.0 * jnp.pi / period
    h = lambda t: omega * t + jnp.arctan((1.0 / damping + t * rate) / omega) - jnp.pi  # noqa: E731
    lo, hi = 0.5 * jnp.pi / jax.lax.stop_gradient(omega), jnp.pi / jax.lax.stop_gradient(omega)
    t0 = jax.lax.stop_gradient(bisect(lambda t: jax.lax.stop_gradient(h(t)) < 0, lo, hi, 80))
    return t0 - h(t0) / jax.grad(h)(t0)


def window_10_90(theta, code):
    """10-90% voltage window of the amplitude factor: 2 ln 9 s (logistic), 2 Phi^-1(0.9) s (probit)."""
    per_scale = jnp.where(code[_PROBIT] > 0, 2.0 * 1.2815515655446004, 2.0 * math.log(9.0))  # Phi^-1(0.9), logit(0.9)
    return per_scale * jnp.exp(theta[1])


def curve_from_parameters(model: SwitchingModel, parameters: dict, source: str = "<parameters>"):
    """The curve of `model` from SI `parameters` (its free ones; the others at their nulls).

    Raises:
      ConfigError: a parameter of the form is missing or out of range (named).
    """
    missing = [p for p in model.parameters if p != "overdispersion" and p not in parameters]
    if missing:
        raise ConfigError(f"{source}: model {model.name!r} needs parameters {missing}; found {sorted(parameters)}")
    values = {}
    for name in FIT_PARAMETERS[:4] + tuple(p for p in model.parameters[4:] if p != "overdispersion"):
        try:
            values[name] = float(parameters[name])
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: model {model.name!r}: parameter {name}={parameters[name]!r} is not a "
                              f"number") from None
    core = [values.pop(name) for name in FIT_PARAMETERS[:4]]
    try:  # a number out of range: the curve's own check names it (e.g. "v_scale=-1.0 must be > 0")
        if model.base == "normalised":
            return SwitchingCurve.create(*core)
        return PrecessionCurve.create(*core, **values, link=model.link)
    except ConfigError as err:
        raise ConfigError(f"{source}: model {model.name!r}: {err}") from None


def curve_from_theta(theta, model: SwitchingModel):
    """The `SwitchingCurve` (normalised) or `PrecessionCurve` at fit-space `theta` (SI units)."""
    theta = np.asarray(theta, float)
    return curve_from_parameters(model, {name: to_si(name, theta[FIT_INDEX[name]]) for name in model.parameters})
