"""Tabulated switching probability: interpolation over measured (V, t) points, and functional aliases."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from cimjax.errors import ConfigError
from cimjax.device._precession import PrecessionCurve
from cimjax.device._switching import SwitchingCurve, _broadcast, bisect


def _interp_weights(axis, x):
    """Left index and linear weight of x on a sorted axis, clamped to its ends."""
    x = jnp.clip(x, axis[0], axis[-1])
    i = jnp.clip(jnp.searchsorted(axis, x, side="right") - 1, 0, axis.shape[0] - 2)
    w = (x - axis[i]) / (axis[i + 1] - axis[i])
    return i, w


@struct.dataclass
class TableCurve:
    """Switching probability measured on a (voltage, width) grid, bilinearly interpolated.

    Replaces the closed form of `SwitchingCurve` where a user trusts measurements more than
    the model (issue 2, item 4). Outside the grid the nearest edge value is used.

    Attributes:
      voltages: strictly increasing pulse amplitudes [V], shape (Nv,), Nv >= 2.
      widths: strictly increasing pulse widths [s], shape (Nw,), Nw >= 2.
      probabilities: P_sw at each grid point, shape (Nv, Nw), values in [0, 1].
    """

    voltages: jax.Array
    widths: jax.Array
    probabilities: jax.Array

    @classmethod
    def create(cls, voltages, widths, probabilities) -> "TableCurve":
        """Builds a table after checking axes (strictly increasing, >= 2 points) and P in [0, 1]."""
        voltages, widths = np.asarray(voltages, float), np.asarray(widths, float)
        probabilities = np.asarray(probabilities, float)
        for name, axis in (("voltages", voltages), ("widths", widths)):
            if axis.ndim != 1 or axis.shape[0] < 2 or not np.all(np.diff(axis) > 0) or not np.all(np.isfinite(axis)):
                raise ConfigError(f"TableCurve: {name} must be 1-D, finite, strictly increasing, >= 2 points; got {axis!r}")
        if probabilities.shape != (voltages.shape[0], widths.shape[0]):
            raise ConfigError(f"TableCurve: {probabilities.shape=} must equal (len(voltages), len(widths))")
        bad = ~((probabilities >= 0) & (probabilities <= 1))
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ConfigError(f"TableCurve: probabilities[{i}, {j}]={probabilities[i, j]} outside [0, 1]")
        return cls(jnp.asarray(voltages, jnp.float32), jnp.asarray(widths, jnp.float32), jnp.asarray(probabilities, jnp.float32))

    @jax.jit
    def switching_probability(self, voltage, width) -> jax.Array:
        """Bilinear interpolation of the table at `voltage` [V], `width` [s]; broadcasts."""
        voltage, width = _broadcast(voltage, width)
        iv, wv = _interp_weights(self.voltages, voltage)
        it, wt = _interp_weights(self.widths, width)
        p = self.probabilities
        return ((1 - wv) * (1 - wt) * p[iv, it] + wv * (1 - wt) * p[iv + 1, it]
                + (1 - wv) * wt * p[iv, it + 1] + wv * wt * p[iv + 1, it + 1])

    @partial(jax.jit, static_argnames="iterations")
    def voltage_for_probability(self, p, width, iterations: int = 60) -> jax.Array:
        """Lowest amplitude in the table's range reaching `p` at `width` (bisection; NaN if none)."""
        p, width = _broadcast(p, width)
        lo = jnp.full(p.shape, self.voltages[0])
        hi = jnp.full(p.shape, self.voltages[-1])
        voltage = bisect(lambda v: self.switching_probability(v, width) < p, lo, hi, iterations)
        reachable = self.switching_probability(self.voltages[-1], width) >= p
        return jnp.where(reachable, voltage, jnp.nan)


Curve = SwitchingCurve | PrecessionCurve | TableCurve


def switching_probability(curve: Curve, voltage, width) -> jax.Array:
    """P_sw(V, t) of `curve` (functional alias of `curve.switching_probability`)."""
    return curve.switching_probability(voltage, width)


def _check_probability(p, name="p"):
    if isinstance(p, jax.core.Tracer):
        return
    arr = np.asarray(p, dtype=float)
    bad = ~((arr >= 0) & (arr <= 1))
    if bad.any():
        raise ConfigError(f"{name}={float(arr[bad].ravel()[0]):.6g} must be a probability in [0, 1]")


def pulse_for_probability(curve: Curve, p, width=None, *, voltage=None) -> jax.Array:
    """Pulse giving switching probability `p`: the amplitude [V] at `width`, or the width [s] at `voltage`.

    Exactly one of `width` and `voltage` is given. NaN where `p` is out of reach (e.g. p above
    the width factor at that width). Width solving needs a closed form (`SwitchingCurve`,
    `PrecessionCurve`).

    Raises:
      ConfigError: p outside [0, 1] or NaN; neither or both of width/voltage given.
    """
    _check_probability(p)
    if (width is None) == (voltage is None):
        raise ConfigError(f"pulse_for_probability: give exactly one of width= or voltage= (got {width=}, {voltage=})")
    if width is not None:
        return curve.voltage_for_probability(p, width)
    if not isinstance(curve, (SwitchingCurve, PrecessionCurve)):
        raise ConfigError("pulse_for_probability: solving for width needs a closed form (SwitchingCurve or PrecessionCurve)")
    return curve.width_for_probability(p, voltage)
