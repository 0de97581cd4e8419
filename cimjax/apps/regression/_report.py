"""Writes the Fig. 22 plot (PNG) and score table (markdown + JSON) of `cimjax regress`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from cimjax._io import save_figure_atomic, write_json_atomic, write_text_atomic
from cimjax.nn import describe
from cimjax.apps.regression._task import true_conditional

__all__ = ["write_report", "plot_fig22", "fig22_figure", "smooth_curve"]

_MODELS = (("ann", "ANN, P-bits fixed (const. sigma)"), ("mc", "MC dropconnect, in-situ P-bits"))


SMOOTH_BANDWIDTH = 0.15  # assumption: kernel width in x for drawing curves; the true band varies on a scale of ~1


def smooth_curve(x: np.ndarray, y: np.ndarray, grid: np.ndarray, bandwidth: float = SMOOTH_BANDWIDTH) -> np.ndarray:
    """Local-linear regression of y on x with a Gaussian kernel, at `grid`: per-point Monte Carlo
    quantiles averaged over neighbouring x, without the bias a plain moving average has at the ends.
    x, y: [N]; grid: [G] -> [G]."""
    d = (x[None, :] - grid[:, None]) / bandwidth
    w = np.exp(-0.5 * d * d)
    s0, s1, s2 = w.sum(1), (w * d).sum(1), (w * d * d).sum(1)
    t0, t1 = (w * y[None, :]).sum(1), (w * d * y[None, :]).sum(1)
    return (s2 * t0 - s1 * t1) / (s0 * s2 - s1 * s1)


def fig22_figure(result: dict[str, Any]):
    """Two panels like Fig. 22: held-out data, predictive mean and 90% band of each model.

    The curves are drawn on a grid of x from the per-point values, smoothed over neighbouring
    x (`smooth_curve`): the MC band's per-point 5%/95% quantiles carry Monte Carlo noise that
    would otherwise draw a jagged band. The scores in the titles use the raw per-point values.
    Returns a matplotlib Figure on an Agg canvas.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    test = result["test"]
    x = test.x[:, 0]
    grid = np.linspace(x.min(), x.max(), 400)
    builtin = result.get("builtin", True)
    true_mean, true_std = true_conditional(grid)
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, (name, title) in zip(axes, _MODELS):
        s = result[name]
        lo, hi = (smooth_curve(x, b, grid) for b in s["band"])
        color = "C0" if name == "mc" else "C3"
        ax.scatter(x, test.y[:, 0], s=3, alpha=0.25, color="0.4", lw=0, label="held-out data", rasterized=True)
        ax.fill_between(grid, lo, hi, alpha=0.3, color=color, lw=0, label="90% predictive band")
        ax.plot(grid, smooth_curve(x, s["mean"], grid), color=color, lw=2, label="predictive mean")
        if builtin:
            ax.plot(grid, true_mean + 1.645 * true_std, "k--", lw=0.8, label="true 90% band")
            ax.plot(grid, true_mean - 1.645 * true_std, "k--", lw=0.8)
        ax.set_title(f"({'a' if name == 'ann' else 'b'}) {title}\nNLL {s['nll']:.3f}, "
                     f"coverage {s['coverage_90']:.3f}", fontsize=10)
        ax.set_xlabel(_x_label(result))
    axes[0].set_ylabel("y = x sin x + 0.3 e1 + 0.3 x e2" if builtin else result.get("y_name", "y"))
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False, markerscale=4)
    return fig


def _x_label(result: dict[str, Any]) -> str:
    """The first input column, which the figure and the per-bin table are drawn against."""
    names = result.get("x_names", ("x",))
    return names[0] if len(names) == 1 else f"{names[0]} (first of {len(names)} inputs; the others vary)"


def plot_fig22(result: dict[str, Any], path: str | Path) -> None:
    """Saves `fig22_figure(result)` as a PNG (atomic)."""
    save_figure_atomic(fig22_figure(result), path, dpi=130)


def _markdown(result: dict[str, Any], json_scores: dict) -> str:
    source = ("the built-in task (Fig. 22)" if result.get("builtin", True)
              else f"{result.get('source', 'the given data')}: y = {result['y_name']!r}, x = {list(result['x_names'])}")
    lines = ["# Heteroscedastic regression on the emulated crossbar", "",
             f"Data: {source}", "",
             f"seed {result['seed']}, {len(result['train'].y)} training / {len(result['test'].y)} held-out points, "
             f"{result['setup'].steps} steps, {result['setup'].mc_samples} MC passes, P-bit device "
             f"{result['config'].pbit.device!r}; ANN's own MC variance (max) = "
             f"{result['ann_mc_variance_max']:.3g}", "",
             "| model | test NLL | CRPS | 90% coverage |", "|---|---|---|---|"]
    for name, title in _MODELS:
        s = json_scores[name]
        lines.append(f"| {title} | {s['nll']:.4f} | {s['crps']:.4f} | {s['coverage_90']:.3f} |")
    lines += ["", f"MC outputs with a spread of exactly zero: {json_scores['mc']['zero_spread_fraction']:.2%}; "
              f"below one output ADC step: {json_scores['mc'].get('narrow_spread_fraction', 0.0):.2%}; std added to "
              f"every MC point's spread, fitted on the {result['setup'].calibration_fraction:.0%} of training rows "
              f"held out from its training: {json_scores['mc'].get('calibration_std', 0.0):.3g}", "",
              f"90% coverage and NLL per tenth of the training range of {_x_label(result)}:", "",
              "| x range | n | ANN coverage | MC coverage | ANN NLL | MC NLL |", "|---|---|---|---|---|---|"]
    for a, m in zip(json_scores["ann"]["per_bin"], json_scores["mc"]["per_bin"]):
        lines.append(f"| [{a['x_lo']:.3g}, {a['x_hi']:.3g}) | {a['n']} | {a['coverage']:.3f} | {m['coverage']:.3f} "
                     f"| {a['nll']:.3f} | {m['nll']:.3f} |")
    return "\n".join(lines) + "\n"


def write_report(result: dict[str, Any], out: str | Path) -> dict[str, str]:
    """Writes regress.png, metrics.md and metrics.json into `out`; returns their paths."""
    out = Path(out)
    scores = {name: {k: v for k, v in result[name].items() if k not in ("band", "mean")} for name, _ in _MODELS}
    payload = {"seed": result["seed"], "setup": dataclasses.asdict(result["setup"]),
               "data": {"builtin": result.get("builtin", True), "source": result.get("source"),
                        "x": list(result.get("x_names", ("x",))), "y": result.get("y_name", "y"),
                        "n_train": len(result["train"].y), "n_test": len(result["test"].y)},
               "crossbar": describe(result["config"]), "ann_mc_variance_max": result["ann_mc_variance_max"],
               "final_loss": result["final_loss"], **scores}
    paths = {"figure": str(out / "regress.png"), "markdown": str(out / "metrics.md"),
             "json": str(out / "metrics.json")}
    plot_fig22(result, paths["figure"])
    write_text_atomic(paths["markdown"], _markdown(result, scores))
    write_json_atomic(paths["json"], payload)
    return paths
