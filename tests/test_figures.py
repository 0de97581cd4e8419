"""Every picture the command line writes (issue 16 item 5), checked as it is saved.

A spy on `Figure.savefig` inspects each figure after it is drawn: its size in pixels (read
back from the PNG), every title (a file's name, never its path: no separator before a name),
every text inside the canvas (nothing cut at the edge), and every legend inside an axes
clear of the data under it. The inputs are tiny; the diffusion pictures are drawn by the
functions `cimjax demo` and `cimjax sample --plot` call, from synthetic images.
"""

import json
import os
import re

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from cimjax.cli import main

# a separator followed by a name is a path ("/tmp/x", "deep\\folder"); "0/3000" is a fraction
PATH_LIKE = re.compile(r"[/\\][A-Za-z_.~]")


def _all_figures(fig) -> list:
    """The figure and its subfigures, nested at any depth."""
    return [fig] + [s for sub in fig.subfigs for s in _all_figures(sub)]


def _titles(fig) -> list[str]:
    titles = [f.get_suptitle() for f in _all_figures(fig)]
    titles += [ax.get_title(loc=loc) for ax in fig.axes for loc in ("left", "center", "right")]
    titles += [ax.get_legend().get_title().get_text() for ax in fig.axes if ax.get_legend()]
    return [t for t in titles if t]


def _texts(fig) -> list[Text]:
    texts = [t for f in _all_figures(fig) for t in [*f.texts, f._suptitle] if t is not None]
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        if ax.get_legend():
            texts += [ax.get_legend().get_title(), *ax.get_legend().get_texts()]
    for legend in fig.legends:
        texts += list(legend.get_texts())
    return [t for t in texts if t.get_visible() and t.get_text()]


def _data_under(ax, box) -> list[str]:
    """Data points of `ax` inside display box `box`: line vertices, scatter points, bars."""
    renderer = ax.figure.canvas.get_renderer()
    hits = []
    for line in ax.lines:
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), float))
        if box.count_contains(xy[np.all(np.isfinite(xy), axis=1)]):
            hits.append(f"line {line.get_label()!r}")
    for coll in ax.collections:
        offsets = np.asarray(coll.get_offsets())
        if len(offsets) > 1 and box.count_contains(coll.get_offset_transform().transform(offsets)):
            hits.append(f"points {coll.get_label()!r}")
    hits += [f"patch {p.get_label()!r}" for p in ax.patches if p.get_window_extent(renderer).overlaps(box)]
    return hits


@pytest.fixture
def saved(monkeypatch):
    """Records {"name", "width", "height", "titles", "problems"} of every figure saved."""
    import matplotlib.image

    records = []
    savefig = Figure.savefig

    def spy(self, fname, **kwargs):
        savefig(self, fname, **kwargs)
        self.draw_without_rendering()  # positions at the figure's own dpi (savefig drew at its dpi)
        renderer = self.canvas.get_renderer()
        problems = []
        canvas = self.bbox.padded(1.0)
        for t in _texts(self):
            ext = t.get_window_extent(renderer)
            if not (canvas.contains(ext.x0, ext.y0) and canvas.contains(ext.x1, ext.y1)):
                problems.append(f"text cut at the edge: {t.get_text()!r}")
        for ax in self.axes:
            legend = ax.get_legend()
            if legend is not None and legend.get_bbox_to_anchor() is ax.bbox:
                hits = _data_under(ax, legend.get_window_extent(renderer))
                problems += [f"legend over {h} in {ax.get_title(loc='left') or ax.get_title()!r}" for h in hits]
        img = matplotlib.image.imread(fname)
        records.append({"name": os.path.basename(str(fname)), "width": img.shape[1], "height": img.shape[0],
                        "titles": _titles(self), "problems": problems})

    monkeypatch.setattr(Figure, "savefig", spy)
    return records


