"""Calibration results as versioned JSON, and loading a curve from a fit, a preset file or a preset name."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cimjax.errors import ConfigError
from cimjax._io import read_json, write_json_atomic
from cimjax.device._calibration import PARAMETERS, SwitchingFit
from cimjax.device._preset import (
    PRESET_SCHEMA,
    PRESETS,
    SCHEMA_VERSION,
    DevicePreset,
    SwitchingSpread,
    check_schema,
    default_preset,
)
from cimjax.device._switching import SwitchingCurve

FIT_SCHEMA = "cimjax.device.switching_fit"


def save_fit_json(path: str | os.PathLike, pooled: SwitchingFit, devices: dict[str, SwitchingFit] | None = None,
                  source: str = "") -> dict:
    """Writes a calibration (pooled fit, optional per-device fits and their spread) as JSON.

    The per-device spread (mean and standard deviation of each parameter over devices, Fig. 13)
    is included when there are two or more devices. Returns the written object.
    """
    devices = devices or {}
    obj = {
        "schema": FIT_SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "model": "SwitchingCurve",
        "source": source,
        "pooled": pooled.to_dict(),
        "devices": [fit.to_dict() for fit in devices.values()],
    }
    if len(devices) >= 2:
        obj["spread"] = {
            name: {"mean": float(np.mean(vals)), "std": float(np.std(vals, ddof=1))}
            for name in pooled.estimates
            for vals in [[fit.estimates[name] for fit in devices.values()]]
        }
    write_json_atomic(path, obj)
    return obj


def _curve_from(entry: dict, source: str) -> SwitchingCurve:
    try:
        params = entry["parameters"]
        return SwitchingCurve.create(*(params[p] for p in PARAMETERS))
    except (KeyError, TypeError) as err:
        raise ConfigError(f"{source}: fit entry is missing parameter {err}; expected {PARAMETERS}") from None


def load_fit_json(path: str | os.PathLike) -> tuple[SwitchingCurve, dict[str, SwitchingCurve], dict]:
    """Reads a calibration JSON: (pooled curve, device -> curve, the raw object).

    Raises:
      ConfigError: unreadable file, invalid JSON, another schema or schema version.
    """
    return _parse_fit(read_json(path, "calibration"), str(path))


def _parse_fit(obj, source: str) -> tuple[SwitchingCurve, dict[str, SwitchingCurve], dict]:
    check_schema(obj, FIT_SCHEMA, source)
    pooled = _curve_from(obj.get("pooled", {}), source)
    devices = {str(d.get("device", i)): _curve_from(d, source) for i, d in enumerate(obj.get("devices", []))}
    return pooled, devices, obj


def _preset_or_fit(key: str) -> tuple[DevicePreset | None, dict | None]:
    """(preset, None) for a preset name or preset JSON; (None, calibration object) otherwise."""
    if key in PRESETS:
        return PRESETS[key](), None
    if not Path(key).is_file():
        raise ConfigError(f"unknown device preset {key!r}: not a file and not one of the known presets {sorted(PRESETS)}")
    obj = read_json(key, "device preset or calibration")
    if isinstance(obj, dict) and obj.get("schema") == PRESET_SCHEMA:
        return DevicePreset.from_dict(obj, source=key), None
    return None, obj


def load_curve(name_or_path: str | os.PathLike) -> tuple[SwitchingCurve, DevicePreset | None]:
    """The P-bit curve of a preset name, a preset JSON or a calibration JSON.

    Returns (curve, preset), preset None for a calibration file (pooled curve).

    Raises:
      ConfigError: not a file and not a known preset (lists them), or a bad/other-version file.
    """
    key = str(name_or_path)
    preset, fit = _preset_or_fit(key)
    if preset is not None:
        return preset.pbit, preset
    return _parse_fit(fit, key)[0], None


def device_preset(name_or_path: str | os.PathLike) -> DevicePreset:
    """The device a crossbar's P-bits are made of: a preset name, a preset JSON or a calibration JSON.

    A calibration JSON (`cimjax device calibrate`) replaces the default preset's P-bit:
    its pooled curve is the nominal one; the write pulse is the default width (700 ps,
    Fig. 11) at the voltage where the pooled curve switches with probability 0.5 (the
    paper's operating point, Fig. 12); and the device-to-device spread is the measured one
    when the file holds two or more devices (standard deviation of v50, relative standard
    deviations of the positive parameters as lognormal sigmas), else the default preset's
    (Fig. 13, an assumption for your devices). The data-bit stays the default preset's.

    Raises:
      ConfigError: not a file and not a known preset (lists them), or a bad/other-version file.
    """
    key = str(name_or_path)
    preset, fit = _preset_or_fit(key)
    if preset is not None:
        return preset
    pooled, _, obj = _parse_fit(fit, key)
    base = default_preset()
    spread = base.pbit_spread
    if "spread" in obj:
        try:
            stats = {name: (float(obj["spread"][name]["mean"]), float(obj["spread"][name]["std"])) for name in PARAMETERS}
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"{key}: bad 'spread' entry ({err}); expected mean and std of {PARAMETERS}") from None
        bad = [n for n, (mean, std) in stats.items() if not (std >= 0 and (n == "v50" or mean > 0))]
        if bad:
            raise ConfigError(f"{key}: 'spread' of {bad} needs std >= 0 and, for positive parameters, mean > 0")
        rel = lambda name: np.float32(stats[name][1] / stats[name][0])  # noqa: E731 - lognormal sigma ~ std / mean
        spread = SwitchingSpread(sigma_v50=np.float32(stats["v50"][1]), sigma_log_v_scale=rel("v_scale"),
                                 sigma_log_period=rel("precession_period"), sigma_log_damping=rel("damping_time"))
    width = base.calibrated_width
    voltage = pooled.voltage_for_probability(0.5, width)
    if not np.isfinite(float(voltage)):
        raise ConfigError(f"{key}: the fitted curve never reaches P_sw = 0.5 at the default width {float(width):.3g} s; "
                         f"set PbitConfig(voltage=..., width=...) explicitly")
    return base.replace(pbit=pooled, pbit_spread=spread, calibrated_voltage=voltage, name=f"calibration {key}")
