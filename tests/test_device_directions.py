"""Two switching directions (issue 13, item 1): P->AP and AP->P calibrated apart, and the
crossbar's pairs keep with the curve of the direction their stored weight's sign sets."""

import json
import math

import jax
import numpy as np
import pytest
from scipy import stats

from cimjax.cli import main
from cimjax.crossbar import (
    CrossbarConfig,
    Mapping,
    PbitConfig,
    Periphery,
    crossbar_matmul,
    crossbar_moments,
    keep_probability,
    needs_reset,
    nominal_keep_probability,
)
from cimjax.device import (
    FIT_SCHEMA,
    SCHEMA_VERSION,
    DevicePreset,
    PrecessionCurve,
    SwitchingData,
    default_preset,
    device_preset,
    load_switching_csv,
    save_switching_csv,
    simulate_switching_data,
)
from cimjax.errors import DataFileError

# The stray field adds to the bias field in one direction and subtracts in the other: a
# shifted 50% voltage and a different precession period (assumed values).
TRUTH = {
    "p_to_ap": {"v50": 1.4, "v_scale": 0.23, "precession_period": 1.2e-9, "damping_time": 1.0e-9},
    "ap_to_p": {"v50": 1.7, "v_scale": 0.28, "precession_period": 1.4e-9, "damping_time": 0.8e-9},
}
VOLTAGES = np.linspace(0.6, 2.6, 20)
WIDTHS = np.linspace(0.2e-9, 2.0e-9, 8)


def _two_direction_csv(path, seed=0, trials=1000):
    parts = [simulate_switching_data(jax.random.PRNGKey(seed + i), PrecessionCurve.create(**TRUTH[d]), VOLTAGES,
                                     WIDTHS, trials) for i, d in enumerate(TRUTH)]
    data = SwitchingData(*(np.concatenate([getattr(p, f) for p in parts]) for f in SwitchingData._fields[:5]),
                         direction=np.repeat(np.array(list(TRUTH), dtype=object), [len(p.voltage) for p in parts]))
    save_switching_csv(data, path, comment="two directions")
    return data


