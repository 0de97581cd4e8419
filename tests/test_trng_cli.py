"""`cimjax trng test` / `generate`: output schema and clear errors on bad input (never a traceback)."""

import json

import numpy as np
import pytest

from cimjax.cli import main


def run(capsys, *argv):
    code = main(["trng", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_schema_on_ascii_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, 3000)
    path = tmp_path / "s.txt"
    path.write_text("\n".join(" ".join(map(str, bits[i:i + 70])) for i in range(0, bits.size, 70)))
    code, out, _ = run(capsys, "test", str(path), "--json")
    assert code == 0
    obj = json.loads(out)
    assert set(obj) == {"n_bits", "tests", "extra"} and obj["n_bits"] == 3000
    from cimjax.trng import TEST_NAMES

    assert list(obj["tests"]) == list(TEST_NAMES)
    for name, entry in obj["tests"].items():
        assert set(entry) in ({"p_values", "passed"}, {"skipped"}), name
    # 3000 bits: too short for universal and excursions, and serial's m = 16 exceeds log2 n
    assert "387840" in obj["tests"]["universal"]["skipped"]
    assert "m=16" in obj["tests"]["serial"]["skipped"]
    assert "cycles" in obj["tests"]["random_excursions"]["skipped"]


def test_bytes_and_npy_formats_agree(tmp_path, capsys):
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, 8 * 2000, dtype=np.uint8)
    (tmp_path / "a.bin").write_bytes(np.packbits(bits).tobytes())
    np.save(tmp_path / "a.npy", bits.astype(bool))
    results = []
    for name in ("a.bin", "a.npy"):
        code, out, _ = run(capsys, "test", str(tmp_path / name), "--json", "--tests", "frequency,runs")
        assert code == 0
        results.append(json.loads(out)["tests"])
    assert results[0] == results[1]


@pytest.mark.parametrize("content, fmt, message", [
    ("0101\n01x1\n", None, "line 2, column 3"),
    ("", None, "no bits"),
    ("   \n\t", None, "no bits"),
])
def test_bad_ascii(tmp_path, capsys, content, fmt, message):
    path = tmp_path / "bad.txt"
    path.write_text(content)
    code, _, err = run(capsys, "test", str(path))
    assert code == 2 and message in err and "Traceback" not in err


def test_unknown_format_and_extension(tmp_path, capsys):
    path = tmp_path / "x.weird"
    path.write_text("0101")
    code, _, err = run(capsys, "test", str(path))
    assert code == 2 and "--format" in err
    with pytest.raises(SystemExit):  # argparse rejects an unknown --format choice
        main(["trng", "test", str(path), "--format", "hex"])


def test_non_binary_npy_and_empty_bytes(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.array([0, 1, 2, 1]))
    code, _, err = run(capsys, "test", str(tmp_path / "x.npy"))
    assert code == 2 and "only 0 and 1" in err and "index (0, 2)" in err
    (tmp_path / "e.bin").write_bytes(b"")
    code, _, err = run(capsys, "test", str(tmp_path / "e.bin"))
    assert code == 2 and "empty" in err
    code, _, err = run(capsys, "test", str(tmp_path / "missing.npy"))
    assert code == 2 and "no such file" in err


def test_parameter_too_large_is_a_clear_skip(tmp_path, capsys):
    np.save(tmp_path / "r.npy", np.random.default_rng(2).integers(0, 2, 5000))
    code, out, _ = run(capsys, "test", str(tmp_path / "r.npy"), "--json", "--approximate-entropy-m", "20",
                       "--block-frequency-m", "10000")
    tests = json.loads(out)["tests"]
    assert code == 0
    assert "m=20 is too large" in tests["approximate_entropy"]["skipped"]
    assert "block_size=10000" in tests["block_frequency"]["skipped"]
    code, _, err = run(capsys, "test", str(tmp_path / "r.npy"), "--serial-m", "0")
    assert code == 2 and "serial_m=0" in err


def test_generate_then_test_multi_stream(tmp_path, capsys):
    out = tmp_path / "g.npy"
    code, text, _ = run(capsys, "generate", "--devices", "3", "--bits", "2048", "--mode", "reset",
                        "--p-sw", "0.5", "--seed", "4", "--out", str(out), "--conductance-out", str(tmp_path / "g_g.npy"))
    assert code == 0 and out.exists() and "Shannon entropy" in text
    assert np.load(out).shape == (3, 2048) and np.load(tmp_path / "g_g.npy").shape == (3, 2048)
    code, text, _ = run(capsys, "test", str(out), "--json", "--tests", "frequency,runs,cumulative_sums")
    obj = json.loads(text)
    assert code == 0 and obj["n_streams"] == 3 and len(obj["streams"]) == 3
    assert set(obj["second_level"]) == {"frequency", "runs", "cumulative_sums"}
    code, _, err = run(capsys, "generate", "--devices", "2", "--bits", "8", "--out", str(tmp_path / "g.bin"))
    assert code == 2 and "one stream" in err
