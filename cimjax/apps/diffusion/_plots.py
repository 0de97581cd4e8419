"""Pictures of the demo: sample grids per sampler and a 2-D embedding of real vs generated."""

from __future__ import annotations

import os

import numpy as np

from cimjax._io import save_figure_atomic

__all__ = ["save_grid", "embed_2d", "save_embedding"]


def save_grid(images: np.ndarray, side: int, path: str | os.PathLike, title: str, n: int = 100) -> None:
    """A sqrt(n) x sqrt(n) grid of the first n images [N, side*side], saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = int(np.sqrt(min(n, len(images))))
    tiles = images[: k * k].reshape(k, k, side, side)
    canvas = np.ones((k * (side + 1) - 1, k * (side + 1) - 1))
    for i in range(k):
        for j in range(k):
            canvas[i * (side + 1): i * (side + 1) + side, j * (side + 1): j * (side + 1) + side] = tiles[i, j]
    fig, ax = plt.subplots(figsize=(4, 4.3))
    ax.imshow(canvas, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    save_figure_atomic(fig, path, dpi=120, bbox_inches="tight")
    plt.close(fig)


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


def save_embedding(real: np.ndarray, sets: dict[str, np.ndarray], path: str | os.PathLike) -> str:
    """Scatter of real and generated images in a 2-D embedding fitted on the real ones; returns the method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    method, pts = embed_2d(real, list(sets.values()))
    fig, axes = plt.subplots(1, len(sets), figsize=(4 * len(sets), 4), sharex=True, sharey=True, squeeze=False)
    for ax, (name, p) in zip(axes[0], zip(sets, pts[1:])):
        ax.scatter(pts[0][:, 0], pts[0][:, 1], s=3, c="0.7", label="real (train)")
        ax.scatter(p[:, 0], p[:, 1], s=3, c="C3", label=name)
        ax.set_title(f"{name} vs real ({method})", fontsize=10)
        ax.legend(loc="upper right", fontsize=7, markerscale=3)
    save_figure_atomic(fig, path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return method
