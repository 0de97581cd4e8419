"""Counter-based hash that stands in for the P-bit's thermal randomness.

Every random quantity of a crossbar read is a pure function of counters, so it can
be regenerated anywhere (inside a fused product, in the backward pass, on another
device) without storing it:

    sample key  a_b  = fmix32(group_b * GOLDEN + s0)          (B,)
    cell key    c_nm = fmix32(row_n * n_cols + col_m + s1)     (N, M)
    P-bit draw  h    = mix32(a_b ^ c_nm)                       (never stored)
    kept             = (h >> 1) < round(p_nm * 2^31)

`fmix32` is MurmurHash3's 32-bit finaliser, a bijection of uint32; the sample and
cell keys are therefore distinct for distinct counters (no two cells of a layer, and
no two samples of a read, share a stream). The per-draw `mix32` is the core of fmix32
(multiply, xorshift, multiply) without the outer xorshifts: its inputs are already
full-avalanche words and only its top 31 bits are used, which the final multiply
mixes from every input bit. It is the innermost loop of every read, so two xorshifts
less is about 20% more draws per second on a CPU. The comparison uses 31 bits so that
p = 0 and p = 1 are exact (2^31 fits in uint32); the keep probability is resolved to
2^-31. Seeds s0..s5 are drawn from the read's JAX key with `jax.random.bits`, so reads
with different keys are independent.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# Odd multiplier (2^32 / golden ratio): makes `group * GOLDEN + s0` a bijection of uint32.
GOLDEN = np.uint32(0x9E3779B9)
THRESHOLD_BITS = 31
N_SEED_WORDS = 6
# Word roles: 0 sample key, 1 cell key (P-bit masks); 2, 3 moment-mode normals; 4, 5 read noise.


def fmix32(x: jax.Array) -> jax.Array:
    """MurmurHash3 32-bit finaliser (a bijection of uint32 with full avalanche)."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x85EBCA6B)
    x = x ^ (x >> 13)
    x = x * jnp.uint32(0xC2B2AE35)
    return x ^ (x >> 16)


def mix32(x: jax.Array) -> jax.Array:
    """Per-draw mixer (a bijection of uint32): multiply, xorshift 15, multiply."""
    x = x * jnp.uint32(0x85EBCA6B)
    x = x ^ (x >> 15)
    return x * jnp.uint32(0xC2B2AE35)


def seed_words(key: jax.Array) -> jax.Array:
    """The six uint32 seed words of one read, drawn from a JAX PRNG key: (6,) uint32."""
    return jax.random.bits(key, (N_SEED_WORDS,), jnp.uint32)


def sample_words(seed: jax.Array, sample_index: jax.Array, refresh: int = 1, word: int = 0) -> jax.Array:
    """Per-sample keys a_b (B,) uint32; `refresh` consecutive sample ids share one key."""
    group = sample_index.astype(jnp.uint32)
    if refresh > 1:
        group = group // jnp.uint32(refresh)
    return fmix32(group * GOLDEN + seed[word])


def cell_keys(seed: jax.Array, n_rows: int, n_cols: int, row_offset: int = 0, word: int = 1) -> jax.Array:
    """Per-cell keys c_nm (n_rows, n_cols) uint32 of rows row_offset.. of an n_cols-wide array."""
    rows = jax.lax.broadcasted_iota(jnp.uint32, (n_rows, n_cols), 0) + jnp.uint32(row_offset)
    cols = jax.lax.broadcasted_iota(jnp.uint32, (n_rows, n_cols), 1)
    return fmix32(rows * jnp.uint32(n_cols) + cols + seed[word])


def pbit_bits(sample_key: jax.Array, cell_key: jax.Array) -> jax.Array:
    """The 31-bit uniform draw of each (sample, cell): broadcasts a_b against c_nm."""
    return mix32(sample_key ^ cell_key) >> 1


def keep_threshold(p: jax.Array) -> jax.Array:
    """Per-cell threshold round(p * 2^31) as uint32; a cell is kept when its draw is below it."""
    p = jnp.clip(jnp.asarray(p, jnp.float32), 0.0, 1.0)
    # float32 cannot hold every integer below 2^31; p * 2^31 is rounded to 24 significant
    # bits, which is far below any keep-rate resolution a test or a device can see.
    t = jnp.round(p.astype(jnp.float32) * np.float32(2.0**THRESHOLD_BITS))
    return jnp.minimum(t, np.float32(2.0**THRESHOLD_BITS)).astype(jnp.uint32)


def uniform_from_bits(h: jax.Array) -> jax.Array:
    """Uniform float32 in the open interval (0, 1) from 32 random bits (24 used)."""
    # the top value, 2^24 - 1/2, rounds to 2^24 in float32: without the cap u would be 1.0 once in 2^24
    # draws, and erf^-1(1) = inf a read-noise draw (NaN in training)
    return jnp.minimum(((h >> 8).astype(jnp.float32) + 0.5) * np.float32(2.0**-24), np.float32(1.0 - 2.0**-24))


def normal_from_counters(seed: jax.Array, sample_index: jax.Array, n_cols: int, col_offset: int = 0,
                         words: tuple[int, int] = (2, 3)) -> jax.Array:
    """Standard normals z (B, n_cols), a pure function of (seed, sample id, column)."""
    a = fmix32(sample_index.astype(jnp.uint32) * GOLDEN + seed[words[0]])
    cols = jnp.arange(n_cols, dtype=jnp.uint32) + jnp.uint32(col_offset)
    c = fmix32(cols + seed[words[1]])
    u = uniform_from_bits(fmix32(a[:, None] ^ c[None, :]))
    # Inverse CDF through erf^-1 (as jax.random.normal): one log and one polynomial,
    # cheaper on a CPU than ndtri's three rational branches. u is in (0, 1) open.
    return np.float32(np.sqrt(2.0)) * jax.lax.erf_inv(2.0 * u - 1.0)
