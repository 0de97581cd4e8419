"""Bad input (issue 2): each case raises CimjaxError naming the file, line and column or parameter, before any fit."""

import json

import jax.numpy as jnp
import pytest

import cimjax.device._calibration as calibration
from cimjax.errors import CimjaxError
from cimjax.cli import main
from cimjax.device import (
    TableCurve,
    default_preset,
    load_curve,
    load_fit_json,
    load_preset,
    load_switching_csv,
    pbit_bitstream,
    pulse_for_probability,
)

HEADER = "voltage,width,switched,trials"


def _csv(tmp_path, *lines, name="m.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    "lines, expected",
    [
        (("voltage,width,switched", "1.5,7e-10,3"), ":1: missing column 'trials'"),
        ((HEADER, "1.5,7e-10,3,10", "1.5,abc,3,10"), ":3: column 2 ('width'): 'abc' is not a number"),
        ((HEADER, "1.5,7e-10,nan,10"), ":2: column 3 ('switched'): 'nan' is not finite"),
        ((HEADER, "1.5,7e-10,11,10"), ":2: column 3 ('switched'): switched=11 > trials=10"),
        ((HEADER, "1.5,7e-10,0,-5"), ":2: column 4 ('trials'): trials=-5 must be >= 0"),
        ((HEADER, "1.5,-7e-10,3,10"), ":2: column 2 ('width'): width=-7e-10 must be > 0"),
        ((HEADER, "1.5,7e-10,-1,10"), ":2: column 3 ('switched'): switched=-1 must be >= 0"),
        (("voltage,width,probability,trials", "1.5,7e-10,1.2,10"), ":2: column 3 ('probability'): probability=1.2 outside [0, 1]"),
        (("voltage,width,probability,trials", "1.5,7e-10,-0.1,10"), ":2: column 3 ('probability'): probability=-0.1 outside [0, 1]"),
        ((HEADER, "1.5,7e-10,3"), ":2: 3 cells, header has 4 columns"),
        ((HEADER + ",widht", "1.5,7e-10,3,10,1"), ":1: column 5 ('widht') is not one of"),
        ((HEADER, "1.5,7e-10,2.5,10"), ":2: column 3 ('switched'): '2.5' is not a whole number"),
        ((HEADER,), ": no data rows after the header"),
    ],
)
def test_bad_csv_names_file_line_column(tmp_path, lines, expected):
    path = _csv(tmp_path, *lines)
    with pytest.raises(CimjaxError) as err:
        load_switching_csv(path)
    assert str(err.value) == f"{path}{expected}" or str(err.value).startswith(f"{path}{expected}")


def test_comment_lines_keep_file_line_numbers(tmp_path):
    path = _csv(tmp_path, "# provenance", HEADER, "# note", "1.5,7e-10,3,10", "1.5,7e-10,12,10")
    with pytest.raises(CimjaxError, match=r"m\.csv:5: column 3 \('switched'\): switched=12 > trials=10"):
        load_switching_csv(path)


def test_cli_rejects_bad_csv_before_any_fit(tmp_path, monkeypatch, capsys):
    def no_fit(*args, **kwargs):
        raise AssertionError("a fit ran on bad input")

    monkeypatch.setattr(calibration, "fit_switching_curve", no_fit)
    path = _csv(tmp_path, HEADER, "1.5,7e-10,11,10")
    out = tmp_path / "p.json"
    assert main(["device", "calibrate", str(path), "--out", str(out)]) == 2
    assert f"{path}:2: column 3 ('switched'): switched=11 > trials=10" in capsys.readouterr().err
    assert not out.exists()


def test_unknown_preset_lists_known_names(capsys):
    with pytest.raises(CimjaxError, match=r"unknown device preset 'vcma9000'.*\['default'\]"):
        load_preset("vcma9000")
    with pytest.raises(CimjaxError, match=r"unknown device preset 'vcma9000'.*\['default'\]"):
        load_curve("vcma9000")
    assert main(["device", "curve", "vcma9000", "--voltage", "1.5"]) == 2
    assert "['default']" in capsys.readouterr().err


