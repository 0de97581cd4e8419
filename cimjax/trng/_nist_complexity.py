"""SP800-22 compressibility tests: Maurer's universal test (2.9) and linear complexity (2.10)."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc, gammaincc

from cimjax.trng._result import TestOutcome, outcome, skipped_outcome

# Maurer's expected value and variance of the test statistic for L = 6..16 (SP800-22 2.9.4 / reference).
_UNIVERSAL_EXPECTED = {6: 5.2177052, 7: 6.1962507, 8: 7.1836656, 9: 8.1764248, 10: 9.1723243,
                       11: 10.170032, 12: 11.168765, 13: 12.168070, 14: 13.167693, 15: 14.167488,
                       16: 15.167379}
_UNIVERSAL_VARIANCE = {6: 2.954, 7: 3.125, 8: 3.238, 9: 3.311, 10: 3.356, 11: 3.384, 12: 3.401,
                       13: 3.410, 14: 3.416, 15: 3.419, 16: 3.421}
# n at which the reference moves to L = 6, 7, ..., 16
_UNIVERSAL_L_FROM_N = ((1059061760, 16), (496435200, 15), (231669760, 14), (107560960, 13),
                       (49643520, 12), (22753280, 11), (10342400, 10), (4654080, 9), (2068480, 8),
                       (904960, 7), (387840, 6))


def universal_block_length(n: int) -> int:
    """The reference's L for n bits (5 below 387840 bits, where the test does not apply)."""
    for threshold, length in _UNIVERSAL_L_FROM_N:
        if n >= threshold:
            return length
    return 5


def universal(bits: np.ndarray, block_length: int | None = None, init_blocks: int | None = None) -> TestOutcome:
    """Maurer's universal statistical test, SP800-22 2.9.

    Args:
      bits: (k, n) 0/1.
      block_length: L; default from n as the reference (L = 6 needs n >= 387840).
      init_blocks: Q; default 10 * 2^L (the reference's minimum).
    """
    k, n = bits.shape
    length = universal_block_length(n) if block_length is None else block_length
    q = 10 * 2 ** length if init_blocks is None else init_blocks
    name = "universal"
    if length not in _UNIVERSAL_EXPECTED:
        return skipped_outcome(name, k, f"n={n} gives L={length}; the test needs 6 <= L <= 16 "
                               f"(n >= 387840 for the default L)")
    if q < 10 * 2 ** length:
        return skipped_outcome(name, k, f"Q={q} must be >= 10 * 2^L = {10 * 2 ** length}")
    n_test = n // length - q
    if n_test <= 0:
        return skipped_outcome(name, k, f"n={n} leaves no test blocks after Q={q} blocks of L={length}")
    total = q + n_test
    blocks = bits[:, : total * length].reshape(k, total, length).astype(np.int64)
    codes = blocks @ (1 << np.arange(length - 1, -1, -1, dtype=np.int64))
    phi = np.empty(k)
    for s in range(k):  # distance from each block to the last earlier block with the same code
        order = np.argsort(codes[s].astype(np.uint16), kind="stable")
        idx = order + 1  # 1-based block positions, as the reference's T table
        prev = np.zeros(total, dtype=np.int64)
        same = codes[s][order[1:]] == codes[s][order[:-1]]
        prev[order[1:]] = np.where(same, idx[:-1], 0)
        pos = np.arange(q + 1, total + 1)
        phi[s] = np.sum(np.log2(pos - prev[q:])) / n_test
    c = 0.7 - 0.8 / length + (4 + 32 / length) * n_test ** (-3 / length) / 15
    sigma = c * math.sqrt(_UNIVERSAL_VARIANCE[length] / n_test)
    p = erfc(np.abs(phi - _UNIVERSAL_EXPECTED[length]) / (math.sqrt(2) * sigma))
    return outcome(name, p)


def berlekamp_massey(seqs: np.ndarray) -> np.ndarray:
    """Linear complexity of each row of a (B, M) 0/1 matrix, by Berlekamp-Massey over GF(2).

    Vectorised across rows with bit-packed polynomials in uint64 words: the
    connection polynomial C, the reversed recent bits R (bit i = s_{N-i}) and the
    shifted previous polynomial x^{N-m} B all advance by a one-bit shift per step,
    so every row shares the same word operations.
    """
    n_rows, length = seqs.shape
    words = (length + 1 + 63) // 64
    c = np.zeros((n_rows, words), dtype=np.uint64)
    c[:, 0] = 1
    b_shift = np.zeros_like(c)
    b_shift[:, 0] = 2  # x * B(x) with B = 1, ready for step N = 0 with m = -1
    reg = np.zeros_like(c)
    lin = np.zeros(n_rows, dtype=np.int64)
    one, top = np.uint64(1), np.uint64(63)

    def shl1(x: np.ndarray) -> np.ndarray:
        out = x << one
        out[:, 1:] |= x[:, :-1] >> top
        return out

    col = seqs.astype(np.uint64)
    for step in range(length):
        reg = shl1(reg)
        reg[:, 0] |= col[:, step]
        d = (np.bitwise_count(c & reg).sum(axis=1) & 1).astype(bool)
        grow = d & (2 * lin <= step)
        new_c = np.where(d[:, None], c ^ b_shift, c)
        b_shift = shl1(np.where(grow[:, None], c, b_shift))
        lin = np.where(grow, step + 1 - lin, lin)
        c = new_c
    return lin


# SP800-22 3.10, as the reference writes them (pi_0 = 0.01047, a typo for 1/96 = 0.010417 kept
# so that p-values match the reference)
_LC_PI = (0.01047, 0.03125, 0.125, 0.5, 0.25, 0.0625, 0.020833)


def linear_complexity(bits: np.ndarray, block_size: int = 500, chunk_rows: int = 50000) -> TestOutcome:
    """Linear complexity test, SP800-22 2.10: N = n // M blocks, K = 6 classes of T_i."""
    k, n = bits.shape
    n_blocks = n // block_size
    if n_blocks == 0:
        return skipped_outcome("linear_complexity", k, f"n={n} is shorter than one block ({block_size=})")
    rows = bits[:, : n_blocks * block_size].reshape(k * n_blocks, block_size)
    lin = np.concatenate([berlekamp_massey(rows[i:i + chunk_rows])
                          for i in range(0, rows.shape[0], chunk_rows)]).reshape(k, n_blocks)
    m = block_size
    mu = m / 2.0 + (9.0 + (-1.0) ** (m + 1)) / 36.0 - (m / 3.0 + 2.0 / 9.0) / 2.0 ** m
    t = (-1.0) ** m * (lin - mu) + 2.0 / 9.0
    edges = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    cls = np.searchsorted(edges, t, side="left")  # T <= -2.5 -> 0, ..., T > 2.5 -> 6
    nu = np.stack([np.count_nonzero(cls == j, axis=1) for j in range(7)], axis=1)
    expected = n_blocks * np.asarray(_LC_PI)
    chi2 = np.sum((nu - expected) ** 2 / expected, axis=1)
    warn = ()
    if not (500 <= m <= 5000 and n_blocks >= 200):
        warn = (f"linear_complexity: NIST recommends 500 <= M <= 5000 and N >= 200 ({m=}, N={n_blocks})",)
    return outcome("linear_complexity", gammaincc(3.0, chi2 / 2.0), warnings=warn)
