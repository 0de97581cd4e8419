"""SP800-22 tests on structure: binary matrix rank (2.5) and discrete Fourier transform (2.6)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc

from cimjax.trng._result import TestOutcome, outcome, skipped_outcome

_RANK_SIZE = 32  # M = Q = 32, as the reference


def gf2_rank(rows: np.ndarray) -> np.ndarray:
    """Ranks over GF(2) of a batch of 32x32 bit matrices.

    Args:
      rows: (B, 32) uint32; bit 31 of rows[b, i] is matrix b's entry (i, 0).
    Returns:
      (B,) int ranks, by Gauss-Jordan elimination vectorised across the batch.
    """
    rows = rows.copy()
    batch = np.arange(rows.shape[0])
    used = np.zeros(rows.shape, dtype=bool)
    rank = np.zeros(rows.shape[0], dtype=np.int64)
    for col in range(_RANK_SIZE):
        bit = ((rows >> np.uint32(_RANK_SIZE - 1 - col)) & np.uint32(1)).astype(bool)
        cand = bit & ~used
        found = cand.any(axis=1)
        pivot = cand.argmax(axis=1)
        pivot_row = rows[batch, pivot]
        clear = bit & found[:, None]
        clear[batch, pivot] = False
        rows ^= np.where(clear, pivot_row[:, None], np.uint32(0))
        used[batch, pivot] |= found
        rank += found
    return rank


def _rank_probabilities(size: int = _RANK_SIZE) -> tuple[float, float, float]:
    """P(rank = M), P(rank = M-1), P(rank <= M-2) of a random MxM GF(2) matrix (SP800-22 3.5)."""

    def p_rank(r: int) -> float:
        prod = 1.0
        for i in range(r):
            prod *= (1.0 - 2.0 ** (i - size)) ** 2 / (1.0 - 2.0 ** (i - r))
        return 2.0 ** (r * (2 * size - r) - size * size) * prod

    p_full, p_minus1 = p_rank(size), p_rank(size - 1)
    return p_full, p_minus1, 1.0 - p_full - p_minus1


def rank(bits: np.ndarray) -> TestOutcome:
    """Binary matrix rank test, SP800-22 2.5: N = n // 1024 matrices of 32x32, rows from consecutive bits."""
    k, n = bits.shape
    per = _RANK_SIZE * _RANK_SIZE
    n_mat = n // per
    if n_mat == 0:
        return skipped_outcome("rank", k, f"n={n} is shorter than one 32x32 matrix (1024 bits)")
    packed = np.packbits(bits[:, : n_mat * per].reshape(k * n_mat * _RANK_SIZE, _RANK_SIZE), axis=1)
    rows = packed.view(">u4").astype(np.uint32).reshape(k * n_mat, _RANK_SIZE)
    r = gf2_rank(rows).reshape(k, n_mat)
    f_full = np.count_nonzero(r == _RANK_SIZE, axis=1)
    f_minus1 = np.count_nonzero(r == _RANK_SIZE - 1, axis=1)
    f_rest = n_mat - f_full - f_minus1
    p = _rank_probabilities()
    chi2 = sum((f - n_mat * pi) ** 2 / (n_mat * pi) for f, pi in zip((f_full, f_minus1, f_rest), p))
    warn = () if n_mat >= 38 else (f"rank: NIST recommends at least 38 matrices ({n_mat=})",)
    return outcome("rank", np.exp(-chi2 / 2.0), warnings=warn)


def dft(bits: np.ndarray, chunk: int = 4) -> TestOutcome:
    """Discrete Fourier transform (spectral) test, SP800-22 2.6, with STS 2.1.2's constants.

    Counts the first n//2 moduli |X_0..X_{n/2-1}| below T = sqrt(ln(1/0.05) n) and
    compares with N_0 = 0.95 n / 2: d = (N_1 - N_0) / sqrt(n 0.95 0.05 / 4).
    """
    k, n = bits.shape
    half = n // 2
    if half == 0:
        return skipped_outcome("dft", k, f"n={n} is too short for a spectrum")
    threshold = math.sqrt(2.995732274 * n)  # ln(20) n, the reference's constant
    below = np.empty(k, dtype=np.int64)
    for start in range(0, k, chunk):  # bounds the complex spectrum's memory
        x = 2.0 * bits[start:start + chunk] - 1.0
        mod = np.abs(np.fft.rfft(x, axis=1)[:, :half])
        below[start:start + chunk] = np.count_nonzero(mod < threshold, axis=1)
    n0 = 0.95 * n / 2.0
    d = (below - n0) / math.sqrt(n / 4.0 * 0.95 * 0.05)
    warn = () if n >= 1000 else (f"dft: n={n} is below NIST's recommended minimum 1000",)
    return outcome("dft", erfc(np.abs(d) / math.sqrt(2.0)), warnings=warn)