def test_other_schema_version_is_rejected(tmp_path, capsys):
    obj = default_preset().to_dict()
    obj["schema_version"] = 2
    preset_path = tmp_path / "preset.json"
    preset_path.write_text(json.dumps(obj))
    with pytest.raises(CimjaxError, match=r"preset\.json: schema_version=2 is not supported; this cimjax reads schema_version=1"):
        load_preset(preset_path)
    fit_path = tmp_path / "fit.json"
    fit_path.write_text(json.dumps({"schema": "cimjax.device.switching_fit", "schema_version": 0}))
    with pytest.raises(CimjaxError, match=r"fit\.json: schema_version=0 is not supported"):
        load_fit_json(fit_path)
    assert main(["device", "curve", str(fit_path), "--voltage", "1.5"]) == 2
    assert "schema_version=0 is not supported" in capsys.readouterr().err


def test_malformed_params_json_names_line_and_column(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "schema": "cimjax.device.preset",\n  "schema_version": 1,,\n}')
    with pytest.raises(CimjaxError, match=r"bad\.json:3:\d+: invalid JSON"):
        load_preset(path)


def test_probabilities_outside_unit_interval_are_rejected(capsys):
    curve = default_preset().pbit
    with pytest.raises(CimjaxError, match=r"p=1\.5 must be a probability in \[0, 1\]"):
        pulse_for_probability(curve, 1.5, 7e-10)
    with pytest.raises(CimjaxError, match=r"p_sw=-0\.2 must be a probability"):
        pbit_bitstream(jnp.zeros(2, jnp.uint32), jnp.array([0.5, -0.2]), 10)
    with pytest.raises(CimjaxError, match=r"p_sw=nan must be a probability"):
        pbit_bitstream(jnp.zeros(2, jnp.uint32), jnp.array([jnp.nan]), 10)
    with pytest.raises(CimjaxError, match=r"probabilities\[1, 0\]=1\.5 outside \[0, 1\]"):
        TableCurve.create([1.0, 2.0], [1e-10, 2e-10], [[0.1, 0.2], [1.5, 0.3]])
    assert main(["device", "curve", "default", "--probability", "1.5"]) == 2
    assert "--probability=1.5 must be a probability in [0, 1]" in capsys.readouterr().err


def test_bad_bitstream_mode_and_state():
    with pytest.raises(CimjaxError, match=r"mode='flip' must be one of \('reset', 'toggle'\)"):
        pbit_bitstream(jnp.zeros(2, jnp.uint32), 0.5, 10, mode="flip")
    with pytest.raises(CimjaxError, match=r"initial_state=2 must be 0 or 1"):
        pbit_bitstream(jnp.zeros(2, jnp.uint32), 0.5, 10, initial_state=2)


def _pulses_csv(tmp_path, pulses, device=None, trials=100):
    """A CSV with one row per (voltage, width) pulse, half the trials switched."""
    lines = [HEADER + (",device" if device else "")]
    for v, w in pulses:
        lines.append(f"{v},{w},{trials // 2},{trials}" + (f",{device(v, w)}" if device else ""))
    return _csv(tmp_path, *lines)


GRID = [(v, w) for v in (0.8, 1.2, 1.6, 2.0, 2.4) for w in (3e-10, 7e-10, 1.1e-9, 1.5e-9)]


