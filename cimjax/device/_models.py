"""Switching forms by name: the nested family of `PrecessionCurve` and the peak-normalised `SwitchingCurve`.

A form is a base ("normalised": today's `SwitchingCurve`; "precession": `PrecessionCurve`)
plus modifiers, each freeing one parameter of the precession form from its null value::

    precession[+probit][+amplitude][+floor][+dephasing][+vcma]

Every form of the precession family is nested in any form with more modifiers (the same
link), so a likelihood-ratio test compares a form with its parent.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from cimjax.errors import ConfigError, DataFileError

BASES = ("normalised", "precession")
# modifier -> (parameter it frees, null value, null on the boundary of the parameter space?)
MODIFIERS = {
    "amplitude": ("amplitude", 1.0, True),  # a <= 1: the null a = 1 is a boundary
    "floor": ("floor", 0.0, True),  # eps >= 0
    "dephasing": ("dephasing_time", math.inf, True),  # tau_phi -> inf
    "vcma": ("frequency_slope", 0.0, False),  # either sign is a valid curve: an interior null
}
SHAPES = ("probit",)  # a link swap: not nested, compared by AIC/BIC only
CORE = ("v50", "v_scale", "precession_period", "damping_time")
# Fit-space layout: one vector for every form (a form fixes the parameters it does not free).
FIT_PARAMETERS = CORE + tuple(p for p, _, _ in MODIFIERS.values()) + ("overdispersion",)
FIT_INDEX = {name: i for i, name in enumerate(FIT_PARAMETERS)}


@dataclasses.dataclass(frozen=True)
class SwitchingModel:
    """One switching form: its base, link, freed parameters and likelihood.

    Attributes:
      base: "normalised" (peak-normalised `SwitchingCurve`) or "precession" (`PrecessionCurve`).
      link: "logistic" or "probit" (amplitude factor S(V)).
      modifiers: freed modifiers, in the canonical order of MODIFIERS.
      beta_binomial: counts are beta-binomial (over-dispersed) rather than binomial; adds the
        intra-cell correlation `overdispersion`.
    """

    base: str = "normalised"
    link: str = "logistic"
    modifiers: tuple[str, ...] = ()
    beta_binomial: bool = False

    @property
    def name(self) -> str:
        """Canonical name, e.g. "precession+probit+amplitude"."""
        return "+".join((self.base,) + (("probit",) if self.link == "probit" else ()) + self.modifiers)

    @property
    def parameters(self) -> tuple[str, ...]:
        """Free parameters, in fit-space order (overdispersion last when beta-binomial)."""
        extra = tuple(MODIFIERS[m][0] for m in self.modifiers)
        return CORE + extra + (("overdispersion",) if self.beta_binomial else ())

    @property
    def mask(self) -> np.ndarray:
        """Which fit-space coordinates are free, bool (len(FIT_PARAMETERS),)."""
        return np.isin(np.array(FIT_PARAMETERS), self.parameters)

    @property
    def code(self) -> np.ndarray:
        """The form as a traced vector: `mask` then (probit, normalised), float64 (len(FIT_PARAMETERS) + 2,).

        Every form except the likelihood shares one compiled program (`beta_binomial` is static)."""
        return np.concatenate([self.mask, [self.link == "probit", self.base == "normalised"]]).astype(float)

    def with_modifier(self, modifier: str) -> "SwitchingModel":
        order = [m for m in MODIFIERS if m in self.modifiers or m == modifier]
        return dataclasses.replace(self, modifiers=tuple(order))

    @property
    def binomial(self) -> "SwitchingModel":
        """The same form with the binomial likelihood."""
        return dataclasses.replace(self, beta_binomial=False)

    def chain(self) -> list["SwitchingModel"]:
        """The nested chain from the base form to this one (each one modifier more)."""
        parent = self.binomial if self.beta_binomial else self.parent()
        return ([] if parent is None else parent.chain()) + [self]

    def parent(self) -> "SwitchingModel | None":
        """The nested form with the last modifier removed (None for a base)."""
        if not self.modifiers:
            return None
        return dataclasses.replace(self, modifiers=self.modifiers[:-1])


def parse_switching_model(name: str) -> SwitchingModel:
    """The form called `name` ("normalised", "precession+amplitude+vcma", ...).

    Raises:
      ConfigError: an unknown base or modifier (lists the known ones), a repeated modifier,
        or a modifier on the normalised form (today's form has none).
    """
    parts = [p.strip().lower() for p in str(name).split("+")]
    known = f"a base {BASES} followed by '+'-joined modifiers {SHAPES + tuple(MODIFIERS)}"
    if parts[0] not in BASES:
        raise ConfigError(f"unknown switching model {name!r}: expected {known}, or 'auto'")
    rest = parts[1:]
    for p in rest:
        if p not in MODIFIERS and p not in SHAPES:
            raise ConfigError(f"unknown switching model {name!r}: modifier {p!r} is not one of {SHAPES + tuple(MODIFIERS)}")
        if rest.count(p) > 1:
            raise ConfigError(f"switching model {name!r}: modifier {p!r} given twice")
    if parts[0] == "normalised" and rest:
        raise ConfigError(f"switching model {name!r}: the normalised form (SwitchingCurve) takes no modifiers; "
                          f"use precession+{'+'.join(rest)}")
    return SwitchingModel(parts[0], "probit" if "probit" in rest else "logistic",
                          tuple(m for m in MODIFIERS if m in rest))


def check_identifiable(data, model: SwitchingModel) -> None:
    """Raises DataFileError naming the first parameter of `model` that `data` cannot determine.

    Counting rules (each a minimum, not a guarantee): v50 and v_scale need two voltages; a
    damped oscillation (period, damping, level) three widths; the amplitude three and the
    floor four voltages (one more level each along V); dephasing a fourth width (a second
    envelope time); frequency_slope a period at two voltages, so two voltages with three
    widths each; the overdispersion a row with two or more trials; in all, at least as
    many distinct pulses as free parameters; some switching, but not on every pulse; and not a
    sharp step in voltage (no pulse switching only sometimes, none below and all above a voltage).
    """
    where = f"{data.source}: model {model.name!r}"
    voltages, widths = np.unique(data.voltage), np.unique(data.width)
    pulses = {(float(v), float(t)) for v, t in zip(data.voltage, data.width)}
    need_v = 2 + ("amplitude" in model.modifiers) + ("floor" in model.modifiers)
    need_t = 3 + ("dephasing" in model.modifiers)
    if len(voltages) < 2:
        raise DataFileError(f"{where}: v_scale: every row has voltage={voltages[0]:g} V; a single voltage cannot "
                            f"separate v50 from v_scale (needs >= 2 distinct voltages)")
    if len(widths) < 3:
        raise DataFileError(f"{where}: precession_period: {len(widths)} distinct width(s) {widths.tolist()} cannot fit a "
                            f"precession period and damping time (a damped oscillation needs >= 3 distinct widths)")
    for modifier, count, need, axis in (("amplitude", len(voltages), need_v - ("floor" in model.modifiers), "voltages"),
                                        ("floor", len(voltages), need_v, "voltages"),
                                        ("dephasing", len(widths), need_t, "widths")):
        if modifier in model.modifiers and count < need:
            raise DataFileError(f"{where}: {MODIFIERS[modifier][0]}: {count} distinct {axis} cannot separate it "
                                f"from the other levels (needs >= {need})")
    if "vcma" in model.modifiers:
        rich = [v for v in voltages if len(np.unique(data.width[data.voltage == v])) >= 3]
        if len(rich) < 2:
            raise DataFileError(f"{where}: frequency_slope: the precession period must be seen at two voltages, but "
                                f"only {len(rich)} voltage(s) have >= 3 distinct widths")
    if model.beta_binomial and not np.any(data.trials >= 2):
        raise DataFileError(f"{where}: overdispersion: every row has trials <= 1; extra-binomial variance needs rows "
                            f"with >= 2 trials")
    if len(pulses) < len(model.parameters):
        raise DataFileError(f"{where}: {len(pulses)} distinct pulses (voltage, width) < {len(model.parameters)} "
                            f"parameters {model.parameters}")
    measured = data.trials > 0
    for never, what in ((data.switched[measured] == 0, "no pulse switched"),
                        (data.switched[measured] == data.trials[measured], "every pulse switched")):
        if never.size and np.all(never):
            raise DataFileError(f"{where}: v50: {what} in any row (P_sw is {0 if what[0] == 'n' else 1} at every "
                                f"pulse), so the switching curve has no level to fit; measure pulses where the "
                                f"device switches only sometimes")
    _check_transition_resolved(data, where)


def _check_transition_resolved(data, where: str) -> None:
    """A sharp step in voltage (every pulse switched on none or on all of its trials, and every
    none-pulse at a lower voltage than every all-pulse) has no finite fit: v_scale runs to 0 and
    v50 is anywhere between the two levels, so the intervals are nan. Rows of one pulse are pooled."""
    measured = data.trials > 0
    keys = np.stack([data.voltage[measured], data.width[measured]], axis=1)
    pulses, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = np.ravel(inverse)
    k = np.bincount(inverse, weights=data.switched[measured].astype(float), minlength=len(pulses))
    n = np.bincount(inverse, weights=data.trials[measured].astype(float), minlength=len(pulses))
    none, every = k == 0, k == n
    if not (np.all(none | every) and none.any() and every.any()):
        return
    lo, hi = pulses[none, 0].max(), pulses[every, 0].min()
    if lo >= hi:
        return  # not a step in voltage (e.g. the width decides): left to the fit
    raise DataFileError(f"{where}: v_scale: the switching transition is not resolved: no pulse (voltage, width) "
                        f"switched on some but not all of its trials (none switched up to {lo:g} V, all from "
                        f"{hi:g} V), so v50 is only bracketed and v_scale has no finite fit; measure pulses inside "
                        f"the transition, where the device switches only sometimes")
