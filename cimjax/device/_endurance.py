"""Endurance: drift of the P-bit switching curve with the write cycles it has received (Fig. 19)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from cimjax.errors import ConfigError

# Fig. 19: 1e12 write cycles without significant conductance degradation. A demonstrated
# count, not a measured failure point (assumption: used as the rated endurance limit).
RATED_CYCLES = 1e12
DRIFTS = ("v50_per_decade", "v_scale_per_decade", "amplitude_per_decade")


@struct.dataclass
class Endurance:
    """How a P-bit's switching curve drifts with write cycles; no drift by default.

    What the paper shows (Fig. 19): the P-bits go through 1e12 write cycles without
    significant conductance degradation (stable R_P, R_AP and TMR). It shows no P_sw
    against cycles and no drift law. So every rate here defaults to 0, and a non-zero rate
    is an assumption the user supplies (from their own cycling data). The conductance side
    of wear is `DataBit.drift_per_decade`, with the same law in decades of cycles,
    d = log10(1 + n)::

        v50(n)       = v50 + v50_per_decade * d
        v_scale(n)   = v_scale * (1 + v_scale_per_decade * d)
        amplitude(n) = amplitude - amplitude_per_decade * d     (a PrecessionCurve's only)

    A drift that takes a parameter out of its domain (v_scale <= 0, amplitude outside
    (0, 1]) is refused with a ConfigError naming the parameter and the cycle count, never
    clamped; inside the domain every curve form keeps P_sw in [0, 1].

    Attributes:
      v50_per_decade: shift of v50 per decade of write cycles [V/decade] (0: none).
      v_scale_per_decade: relative change of v_scale per decade [1/decade] (0: none).
      amplitude_per_decade: loss of saturation amplitude per decade [1/decade] (0: none);
        only a `PrecessionCurve` has an amplitude.
      rated_cycles: write cycles the device is rated for (Fig. 19: 1e12; see RATED_CYCLES).
    """

    v50_per_decade: jax.Array = 0.0
    v_scale_per_decade: jax.Array = 0.0
    amplitude_per_decade: jax.Array = 0.0
    rated_cycles: float = struct.field(pytree_node=False, default=RATED_CYCLES)  # a count, kept in float64

    @classmethod
    def create(cls, v50_per_decade=0.0, v_scale_per_decade=0.0, amplitude_per_decade=0.0,
               rated_cycles=RATED_CYCLES) -> "Endurance":
        """Builds an endurance model after checking each field (finite scalars; rated_cycles > 0)."""
        values = dict(v50_per_decade=v50_per_decade, v_scale_per_decade=v_scale_per_decade,
                      amplitude_per_decade=amplitude_per_decade, rated_cycles=rated_cycles)
        for name, value in values.items():
            try:
                x = float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"Endurance: {name}={value!r} must be a number") from None
            if not math.isfinite(x) or (name == "rated_cycles" and x <= 0):
                raise ConfigError(f"Endurance: {name}={value!r} must be finite" + (" and > 0" if name == "rated_cycles"
                                                                                    else ""))
        return cls(**{k: float(v) if k == "rated_cycles" else jnp.float32(v) for k, v in values.items()})

    @property
    def drifts(self) -> bool:
        """Whether any rate is non-zero (concrete leaves only)."""
        return any(float(getattr(self, name)) != 0.0 for name in DRIFTS)

    def to_dict(self) -> dict:
        return {**{name: float(str(np.float32(getattr(self, name)))) for name in DRIFTS},
                "rated_cycles": float(self.rated_cycles)}


def check_cycles(cycles, name: str = "cycles") -> np.ndarray:
    """`cycles` as float64, after checking it is finite and >= 0 (ConfigError naming `name`)."""
    n = np.asarray(cycles, dtype=np.float64)
    if not np.all(np.isfinite(n)) or np.any(n < 0):
        raise ConfigError(f"{name}={cycles!r} must be finite and >= 0 (write cycles already on the P-bit)")
    return n


def curve_after_cycles(curve, endurance: Endurance | None, cycles):
    """The switching curve of a P-bit after `cycles` write cycles under `endurance` (Fig. 19).

    Args:
      curve: a `SwitchingCurve` or `PrecessionCurve` (leaves of device shape S); with no
        drift any curve (also a `TableCurve`) is returned as it is.
      endurance: the drift law; None or all rates 0: no drift.
      cycles: write cycles so far, scalar or broadcastable to S, finite and >= 0.

    Returns:
      The same curve type with v50, v_scale (and amplitude) moved by the law above; the very
      same object when nothing drifts, so P_sw is unchanged bit for bit.

    Raises:
      ConfigError: negative or non-finite cycles; a drift on a curve without that parameter;
        a drift that takes v_scale to <= 0 or the amplitude out of (0, 1] at these cycles.
    """
    n = check_cycles(cycles)
    if endurance is None or not endurance.drifts:
        return curve
    for name, field in (("v50_per_decade", "v50"), ("v_scale_per_decade", "v_scale"),
                        ("amplitude_per_decade", "amplitude")):
        if float(getattr(endurance, name)) != 0.0 and not hasattr(curve, field):
            raise ConfigError(f"Endurance: {name}={float(getattr(endurance, name)):g} needs a curve with a {field!r} "
                              f"parameter; {type(curve).__name__} has none (use a precession form)")
    decades = np.log10(1.0 + n)
    scale = 1.0 + float(endurance.v_scale_per_decade) * decades
    if np.any(scale <= 0):
        rate = float(endurance.v_scale_per_decade)
        raise ConfigError(f"Endurance: v_scale_per_decade={rate:g} takes v_scale to <= 0 from {_onset(-1.0 / rate)} "
                          f"cycles, and cycles={float(np.max(n)):g} were asked (1 + v_scale_per_decade * log10(1 + n) "
                          "must stay > 0); the drift is refused, not clamped")
    d = jnp.asarray(decades, jnp.float32)
    out = curve.replace(v50=curve.v50 + endurance.v50_per_decade * d,
                        v_scale=curve.v_scale * jnp.asarray(scale, jnp.float32))
    if float(endurance.amplitude_per_decade) != 0.0:
        amplitude = np.asarray(curve.amplitude, np.float64) - float(endurance.amplitude_per_decade) * decades
        if np.any(amplitude <= 0) or np.any(amplitude > 1):
            rate, a0 = float(endurance.amplitude_per_decade), np.asarray(curve.amplitude, np.float64)
            edge = float(np.min(a0 / rate if rate > 0 else (a0 - 1.0) / rate))  # decades to amplitude 0 (or 1)
            raise ConfigError(f"Endurance: amplitude_per_decade={rate:g} takes the amplitude out of (0, 1] from "
                              f"{_onset(edge)} cycles, and cycles={float(np.max(n)):g} were asked; the drift is "
                              "refused, not clamped")
        out = out.replace(amplitude=curve.amplitude - endurance.amplitude_per_decade * d)
    return out


def _onset(decades: float) -> str:
    """The cycle count n = 10^decades - 1 where a drifting parameter leaves its domain."""
    return f"{10.0 ** decades - 1.0:.3g}" if decades < 300 else "inf"
