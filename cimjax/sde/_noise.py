"""Explicit noise sources for the ex-situ sampler (the in-situ noise is the crossbar's own P-bits).

The ex-situ scheme (Fig. 21, top) draws the diffusion term's Gaussian from a random
source outside the array. Two sources share one interface:

* `StandardNormal`: `jax.random.normal`, counted as 32 random bits per Gaussian
  (one threefry word per float32).
* `PbitBitstreamNormal`: a Gaussian from K emulated P-bit bits at 50% switching
  probability (Fig. 12, the TRNG operating point), z = (sum of bits - K/2) / sqrt(K/4),
  which is exactly a standardised Binomial(K, 1/2): mean 0, variance 1, Gaussian by the
  CLT. Costs K bits per Gaussian, all of them sampled and transferred (Fig. 2).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

import jax
import jax.numpy as jnp

from cimjax.errors import ConfigError

__all__ = ["NoiseSource", "StandardNormal", "PbitBitstreamNormal"]


class NoiseSource(Protocol):
    """A source of standard-normal noise with a counted cost."""

    bits_per_gaussian: int

    def sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        """Standard-normal float32 array of `shape`."""
        ...


@dataclasses.dataclass(frozen=True)
class StandardNormal:
    """jax.random.normal; one 32-bit threefry word per float32 Gaussian."""

    bits_per_gaussian: int = 32

    def __post_init__(self):
        k = self.bits_per_gaussian
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConfigError(f"StandardNormal: bits_per_gaussian={k!r} must be a positive int (the bits counted)")

    def sample(self, key, shape):
        return jax.random.normal(key, shape, dtype=jnp.float32)


@dataclasses.dataclass(frozen=True)
class PbitBitstreamNormal:
    """Gaussians from `bits_per_gaussian` emulated P-bit bits at P_sw = 0.5 (CLT).

    The bits are emulated with `jax.random.bits` (32 independent fair bits per word);
    a device-level model (cimjax.device's switching probability) can replace them.
    """

    bits_per_gaussian: int = 64  # assumption: K = 64 keeps the 4th-cumulant error at 1/(2K) < 1%

    def __post_init__(self):
        k = self.bits_per_gaussian
        if not isinstance(k, int) or k < 2 or k % 32:
            raise ConfigError(f"{self.bits_per_gaussian=} must be a positive multiple of 32")

    def sample(self, key, shape):
        words = self.bits_per_gaussian // 32
        raw = jax.random.bits(key, (*shape, words), dtype=jnp.uint32)
        ones = jnp.sum(jax.lax.population_count(raw).astype(jnp.float32), axis=-1)
        half = self.bits_per_gaussian / 2.0
        return (ones - half) / jnp.sqrt(half / 2.0)
