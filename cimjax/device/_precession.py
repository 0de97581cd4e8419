"""General precessional switching P_sw(V, t) of a VCMA-MTJ: amplitude, floor, dephasing, VCMA frequency."""

from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from jax.scipy.special import ndtr, ndtri

from cimjax.errors import ConfigError
from cimjax.device._switching import bisect

LINKS = ("logistic", "probit")
# Below this fraction of the v50 value of omega^2 the in-plane state is not stable: no precession.
_MIN_OMEGA_SQUARED = 1e-6


def precession_terms(v, t, v50, v_scale, period, damping, amplitude, one_minus_amplitude, floor,
                     one_minus_floor, dephasing_rate, slope, probit):
    """(P_sw, 1 - P_sw) of the general form, each a sum of non-negative terms (no cancellation).

    Shared by `PrecessionCurve` and the likelihood of the calibration, so both evaluate one
    formula. Times may be in any unit common to t, period and damping; `dephasing_rate` is
    1 / tau_phi^2 in that unit, `slope` the fractional change of omega^2 per volt.
    """
    z = (v - v50) / v_scale
    s_up = jnp.where(probit, ndtr(z), jax.nn.sigmoid(z))
    s_down = jnp.where(probit, ndtr(-z), jax.nn.sigmoid(-z))
    omega = 2.0 * jnp.pi / period * jnp.sqrt(jnp.maximum(1.0 + slope * (v - v50), _MIN_OMEGA_SQUARED))
    c = jnp.exp(-t / damping - 0.5 * t * t * dephasing_rate) * jnp.cos(omega * t)
    w_up, w_down = 0.5 * (1.0 - c), 0.5 * (1.0 + c)
    sw = s_up * w_up
    not_sw = w_down + w_up * s_down  # 1 - S W, summed without cancellation
    return floor * not_sw + amplitude * sw, one_minus_floor * not_sw + one_minus_amplitude * sw


