"""Randomness measures beyond NIST: autocorrelation (Fig. 16), inter-sample Hamming
distance (Fig. 17), Shannon entropy (Fig. 18) and SP800-90B's most-common-value min-entropy."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from cimjax.trng._bits import as_bit_matrix
from cimjax.errors import ConfigError


def autocorrelation(bits, max_lag: int = 50) -> np.ndarray:
    """Normalised autocorrelation r(tau) of each stream for tau = 0..max_lag (Fig. 16).

    r(tau) = sum_i (x_i - mean)(x_{i+tau} - mean) / sum_i (x_i - mean)^2; for an
    i.i.d. stream r(tau > 0) ~ N(0, 1/n). A constant stream gives NaN.

    Returns:
      (k, max_lag + 1) float64.
    """
    x = as_bit_matrix(bits).astype(np.float64)
    n = x.shape[1]
    if not 0 <= max_lag < n:
        raise ConfigError(f"{max_lag=} must be in [0, n) for n={n}")
    x = x - x.mean(axis=1, keepdims=True)
    size = 1 << int(math.ceil(math.log2(2 * n)))  # zero-padded FFT: linear, not circular, correlation
    spec = np.fft.rfft(x, size, axis=1)
    acf = np.fft.irfft(spec * np.conj(spec), size, axis=1)[:, : max_lag + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        return acf / acf[:, :1]


def hamming_distance(bits) -> np.ndarray:
    """Normalised Hamming distance between every pair of streams (Fig. 17): the fraction of bits that differ.

    Returns:
      (k, k) float64 with zeros on the diagonal; independent fair streams give 0.5 +- 0.5/sqrt(n).
    """
    x = as_bit_matrix(bits).astype(np.float64)
    ones = x.sum(axis=1)
    both = x @ x.T
    return (ones[:, None] + ones[None, :] - 2.0 * both) / x.shape[1]


def pairwise_hamming(bits) -> np.ndarray:
    """The k (k - 1) / 2 distinct inter-sample Hamming distances (upper triangle), for a histogram."""
    d = hamming_distance(bits)
    return d[np.triu_indices(d.shape[0], k=1)]


def shannon_entropy(bits, block: int = 1) -> np.ndarray:
    """Shannon entropy per bit of each stream (Fig. 18): H = -sum p log2 p over non-overlapping `block`-bit symbols, / block.

    With block = 1 this is the entropy of the ones fraction, 1 for a perfectly balanced stream.

    Returns:
      (k,) float64 in [0, 1].
    """
    x = as_bit_matrix(bits)
    k, n = x.shape
    if not 1 <= block <= min(n, 24):
        raise ConfigError(f"{block=} must be in [1, min(n, 24)] for n={n}")
    usable = (n // block) * block
    codes = x[:, :usable].reshape(k, -1, block).astype(np.int64) @ (1 << np.arange(block - 1, -1, -1))
    codes += (np.arange(k, dtype=np.int64) << block)[:, None]
    p = np.bincount(codes.ravel(), minlength=k << block).reshape(k, -1) / (usable // block)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.sum(np.where(p > 0, p * np.log2(p), 0.0), axis=1)
    return h / block


def mcv_min_entropy(bits) -> np.ndarray:
    """SP800-90B 6.3.1 most-common-value min-entropy estimate per bit of each stream.

    p_u = min(1, p_hat + 2.576 sqrt(p_hat (1 - p_hat) / (L - 1))), H = -log2(p_u),
    p_hat the frequency of the most common bit value over L samples.

    Returns:
      (k,) float64 in [0, 1].
    """
    x = as_bit_matrix(bits)
    n = x.shape[1]
    if n < 2:
        raise ConfigError(f"the MCV estimate needs at least 2 samples, got n={n}")
    ones = x.sum(axis=1, dtype=np.int64)
    p_hat = np.maximum(ones, n - ones) / n
    p_u = np.minimum(1.0, p_hat + 2.576 * np.sqrt(p_hat * (1.0 - p_hat) / (n - 1)))
    return -np.log2(p_u)


class FairEntropy(NamedTuple):
    """Shannon entropy per bit of a fair i.i.d. stream of n bits: its mean and 95% range.

    Attributes:
      n_bits: stream length n.
      mean: E[H(K / n)], K ~ Binomial(n, 1/2).
      low95: the 5% quantile of H: 95% of fair streams have H >= low95 (H <= 1 always).
    """

    n_bits: int
    mean: float
    low95: float


def _binary_entropy(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nan_to_num(p * np.log2(p)) - np.nan_to_num((1 - p) * np.log2(1 - p))


def fair_entropy(n_bits: int) -> FairEntropy:
    """What a perfect coin gives: the Shannon entropy of n fair bits, exactly from the binomial law.

    H is a function of the ones count K ~ Binomial(n, 1/2) alone, H(K / n), falling as
    |K - n/2| grows; so E[H] = sum_k pmf(k) H(k / n), and the 5% quantile is H at the
    smallest |k - n/2| holding 95% of the mass. For large n, 1 - H ~ chi2_1 / (2 n ln 2):
    a mean deficit 1 / (2 n ln 2) (1.76e-4 at n = 4096) and a 95% deficit 3.84 / (2 n ln 2).

    The paper's H = 0.999986 at n = 4096 (Fig. 18) is a deficit of 1.4e-5, which a fair
    stream reaches or beats 23% of the time: it says the ones fraction is within
    about 0.002 of 1/2, consistent with a fair coin, and says nothing about independence
    (0101... has H = 1) nor that the source is better than fair.

    Raises:
      ConfigError: n_bits not a positive integer.
    """
    from scipy.stats import binom

    if int(n_bits) != n_bits or n_bits < 1:
        raise ConfigError(f"{n_bits=} must be a positive integer")
    n = int(n_bits)
    half = 13.0 * math.sqrt(n) / 2 + 2  # 26 sd of K: the mass outside is below 1e-140
    k = np.arange(max(0, math.floor(n / 2 - half)), min(n, math.ceil(n / 2 + half)) + 1)
    pmf = binom.pmf(k, n, 0.5)
    deficit = 1.0 - _binary_entropy(k / n)
    mean = 1.0 - float(np.sum(pmf * deficit) / np.sum(pmf))
    order = np.argsort(np.abs(k - n / 2), kind="stable")
    # symmetric counts share a distance: include both before testing the mass
    dist = np.abs(k[order] - n / 2)
    mass = np.cumsum(pmf[order])
    last = np.flatnonzero(np.r_[dist[1:] != dist[:-1], True])  # the last index of each distance
    reach = last[np.searchsorted(mass[last], 0.95)]
    return FairEntropy(n, mean, float(1.0 - deficit[order][reach]))