def _check(records, count, min_width=800):
    assert len(records) == count, [r["name"] for r in records]
    for r in records:
        assert r["width"] >= min_width, r
        assert r["titles"], r
        assert not [t for t in r["titles"] if PATH_LIKE.search(t) or "folder" in t], r["titles"]
        assert not r["problems"], r["problems"]


def _nested(tmp_path, *parts):
    folder = tmp_path.joinpath("deep", "folder", *parts[:-1])
    folder.mkdir(parents=True, exist_ok=True)
    return folder / parts[-1]


def test_device_calibrate_and_curve_figures(tmp_path, saved, capsys):
    import jax

    from cimjax.device import default_preset, save_switching_csv, simulate_switching_data

    csv = _nested(tmp_path, "meas.csv")
    data = simulate_switching_data(jax.random.key(0), default_preset().pbit, np.linspace(0.8, 2.4, 9),
                                   [3e-10, 7e-10, 1.1e-9, 1.6e-9], 400)
    save_switching_csv(data, csv)
    fit = _nested(tmp_path, "fit.json")
    assert main(["device", "calibrate", str(csv), "--out", str(fit), "--plot", str(tmp_path / "fit.png")]) == 0
    assert main(["device", "curve", str(fit), "--plot", str(tmp_path / "curve.png"), "--data", str(csv)]) == 0
    assert main(["device", "curve", "default", "--plot", str(tmp_path / "nominal.png")]) == 0
    capsys.readouterr()
    _check(saved, 3)
    assert saved[0]["titles"][0].startswith("meas.csv: ")  # the file's name and the chosen form
    assert "fit.json" in saved[1]["titles"]


def test_device_pairs_figure(tmp_path, saved, capsys):
    from PIL import Image

    grey = np.kron(np.array([[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]]), np.ones((6, 8)))  # three levels, (12, 24)
    png = _nested(tmp_path, "stripes.png")
    Image.fromarray((grey * 255).astype(np.uint8), "L").save(png)
    out = tmp_path / "deep" / "folder" / "pairs"
    assert main(["device", "pairs", "--image", str(png), "--out", str(out)]) == 0
    capsys.readouterr()
    _check(saved, 1)
    assert (out / "pairs.png").is_file() and saved[0]["titles"][0].startswith("stripes.png in differential pairs")


def test_trng_figures(tmp_path, saved, capsys):
    bits = _nested(tmp_path, "bits.npy")
    assert main(["trng", "generate", "--devices", "3", "--bits", "3000", "--out", str(bits),
                 "--conductance-out", str(tmp_path / "g.npy"), "--plot", str(tmp_path / "gen.png")]) == 0
    assert main(["trng", "test", str(bits), "--tests", "frequency,runs,serial", "--plot",
                 str(tmp_path / "multi.png")]) == 0
    one = _nested(tmp_path, "one.npy")
    np.save(one, np.load(bits)[0])
    assert main(["trng", "test", str(one), "--plot", str(tmp_path / "one.png")]) == 0  # skip reasons too
    capsys.readouterr()
    _check(saved, 3)
    assert "bits.npy" in saved[1]["titles"] and "one.npy" in saved[2]["titles"]


def test_energy_sweep_figure_marks_each_design(tmp_path, saved, capsys):
    from cimjax.apps.energy_table import sweep_all, sweep_figure
    from cimjax.energy import load_energy_preset

    assert main(["energy", "sweep", "--out", str(_nested(tmp_path, "sweep.png"))]) == 0
    capsys.readouterr()
    _check(saved, 1)
    fig = sweep_figure(sweep_all(load_energy_preset("default")))
    stars = [line for ax in fig.axes for line in ax.lines if line.get_marker() == "*"]
    # 3 axes x 3 on-chip designs x 3 rows, less in-situ's absent area, less the ex-situ designs' array
    # size (their generators sit outside the array: no design point on that axis)
    assert len(stars) == 3 * 3 * 3 - 3 - 2 * 3


