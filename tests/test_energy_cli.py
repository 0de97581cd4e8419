"""`cimjax energy table | sweep | preset`, through the command line's own entry point."""

import contextlib
import io
import json

import pytest

from cimjax.cli import main
from cimjax.energy import PRESET_DIR, load_energy_preset


def run(argv):
    """Runs `cimjax ARGV`; returns (exit code, its error message or ""). Stdout stays with capsys."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    return code, (err.getvalue().strip().split("error: ", 1)[-1] if code else "")


def test_table_text(capsys):
    assert run(["energy", "table"]) == (0, "")
    out = capsys.readouterr().out
    assert "in_situ (computed)" in out and "JSSC'24 [8] (cited)" in out
    assert "in-situ vs ex_situ_periphery:" in out


def test_table_json(capsys):
    assert run(["energy", "table", "--json"])[0] == 0
    data = json.loads(capsys.readouterr().out)
    kinds = [r["kind"] for r in data["rows"]]
    assert kinds.count("computed") == 4 and kinds.count("cited") == 6
    assert {q["versus"] for q in data["ratios"]} == {"ex_situ_periphery", "ex_situ_periphery_wide",
                                                     "ex_situ_pcb"}


def test_sweep_writes_png_and_json(tmp_path):
    out = tmp_path / "figs" / "sweep.png"
    assert run(["energy", "sweep", "--out", str(out)]) == (0, "")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(out.with_suffix(".json").read_text())
    assert set(data["axes"]) == {"array_size", "parallelism", "write_width"}
    s = data["axes"]["write_width"]
    assert len(s["designs"]["in_situ"]["throughput_bit_per_ns"]) == len(s["values"])
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary files left behind


def test_preset_round_trip_and_edited_preset(tmp_path, capsys):
    path = tmp_path / "mine.json"
    assert run(["energy", "preset", "--out", str(path)]) == (0, "")
    raw = json.loads(path.read_text())
    raw["parameters"]["write_width"]["value"] = 1400
    path.write_text(json.dumps(raw))
    assert load_energy_preset(path).design("in_situ")["write_width"] == pytest.approx(1.4e-9)
    assert run(["energy", "table", "--json", "--preset", str(path)])[0] == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows[0]["throughput_bit_per_ns"] < 29  # a longer pulse, a longer cycle


def test_errors_name_the_key(tmp_path):
    raw = json.loads((PRESET_DIR / "default.json").read_text())
    raw["parameters"]["read_time"]["value"] = -2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw))
    code, msg = run(["energy", "table", "--preset", str(bad)])
    assert code == 2 and "bad.json: parameters: read_time: value -2 must be > 0" in msg
    code, msg = run(["energy", "sweep", "--out", str(tmp_path / "sweep.txt")])
    assert code == 2 and "give a path ending in .png" in msg
