"""Model selection for `cimjax device calibrate --model auto|NAME`: AIC, BIC, likelihood-ratio
tests along the nested chain, goodness of fit, dispersion and the beta-binomial likelihood."""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
from scipy import stats

from cimjax.errors import ConfigError, DataFileError
from cimjax.device._calibration import SwitchingFit, data_arrays, fit_theta, grow_start, summarise_fit
from cimjax.device._goodness import GoodnessOfFit, goodness_of_fit, replicate_dispersion
from cimjax.device._likelihood import FIT_INDEX
from cimjax.device._measurements import SwitchingData
from cimjax.device._models import MODIFIERS, SwitchingModel, check_identifiable, parse_switching_model

LIKELIHOODS = ("auto", "binomial", "beta-binomial")
GOF_LEVEL = 0.01  # calibrate warns when the chosen form fails goodness of fit at this level
# Logistic sigma(x) ~ Phi(x / 1.702) (Bowling et al., J. Ind. Eng. Manag. 2, 114 (2009)): the
# probit start of a link swap.
_PROBIT_PER_LOGISTIC = 1.702


@dataclasses.dataclass(frozen=True)
class ModelCandidate:
    """One fitted form with its information criteria and its test against its nested parent.

    Attributes:
      fit: the fit.
      aic, bic: -2 log L + 2 P and -2 log L + P log(trials) (trials: the Bernoulli events).
      parent: name of the nested parent ("" if none was fitted).
      lr_statistic: 2 (log L - log L_parent); nan without a parent.
      lr_p_value: chi-square(1) tail, or the 50:50 mixture of chi-square(0) and (1) when the
        parent's value is on the boundary of the child's space (Self & Liang, JASA 82, 605 (1987)).
    """

    fit: SwitchingFit
    aic: float
    bic: float
    parent: str = ""
    lr_statistic: float = math.nan
    lr_p_value: float = math.nan

    @property
    def label(self) -> str:
        return self.fit.model.name + (" (beta-binomial)" if self.fit.model.beta_binomial else "")

    def to_dict(self) -> dict:
        out = {"model": self.fit.model.name,
               "likelihood": "beta-binomial" if self.fit.model.beta_binomial else "binomial",
               "log_likelihood": self.fit.log_likelihood, "aic": self.aic, "bic": self.bic,
               "n_parameters": len(self.fit.model.parameters), "converged": self.fit.converged}
        if self.parent:
            out.update(parent=self.parent, lr_statistic=self.lr_statistic, lr_p_value=self.lr_p_value)
        return out


@dataclasses.dataclass(frozen=True)
class ModelSelection:
    """The chosen fit, every candidate, why, and how well the chosen form fits.

    Attributes:
      fit: the chosen fit.
      candidates: every fitted candidate, in fit order.
      reason: one sentence: why this form.
      gof: goodness of fit of the chosen fit.
      replicate_test: (statistic, df, p) of the model-free over-dispersion test (nan: no replicates).
      warnings: messages for the user (a failed goodness of fit, an unconverged fit).
      skipped: form -> why it was not fitted (parameters the data cannot identify).
    """

    fit: SwitchingFit
    candidates: tuple[ModelCandidate, ...]
    reason: str
    gof: GoodnessOfFit
    replicate_test: tuple[float, int, float]
    warnings: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def chosen(self) -> ModelCandidate:
        return next(c for c in self.candidates if c.fit is self.fit)

    def to_dict(self) -> dict:
        f, c = self.fit, self.chosen
        return {"model": f.model.name, "likelihood": "beta-binomial" if f.model.beta_binomial else "binomial",
                "log_likelihood": f.log_likelihood, "aic": c.aic, "bic": c.bic,
                "gof_p_value": self.gof.p_value, "gof": self.gof.to_dict(), "dispersion": self.gof.dispersion,
                "replicate_dispersion_test": dict(zip(("statistic", "df", "p_value"), self.replicate_test)),
                "parameters": f.estimates, "stderr": f.stderr,
                "intervals": {k: list(v) for k, v in f.intervals.items()}, "confidence": f.confidence,
                "converged": f.converged, "selection": self.reason, "warnings": list(self.warnings),
                "skipped": dict(self.skipped), "candidates": [x.to_dict() for x in self.candidates]}


