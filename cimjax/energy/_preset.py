"""Versioned JSON presets of the cost model: loading, validation and designs.

A preset file (copy `cimjax energy preset --out my.json` and edit it) looks like

    {"schema": "cimjax.energy.preset", "version": 1, "name": "...",
     "parameters": {"write_voltage": {"value": 1.5, "unit": "V", "source": "Fig. 12"}, ...},
     "designs": {"in_situ": {"scheme": "in_situ", "label": "...", "parameters": {...}}, ...}}

`parameters` are shared by every design; a design's own `parameters` add to or
override them. Each design is checked against the parameters its scheme needs
(`cimjax.energy._params`): a missing, non-numeric, negative or out-of-range value, an
unknown or mismatched unit, an unknown parameter or scheme is an `ConfigError` naming the
file and the key, raised before any figure is computed.
"""

from __future__ import annotations

import dataclasses
import math
import types
from pathlib import Path
from typing import Any, Mapping

from cimjax.device import SI_UNIT, UNITS, units_of
from cimjax.device import default_preset as default_device_preset
from cimjax.errors import ConfigError
from cimjax._io import read_json
from cimjax.energy._params import ALL_PARAMS, SCHEME_PARAMS, required

SCHEMA = "cimjax.energy.preset"
VERSION = 1
PRESET_DIR = Path(__file__).resolve().parent / "presets"


@dataclasses.dataclass(frozen=True)
class Design:
    """One row of the comparison: a scheme and its full parameter set (SI, areas in um^2)."""

    name: str
    scheme: str
    label: str
    params: Mapping[str, float]
    sources: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    def __getitem__(self, key: str) -> float:
        return self.params[key]

    def replace(self, **values: float) -> "Design":
        """A copy with some parameters changed (SI values), validated like a preset."""
        params = dict(self.params)
        for key, value in values.items():
            if key not in ALL_PARAMS:
                raise ConfigError(f"{key=} is not a parameter of the energy model")
            params[key] = _check_value(f"design {self.name}", key, value)
        return dataclasses.replace(self, params=types.MappingProxyType(params))


@dataclasses.dataclass(frozen=True)
class Preset:
    """A validated preset: its designs in file order, and the raw JSON it came from."""

    name: str
    description: str
    designs: Mapping[str, Design]
    raw: Mapping[str, Any] = dataclasses.field(compare=False, repr=False)

    def design(self, name: str) -> Design:
        if name not in self.designs:
            raise ConfigError(f"design {name!r} is not in preset {self.name!r}; "
                             f"it has {list(self.designs)}")
        return self.designs[name]

    def for_scheme(self, scheme: str) -> Design:
        """The first design of `scheme` in the preset."""
        if scheme not in SCHEME_PARAMS:
            raise ConfigError(f"{scheme=} is not one of {tuple(SCHEME_PARAMS)}")
        for design in self.designs.values():
            if design.scheme == scheme:
                return design
        raise ConfigError(f"preset {self.name!r} has no design of {scheme=}")


