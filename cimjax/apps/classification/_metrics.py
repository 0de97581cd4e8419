"""Scores of a classifier's predictive probabilities, in numpy: accuracy, NLL, calibration, OOD.

- Expected calibration error (Guo et al. 2017, ICML, eq. 3): the top-class
  confidences fall into equal-width bins (b-1)/B < conf <= b/B of [0, 1];
  ECE = sum_b (n_b / n) |accuracy_b - mean confidence_b|.
- OOD detection: the predictive entropy H(p) = -sum_k p_k log p_k scores each input,
  and the AUROC of in-distribution (negatives) against out-of-distribution
  (positives) is the Mann-Whitney statistic U / (n_neg n_pos) with average ranks
  for ties (Hanley & McNeil 1982, Radiology 143:29): the probability that an OOD
  input gets a higher entropy than an in-distribution one, ties counting one half.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cimjax.errors import ConfigError

__all__ = ["ECE_BINS", "classification_scores", "expected_calibration_error", "predictive_entropy",
           "reliability_bins", "roc_auc"]

ECE_BINS = 15  # Guo et al. 2017 use 15 equal-width bins


def _probabilities(probs: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    p, y = np.asarray(probs, dtype=np.float64), np.asarray(labels)
    if p.ndim != 2 or y.shape != (p.shape[0],):
        raise ConfigError(f"probs must be (n, K) and labels (n,), got {p.shape} and {y.shape}")
    if p.shape[0] == 0:
        raise ConfigError("no examples to score")
    if not np.all(np.isfinite(p)) or p.min() < 0 or not np.allclose(p.sum(1), 1.0, atol=1e-4):
        raise ConfigError("probs must be finite, non-negative, and sum to 1 per row")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= p.shape[1]:
        raise ConfigError(f"labels must be integers in [0, {p.shape[1]})")
    return p, y


def reliability_bins(probs: Any, labels: Any, bins: int = ECE_BINS) -> dict[str, np.ndarray]:
    """Per equal-width confidence bin: edges (bins+1,), count, mean confidence and accuracy (bins,).

    An empty bin has count 0 and NaN confidence and accuracy.
    """
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ConfigError(f"{bins=} must be a positive int")
    p, y = _probabilities(probs, labels)
    conf, correct = p.max(1), (p.argmax(1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.searchsorted(edges[1:-1], conf, side="left")  # (lo, hi]; the first bin also takes 0
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(which, conf, minlength=bins) / count
        accuracy = np.bincount(which, correct, minlength=bins) / count
    return {"edges": edges, "count": count, "confidence": confidence, "accuracy": accuracy}


def expected_calibration_error(probs: Any, labels: Any, bins: int = ECE_BINS) -> float:
    """ECE of the top-class confidence over `bins` equal-width bins (see module doc).

    probs: (n, K) rows summing to 1; labels: (n,) ints.
    """
    r = reliability_bins(probs, labels, bins)
    used = r["count"] > 0
    gap = np.abs(r["accuracy"][used] - r["confidence"][used])
    return float(np.sum(r["count"][used] * gap) / np.sum(r["count"]))


def predictive_entropy(probs: Any) -> np.ndarray:
    """Entropy in nats of each row of probs (n, K) -> (n,), with 0 log 0 = 0."""
    p = np.asarray(probs, dtype=np.float64)
    logs = np.log(np.where(p > 0, p, 1.0))
    return -np.sum(p * logs, axis=-1)


def roc_auc(negatives: Any, positives: Any) -> float:
    """Area under the ROC curve of scores where positives should score higher (Mann-Whitney).

    negatives (n0,), positives (n1,): finite scores; ties count one half.
    """
    neg, pos = np.ravel(np.asarray(negatives, np.float64)), np.ravel(np.asarray(positives, np.float64))
    if neg.size == 0 or pos.size == 0:
        raise ConfigError(f"roc_auc needs both classes, got {neg.size} negatives and {pos.size} positives")
    scores = np.concatenate([neg, pos])
    if not np.all(np.isfinite(scores)):
        raise ConfigError("roc_auc scores must be finite")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    below = np.cumsum(counts) - counts
    ranks = (below + (counts + 1) / 2.0)[inverse]  # 1-based average ranks
    u = ranks[neg.size:].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (neg.size * pos.size))


def classification_scores(probs: Any, labels: Any, bins: int = ECE_BINS) -> dict[str, float]:
    """Accuracy, NLL (mean -log p[label], nats; p floored at 1e-12) and ECE of probs (n, K)."""
    p, y = _probabilities(probs, labels)
    picked = np.maximum(p[np.arange(len(y)), y], 1e-12)
    return {"accuracy": float(np.mean(p.argmax(1) == y)), "nll": float(-np.mean(np.log(picked))),
            "ece": expected_calibration_error(p, y, bins)}
