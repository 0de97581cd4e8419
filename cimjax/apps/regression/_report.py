"""Writes the Fig. 22 plot (PNG) and score table (markdown + JSON) of `cimjax regress`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from cimjax._io import save_figure_atomic, write_json_atomic, write_text_atomic
from cimjax.nn import describe
from cimjax.apps.regression._task import true_conditional

__all__ = ["write_report", "plot_fig22"]

_MODELS = (("ann", "ANN, P-bits fixed (const. sigma)"), ("mc", "MC dropconnect, in-situ P-bits"))


def plot_fig22(result: dict[str, Any], path: str | Path) -> None:
    """Two panels like Fig. 22: data, predictive mean and 90% band of each model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    test = result["test"]
    x = test.x[:, 0]
    order = np.argsort(x)
    grid = np.linspace(0, 10, 400)
    true_mean, true_std = true_conditional(grid)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, (name, title) in zip(axes, _MODELS):
        s = result[name]
        lo, hi = s["band"]
        ax.scatter(x, test.y[:, 0], s=3, alpha=0.25, color="0.4", label="held-out data")
        ax.fill_between(x[order], lo[order], hi[order], alpha=0.3, color="C0" if name == "mc" else "C3",
                        label="90% predictive band")
        ax.plot(x[order], s["mean"][order], color="C0" if name == "mc" else "C3", lw=2, label="predictive mean")
        ax.plot(grid, true_mean + 1.645 * true_std, "k--", lw=0.8, label="true 90% band")
        ax.plot(grid, true_mean - 1.645 * true_std, "k--", lw=0.8)
        ax.set_title(f"({'a' if name == 'ann' else 'b'}) {title}\nNLL {s['nll']:.3f}, "
                     f"coverage {s['coverage_90']:.3f}", fontsize=10)
        ax.set_xlabel("x")
    axes[0].set_ylabel("y = x sin x + 0.3 e1 + 0.3 x e2")
    axes[1].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=130)
    plt.close(fig)


def _markdown(result: dict[str, Any], json_scores: dict) -> str:
    lines = ["# Heteroscedastic regression (Fig. 22) on the emulated crossbar", "",
             f"seed {result['seed']}, {result['setup'].n_train} training / {result['setup'].n_test} held-out points, "
             f"{result['setup'].steps} steps, {result['setup'].mc_samples} MC passes, P-bit device "
             f"{result['config'].pbit.device!r}; ANN's own MC variance (max) = "
             f"{result['ann_mc_variance_max']:.3g}", "",
             "| model | test NLL | CRPS | 90% coverage |", "|---|---|---|---|"]
    for name, title in _MODELS:
        s = json_scores[name]
        lines.append(f"| {title} | {s['nll']:.4f} | {s['crps']:.4f} | {s['coverage_90']:.3f} |")
    lines += ["", "90% coverage and NLL per tenth of the x range:", "",
              "| x range | n | ANN coverage | MC coverage | ANN NLL | MC NLL |", "|---|---|---|---|---|---|"]
    for a, m in zip(json_scores["ann"]["per_bin"], json_scores["mc"]["per_bin"]):
        lines.append(f"| [{a['x_lo']:.0f}, {a['x_hi']:.0f}) | {a['n']} | {a['coverage']:.3f} | {m['coverage']:.3f} "
                     f"| {a['nll']:.3f} | {m['nll']:.3f} |")
    return "\n".join(lines) + "\n"


def write_report(result: dict[str, Any], out: str | Path) -> dict[str, str]:
    """Writes regress.png, metrics.md and metrics.json into `out`; returns their paths."""
    out = Path(out)
    scores = {name: {k: v for k, v in result[name].items() if k not in ("band", "mean")} for name, _ in _MODELS}
    payload = {"seed": result["seed"], "setup": dataclasses.asdict(result["setup"]),
               "crossbar": describe(result["config"]), "ann_mc_variance_max": result["ann_mc_variance_max"],
               "final_loss": result["final_loss"], **scores}
    paths = {"figure": str(out / "regress.png"), "markdown": str(out / "metrics.md"),
             "json": str(out / "metrics.json")}
    plot_fig22(result, paths["figure"])
    write_text_atomic(paths["markdown"], _markdown(result, scores))
    write_json_atomic(paths["json"], payload)
    return paths