def _lr_test(child: SwitchingFit, parent: SwitchingFit) -> tuple[float, float]:
    freed = set(child.model.parameters) - set(parent.model.parameters)
    boundary = all(name == "overdispersion" or any(MODIFIERS[m][0] == name and MODIFIERS[m][2] for m in MODIFIERS)
                   for name in freed)
    lr = max(2.0 * (child.log_likelihood - parent.log_likelihood), 0.0)
    tail = float(stats.chi2.sf(lr, len(freed)))
    return lr, (0.5 * tail if lr > 0 else 1.0) if boundary and len(freed) == 1 else tail


class _Fitter:
    """Fits forms on one data set, warm-starting each from the fit it grows from."""

    def __init__(self, data: SwitchingData, confidence: float):
        self.data, self.confidence = data, confidence
        self.arrays = data_arrays(data)
        self.trials = float(np.sum(data.trials))
        self.candidates: list[ModelCandidate] = []

    def fit(self, model: SwitchingModel, grown_from: ModelCandidate | None = None, start=None) -> ModelCandidate:
        for c in self.candidates:
            if c.fit.model == model:
                return c
        if start is None and grown_from is not None:
            start = grow_start(grown_from.fit.theta, grown_from.fit.model, model)
        theta, nll, g, h = fit_theta(self.arrays, model, start)
        fit = summarise_fit(theta, nll, g, h, model, self.data, self.confidence)
        k = len(model.parameters)
        cand = ModelCandidate(fit, 2 * nll + 2 * k, 2 * nll + k * math.log(max(self.trials, 2.0)))
        if grown_from is not None and set(grown_from.fit.model.parameters) < set(model.parameters) \
                and grown_from.fit.model.link == model.link:
            cand = dataclasses.replace(cand, parent=grown_from.label, **dict(zip(("lr_statistic", "lr_p_value"),
                                                                                  _lr_test(fit, grown_from.fit))))
        self.candidates.append(cand)
        return cand


def _identifiable(data, model) -> str:
    try:
        check_identifiable(data, model)
    except DataFileError as err:
        return str(err)
    return ""


def _swap_link(c: ModelCandidate, model: SwitchingModel) -> np.ndarray:
    start = c.fit.theta.copy()
    factor = _PROBIT_PER_LOGISTIC if model.link == "probit" else 1.0 / _PROBIT_PER_LOGISTIC
    start[FIT_INDEX["v_scale"]] += math.log(factor)
    return start


def _auto(fitter: _Fitter, skipped: list) -> list[str]:
    """Greedy forward selection by BIC along the nested family; returns the path, for the reason."""
    data = fitter.data
    fitter.fit(SwitchingModel("normalised"))
    logistic = fitter.fit(SwitchingModel("precession"))
    probit = SwitchingModel("precession", "probit")
    current = min((logistic, fitter.fit(probit, start=_swap_link(logistic, probit))), key=lambda c: c.bic)
    path = [f"start {current.label} (BIC {current.bic:.1f})"]
    while True:
        children = []
        for modifier in MODIFIERS:
            if modifier in current.fit.model.modifiers:
                continue
            model = current.fit.model.with_modifier(modifier)
            why = _identifiable(data, model)
            if why:
                skipped.append((model.name, why))
                continue
            children.append(fitter.fit(model, current))
        if not children:
            break
        best = min(children, key=lambda c: c.bic)
        if best.bic >= current.bic:
            path.append(f"no modifier lowers BIC (best {best.label}: dBIC {best.bic - current.bic:+.1f})")
            break
        added = (set(best.fit.model.modifiers) - set(current.fit.model.modifiers)).pop()
        path.append(f"+{added} "
                    f"(dBIC {best.bic - current.bic:+.1f}, LR {best.lr_statistic:.1f}, p = {best.lr_p_value:.2g})")
        current = best
    other = dataclasses.replace(current.fit.model, link="logistic" if current.fit.model.link == "probit" else "probit")
    fitter.fit(other, start=_swap_link(current, other))
    return path


