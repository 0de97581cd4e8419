"""Debiasing of P-bit streams: XOR of bit pairs and von Neumann's extractor, with their raw-bit cost.

A P-bit whose switching probability misses 1/2 by e (device spread, Fig. 13) gives a
stream of bias e. Both extractors read the raw stream in non-overlapping pairs (x1, x2):

* ``"xor"``: one output bit x1 XOR x2 per pair. P(1) = 2 p (1 - p) = 1/2 - 2 e^2: the
  bias shrinks from e to 2 e^2 but does not vanish; exactly 2 raw bits per output bit.
* ``"von-neumann"``: 01 -> 0, 10 -> 1, 00 and 11 dropped (von Neumann 1951). For i.i.d.
  raw bits (reset mode) the output is exactly unbiased whatever p; a pair yields a bit with
  probability 2 p (1 - p), so the expected output is p (1 - p) bits per raw bit, at least
  4 raw bits per output bit. Toggle-mode streams are Markov chains: not i.i.d., the
  output is not guaranteed unbiased.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cimjax.errors import ConfigError
from cimjax.trng._bits import as_bit_matrix

DEBIAS_METHODS = ("xor", "von-neumann")


class DebiasedBits(NamedTuple):
    """Output of `debias`.

    Attributes:
      bits: (k, m) uint8 output streams, m bits each.
      raw_bits: (k,) int64 raw bits each stream consumed to give its m output bits (whole
        pairs, up to the pair that gave the m-th bit); the P-bit writes a device needs.
      method: "xor" or "von-neumann".
    """

    bits: np.ndarray
    raw_bits: np.ndarray
    method: str

    @property
    def raw_bits_per_output_bit(self) -> np.ndarray:
        """(k,) raw bits written per output bit: the factor to apply to P-bit write energy."""
        return self.raw_bits / self.bits.shape[1]


def debias_rate(p_sw, method: str) -> np.ndarray:
    """Expected output bits per raw bit of an i.i.d. Bernoulli(p_sw) stream: 1/2 (xor), p (1 - p) (von Neumann)."""
    check_debias_method(method)
    p = np.asarray(p_sw, dtype=np.float64)
    return np.full(p.shape, 0.5) if method == "xor" else p * (1.0 - p)


def check_debias_method(method: str) -> None:
    """Raises ConfigError unless `method` is one of DEBIAS_METHODS."""
    if method not in DEBIAS_METHODS:
        raise ConfigError(f"debias {method=} must be one of {DEBIAS_METHODS}")


def debias(bits, method: str, n_out: int | None = None) -> DebiasedBits:
    """Debiases each stream of `bits` (k, n) into `n_out` output bits per stream.

    Args:
      bits: (k, n) or (n,) 0/1 raw streams.
      method: "xor" or "von-neumann" (see the module docstring).
      n_out: output bits per stream; default the most every stream can give (xor: n // 2;
        von Neumann: the fewest discordant pairs over the streams).

    Returns:
      DebiasedBits with the exact raw-bit count of each stream.

    Raises:
      ConfigError: unknown method, or a stream with fewer than `n_out` output bits (von
        Neumann drops concordant pairs: give it more raw bits).
    """
    check_debias_method(method)
    x = as_bit_matrix(bits)
    k, n = x.shape
    pairs = x[:, : 2 * (n // 2)].reshape(k, -1, 2)
    first, second = pairs[..., 0], pairs[..., 1]
    if method == "xor":
        n_out = n // 2 if n_out is None else int(n_out)
        if not 1 <= n_out <= n // 2:
            raise ConfigError(f"xor debiasing gives at most {n // 2} bits from {n} raw bits, asked {n_out=}")
        out = (first[:, :n_out] ^ second[:, :n_out]).astype(np.uint8)
        return DebiasedBits(out, np.full(k, 2 * n_out, dtype=np.int64), method)
    keep = first != second
    counts = keep.sum(axis=1)
    n_out = int(counts.min()) if n_out is None else int(n_out)
    if n_out < 1 or np.any(counts < n_out):
        short = int(np.argmin(counts))
        raise ConfigError(f"von Neumann debiasing: stream {short} gives {int(counts[short])} bits from {n} raw "
                          f"bits, asked {n_out=}; give more raw bits")
    last = np.argmax(np.cumsum(keep, axis=1) >= n_out, axis=1)  # pair that gave each stream's n_out-th bit
    out = np.stack([first[i][keep[i]][:n_out] for i in range(k)]).astype(np.uint8)
    return DebiasedBits(out, 2 * (last.astype(np.int64) + 1), method)
