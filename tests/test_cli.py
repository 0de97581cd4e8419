"""The command line as a user meets it (issues 11 and 16): every subcommand driven with mistakes.

Each mistake ends in exactly one line `cimjax <command>: error: ...` on stderr, exit code 2,
no traceback and nothing new on disk, and is caught before any training or fit. Ctrl-C ends
in exit code 130 and says how to carry on; a real SIGINT to `cimjax sample` is resumed.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cimjax.cli import build_parser, main
from cimjax.device import parse_quantity
from cimjax.errors import CimjaxError

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"  # binary, not UTF-8


def run(capsys, argv):
    """`cimjax ARGV` in this process: (exit code, stdout, stderr); an argparse exit counts as its code."""
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """A folder with the files the mistakes name; nothing may train, fit or sample in it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fit.png").write_bytes(PNG)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("keep")
    (tmp_path / "ps.csv").write_text("voltage,width,switched,trials\n1.5,7e-10,5,10\n1.5,700,5,10\n")
    (tmp_path / "bits.txt").write_text("0110" * 64)
    (tmp_path / "empty.png").write_bytes(b"")
    from cimjax.device import default_preset

    shifted = default_preset().to_dict()  # a device that needs more than 1.5 V for P_sw = 0.5
    shifted["pbit"]["v50"] = 1.6
    (tmp_path / "v50_1.6.json").write_text(json.dumps(shifted))

    def never(*args, **kwargs):
        raise AssertionError("work started on bad input")

    import cimjax.apps.classification
    import cimjax.apps.diffusion
    import cimjax.apps.regression
    import cimjax.device

    monkeypatch.setattr(cimjax.apps.diffusion, "prepare_models", never)
    monkeypatch.setattr(cimjax.apps.diffusion, "run_demo", never)
    monkeypatch.setattr(cimjax.apps.regression, "run_regression", never)
    monkeypatch.setattr(cimjax.apps.classification, "run_classification", never)
    monkeypatch.setattr(cimjax.device, "fit_switching_curve", never)
    return tmp_path


