"""Sample-quality metrics of generated images against real ones (Fig. 24).

All distances compare two sets of flattened images (or classifier features), [N, P]:
* `mmd_rbf`: squared maximum mean discrepancy, unbiased U-statistic (Gretton et al. 2012),
  Gaussian kernel exp(-||a - b||^2 / (2 h^2)) with h the median pairwise distance of the
  pooled samples (the median heuristic).
* `sliced_wasserstein`: W_2 averaged over random 1-D projections (Rabin et al. 2011).
* `frechet_distance`: ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of Gaussian fits
  (Heusel et al. 2017), here in a small digit classifier's penultimate features.
* `label_histogram`: fraction of samples the classifier assigns to each class.
* `nn_distance`: mean distance from each sample to its nearest training image (memorisation).
"""

from __future__ import annotations

import numpy as np

__all__ = ["mmd_rbf", "median_bandwidth", "sliced_wasserstein", "frechet_distance", "label_histogram",
           "nn_distance", "nn_distances"]


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def median_bandwidth(a: np.ndarray, b: np.ndarray, max_points: int = 1000) -> float:
    """Median pairwise Euclidean distance of the pooled samples (first `max_points` of each)."""
    pooled = np.concatenate([a[:max_points], b[:max_points]])
    d = _sq_dists(pooled, pooled)
    return float(np.sqrt(np.median(d[np.triu_indices(len(pooled), 1)])))


def mmd_rbf(a: np.ndarray, b: np.ndarray, bandwidth: float | None = None) -> float:
    """Unbiased MMD^2 between samples a [N, P] and b [M, P]; RBF kernel, median heuristic by default."""
    h = median_bandwidth(a, b) if bandwidth is None else float(bandwidth)
    k = lambda x, y: np.exp(-_sq_dists(x, y) / (2.0 * h * h))  # noqa: E731
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    n, m = len(a), len(b)
    return float((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
                 - 2.0 * kab.mean())


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, n_projections: int = 256, seed: int = 0) -> float:
    """Sliced 2-Wasserstein distance: sqrt of the mean over random directions of 1-D W_2^2.

    1-D W_2 between empirical distributions of different sizes is computed on a common
    grid of quantile levels.
    """
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(a.shape[1], n_projections))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    levels = (np.arange(max(len(a), len(b))) + 0.5) / max(len(a), len(b))
    qa = np.quantile(np.asarray(a, np.float64) @ dirs, levels, axis=0)
    qb = np.quantile(np.asarray(b, np.float64) @ dirs, levels, axis=0)
    return float(np.sqrt(np.mean(np.square(qa - qb))))


def frechet_distance(fa: np.ndarray, fb: np.ndarray) -> float:
    """Frechet distance between Gaussian fits of two feature sets [N, F] (FID's formula)."""
    fa, fb = np.asarray(fa, np.float64), np.asarray(fb, np.float64)
    mu_a, mu_b = fa.mean(0), fb.mean(0)
    sa, sb = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    # tr sqrt(sa sb) = sum sqrt(eig(sa^1/2 sb sa^1/2)): a symmetric PSD form, so it stays real
    # and defined when the feature covariances are singular (features of a ReLU net often are).
    lam, vec = np.linalg.eigh(sa)
    sqrt_sa = (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T
    trace_covmean = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh(sqrt_sa @ sb @ sqrt_sa), 0.0, None)))
    return float(np.sum(np.square(mu_a - mu_b)) + np.trace(sa) + np.trace(sb) - 2.0 * trace_covmean)


def label_histogram(labels: np.ndarray, n_classes: int = 10) -> np.ndarray:
    """Fraction of `labels` [N] in each class, [n_classes]."""
    return np.bincount(np.asarray(labels), minlength=n_classes)[:n_classes] / max(len(labels), 1)


def nn_distances(samples: np.ndarray, train: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Euclidean distance of each sample [N, P] to its nearest training image [M, P]: [N]."""
    best = [np.sqrt(_sq_dists(samples[i:i + chunk], train).min(axis=1)) for i in range(0, len(samples), chunk)]
    return np.concatenate(best)


def nn_distance(samples: np.ndarray, train: np.ndarray, chunk: int = 2048) -> float:
    """Mean Euclidean distance of each sample to its nearest training image."""
    return float(np.mean(nn_distances(samples, train, chunk)))