@struct.dataclass
class PrecessionCurve:
    """Switching probability of a VCMA-MTJ P-bit: damped, dephased precession with VCMA frequency.

    Physics (Figs. 3a, 11, 12). A write pulse of amplitude V lowers the perpendicular
    anisotropy (VCMA); once it is low enough the free layer precesses about the in-plane
    bias field for the pulse width t and relaxes, after the pulse, to the nearer state::

        P_sw(V, t) = floor + (amplitude - floor) * S(V) * W(V, t)
        S(V)       = sigmoid(z) (logistic) or Phi(z) (probit),  z = (V - v50) / v_scale
        W(V, t)    = (1 - E(t) cos(omega(V) t)) / 2
        E(t)       = exp(-t / damping_time - (t / dephasing_time)^2 / 2)
        omega(V)^2 = (2 pi / precession_period)^2 * (1 + frequency_slope * (V - v50))

    * S(V), the amplitude factor: whether the barrier is lowered enough for precession at
      all. Logistic is thermal activation over a barrier linear in V; probit is a critical
      voltage spread normally across the thermal ensemble (v_scale its sigma). v50 is the
      50% point of S, not of P_sw.
    * W(V, t): the reversed fraction (1 - <m_z>)/2 of the ensemble after precessing for t
      (assumption: the post-pulse relaxation picks the reversed state with probability
      (1 - m_z)/2). Long pulses relax to 1/2 and the first peak is (1 + E(t_peak))/2 < 1,
      not 1: the envelope, not a normalisation, sets the peak height.
    * E(t): Gilbert damping (exponential, time damping_time = 1/(alpha omega) for a
      macrospin) times thermal dephasing: with omega spread normally (sigma = 1 /
      dephasing_time) over the ensemble, <cos(omega t)> = exp(-(t/dephasing_time)^2/2)
      cos(omega_0 t) (the normal characteristic function).
    * omega(V): the Kittel frequency about the in-plane bias field H_x, omega =
      gamma mu0 sqrt(H_x (H_x - H_k(V))), with the effective anisotropy field lowered
      linearly by VCMA, H_k(V) = H_k(v50) - eta (V - v50) (Maruyama et al., Nat.
      Nanotechnol. 4, 158 (2009); precessional VCMA switching with a bias field: Shiota et
      al., Nat. Mater. 11, 39 (2012); Kanai et al., APL 101, 122403 (2012)). So omega^2 is
      linear in V, frequency_slope = eta / (H_x - H_k(v50)) > 0: higher V precesses faster,
      the peak moves to shorter widths and, at a fixed width, P_sw falls again at high V
      (over-rotation). Assumption: the small-angle Kittel frequency stands for the
      large-angle switching orbit (their ratio is absorbed in precession_period); below
      V = v50 - 1/frequency_slope the in-plane state is unstable and omega is held near 0.
    * amplitude <= 1: the write-error floor 1 - amplitude; floor >= 0: switching without
      precession (e.g. thermal or read disturb).

    Nested forms: amplitude = 1, floor = 0, dephasing_time = inf and frequency_slope = 0
    give the plain damped precession; `SwitchingCurve` is the older peak-normalised form.
    Leaves of shape S describe S devices. Build with `create` (validated).

    Attributes:
      v50: 50% point of the amplitude factor S [V].
      v_scale: scale of S [V] (> 0).
      precession_period: precession period at v50 [s] (> 0).
      damping_time: Gilbert decay time of the precession [s] (> 0).
      amplitude: saturation level a in (0, 1].
      floor: floor eps in [0, 1).
      dephasing_time: Gaussian dephasing time [s] (> 0; inf: none).
      frequency_slope: d ln(omega^2) / dV at v50 [1/V] (0: omega independent of V).
      link: "logistic" or "probit" (static).
    """

    v50: jax.Array
    v_scale: jax.Array
    precession_period: jax.Array
    damping_time: jax.Array
    amplitude: jax.Array = 1.0
    floor: jax.Array = 0.0
    dephasing_time: jax.Array = math.inf
    frequency_slope: jax.Array = 0.0
    link: str = struct.field(pytree_node=False, default="logistic")

    @classmethod
    def create(cls, v50, v_scale, precession_period, damping_time, amplitude=1.0, floor=0.0,
               dephasing_time=math.inf, frequency_slope=0.0, link="logistic") -> "PrecessionCurve":
        """Builds a curve after checking every parameter (names the first bad one)."""
        if link not in LINKS:
            raise ConfigError(f"PrecessionCurve: {link=} must be one of {LINKS}")
        values = dict(v50=v50, v_scale=v_scale, precession_period=precession_period, damping_time=damping_time,
                      amplitude=amplitude, floor=floor, dephasing_time=dephasing_time, frequency_slope=frequency_slope)
        checks = {"v_scale": (0, math.inf), "precession_period": (0, math.inf), "damping_time": (0, math.inf),
                  "dephasing_time": (0, math.inf), "amplitude": (0, 1), "floor": (0, 1)}
        for name, value in values.items():
            arr = np.asarray(value, dtype=float)
            if np.any(np.isnan(arr)) or (name != "dephasing_time" and not np.all(np.isfinite(arr))):
                raise ConfigError(f"PrecessionCurve: {name}={value!r} must be finite")
            lo, hi = checks.get(name, (-math.inf, math.inf))
            ok = (arr > lo) & (arr <= hi) if name != "floor" else (arr >= lo) & (arr < hi)
            if not np.all(ok):
                raise ConfigError(f"PrecessionCurve: {name}={value!r} must be in "
                                  f"{'[' if name == 'floor' else '('}{lo}, {hi}{')' if name == 'floor' else ']'}")
        return cls(**{k: jnp.asarray(v, dtype=jnp.float32) for k, v in values.items()}, link=link)

    @property
    def shape(self) -> tuple[int, ...]:
        """Device shape S shared by the leaves."""
        return jnp.broadcast_shapes(*(jnp.shape(x) for x in jax.tree_util.tree_leaves(self)))

    @property
    def window_10_90(self) -> jax.Array:
        """Voltage window from 10% to 90% of the amplitude factor S [V]."""
        per_scale = 2.0 * math.log(9.0) if self.link == "logistic" else 2.0 * float(ndtri(0.9))
        return per_scale * self.v_scale

    def _expand(self, *arrays):
        """Broadcasts `arrays` and every leaf to one shape (explicit: rank promotion may raise)."""
        arrays = [jnp.asarray(a, dtype=jnp.result_type(float)) for a in arrays]
        shape = jnp.broadcast_shapes(self.shape, *(a.shape for a in arrays))
        curve = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, shape), self)
        return curve, [jnp.broadcast_to(a, shape) for a in arrays]

    def _terms(self, voltage, width):
        c = self
        return precession_terms(voltage, jnp.maximum(width, 0.0), c.v50, c.v_scale, c.precession_period,
                                c.damping_time, c.amplitude, 1.0 - c.amplitude, c.floor, 1.0 - c.floor,
                                1.0 / c.dephasing_time**2, c.frequency_slope, self.link == "probit")

    def omega(self, voltage) -> jax.Array:
        """Precession angular frequency omega(V) [rad/s]."""
        c, (voltage,) = self._expand(voltage)
        ratio = jnp.maximum(1.0 + c.frequency_slope * (voltage - c.v50), _MIN_OMEGA_SQUARED)
        return 2.0 * jnp.pi / c.precession_period * jnp.sqrt(ratio)

    def switching_probability(self, voltage, width) -> jax.Array:
        """P_sw for a pulse of `voltage` [V] and `width` [s]; broadcasts with the device shape."""
        return _switching_probability(self, voltage, width)

    @property
    def first_peak_width(self) -> jax.Array:
        """Width of the first maximum over width at v50 [s] (`peak_width(v50)`)."""
        return self.peak_width(self.v50)

    @partial(jax.jit, static_argnames="iterations")
    def peak_width(self, voltage, iterations: int = 60) -> jax.Array:
        """Width of the first maximum of W(V, t) [s]: the root of omega t = pi - arctan(r(t) / omega),
        r(t) = 1/damping_time + t/dephasing_time^2, by bisection on [pi/(2 omega), pi/omega]."""
        c, (voltage,) = self._expand(voltage)
        omega = c.omega(voltage)
        rate = 1.0 / c.dephasing_time**2
        below = lambda t: omega * t + jnp.arctan((1.0 / c.damping_time + t * rate) / omega) < jnp.pi  # noqa: E731
        return bisect(below, 0.5 * jnp.pi / omega, jnp.pi / omega, iterations)

    @partial(jax.jit, static_argnames=("points", "iterations"))
    def voltage_for_probability(self, p, width, points: int = 512, iterations: int = 50) -> jax.Array:
        """Lowest amplitude [V] giving probability `p` at `width` (over-rotation makes P_sw(V) rise
        and fall: the first crossing on a grid over v50 +- 12 v_scale, refined by bisection); NaN if none."""
        c, (p, width) = self._expand(p, width)
        grid = c.v50 + c.v_scale * jnp.linspace(-12.0, 12.0, points).reshape((points,) + (1,) * p.ndim)
        above = c.switching_probability(grid, width) >= p
        i = jnp.argmax(above, axis=0)
        lo = jnp.take_along_axis(grid, jnp.maximum(i - 1, 0)[None], axis=0)[0]
        hi = jnp.take_along_axis(grid, i[None], axis=0)[0]
        voltage = bisect(lambda v: c.switching_probability(v, width) < p, lo, hi, iterations)
        return jnp.where(jnp.any(above, axis=0) & (i > 0), voltage, jnp.nan)

    @partial(jax.jit, static_argnames="iterations")
    def width_for_probability(self, p, voltage, iterations: int = 60) -> jax.Array:
        """Shortest width [s] giving `p` at `voltage` (bisection on the rising branch, up to the first peak)."""
        c, (p, voltage) = self._expand(p, voltage)
        hi = c.peak_width(voltage)
        reachable = (c.switching_probability(voltage, hi) >= p) & (c.switching_probability(voltage, 0.0) <= p)
        width = bisect(lambda t: c.switching_probability(voltage, t) < p, jnp.zeros_like(hi), hi, iterations)
        return jnp.where(reachable, width, jnp.nan)


