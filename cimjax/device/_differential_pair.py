"""Differential pair of two VCMA-MTJs: three conductance states (Fig. 9) and the probabilistic pair (Fig. 3b/3c)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from cimjax.device._data_bit import DataBit

# Device state encoding used throughout cimjax.device.
P_STATE = 0  # parallel: low resistance, conductance G_P
AP_STATE = 1  # antiparallel: high resistance, conductance G_AP

# The three output states of Fig. 9 as (left, right) device states; the zero state has two
# realisations with different spreads.
STATES = {"+dG": (P_STATE, AP_STATE), "0 (P,P)": (P_STATE, P_STATE), "0 (AP,AP)": (AP_STATE, AP_STATE), "-dG": (AP_STATE, P_STATE)}


def pair_output(data_bit_state, pbit_state) -> jax.Array:
    """Signed output of a probabilistic differential pair, in units of dG = G_P - G_AP.

    Convention (Fig. 3b/3c; the crossbar layer relies on it): the cell's output current is
    I = V_read (G(data_bit) - G(pbit)), data-bit on the positive line, P-bit on the negative.

    * data-bit P (0), P-bit P (0): 0        * data-bit P (0),  P-bit AP (1): +1 (+dG)
    * data-bit AP (1), P-bit AP (1): 0      * data-bit AP (1), P-bit P (0):  -1 (-dG)

    i.e. output = pbit_state - data_bit_state. A weight of sign +1 is stored as data-bit P,
    sign -1 as data-bit AP. Before each read the P-bit is reset to the data-bit's state
    (output 0) and one write pulse switches it with probability P_sw(V, t); a switched P-bit
    makes the output the signed weight, so the cell KEEPS its weight with probability P_sw
    and drops it (output 0) with probability 1 - P_sw: MC dropconnect in situ.

    Args:
      data_bit_state, pbit_state: integer arrays of 0 (P) / 1 (AP), broadcast together.

    Returns:
      int8 array of -1, 0, +1.
    """
    d, p = jnp.broadcast_arrays(jnp.asarray(data_bit_state), jnp.asarray(pbit_state))
    return p.astype(jnp.int8) - d.astype(jnp.int8)


def data_bit_state_for_sign(sign) -> jax.Array:
    """Data-bit state storing a weight of `sign` (+1 -> P (0), -1 -> AP (1)); inverse of pair_output."""
    return jnp.where(jnp.asarray(sign) < 0, AP_STATE, P_STATE).astype(jnp.uint8)


@struct.dataclass
class DifferentialPair:
    """Two VCMA-MTJs read differentially: output G_left - G_right (Fig. 9, 20).

    With two data-bits the three states are +dG (P, AP), 0 (P, P or AP, AP) and -dG (AP, P);
    with one data-bit (left) and one P-bit (right) it is the probabilistic differential pair
    (see `pair_output` for the exact mapping).

    Attributes:
      data_bit: the device model of both junctions.
      read_voltage: read bias [V].
    """

    data_bit: DataBit
    read_voltage: jax.Array

    @property
    def delta_g(self) -> jax.Array:
        """Nominal dG = G_P - G_AP [S] at the read voltage."""
        g_p, g_ap = self.data_bit.conductances(self.read_voltage)
        return g_p - g_ap

    def state_statistics(self) -> dict[str, tuple[jax.Array, jax.Array]]:
        """Exact mean and standard deviation [S] of each state's output within one array.

        Both devices vary independently (device, TMR and read noise; the array factor is
        common within an array and held at its median), so the variances add.
        """
        moments = self.data_bit.lognormal_moments(self.read_voltage)
        out = {}
        for name, (left, right) in STATES.items():
            (m_l, v_l), (m_r, v_r) = moments[left], moments[right]
            out[name] = (m_l - m_r, jnp.sqrt(v_l + v_r))
        return out

    def programming_spread(self) -> jax.Array:
        """Relative standard deviation of a programmed +-dG pair's output over one array's devices.

        The two devices vary independently: a lognormal device factor (sigma_device, Fig. 8) on
        both and a TMR factor (sigma_tmr, Fig. 7) on the AP one. With the lognormal moments
        E[G] = g exp(s^2 / 2), Var[G] = g^2 exp(s^2) (exp(s^2) - 1) (s^2 = sigma_device^2 for
        P, sigma_device^2 + sigma_tmr^2 for AP)::

            sd / mean = sqrt(Var G_P + Var G_AP) / (E G_P - E G_AP)
                     ~ sqrt(sigma_device^2 G_P^2 + (sigma_device^2 + sigma_tmr^2) G_AP^2) / (G_P - G_AP)

        (first order). The array factor (sigma_array) is one gain shared by every cell of an
        array, not a spread between its cells, and is left out.
        """
        (m_p, v_p), (m_ap, v_ap) = self._device_moments()
        return jnp.sqrt(v_p + v_ap) / (m_p - m_ap)

    def read_noise_spread(self) -> jax.Array:
        """Standard deviation of one read's noise on a pair's output, relative to its mean dG (Fig. 15).

        Each read multiplies each device's conductance by (1 + sigma_read e), e ~ N(0, 1)
        independently, so a pair reading (G_L, G_R) has noise std sigma_read sqrt(G_L^2 + G_R^2):
        sqrt(G_P^2 + G_AP^2) in the +-dG states, and the same on average over the two zero
        states (P, P) and (AP, AP) when they are equally common (weights of either sign), so
        one value serves every cell whatever its keep probability. Over the devices::

            sigma_read sqrt(E[G_P^2] + E[G_AP^2]) / (E G_P - E G_AP)
        """
        (m_p, v_p), (m_ap, v_ap) = self._device_moments()
        return self.data_bit.sigma_read * jnp.sqrt(v_p + m_p * m_p + v_ap + m_ap * m_ap) / (m_p - m_ap)

    def _device_moments(self):
        """((mean, var) of G_P, of G_AP) [S] over one array's devices, without read noise."""
        quiet = self.data_bit.replace(sigma_read=jnp.zeros_like(self.data_bit.sigma_read))
        return quiet.lognormal_moments(self.read_voltage)

    def read_margin_sigma(self) -> jax.Array:
        """Smallest gap between adjacent states over the larger of their standard deviations.

        Adjacent pairs: +dG against each zero realisation, each zero against -dG (Fig. 9).
        """
        s = self.state_statistics()
        gaps = []
        for zero in ("0 (P,P)", "0 (AP,AP)"):
            for hi, lo in (("+dG", zero), (zero, "-dG")):
                gaps.append((s[hi][0] - s[lo][0]) / jnp.maximum(s[hi][1], s[lo][1]))
        return jnp.min(jnp.stack(gaps))

    def sample_outputs(self, key, left_state, right_state, n_arrays: int | None = None) -> jax.Array:
        """One read of pairs in the given device states, with all variation [S].

        For the probabilistic pair pass left = data-bit state, right = P-bit state; the sign
        then matches `pair_output` (output ~ pair_output * dG).

        Args:
          key: PRNG key.
          left_state, right_state: 0/1 arrays of one shape S (device states of each pair).
          n_arrays: as in `DataBit.sample_conductances`.

        Returns:
          Output conductances G_left - G_right, shape S or (n_arrays, *S).
        """
        left_state, right_state = jnp.broadcast_arrays(jnp.asarray(left_state), jnp.asarray(right_state))
        shape = left_state.shape
        k_left, k_right, k_read_l, k_read_r = jax.random.split(key, 4)
        # Independent devices, one array factor per array shared by both (same key for z_a).
        k_arr = jax.random.fold_in(key, 7)
        gl = self._sample_side(k_left, k_arr, shape, n_arrays, left_state)
        gr = self._sample_side(k_right, k_arr, shape, n_arrays, right_state)
        return self.data_bit.read(k_read_l, gl) - self.data_bit.read(k_read_r, gr)

    def _sample_side(self, key, key_array, shape, n_arrays, state):
        no_array = self.data_bit.replace(sigma_array=jnp.zeros_like(self.data_bit.sigma_array))
        g_p, g_ap = no_array.sample_conductances(key, self.read_voltage, shape, n_arrays)
        lead = g_p.shape[: g_p.ndim - len(shape)]
        z_arr = jax.random.normal(key_array, lead + (1,) * len(shape))
        state = jnp.broadcast_to(state, g_p.shape)
        return jnp.where(state == AP_STATE, g_ap, g_p) * jnp.exp(-self.data_bit.sigma_array * z_arr)
