"""`cimjax regress --data`: the user's table, its checks before training, and the built-in task through it."""

import dataclasses
import json

import numpy as np
import pytest

from cimjax.apps.regression import (RegressionSetup, builtin_split, demo_crossbar, load_table, run_regression,
                                    save_table_csv, split_table)
from cimjax.cli import main

SMALL = dict(n_train=200, n_test=100, steps=150, mc_samples=20)
REDUCED = dict(steps=1000, mc_samples=100)  # measured (seed 0, 2 inputs): 0.908; fifths 0.95, 0.88, 0.89, 0.89, 0.93


def test_builtin_task_written_as_csv_reproduces_the_builtin_numbers(tmp_path, capsys):
    setup = RegressionSetup(**{**RegressionSetup.quick().__dict__, **SMALL})
    builtin = run_regression(0, setup, config=demo_crossbar())
    save_table_csv(tmp_path / "task.csv", *builtin_split(0, setup))
    argv = ["regress", "--data", str(tmp_path / "task.csv"), "--x", "x", "--y", "y", "--split", "split",
            "--quick", "--steps", str(SMALL["steps"]), "--mc-samples", str(SMALL["mc_samples"]),
            "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    got = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert got["data"] == {"builtin": False, "source": str(tmp_path / "task.csv"), "x": ["x"], "y": "y",
                           "n_train": 200, "n_test": 100}
    for model in ("ann", "mc"):
        for name in ("nll", "crps", "coverage_90", "zero_spread_fraction"):
            assert got[model][name] == pytest.approx(builtin[model][name], rel=1e-6, abs=1e-9), (model, name)
        np.testing.assert_allclose([b["coverage"] for b in got[model]["per_bin"]],
                                   [b["coverage"] for b in builtin[model]["per_bin"]])
    assert (tmp_path / "out" / "regress.png").stat().st_size > 0


def test_seeded_split_and_npz_columns(tmp_path):
    rng = np.random.default_rng(0)
    cols = {"a": rng.normal(size=50), "b": rng.normal(size=50), "t": rng.normal(size=50)}
    np.savez(tmp_path / "d.npz", **cols)
    table = load_table(tmp_path / "d.npz", ["b", "a"], "t")
    np.testing.assert_array_equal(table.x, np.stack([cols["b"], cols["a"]], 1).astype(np.float32))
    train, test = split_table(table, 0.2, seed=3)
    assert (len(train.y), len(test.y)) == (40, 10)
    again = split_table(table, 0.2, seed=3)
    np.testing.assert_array_equal(again[1].y, test.y)  # the split descends from the seed
    assert sorted(np.concatenate([train.y, test.y])[:, 0]) == sorted(table.y[:, 0])


@pytest.fixture
def tables(tmp_path, monkeypatch):
    import cimjax.apps.regression

    def never(*args, **kwargs):
        raise AssertionError("training started on bad input")

    monkeypatch.setattr(cimjax.apps.regression, "run_regression", never)
    rows = "\n".join(f"{i},{i % 7},{np.sin(i):.4f}" for i in range(60))
    (tmp_path / "ok.csv").write_text("u,v,w\n" + rows + "\n")
    (tmp_path / "text.csv").write_text("u,v,w\n1,2,3\n4,five,6\n")
    (tmp_path / "few.csv").write_text("u,v,w\n" + "\n".join(rows.splitlines()[:12]) + "\n")
    (tmp_path / "flat.csv").write_text("u,v,w\n" + "\n".join(f"{i},{i},2.5" for i in range(60)) + "\n")
    np.savez(tmp_path / "d.npz", u=np.arange(40.0), w=np.ones(40))
    (tmp_path / "huge.csv").write_text("u,v,w\n" + rows.replace("0,0,0.0000", "0,0,1e39") + "\n")
    np.savez(tmp_path / "huge.npz", u=np.arange(40.0), w=np.r_[1e39, np.ones(39)])
    (tmp_path / "twice.csv").write_text("# units: SI\nu,w,v,w\n" + "\n".join(f"{i},{i},0,{-i}" for i in range(60)) + "\n")
    return tmp_path


