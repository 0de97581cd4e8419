"""Sample-quality metrics of generated images against real ones (Fig. 24).

All distances compare two sets of flattened images (or classifier features), [N, P]:
* `mmd_rbf`: squared maximum mean discrepancy, unbiased U-statistic (Gretton et al. 2012),
  Gaussian kernel exp(-||a - b||^2 / (2 h^2)) with h the median pairwise distance of the
  pooled samples (the median heuristic).
* `sliced_wasserstein`: W_2 averaged over random 1-D projections (Rabin et al. 2011).
* `frechet_distance`: ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) of Gaussian fits
  (Heusel et al. 2017), here in a small digit classifier's penultimate features.
* `kernel_inception_distance`: KID (Binkowski et al. 2018), the unbiased MMD^2 of the
  classifier features with the cubic kernel (a . b / F + 1)^3: unlike the Frechet
  distance, its expectation does not depend on n, so sets of different sizes compare.
* `label_histogram`: fraction of samples the classifier assigns to each class.
* `nn_distance`: mean distance from each sample to its nearest training image (memorisation).
* `bootstrap_intervals`: percentile-bootstrap 95% intervals of the Frechet distance, MMD^2,
  KID and sliced W2 over resamples (with replacement) of the generated set, the reference
  held fixed; every resample is a row of multinomial draw counts, so the metrics of all
  resamples come from one kernel matrix, batched eigenvalues and each projection sorted once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["mmd_rbf", "median_bandwidth", "sliced_wasserstein", "frechet_distance", "label_histogram",
           "nn_distance", "nn_distances", "bootstrap_intervals", "resampled_metrics", "kernel_inception_distance"]


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def median_bandwidth(a: np.ndarray, b: np.ndarray, max_points: int = 1000) -> float:
    """Median pairwise Euclidean distance of the pooled samples (first `max_points` of each)."""
    pooled = np.concatenate([a[:max_points], b[:max_points]])
    d = _sq_dists(pooled, pooled)
    return float(np.sqrt(np.median(d[np.triu_indices(len(pooled), 1)])))


def _rbf(h: float):
    return lambda x, y: np.exp(-_sq_dists(x, y) / (2.0 * h * h))


def _cubic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """KID's kernel (x . y / F + 1)^3."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2_resampled(kernel, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Unbiased MMD^2 [K] of K resamples of a (draw counts w [K, N]) against b.

    The sum over distinct draws s != t of k(a_s, a_t) is w K w - sum_i w_i k(a_i, a_i).
    """
    kaa, kab, kbb = kernel(a, a), kernel(a, b), kernel(b, b)
    n, m = len(a), len(b)
    aa = (np.sum((w @ kaa) * w, axis=1) - w @ np.diag(kaa)) / (n * (n - 1))
    bb = (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
    return aa + bb - 2.0 * (w @ kab.sum(1)) / (n * m)


def mmd_rbf(a: np.ndarray, b: np.ndarray, bandwidth: float | None = None) -> float:
    """Unbiased MMD^2 between samples a [N, P] and b [M, P]; RBF kernel, median heuristic by default."""
    h = median_bandwidth(a, b) if bandwidth is None else float(bandwidth)
    return float(_mmd2_resampled(_rbf(h), a, b, np.ones((1, len(a))))[0])


def kernel_inception_distance(fa: np.ndarray, fb: np.ndarray) -> float:
    """KID: unbiased MMD^2 between feature sets fa [N, F] and fb [M, F], kernel (a . b / F + 1)^3."""
    return float(_mmd2_resampled(_cubic, fa, fb, np.ones((1, len(fa))))[0])


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, n_projections: int = 256, seed: int = 0) -> float:
    """Sliced 2-Wasserstein distance: sqrt of the mean over random directions of 1-D W_2^2.

    1-D W_2 between empirical distributions of different sizes is computed on a common
    grid of quantile levels.
    """
    pa, qb, levels = _sliced_projections(a, b, n_projections, seed)
    return float(np.sqrt(np.mean(np.square(np.quantile(pa, levels, axis=0) - qb))))


def _sliced_projections(a, b, n_projections, seed):
    """(a @ dirs, sorted quantiles of b @ dirs at the common levels, levels) of `sliced_wasserstein`."""
    rng = np.random.default_rng(seed)
    dirs = rng.normal(size=(a.shape[1], n_projections))
    dirs /= np.linalg.norm(dirs, axis=0, keepdims=True)
    levels = (np.arange(max(len(a), len(b))) + 0.5) / max(len(a), len(b))
    return np.asarray(a, np.float64) @ dirs, np.quantile(np.asarray(b, np.float64) @ dirs, levels, axis=0), levels


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


def _frechet_batched(mean_a, cov_a, mu_b, sb):
    """Frechet distances [K] of K Gaussian fits (mean [K, F], cov [K, F, F]) to one (mu_b, sb)."""
    lam, vec = np.linalg.eigh(sb)
    sqrt_sb = (vec * np.sqrt(np.clip(lam, 0.0, None))) @ vec.T
    inner = np.linalg.eigvalsh(sqrt_sb @ cov_a @ sqrt_sb)  # same spectrum as sa^1/2 sb sa^1/2
    tr_covmean = np.sqrt(np.clip(inner, 0.0, None)).sum(-1)
    return (np.square(mean_a - mu_b).sum(-1) + np.trace(cov_a, axis1=1, axis2=2) + np.trace(sb)
            - 2.0 * tr_covmean)


def _resampled_sliced_w2(pa: np.ndarray, qb: np.ndarray, levels: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """`sliced_wasserstein` [K] of K resamples (draw counts [K, N]) of projections pa [N, P], without sorting them.

    qb [L, P]: the reference's quantiles at `levels`. A resample's sorted values are the
    sorted originals, each repeated by its count: one np.repeat per resample, linear in N.
    """
    n, p = pa.shape
    order = np.argsort(pa, axis=0).T  # [P, N]
    sorted_flat = np.take_along_axis(pa.T, order, axis=1).ravel()
    order_flat = order.ravel()
    pos = levels * (n - 1)  # np.quantile's linear method
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = pos - lo
    out = np.empty(len(counts))
    for i, c in enumerate(counts):
        values = np.repeat(sorted_flat, c[order_flat]).reshape(p, n)
        out[i] = np.sqrt(np.mean(np.square(values[:, lo] * (1.0 - frac) + values[:, hi] * frac - qb.T)))
    return out


def resampled_metrics(images: np.ndarray, ref: np.ndarray, features: np.ndarray, ref_features: np.ndarray,
                      bandwidth: float, weights: np.ndarray, *, n_projections: int = 256,
                      seed: int = 0) -> dict[str, np.ndarray]:
    """Frechet, MMD^2, KID and sliced W2 [K] of K resamples of `images`, each given as draw counts.

    Args:
      images: [N, P], features [N, F]; ref [M, P], ref_features [M, F], held fixed.
      weights: [K, N] integer draw counts, each row summing to N (all ones = the set itself).
    Each metric equals the direct one (`frechet_distance`, `mmd_rbf`, `kernel_inception_distance`,
    `sliced_wasserstein`) of the resampled set `np.repeat(images, w, 0)`.
    """
    w = np.asarray(weights, np.float64)
    n = len(images)
    # Frechet: weighted means and covariances (ddof 1, as np.cov); both sets shifted by one
    # vector, which leaves the distance unchanged and the sums well scaled
    shift = np.asarray(features, np.float64).mean(0)
    f, fb = np.asarray(features, np.float64) - shift, np.asarray(ref_features, np.float64) - shift
    mean = w @ f / n
    second = np.stack([(f * wk[:, None]).T @ f for wk in w])  # [K, F, F]: f^T diag(w_k) f
    cov = (second - n * mean[:, :, None] * mean[:, None, :]) / (n - 1)
    frechet = _frechet_batched(mean, cov, fb.mean(0), np.atleast_2d(np.cov(fb, rowvar=False)))
    mmd2 = _mmd2_resampled(_rbf(bandwidth), images, ref, w)
    kid = _mmd2_resampled(_cubic, features, ref_features, w)
    # sliced W2: the projections and levels of sliced_wasserstein
    pa, qb, levels = _sliced_projections(images, ref, n_projections, seed)
    sw = _resampled_sliced_w2(pa, qb, levels, np.asarray(weights, np.int64))
    return {"frechet": frechet, "mmd2": mmd2, "kid": kid, "sliced_w2": sw}


def bootstrap_intervals(images: np.ndarray, ref: np.ndarray, features: np.ndarray, ref_features: np.ndarray,
                        bandwidth: float, *, n_boot: int = 300, seed: int = 0) -> dict[str, float | list[float]]:
    """One set's metrics and their 95% bootstrap intervals: {frechet, frechet_ci, mmd2, mmd2_ci, kid,
    kid_ci, sliced_w2, sliced_w2_ci}; each estimate is the set's own (all draw counts one).

    `n_boot` resamples with replacement of `images` (the reference held fixed), drawn from
    `seed`. A resample's duplicates bias these distances upward by about as much as finite n
    biases the estimate itself, so the percentile interval of the resamples (2.5%, 97.5%)
    is shifted by (estimate - resample mean): it is centred on the estimate and its width
    is the sampling spread at this n. Every set of the demo has the same n.
    """
    n = len(images)
    w = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=n_boot)
    ones = np.ones((1, n), int)
    both = resampled_metrics(images, ref, features, ref_features, bandwidth, np.concatenate([ones, w]))
    out = {}
    for name, values in both.items():
        lo, hi = np.percentile(values[1:], [2.5, 97.5]) + (values[0] - values[1:].mean())
        out[name], out[f"{name}_ci"] = float(values[0]), [float(lo), float(hi)]
    return out