def test_regression_figure_band_is_smooth(tmp_path, saved):
    from cimjax.apps.regression import heteroscedastic_data, plot_fig22, smooth_curve, true_conditional

    test = heteroscedastic_data(5, 800)
    x = test.x[:, 0]
    mean, std = true_conditional(x)
    rng = np.random.default_rng(0)
    samples = mean + std * rng.standard_normal((50, x.size))  # 50 MC passes: jagged per-point quantiles
    lo, hi = np.quantile(samples, [0.05, 0.95], axis=0)
    result = {"test": test, "ann": {"band": (mean - 3, mean + 3), "mean": mean, "nll": 2.4, "coverage_90": 0.9},
              "mc": {"band": (lo, hi), "mean": samples.mean(0), "nll": 2.3, "coverage_90": 0.88}}
    plot_fig22(result, _nested(tmp_path, "regress.png"))
    _check(saved, 1)
    # the drawn band follows the true 5% quantile better than the raw per-point quantiles do
    grid = np.linspace(x.min(), x.max(), 400)
    m, s = true_conditional(grid)
    order = np.argsort(x)
    raw_rough = np.abs(np.diff(lo[order], 2)).mean()
    drawn = smooth_curve(x, lo, grid)
    assert np.abs(np.diff(drawn, 2)).mean() < raw_rough / 20
    assert np.abs(drawn - (m - 1.645 * s)).mean() < np.abs(lo - (mean - 1.645 * std)).mean()


def test_classify_report_and_reliability_diagram(tmp_path, saved):
    """The table, JSON and reliability diagram of a made-up result (no training)."""
    from cimjax.apps.classification import (ClassifySetup, classification_scores, classify_crossbar,
                                            digits_ood_split, write_classify_report)

    data = digits_ood_split("corrupt", seed=0)
    rng = np.random.default_rng(0)
    probs, scores = {}, {}
    for name, sharp in (("float_ann", 8.0), ("mc", 2.0)):
        logits = sharp * np.eye(10)[data.y_test] + rng.standard_normal((len(data.y_test), 10))
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        probs[name] = (p, p[::-1])
        scores[name] = {**classification_scores(p, data.y_test), "ood_auroc": 0.5, "mean_entropy_in": 0.1,
                        "mean_entropy_ood": 0.2}
    result = {"scores": scores, "probs": probs, "data": data, "setup": ClassifySetup(), "seed": 0,
              "config": classify_crossbar(), "final_loss": {"float_ann": 0.1, "mc": 0.2}}
    out = _nested(tmp_path, "out", "metrics.json").parent
    write_classify_report(result, out)
    _check(saved, 1)
    payload = json.loads((out / "metrics.json").read_text())
    assert payload["ece_bins"] == 15 and payload["mc"]["ece"] == scores["mc"]["ece"]
    assert sum(payload["reliability"]["mc"]["count"]) == len(data.y_test)
    table = (out / "metrics.md").read_text()
    assert "| ECE (15 bins) |" in table and "MC dropconnect" in table and "float ANN" in table


def test_smooth_curve_reproduces_a_line_exactly():
    from cimjax.apps.regression import smooth_curve

    x = np.random.default_rng(1).uniform(0, 10, 300)
    grid = np.linspace(0, 10, 50)
    np.testing.assert_allclose(smooth_curve(x, 2 * x - 1, grid), 2 * grid - 1, atol=1e-9)  # local-linear


def test_demo_pictures(tmp_path, saved):
    from cimjax.apps.diffusion import save_embedding, save_grid

    rng = np.random.default_rng(0)
    real = rng.random((300, 64)) ** 3
    sets = {"real (test)": rng.random((200, 64)) ** 3, "ex_situ": rng.random((200, 64)) ** 3,
            "prior": rng.random((200, 64))}
    for name, x in sets.items():
        save_grid(x, 8, _nested(tmp_path, f"grid_{name}.png"), title=name)
    save_embedding(real, sets, _nested(tmp_path, "embedding.png"))
    _check(saved, 4)
    assert [r["titles"][0] for r in saved[:3]] == list(sets)


