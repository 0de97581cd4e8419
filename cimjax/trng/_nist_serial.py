"""SP800-22 pattern-frequency tests: serial (2.11) and approximate entropy (2.12).

Both count all overlapping m-bit patterns of the stream wrapped around (its first
m-1 bits appended). The (m-1)-bit counts are marginals of the m-bit ones, so one
histogram serves every pattern length up to m.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaincc

from cimjax.trng._nist_template import window_codes
from cimjax.trng._result import TestOutcome, outcome, skipped_outcome

MAX_PATTERN_BITS = 24  # assumption: 2^24 counts per stream is the memory we allow


def wrapped_pattern_counts(bits: np.ndarray, m: int) -> np.ndarray:
    """(k, n) bits -> (k, 2^m) int64 counts of the n overlapping m-bit patterns, with wrap-around."""
    k, n = bits.shape
    if m == 0:
        return np.full((k, 1), n, dtype=np.int64)
    ext = np.concatenate([bits, np.tile(bits, (1, -(-(m - 1) // n)))[:, : m - 1]], axis=1) if m > 1 else bits
    codes = window_codes(ext, m).astype(np.int64)
    codes += (np.arange(k, dtype=np.int64) << m)[:, None]
    return np.bincount(codes.ravel(), minlength=k << m).reshape(k, 2 ** m)


def marginal(counts: np.ndarray, m: int) -> np.ndarray:
    """Counts of m-bit patterns from counts of longer patterns (sums over the trailing bits)."""
    return counts.reshape(counts.shape[0], 2 ** m, -1).sum(axis=2)


def _pattern_limit(name: str, k: int, n: int, m: int, need: int) -> TestOutcome | None:
    limit = min(int(math.log2(n)), MAX_PATTERN_BITS)
    if m < 1 or need > limit:
        return skipped_outcome(name, k, f"{m=} is too large for n={n}: needs {need} <= floor(log2 n) = "
                               f"{int(math.log2(n))} (and <= {MAX_PATTERN_BITS}); NIST recommends "
                               f"m < floor(log2 n) - {2 if name == 'serial' else 5}",
                               ("p1", "p2") if name == "serial" else ("p",))
    return None


def serial(bits: np.ndarray, m: int = 16, counts: np.ndarray | None = None) -> TestOutcome:
    """Serial test, SP800-22 2.11: two p-values from the first and second differences of psi^2_m.

    Args:
      counts: optional (k, 2^m') wrapped counts for some m' >= m (shared with approximate entropy).
    """
    k, n = bits.shape
    skip = _pattern_limit("serial", k, n, m, m)
    if skip is not None:
        return skip
    if counts is None:
        counts = wrapped_pattern_counts(bits, m)

    def psi2(width: int) -> np.ndarray:
        if width <= 0:
            return np.zeros(k)
        c = marginal(counts, width).astype(np.float64)
        return np.sum(c * c, axis=1) * 2.0 ** width / n - n

    p0, p1, p2 = psi2(m), psi2(m - 1), psi2(m - 2)
    del1, del2 = p0 - p1, p0 - 2.0 * p1 + p2
    p = np.stack([gammaincc(2.0 ** (m - 1) / 2, del1 / 2.0), gammaincc(2.0 ** (m - 2) / 2, del2 / 2.0)], axis=1)
    warn = () if m < int(math.log2(n)) - 2 else (f"serial: NIST recommends m < floor(log2 n) - 2 ({m=}, n={n})",)
    return outcome("serial", p, labels=("p1", "p2"), warnings=warn)


def approximate_entropy(bits: np.ndarray, m: int = 10, counts: np.ndarray | None = None) -> TestOutcome:
    """Approximate entropy test, SP800-22 2.12: ApEn(m) = phi(m) - phi(m+1), chi2 = 2n(ln 2 - ApEn).

    Args:
      counts: optional (k, 2^m') wrapped counts for some m' >= m + 1.
    """
    k, n = bits.shape
    skip = _pattern_limit("approximate_entropy", k, n, m, m + 1)
    if skip is not None:
        return skip
    if counts is None:
        counts = wrapped_pattern_counts(bits, m + 1)

    def phi(width: int) -> np.ndarray:
        c = marginal(counts, width).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(c > 0, c * np.log(c / n), 0.0)
        return terms.sum(axis=1) / n

    apen = phi(m) - phi(m + 1)
    chi2 = 2.0 * n * (math.log(2) - apen)
    warn = () if m < int(math.log2(n)) - 5 else (
        f"approximate_entropy: NIST recommends m < floor(log2 n) - 5 ({m=}, n={n})",)
    return outcome("approximate_entropy", gammaincc(2.0 ** (m - 1), chi2 / 2.0), warnings=warn)
