"""The two cheaper P-bit modes: shared masks (`refresh=k`) and Gaussian moment matching.

* refresh: the P-bits are rewritten every k reads, so k consecutive samples share one
  mask and a group's product is one matrix product (x_g (k, N) @ (w * K_g)). Masks are
  those of `pbit_matmul` with sample key fmix32((sample // k) * GOLDEN + s0); one mask
  per group is cheap next to its product, so each cell draws its pair's word itself.
* moment: an APPROXIMATION. Given x, each output of a read is a weighted sum of many
  independent kept-or-dropped cells, so by the CLT (local reparameterisation, Kingma
  et al. 2015) it is drawn as one Gaussian with the read's exact mean and variance.
  Each weight's S slices (cells c_s of significance g_s, keep probabilities p_s) fold
  into two (N, M) matrices first, so a moment read costs two plain-width products::

      E[y]   = u @ W_mean,  W_mean = sum_s g_s p_s c_s
      Var[y] = (u * u) @ W_var,  W_var = sum_s g_s^2 p_s (1 - p_s) c_s^2   (+ periphery terms)

  One normal per (sample, output column). Tails and small-N behaviour differ from
  `exact`; use it where a Gaussian read is good enough.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from cimjax.errors import ConfigError
from cimjax.kernels._hash import GOLDEN, cell_uniforms, fmix32, normal_from_counters, row_keys


def pbit_matmul_refresh(x: jax.Array, w: jax.Array, threshold: jax.Array, seed: jax.Array,
                        pair_key: jax.Array, refresh: int, row_offset: int = 0) -> jax.Array:
    """Read y (B, M) of samples 0..B-1 where `refresh` consecutive samples share a mask.

    Args:
      x: (B, N) float32; sample ids are the batch positions 0..B-1.
      w, threshold: (N, M) and pair_key (P, M), row_offset: as in `pbit_matmul`.
      seed: (6,) uint32 seed words of the read.
      refresh: k >= 1.

    Memory O(B*M + N*M): one group's masked weights at a time, recomputed (not stored)
    for the backward pass by `jax.checkpoint`.
    """
    if isinstance(refresh, bool) or not isinstance(refresh, int) or refresh < 1:
        raise ConfigError(f"refresh={refresh!r} must be an int >= 1 (samples per P-bit write)")
    if getattr(x, "ndim", None) != 2 or getattr(w, "ndim", None) != 2 or x.shape[1] != w.shape[0]:
        raise ConfigError(f"x.shape={jnp.shape(x)} and w.shape={jnp.shape(w)} must be (B, N) and (N, M)")
    if jnp.shape(threshold) != w.shape or jnp.asarray(threshold).dtype != jnp.uint32:
        raise ConfigError(f"threshold.shape={jnp.shape(threshold)} dtype={jnp.asarray(threshold).dtype} must be "
                          f"{w.shape} uint32 (keep_threshold(p))")
    batch, n = x.shape
    groups = -(-batch // refresh)
    xg = jnp.pad(x, ((0, groups * refresh - batch), (0, 0))).reshape(groups, refresh, n)
    keys = fmix32(jnp.arange(groups, dtype=jnp.uint32) * GOLDEN + seed[0])
    cells, shifts = row_keys(pair_key, n, row_offset)

    @jax.checkpoint
    def group(args):
        xs, a = args
        masked = jnp.where(cell_uniforms(a, cells, shifts) < threshold, w, 0.0)
        return jnp.dot(xs, masked, precision=lax.Precision.HIGHEST)

    y = lax.map(group, (xg, keys))
    return y.reshape(groups * refresh, -1)[:batch]


def moment_weights(cells: jax.Array, p: jax.Array, significance: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(N, M) weights of the mean and variance of a read, folding each weight's S slices.

    Args:
      cells: (N, M, S) programmed pair outputs; p: (N, M, S) keep probabilities;
      significance: (S,) shift-and-add weights g_s.
    Returns:
      W_mean = sum_s g_s p c and W_var = sum_s g_s^2 p (1 - p) c^2, each (N, M).
    """
    if jnp.ndim(cells) != 3 or jnp.shape(p) != jnp.shape(cells) or jnp.shape(significance) != jnp.shape(cells)[2:]:
        raise ConfigError(f"moment_weights: cells {jnp.shape(cells)}, p {jnp.shape(p)} and significance "
                          f"{jnp.shape(significance)} must be (N, M, S), (N, M, S) and (S,)")
    # Contractions (dots), not reductions over the short minor axis S: XLA's CPU backend
    # runs those slowly, and they sit in every training step.
    w_mean = jnp.einsum("nms,s->nm", p * cells, significance)
    w_var = jnp.einsum("nms,s->nm", p * (1.0 - p) * cells * cells, significance * significance)
    return w_mean, w_var


def gaussian_read(mean: jax.Array, var: jax.Array, seed: jax.Array, sample_index: jax.Array) -> jax.Array:
    """A moment-matched read (B, M): mean + sqrt(var) * z, z from (seed, sample id, column).

    Args:
      mean, var: (B, M) float32 moments of the read; seed: (6,) uint32 seed words;
      sample_index: (B,) uint32 sample ids (so batch size never changes a sample's draw).
    """
    if jnp.ndim(mean) != 2 or jnp.shape(var) != jnp.shape(mean) or jnp.shape(sample_index) != jnp.shape(mean)[:1]:
        raise ConfigError(f"gaussian_read: mean {jnp.shape(mean)}, var {jnp.shape(var)} and sample_index "
                          f"{jnp.shape(sample_index)} must be (B, M), (B, M) and (B,)")
    z = normal_from_counters(seed, sample_index, mean.shape[1], words=(2, 3))
    # sqrt has an infinite slope at 0; outputs whose cells all have p in {0, 1} give var = 0.
    safe = jnp.where(var > 0, var, 1.0)
    return mean + jnp.where(var > 0, jnp.sqrt(safe), 0.0) * z
