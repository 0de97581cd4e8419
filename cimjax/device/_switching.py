"""P-bit switching probability P_sw(V, t) of a VCMA-MTJ: closed form (Figs. 11-12)."""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from cimjax.errors import ConfigError

# 10-90% window of a logistic sigmoid in units of its scale: logit(0.9) - logit(0.1) = 2 ln 9.
LOGISTIC_10_90 = 2.0 * math.log(9.0)


def _broadcast(*arrays):
    """Explicit numpy-rule broadcasting (tests run with rank promotion set to raise)."""
    arrays = [jnp.asarray(a) for a in arrays]
    shape = jnp.broadcast_shapes(*(a.shape for a in arrays))
    return [jnp.broadcast_to(a, shape) for a in arrays]


def bisect(below, lo, hi, iterations: int):
    """Midpoint after `iterations` bisection steps on [lo, hi], where `below(x)` is True left of
    the root and False right of it (elementwise; jit-friendly)."""

    def step(_, bounds):
        lo, hi = bounds
        mid = 0.5 * (lo + hi)
        left = below(mid)
        return jnp.where(left, mid, lo), jnp.where(left, hi, mid)

    lo, hi = jax.lax.fori_loop(0, iterations, step, (lo, hi))
    return 0.5 * (lo + hi)