@jax.jit
def _switching_probability(curve: PrecessionCurve, voltage, width) -> jax.Array:
    c, (voltage, width) = curve._expand(voltage, width)
    return c._terms(voltage, width)[0]


@struct.dataclass
class BidirectionalCurve:
    """P-bit curves for the two switching directions, which the stray field of the reference
    layer makes differ: it adds to the bias on one side and subtracts on the other.

    In a differential pair the P-bit is reset to its data-bit's state, so the + and - cells
    switch in opposite directions (P -> AP from P, AP -> P from AP).

    Attributes:
      p_to_ap: curve of a P-bit starting in P (state 0).
      ap_to_p: curve of a P-bit starting in AP (state 1).
    """

    p_to_ap: PrecessionCurve
    ap_to_p: PrecessionCurve

    def switching_probability(self, voltage, width, start_state) -> jax.Array:
        """P_sw of a pulse on a P-bit in `start_state` (0 = P, 1 = AP, per cell); broadcasts."""
        start_state = jnp.asarray(start_state)
        p = self.p_to_ap.switching_probability(voltage, width)
        q = self.ap_to_p.switching_probability(voltage, width)
        p, q, start_state = (jnp.broadcast_to(a, jnp.broadcast_shapes(p.shape, q.shape, start_state.shape))
                             for a in (p, q, start_state))
        return jnp.where(start_state == 1, q, p)
