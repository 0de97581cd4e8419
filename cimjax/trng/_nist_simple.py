"""SP800-22 tests on counts and partial sums: frequency, block frequency, runs,
longest run of ones, cumulative sums (sections 2.1-2.4 and 2.13).

Each takes a `(k, n)` uint8 matrix of 0/1 (one stream per row, first bit first)
and returns a `TestOutcome`; constants follow the NIST STS 2.1.2 reference code.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc, gammaincc, ndtr

from cimjax.trng._result import TestOutcome, outcome, skipped_outcome


def _short_warning(n: int, minimum: int, name: str) -> tuple:
    return (f"{name}: n={n} is below NIST's recommended minimum {minimum}",) if n < minimum else ()


def frequency(bits: np.ndarray) -> TestOutcome:
    """Frequency (monobit) test, SP800-22 2.1: p = erfc(|S_n| / sqrt(2 n))."""
    n = bits.shape[1]
    s = 2 * bits.sum(axis=1, dtype=np.int64) - n
    p = erfc(np.abs(s) / math.sqrt(n) / math.sqrt(2.0))
    return outcome("frequency", p, warnings=_short_warning(n, 100, "frequency"))


def block_frequency(bits: np.ndarray, block_size: int = 128) -> TestOutcome:
    """Frequency within blocks of M bits, SP800-22 2.2: p = igamc(N/2, chi2/2)."""
    k, n = bits.shape
    n_blocks = n // block_size
    if n_blocks == 0:
        return skipped_outcome("block_frequency", k, f"n={n} is shorter than one block ({block_size=})")
    ones = bits[:, : n_blocks * block_size].reshape(k, n_blocks, block_size).sum(axis=2, dtype=np.int64)
    chi2 = 4.0 * block_size * np.sum((ones / block_size - 0.5) ** 2, axis=1)
    warn = _short_warning(n, 100, "block_frequency")
    if block_size < 20:  # the reference's own default M=128 breaks NIST's "M > 0.01 n" for n = 10^6
        warn += (f"block_frequency: NIST recommends M >= 20 ({block_size=})",)
    return outcome("block_frequency", gammaincc(n_blocks / 2.0, chi2 / 2.0), warnings=warn)


def runs(bits: np.ndarray) -> TestOutcome:
    """Runs test, SP800-22 2.3.

    As in the reference, a stream failing the frequency prerequisite
    |pi - 1/2| >= 2/sqrt(n) gets p = 0 (the test is failed, not skipped).
    """
    n = bits.shape[1]
    pi = bits.sum(axis=1, dtype=np.int64) / n
    v_obs = 1 + np.count_nonzero(bits[:, 1:] != bits[:, :-1], axis=1)
    var = 2.0 * pi * (1.0 - pi)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = erfc(np.abs(v_obs - n * var) / (var * math.sqrt(2.0 * n)))
    p = np.where(np.abs(pi - 0.5) > 2.0 / math.sqrt(n), 0.0, p)
    return outcome("runs", p, warnings=_short_warning(n, 100, "runs"))


# (n threshold, K, M, V_0, pi_0..pi_K): SP800-22 2.4.4 / reference longestRunOfOnes.c
_LONGEST_RUN_TABLE = (
    (750000, 6, 10000, 10, (0.0882, 0.2092, 0.2483, 0.1933, 0.1208, 0.0675, 0.0727)),
    (6272, 5, 128, 4, (0.1174035788, 0.242955959, 0.249363483, 0.17517706, 0.102701071, 0.112398847)),
    (128, 3, 8, 1, (0.21484375, 0.3671875, 0.23046875, 0.1875)),
)


def longest_run_per_block(blocks: np.ndarray) -> np.ndarray:
    """(..., M) 0/1 -> (...,) the longest run of ones in each block."""
    c = np.cumsum(blocks, axis=-1, dtype=np.int32)
    # run length at i = ones so far minus ones at the last zero before i
    at_zero = np.where(blocks == 0, c, 0)
    return (c - np.maximum.accumulate(at_zero, axis=-1)).max(axis=-1)


def longest_run(bits: np.ndarray) -> TestOutcome:
    """Longest run of ones in a block, SP800-22 2.4; M, K, V and pi from n as the reference."""
    k, n = bits.shape
    for threshold, big_k, m, v0, pi in _LONGEST_RUN_TABLE:
        if n >= threshold:
            break
    else:
        return skipped_outcome("longest_run", k, f"n={n} is shorter than the minimum 128 bits")
    n_blocks = n // m
    v = longest_run_per_block(bits[:, : n_blocks * m].reshape(k, n_blocks, m))
    cls = np.clip(v, v0, v0 + big_k) - v0  # <= V_0 pools into class 0, >= V_K into class K
    nu = np.stack([np.count_nonzero(cls == j, axis=1) for j in range(big_k + 1)], axis=1)
    expected = n_blocks * np.asarray(pi)
    chi2 = np.sum((nu - expected[None, :]) ** 2 / expected[None, :], axis=1)
    return outcome("longest_run", gammaincc(big_k / 2.0, chi2 / 2.0))


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero), as the reference's int arithmetic."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def _cusum_p(z: int, n: int) -> float:
    """SP800-22 2.13.4 (5): the p-value of the maximal excursion z of an n-step walk."""
    sqrt_n = math.sqrt(n)
    k1 = np.arange(_c_div(_c_div(-n, z) + 1, 4), _c_div(_c_div(n, z) - 1, 4) + 1)
    k2 = np.arange(_c_div(_c_div(-n, z) - 3, 4), _c_div(_c_div(n, z) - 1, 4) + 1)
    s1 = np.sum(ndtr((4 * k1 + 1) * z / sqrt_n) - ndtr((4 * k1 - 1) * z / sqrt_n))
    s2 = np.sum(ndtr((4 * k2 + 3) * z / sqrt_n) - ndtr((4 * k2 + 1) * z / sqrt_n))
    return 1.0 - s1 + s2


def cumulative_sums(bits: np.ndarray) -> TestOutcome:
    """Cumulative sums test, SP800-22 2.13, forward (mode 0) and reverse (mode 1)."""
    n = bits.shape[1]
    walk = np.cumsum(2 * bits.astype(np.int32) - 1, axis=1, dtype=np.int64)
    sup = np.maximum(walk.max(axis=1), 0)
    inf = np.minimum(walk.min(axis=1), 0)
    final = walk[:, -1]
    z_fwd = np.maximum(sup, -inf)
    z_rev = np.maximum(sup - final, final - inf)
    p = np.array([[_cusum_p(int(zf), n), _cusum_p(int(zr), n)] for zf, zr in zip(z_fwd, z_rev)])
    return outcome("cumulative_sums", p, labels=("forward", "reverse"),
                   warnings=_short_warning(n, 100, "cumulative_sums"))
