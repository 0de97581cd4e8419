"""Counter-based hash that stands in for the P-bit's thermal randomness.

Every random quantity of a crossbar read is a pure function of counters, so it can
be regenerated anywhere (inside a fused product, in the backward pass, on another
device) without storing it. The cells of a crossbar are grouped in row pairs (rows
2j and 2j+1 of column m); one 32-bit draw per (sample, pair) gives both cells a
16-bit uniform::

    sample key  a_b  = fmix32(group_b * GOLDEN + s0)          (B,)
    pair key    P_jm = fmix32(j * n_cols + m + s1)             (ceil(N/2), M)
    pair draw   h    = mix32(a_b ^ P_jm);  h ^= h >> 16        (never stored)
    uniforms    u_2j = h & 0xFFFF,  u_2j+1 = h >> 16
    kept             = u_nm < round(p_nm * 2^16)

`fmix32` is MurmurHash3's 32-bit finaliser, a bijection of uint32; the sample and
pair keys are therefore distinct for distinct counters (no two pairs of a layer, and
no two samples of a read, share a stream). The per-draw `mix32` is the core of fmix32
(multiply, xorshift, multiply); the final xorshift folds the well-mixed high half
into the low half. Without it the low half would be the product's low bits, which
ignore bit 31 of a_b ^ P_jm: two pairs whose keys differ in one high bit would then
have strongly correlated even-row masks (measured |r| 0.25 for bit 28, 1 for bit 31,
against 0.003 and the high half's 0.28 with it). h is a bijection of a_b ^ P_jm, so
the two halves of one draw are exactly independent uniforms. The draw is the
innermost loop of every read and its two multiplies are its cost: sharing one draw
between two cells halves them.

Probability resolution: PROBABILITY_BITS = 16. The threshold round(p * 2^16) is an
integer in [0, 2^16], so the keep probability is p quantised to a multiple of 2^-16,
at most 2^-17 from p; p = 0 never keeps (no u is below 0) and p = 1 always keeps
(every u is below 2^16). Seeds s0..s5 are drawn from the read's JAX key with
`jax.random.bits`, so reads with different keys are independent.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from cimjax.errors import ConfigError

# Odd multiplier (2^32 / golden ratio): makes `group * GOLDEN + s0` a bijection of uint32.
GOLDEN = np.uint32(0x9E3779B9)
# Keep probabilities are resolved to 2^-16: two cells share one 32-bit draw.
PROBABILITY_BITS = 16
_HALF = np.uint32(2**PROBABILITY_BITS - 1)
N_SEED_WORDS = 6
# Word roles: 0 sample key, 1 pair key (P-bit masks); 2, 3 moment-mode normals; 4, 5 read noise.


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


def pair_count(n_rows: int, row_offset: int = 0) -> int:
    """How many row pairs rows row_offset..row_offset+n_rows-1 touch (the first pair is row_offset // 2)."""
    return (row_offset + n_rows + 1) // 2 - row_offset // 2


def pair_keys(seed: jax.Array, n_rows: int, n_cols: int, row_offset: int = 0, word: int = 1) -> jax.Array:
    """Pair keys P_jm (pair_count(n_rows, row_offset), n_cols) uint32 of rows row_offset.. of an n_cols-wide array.

    Row n of the array belongs to pair j = n // 2, so a slice of rows that starts at an
    odd row starts with the second cell of its first pair.
    """
    shape = (pair_count(n_rows, row_offset), n_cols)
    pairs = jax.lax.broadcasted_iota(jnp.uint32, shape, 0) + jnp.uint32(row_offset // 2)
    cols = jax.lax.broadcasted_iota(jnp.uint32, shape, 1)
    return fmix32(pairs * jnp.uint32(n_cols) + cols + seed[word])


def pair_word(sample_key: jax.Array, pair_key: jax.Array) -> jax.Array:
    """The 32-bit draw h of each (sample, row pair, column): broadcasts a_b against P_jm."""
    h = mix32(sample_key ^ pair_key)
    return h ^ (h >> 16)


def pair_uniforms(word: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The 16-bit uniforms (even row, odd row) of a pair draw, each uint32 in [0, 2^16)."""
    return word & _HALF, word >> PROBABILITY_BITS


def row_keys(pair_key: jax.Array, n_rows: int, row_offset: int = 0) -> tuple[jax.Array, jax.Array]:
    """Per-cell view of pair keys: each row's pair key (n_rows, M) and the shift (n_rows, 1) of its half.

    `cell_uniforms(a, keys, shifts)` then gives every cell its uniform with one draw per
    cell (the draw is the pair's, so both cells of a pair see the same h). Rows are
    rows row_offset.. of the array, `pair_key` as `pair_keys` returns it for them.
    """
    parity = row_offset % 2
    keys = jnp.repeat(pair_key, 2, axis=0)[parity:parity + n_rows]
    shifts = (np.arange(parity, parity + n_rows, dtype=np.uint32) % 2 * PROBABILITY_BITS)[:, None]
    return keys, jnp.asarray(shifts)


def cell_uniforms(sample_key: jax.Array, keys: jax.Array, shifts: jax.Array) -> jax.Array:
    """The 16-bit uniform u (uint32 in [0, 2^16)) of each (sample, cell), from `row_keys`; broadcasts."""
    return (pair_word(sample_key, keys) >> shifts) & _HALF


def align_pairs(x, w, threshold, row_offset: int):
    """Pads rows so that row 0 is the first cell of a pair and the row count is even.

    Returns (x (B, 2P), w (2P, M), threshold (2P, M)) for the P pairs the rows touch.
    Padding rows carry x = 0, w = 0 and threshold 0 (never kept), so they never change y.
    """
    lead = row_offset % 2
    trail = (lead + x.shape[1]) % 2
    if not (lead or trail):
        return x, w, threshold
    rows = ((lead, trail), (0, 0))
    return jnp.pad(x, ((0, 0), (lead, trail))), jnp.pad(w, rows), jnp.pad(threshold, rows)


def split_pairs(arr):
    """(2P, ...) rows -> (even rows, odd rows), each (P, ...)."""
    pairs = arr.reshape(arr.shape[0] // 2, 2, *arr.shape[1:])
    return pairs[:, 0], pairs[:, 1]


def keep_threshold(p: jax.Array) -> jax.Array:
    """Per-cell threshold round(p * 2^16), uint32 in [0, 2^16]; a cell is kept when its uniform is below it.

    The keep probability is threshold / 2^16, within 2^-17 of p; p = 0 and p = 1 are exact.
    """
    if not isinstance(p, jax.core.Tracer):
        arr = np.asarray(p, dtype=np.float64)
        # a rounding residue past 0 or 1 is clipped below; NaN or a real excursion is an error
        if not np.all((arr >= -1e-6) & (arr <= 1.0 + 1e-6)):
            bad = arr[~((arr >= -1e-6) & (arr <= 1.0 + 1e-6))].flat[0]
            raise ConfigError(f"keep_threshold: p holds {bad}, not a probability in [0, 1]")
    p = jnp.clip(jnp.asarray(p, jnp.float32), 0.0, 1.0)
    # p * 2^16 is exact in float32 (a power-of-two scale) and rounds to an integer in [0, 2^16].
    return jnp.round(p * np.float32(2.0**PROBABILITY_BITS)).astype(jnp.uint32)


def uniform_from_bits(h: jax.Array) -> jax.Array:
    """Uniform float32 in the open interval (0, 1) from 32 random bits (24 used).

    The top word (2^24 - 1) + 0.5 is not a float32 and rounds to 2^24, i.e. u = 1 (an
    infinite normal, once in 2^24 draws); it is held at the largest float32 below 1.
    """
    u = ((h >> 8).astype(jnp.float32) + 0.5) * np.float32(2.0**-24)
    return jnp.minimum(u, np.float32(1.0 - 2.0**-24))


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