@pytest.mark.parametrize(
    "pulses, args, expected",
    [
        (GRID, ["--model", "sigmoid"], "unknown switching model 'sigmoid'"),
        (GRID, ["--model", "precession+amp"], "modifier 'amp' is not one of"),
        ([(v, 7e-10) for v in (0.8, 1.2, 1.6, 2.0)], [],
         "precession_period: 1 distinct width(s) [7e-10] cannot fit a precession period"),
        ([(1.0, 3e-10), (2.0, 7e-10), (1.0, 1.1e-9)], ["--model", "normalised"],
         "3 distinct pulses (voltage, width) < 4 parameters"),
        ([(v, w) for v in (0.8, 1.6, 2.4) for w in (3e-10, 7e-10, 1.1e-9) if v == 1.6 or w == 7e-10],
         ["--model", "precession+vcma"], "frequency_slope: the precession period must be seen at two voltages"),
        ([(v, w) for v, w in GRID if w < 1.5e-9], ["--model", "precession+dephasing"],
         "dephasing_time: 3 distinct widths cannot separate it from the other levels (needs >= 4)"),
        ([(v, w) for v in (1.0, 2.0) for w in (3e-10, 7e-10, 1.1e-9)], ["--model", "precession+amplitude"],
         "amplitude: 2 distinct voltages cannot separate it"),
    ],
)
def test_unidentifiable_models_are_rejected_before_any_fit(tmp_path, monkeypatch, capsys, pulses, args, expected):
    def no_fit(*a, **k):
        raise AssertionError("a fit ran on bad input")

    monkeypatch.setattr(calibration, "_levenberg_marquardt", no_fit)
    path = _pulses_csv(tmp_path, pulses)
    out = tmp_path / "p.json"
    assert main(["device", "calibrate", str(path), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cimjax device calibrate: error: ") and expected in err, err
    assert not out.exists()


def test_each_device_of_an_array_must_identify_the_form(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(calibration, "_levenberg_marquardt", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    pulses = GRID + [(v, 7e-10) for v in (0.8, 1.2)]
    path = _pulses_csv(tmp_path, pulses, device=lambda v, w: "d2" if (v, w) in pulses[-2:] else ("d0" if v < 1.5 else "d1"))
    assert main(["device", "calibrate", str(path), "--out", str(tmp_path / "p.json")]) == 2
    assert "(device 'd2')" in capsys.readouterr().err


def test_beta_binomial_needs_more_than_one_trial(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(calibration, "_levenberg_marquardt", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    path = _csv(tmp_path, HEADER, *(f"{v},{w},{i % 2},1" for i, (v, w) in enumerate(GRID)))
    assert main(["device", "calibrate", str(path), "--out", str(tmp_path / "p.json"), "--model", "precession",
                 "--likelihood", "beta-binomial"]) == 2
    assert "overdispersion: every row has trials <= 1" in capsys.readouterr().err


def test_utf8_byte_order_mark_and_windows_line_endings_are_read(tmp_path):
    # Excel's "CSV UTF-8" starts the file with a byte order mark; Windows ends lines with CR LF
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + f"{HEADER}\r\n1.5,7e-10,3,10\r\n1.0,7e-10,1,10\r\n".encode())
    data = load_switching_csv(path)
    assert data.voltage.tolist() == [1.5, 1.0] and data.switched.tolist() == [3, 1]
    preset = tmp_path / "preset.json"
    assert main(["device", "preset", "default", "--out", str(preset)]) == 0
    preset.write_bytes(b"\xef\xbb\xbf" + preset.read_bytes())
    assert load_preset(preset).calibrated_voltage == default_preset().calibrated_voltage


@pytest.mark.parametrize(
    "lines, expected",
    [
        ((HEADER, "1.5,7e-10,5,1e20"), ":2: column 4 ('trials'): trials=1e20 is above 1e+15 pulses"),
        ((HEADER, "1.5,7e-10,1e19,1e19"), ":2: column 4 ('trials'): trials=1e19 is above 1e+15 pulses"),
        (("voltage;width;switched;trials", "1.5;7e-10;3;10"), ":1: column 1 ('voltage;width;switched;trials') is not "
         "one of ('voltage', 'width', 'trials', 'switched', 'probability', 'device', 'direction'); cells are separated "
         "by commas, not ';'"),
    ],
)
def test_huge_counts_and_semicolons_are_named(tmp_path, lines, expected):
    path = _csv(tmp_path, *lines)
    with pytest.raises(CimjaxError) as err:  # was OverflowError from numpy's int64 conversion
        load_switching_csv(path)
    assert str(err.value).startswith(f"{path}{expected}")


def test_cli_huge_trials_is_one_line(tmp_path, capsys):
    path = _csv(tmp_path, HEADER, "1.5,7e-10,5,1e20")
    out = tmp_path / "p.json"
    assert main(["device", "calibrate", str(path), "--out", str(out)]) == 2
    assert "column 4 ('trials'): trials=1e20 is above" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("switched, expected", [(lambda n: n, "every pulse switched"), (lambda n: 0, "no pulse switched")])
@pytest.mark.parametrize("model", [[], ["--model", "normalised"]])
def test_all_or_nothing_switching_is_rejected_before_any_fit(tmp_path, monkeypatch, capsys, switched, expected, model):
    # was: a "fit" written to --out with every interval nan (v50 0.56 V when all switched, 3.9 V when none did)
    monkeypatch.setattr(calibration, "_levenberg_marquardt", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    path = _csv(tmp_path, HEADER, *(f"{v},{w},{switched(100)},100" for v, w in GRID), "1.0,7e-10,0,0")
    out = tmp_path / "p.json"
    assert main(["device", "calibrate", str(path), "--out", str(out), *model]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cimjax device calibrate: error: ") and f"v50: {expected} in any row" in err, err
    assert not out.exists()
    with pytest.raises(CimjaxError, match=expected):
        calibration.fit_switching_curve(load_switching_csv(path))


@pytest.mark.parametrize("devices", [[1], "abc", {"d0": {}}])
def test_calibration_json_with_malformed_devices_is_named(tmp_path, capsys, devices):
    # was: AttributeError: 'int' object has no attribute 'get' (a traceback even without CIMJAX_DEBUG)
    pooled = {"model": "normalised", "parameters": {"v50": 1.5, "v_scale": 0.2, "precession_period": 1.4e-9,
                                                    "damping_time": 1e-9}}
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"schema": "cimjax.device.switching_fit", "schema_version": 1, "model": "normalised",
                                "pooled": pooled, "devices": devices}))
    with pytest.raises(CimjaxError, match=r"fit\.json: 'devices' must be a list of fit objects"):
        load_fit_json(path)
    assert main(["device", "curve", str(path), "--voltage", "1.5"]) == 2
    assert "'devices' must be a list of fit objects" in capsys.readouterr().err


@pytest.mark.parametrize("change, needle", [
    (lambda o: o.update(pbit_spread=None), "pbit_spread must be a JSON object, got NoneType"),
    (lambda o: o["pbit_spread"].update(sigma_v50=float("nan")), "pbit_spread must have finite, non-negative"),
    (lambda o: o.update(calibrated_voltage=-1.5), "calibrated_voltage=-1.5 must be a finite number > 0"),
    (lambda o: o.update(calibrated_width=0), "calibrated_width=0 must be a finite number > 0"),
    (lambda o: o.update(read_voltage=float("inf")), "read_voltage=inf must be a finite number > 0"),
    # were: "SwitchingCurve: v_scale=-1 must be > 0" without the file; "bad preset field: could not convert ..."
    # without the field; "bad preset field: 'int' object is not iterable"
    (lambda o: o["pbit"].update(v_scale=-1), "pbit: SwitchingCurve: v_scale=-1 must be > 0"),
    (lambda o: o["pbit"].update(damping_time=0), "pbit: SwitchingCurve: damping_time=0 must be > 0"),
    (lambda o: o["pbit"].update(v_scale="abc"), "pbit: v_scale='abc' is not a number"),
    (lambda o: o.update(pbit=5), "pbit must be a JSON object, got int"),
    (lambda o: o.update(pbit_ap_to_p=dict(o["pbit"], link="logistic", amplitude=2)),
     "pbit_ap_to_p: PrecessionCurve: amplitude=2 must be in (0, 1]"),
    # were: "DataBit: ..." without the file, "DataBit: missing fields [], unknown fields ['bogus']", and
    # "bad preset field: could not convert string to float: 'big'" / "argument after ** must be a mapping"
    (lambda o: o["data_bit"].update(ra_product=-1), "data_bit: DataBit: ra_product=-1 must be finite and > 0"),
    (lambda o: o["data_bit"].update(sigma_read=float("nan")), "data_bit: DataBit: sigma_read=nan must be finite"),
    (lambda o: o["data_bit"].update(bogus=1), "data_bit: DataBit: unknown fields ['bogus']; expected ['ra_product'"),
    (lambda o: o["data_bit"].pop("area"), "data_bit: DataBit: missing fields ['area']; expected"),
    (lambda o: o["data_bit"].update(area="big"), "data_bit: DataBit: area='big' is not a number"),
    (lambda o: o.update(data_bit=[1]), "data_bit must be a JSON object, got list"),
])
def test_preset_json_with_impossible_fields_is_named(tmp_path, change, needle):
    # were: AttributeError (null spread), or a preset accepted with a nan spread, a negative write voltage or a
    # zero pulse width (every P-bit then has P_sw = 0)
    obj = default_preset().to_dict()
    change(obj)
    path = tmp_path / "preset.json"
    path.write_text(json.dumps(obj))
    with pytest.raises(CimjaxError) as err:
        load_preset(path)
    assert str(err.value) == f"{path}: {needle}" or str(err.value).startswith(f"{path}: {needle}")


STEP = [f"{v},{w},{0 if v < 1.5 else 100},100" for v in (1.2, 1.4, 1.6, 1.8) for w in (3e-10, 5e-10, 7e-10, 9e-10)]


@pytest.mark.parametrize("model", [[], ["--model", "normalised", "--likelihood", "binomial"]])
def test_sharp_step_without_partial_switching_is_rejected_before_any_fit(tmp_path, monkeypatch, capsys, model):
    # was: exit 0 and a "fit" (damping_time 3.7 ps, v_scale 2.6 mV) written to --out with every stderr and
    # interval NaN: none of 100 switched at <= 1.4 V, all 100 at >= 1.6 V, at every width
    monkeypatch.setattr(calibration, "_levenberg_marquardt", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    path = _csv(tmp_path, HEADER, *STEP)
    out = tmp_path / "p.json"
    assert main(["device", "calibrate", str(path), "--out", str(out), *model]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cimjax device calibrate: error: ") and err.count("\n") == 1, err
    assert ("v_scale: the switching transition is not resolved: no pulse (voltage, width) switched on some but "
            "not all of its trials (none switched up to 1.4 V, all from 1.6 V)") in err, err
    assert "measure pulses inside the transition" in err
    assert not out.exists()
    with pytest.raises(CimjaxError, match="transition is not resolved"):
        calibration.fit_switching_curve(load_switching_csv(path))


def test_partial_switching_or_single_shots_resolve_the_transition(tmp_path):
    from cimjax.device._models import SwitchingModel, check_identifiable

    # one row switching sometimes is enough
    check_identifiable(load_switching_csv(_csv(tmp_path, HEADER, *STEP, "1.5,7e-10,40,100", name="a.csv")),
                       SwitchingModel())
    # replicate rows of one pulse are pooled: 100 of 200 switched at (1.6 V, 3e-10 s)
    check_identifiable(load_switching_csv(_csv(tmp_path, HEADER, *STEP, "1.6,3e-10,0,100", name="b.csv")),
                       SwitchingModel())
    # single shots that are not a step in voltage (a switch below a non-switch) are left to the fit
    lines = [f"{v},{w},{int(v < 1.5) if w == 3e-10 else int(v > 1.5)},1" for v in (1.2, 1.4, 1.6, 1.8)
             for w in (3e-10, 5e-10, 7e-10)]
    check_identifiable(load_switching_csv(_csv(tmp_path, HEADER, *lines, name="c.csv")), SwitchingModel())


@pytest.mark.parametrize("model, change, needle", [
    ("normalised", {"v_scale": -1}, "model 'normalised': SwitchingCurve: v_scale=-1.0 must be > 0"),
    ("normalised", {"damping_time": "x"}, "model 'normalised': parameter damping_time='x' is not a number"),
    ("precession+amplitude", {"amplitude": 3}, "model 'precession+amplitude': PrecessionCurve: amplitude=3.0 must be"),
])
def test_calibration_parameter_out_of_range_is_not_called_not_a_number(tmp_path, capsys, model, change, needle):
    # was: "model 'normalised': a parameter is not a number (SwitchingCurve: v_scale=-1.0 must be > 0)"
    parameters = {"v50": 1.5, "v_scale": 0.2, "precession_period": 1.4e-9, "damping_time": 1e-9, "amplitude": 0.9}
    path = tmp_path / "fit.json"
    path.write_text(json.dumps({"schema": "cimjax.device.switching_fit", "schema_version": 1, "model": model,
                                "pooled": {"model": model, "parameters": {**parameters, **change}}}))
    with pytest.raises(CimjaxError) as err:
        load_fit_json(path)
    assert str(err.value).startswith(f"{path}: {needle}"), err.value
    assert "is not a number" not in str(err.value) or "'x'" in str(err.value)
    assert main(["device", "curve", str(path), "--voltage", "1.5"]) == 2
    assert capsys.readouterr().err == f"cimjax device curve: error: {err.value}\n"