@struct.dataclass
class SwitchingCurve:
    """Closed-form switching probability of a VCMA-MTJ P-bit under one write pulse.

    Physics (Fig. 3a, 11, 12). A write pulse of amplitude V lowers the perpendicular
    anisotropy through the VCMA effect; near the critical voltage the free layer loses
    its easy axis and precesses about the in-plane bias field. Two factors follow:

    * Amplitude: whether the anisotropy is removed far enough for a full half-turn is
      decided by the thermally fluctuating initial angle and barrier, a thermally
      activated event whose probability rises smoothly through a stochastic window;
      we take the logistic form sigma((V - v50) / v_scale), 50% at `v50` (1.5 V,
      Fig. 12), 10-90% window `2 ln 9 * v_scale` (about 1 V, Fig. 12).
    * Width: during the pulse the magnetisation precesses with period T; the pulse
      ends with it reversed with probability 1/2 (1 - exp(-t/tau) cos(2 pi t / T)):
      reversed after half a turn, back after a full one, and damping plus thermal
      dephasing of the precession phase relax the oscillation towards 1/2 with time
      constant tau (damped oscillation of Fig. 11).

    The width factor is normalised by its value at the first precession maximum,
    t_peak = (pi - arctan(T / (2 pi tau))) T / (2 pi), which is the calibrated width
    (700 ps, Fig. 11), so P_sw(v50, t_peak) = 1/2, and P_sw <= 1 everywhere because the
    first maximum of g is its largest (later ones are damped)::

        g(t)      = 1 - exp(-t / tau) cos(2 pi t / T)
        P_sw(V,t) = sigmoid((V - v50) / v_scale) * g(t) / g(t_peak)

    Assumption: the two factors separate (the window does not move with width). Use
    `TableCurve` where measurements say otherwise.

    Every field is a leaf; leaves of shape S describe S devices (device spread, Fig. 13).
    Build with `create` (validated) or `from_anchors`; the plain constructor checks nothing
    (JAX uses it to rebuild the PyTree).

    Attributes:
      v50: amplitude of 50% switching at the first precession peak [V], shape S.
      v_scale: logistic scale of the amplitude window [V], shape S (> 0).
      precession_period: precession period T [s], shape S (> 0).
      damping_time: decay time tau of the width oscillation [s], shape S (> 0).
    """

    v50: jax.Array
    v_scale: jax.Array
    precession_period: jax.Array
    damping_time: jax.Array

    @classmethod
    def create(cls, v50, v_scale, precession_period, damping_time) -> "SwitchingCurve":
        """Builds a curve after checking every parameter (finite; scales and times > 0)."""
        values = dict(v50=v50, v_scale=v_scale, precession_period=precession_period, damping_time=damping_time)
        for name, value in values.items():
            arr = np.asarray(value, dtype=float)
            if not np.all(np.isfinite(arr)):
                raise ConfigError(f"SwitchingCurve: {name}={value!r} must be finite")
            if name != "v50" and not np.all(arr > 0):
                raise ConfigError(f"SwitchingCurve: {name}={value!r} must be > 0")
        return cls(**{k: jnp.asarray(v, dtype=jnp.float32) for k, v in values.items()})

    @classmethod
    def from_anchors(cls, v50, window_10_90, first_peak_width, damping_time) -> "SwitchingCurve":
        """Builds a curve from the paper's anchors: 50% voltage, 10-90% window, first peak width."""
        if not (np.all(np.asarray(first_peak_width) > 0) and np.all(np.asarray(window_10_90) > 0)):
            raise ConfigError(f"{first_peak_width=} and {window_10_90=} must be > 0")
        period = precession_period_for_peak(first_peak_width, damping_time)
        return cls.create(v50, np.asarray(window_10_90) / LOGISTIC_10_90, period, damping_time)

    @property
    def shape(self) -> tuple[int, ...]:
        """Device shape S shared by the leaves."""
        return jnp.broadcast_shapes(*(jnp.shape(x) for x in jax.tree_util.tree_leaves(self)))

    @property
    def first_peak_width(self) -> jax.Array:
        """Width of the first precession maximum [s] (closed form; the calibrated width)."""
        omega = 2.0 * jnp.pi / self.precession_period
        return (jnp.pi - jnp.arctan(1.0 / (omega * self.damping_time))) / omega

    @property
    def window_10_90(self) -> jax.Array:
        """Voltage window from 10% to 90% of the amplitude sigmoid [V]."""
        return LOGISTIC_10_90 * self.v_scale

    def _g(self, width):
        omega = 2.0 * jnp.pi / self.precession_period
        return 1.0 - jnp.exp(-width / self.damping_time) * jnp.cos(omega * width)

    def _expand(self, *arrays):
        """Broadcasts `arrays` and every leaf to one shape (explicit: rank promotion may raise)."""
        arrays = [jnp.asarray(a, dtype=jnp.result_type(float)) for a in arrays]
        shape = jnp.broadcast_shapes(self.shape, *(a.shape for a in arrays))
        curve = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, shape), self)
        return curve, [jnp.broadcast_to(a, shape) for a in arrays]

    def width_factor(self, width) -> jax.Array:
        """g(t) / g(t_peak) in [0, 1]: the precessional factor of Fig. 11."""
        c, (width,) = self._expand(width)
        width = jnp.maximum(width, 0.0)
        return jnp.clip(c._g(width) / c._g(c.first_peak_width), 0.0, 1.0)

    def voltage_factor(self, voltage) -> jax.Array:
        """sigmoid((V - v50) / v_scale): the amplitude factor of Fig. 12."""
        c, (voltage,) = self._expand(voltage)
        return jax.nn.sigmoid((voltage - c.v50) / c.v_scale)

    def switching_probability(self, voltage, width) -> jax.Array:
        """P_sw for a pulse of `voltage` [V] and `width` [s]; broadcasts with the device shape."""
        return _switching_probability(self, voltage, width)

    @jax.jit
    def voltage_for_probability(self, p, width) -> jax.Array:
        """Pulse amplitude [V] giving probability `p` at `width`; NaN where p > max over V."""
        c, (p, width) = self._expand(p, width)
        q = p / c.width_factor(width)
        v = c.v50 + c.v_scale * (jnp.log(q) - jnp.log1p(-q))
        return jnp.where((q > 0) & (q < 1), v, jnp.nan)

    @partial(jax.jit, static_argnames="iterations")
    def width_for_probability(self, p, voltage, iterations: int = 60) -> jax.Array:
        """Shortest pulse width [s] giving `p` at `voltage` (bisection on the rising branch)."""
        c, (p, voltage) = self._expand(p, voltage)
        target = p / c.voltage_factor(voltage)
        hi = c.first_peak_width
        width = bisect(lambda t: c.width_factor(t) < target, jnp.zeros_like(hi), hi, iterations)
        return jnp.where((target > 0) & (target <= 1), width, jnp.nan)


@jax.jit
def _switching_probability(curve: SwitchingCurve, voltage, width) -> jax.Array:
    c, (voltage, width) = curve._expand(voltage, width)
    return c.voltage_factor(voltage) * c.width_factor(width)


def precession_period_for_peak(first_peak_width, damping_time) -> np.ndarray:
    """Precession period T [s] that puts the first maximum of g(t) at `first_peak_width`.

    Solves omega t_peak = pi - arctan(1 / (omega tau)) for omega = 2 pi / T by bisection
    on (0, pi / t_peak], where the left side minus the right changes sign.
    """
    t_peak, tau = np.broadcast_arrays(np.asarray(first_peak_width, float), np.asarray(damping_time, float))
    lo, hi = np.zeros_like(t_peak), np.pi / t_peak
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        f = mid * t_peak + np.arctan(1.0 / (mid * tau)) - np.pi
        lo, hi = np.where(f < 0, mid, lo), np.where(f < 0, hi, mid)
    return 2.0 * np.pi / (0.5 * (lo + hi))
