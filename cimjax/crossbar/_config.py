"""Crossbar configuration: a mapping, a periphery, a tile and a P-bit mode, composed.

Every class is a frozen, hashable dataclass (usable as a static `jax.jit` argument)
and validates itself at construction, so a bad value fails before any compute.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

from cimjax.errors import ConfigError
from cimjax.kernels import BACKENDS

SCHEMES = ("binary", "bitslice", "analog")
MODES = ("exact", "refresh", "moment", "off")
# assumption: bit-line IR drop and ADC dynamic range limit one array to 1024 x 1024 cells.
MAX_TILE_ROWS = 1024
MAX_TILE_COLS = 1024


def _check_prob(owner: str, name: str, value) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0.0 <= float(value) <= 1.0):
        raise ConfigError(f"{owner}: {name}={value!r} must be a probability in [0, 1] (NaN is not)")


def _check_positive(owner: str, name: str, value, allow_none: bool = False, allow_zero: bool = False) -> None:
    if value is None and allow_none:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{owner}: {name}={value!r} must be a finite number {bound}")


def _check_device(device) -> None:
    """A name or a JSON file that exists. Names and file contents are checked where the device
    is loaded (`cimjax.device.device_preset`, before any read): that needs jax, this must not."""
    if not isinstance(device, str) or not device:
        raise ConfigError(f"PbitConfig: device={device!r} must be a preset name or the path of a JSON file")
    if device.endswith(".json") and not Path(device).is_file():
        raise ConfigError(f"PbitConfig: device={device!r}: no such file")


def _check_bits(owner: str, name: str, value, allow_none: bool) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16:
        raise ConfigError(f"{owner}: {name}={value!r} must be an int in [1, 16]" + (" or None" if allow_none else ""))


@dataclasses.dataclass(frozen=True)
class Mapping:
    """How signed weights become probabilistic differential pairs (Fig. 3b, 9).

    Attributes:
      scheme: "binary": one pair per weight, scale * sign(w) (the paper's signed binary cell);
        "bitslice": |w| quantised to `bits` bits, one pair per bit holding sign * bit in
        {-1, 0, +1} (the three pair states of Fig. 9), recombined by shift-and-add;
        "analog": ideal float conductances, one pair per weight holding w / scale.
      bits: magnitude bits of "bitslice" (ignored otherwise).
      shift_and_add: "bitslice" only: recombine slices digitally after the ADC (True) or
        merge them before the ADC as one analog column (False: one ADC conversion).
    """

    scheme: str = "binary"  # Fig. 3/9: signed binary weight per differential pair
    bits: int = 4  # assumption: 4-bit weights when bit-sliced
    shift_and_add: bool = True

    def __post_init__(self):
        if self.scheme not in SCHEMES:
            raise ConfigError(f"Mapping: scheme={self.scheme!r} is not one of {SCHEMES}")
        _check_bits("Mapping", "bits", self.bits, allow_none=False)

    @property
    def slices(self) -> int:
        """Differential pairs (columns) per weight."""
        return self.bits if self.scheme == "bitslice" else 1

    @property
    def merged(self) -> bool:
        """Whether a weight's slices are summed in analog into one ADC conversion."""
        return self.slices > 1 and not self.shift_and_add

    @property
    def adc_gain(self) -> float:
        """Largest column sum per unit input of one ADC conversion, in cells: the slices'
        total significance 2^S - 1 when merged, else 1."""
        return float(2**self.slices - 1) if self.merged else 1.0


@dataclasses.dataclass(frozen=True)
class Periphery:
    """Input DAC, output ADC and per-read conductance noise; None bits = ideal converter.

    Attributes:
      dac_bits: input DAC resolution (signed, symmetric), None = ideal.
      dac_range: inputs are clipped to [-dac_range, dac_range] by the DAC.
      adc_bits: output ADC resolution per column per tile, None = ideal.
      adc_range: ADC full scale [-adc_range, adc_range] in cell units (|cell| <= 1) times
        input units; outputs beyond it clip. None = the largest possible column sum
        (dac_range * tile rows), which never clips.
      read_noise: per-read conductance noise of every cell, std relative to one cell's
        full conductance difference; its column sum is drawn exactly as one normal per
        output (a sum of independent normals). None (default) = the device's: its data-bit's
        cycle-to-cycle noise sigma_read (Fig. 15) on both conductances of a pair,
        sigma_read sqrt(G_P^2 + G_AP^2) / (G_P - G_AP), 0.030 for the default preset
        (`DifferentialPair.read_noise_spread`; the device is the crossbar's
        `PbitConfig.device`). A number sets it; 0 = off.
    """

    dac_bits: int | None = 8  # assumption: 8-bit input DAC (paper does not state it)
    dac_range: float = 1.0  # assumption: inputs normalised to [-1, 1]
    adc_bits: int | None = 8  # assumption: 8-bit column ADC (paper does not state it)
    adc_range: float | None = None  # assumption: full scale, no clipping
    read_noise: float | None = None  # Fig. 15: the device's cycle-to-cycle noise when None

    def __post_init__(self):
        _check_bits("Periphery", "dac_bits", self.dac_bits, allow_none=True)
        _check_bits("Periphery", "adc_bits", self.adc_bits, allow_none=True)
        _check_positive("Periphery", "dac_range", self.dac_range)
        _check_positive("Periphery", "adc_range", self.adc_range, allow_none=True)
        _check_positive("Periphery", "read_noise", self.read_noise, allow_none=True, allow_zero=True)

    @classmethod
    def ideal(cls) -> "Periphery":
        """No quantisation, no clipping, no read noise: the float reference."""
        return cls(dac_bits=None, adc_bits=None, adc_range=None, read_noise=0.0)

    @property
    def is_ideal(self) -> bool:
        """Ideal converters and read noise explicitly off (None, the device's noise, is not ideal)."""
        return self.dac_bits is None and self.adc_bits is None and self.read_noise == 0.0


@dataclasses.dataclass(frozen=True)
class Tile:
    """One physical crossbar array; larger matrices are split, partial sums added digitally."""

    rows: int = 256  # assumption: 256 x 256 arrays, a common CIM macro size
    cols: int = 256

    def __post_init__(self):
        for name, value, limit in (("rows", self.rows, MAX_TILE_ROWS), ("cols", self.cols, MAX_TILE_COLS)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"Tile: {name}={value!r} must be a positive int")
            if value > limit:
                raise ConfigError(f"Tile: {name}={value} must be <= {limit} (max_{name}={limit})")


@dataclasses.dataclass(frozen=True)
class PbitConfig:
    """How the in-situ P-bits are written on each read (Figs. 3c, 11-13).

    Per cell, keep probability = P_sw(voltage, width) of that cell's P-bit: the P-bit is
    reset to the data-bit's state and a switched P-bit makes the pair output its weight.

    Attributes:
      mode: "exact" (fresh Bernoulli draw per cell per input vector), "refresh" (P-bits
        rewritten every `refresh` inputs, so that many consecutive samples share a mask),
        "moment" (Gaussian moment matching, an approximation), "off" (P-bits held in the
        switched state: the deterministic ANN).
      refresh: inputs per P-bit write in "refresh" mode (>= 1).
      voltage: write amplitude [V]; None = the device preset's calibrated 1.5 V (Fig. 12).
      width: write width [s]; None = the preset's calibrated 700 ps (Fig. 11).
      keep_prob: overrides P_sw with one probability for every cell (no device curve).
      spread: device-to-device spread of P_sw (Fig. 13), drawn once from the programming seed.
      device: the P-bit device: a preset name ("default": the paper's devices), a preset
        JSON (`cimjax device preset`) or a calibration JSON of your own measurements
        (`cimjax device calibrate`); see `cimjax.device.device_preset`.
    """

    mode: str = "exact"
    refresh: int = 1
    voltage: float | None = None  # Fig. 12: 1.5 V from the preset when None
    width: float | None = None  # Fig. 11: 700 ps from the preset when None
    keep_prob: float | None = None
    spread: bool = True  # Fig. 13: P_sw varies across the array
    device: str = "default"  # Figs. 11-13: the paper's devices

    def __post_init__(self):
        if self.mode not in MODES:
            raise ConfigError(f"PbitConfig: mode={self.mode!r} is not one of {MODES}")
        if isinstance(self.refresh, bool) or not isinstance(self.refresh, int) or self.refresh < 1:
            raise ConfigError(f"PbitConfig: refresh={self.refresh!r} must be an int >= 1 (inputs per P-bit write)")
        _check_prob("PbitConfig", "keep_prob", self.keep_prob)
        _check_positive("PbitConfig", "voltage", self.voltage, allow_none=True)
        _check_positive("PbitConfig", "width", self.width, allow_none=True)
        _check_device(self.device)


@dataclasses.dataclass(frozen=True)
class CrossbarConfig:
    """A crossbar: mapping + periphery + tile + P-bit mode + programming non-idealities.

    The defaults are the hardware as it is: signed binary pairs, 8-bit converters, P_sw
    spread (Fig. 13), programming variation (Figs. 7-8) and read noise (Fig. 15) of the
    device `pbit.device`. `CrossbarConfig.ideal()` is the float reference (all of them off).

    Attributes:
      mapping, periphery, tile, pbit: the composed parts.
      programming_sigma: relative device-to-device spread of each pair's programmed
        conductance difference (Fig. 9), each pair's output times (1 + sigma z), z ~ N(0, 1),
        drawn once from `programming_seed`. None (default) = the device's: its data-bit's
        resistance spread (sigma_device, Fig. 8) and TMR spread (sigma_tmr, Fig. 7) on the
        two devices of a pair, ~ sqrt(sigma_device^2 G_P^2 + (sigma_device^2 + sigma_tmr^2)
        G_AP^2) / (G_P - G_AP), 0.128 for the default preset
        (`DifferentialPair.programming_spread`; the device is `pbit.device`). The
        array-to-array shift (sigma_array) is a gain common to a whole array and is not
        included. A number sets it; 0 = off.
      programming_seed: seed of every programming-time draw (variation, faults, P_sw spread);
        layers of the same shape and seed get the same draws, so give each layer its own.
      stuck_at_zero: fraction of pairs stuck at zero output (both devices in one state).
      stuck_at_one: fraction of pairs stuck at full output of random sign.
      backend: kernel backend, "auto" (Pallas on GPU, XLA elsewhere), "xla" or "pallas".
    """

    mapping: Mapping = Mapping()
    periphery: Periphery = Periphery()
    tile: Tile = Tile()
    pbit: PbitConfig = PbitConfig()
    programming_sigma: float | None = None  # Figs. 7-8: the device's pair spread when None
    programming_seed: int = 0
    stuck_at_zero: float = 0.0  # assumption: no faults by default
    stuck_at_one: float = 0.0
    backend: str = "auto"

    def __post_init__(self):
        for name, cls in (("mapping", Mapping), ("periphery", Periphery), ("tile", Tile), ("pbit", PbitConfig)):
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(f"CrossbarConfig: {name}={getattr(self, name)!r} must be a {cls.__name__}")
        _check_positive("CrossbarConfig", "programming_sigma", self.programming_sigma, allow_none=True,
                        allow_zero=True)
        seed = self.programming_seed
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise ConfigError(f"CrossbarConfig: programming_seed={seed!r} must be an int in [0, 2**32)")
        _check_prob("CrossbarConfig", "stuck_at_zero", self.stuck_at_zero)
        _check_prob("CrossbarConfig", "stuck_at_one", self.stuck_at_one)
        if self.stuck_at_zero + self.stuck_at_one > 1.0:
            raise ConfigError(f"CrossbarConfig: {self.stuck_at_zero=} + {self.stuck_at_one=} must be <= 1")
        if self.backend not in BACKENDS:
            raise ConfigError(f"CrossbarConfig: backend={self.backend!r} is not one of {BACKENDS}")

    @classmethod
    def ideal(cls, mode: str = "exact", keep_prob: float | None = None, scheme: str = "analog") -> "CrossbarConfig":
        """The float reference: float conductances, no programming variation, no read noise, no
        P_sw spread (every P-bit on the nominal curve), ideal periphery."""
        return cls(mapping=Mapping(scheme=scheme), periphery=Periphery.ideal(),
                   pbit=PbitConfig(mode=mode, keep_prob=keep_prob, spread=False), programming_sigma=0.0)


def fit_adc_range(config: CrossbarConfig, fan_in: int) -> CrossbarConfig:
    """`config` with its ADC range cut to the largest column sum a layer of `fan_in` rows makes.

    A column of r active rows sums to at most dac_range * r (|cell| <= 1; times the slices'
    total significance when they are merged before the ADC), so levels beyond it are never
    used: a designer calibrates each array's ADC to its fan-in. Without this a 1-input layer
    on a +-16 ADC gets 1/16 of the levels (assumption: per-layer ADC calibration, common in
    CIM macros). Unchanged when the ADC is ideal or already within the bound.
    """
    if isinstance(fan_in, bool) or not isinstance(fan_in, int) or fan_in < 1:
        raise ConfigError(f"fit_adc_range: fan_in={fan_in!r} must be a positive int")
    periphery = config.periphery
    if periphery.adc_bits is None:
        return config
    bound = float(periphery.dac_range) * min(fan_in, config.tile.rows) * config.mapping.adc_gain
    if periphery.adc_range is not None and periphery.adc_range <= bound:
        return config
    return dataclasses.replace(config, periphery=dataclasses.replace(periphery, adc_range=bound))
