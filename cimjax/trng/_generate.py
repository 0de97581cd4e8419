"""Stochastic bit streams from emulated P-bit arrays (Figs. 14-15).

Each device of the array gets its own switching curve (device-to-device spread of
P_sw, Fig. 13), is written `n_bits` times at one pulse (voltage, width) in reset or
toggle mode, and each resulting state is read out as a noisy conductance (Fig. 15).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cimjax.device import default_preset, pbit_bitstream, sample_pbit_curves
from cimjax.errors import ConfigError

MODES = ("reset", "toggle")


class PbitStreams(NamedTuple):
    """Bit streams of an emulated P-bit array.

    Attributes:
      bits: (devices, n_bits) uint8; 1 = the P-bit switched away from its initial (P) state.
      p_sw: (devices,) switching probability of each device at the pulse used.
      conductance: (devices, n_bits) float32 read-out conductance of each bit [S] (Fig. 15).
      mode: "reset" or "toggle".
    """

    bits: np.ndarray
    p_sw: np.ndarray
    conductance: np.ndarray
    mode: str


def generate_streams(key, n_devices: int, n_bits: int, *, voltage=None, width=None, mode: str = "reset",
                     preset=None, spread: bool = True, p_sw=None) -> PbitStreams:
    """Bit streams of `n_devices` P-bits read in parallel, `n_bits` write pulses each.

    Args:
      key: jax PRNG key; device i's stream depends only on (key, i, n_bits), not on n_devices.
      n_devices, n_bits: array size and pulses per device.
      voltage, width: write pulse [V], [s]; default the preset's calibrated P-bit pulse (Figs. 11-12).
      mode: "reset" (reset to P before each pulse: i.i.d. Bernoulli(P_sw)) or "toggle"
        (no reset: a Markov chain with lag-1 autocorrelation 1 - 2 P_sw).
      preset: a cimjax.device DevicePreset; default `default_preset()`.
      spread: draw each device's curve with the preset's spread (Fig. 13); False uses the nominal curve.
      p_sw: optional (devices,) or scalar switching probability overriding the curve (then
        voltage/width are ignored), for controlled experiments.

    Returns:
      PbitStreams. The read-out uses the preset's data-bit conductance model, as the P-bit
      is the same MTJ stack (assumption): per-device (G_P, G_AP) and cycle-to-cycle read noise.

    Raises:
      ConfigError: non-positive sizes, unknown mode, or p_sw outside [0, 1].
    """
    import jax
    import jax.numpy as jnp

    if int(n_devices) != n_devices or n_devices < 1:
        raise ConfigError(f"{n_devices=} must be a positive integer")
    if int(n_bits) != n_bits or n_bits < 1:
        raise ConfigError(f"{n_bits=} must be a positive integer")
    if mode not in MODES:
        raise ConfigError(f"{mode=} must be one of {MODES}")
    preset = default_preset() if preset is None else preset
    k_curve, k_bits, k_g, k_read = jax.random.split(key, 4)
    shape = (int(n_devices),)
    if p_sw is None:
        voltage = preset.calibrated_voltage if voltage is None else voltage
        width = preset.calibrated_width if width is None else width
        if not (np.isfinite(voltage) and np.isfinite(width) and width > 0):
            raise ConfigError(f"pulse {voltage=} and {width=} must be finite, width > 0")
        if spread:
            curve = sample_pbit_curves(k_curve, preset, shape)
            prob = curve.switching_probability(voltage, width)
        else:
            prob = jnp.broadcast_to(preset.pbit.switching_probability(voltage, width), shape)
    else:
        p = np.asarray(p_sw, dtype=np.float64)
        if p.ndim > 1 or (p.ndim == 1 and p.shape[0] != n_devices) or np.any(~((p >= 0) & (p <= 1))):
            raise ConfigError(f"p_sw must be a scalar or ({n_devices},) array of probabilities in [0, 1]")
        prob = jnp.broadcast_to(jnp.asarray(p, jnp.float32), shape)
    bits = pbit_bitstream(k_bits, prob, int(n_bits), mode=mode, initial_state=0)
    g_p, g_ap = preset.data_bit.sample_conductances(k_g, preset.read_voltage, shape)
    g = jnp.where(bits == 1, g_ap[:, None], g_p[:, None])
    g = preset.data_bit.read(k_read, g)
    return PbitStreams(np.asarray(bits, dtype=np.uint8), np.asarray(prob, dtype=np.float64),
                       np.asarray(g, dtype=np.float32), mode)
