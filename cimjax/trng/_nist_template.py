"""SP800-22 template-matching tests: non-overlapping (2.7) and overlapping (2.8)."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import gammaincc, gammaln

from cimjax.trng._result import TestOutcome, outcome, skipped_outcome

MAX_TEMPLATE_BITS = 16  # assumption: 2^16 window codes per block bounds the histogram's memory


@lru_cache(maxsize=None)
def aperiodic_templates(m: int) -> np.ndarray:
    """All aperiodic m-bit templates, as integers (first bit most significant), in lexicographic order.

    A template is aperiodic when no proper prefix equals the suffix of the same
    length, so it cannot overlap itself; these are the reference's templates/template<m>
    files (148 of them for m = 9).
    """
    v = np.arange(2 ** m, dtype=np.int64)
    periodic = np.zeros(v.shape, dtype=bool)
    for shift in range(1, m):
        width = m - shift
        periodic |= (v >> shift) == (v & ((1 << width) - 1))
    return v[~periodic]


def window_codes(blocks: np.ndarray, m: int) -> np.ndarray:
    """(..., M) bits -> (..., M - m + 1) integer code of each m-bit window, first bit most significant."""
    length = blocks.shape[-1] - m + 1
    dtype = np.uint16 if m <= 16 else np.uint32
    code = np.zeros(blocks.shape[:-1] + (length,), dtype=dtype)
    for t in range(m):
        code <<= dtype(1)
        code |= blocks[..., t:t + length]
    return code


def non_overlapping_template(bits: np.ndarray, m: int = 9, n_blocks: int = 8) -> TestOutcome:
    """Non-overlapping template matching, SP800-22 2.7, for every aperiodic m-bit template.

    An aperiodic template cannot overlap itself, so the reference's scan (skip m-1
    bits after a hit) counts every occurrence: the counts W_j for all templates at
    once are a histogram of window codes per block.

    Returns:
      (k, T) p-values, T = number of aperiodic templates (148 for m = 9), labelled by template.
    """
    k, n = bits.shape
    templates = aperiodic_templates(m) if 2 <= m <= MAX_TEMPLATE_BITS else np.zeros(0, np.int64)
    labels = tuple(format(int(t), f"0{m}b") for t in templates)
    name = "non_overlapping_template"
    if not 2 <= m <= MAX_TEMPLATE_BITS:
        return skipped_outcome(name, k, f"template length {m=} must be in [2, {MAX_TEMPLATE_BITS}]")
    block = n // n_blocks
    lam = (block - m + 1) / 2.0 ** m
    if n_blocks < 1 or lam <= 0:
        return skipped_outcome(name, k, f"blocks of {block} bits ({n=}, {n_blocks=}) cannot hold an {m}-bit template", labels)
    var = block * (1.0 / 2.0 ** m - (2.0 * m - 1.0) / 2.0 ** (2.0 * m))
    codes = window_codes(bits[:, : n_blocks * block].reshape(k, n_blocks, block), m).astype(np.int64)
    codes += (np.arange(k * n_blocks, dtype=np.int64) << m).reshape(k, n_blocks, 1)
    hist = np.bincount(codes.ravel(), minlength=k * n_blocks << m).reshape(k, n_blocks, 2 ** m)
    w = hist[:, :, templates]  # (k, N, T)
    chi2 = np.sum((w - lam) ** 2, axis=1) / var
    warn = ()
    if m not in (9, 10) or n_blocks > 100:
        warn = (f"non_overlapping_template: NIST recommends m in {{9, 10}} and N <= 100 ({m=}, {n_blocks=})",)
    return outcome(name, gammaincc(n_blocks / 2.0, chi2 / 2.0), labels=labels, warnings=warn)


def _overlap_probabilities(eta: float, k_max: int = 5) -> np.ndarray:
    """pi_0..pi_K of the overlapping test, as STS 2.1.2's Pr(u, eta) computes them.

    This is the reference's approximation (pi_0 = e^-eta); the exact values of
    Hamano and Kaneko (0.364091, 0.185659, ...) sit in the reference as dead code and
    are not used, so neither are they here: p-values match the reference.
    """
    pi = np.empty(k_max + 1)
    pi[0] = math.exp(-eta)
    for u in range(1, k_max):
        l = np.arange(1, u + 1)
        pi[u] = np.sum(np.exp(-eta - u * math.log(2) + l * math.log(eta) - gammaln(l + 1)
                              + gammaln(u) - gammaln(l) - gammaln(u - l + 1)))
    pi[k_max] = 1.0 - pi[:k_max].sum()
    return pi


def overlapping_template(bits: np.ndarray, m: int = 9, block_size: int = 1032) -> TestOutcome:
    """Overlapping template matching of the all-ones m-bit template, SP800-22 2.8 (K = 5 classes)."""
    k, n = bits.shape
    n_blocks = n // block_size
    name = "overlapping_template"
    if m < 1 or m > block_size:
        return skipped_outcome(name, k, f"template length {m=} must be in [1, {block_size=}]")
    if n_blocks == 0:
        return skipped_outcome(name, k, f"n={n} is shorter than one block ({block_size=})")
    blocks = bits[:, : n_blocks * block_size].reshape(k, n_blocks, block_size)
    c = np.zeros((k, n_blocks, block_size + 1), dtype=np.int32)
    np.cumsum(blocks, axis=2, out=c[:, :, 1:])
    hits = np.count_nonzero(c[:, :, m:] - c[:, :, :-m] == m, axis=2)  # windows of m ones
    lam = (block_size - m + 1) / 2.0 ** m
    pi = _overlap_probabilities(lam / 2.0)
    cls = np.minimum(hits, 5)
    nu = np.stack([np.count_nonzero(cls == j, axis=1) for j in range(6)], axis=1)
    expected = n_blocks * pi
    chi2 = np.sum((nu - expected) ** 2 / expected, axis=1)
    warn = () if n >= 10 ** 6 else (f"overlapping_template: n={n} is below NIST's recommended 10^6",)
    return outcome(name, gammaincc(5 / 2.0, chi2 / 2.0), warnings=warn)
