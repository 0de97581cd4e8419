"""Sampling on JAX's distributed runtime: 2 processes on 127.0.0.1 write exactly one process's samples.

`cimjax launch -n 2 -- ... sample --distributed` against a single-process run of the same
seed; then a rank killed mid-run and the run relaunched resumes without losing or
repeating a sample. Every process is bounded by a timeout and killed in a finally.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from cimjax.apps.diffusion import DemoConfig, load_samples, prepare_models
from cimjax.cli import main

ROOT = Path(__file__).resolve().parents[1]
# a diffusion demo whose training is compile time only (as in test_cli.py)
TINY = dict(vae_steps=2, clf_steps=2, score_steps=2, insitu_steps=2, native_steps=2, n_eval=100, n_steps=10, latent_dim=2,
            vae_hidden=8, score_hidden=8, score_depth=1, insitu_passes=2, noise_rows=2)
RUNNER = f"""
import sys
from cimjax.apps.diffusion import DemoConfig
from cimjax.cli import main
DemoConfig.quick = classmethod(lambda cls, **kw: cls(**{{**{TINY!r}, **kw}}))
sys.exit(main(sys.argv[1:]))
"""
N, BATCH = 4096, 256
KILL_BATCH = 16  # 256 shards: a kill lands mid-run
# one launch of 2 processes took 38 s on an idle 2-core machine and over 120 s in CI beside
# another test worker (start-up compilation in both ranks): a bound for hangs, not for speed
LAUNCH_TIMEOUT = 360


def _argv(out, cache, steps, batch=BATCH):
    return ["sample", "--quick", "--cache", str(cache), "--sampler", "in_situ", "--n", str(N), "--batch", str(batch),
            "--steps", str(steps), "--seed", "3", "--out", str(out)]


def _launch(argv):
    cmd = [sys.executable, "-m", "cimjax", "launch", "-n", "2", "--", sys.executable, "-c", RUNNER, *argv,
           "--distributed", "--init-timeout", "60"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc, timeout):
    try:
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def _children(pid):
    """The launcher's rank processes, oldest first (from /proc/*/stat: field 4 is the parent)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append((int(fields[19]), int(stat.parent.name)))  # (start time, pid)
    return [p for _, p in sorted(found)]


def _completed(out):
    try:
        return json.loads((out / "manifest.json").read_text())["completed"]
    except (OSError, ValueError, KeyError):
        return []


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    prepare_models(DemoConfig(**{**TINY, **dict(DemoConfig.quick().__dict__, **TINY)}), cache, progress=False)
    return cache


