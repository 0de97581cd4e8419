"""Programming variation and read noise of a crossbar: as set, or derived from its device.

`CrossbarConfig.programming_sigma` and `Periphery.read_noise` are None by default: the
values of the device `PbitConfig.device` names (a preset or your calibration), derived
from its data-bit's spreads by `DifferentialPair.programming_spread` (Figs. 7-8) and
`DifferentialPair.read_noise_spread` (Fig. 15). A number overrides the device; 0 is off.
"""

from __future__ import annotations

import functools

import jax

from cimjax.crossbar._config import CrossbarConfig
from cimjax.device import device_preset

__all__ = ["resolved_programming_sigma", "resolved_read_noise"]


@functools.lru_cache(maxsize=32)
def _device_spreads(device: str) -> tuple[float, float]:
    """(programming spread, read noise) of one pair of `device`, relative to its dG."""
    with jax.ensure_compile_time_eval():  # constants of the static configuration, also under jit
        pair = device_preset(device).differential_pair
        return float(pair.programming_spread()), float(pair.read_noise_spread())


def resolved_programming_sigma(config: CrossbarConfig) -> float:
    """Relative spread of each pair's programmed output: `programming_sigma`, or the device's."""
    if config.programming_sigma is not None:
        return float(config.programming_sigma)
    return _device_spreads(config.pbit.device)[0]


def resolved_read_noise(config: CrossbarConfig) -> float:
    """Per-read noise std of each cell relative to its full output: `periphery.read_noise`, or the device's."""
    if config.periphery.read_noise is not None:
        return float(config.periphery.read_noise)
    return _device_spreads(config.pbit.device)[1]