def test_each_direction_is_fitted_back_within_its_intervals(tmp_path, capsys):
    csv = tmp_path / "two.csv"
    data = _two_direction_csv(csv)
    assert load_switching_csv(csv).directions == ["p_to_ap", "ap_to_p"]
    assert len(data.voltage) == 2 * 20 * 8
    # Bonferroni: all 4 x 2 intervals cover their truth with probability >= 95%
    confidence = 1 - 0.05 / 8
    out = tmp_path / "fit.json"
    assert main(["device", "calibrate", str(csv), "--model", "precession", "--out", str(out), "--json",
                 "--confidence", str(confidence)]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads(out.read_text())
    assert set(printed["directions"]) == set(saved["directions"]) == set(TRUTH)
    for d, truth in TRUTH.items():
        entry = printed["directions"][d]
        assert entry["model"] == "precession" and entry["converged"]
        assert saved["directions"][d]["pooled"]["parameters"] == entry["parameters"]
        for name, value in truth.items():
            lo, hi = entry["intervals"][name]
            assert lo <= value <= hi, (d, name, lo, value, hi)
    # the directions are told apart: their v50 intervals do not overlap
    (lo_a, hi_a), (lo_b, hi_b) = (printed["directions"][d]["intervals"]["v50"] for d in TRUTH)
    assert hi_a < lo_b
    assert printed["parameters"] == printed["directions"]["p_to_ap"]["parameters"]  # top level: P->AP


def _calibration(path):
    """A two-direction calibration JSON with the TRUTH curves as its pooled fits."""
    entry = lambda d: {"model": "precession", "pooled": {"model": "precession", "parameters": TRUTH[d]}}  # noqa: E731
    obj = {"schema": FIT_SCHEMA, "schema_version": SCHEMA_VERSION, **entry("p_to_ap"), "devices": [],
           "directions": {d: entry(d) for d in TRUTH}}
    path.write_text(json.dumps(obj))
    return str(path)


def _p_sw(direction, voltage, width):
    """Independent closed form of the precession form: sigmoid((V - v50)/s) (1 - exp(-t/tau) cos(2 pi t/T)) / 2."""
    c = TRUTH[direction]
    s = 1.0 / (1.0 + math.exp(-(voltage - c["v50"]) / c["v_scale"]))
    return s * 0.5 * (1.0 - math.exp(-width / c["damping_time"]) * math.cos(2 * math.pi * width / c["precession_period"]))


def _config(device, **pbit):
    # the direction alone: no programming variation (on by default), ideal periphery, no spread
    return CrossbarConfig(mapping=Mapping("analog"), periphery=Periphery.ideal(), programming_sigma=0.0,
                          pbit=PbitConfig(device=device, spread=False, **pbit))


WEIGHTS = np.array([[0.8, -0.5, 0.0, -1.0], [-0.3, 0.6, 1.0, -0.2], [0.4, -0.9, -0.7, 0.1]], np.float32)


def test_each_cell_keeps_with_its_weights_direction(tmp_path):
    path = _calibration(tmp_path / "fit.json")
    preset = device_preset(path)
    assert preset.bidirectional
    # default pulse: 700 ps, at the voltage where the mean of the two directions is 0.5
    v, t = float(preset.calibrated_voltage), float(preset.calibrated_width)
    assert 0.5 * (_p_sw("p_to_ap", v, t) + _p_sw("ap_to_p", v, t)) == pytest.approx(0.5, abs=1e-4)
    assert nominal_keep_probability(_config(path).pbit) == pytest.approx(0.5, abs=1e-4)
    assert needs_reset(_config(path))  # the mean is 0.5, but neither direction is
    for voltage, width in ((1.5, 700e-12), (1.9, 500e-12)):
        p = np.asarray(keep_probability(_config(path, voltage=voltage, width=width), WEIGHTS.shape, WEIGHTS))
        want = np.where(WEIGHTS < 0, _p_sw("ap_to_p", voltage, width), _p_sw("p_to_ap", voltage, width))
        np.testing.assert_allclose(p, want, rtol=2e-5)
    with pytest.raises(Exception, match="two switching directions; pass the programmed cells"):
        keep_probability(_config(path), WEIGHTS.shape)


def test_moments_use_each_cells_direction_and_reads_match_them(tmp_path):
    path = _calibration(tmp_path / "fit.json")
    voltage, width = 1.5, 700e-12
    x = np.tile(np.array([[1.0, -0.5, 0.8]], np.float32), (4096, 1))
    want_p = np.where(WEIGHTS < 0, _p_sw("ap_to_p", voltage, width), _p_sw("p_to_ap", voltage, width))
    cells = WEIGHTS / np.abs(WEIGHTS).max()  # analog mapping: the scale is max |w|
    want_mean = np.abs(WEIGHTS).max() * (x[:1] @ (want_p * cells))
    want_var = np.abs(WEIGHTS).max() ** 2 * ((x[:1] ** 2) @ (want_p * (1 - want_p) * cells**2))
    for mode, refresh in (("exact", 1), ("refresh", 8), ("moment", 1)):
        cfg = _config(path, voltage=voltage, width=width, mode=mode, refresh=refresh)
        mean, var = (np.asarray(a) for a in crossbar_moments(x[:1], WEIGHTS, cfg))
        np.testing.assert_allclose(mean, want_mean, rtol=1e-5)
        np.testing.assert_allclose(var, want_var, rtol=1e-5)
        y = np.asarray(crossbar_matmul(x, WEIGHTS, jax.random.key(3), cfg))
        # CLT bound on the sample mean, family-wise 99% over the 4 columns; `refresh` consecutive
        # samples share one mask, so the mean has len(x) / refresh independent blocks
        z = stats.norm.ppf(1 - 0.01 / (2 * WEIGHTS.shape[1]))
        bound = z * np.sqrt(want_var[0] * refresh / len(x))
        assert np.all(np.abs(y.mean(axis=0) - want_mean[0]) < bound), (mode, y.mean(axis=0), want_mean, bound)


def test_bad_direction_value_names_file_line_and_column(tmp_path, capsys):
    csv = tmp_path / "bad.csv"
    csv.write_text("voltage,width,switched,trials,direction\n1.5,7e-10,500,1000,P->AP\n1.5,7e-10,400,1000,sideways\n")
    with pytest.raises(DataFileError, match=r"bad\.csv:3: column 5 \('direction'\): 'sideways'"):
        load_switching_csv(csv)
    assert main(["device", "calibrate", str(csv), "--out", str(tmp_path / "fit.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.csv:3: column 5" in err[0]
    assert not (tmp_path / "fit.json").exists()


def test_accepted_spellings():
    from cimjax.device import DIRECTION_SPELLINGS

    for text, want in (("P->AP", "p_to_ap"), ("p_ap", "p_to_ap"), (" AP -> P ", "ap_to_p"), ("ap_p", "ap_to_p")):
        assert DIRECTION_SPELLINGS[text.lower().replace(" ", "")] == want


def test_single_direction_csv_is_unchanged(tmp_path, capsys):
    csv = tmp_path / "one.csv"
    save_switching_csv(simulate_switching_data(jax.random.PRNGKey(5), PrecessionCurve.create(**TRUTH["p_to_ap"]),
                                               VOLTAGES, WIDTHS, 1000), csv)
    assert "direction" not in csv.read_text()
    data = load_switching_csv(csv)
    assert data.direction is None and data.directions == []
    out = tmp_path / "fit.json"
    assert main(["device", "calibrate", str(csv), "--model", "precession", "--out", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads(out.read_text())
    assert "directions" not in printed and "directions" not in saved
    assert set(saved) == {"schema", "schema_version", "source", "model", "likelihood", "pooled", "devices", "selection"}
    assert not device_preset(str(out)).bidirectional


def test_two_direction_preset_round_trips_and_reads(tmp_path):
    base = default_preset()
    preset = base.replace(pbit=PrecessionCurve.create(**TRUTH["p_to_ap"]),
                          pbit_ap_to_p=PrecessionCurve.create(**TRUTH["ap_to_p"]))
    path = tmp_path / "preset.json"
    path.write_text(preset.to_json())
    back = DevicePreset.from_json(path.read_text())
    assert back.bidirectional and float(back.pbit_ap_to_p.v50) == pytest.approx(1.7)
    voltage, width = float(back.calibrated_voltage), float(back.calibrated_width)
    p = np.asarray(keep_probability(_config(str(path)), WEIGHTS.shape, WEIGHTS))
    want = np.where(WEIGHTS < 0, _p_sw("ap_to_p", voltage, width), _p_sw("p_to_ap", voltage, width))
    np.testing.assert_allclose(p, want, rtol=2e-5)
    # with the device spread on, one draw per cell moves both of its curves: reads still run in every mode
    for mode in ("exact", "refresh", "moment"):
        cfg = CrossbarConfig(mapping=Mapping("analog"), pbit=PbitConfig(device=str(path), mode=mode, refresh=2))
        y = crossbar_matmul(np.ones((4, 3), np.float32), WEIGHTS, jax.random.key(0), cfg)
        assert np.all(np.isfinite(np.asarray(y)))


def test_layer_gain_keeps_the_mean_on_a_two_direction_device(tmp_path):
    """The column's one gain 1/p cannot undo two keep probabilities; the layers pre-compensate each
    weight by p / p_direction when programming it, so the mean read is the float product (CLT bound)."""
    import flax.linen as nn
    import jax.numpy as jnp

    from cimjax.nn import CrossbarDense, on_crossbar

    path = _calibration(tmp_path / "fit.json")
    x = np.tile(np.array([[1.0, -0.5, 0.8]], np.float32), (8192, 1))
    cfg = _config(path, voltage=1.5, width=700e-12)
    params = {"params": {"kernel": jnp.asarray(WEIGHTS), "bias": jnp.zeros(4)}}
    want = x[:1] @ WEIGHTS
    p = np.where(WEIGHTS < 0, _p_sw("ap_to_p", 1.5, 700e-12), _p_sw("p_to_ap", 1.5, 700e-12))
    pbar = 0.5 * (_p_sw("ap_to_p", 1.5, 700e-12) + _p_sw("p_to_ap", 1.5, 700e-12))
    # each output's variance: sum_i x_i^2 (w_i pbar / p_i)^2 p_i (1 - p_i) / pbar^2
    var = (x[:1] ** 2) @ (WEIGHTS**2 * (1 - p) / p)
    bound = stats.norm.ppf(1 - 0.01 / (2 * 4)) * np.sqrt(var[0] / len(x))
    layer = CrossbarDense(4, config=cfg, deterministic=False)
    y = np.asarray(layer.apply(params, x, rngs={"pbit": jax.random.key(5)}))
    assert np.all(np.abs(y.mean(0) - want[0]) < bound), (y.mean(0), want, bound)
    mean, _ = layer.apply(params, x[:1], return_moments=True)
    np.testing.assert_allclose(np.asarray(mean), want, rtol=1e-5, atol=1e-6)
    converted = on_crossbar(nn.Dense(4), cfg)
    y = np.asarray(converted.apply(params, x, rngs={"pbit": jax.random.key(6)}))
    assert np.all(np.abs(y.mean(0) - want[0]) < bound), (y.mean(0), want, bound)
