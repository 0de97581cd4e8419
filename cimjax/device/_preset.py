"""Device presets: a data-bit, a P-bit curve and its spread, composed and calibrated to the paper."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from cimjax.errors import ConfigError
from cimjax._io import parse_json, read_text, write_json_atomic
from cimjax.device._data_bit import DataBit
from cimjax.device._differential_pair import DifferentialPair
from cimjax.device._endurance import Endurance
from cimjax.device._measurements import DIRECTIONS
from cimjax.device._precession import PrecessionCurve
from cimjax.device._switching import SwitchingCurve

PRESET_SCHEMA = "cimjax.device.preset"
SCHEMA_VERSION = 1


def _num(x) -> float:
    """A float32 leaf as the shortest decimal that reads back to the same float32 (clean JSON)."""
    return float(str(np.float32(x)))


@struct.dataclass
class SwitchingSpread:
    """Device-to-device spread of the P_sw parameters within an array (Fig. 13).

    v50 varies normally (absolute sigma in volts); the positive parameters vary lognormally.
    """

    sigma_v50: jax.Array
    sigma_log_v_scale: jax.Array
    sigma_log_period: jax.Array
    sigma_log_damping: jax.Array


@struct.dataclass
class DevicePreset:
    """A complete VCMA-MTJ device description: data-bit, P-bit curve, spread and write pulse.

    Attributes:
      data_bit: the data-bit model (both devices of a pair).
      pbit: nominal P-bit switching curve (scalar leaves): a `SwitchingCurve` or a `PrecessionCurve`.
      pbit_spread: device-to-device spread of the curve's parameters (Fig. 13).
      read_voltage: read bias [V].
      calibrated_voltage: write amplitude of the P-bit configuration [V].
      calibrated_width: write width of the P-bit configuration [s].
      endurance: drift of the P-bit curve with write cycles (Fig. 19); none by default.
      name: preset name (static).
      pbit_ap_to_p: curve of the AP -> P switching direction, or None when both directions
        share `pbit`. With it, `pbit` is the P -> AP direction: the stray field of the
        reference layer adds to the bias field in one direction and subtracts in the other.
        A pair's P-bit is reset to its data-bit's state (`pair_output`), so pairs storing a
        positive weight (data-bit P) switch P -> AP and pairs storing a negative one AP -> P.
    """

    data_bit: DataBit
    pbit: SwitchingCurve
    pbit_spread: SwitchingSpread
    read_voltage: jax.Array
    calibrated_voltage: jax.Array
    calibrated_width: jax.Array
    endurance: Endurance = struct.field(default_factory=Endurance)
    name: str = struct.field(pytree_node=False, default="custom")
    pbit_ap_to_p: SwitchingCurve | None = None

    @property
    def bidirectional(self) -> bool:
        """Whether the two switching directions have their own curves."""
        return self.pbit_ap_to_p is not None

    def direction_curve(self, direction: str):
        """The nominal P-bit curve of `direction` ("p_to_ap" or "ap_to_p"; `pbit` for both when
        the preset has one direction)."""
        if direction not in DIRECTIONS:
            raise ConfigError(f"{direction=} must be one of {DIRECTIONS}")
        return self.pbit_ap_to_p if direction == "ap_to_p" and self.bidirectional else self.pbit

    @property
    def differential_pair(self) -> DifferentialPair:
        """The differential pair of two of this preset's data-bits at its read voltage."""
        return DifferentialPair(self.data_bit, self.read_voltage)

    def to_dict(self) -> dict:
        """JSON-ready dict with schema name and version."""
        fields = lambda obj: {f.name: _num(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
        # written only when set, so a preset without drift reads back in a cimjax without endurance
        wear = {} if self.endurance.to_dict() == Endurance().to_dict() else {"endurance": self.endurance.to_dict()}
        reverse = {"pbit_ap_to_p": _curve_fields(self.pbit_ap_to_p)} if self.bidirectional else {}
        return {
            "schema": PRESET_SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "data_bit": fields(self.data_bit),
            "pbit": _curve_fields(self.pbit),
            "pbit_spread": fields(self.pbit_spread),
            "read_voltage": _num(self.read_voltage),
            "calibrated_voltage": _num(self.calibrated_voltage),
            "calibrated_width": _num(self.calibrated_width),
            **wear,
            **reverse,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_dict(cls, obj: dict, source: str = "<preset>") -> "DevicePreset":
        """Inverse of `to_dict`; checks schema name, version and every field."""
        check_schema(obj, PRESET_SCHEMA, source)
        try:
            if not isinstance(obj["pbit_spread"], dict):
                raise ConfigError(f"{source}: pbit_spread must be a JSON object, got {type(obj['pbit_spread']).__name__}")
            spread = {k: float(v) for k, v in obj["pbit_spread"].items()}
            if set(spread) != set(SwitchingSpread.__dataclass_fields__) or not all(0 <= v < math.inf for v in spread.values()):
                raise ConfigError(f"{source}: pbit_spread must have finite, non-negative {sorted(SwitchingSpread.__dataclass_fields__)}")
            for key in ("read_voltage", "calibrated_voltage", "calibrated_width"):
                if not 0 < float(obj[key]) < math.inf:
                    raise ConfigError(f"{source}: {key}={obj[key]!r} must be a finite number > 0")
            reverse = obj.get("pbit_ap_to_p")
            return cls(
                data_bit=_data_bit(obj["data_bit"], source),
                pbit=_curve_from_fields(obj["pbit"], "pbit", source),
                pbit_ap_to_p=None if reverse is None else _curve_from_fields(reverse, "pbit_ap_to_p", source),
                pbit_spread=SwitchingSpread(**{k: jnp.float32(v) for k, v in spread.items()}),
                read_voltage=jnp.float32(obj["read_voltage"]),
                calibrated_voltage=jnp.float32(obj["calibrated_voltage"]),
                calibrated_width=jnp.float32(obj["calibrated_width"]),
                endurance=_endurance(obj.get("endurance", {}), source),
                name=str(obj.get("name", "custom")),
            )
        except KeyError as err:
            raise ConfigError(f"{source}: missing key {err.args[0]!r}") from None
        except (TypeError, ValueError) as err:
            if isinstance(err, ConfigError):
                raise
            raise ConfigError(f"{source}: bad preset field: {err}") from None

    @classmethod
    def from_json(cls, text: str, source: str = "<preset>") -> "DevicePreset":
        return cls.from_dict(parse_json(text, source), source)


def _data_bit(obj, source: str) -> DataBit:
    """The "data_bit" object of a preset; its errors name the file and the entry."""
    if not isinstance(obj, dict):
        raise ConfigError(f"{source}: data_bit must be a JSON object, got {type(obj).__name__}")
    try:
        return DataBit.create(**obj)
    except ConfigError as err:  # e.g. "DataBit: ra_product=-1 must be finite and > 0"
        raise ConfigError(f"{source}: data_bit: {err}") from None


def _endurance(obj, source: str) -> Endurance:
    """The optional "endurance" object of a preset (absent: no drift)."""
    if not isinstance(obj, dict):
        raise ConfigError(f"{source}: endurance must be a JSON object, got {type(obj).__name__}")
    unknown = set(obj) - set(Endurance.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{source}: endurance has unknown fields {sorted(unknown)}; known: "
                          f"{sorted(Endurance.__dataclass_fields__)}")
    try:
        return Endurance.create(**obj)
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None


def _curve_from_fields(fields, key: str, source: str):
    """The curve of a preset's `key` entry: a `PrecessionCurve` when it names a link, else a `SwitchingCurve`."""
    if not isinstance(fields, dict):
        raise ConfigError(f"{source}: {key} must be a JSON object, got {type(fields).__name__}")
    pbit = dict(fields)
    form = PrecessionCurve if "link" in pbit else SwitchingCurve
    missing = set(SwitchingCurve.__dataclass_fields__) - set(pbit)
    if missing:
        raise ConfigError(f"{source}: {key} is missing {sorted(missing)}")
    unknown = set(pbit) - set(form.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{source}: {key} has unknown fields {sorted(unknown)} for {form.__name__}")
    for name, value in pbit.items():
        try:
            if name != "link":
                np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise ConfigError(f"{source}: {key}: {name}={value!r} is not a number") from None
    try:
        return form.create(**pbit)
    except ConfigError as err:  # e.g. "SwitchingCurve: v_scale=-1 must be > 0"
        raise ConfigError(f"{source}: {key}: {err}") from None


def _curve_fields(curve) -> dict:
    """A curve's parameters for JSON: every leaf of a `SwitchingCurve`; for a `PrecessionCurve`
    its link and the leaves off their null values (no dephasing is written as absent, not inf)."""
    out = {f.name: getattr(curve, f.name) for f in dataclasses.fields(curve) if f.name != "link"}
    if isinstance(curve, PrecessionCurve):
        nulls = {"amplitude": 1.0, "floor": 0.0, "dephasing_time": math.inf, "frequency_slope": 0.0}
        out = {k: v for k, v in out.items() if not (k in nulls and float(v) == nulls[k])}
        return {**{k: _num(v) for k, v in out.items()}, "link": curve.link}
    return {k: _num(v) for k, v in out.items()}


def check_schema(obj, schema: str, source: str) -> None:
    """Raises ConfigError unless `obj` is a dict of `schema` at SCHEMA_VERSION."""
    if not isinstance(obj, dict):
        raise ConfigError(f"{source}: expected a JSON object, got {type(obj).__name__}")
    found = obj.get("schema")
    if found != schema:
        raise ConfigError(f"{source}: schema={found!r}, expected {schema!r}")
    schema_version = obj.get("schema_version")
    if schema_version != SCHEMA_VERSION:
        raise ConfigError(f"{source}: {schema_version=} is not supported; this cimjax reads schema_version={SCHEMA_VERSION}")


def default_preset() -> DevicePreset:
    """The preset calibrated to the paper's standalone and integrated devices (Figs. 6-19)."""
    data_bit = DataBit.from_anchors(
        ra_product=300.0,  # assumption: typical RA of a thick-MgO VCMA-MTJ [ohm um^2]
        area=math.pi * 0.05**2,  # assumption: 100 nm diameter pillar [um^2]
        tmr_zero_bias=1.10,  # Fig. 6: TMR above 100% near zero bias (110% assumed)
        tmr_at_read=0.65,  # Fig. 7: mean TMR 65% at 200 mV read
        read_voltage=0.2,  # Fig. 7: 200 mV read
        sigma_device=0.04,  # Fig. 8: small within-array resistance spread (4% assumed)
        sigma_array=0.06,  # Fig. 8: visible array-to-array shift (6% assumed)
        sigma_tmr=0.03,  # Fig. 7: low TMR variation across devices (3% assumed)
        sigma_read=0.01,  # Fig. 15: low cycle-to-cycle variation (1% assumed)
        drift_per_decade=0.0,  # Fig. 19: no conductance change over 1e12 cycles
    )
    pbit = SwitchingCurve.from_anchors(
        v50=1.5,  # Fig. 12: 50% switching at 1.5 V
        window_10_90=1.0,  # Fig. 12: stochastic window of about 1 V
        first_peak_width=700e-12,  # Fig. 11: first precession peak at 700 ps
        damping_time=1.0e-9,  # assumption: oscillation of Fig. 11 decays within ~2 periods
    )
    spread = SwitchingSpread(
        sigma_v50=jnp.float32(0.05),  # Fig. 13: device/delay spread of P_sw, ~+-0.05 around 50% (assumed)
        sigma_log_v_scale=jnp.float32(0.05),  # assumption: 5% spread of the window
        sigma_log_period=jnp.float32(0.03),  # Fig. 13: circuit delay shifts the effective width (3% assumed)
        sigma_log_damping=jnp.float32(0.05),  # assumption: 5% spread of the damping time
    )
    return DevicePreset(
        data_bit=data_bit,
        pbit=pbit,
        pbit_spread=spread,
        read_voltage=jnp.float32(0.2),  # Fig. 7: 200 mV read
        calibrated_voltage=jnp.float32(1.5),  # Fig. 12: 50% amplitude used for the P-bit
        calibrated_width=pbit.first_peak_width,  # Fig. 11: 700 ps, the first precession peak
        endurance=Endurance.create(),  # Fig. 19: no drift shown over 1e12 cycles, so none; rated 1e12
        name="default",
    )


PRESETS = {"default": default_preset}


def load_preset(name_or_path: str | os.PathLike) -> DevicePreset:
    """A preset by name (see PRESETS) or from a JSON file written by `save_preset`.

    Raises:
      ConfigError: unknown name (lists the known ones), unreadable file, other schema version.
    """
    key = str(name_or_path)
    if key in PRESETS:
        return PRESETS[key]()
    path = Path(key)
    if not path.is_file():
        raise ConfigError(f"unknown device preset {key!r}: not a file and not one of the known presets {sorted(PRESETS)}")
    return DevicePreset.from_json(read_text(path, "device preset"), source=str(path))


def save_preset(preset: DevicePreset, path: str | os.PathLike) -> None:
    """Writes `preset` as JSON (atomically)."""
    write_json_atomic(path, preset.to_dict())


def sample_pbit_curves(key: jax.Array, preset: DevicePreset, shape, direction: str = "p_to_ap") -> SwitchingCurve:
    """Per-device P-bit curves drawn with the preset's spread (Fig. 13); leaves of shape `shape`.

    The spread moves v50, v_scale, precession_period and damping_time; a `PrecessionCurve`'s
    other parameters stay at their nominal values for every device. `direction` picks the
    curve of a two-direction preset (`DevicePreset.direction_curve`); one key draws the same
    deviations for both directions (assumption: a device's spread moves both alike)."""
    return _sample_pbit_curves(key, preset.direction_curve(direction), preset.pbit_spread, tuple(int(s) for s in shape))


@partial(jax.jit, static_argnames="shape")
def _sample_pbit_curves(key, c, s, shape):
    k = jax.random.split(key, 4)
    z = [jax.random.normal(ki, shape) for ki in k]
    return c.replace(
        v50=c.v50 + s.sigma_v50 * z[0],
        v_scale=c.v_scale * jnp.exp(s.sigma_log_v_scale * z[1]),
        precession_period=c.precession_period * jnp.exp(s.sigma_log_period * z[2]),
        damping_time=c.damping_time * jnp.exp(s.sigma_log_damping * z[3]),
    )
