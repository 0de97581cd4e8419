"""Calibration results as versioned JSON, and loading a curve from a fit, a preset file or a preset name."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cimjax.errors import ConfigError
from cimjax._io import read_json, write_json_atomic
from cimjax.device._calibration import PARAMETERS, SwitchingFit
from cimjax.device._likelihood import curve_from_parameters
from cimjax.device._measurements import DIRECTIONS
from cimjax.device._models import SwitchingModel, parse_switching_model
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
                  source: str = "", selection=None, population=None, directions: dict[str, dict] | None = None) -> dict:
    """Writes a calibration as JSON: the pooled fit, and optionally the model selection
    (`select_switching_model`), per-device fits and the population (`fit_population`).

    With two or more devices, "spread" holds the plain mean and standard deviation of each
    parameter over the per-device fits (Fig. 13; it includes each device's estimation error);
    "population", when given, is the random-effects estimate that removes it and is what
    `device_preset` uses. `directions` (switching direction -> the keyword arguments `pooled`,
    `devices`, `selection`, `population` of that direction's calibration) adds a "directions"
    object of one such entry per direction; the top-level entry is then the first direction's
    (P -> AP when present), so a reader that knows no directions sees that curve. Returns the
    written object.
    """
    obj = {"schema": FIT_SCHEMA, "schema_version": SCHEMA_VERSION, "source": source,
           **fit_entry(pooled, devices, selection, population)}
    if directions:
        obj["directions"] = {name: fit_entry(**parts) for name, parts in directions.items()}
    write_json_atomic(path, obj)
    return obj


def fit_entry(pooled: SwitchingFit, devices: dict[str, SwitchingFit] | None = None, selection=None,
              population=None) -> dict:
    """One calibration's JSON entry (model, pooled fit, devices, selection, spread, population)."""
    devices = devices or {}
    obj = {
        "model": pooled.model.name,
        "likelihood": "beta-binomial" if pooled.model.beta_binomial else "binomial",
        "pooled": pooled.to_dict(),
        "devices": [fit.to_dict() for fit in devices.values()],
    }
    if selection is not None:
        obj["selection"] = selection.to_dict()
    if len(devices) >= 2:
        obj["spread"] = {
            name: {"mean": float(np.mean(vals)), "std": float(np.std(vals, ddof=1))}
            for name in next(iter(devices.values())).estimates
            for vals in [[fit.estimates[name] for fit in devices.values()]]
        }
    if population is not None:
        obj["population"] = population.to_dict()
    return obj


def _model_of(entry: dict, default: str, source: str) -> SwitchingModel:
    name = entry.get("model", default) if isinstance(entry, dict) else default
    return SwitchingModel() if name in ("SwitchingCurve", "normalised") else parse_switching_model(name)


def _curve_from(entry: dict, source: str, default_model: str = "SwitchingCurve"):
    if not isinstance(entry, dict) or not isinstance(entry.get("parameters"), dict):
        raise ConfigError(f"{source}: fit entry has no 'parameters' object; expected {PARAMETERS}")
    return curve_from_parameters(_model_of(entry, default_model, source), entry["parameters"], source)


def load_fit_json(path: str | os.PathLike) -> tuple[SwitchingCurve, dict[str, SwitchingCurve], dict]:
    """Reads a calibration JSON: (pooled curve, device -> curve, the raw object).

    Raises:
      ConfigError: unreadable file, invalid JSON, another schema or schema version.
    """
    return _parse_fit(read_json(path, "calibration"), str(path))


def _parse_fit(obj, source: str) -> tuple[SwitchingCurve, dict[str, SwitchingCurve], dict]:
    check_schema(obj, FIT_SCHEMA, source)
    default = str(obj.get("model", "SwitchingCurve"))
    pooled = _curve_from(obj.get("pooled", {}), source, default)
    if not isinstance(obj.get("devices", []), list) or not all(isinstance(d, dict) for d in obj.get("devices", [])):
        raise ConfigError(f"{source}: 'devices' must be a list of fit objects, got {obj.get('devices')!r:.80}")
    devices = {str(d.get("device", i)): _curve_from(d, source, default) for i, d in enumerate(obj.get("devices", []))}
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

    Returns (curve, preset), preset None for a calibration file: its population's typical
    device when it has one (array data), else its pooled curve.

    Raises:
      ConfigError: not a file and not a known preset (lists them), or a bad/other-version file.
    """
    key = str(name_or_path)
    preset, fit = _preset_or_fit(key)
    if preset is not None:
        return preset.pbit, preset
    pooled, _, obj = _parse_fit(fit, key)
    return (_population(obj["population"], key)[0] if "population" in obj else pooled), None


def _population(population, source: str):
    """(typical curve, SwitchingSpread) of a calibration's "population" entry."""
    if not isinstance(population, dict) or not isinstance(population.get("sd"), dict):
        raise ConfigError(f"{source}: 'population' needs 'model', 'typical' and 'sd' objects")
    typical = curve_from_parameters(_model_of(population, "SwitchingCurve", source), population.get("typical") or {},
                                    f"{source}: population")
    try:
        sd = {name: float(population["sd"][name]) for name in PARAMETERS}
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(f"{source}: population 'sd' needs {PARAMETERS} ({err})") from None
    bad = [name for name, value in sd.items() if not value >= 0]
    if bad:
        raise ConfigError(f"{source}: population 'sd' of {bad} must be >= 0")
    return typical, SwitchingSpread(*(np.float32(sd[name]) for name in PARAMETERS))


def device_preset(name_or_path: str | os.PathLike) -> DevicePreset:
    """The device a crossbar's P-bits are made of: a preset name, a preset JSON or a calibration JSON.

    A calibration JSON (`cimjax device calibrate`) replaces the default preset's P-bit.
    With a "population" (array data, `fit_population`) the nominal P-bit is the population's
    typical device and the spread its random-effects sd (estimation error removed; the sd of
    v50 in volts, of the positive parameters in log space as lognormal sigmas). Otherwise
    the pooled curve is the nominal one, and the spread is the plain per-device one when the
    file holds two or more devices (standard deviation of v50, relative standard deviations
    of the positive parameters), else the default preset's (Fig. 13, an assumption for your
    devices). The write pulse is the default width (700 ps, Fig. 11) at the voltage where the
    nominal curve first switches with probability 0.5 (the paper's operating point, Fig. 12).
    The data-bit stays the default preset's.

    A calibration with both switching directions ("directions", from a CSV with a
    `direction` column) gives a two-direction preset: `pbit` is P -> AP's nominal curve,
    `pbit_ap_to_p` AP -> P's, the spread is P -> AP's (assumption: both directions spread
    alike), and the write pulse is where the mean of the two directions first reaches 0.5.

    Raises:
      ConfigError: not a file and not a known preset (lists them), or a bad/other-version file.
    """
    key = str(name_or_path)
    preset, fit = _preset_or_fit(key)
    if preset is not None:
        return preset
    _, _, obj = _parse_fit(fit, key)
    base = default_preset()
    pooled, spread = _nominal(obj, key, base.pbit_spread)
    reverse = None
    directions = obj.get("directions", {})
    if not isinstance(directions, dict) or not set(directions) <= set(DIRECTIONS):
        raise ConfigError(f"{key}: 'directions' must be an object with keys among {DIRECTIONS}")
    if len(directions) == 2:  # the top level is P -> AP's entry (`save_fit_json`)
        pooled = _nominal(directions["p_to_ap"], f"{key}: directions.p_to_ap", base.pbit_spread)[0]
        reverse = _nominal(directions["ap_to_p"], f"{key}: directions.ap_to_p", base.pbit_spread)[0]
    width = base.calibrated_width
    voltage = _half_voltage(pooled, reverse, width)
    if not np.isfinite(float(voltage)):
        raise ConfigError(f"{key}: the fitted curve never reaches P_sw = 0.5 at the default width {float(width):.3g} s; "
                         f"set PbitConfig(voltage=..., width=...) explicitly")
    return base.replace(pbit=pooled, pbit_spread=spread, calibrated_voltage=voltage, name=f"calibration {key}",
                        pbit_ap_to_p=reverse)


def _half_voltage(curve, reverse, width, points: int = 4097):
    """Lowest pulse amplitude [V] at which `curve` (or, with `reverse`, the mean of the two
    directions: half the pairs of a random-sign weight matrix switch each way) reaches P_sw = 0.5."""
    if reverse is None:
        return curve.voltage_for_probability(0.5, width)
    mean = lambda v: 0.5 * (np.asarray(curve.switching_probability(v, width), float)  # noqa: E731
                            + np.asarray(reverse.switching_probability(v, width), float))
    lo = min(float(c.v50 - 12 * c.v_scale) for c in (curve, reverse))
    hi = max(float(c.v50 + 12 * c.v_scale) for c in (curve, reverse))
    grid = np.linspace(lo, hi, points)
    above = np.flatnonzero(mean(grid) >= 0.5)
    if above.size == 0 or above[0] == 0:
        return np.float32(np.nan)
    a, b = grid[above[0] - 1], grid[above[0]]
    for _ in range(40):
        mid = 0.5 * (a + b)
        a, b = (mid, b) if mean(np.float32(mid)) < 0.5 else (a, mid)
    return np.float32(0.5 * (a + b))


def _nominal(entry: dict, key: str, default_spread: SwitchingSpread):
    """(nominal curve, spread) of one calibration entry: its population's typical device and
    random-effects sd, else its pooled curve and the plain per-device spread (or `default_spread`)."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{key}: expected a calibration entry object")
    if "population" in entry:
        return _population(entry["population"], key)
    pooled = _curve_from(entry.get("pooled", {}), key, str(entry.get("model", "SwitchingCurve")))
    if "spread" not in entry:
        return pooled, default_spread
    try:
        stats = {name: (float(entry["spread"][name]["mean"]), float(entry["spread"][name]["std"])) for name in PARAMETERS}
    except (KeyError, TypeError, ValueError) as err:
        raise ConfigError(f"{key}: bad 'spread' entry ({err}); expected mean and std of {PARAMETERS}") from None
    bad = [n for n, (mean, std) in stats.items() if not (std >= 0 and (n == "v50" or mean > 0))]
    if bad:
        raise ConfigError(f"{key}: 'spread' of {bad} needs std >= 0 and, for positive parameters, mean > 0")
    rel = lambda name: np.float32(stats[name][1] / stats[name][0])  # noqa: E731 - lognormal sigma ~ std / mean
    return pooled, SwitchingSpread(sigma_v50=np.float32(stats["v50"][1]), sigma_log_v_scale=rel("v_scale"),
                                   sigma_log_period=rel("precession_period"), sigma_log_damping=rel("damping_time"))