def test_two_processes_write_the_single_process_samples_and_resume_after_a_kill(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(DemoConfig, "quick", classmethod(lambda cls, **kw: cls(**{**TINY, **kw})))
    single = tmp_path / "single"
    assert main(_argv(single, cache, 10)) == 0
    z_one, x_one = load_samples(single)

    both = tmp_path / "both"
    out, err = _finish(_launch(_argv(both, cache, 10)), timeout=LAUNCH_TIMEOUT)
    assert "Traceback" not in err, err[-3000:]
    z_two, x_two = load_samples(both)
    assert z_two.shape == (N, 2) and np.array_equal(z_one, z_two) and np.array_equal(x_one, x_two)
    parts = json.loads((both / "manifest.json").read_text())["parts"]
    assert {p["process"] for ps in parts.values() for p in ps} == {0, 1}

    # kill rank 1 once a shard is on disk; the relaunch resumes and loses or repeats nothing
    killed = tmp_path / "killed"
    argv = _argv(killed, cache, 10, batch=KILL_BATCH)
    proc = _launch(argv)
    try:
        deadline = time.monotonic() + LAUNCH_TIMEOUT
        while not _completed(killed) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        ranks = _children(proc.pid)
        assert len(ranks) == 2 and proc.poll() is None, (ranks, _completed(killed))
        os.kill(ranks[1], signal.SIGKILL)
        _, err = proc.communicate(timeout=LAUNCH_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0 and "process 1 exited" in err
    done = _completed(killed)
    assert 1 <= len(done) < N // KILL_BATCH, done
    _, err = _finish(_launch(argv), timeout=LAUNCH_TIMEOUT)
    assert "resuming at shard" in err, err[-3000:]
    assert _completed(killed) == list(range(N // KILL_BATCH))
    z_kill, x_kill = load_samples(killed)
    # against one process at the same batch (the batch size's own effect: the slow xfail below)
    same_batch = tmp_path / "same_batch"
    assert main(_argv(same_batch, cache, 10, batch=KILL_BATCH)) == 0
    z_same, x_same = load_samples(same_batch)
    assert np.array_equal(z_kill, z_same) and np.array_equal(x_kill, x_same)


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="measured: in one process, in-situ samples at batch 16 and 256 (seed 3, "
                   "TINY models) agree in 4095 of 4096; sample 585 differs by 0.58 (likely a last-bit difference that an "
                   "ADC rounding turned into a level); not yet traced")
def test_the_batch_size_does_not_change_an_end_to_end_sample(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(DemoConfig, "quick", classmethod(lambda cls, **kw: cls(**{**TINY, **kw})))
    for batch in (BATCH, KILL_BATCH):
        assert main(_argv(tmp_path / str(batch), cache, 10, batch=batch)) == 0
    assert np.array_equal(load_samples(tmp_path / str(BATCH))[0], load_samples(tmp_path / str(KILL_BATCH))[0])


@pytest.mark.slow  # a whole demo twice, four samplers each: minutes on 2 cores
def test_two_processes_run_the_demo_of_one(tmp_path, cache, monkeypatch):
    """`cimjax demo --distributed`: every sample of the 2-process run is the single process's, so the
    metrics agree; process 0 alone writes the results folder."""
    monkeypatch.setattr(DemoConfig, "quick", classmethod(lambda cls, **kw: cls(**{**TINY, **kw})))
    argv = ["demo", "--quick", "--cache", str(cache), "--out"]
    assert main([*argv, str(tmp_path / "single")]) == 0
    out, err = _finish(_launch([*argv, str(tmp_path / "both")]), timeout=900)
    assert "Traceback" not in err, err[-3000:]
    one, two = (json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("single", "both"))
    assert two["processes"] == 2 and one["processes"] == 1
    assert two["quality"] == one["quality"] and two["transitions"] == one["transitions"]
    assert sorted(p.name for p in (tmp_path / "both").iterdir()) == sorted(p.name for p in (tmp_path / "single").iterdir())


TRAIN = """
import os, sys
import jax
if "CIMJAX_PROCESS_ID" in os.environ:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(os.environ["CIMJAX_COORDINATOR"], int(os.environ["CIMJAX_NUM_PROCESSES"]),
                               int(os.environ["CIMJAX_PROCESS_ID"]), initialization_timeout=60)
import numpy as np
import optax
from cimjax.crossbar import CrossbarConfig
from cimjax.nn import CrossbarMLP, TrainConfig, fit

rng = np.random.default_rng(0)
x = rng.uniform(-1, 1, (256, 3)).astype(np.float32)
y = (np.sin(3 * x[:, :1]) + 0.2 * rng.normal(size=(256, 1))).astype(np.float32)
model = CrossbarMLP((16, 16, 1), config=CrossbarConfig.ideal(mode="exact", keep_prob=0.7))
for name in sys.argv[2:]:  # "one": the first device only; "all": every device of every process
    devices = jax.devices()[:1] if name == "one" else None
    # plain SGD: Adam's 1/sqrt(v) would magnify the float rounding of near-zero gradients
    state, losses = fit(model, x, y, TrainConfig(loss="energy", num_samples=4, batch_size=32, seed=5), 50,
                        chunk_steps=25, devices=devices, tx=optax.sgd(0.05))
    flat = np.concatenate([np.asarray(l).ravel() for l in jax.tree.leaves(state.params)])
    if jax.process_index() == 0:
        np.save(f"{sys.argv[1]}_{name}.npy", np.concatenate([flat, losses]))
print("devices", jax.device_count(), "processes", jax.process_count())
"""


@pytest.mark.slow  # three jax start-ups and compilations: about a minute on 2 idle cores
def test_data_parallel_training_matches_one_device(tmp_path):
    """Issue 15: 1 process x 4 devices and 2 processes x 2 devices give the one-device parameters."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu"}
    four = {**env, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    two_each = {**env, "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
    runs = [  # one process: the first device, then all 4; then 2 processes of 2 devices each
        ([sys.executable, "-c", TRAIN, str(tmp_path / "four"), "one", "all"], four),
        ([sys.executable, "-m", "cimjax", "launch", "-n", "2", "--", sys.executable, "-c", TRAIN,
          str(tmp_path / "two_by_two"), "all"], two_each),
    ]
    for cmd, run_env in runs:
        done = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-3000:]
    assert "devices 4 processes 2" in done.stdout
    one = np.load(tmp_path / "four_one.npy")
    for name in ("four_all", "two_by_two_all"):
        np.testing.assert_allclose(np.load(tmp_path / f"{name}.npy"), one, rtol=1e-4, atol=1e-5, err_msg=name)