# (argv, a phrase the one-line message must hold); every leaf command appears at least once
MISTAKES = [
    (["device", "calibrate", "missing.csv", "--out", "p.json"], "'missing.csv': no such file"),
    (["device", "calibrate", "ps.csv", "--out", "p.json"],
     "ps.csv:3: column 2 ('width'): 700 s is implausible for a pulse width or time (above 1 ms); "
     "did you mean picoseconds? write 700e-12 or 700ps"),
    (["device", "calibrate", "fit.png", "--out", "p.json"], "fit.png:1: cannot read switching data: not UTF-8 text"),
    (["device", "calibrate", "example", "--out", "p.json", "--confidence", "1.5"], "--confidence=1.5"),
    (["device", "calibrate", "example", "--out", "p.json", "--plot", "fit.gif"], "must end in one of"),
    (["device", "calibrate", "example", "--out", "busy"], "'busy' is a folder; give a file name"),
    (["device", "curve", "fit.png", "--voltage", "1.5"], "fit.png:1: cannot read device preset or calibration: "
                                                         "not UTF-8 text (byte 0x89 at offset 0)"),
    (["device", "curve", "v50_1.6.json", "--probability", "0.5", "--voltage", "1.5"],
     "--probability 0.5 is not reachable at --voltage 1.5 V: widths give 0 < P_sw <= 0.39"),
    (["device", "curve", "default", "--voltage", "1.5", "--width", "700"], "did you mean picoseconds? write 700e-12"),
    (["device", "curve", "default", "--voltage", "1500"], "did you mean millivolts? write 1500e-3 or 1500mV"),
    (["device", "curve", "default", "--voltage", "1.5", "--width", "7V"], "'V' is not a unit of time"),
    (["device", "curve", "default"], "give --voltage"),
    (["device", "curve", "busy", "--voltage", "1.5"], "'busy' is a folder"),
    (["device", "curve", "default", "--voltage", "1.5", "--data", "ps.csv"], "add --plot"),
    (["device", "preset", "vcma9000", "--out", "p.json"], "unknown device preset 'vcma9000'"),
    (["device", "preset", "default", "--out", "fit.png/p.json"], "is a file, not a folder"),
    (["device", "pairs", "--image", "missing.png"], "--image 'missing.png': no such file"),
    (["device", "pairs", "--image", "fit.png"], "fit.png: cannot read image: not a PNG image"),
    (["device", "pairs", "--image", "empty.png"], "empty.png: cannot read image: the file is empty"),
    (["device", "pairs", "--image", "bits.txt"], "--image 'bits.txt' must be a .png file"),
    (["device", "pairs", "--image", "busy"], "--image 'busy' is a folder"),
    (["device", "pairs", "--out", "busy"], "--out 'busy' exists and is not empty; pass --force"),
    (["device", "pairs", "--preset", "fit.png"], "fit.png:1: cannot read device preset or calibration: not UTF-8"),
    (["device", "pairs", "--seed", "-1"], "--seed=-1 must be >= 0"),
    (["trng", "generate", "--bits", "0", "--out", "s.npy"], "--bits=0 must be >= 1"),
    (["trng", "generate", "--bits", "10", "--out", "s.npy", "--width", "700"], "did you mean picoseconds?"),
    (["trng", "generate", "--bits", "10", "--out", "s.npy", "--preset", "fit.png"], "not UTF-8 text"),
    (["trng", "generate", "--bits", "10", "--out", "fit.png/s.npy"], "is a file, not a folder"),
    (["trng", "test", "missing.txt"], "'missing.txt': no such file"),
    (["trng", "test", "busy"], "'busy' is a folder"),
    (["trng", "test", "bits.txt", "--plot", "busy"], "must end in one of"),
    (["energy", "table", "--preset", "fit.png"], "fit.png:1: cannot read preset: not UTF-8 text"),
    (["energy", "table", "--preset", "nonesuch"], "neither a file nor a shipped preset"),
    (["energy", "sweep", "--out", "sweep.txt"], "give a path ending in .png"),
    (["energy", "sweep", "--preset", "busy"], "'busy' is a folder"),
    (["energy", "preset", "--out", "busy"], "'busy' is a folder; give a file name"),
    (["regress", "--out", "busy", "--quick"], "--out 'busy' exists and is not empty; pass --force"),
    (["regress", "--out", "fit.png", "--quick"], "'fit.png' is a file, not a folder"),
    (["regress", "--out", "r", "--device", "fit.png", "--quick"], "not UTF-8 text"),
    (["regress", "--out", "r", "--steps", "0"], "--steps=0"),
    (["classify", "--out", "busy"], "--out 'busy' exists and is not empty; pass --force"),
    (["classify", "--out", "fit.png"], "'fit.png' is a file, not a folder"),
    (["classify", "--out", "c", "--device", "fit.png"], "not UTF-8 text"),
    (["classify", "--out", "c", "--steps", "0"], "--steps=0"),
    (["classify", "--out", "c", "--mc-samples", "1"], "--mc-samples=1 must be >= 2"),
    (["classify", "--out", "c", "--seed", "-1"], "--seed=-1"),
    # was: training set up, then OverflowError (Python int too large to convert to C long) from jax.random.key
    (["classify", "--out", "c", "--seed", str(2**63)], f"--seed={2**63} must be <= 2**63 - 1"),
    (["regress", "--out", "r", "--seed", str(2**64), "--quick"], f"--seed={2**64} must be <= 2**63 - 1"),
    (["demo", "--out", "d", "--seed", str(2**63), "--quick"], f"--seed={2**63} must be <= 2**63 - 1"),
    (["sample", "--n", "4", "--out", "fit.png", "--quick"], "--out 'fit.png' is a file, not a folder"),
    (["sample", "--n", "4", "--out", "busy", "--quick"], "pass --force"),
    (["sample", "--n", "0", "--out", "s", "--quick"], "--n 0"),
    (["demo", "--out", "", "--quick"], "--out '' is empty"),
    (["demo", "--out", "d", "--quick", "--seed", str(2**32)], f"--seed={2**32} must be <= 2**32 - 1"),
    (["classify", "--out", " ", "--force"], "--out ' ' is empty"),
    (["demo", "--out", ".", "--quick", "--force"], "--out '.' holds the current folder"),
    (["regress", "--out", "..", "--quick", "--force"], "--out '..' holds the current folder"),
    (["demo", "--out", "d", "--quick", "--programming-sigma", "nan"], "--programming-sigma: Hardware: programming_sigma=nan"),
    (["sample", "--n", "4", "--out", "s", "--quick", "--read-noise", "-1"], "--read-noise: Hardware: read_noise=-1.0"),
    (["sample", "--n", "4", "--out", "s", "--seed", "-3", "--quick"], "--seed -3 must be in [0, 2**32 - 1]"),
    (["sample", "--n", "4", "--out", "s", "--seed", str(2**32), "--quick"], f"--seed {2**32} must be in"),
    (["sample", "--n", "4", "--out", "s", "--cache", "fit.png", "--quick"], "--cache 'fit.png' is a file"),
    (["demo", "--out", "busy", "--quick"], "--out 'busy' exists and is not empty; pass --force"),
    (["demo", "--out", "d", "--mnist", "missing.npz", "--quick"], "'missing.npz': no such file or folder"),
    (["sample", "--n", "4", "--out", "s", "--distributed", "--num-processes", "0"], "--num-processes 0 must be >= 1"),
    (["sample", "--n", "4", "--out", "s", "--distributed", "--num-processes", "2", "--process-id", "2"],
     "--process-id 2 is out of range for --num-processes 2 (0 .. 1)"),
    (["sample", "--n", "4", "--out", "s", "--distributed", "--coordinator", "nohost"], "must be HOST:PORT"),
    (["sample", "--n", "4", "--out", "s", "--process-id", "1"], "--process-id needs --distributed"),
    (["sample", "--n", "4", "--out", "s", "--distributed", "--coordinator", "127.0.0.1:9", "--num-processes", "2",
      "--process-id", "1", "--init-timeout", "1"], "--coordinator 127.0.0.1:9 did not answer within 1 s"),
    (["launch", "-n", "0", "--", "true"], "--num-processes 0 must be an int >= 1"),
    (["launch", "-n", "2"], "no command given"),
    (["launch", "-n", "2", "--port", "70000", "--", "true"], "--port 70000 must be in 1..65535"),
    # were: N processes started: N whole, unrelated runs into one --out, or ranks waiting for processes never started
    (["launch", "-n", "2", "--", "cimjax", "sample", "--n", "4", "--out", "s", "--quick"],
     "launch: `cimjax sample` needs --distributed, else 2 processes each run the whole job alone"),
    (["launch", "-n", "2", "--", sys.executable, "-m", "cimjax", "demo", "--quick"], "`cimjax demo` needs --distributed"),
    (["launch", "-n", "2", "--", "cimjax", "regress", "--quick"],
     "launch: `cimjax regress` does not run distributed (only sample, demo take --distributed)"),
    (["launch", "-n", "2", "--", "cimjax", "sample", "--distributed", "--num-processes", "4", "--n", "4", "--out", "s"],
     "launch: remove --num-processes from `cimjax sample`: the launcher sets"),
    (["launch", "-n", "2", "--", "cimjax", "demo", "--distributed", "--process-id=1", "--coordinator", "h:1"],
     "launch: remove --coordinator, --process-id from `cimjax demo`"),
]