def _check_value(where: str, key: str, value: Any) -> float:
    spec = ALL_PARAMS[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {key}: value {value!r} is not a number")
    shown, value = value, float(value)  # messages quote the value as written
    if not math.isfinite(value):
        raise ConfigError(f"{where}: {key}: value {shown!r} is not finite")
    if value < 0 or (spec.positive and value == 0):
        bound = "> 0" if spec.positive else ">= 0"
        raise ConfigError(f"{where}: {key}: value {shown!r} must be {bound} ({spec.doc})")
    if spec.integer and value != int(value):
        raise ConfigError(f"{where}: {key}: value {shown!r} must be a whole number")
    if spec.at_most_one and value > 1:
        raise ConfigError(f"{where}: {key}: value {shown!r} must be <= 1 (a probability)")
    return value


def _parse_param(where: str, key: str, entry: Any) -> tuple[float, str]:
    """(SI value, source) of one `{"value", "unit", "source"}` entry."""
    if key not in ALL_PARAMS:
        raise ConfigError(f"{where}: {key}: unknown parameter; known: {sorted(ALL_PARAMS)}")
    if not isinstance(entry, dict) or "value" not in entry or "unit" not in entry:
        raise ConfigError(f"{where}: {key}: expected {{\"value\": ..., \"unit\": ..., "
                         f"\"source\": ...}}, got {entry!r}")
    spec, unit = ALL_PARAMS[key], entry["unit"]
    if unit not in UNITS:
        raise ConfigError(f"{where}: {key}: unknown unit {unit!r}; "
                         f"use one of {units_of(spec.dimension)}")
    dimension, factor = UNITS[unit]
    if dimension != spec.dimension:
        raise ConfigError(f"{where}: {key}: unit {unit!r} is a {dimension}, but {key} is a "
                         f"{spec.dimension} ({SI_UNIT[spec.dimension]}, "
                         f"{units_of(spec.dimension)})")
    raw = entry["value"]
    _check_value(where, key, raw)  # sign and range in the unit as written
    return _check_value(where, key, float(raw) * factor), str(entry.get("source", ""))


def _parse_block(where: str, block: Any) -> tuple[dict, dict]:
    if not isinstance(block, dict):
        raise ConfigError(f"{where}: expected an object of parameters, got {type(block).__name__}")
    values, sources = {}, {}
    for key, entry in block.items():
        values[key], sources[key] = _parse_param(where, key, entry)
    return values, sources


def parse_energy_preset(data: Any, where: str = "<preset>") -> Preset:
    """Validates a preset's JSON object and builds its designs."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a preset is a JSON object, got {type(data).__name__}")
    if data.get("schema") != SCHEMA:
        raise ConfigError(f"{where}: schema: expected {SCHEMA!r}, got {data.get('schema')!r}")
    if data.get("version") != VERSION:
        raise ConfigError(f"{where}: version: this cimjax reads version {VERSION}, "
                         f"got {data.get('version')!r}")
    common, common_src = _parse_block(f"{where}: parameters", data.get("parameters", {}))
    designs_raw = data.get("designs")
    if not isinstance(designs_raw, dict) or not designs_raw:
        raise ConfigError(f"{where}: designs: expected a non-empty object of designs")
    designs = {}
    for name, d in designs_raw.items():
        at = f"{where}: designs.{name}"
        if not isinstance(d, dict):
            raise ConfigError(f"{at}: expected an object, got {type(d).__name__}")
        scheme = d.get("scheme")
        if scheme not in SCHEME_PARAMS:
            raise ConfigError(f"{at}.scheme: {scheme!r} is not one of {tuple(SCHEME_PARAMS)}")
        own, own_src = _parse_block(f"{at}.parameters", d.get("parameters", {}))
        params, sources = {**common, **own}, {**common_src, **own_src}
        for key, spec in required(scheme).items():
            if key not in params:
                raise ConfigError(f"{at}: {key}: missing parameter ({spec.dimension}, "
                                 f"{spec.doc}); set it in 'parameters' or the design")
        designs[name] = Design(name, scheme, str(d.get("label", name)),
                               types.MappingProxyType(params), types.MappingProxyType(sources))
    return Preset(str(data.get("name", where)), str(data.get("description", "")),
                  types.MappingProxyType(designs), types.MappingProxyType(data))


def load_energy_preset(source: str | Path | Mapping = "default") -> Preset:
    """Loads a preset: a shipped name ("default"), a JSON file path, or a parsed object."""
    if isinstance(source, Mapping):
        return parse_energy_preset(dict(source))
    path = Path(source)
    if not path.suffix and not path.exists():
        path = PRESET_DIR / f"{source}.json"
        if not path.exists():
            shipped = sorted(p.stem for p in PRESET_DIR.glob("*.json"))
            raise ConfigError(f"preset {str(source)!r} is neither a file nor a shipped preset "
                             f"{shipped}")
    return parse_energy_preset(read_json(path, "preset"), str(path))


def default_energy_preset() -> Preset:
    """The shipped preset calibrated to the paper's technology (Table II)."""
    return load_energy_preset("default")


def with_device(preset: Preset, device: Any = None) -> Preset:
    """The preset with its device numbers taken from a `cimjax.device` preset.

    Replaces the P-bit write pulse (`calibrated_voltage`, `calibrated_width`) and the
    read resistances (`data_bit.conductances(read_voltage)` -> (G_P, G_AP)) in every
    design. `device` defaults to `cimjax.device.default_preset()`.
    """
    if device is None:
        device = default_device_preset()
    designs = {}
    for name, design in preset.designs.items():
        g_p, g_ap = device.data_bit.conductances(design["read_voltage"])
        new = design.replace(write_voltage=float(device.calibrated_voltage),
                             write_width=float(device.calibrated_width),
                             read_resistance_p=1.0 / float(g_p),
                             read_resistance_ap=1.0 / float(g_ap))
        sources = dict(design.sources)
        for key in ("write_voltage", "write_width", "read_resistance_p", "read_resistance_ap"):
            sources[key] = "cimjax.device preset"
        designs[name] = dataclasses.replace(new, sources=types.MappingProxyType(sources))
    return dataclasses.replace(preset, designs=types.MappingProxyType(designs))