@pytest.mark.parametrize("file,x,y,needle", [
    ("ok.csv", "u,q", "w", "ok.csv:1: no column 'q'; the file has ['u', 'v', 'w']"),
    ("text.csv", "u,v", "w", "text.csv:3: column 2 ('v'): 'five' is not a number"),
    ("few.csv", "u", "w", "12 rows split into 10 training and 2 held-out rows; need at least 20 and 10"),
    ("flat.csv", "u", "w", "y is constant (2.5) in the training rows"),
    ("d.npz", "u,v", "w", "d.npz: no array 'v'; the file has ['u', 'w']"),
    ("ok.csv", "u", "u", "column 'u' is named twice"),
    # were: float32 inf in y, then "y is constant (-0.56)" from a nan spread
    ("huge.csv", "u", "w", "huge.csv:2: column 3 ('w'): '1e39' is beyond float32"),
    ("huge.npz", "u", "w", "huge.npz: array 'w'[0] is beyond float32"),
    # was: the first 'w' column used, the second ignored without a word
    ("twice.csv", "u", "w", "twice.csv:2: column 4 ('w') has the name of column 2; rename one"),
    ("twice.csv", "w,u", "v", "twice.csv:2: column 4 ('w') has the name of column 2"),
])
def test_bad_table_is_one_line_before_training(tables, capsys, file, x, y, needle):
    assert main(["regress", "--data", str(tables / file), "--x", x, "--y", y, "--out", str(tables / "r")]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1, err
    assert not (tables / "r").exists()


def test_repeated_unused_column_names_are_fine(tables):
    (tables / "blank.csv").write_text("u,,w,\n" + "\n".join(f"{i},,{i % 3},x" for i in range(30)) + "\n")
    assert load_table(tables / "blank.csv", ["u"], "w").x.shape == (30, 1)


def test_data_needs_columns(tables, capsys):
    assert main(["regress", "--data", str(tables / "ok.csv"), "--out", str(tables / "r")]) == 2
    assert "--data needs --x" in capsys.readouterr().err


def _recipe_acceptance(inputs: int, seed: int, setup: RegressionSetup) -> None:
    """Issue 14's bounds for the recommended recipe (`RegressionSetup`'s defaults: the Dawid-Sebastiani score of
    exact reads, the last two arrays stochastic, the soft-clip activation, the held-out calibration) on the
    default crossbar (programming variation and read noise on), predicted with exact reads. Coverage of a calibrated 90% band over n points has std
    sqrt(0.09 / n): over a fifth of 2000 points (400) 0.015, so [0.78, 0.98] is -8 / +5 std; over 2000
    points [0.85, 0.95] is +-7 std: the bounds fail only when the model, not the sampling, is off."""
    from cimjax.apps.regression import coverage_by_noise, multi_input_task

    train, _ = multi_input_task(seed, setup.n_train, inputs)
    test, noise = multi_input_task(seed + 10_007, setup.n_test, inputs)
    r = run_regression(seed, setup, config=demo_crossbar(), data=(train, test))
    fifths = coverage_by_noise(r, noise)
    assert 0.85 <= r["mc"]["coverage_90"] <= 0.95, (r["mc"]["coverage_90"], fifths)
    assert all(0.78 <= c <= 0.98 for c in fifths), fifths
    assert r["mc"]["zero_spread_fraction"] == 0.0
    assert r["mc"]["nll"] < r["ann"]["nll"]


# runs outside the bounds, as (inputs, seed): reason; none since the soft-clip activation and the held-out
# calibration (benchmarks/recipe_regress.md: all 9 inside, every fifth in 0.833-0.968)
_MISSES: dict[tuple[int, int], str] = {}


@pytest.mark.slow
@pytest.mark.parametrize("inputs,seed", [
    pytest.param(i, s, marks=[pytest.mark.xfail(strict=True, reason=_MISSES[i, s])] if (i, s) in _MISSES else [])
    for i in (1, 2, 8) for s in (0, 1, 2)])
def test_recipe_stays_calibrated_on_multi_input_tasks(inputs, seed):
    """At `RegressionSetup.quick()` sizes, the benchmark's runs (benchmarks/recipe_regress.md); a run that
    misses would be marked strict xfail in `_MISSES`, so a fix shows."""
    _recipe_acceptance(inputs, seed, RegressionSetup.quick())


def test_recipe_stays_calibrated_at_reduced_size():
    """The default suite's check of the recipe: the 2-input task (the one the energy-score recipe failed
    on the default crossbar), seed 0, at reduced size."""
    _recipe_acceptance(2, 0, dataclasses.replace(RegressionSetup.quick(), **REDUCED))


def test_output_step_is_one_lsb_of_the_shift_and_added_output():
    """4-bit slices: scale max|w| / 15; an 8-bit ADC over +-R cells: R / 127 cells a step; gain 1/p."""
    from cimjax.apps.regression import output_step
    from cimjax.crossbar import PbitConfig, fit_adc_range

    config = fit_adc_range(dataclasses.replace(demo_crossbar(), pbit=PbitConfig(keep_prob=0.5)), 8)
    kernel = np.array([[0.3], [-1.5], [0.2]], np.float32)
    assert output_step(config, kernel) == pytest.approx(1.5 / 15 * 8.0 / 127 / 0.5, rel=1e-6)
    assert output_step(config, kernel, rescale=False) == pytest.approx(1.5 / 15 * 8.0 / 127, rel=1e-6)
    ideal = dataclasses.replace(config, periphery=dataclasses.replace(config.periphery, adc_bits=None))
    assert output_step(ideal, kernel) == 0.0


def test_calibration_variance_is_the_closed_form_at_constant_variance():
    """With one predictive variance v everywhere, the likelihood's maximum over v + c is the mean
    squared error (the Gaussian variance MLE), so c = max(mse - v, 0), to the grid's resolution."""
    from cimjax.apps.regression import calibration_variance

    r = np.random.default_rng(0).normal(size=4000)
    mse = float(np.mean(r ** 2))
    assert calibration_variance(np.zeros(4000), np.full(4000, 0.4), r) == pytest.approx(mse - 0.4, rel=0.03)
    assert calibration_variance(np.zeros(4000), np.full(4000, 2.0), r) == 0.0


def test_bad_calibration_fraction_is_refused_before_training():
    from cimjax.errors import ConfigError

    setup = dataclasses.replace(RegressionSetup.quick(), **{**SMALL, "steps": 10**9}, calibration_fraction=1.0)
    with pytest.raises(ConfigError, match="calibration_fraction=1.0"):  # 10^9 steps: only a check before ends
        run_regression(0, setup, config=demo_crossbar())


def test_large_targets_standardise_in_float64():
    # was: y_std = inf from float32's overflowing square, so every standardised target became 0
    from cimjax.apps.regression import Standardizer
    from cimjax.apps.regression._task import RegressionData

    y = (np.sin(np.arange(50.0)) * 1e20).astype(np.float32)[:, None]
    s = Standardizer.fit(RegressionData(np.arange(50.0, dtype=np.float32)[:, None], y))
    assert np.isfinite(s.y_std) and abs(float(np.std(s.y_in(y))) - 1.0) < 1e-5