def select_switching_model(data: SwitchingData, *, model: str = "auto", likelihood: str = "auto",
                           confidence: float = 0.95, seed: int = 0, bootstrap: int = 999) -> ModelSelection:
    """Fits candidate switching forms and chooses one (`cimjax device calibrate --model`).

    `model="auto"` fits today's form, the precession form with either link, then grows the
    precession form greedily (amplitude, floor, dephasing, vcma), each time adding the
    modifier that lowers BIC most, and finally tries the other link; the lowest BIC wins.
    A named model fits it and its nested parents. Likelihood: "binomial", "beta-binomial",
    or "auto": beta-binomial when replicate rows (one pulse, several rows) show
    over-dispersion at the 1% level (`replicate_dispersion`); without replicates excess
    variance cannot be told from lack of fit, so it stays binomial and the goodness of fit
    speaks. The chosen fit's goodness of fit is `goodness_of_fit` (bootstrap seeded by `seed`).

    Raises:
      ConfigError: an unknown model or likelihood, confidence outside (0, 1).
      DataFileError: no trials, or data that cannot identify a parameter of the named form.
    """
    if not 0 < confidence < 1:
        raise ConfigError(f"{confidence=} must be in (0, 1)")
    if likelihood not in LIKELIHOODS:
        raise ConfigError(f"{likelihood=} is not one of {LIKELIHOODS}")
    named = None if model == "auto" else parse_switching_model(model)
    if int(np.sum(data.trials)) == 0:
        raise DataFileError(f"{data.source}: no trials to fit")
    base = SwitchingModel("precession") if named is None else SwitchingModel(named.base, named.link)
    check_identifiable(data, base if named is None else named)
    if likelihood == "beta-binomial":
        check_identifiable(data, dataclasses.replace(named or base, beta_binomial=True))
    replicate = replicate_dispersion(data)
    skipped: list = []
    with jax.enable_x64(True):
        fitter = _Fitter(data, confidence)
        if named is None:
            path = _auto(fitter, skipped)
        else:
            previous = None
            for m in named.chain():
                previous = fitter.fit(m, previous)
            path = [f"fitted {named.name} as requested"]
        chosen = min(fitter.candidates, key=lambda c: c.bic) if named is None else fitter.candidates[-1]
        over = replicate[1] > 0 and replicate[2] < GOF_LEVEL
        if likelihood == "beta-binomial" or (likelihood == "auto" and over):
            bb = fitter.fit(dataclasses.replace(chosen.fit.model, beta_binomial=True), chosen)
            if likelihood == "beta-binomial" or bb.bic < chosen.bic:
                chosen = bb
                path.append(f"beta-binomial: replicate rows over-dispersed (chi2 {replicate[0]:.1f} on {replicate[1]} df, "
                            f"p = {replicate[2]:.2g}); rho = {bb.fit.estimates['overdispersion']:.3g}"
                            if likelihood == "auto" else "beta-binomial as requested")
    others = sorted((c for c in fitter.candidates if c is not chosen), key=lambda c: c.bic)
    reason = f"{'auto' if named is None else 'named'}: {'; '.join(path)}; chosen {chosen.label}, BIC {chosen.bic:.1f}"
    if named is None and others:
        gap = others[0].bic - chosen.bic
        reason += f", next {others[0].label} at dBIC {gap:+.1f} ({'strong' if gap > 10 else 'weak'} evidence)"
    gof = goodness_of_fit(chosen.fit, data, seed=seed, bootstrap=bootstrap)
    warnings = []
    if gof.p_value < GOF_LEVEL:
        warnings.append(f"{chosen.label} fails goodness of fit at the {GOF_LEVEL:.0%} level ({gof.statistic} "
                        f"{gof.value:.1f} on {gof.df} df, p = {gof.p_value:.2g} by {gof.method}; dispersion "
                        f"{gof.dispersion:.2f}): the form misses structure in the data (see --plot residuals), "
                        f"or the counts are over-dispersed (--likelihood beta-binomial)")
    if not chosen.fit.converged:
        warnings.append(f"{chosen.label}: the fit did not converge cleanly (flat or indefinite likelihood); widen the data")
    return ModelSelection(chosen.fit, tuple(fitter.candidates), reason, gof, replicate, tuple(warnings), tuple(skipped))
