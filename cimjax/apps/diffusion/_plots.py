"""Pictures of the demo: sample grids per sampler and a 2-D embedding of real vs generated."""

from __future__ import annotations

import math
import os

import numpy as np

from cimjax._io import save_figure_atomic
from cimjax.errors import ConfigError
from cimjax.apps.diffusion._metrics import nn_distances

__all__ = ["save_grid", "grid_figure", "embed_2d", "embedding_figure", "save_embedding", "pareto_figure",
           "save_pareto"]

GRID_MIN_WIDTH = 800  # px: a grid large enough to read each digit on a printed page
GRID_COLUMNS = 10
_GAP = 2  # px between tiles: thin
_GAP_GREY = 0.86  # light grey separators, never the ink colour
_TITLE_PX = 34


def _tile_canvas(images: np.ndarray, side: int, columns: int) -> np.ndarray:
    """[H, W] grey levels (1 = white paper, 0 = black ink) of the tiles, upscaled by whole pixels.

    Each tile keeps a white margin of half an image pixel, so that ink never meets a separator.
    """
    count = len(images)
    rows = -(-count // columns)
    scale = max(2, math.ceil((GRID_MIN_WIDTH - (columns + 1) * _GAP) / (columns * (side + 1))))
    margin = scale // 2
    tile = side * scale + 2 * margin
    canvas = np.full((rows * (tile + _GAP) + _GAP, columns * (tile + _GAP) + _GAP), _GAP_GREY)
    ink = np.clip(np.asarray(images, dtype=np.float64).reshape(count, side, side), 0.0, 1.0)
    for i, img in enumerate(ink):
        r, c = divmod(i, columns)
        y, x = _GAP + r * (tile + _GAP), _GAP + c * (tile + _GAP)
        canvas[y:y + tile, x:x + tile] = 1.0
        canvas[y + margin:y + tile - margin, x + margin:x + tile - margin] = 1.0 - np.kron(img, np.ones((scale, scale)))
    return canvas


def grid_figure(images: np.ndarray, side: int, title: str, n: int = 100):
    """A grid of the first `n` images [N, side*side] in [0, 1] (1 = ink), ten to a row, at least 800 px wide.

    Each image pixel becomes a whole block of screen pixels (no resampling blur); tiles are
    parted by thin light-grey lines. Returns a matplotlib Figure on an Agg canvas, sized so that
    it saves at dpi=100 with one figure pixel per canvas pixel.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    images = np.asarray(images)[:n]
    if len(images) == 0:
        raise ConfigError("grid_figure: no images to draw")
    canvas = _tile_canvas(images, side, min(GRID_COLUMNS, len(images)))
    h, w = canvas.shape
    fig = Figure(figsize=(w / 100, (h + _TITLE_PX) / 100), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, h / (h + _TITLE_PX)))
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=12, pad=8)
    return fig


def save_grid(images: np.ndarray, side: int, path: str | os.PathLike, title: str, n: int = 100) -> None:
    """Saves `grid_figure(images, side, title, n)` as a PNG (atomic)."""
    save_figure_atomic(grid_figure(images, side, title, n), path, dpi=100)


def embed_2d(reference: np.ndarray, others: list[np.ndarray], seed: int = 0) -> tuple[str, list[np.ndarray]]:
    """Fits a 2-D embedding on `reference` and maps every set: UMAP if importable, else PCA."""
    try:
        import umap  # optional extra: pip install cimjax[umap]

        reducer = umap.UMAP(n_components=2, random_state=seed).fit(reference)
        return "UMAP", [reducer.transform(reference)] + [reducer.transform(o) for o in others]
    except ImportError:
        mean = reference.mean(0)
        _, _, vt = np.linalg.svd(reference - mean, full_matrices=False)
        proj = lambda x: (x - mean) @ vt[:2].T  # noqa: E731
        return "PCA", [proj(reference)] + [proj(o) for o in others]


def _density_levels(points: np.ndarray, lims: tuple, masses=(0.5, 0.9)):
    """A Gaussian KDE of `points` on a grid, and the density levels enclosing each mass of them."""
    from scipy.stats import gaussian_kde

    kde = gaussian_kde(points.T)
    gx, gy = np.meshgrid(np.linspace(*lims[0], 160), np.linspace(*lims[1], 160))
    z = kde(np.vstack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    at_points = kde(points.T)
    levels = sorted(float(np.quantile(at_points, 1.0 - m)) for m in masses)  # highest-density regions
    return kde, (gx, gy, z), levels


def embedding_figure(real: np.ndarray, sets: dict[str, np.ndarray]):
    """Real and generated images in a 2-D embedding fitted on the real ones, coloured by quality.

    Every panel draws the density of the real images (contours of a Gaussian KDE enclosing 50%
    and 90% of them) and one set's images as points coloured by their distance to the nearest
    real image in pixel space, one colour scale for all panels (the farthest drawn on top): a
    set near the data is as dark as held-out real images, a set off the data is lighter, even
    where its 2-D projection overlaps the contours.
    Returns (figure, method).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    real = np.asarray(real, dtype=np.float64)
    method, pts = embed_2d(real, list(sets.values()))
    dist = [nn_distances(x, real) for x in sets.values()]
    lo, hi = pts[0].min(0), pts[0].max(0)
    pad = 0.25 * (hi - lo)
    lims = ((lo[0] - pad[0], hi[0] + pad[0]), (lo[1] - pad[1], hi[1] + pad[1]))
    _, (gx, gy, z), levels = _density_levels(pts[0], lims)
    vmin, vmax = (float(q) for q in np.quantile(np.concatenate(dist), [0.01, 0.99]))
    n = len(sets)
    fig = Figure(figsize=(3.2 * n + 1.0, 3.9), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, sharex=True, sharey=True, squeeze=False)[0]
    for ax, (name, p), d in zip(axes, zip(sets, pts[1:]), dist):
        ax.scatter(pts[0][:, 0], pts[0][:, 1], s=2, c="0.8", lw=0, rasterized=True)
        ax.contour(gx, gy, z, levels=levels, colors="k", linewidths=(0.6, 1.0), linestyles=("--", "-"))
        order = np.argsort(d)  # the farthest points on top
        sc = ax.scatter(p[order, 0], p[order, 1], s=5, c=d[order], cmap="viridis", vmin=vmin, vmax=vmax, lw=0,
                        rasterized=True)
        ax.set_title(f"{name}\nmedian distance to nearest real {np.median(d):.3g}", fontsize=9)
        ax.set(xlim=lims[0], ylim=lims[1], xticks=[], yticks=[])
        ax.set_xlabel(f"{method} 1")
    axes[0].set_ylabel(f"{method} 2 (fitted on real images)")
    cbar = fig.colorbar(sc, ax=list(axes), shrink=0.9, pad=0.01)
    cbar.set_label("distance to the nearest real image")
    fig.suptitle("Generated images against the real data (grey: real images; contours: 50% and 90% of them)",
                 fontsize=10)
    return fig, method


def save_embedding(real: np.ndarray, sets: dict[str, np.ndarray], path: str | os.PathLike) -> str:
    """Saves `embedding_figure(real, sets)` as a PNG (atomic); returns the embedding method."""
    fig, method = embedding_figure(real, sets)
    save_figure_atomic(fig, path, dpi=150)
    return method


def pareto_figure(quality: dict, cost_rows: list[dict], title: str):
    """Two panels: Frechet distance (with its 95% interval) against energy and against delay per image.

    One point per (sampler, design) of `cost_rows`; a sampler's quality is the same on every
    design (the design changes where the random bits come from, not which). Filled markers:
    the sampler on its native design (in-situ on in-situ, ex-situ on an ex-situ design).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 4.6), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2, sharey=True)
    designs = list(dict.fromkeys(r["design"] for r in cost_rows))
    markers = {"ex_situ": "s", "in_situ": "o", "in_situ_noise_rows": "^", "in_situ_rows_only": "v"}
    for ax, key, scale, label in ((axes[0], "energy_per_image_J", 1e9, "energy per image (nJ)"),
                                  (axes[1], "delay_per_image_s", 1e6, "delay per image (us)")):
        for r in cost_rows:
            q = quality[r["sampler"]]
            lo, hi = q["frechet_ci"]
            colour = f"C{designs.index(r['design'])}"
            ax.errorbar([r[key] * scale], [q["frechet"]], yerr=[[q["frechet"] - lo], [hi - q["frechet"]]],
                        fmt=markers[r["sampler"]], color=colour, mfc=colour if r["native"] else "white",
                        ms=7, capsize=3, label=f"{r['sampler']} on {r['design']}")
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("Frechet distance (95% bootstrap interval)")
    fig.suptitle(title, fontsize=10)
    # below the panels: the error bars span most of the height, so no corner inside is clear
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=7)
    return fig


def save_pareto(quality: dict, cost_rows: list[dict], path: str | os.PathLike) -> None:
    """Writes `pareto_figure` to `path`, titled with the file names it comes from."""
    save_figure_atomic(pareto_figure(quality, cost_rows, f"{os.path.basename(os.fspath(path))} (metrics.json)"),
                       path, dpi=150)
