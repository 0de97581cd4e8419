"""The two cheaper P-bit modes: shared masks (`refresh=k`) and Gaussian moment matching.

* refresh: the P-bits are rewritten every k reads, so k consecutive samples share one
  mask and a group's product is one matrix product (x_g (k, N) @ (w * K_g)). Masks are
  those of `pbit_matmul` with sample key fmix32((sample // k) * GOLDEN + s0).
* moment: an APPROXIMATION. Given x, the read is a sum of N independent terms, so by the
  CLT (local reparameterisation, Kingma et al. 2015) it is taken as Gaussian with the
  exact mean and variance::

      E[y]   = x @ (p * w)
      Var[y] = (x * x) @ (p * (1 - p) * w * w)

  Per-column outputs are drawn independently (the exact read's outputs of one sample
  are correlated only through x, which is given). Tails and small-N behaviour differ
  from `exact`; use it where a Gaussian read is good enough.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from cimjax.kernels._hash import GOLDEN, fmix32, normal_from_counters, pbit_bits


def pbit_matmul_refresh(x: jax.Array, w: jax.Array, threshold: jax.Array, seed: jax.Array,
                        cell_key: jax.Array, refresh: int) -> jax.Array:
    """Read y (B, M) of samples 0..B-1 where `refresh` consecutive samples share a mask.

    Args:
      x: (B, N) float32; sample ids are the batch positions 0..B-1.
      w, threshold, cell_key: (N, M) as in `pbit_matmul`.
      seed: (6,) uint32 seed words of the read.
      refresh: k >= 1.

    Memory O(B*M + N*M): one group's masked weights at a time, recomputed (not stored)
    for the backward pass by `jax.checkpoint`.
    """
    batch, n = x.shape
    groups = -(-batch // refresh)
    xg = jnp.pad(x, ((0, groups * refresh - batch), (0, 0))).reshape(groups, refresh, n)
    keys = fmix32(jnp.arange(groups, dtype=jnp.uint32) * GOLDEN + seed[0])

    @jax.checkpoint
    def group(args):
        xs, a = args
        masked = jnp.where(pbit_bits(a, cell_key) < threshold, w, 0.0)
        return jnp.dot(xs, masked, precision=lax.Precision.HIGHEST)

    y = lax.map(group, (xg, keys))
    return y.reshape(groups * refresh, -1)[:batch]


def moment_mean_var(x: jax.Array, w: jax.Array, p: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Exact mean and variance (B, M) of the dropconnect read x @ (w * K), K ~ Bernoulli(p)."""
    hp = lax.Precision.HIGHEST
    mean = jnp.dot(x, p * w, precision=hp)
    var = jnp.dot(x * x, p * (1.0 - p) * w * w, precision=hp)
    return mean, var


def pbit_matmul_moment(x: jax.Array, w: jax.Array, p: jax.Array, seed: jax.Array, sample_index: jax.Array,
                       col_offset: int = 0) -> jax.Array:
    """Moment-matched read (approximation): mean + sqrt(var) * z, z from (seed, sample, column).

    Args:
      x: (B, N) float32. w, p: (N, M) float32 weights and keep probabilities.
      seed: (6,) uint32 seed words; sample_index: (B,) uint32 sample ids.
      col_offset: offset of these columns in the counter space (distinct per tile).
    """
    mean, var = moment_mean_var(x, w, p)
    z = normal_from_counters(seed, sample_index, w.shape[1], col_offset, words=(2, 3))
    # sqrt has an infinite slope at 0; cells with p in {0, 1} give var = 0 exactly.
    safe = jnp.where(var > 0, var, 1.0)
    return mean + jnp.where(var > 0, jnp.sqrt(safe), 0.0) * z
