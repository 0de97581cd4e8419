"""Per-cell P-bit keep probabilities: P_sw(V, t) of each cell's P-bit (Figs. 11-13)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from cimjax.crossbar._config import CrossbarConfig, PbitConfig
from cimjax.crossbar._mapping import STREAM_PBIT_SPREAD, config_constant, programming_key
from cimjax.device import DIRECTIONS, device_preset, sample_pbit_curves
from cimjax.errors import ConfigError

__all__ = ["keep_probability", "nominal_keep_probability"]


def _write_pulse(pbit: PbitConfig):
    """(device preset, voltage, width) of the P-bits' write: the device's calibrated pulse unless set."""
    preset = device_preset(pbit.device)
    voltage = preset.calibrated_voltage if pbit.voltage is None else pbit.voltage
    width = preset.calibrated_width if pbit.width is None else pbit.width
    return preset, voltage, width


def nominal_keep_probability(pbit: PbitConfig) -> float:
    """Nominal keep probability: `keep_prob`, 1 when off, else P_sw(V, t) of the nominal P-bit
    (for a two-direction device, the mean of its P -> AP and AP -> P curves)."""
    if pbit.mode == "off":
        return 1.0
    if pbit.keep_prob is not None:
        return float(pbit.keep_prob)
    p_to_ap, ap_to_p = direction_probabilities(pbit)
    return 0.5 * (p_to_ap + ap_to_p)


def direction_probabilities(pbit: PbitConfig) -> tuple[float, float]:
    """Nominal P_sw (P -> AP, AP -> P) of the device at the write pulse (equal for a one-direction device)."""
    preset, voltage, width = _write_pulse(pbit)
    p_to_ap, ap_to_p = (float(preset.direction_curve(d).switching_probability(voltage, width)) for d in DIRECTIONS)
    return p_to_ap, ap_to_p


def keep_probability(config: CrossbarConfig, shape: tuple[int, int], cells: jax.Array | None = None) -> jax.Array:
    """Keep probabilities (N, M') float32 of every cell for the configured write pulse.

    `pbit.keep_prob` overrides the device. Otherwise each P-bit's curve is drawn with the
    device's spread (Fig. 13) from the programming seed when `spread`, or the nominal
    curve is used, at (voltage, width) = the device's calibrated pulse (1.5 V, 700 ps for
    the default preset, Figs. 11-12) unless set. The device is `pbit.device` (a preset or
    a calibration, `cimjax.device.device_preset`). Mode "off" keeps every cell. The device
    part depends on the configuration only, so it is evaluated once per (config, shape)
    and reused.

    Two switching directions (a device with `pbit_ap_to_p`): the P-bit is reset to its
    data-bit's state before each write (`cimjax.device.pair_output`), so a pair storing a
    weight >= 0 (data-bit P) switches P -> AP and one storing a weight < 0 (data-bit AP)
    switches AP -> P. The sign of each programmed cell picks its curve::

        p_cell = P_sw^{P->AP}(V, t) if c_cell >= 0 else P_sw^{AP->P}(V, t)

    with one spread draw per cell shared by its two curves (`sample_pbit_curves`).

    Args:
      config: the crossbar.
      shape: (N, M') cells.
      cells: (N, M') programmed pair outputs (`program_cells`); needed for a two-direction
        device, ignored otherwise.

    Raises:
      ConfigError: a two-direction device without `cells`.
    """
    pbit = config.pbit
    if pbit.mode == "off":
        return jnp.ones(shape, jnp.float32)
    if pbit.keep_prob is not None:
        return jnp.full(shape, pbit.keep_prob, jnp.float32)
    with jax.ensure_compile_time_eval():  # host-side, also while a read is being traced
        bidirectional = device_preset(pbit.device).bidirectional
    if not bidirectional:
        return config_constant(_device_keep_probability, config, shape)
    if cells is None or jnp.shape(cells) != tuple(shape):
        raise ConfigError(f"keep_probability: device {pbit.device!r} has two switching directions; pass the "
                          f"programmed cells (shape {tuple(shape)}) whose signs pick each cell's direction")
    plus, minus = (config_constant(fn, config, shape) for fn in _DIRECTION_FNS)
    return jnp.where(cells < 0, minus, plus)


def _device_keep_probability(config: CrossbarConfig, shape: tuple[int, int], direction: str = "p_to_ap") -> jax.Array:
    """P_sw of every cell's P-bit from the device preset (spread drawn from the programming seed)."""
    pbit = config.pbit
    preset, voltage, width = _write_pulse(pbit)
    if pbit.spread:
        curves = sample_pbit_curves(programming_key(config, STREAM_PBIT_SPREAD), preset, shape, direction)
        p = curves.switching_probability(voltage, width)
    else:
        p = jnp.broadcast_to(preset.direction_curve(direction).switching_probability(voltage, width), shape)
    return jnp.clip(p.astype(jnp.float32), 0.0, 1.0)


def _ap_to_p_keep_probability(config: CrossbarConfig, shape: tuple[int, int]) -> jax.Array:
    return _device_keep_probability(config, shape, "ap_to_p")


# (P -> AP, AP -> P): module-level functions, so `config_constant` caches each once.
_DIRECTION_FNS = (_device_keep_probability, _ap_to_p_keep_probability)
