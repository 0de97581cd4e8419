"""The figure of `cimjax device pairs`: conductance map, decoded image and read distribution (Figs. 9-10)."""

from __future__ import annotations

import os

import numpy as np

from cimjax._io import place_legends, save_figure_atomic
from cimjax.device import PATTERN_LEVELS


def plot_stored_pattern(path: str | os.PathLike, result: dict, title: str = "") -> None:
    """Saves `stored_pattern_figure(result, title)` (atomic)."""
    save_figure_atomic(stored_pattern_figure(result, title), path, dpi=120)


def stored_pattern_figure(result: dict, title: str = ""):
    """Conductance map beside the decoded image, and the read distribution of each level.

    Left: G_left - G_right of every pair [uS] (Fig. 10). Middle: the decoded levels, each
    misread pixel ringed in red. Right: histograms of the reads of each stored level with
    the two decision thresholds (Fig. 9).

    Args:
      result: from `run_stored_pattern`.
      title: figure title (name files by their names, not paths).

    Returns:
      A matplotlib Figure on an Agg canvas.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure

    levels, g, decoded, report = result["levels"], result["conductance"] * 1e6, result["decoded"], result["report"]
    fig = Figure(figsize=(16, 5.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax_g, ax_d, ax_h = fig.subplots(1, 3, width_ratios=(1.15, 1.0, 0.9))
    span = float(np.abs(g).max())
    im = ax_g.imshow(g, cmap="RdBu_r", vmin=-span, vmax=span, interpolation="nearest")
    fig.colorbar(im, ax=ax_g, shrink=0.8, label="G_left - G_right (uS)")
    ax_g.set_title("conductance map (Fig. 10)")
    ax_d.imshow(decoded, cmap=ListedColormap(["#2b5d9c", "#f2f2f2", "#c0392b"]), vmin=-1.5, vmax=1.5,
                interpolation="nearest")
    rows, cols = np.nonzero(decoded != levels)
    if rows.size:
        ax_d.plot(cols, rows, "o", mfc="none", mec="red", ms=6, mew=1.2)
    ax_d.set_title(f"decoded: {rows.size} of {levels.size} pixels misread")
    for ax in (ax_g, ax_d):
        ax.set(xlabel="column", ylabel="row")
    bins = np.linspace(g.min(), g.max(), 80)
    for v, color in zip(PATTERN_LEVELS, ("#2b5d9c", "#7f7f7f", "#c0392b")):
        ax_h.hist(g[levels == v], bins=bins, color=color, alpha=0.7, label=f"stored {v:+d}" if v else "stored 0")
    for t in report["thresholds_S"]:
        ax_h.axvline(t * 1e6, color="black", lw=1.0, ls="--")
    ax_h.set(xlabel="G_left - G_right (uS)", ylabel="pixels", yscale="log",
             title=f"reads: margin {report['margin_sigma']:.2f} sigma, thresholds dashed (Fig. 9)")
    ax_h.set_title(ax_h.get_title(), fontsize=9)
    if title:
        fig.suptitle(title)
    place_legends(fig, [(ax_h, dict(fontsize=8))])
    return fig
