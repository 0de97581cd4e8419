"""The crossbar's P-bits made of a device of your own: a calibration or preset JSON."""

import dataclasses
import json

import jax
import numpy as np
import pytest

from cimjax.errors import CimjaxError
from cimjax.crossbar import CrossbarConfig, Mapping, PbitConfig, Periphery, crossbar_matmul, keep_probability, nominal_keep_probability
from cimjax.device import SCHEMA_VERSION, device_preset
from cimjax.device import FIT_SCHEMA

PARAMS = {"v50": 1.2, "v_scale": 0.3, "precession_period": 1.6e-9, "damping_time": 0.9e-9}


def _calibration(path, spread=None):
    obj = {"schema": FIT_SCHEMA, "schema_version": SCHEMA_VERSION, "pooled": {"parameters": PARAMS}, "devices": []}
    if spread is not None:
        obj["spread"] = spread
    path.write_text(json.dumps(obj))
    return str(path)


def _p_sw(voltage, width):
    """Independent closed form: sigmoid in V times the precession factor g(t) / g(first peak)."""
    def g(t):
        return 1 - np.exp(-t / PARAMS["damping_time"]) * np.cos(2 * np.pi * t / PARAMS["precession_period"])

    t = np.linspace(1e-13, PARAMS["precession_period"], 2_000_001)  # the first maximum lies within a period
    return g(width) / g(t).max() / (1 + np.exp(-(voltage - PARAMS["v50"]) / PARAMS["v_scale"]))


def _config(device, **pbit):
    return CrossbarConfig(mapping=Mapping("analog"), periphery=Periphery.ideal(), pbit=PbitConfig(device=device, **pbit))


def test_calibrated_curve_sets_every_cells_keep_probability(tmp_path):
    path = _calibration(tmp_path / "fit.json")
    for voltage, width in ((1.5, 700e-12), (1.0, 500e-12)):
        cfg = _config(path, spread=False, voltage=voltage, width=width)
        p = np.asarray(keep_probability(cfg, (4, 5)))
        np.testing.assert_allclose(p, _p_sw(voltage, width), rtol=1e-4)
    # the default pulse: 700 ps at the voltage where the fitted curve switches half the time
    nominal = nominal_keep_probability(_config(path, spread=False).pbit)
    assert nominal == pytest.approx(0.5, abs=1e-5)
    width = float(device_preset(path).calibrated_width)
    assert width == pytest.approx(700e-12, rel=1e-3)  # Fig. 11's first peak, the default preset's width


def test_measured_spread_replaces_the_default(tmp_path):
    stats = {"v50": (1.2, 0.08), "v_scale": (0.3, 0.03), "precession_period": (1.6e-9, 0.08e-9),
             "damping_time": (0.9e-9, 0.09e-9)}
    spread = {k: {"mean": m, "std": s} for k, (m, s) in stats.items()}
    preset = device_preset(_calibration(tmp_path / "fit.json", spread))
    got = [float(getattr(preset.pbit_spread, f.name)) for f in dataclasses.fields(preset.pbit_spread)]
    np.testing.assert_allclose(got, [0.08, 0.1, 0.05, 0.1], rtol=1e-6)  # v50 absolute, the rest std / mean
    wide = np.asarray(keep_probability(_config(str(tmp_path / "fit.json")), (64, 64)))
    narrow = np.asarray(keep_probability(_config("default"), (64, 64)))
    assert wide.std() > narrow.std()  # sigma_v50 0.08 V against the default preset's 0.05 V


def test_unknown_device_is_named_before_any_read(tmp_path):
    with pytest.raises(CimjaxError, match="no such file"):
        PbitConfig(device=str(tmp_path / "missing.json"))
    with pytest.raises(CimjaxError, match=r"'mine'.*known presets \['default'\]"):
        crossbar_matmul(np.ones((2, 3), np.float32), np.ones((3, 2), np.float32), jax.random.key(0),
                        _config("mine"))
    spread = {k: {"mean": 0.0 if k == "v_scale" else v, "std": 0.1} for k, v in PARAMS.items()}
    with pytest.raises(CimjaxError, match=r"'spread' of \['v_scale'\]"):
        device_preset(_calibration(tmp_path / "spread.json", spread))
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 1,\n')
    with pytest.raises(CimjaxError, match=r"bad\.json:2:\d+: invalid JSON"):
        keep_probability(_config(str(bad)), (2, 2))


def test_programming_variation_and_read_noise_default_to_the_devices(tmp_path):
    from cimjax.crossbar import program_cells, resolved_programming_sigma, resolved_read_noise
    from cimjax.device import default_preset, save_preset

    base = default_preset()
    noisy = base.replace(data_bit=base.data_bit.replace(sigma_device=np.float32(0.08), sigma_read=np.float32(0.02)))
    save_preset(noisy, tmp_path / "noisy.json")
    for device, preset in (("default", base), (str(tmp_path / "noisy.json"), noisy)):
        cfg = CrossbarConfig(pbit=PbitConfig(device=device))
        pair = preset.differential_pair
        assert resolved_programming_sigma(cfg) == pytest.approx(float(pair.programming_spread()), rel=1e-6)
        assert resolved_read_noise(cfg) == pytest.approx(float(pair.read_noise_spread()), rel=1e-6)
        # The programmed cells scatter with that sigma: sample sd of n normals, SE sigma / sqrt(2 n).
        n = 256 * 256
        cells = np.asarray(program_cells(np.ones((256, 256), np.float32), cfg), np.float64)
        sigma = resolved_programming_sigma(cfg)
        assert abs(cells.std() - sigma) < 5 * sigma / np.sqrt(2 * n)
    assert resolved_programming_sigma(CrossbarConfig(pbit=PbitConfig(device=str(tmp_path / "noisy.json")))) > \
        resolved_programming_sigma(CrossbarConfig())  # sigma_device 8% against the preset's 4% (Fig. 8)
    ideal = CrossbarConfig.ideal()
    assert resolved_programming_sigma(ideal) == 0.0 and resolved_read_noise(ideal) == 0.0
    assert not ideal.pbit.spread and ideal.periphery.is_ideal
    explicit = CrossbarConfig(programming_sigma=0.02, periphery=Periphery(read_noise=0.01))
    assert (resolved_programming_sigma(explicit), resolved_read_noise(explicit)) == (0.02, 0.01)
