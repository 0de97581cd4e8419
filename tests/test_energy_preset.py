"""Energy presets: every shipped parameter documented; bad presets rejected by name."""

import copy
import json
import types

import pytest

from cimjax.errors import CimjaxError
from cimjax.energy import default_energy_preset, figures, load_energy_preset, parse_energy_preset, with_device
from cimjax.energy import ALL_PARAMS
from cimjax.energy import PRESET_DIR


@pytest.fixture()
def raw():
    return json.loads((PRESET_DIR / "default.json").read_text())


def test_every_shipped_parameter_has_a_source_and_known_unit(raw):
    blocks = [("parameters", raw["parameters"])] + [
        (f"designs.{n}", d["parameters"]) for n, d in raw["designs"].items()]
    for where, block in blocks:
        for key, entry in block.items():
            assert key in ALL_PARAMS, (where, key)
            assert entry["source"].strip(), (where, key)
            assert entry["source"].startswith(("Fig.", "assumption", "R_P", "p(1", "no ")), key


def test_default_preset_designs(raw):
    p = default_energy_preset()
    assert list(p.designs) == list(raw["designs"])
    assert {d.scheme for d in p.designs.values()} == {"in_situ", "ex_situ_periphery", "ex_situ_pcb"}
    assert p.design("in_situ")["write_width"] == pytest.approx(700e-12)  # ps -> s
    assert p.design("in_situ")["line_capacitance_per_cell"] == pytest.approx(0.25e-15)
    assert p.for_scheme("ex_situ_periphery").name == "ex_situ_periphery"


def _error(data):
    with pytest.raises(CimjaxError) as info:
        parse_energy_preset(data, "my.json")
    return str(info.value)


def test_missing_parameter(raw):
    del raw["parameters"]["write_width"]
    msg = _error(raw)
    assert msg.startswith("my.json: designs.in_situ: write_width: missing parameter")


def test_negative_parameter(raw):
    raw["parameters"]["driver_capacitance"]["value"] = -1
    assert "driver_capacitance: value -1 must be >= 0" in _error(raw)


def test_zero_where_positive_required(raw):
    raw["parameters"]["write_resistance"]["value"] = 0
    assert "write_resistance: value 0 must be > 0" in _error(raw)


def test_unknown_unit(raw):
    raw["parameters"]["write_width"]["unit"] = "fortnight"
    msg = _error(raw)
    assert "write_width: unknown unit 'fortnight'" in msg and "'ps'" in msg


def test_unit_of_wrong_dimension(raw):
    raw["parameters"]["write_width"]["unit"] = "V"
    assert "write_width: unit 'V' is a voltage, but write_width is a time" in _error(raw)


def test_unknown_scheme(raw):
    raw["designs"]["in_situ"]["scheme"] = "quantum"
    assert "my.json: designs.in_situ.scheme: 'quantum' is not one of" in _error(raw)


def test_unknown_parameter(raw):
    raw["designs"]["ex_situ_pcb"]["parameters"]["flux_capacitor"] = {"value": 1, "unit": "1"}
    assert "designs.ex_situ_pcb.parameters: flux_capacitor: unknown parameter" in _error(raw)


@pytest.mark.parametrize("value,message", [("1.5", "value '1.5' is not a number"),
                                           (True, "value True is not a number"),
                                           (float("nan"), "value nan is not finite")])
def test_non_numeric_values(raw, value, message):
    raw["parameters"]["write_voltage"]["value"] = value
    assert f"write_voltage: {message}" in _error(raw)


def test_ranges(raw):
    bad = copy.deepcopy(raw)
    bad["parameters"]["bus_toggle_probability"]["value"] = 1.5
    assert "bus_toggle_probability: value 1.5 must be <= 1" in _error(bad)
    raw["designs"]["ex_situ_periphery"]["parameters"]["n_pbits"]["value"] = 2.5
    assert "designs.ex_situ_periphery.parameters: n_pbits: value 2.5 must be a whole number" in _error(raw)


def test_malformed_entries_and_header(raw):
    bad = copy.deepcopy(raw)
    bad["parameters"]["write_voltage"] = 1.5
    assert "write_voltage: expected {\"value\"" in _error(bad)
    bad = copy.deepcopy(raw)
    bad["version"] = 2
    assert "my.json: version: this cimjax reads version 1, got 2" in _error(bad)
    bad["version"], bad["schema"] = 1, "other"
    assert "schema: expected 'cimjax.energy.preset'" in _error(bad)
    bad["schema"], bad["designs"] = raw["schema"], {}
    assert "designs: expected a non-empty object" in _error(bad)


def test_files(tmp_path, raw):
    path = tmp_path / "p.json"
    path.write_text('{"schema": "cimjax.energy.preset",\n "version": 1,,}')
    with pytest.raises(CimjaxError, match=r"p.json:2:15: invalid JSON"):
        load_energy_preset(path)
    with pytest.raises(CimjaxError, match=r"preset 'nonesuch' is neither a file nor a shipped"):
        load_energy_preset("nonesuch")
    path.write_text(json.dumps(raw))
    assert load_energy_preset(path).designs.keys() == default_energy_preset().designs.keys()


def test_design_replace_validates():
    d = default_energy_preset().design("in_situ")
    with pytest.raises(CimjaxError, match="key='warp' is not a parameter"):
        d.replace(warp=1.0)
    with pytest.raises(CimjaxError, match="write_width: value -1.0 must be > 0"):
        d.replace(write_width=-1.0)
    with pytest.raises(CimjaxError, match="design 'nope' is not in preset"):
        default_energy_preset().design("nope")


def test_with_device_takes_pulse_and_read_resistances_from_a_device():
    data_bit = types.SimpleNamespace(conductances=lambda v: (1 / 40e3, 1 / 70e3))
    device = types.SimpleNamespace(calibrated_voltage=1.2, calibrated_width=1e-9, data_bit=data_bit)
    p = with_device(default_energy_preset(), device)
    for d in p.designs.values():
        assert (d["write_voltage"], d["write_width"]) == (1.2, 1e-9)
        assert d["read_resistance_p"] == pytest.approx(40e3)
        assert d["read_resistance_ap"] == pytest.approx(70e3)
        assert d.sources["write_voltage"] == "cimjax.device preset"


def test_default_preset_agrees_with_cimjax_device():
    from cimjax.device import default_preset

    device = default_preset()
    d = default_energy_preset().design("in_situ")
    assert d["write_voltage"] == pytest.approx(float(device.calibrated_voltage), rel=0.02)
    assert d["write_width"] == pytest.approx(float(device.calibrated_width), rel=0.03)
    # the device's read resistances barely move the figures (reads are ~2% of the energy)
    linked = {n: figures(x) for n, x in with_device(default_energy_preset()).designs.items()}
    own = {n: figures(x) for n, x in default_energy_preset().designs.items()}
    for name in own:
        assert linked[name].energy_pJ_per_bit == pytest.approx(own[name].energy_pJ_per_bit, rel=0.05)