def test_grid_has_thin_light_separators(tmp_path):
    import matplotlib.image

    from cimjax.apps.diffusion import save_grid

    ink = np.ones((100, 28 * 28))  # all ink: every light pixel is a separator or a tile margin
    save_grid(ink, 28, tmp_path / "g.png", title="ink")
    img = matplotlib.image.imread(tmp_path / "g.png")[..., :3].mean(-1)
    assert img.shape[1] >= 800
    row = img[img.shape[0] // 2]
    dark = row < 0.2
    assert dark.mean() > 0.8  # the tiles, not the separators, fill the grid
    change = np.flatnonzero(np.diff(dark.astype(int))) + 1
    runs = np.split(dark, change)
    light = [len(r) for r in runs if not r[0]]
    assert len(light) == 11 and max(light) <= 6  # two edges and nine thin gaps between ten tiles
    assert np.all(row[~dark] > 0.8)  # light: never the ink colour


def test_sample_plot(tmp_path, saved, capsys, monkeypatch):
    """`cimjax sample --plot`: a grid of the first samples of the run, wired through the CLI with the
    models and the sampling faked (both are tested in test_demo_pipeline)."""
    import cimjax.apps.diffusion as diffusion

    out = _nested(tmp_path, "run")

    def fake_run_sample(models, *, sampler, n, batch, out, seed, n_steps=None, force=False, progress=True):
        os.makedirs(out, exist_ok=True)
        rng = np.random.default_rng(seed)
        shards = -(-n // batch)
        for k in range(shards):
            np.save(os.path.join(out, f"images_{k:05d}.npy"), rng.random((min(batch, n - k * batch), 8, 8)))
        info = {"sampler": sampler, "n": n, "batch": batch, "seed": seed, "n_shards": shards,
                "completed": list(range(shards))}
        with open(os.path.join(out, "manifest.json"), "w") as f:
            json.dump(info, f)
        return info

    monkeypatch.setattr(diffusion, "prepare_models", lambda *a, **k: None)
    monkeypatch.setattr(diffusion, "run_sample", fake_run_sample)
    plot = tmp_path / "samples.png"
    assert main(["sample", "--n", "130", "--batch", "60", "--out", str(out), "--plot", str(plot), "--quick"]) == 0
    assert "(the first 100 samples)" in capsys.readouterr().out
    _check(saved, 1)
    assert saved[0]["titles"] == ["ex_situ sampler: first 100 of 130 samples (seed 0)"]
    assert main(["sample", "--n", "4", "--out", str(tmp_path / "r2"), "--plot", "x.gif", "--quick"]) == 2
    assert "--plot" in capsys.readouterr().err and not (tmp_path / "r2").exists()


def test_demo_cli_writes_its_pictures(tmp_path, saved, monkeypatch, capsys):
    """`cimjax demo` end to end (the smallest configuration that samples): every picture it writes."""
    from cimjax.apps.diffusion import DemoConfig

    from tests.test_cli import TINY

    monkeypatch.setattr(DemoConfig, "quick", classmethod(lambda cls, **kw: cls(**{**TINY, **kw})))
    out = _nested(tmp_path, "demo")
    assert main(["demo", "--quick", "--out", str(out), "--cache", str(tmp_path / "cache")]) == 0
    written = sorted(p.name for p in out.glob("*.png"))
    # figures are saved to a temporary beside the target, then renamed: ".NAME.png.XXXX.png"
    assert sorted(r["name"].lstrip(".").split(".png")[0] + ".png" for r in saved) == written
    assert "pareto.png" in written and "embedding.png" in written
    _check(saved, len(written))


def test_regress_cli_writes_its_picture(tmp_path, saved, capsys):
    """`cimjax regress` end to end at a few training steps: its Fig. 22 picture."""
    out = _nested(tmp_path, "regress")
    assert main(["regress", "--quick", "--steps", "20", "--mc-samples", "20", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["regress.png"]
    _check(saved, 1)