@pytest.mark.parametrize("argv, phrase", MISTAKES, ids=[" ".join(a) for a, _ in MISTAKES])
def test_a_mistake_is_one_line_exit_2_and_leaves_nothing(workdir, capsys, argv, phrase):
    before = sorted(workdir.rglob("*"))
    code, out, err = run(capsys, argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"cimjax {' '.join(_command(argv))}: error: ") and phrase in lines[0], lines[0]
    assert "Traceback" not in err and out == ""
    assert sorted(workdir.rglob("*")) == before


def _command(argv):
    return tuple(argv[:2]) if argv[0] in ("device", "trng", "energy") else (argv[0],)


def _leaf_commands(parser, prefix=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaf_commands(sub, (*prefix, name))
            return
    yield prefix


def test_every_command_has_a_mistake():
    leaves = set(_leaf_commands(build_parser()))
    covered = {_command(argv) for argv, _ in MISTAKES}
    assert leaves == covered


def test_every_option_has_help():
    missing = []

    def walk(parser):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if not (action.help or "").strip():
                missing.append(f"{parser.prog} {'/'.join(action.option_strings) or action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    walk(build_parser())
    assert not missing, missing


def test_wrong_flag_shows_the_subcommands_usage(capsys):
    code, _, err = run(capsys, ["trng", "generate", "--bits", "10", "--out", "s.npy", "--bogus"])
    assert code == 2 and err.startswith("usage: cimjax trng generate ")
    assert "cimjax trng generate: error: unrecognized arguments: --bogus" in err


@pytest.mark.parametrize("argv, usage", [([], "usage: cimjax "), (["trng"], "usage: cimjax trng "),
                                         (["energy"], "usage: cimjax energy "), (["device"], "usage: cimjax device ")])
def test_no_command_prints_help_and_fails(capsys, argv, usage):
    code, out, err = run(capsys, argv)
    assert code == 2 and out == "" and err.startswith(usage)


def test_version(capsys):
    from importlib.metadata import version

    code, out, _ = run(capsys, ["--version"])
    assert code == 0 and out == f"cimjax {version('cimjax')}\n"


@pytest.mark.parametrize("text, dimension, value", [
    ("700ps", "time", 700e-12), ("0.7ns", "time", 0.7e-9), ("700e-12", "time", 700e-12), (" 700 ps ", "time", 7e-10),
    ("5us", "time", 5e-6), ("2µs", "time", 2e-6), ("1.5V", "voltage", 1.5), ("1.5", "voltage", 1.5),
    ("-800mV", "voltage", -0.8), ("1e-3", "time", 1e-3),
])
def test_quantities_with_and_without_units(text, dimension, value):
    assert parse_quantity(text, dimension, "--x") == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("text, dimension, message", [
    ("700", "time", "did you mean picoseconds? write 700e-12 or 700ps"),
    ("1.5", "time", "did you mean nanoseconds? write 1.5e-9 or 1.5ns"),
    ("7e5", "time", "did you mean picoseconds? write 7e-07 or 7e5ps"),
    ("1500", "voltage", "did you mean millivolts? write 1500e-3 or 1500mV"),
    ("seven", "time", "'seven' is not a number"),
    ("nan", "voltage", "'nan' is not a number"),
    ("7 furlongs", "time", "'furlongs' is not a unit of time"),
    ("7 ps", "voltage", "'ps' is not a unit of voltage"),
])
def test_implausible_or_unreadable_quantities_are_refused(text, dimension, message):
    with pytest.raises(CimjaxError, match="^--x: ") as info:
        parse_quantity(text, dimension, "--x")
    assert message in str(info.value)


def test_a_csv_may_write_its_units(tmp_path):
    from cimjax.device import load_switching_csv

    path = tmp_path / "units.csv"
    path.write_text("voltage,width,switched,trials\n1500mV,700ps,5,10\n1.2,0.7ns,3,10\n")
    data = load_switching_csv(path)
    np.testing.assert_allclose(data.voltage, [1.5, 1.2])
    np.testing.assert_allclose(data.width, [7e-10, 7e-10])


def test_last_resort_is_one_line_but_debug_shows_the_traceback(capsys, monkeypatch):
    import cimjax.apps.energy_table as energy_table

    def broken(preset):
        raise IsADirectoryError(21, "Is a directory", "somewhere")

    monkeypatch.setattr(energy_table, "table_rows", broken)
    with pytest.raises(IsADirectoryError):  # CIMJAX_DEBUG=1 (the suite's setting): the traceback
        main(["energy", "table"])
    monkeypatch.delenv("CIMJAX_DEBUG")
    code, _, err = run(capsys, ["energy", "table"])
    assert code == 2 and err == "cimjax energy table: error: somewhere: Is a directory (CIMJAX_DEBUG=1 shows where)\n"
    monkeypatch.setattr(energy_table, "table_rows", lambda preset: None + 1)
    with pytest.raises(TypeError):  # a programming error is never turned into a message
        main(["energy", "table"])


@pytest.mark.parametrize("argv, again", [(["energy", "table"], "start again"),
                                         (["sample", "--n", "2", "--out", "s"], "resume")])
def test_ctrl_c_exits_130_and_says_how_to_carry_on(capsys, monkeypatch, argv, again):
    import cimjax.apps.diffusion as diffusion
    import cimjax.apps.energy_table as energy_table

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(energy_table, "table_rows", interrupted)
    monkeypatch.setattr(diffusion, "prepare_models", interrupted)
    code, _, err = run(capsys, argv)
    prog = " ".join(["cimjax", *argv[:2]]) if argv[0] == "energy" else "cimjax sample"
    assert code == 130 and err == f"{prog}: interrupted: rerun the same command to {again}\n"


def test_interrupted_demo_leaves_no_folder_so_the_same_command_runs_again(workdir, capsys, monkeypatch):
    import cimjax.apps.diffusion

    def interrupted_demo(cfg, out, **kwargs):
        (Path(out) / "metrics.md").write_text("half")
        raise KeyboardInterrupt

    monkeypatch.setattr(cimjax.apps.diffusion, "run_demo", interrupted_demo)
    before = sorted(workdir.rglob("*"))
    code, _, err = run(capsys, ["demo", "--out", "d", "--quick"])
    assert code == 130 and "interrupted: rerun the same command to resume" in err
    assert sorted(workdir.rglob("*")) == before


def test_a_demo_that_fails_leaves_no_half_written_results(workdir, capsys, monkeypatch):
    import cimjax.apps.diffusion
    from cimjax.errors import DataFileError

    def failing_demo(cfg, out, **kwargs):
        (Path(out) / "metrics.md").write_text("half")
        raise DataFileError("digits.npz: broken")

    monkeypatch.setattr(cimjax.apps.diffusion, "run_demo", failing_demo)
    code, _, err = run(capsys, ["demo", "--out", "d", "--quick"])
    assert code == 2 and "digits.npz: broken" in err and not (workdir / "d").exists()
    # over old results with --force: the old ones are gone (as --force says), no half-written file stays
    (workdir / "old").mkdir()
    (workdir / "old" / "metrics.md").write_text("old results")
    code, _, _ = run(capsys, ["demo", "--out", "old", "--quick", "--force"])
    assert code == 2 and not (workdir / "old" / "metrics.md").exists()


def test_regress_force_and_demo_force_pass_the_overwrite_rule(workdir, capsys):
    # with --force the check lets the command start (and it then reaches the guard of the fixture)
    for argv in (["regress", "--out", "busy", "--quick", "--force"], ["demo", "--out", "busy", "--quick", "--force"],
                 ["classify", "--out", "busy", "--force"]):
        with pytest.raises(AssertionError, match="work started"):
            main(argv)


# the smallest diffusion demo that samples: its training is compile time only
TINY = dict(vae_steps=2, clf_steps=2, score_steps=2, insitu_steps=2, native_steps=2, n_eval=100, n_steps=10, latent_dim=2,
            vae_hidden=8, score_hidden=8, score_depth=1, insitu_passes=2, noise_rows=2)
# `cimjax sample` with TINY as the --quick configuration: first an uninterrupted run into
# STRAIGHT (the reference), then the command itself (the one interrupted), in one process
# so that the models are trained once
SAMPLE = f"""
import sys
from cimjax.apps.diffusion import DemoConfig
from cimjax.cli import main
DemoConfig.quick = classmethod(lambda cls, **kw: cls(**{{**{TINY!r}, **kw}}))
straight, argv = sys.argv[1], sys.argv[2:]
assert main([*argv[:-1], straight]) == 0
sys.exit(main(argv))
"""


SHARDS = 32  # of 4 samples, 100 reverse steps each: long enough to be interrupted between two shards


def _sample_argv(out, cache):
    return ["sample", "--quick", "--cache", str(cache), "--n", str(4 * SHARDS), "--batch", "4", "--steps", "100",
            "--out", str(out)]


def _completed(out: Path) -> list:
    try:
        return json.loads((out / "manifest.json").read_text())["completed"]
    except (OSError, ValueError, KeyError):
        return []


def test_sigint_on_sample_then_rerun_resumes_to_identical_shards(tmp_path, monkeypatch, capsys):
    """Issue 16: Ctrl-C on `cimjax sample` -> 130 and a message; the same command resumes."""
    out, straight, cache = tmp_path / "run", tmp_path / "straight", tmp_path / "cache"
    argv = _sample_argv(out, cache)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SAMPLE, str(straight), *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not _completed(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()[1]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "cimjax sample: interrupted: rerun the same command to resume" in err and "Traceback" not in err
    done = _completed(out)
    assert 1 <= len(done) < SHARDS, done  # interrupted between the first and the last shard

    from cimjax.apps.diffusion import DemoConfig

    monkeypatch.setattr(DemoConfig, "quick", classmethod(lambda cls, **kw: cls(**{**TINY, **kw})))
    capsys.readouterr()
    assert main(argv) == 0  # the same command again, resumed from the models and shards on disk
    assert f"resuming at shard {min(set(range(SHARDS)) - set(done)) + 1}/{SHARDS}" in capsys.readouterr().err
    assert _completed(out) == list(range(SHARDS))
    names = sorted(p.name for p in straight.glob("*.npy"))
    assert len(names) == 2 * SHARDS and names == sorted(p.name for p in out.glob("*.npy"))
    for name in names:
        assert (out / name).read_bytes() == (straight / name).read_bytes(), name


def test_launch_refuses_a_port_in_use_before_starting_processes(workdir, capsys, monkeypatch):
    import socket
    import subprocess

    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: (_ for _ in ()).throw(AssertionError("started")))
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, out, err = run(capsys, ["launch", "-n", "2", "--port", str(port), "--", "true"])
    assert code == 2 and out == ""
    assert err.startswith(f"cimjax launch: error: --port {port}: cannot listen on 127.0.0.1:{port} (") and \
        err.count("\n") == 1, err
