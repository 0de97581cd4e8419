"""Hierarchical (random-effects) calibration of an array: population parameters and device spread.

Each device's fit theta_i (fit space) estimates its true parameters phi_i with error covariance
C_i (inverse Fisher information). The devices are a sample of the population::

    phi_i ~ N(mu, Sigma),   theta_i | phi_i ~ N(phi_i, C_i)   =>   theta_i ~ N(mu, Sigma + C_i)

mu and Sigma are fitted by maximum likelihood of the marginal (EM: Dempster, Laird & Rubin
1977; the normal-normal meta-analysis model), so Sigma is the device-to-device covariance with
each device's estimation error removed; the plain covariance of the theta_i estimates
Sigma + mean(C_i) and overstates the spread. Intervals: Wald, from the observed information of
the marginal likelihood in (mu, log sd, atanh correlation), so sd intervals stay positive.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
from scipy import stats

from cimjax.errors import ConfigError
from cimjax.device._calibration import data_arrays, fit_theta, grow_start, summarise_fit
from cimjax.device._likelihood import FIT_INDEX, curve_from_theta, to_si
from cimjax.device._measurements import SwitchingData
from cimjax.device._models import FIT_PARAMETERS, SwitchingModel, check_identifiable, parse_switching_model


def _em(theta, cov, iterations: int = 2000, tol: float = 1e-12):
    """ML (mu, Sigma) of theta_i ~ N(mu, Sigma + C_i) by EM."""
    n, d = theta.shape
    mu = theta.mean(axis=0)
    sigma = np.cov(theta.T).reshape(d, d) + 1e-12 * np.eye(d)
    cov_inv = np.linalg.inv(cov)
    for _ in range(iterations):
        sigma_inv = np.linalg.inv(sigma)
        post_cov = np.linalg.inv(sigma_inv[None] + cov_inv)  # posterior covariance of phi_i
        post_mean = np.einsum("nij,nj->ni", post_cov, sigma_inv @ mu + np.einsum("nij,nj->ni", cov_inv, theta))
        new_mu = post_mean.mean(axis=0)
        dev = post_mean - new_mu
        new_sigma = (np.einsum("ni,nj->ij", dev, dev) + post_cov.sum(axis=0)) / n
        new_sigma = 0.5 * (new_sigma + new_sigma.T) + 1e-14 * np.eye(d)
        change = np.max(np.abs(new_sigma - sigma)) + np.max(np.abs(new_mu - mu))
        mu, sigma = new_mu, new_sigma
        if change < tol:
            break
    return mu, sigma


def _unpack(phi, d):
    mu, log_sd, z = phi[:d], phi[d : 2 * d], phi[2 * d :]
    corr = np.eye(d)
    corr[np.triu_indices(d, 1)] = np.tanh(z)
    corr = np.triu(corr) + np.triu(corr, 1).T
    sd = np.exp(log_sd)
    return mu, corr * np.outer(sd, sd)


def _marginal_log_likelihood(phi, theta, cov):
    mu, sigma = _unpack(phi, theta.shape[1])
    total = sigma[None] + cov
    sign, logdet = np.linalg.slogdet(total)
    if np.any(sign <= 0):
        return -np.inf
    r = theta - mu
    return float(-0.5 * np.sum(logdet + np.einsum("ni,nij,nj->n", r, np.linalg.inv(total), r)
                               + theta.shape[1] * math.log(2 * math.pi)))


def _information(f, phi, h=1e-4):
    """Observed information (minus the central-difference Hessian of f) at phi."""
    d = phi.shape[0]
    hess = np.zeros((d, d))
    for i in range(d):
        for j in range(i, d):
            e_i, e_j = np.eye(d)[i] * h, np.eye(d)[j] * h
            hess[i, j] = hess[j, i] = (f(phi + e_i + e_j) - f(phi + e_i - e_j) - f(phi - e_i + e_j)
                                       + f(phi - e_i - e_j)) / (4 * h * h)
    return -hess


@dataclasses.dataclass(frozen=True)
class PopulationFit:
    """Population of an array's devices: typical device, device-to-device spread, intervals.

    Coordinates are the fit space of `model` (v50 and frequency_slope linear, times and
    v_scale in log, probabilities in logit): an sd in log space is the lognormal sigma of
    `SwitchingSpread`.

    Attributes:
      model: the per-device form.
      parameters: names of the coordinates with random effects.
      mean: population mean mu (fit space), shape (D,).
      covariance: device-to-device covariance Sigma (fit space), (D, D).
      sd: sqrt(diag Sigma); sd_intervals, mean_intervals: name -> (lo, hi) at `confidence`
        (mean intervals in SI units, sd intervals in fit space).
      plain_sd: sd of the per-device estimates (includes each device's estimation error).
      typical: the typical device, the curve at mu (SI).
      devices: device ids used; excluded: device -> why it was left out.
      fits: device -> its fit with `model` (every device, excluded ones too).
    """

    model: SwitchingModel
    parameters: tuple[str, ...]
    mean: np.ndarray
    covariance: np.ndarray
    sd: dict
    sd_intervals: dict
    mean_si: dict
    mean_intervals: dict
    plain_sd: dict
    confidence: float
    typical: object
    devices: tuple[str, ...]
    excluded: dict
    fits: dict = dataclasses.field(default_factory=dict)

    @property
    def correlation(self) -> np.ndarray:
        sd = np.sqrt(np.diag(self.covariance))
        return self.covariance / np.outer(sd, sd)

    def to_dict(self) -> dict:
        return {"model": self.model.name, "method": "random effects (normal-normal, maximum likelihood by EM)",
                "n_devices": len(self.devices), "parameters": list(self.parameters),
                "typical": self.mean_si, "typical_intervals": {k: list(v) for k, v in self.mean_intervals.items()},
                "sd": self.sd, "sd_intervals": {k: list(v) for k, v in self.sd_intervals.items()},
                "plain_sd": self.plain_sd, "correlation": self.correlation.tolist(),
                "confidence": self.confidence, "excluded": self.excluded,
                "note": "sd in fit space: volts for v50, 1/V for frequency_slope, log for positive "
                        "parameters (lognormal sigma), logit for probabilities"}


def _device_chain(data: SwitchingData, model: SwitchingModel, confidence: float) -> list:
    """Fits of `model` and its nested parents on one device, warm-started along the chain."""
    arrays, fits = data_arrays(data), []
    for m in model.chain():
        start = grow_start(fits[-1].theta, fits[-1].model, m) if fits else None
        fits.append(summarise_fit(*fit_theta(arrays, m, start), m, data, confidence))
    return fits


def check_population(data: SwitchingData, model: str | SwitchingModel = "auto") -> None:
    """Checks, before any fit, that `model` exists and that the pooled data and every device of
    an array (>= 3 devices) can identify its parameters ("auto": the base precession form).

    Raises:
      ConfigError: an unknown model name.
      DataFileError: a device whose data cannot identify a parameter (named with the device).
    """
    if isinstance(model, str):
        model = SwitchingModel("precession") if model == "auto" else parse_switching_model(model)
    check_identifiable(data, model)
    devices = data.devices
    if len(devices) >= 3:
        for d in devices:
            check_identifiable(data.select(d)._replace(source=f"{data.source} (device {d!r})"), model)


def fit_population(data: SwitchingData, model: str | SwitchingModel, *, confidence: float = 0.95,
                   progress: bool = False) -> PopulationFit:
    """Random-effects fit of the devices in `data` (its `device` column).

    Each device is fitted with `model` and its nested parents; the form with the lowest BIC
    summed over devices is kept (a pooled fit may need modifiers only the spread calls for).

    Raises:
      ConfigError: fewer than 3 devices, or fewer converged device fits than needed.
      DataFileError: a device whose data cannot identify a parameter of the form.
    """
    if not 0 < confidence < 1:
        raise ConfigError(f"{confidence=} must be in (0, 1)")
    model = (parse_switching_model(model) if isinstance(model, str) else model).binomial
    devices = data.devices
    if len(devices) < 3:
        raise ConfigError(f"{data.source}: a population fit needs >= 3 devices, found {len(devices)}")
    check_population(data, model)
    iterator = devices
    if progress:
        from tqdm import tqdm

        iterator = tqdm(devices, desc="fitting devices", unit="device")
    with jax.enable_x64(True):
        chains = {d: _device_chain(data.select(d), model, confidence) for d in iterator}
    total_bic = [sum(2 * c[j].nll + len(c[j].model.parameters) * math.log(c[j].n_trials) for c in chains.values())
                 for j in range(len(next(iter(chains.values()))))]
    j = int(np.argmin(total_bic))
    fits = {d: c[j] for d, c in chains.items()}
    chosen = fits[devices[0]].model
    names = tuple(p for p in chosen.parameters if p != "overdispersion")
    idx = [FIT_INDEX[p] for p in names]
    excluded = {d: "fit did not converge" for d, f in fits.items() if not f.converged}
    used = [d for d in devices if d not in excluded]
    d_dim = len(names)
    if len(used) < d_dim + 2:
        raise ConfigError(f"{data.source}: only {len(used)} device fits converged; the population of {d_dim} "
                          f"parameters needs >= {d_dim + 2}")
    theta = np.stack([fits[d].theta[idx] for d in used])
    cov = np.stack([fits[d].covariance[:d_dim, :d_dim] for d in used])
    mu, sigma = _em(theta, cov)
    sd = np.sqrt(np.diag(sigma))
    corr = sigma / np.outer(sd, sd)
    phi = np.concatenate([mu, np.log(sd), np.arctanh(np.clip(corr[np.triu_indices(d_dim, 1)], -0.999, 0.999))])
    info = _information(lambda x: _marginal_log_likelihood(x, theta, cov), phi)
    se = np.sqrt(np.maximum(np.diag(np.linalg.pinv(info)), 0.0))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    full = np.zeros(len(FIT_PARAMETERS))
    full[idx] = mu
    mean_si = {p: to_si(p, mu[i]) for i, p in enumerate(names)}
    mean_intervals = {p: tuple(sorted((to_si(p, mu[i] - z * se[i]), to_si(p, mu[i] + z * se[i]))))
                      for i, p in enumerate(names)}
    sd_intervals = {p: (float(sd[i] * math.exp(-z * se[d_dim + i])), float(sd[i] * math.exp(z * se[d_dim + i])))
                    for i, p in enumerate(names)}
    plain = np.std(theta, axis=0, ddof=1)
    return PopulationFit(chosen, names, mu, sigma, {p: float(sd[i]) for i, p in enumerate(names)}, sd_intervals,
                         mean_si, mean_intervals, {p: float(plain[i]) for i, p in enumerate(names)}, confidence,
                         curve_from_theta(full, chosen), tuple(used), excluded, fits)
