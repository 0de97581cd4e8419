"""Fused P-bit kernels: keep rates, independence, determinism, backends, gradients.

Statistical bounds: a keep count of n Bernoulli(p) draws lies within 5 binomial sigmas
of n p, p being the probability quantised to 2^-16 (what the hash implements); a
Pearson correlation of n independent pairs within 5 / sqrt(n) (CLT).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cimjax.kernels import (PROBABILITY_BITS, BlockSizes, keep_threshold, pair_keys, pair_uniforms, pair_word,
                            pbit_mask_reference, pbit_matmul, pbit_matmul_reference, pbit_matmul_refresh, sample_words,
                            seed_words)

SMALL = BlockSizes(block_b=8, block_m=16, block_n=16)


def _np_fmix32(x):
    """Independent numpy MurmurHash3 fmix32 (uint32 arithmetic wraps mod 2^32)."""
    x = np.asarray(x, np.uint32)
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint32(16))
        x = x * np.uint32(0x85EBCA6B)
        x = x ^ (x >> np.uint32(13))
        x = x * np.uint32(0xC2B2AE35)
        return x ^ (x >> np.uint32(16))


def _np_mix32(x):
    with np.errstate(over="ignore"):
        x = np.asarray(x, np.uint32) * np.uint32(0x85EBCA6B)
        x = x ^ (x >> np.uint32(15))
        return x * np.uint32(0xC2B2AE35)


def _np_quantised(p):
    """The keep probability the hash implements: p rounded to a multiple of 2^-16."""
    return np.round(np.float64(np.float32(p)) * 2.0**16) / 2.0**16


def _np_mask(seed, samples, n, m, p):
    """Numpy reference of the documented counter scheme, written from the _hash docstring."""
    seed = np.asarray(seed, np.uint32)
    with np.errstate(over="ignore"):
        a = _np_fmix32(np.asarray(samples, np.uint32) * np.uint32(0x9E3779B9) + seed[0])
        pairs = (n + 1) // 2
        idx = np.arange(pairs, dtype=np.uint32)[:, None] * np.uint32(m) + np.arange(m, dtype=np.uint32)[None, :]
        keys = _np_fmix32(idx + seed[1])
    h = _np_mix32(a[:, None, None] ^ keys[None])
    h = h ^ (h >> np.uint32(16))
    u = np.stack([h & np.uint32(0xFFFF), h >> np.uint32(16)], axis=2).reshape(len(a), 2 * pairs, m)[:, :n]
    return u < _np_quantised(p) * 2.0**16


def _counters(key, batch, n, m, p, samples=None, refresh=1):
    seed = seed_words(key)
    ids = jnp.arange(batch, dtype=jnp.uint32) if samples is None else jnp.asarray(samples, jnp.uint32)
    return seed, sample_words(seed, ids, refresh), pair_keys(seed, n, m), keep_threshold(jnp.broadcast_to(p, (n, m)))


def _mask_via(backend, key, sample, n, m, p, interpret=False):
    """The mask one sample sees, read out of the fused product with one-hot inputs."""
    seed, _, c, t = _counters(key, n, n, m, p)
    a = sample_words(seed, jnp.full((n,), sample, jnp.uint32))
    y = pbit_matmul(jnp.eye(n, dtype=jnp.float32), jnp.ones((n, m), jnp.float32), t, a, c,
                    backend=backend, interpret=interpret, block_sizes=SMALL)
    return np.asarray(y)


def test_mask_matches_independent_numpy_hash():
    key = jax.random.PRNGKey(11)
    seed, a, c, t = _counters(key, 6, 20, 30, 0.37)
    got = np.asarray(pbit_mask_reference(a, c, t))
    want = _np_mask(np.asarray(seed), np.arange(6), 20, 30, 0.37)
    np.testing.assert_array_equal(got, want)
    # The fused product regenerates exactly these masks.
    np.testing.assert_array_equal(_mask_via("xla", key, 3, 20, 30, 0.37), want[3].astype(np.float32))


# Near 0 and 1, not multiples of 2^-16 (1/3, 0.013, 0.9), exact (0.5), below the resolution
# (3e-6 rounds to 0: never kept) and the endpoints.
KEEP_PROBABILITIES = [0.0, 3e-6, 1e-4, 0.013, 1 / 3, 0.5, 0.9, 1 - 1e-4, 1.0]


def test_quantised_probability_within_2_to_minus_16():
    p = np.concatenate([KEEP_PROBABILITIES, np.random.default_rng(0).uniform(size=100_000)])
    quantised = np.asarray(keep_threshold(jnp.asarray(p, jnp.float32)), np.float64) / 2.0**PROBABILITY_BITS
    # Rounding to the nearest multiple of 2^-16 errs by at most 2^-17 (plus float32's rounding of p).
    assert np.max(np.abs(quantised - p)) <= 2.0**-17 + 2.0**-24
    np.testing.assert_array_equal(quantised, _np_quantised(p))
    assert quantised[0] == 0.0 and quantised[len(KEEP_PROBABILITIES) - 1] == 1.0


def test_keep_rate_within_5_sigma_binomial_at_16_bits():
    """One read, a column block per probability: >= 1e7 draws each on the fused XLA path."""
    batch, n, block = 320, 512, 64  # 320 * 512 * 64 = 1.05e7 draws per probability
    p = np.repeat(KEEP_PROBABILITIES, block)
    _, a, c, t = _counters(jax.random.PRNGKey(1), batch, n, p.size, jnp.asarray(p, jnp.float32))
    y = pbit_matmul(jnp.ones((batch, n), jnp.float32), jnp.ones((n, p.size), jnp.float32), t, a, c, backend="xla")
    kept = np.asarray(y, np.float64).sum(axis=0).reshape(len(KEEP_PROBABILITIES), block).sum(axis=1)
    draws = batch * n * block
    q = _np_quantised(KEEP_PROBABILITIES)
    bound = 5 * np.sqrt(draws * q * (1 - q))
    assert np.all(np.abs(kept - draws * q) <= bound), (kept, draws * q, bound)
    assert kept[0] == kept[1] == 0 and kept[-1] == draws  # p = 0 (and below 2^-17) never, p = 1 always


def test_keep_rate_per_cell_probabilities():
    batch, n, m = 40, 500, 500
    p = jax.random.uniform(jax.random.PRNGKey(5), (n, m))
    seed, a, c, _ = _counters(jax.random.PRNGKey(2), batch, n, m, 0.5)
    y = pbit_matmul(jnp.ones((batch, n), jnp.float32), jnp.ones((n, m), jnp.float32), keep_threshold(p), a, c)
    q = _np_quantised(np.asarray(p))
    kept = float(np.sum(np.asarray(y, np.float64)))
    assert abs(kept - batch * q.sum()) < 5 * np.sqrt(batch * np.sum(q * (1 - q)))
    # Endpoints are exact: p = 0 never keeps, p = 1 always does, in either cell of a pair.
    t = keep_threshold(jnp.asarray([[0.0, 1.0], [1.0, 0.0]]))
    mask = np.asarray(pbit_mask_reference(sample_words(seed, jnp.arange(1000, dtype=jnp.uint32)),
                                          pair_keys(seed, 2, 2), t))
    assert not mask[:, 0, 0].any() and mask[:, 0, 1].all() and mask[:, 1, 0].all() and not mask[:, 1, 1].any()


def test_draws_uniform_chi_square():
    """2^20 pair draws: each cell's uniform in 256 bins, and the pair's two uniforms jointly in
    16 x 16 bins (independent halves): chi-square with 255 degrees of freedom, p-value > 1e-4."""
    from scipy import stats

    _, a, c, _ = _counters(jax.random.PRNGKey(21), 32, 256, 128, 0.5)
    even, odd = (np.asarray(u).ravel() for u in pair_uniforms(pair_word(a[:, None, None], c[None])))
    for bins in (even >> 8, odd >> 8, (even >> 12) * 16 + (odd >> 12)):
        assert stats.chisquare(np.bincount(bins, minlength=256)).pvalue > 1e-4


def _corr_ok(u, v):
    u, v = np.asarray(u, np.float64).ravel(), np.asarray(v, np.float64).ravel()
    r = np.corrcoef(u, v)[0, 1]
    assert abs(r) < 5 / np.sqrt(u.size), r


def test_masks_independent_across_samples_reads_layers_seeds_and_cells():
    n, m, p = 256, 256, 0.5
    k = jax.random.PRNGKey(0)
    _, a, c, t = _counters(k, 16, n, m, p)
    masks = np.asarray(pbit_mask_reference(a, c, t))
    _corr_ok(masks[:-1], masks[1:])  # consecutive samples
    _corr_ok(masks[:, :-1], masks[:, 1:])  # neighbouring rows
    _corr_ok(masks[:, :, :-1], masks[:, :, 1:])  # neighbouring columns
    k1, k2 = jax.random.split(k)  # two layers / two reads split from one key
    for other in (k1, k2, jax.random.PRNGKey(1), jax.random.fold_in(k, 1)):
        _, a2, c2, t2 = _counters(other, 16, n, m, p)
        _corr_ok(masks, pbit_mask_reference(a2, c2, t2))
    # Sample ids sharing low bits, and the same sample in a far-away id range.
    _, a3, c3, t3 = _counters(k, 16, n, m, p, samples=np.arange(16) + 2**20)
    _corr_ok(masks, pbit_mask_reference(a3, c3, t3))


@pytest.mark.parametrize("p_even,p_odd", [(0.5, 0.5), (0.1, 0.9), (1 / 3, 0.013)])
def test_the_two_cells_of_a_row_pair_keep_independently(p_even, p_odd):
    """The two cells of a pair share one 32-bit draw: their keep decisions must still be
    independent. Over 64 x 128 x 128 = 1.05e6 pairs the joint keep count lies within 5 binomial
    sigmas of n q_e q_o and the Pearson correlation within 5 / sqrt(n) (CLT). A complementary or
    identical split of the draw (as the [W; +A; -A] noise rows would feel) gives |r| near 1."""
    batch, n, m = 64, 256, 128
    p = jnp.asarray(np.tile([[p_even], [p_odd]], (n // 2, m)), jnp.float32)
    _, a, c, t = _counters(jax.random.PRNGKey(31), batch, n, m, p)
    mask = np.asarray(pbit_mask_reference(a, c, t))
    even, odd = mask[:, 0::2], mask[:, 1::2]
    draws = even.size
    both = np.logical_and(even, odd).sum()
    q = _np_quantised(p_even) * _np_quantised(p_odd)
    assert abs(both - draws * q) <= 5 * np.sqrt(draws * q * (1 - q)), (both, draws * q)
    _corr_ok(even, odd)


def test_same_seed_bit_identical_and_batch_size_invariant():
    key = jax.random.PRNGKey(7)
    n, m = 48, 40
    x = jax.random.normal(jax.random.PRNGKey(1), (33, n))
    w = jax.random.normal(jax.random.PRNGKey(2), (n, m))
    seed, a, c, t = _counters(key, 33, n, m, 0.6)
    y1 = pbit_matmul(x, w, t, a, c)
    y2 = pbit_matmul(x, w, t, a, c)
    np.testing.assert_array_equal(np.asarray(y1), np.asarray(y2))
    # Samples 10..14 alone (batch 5, explicit ids) see the same masks and outputs.
    ids = jnp.arange(10, 15, dtype=jnp.uint32)
    y_small = pbit_matmul(x[10:15], w, t, sample_words(seed, ids), c, block_sizes=BlockSizes(batch_chunk=2))
    np.testing.assert_allclose(np.asarray(y_small), np.asarray(y1[10:15]), rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(np.asarray(pbit_mask_reference(sample_words(seed, ids), c, t)),
                                  np.asarray(pbit_mask_reference(a, c, t))[10:15])


def test_xla_and_pallas_interpret_agree():
    key = jax.random.PRNGKey(3)
    n, m = 24, 20  # not multiples of the blocks: padding is exercised
    for sample in (0, 5):
        mx = _mask_via("xla", key, sample, n, m, 0.45)
        mp = _mask_via("pallas", key, sample, n, m, 0.45, interpret=True)
        np.testing.assert_array_equal(mx, mp)
    x = jax.random.normal(jax.random.PRNGKey(1), (20, n))
    w = jax.random.normal(jax.random.PRNGKey(2), (n, m))
    _, a, c, t = _counters(key, 20, n, m, 0.45)
    yx = pbit_matmul(x, w, t, a, c, backend="xla")
    yp = pbit_matmul(x, w, t, a, c, backend="pallas", interpret=True, block_sizes=SMALL)
    yr = pbit_matmul_reference(x, w, t, a, c)
    np.testing.assert_allclose(np.asarray(yp), np.asarray(yr), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(yx), np.asarray(yr), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("r0,r1", [(3, 24), (4, 17)])  # odd start; odd length
def test_row_blocks_starting_at_any_row_see_those_rows_masks(r0, r1):
    """Rows r0..r1 read as one block (a crossbar tile), possibly starting inside a row pair,
    see exactly the masks those rows have in the whole array, on both backends and in the VJP."""
    key = jax.random.PRNGKey(13)
    batch, n, m = 6, 24, 10
    seed, a, c, t = _counters(key, batch, n, m, 0.4)
    whole = np.asarray(pbit_mask_reference(a, c, t))
    rows = r1 - r0
    pk = pair_keys(seed, rows, m, row_offset=r0)
    np.testing.assert_array_equal(np.asarray(pk), np.asarray(c)[r0 // 2:(r1 + 1) // 2])
    np.testing.assert_array_equal(np.asarray(pbit_mask_reference(a, pk, t[r0:r1], r0)), whole[:, r0:r1])
    eye, ones = jnp.eye(rows, dtype=jnp.float32), jnp.ones((rows, m), jnp.float32)
    for backend, interpret in (("xla", False), ("pallas", True)):
        for b in (0, batch - 1):
            y = pbit_matmul(eye, ones, t[r0:r1], jnp.full((rows,), a[b]), pk, row_offset=r0, backend=backend,
                            interpret=interpret, block_sizes=SMALL)
            np.testing.assert_array_equal(np.asarray(y), whole[b, r0:r1].astype(np.float32))
    x = jax.random.normal(jax.random.PRNGKey(1), (batch, rows))
    w = jax.random.normal(jax.random.PRNGKey(2), (rows, m))
    g = jax.random.normal(jax.random.PRNGKey(3), (batch, m))
    _, vjp = jax.vjp(lambda x, w: pbit_matmul(x, w, t[r0:r1], a, pk, row_offset=r0), x, w)
    _, vjp_ref = jax.vjp(lambda x, w: pbit_matmul_reference(x, w, t[r0:r1], a, pk, r0), x, w)
    for got, want in zip(vjp(g), vjp_ref(g)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)


def test_bad_pair_keys_and_row_offset_are_errors():
    _, a, c, t = _counters(jax.random.PRNGKey(0), 2, 4, 4, 0.5)
    x, w = jnp.ones((2, 4)), jnp.ones((4, 4))
    with pytest.raises(ValueError, match="row_offset=-1"):
        pbit_matmul(x, w, t, a, c, row_offset=-1)
    with pytest.raises(ValueError, match=r"pair_key.shape=\(2, 4\).*\(3, 4\)"):
        pbit_matmul(x, w, t, a, c, row_offset=1)  # rows 1..4 touch pairs 0, 1 and 2


def test_pallas_on_cpu_without_interpret_is_an_error():
    if jax.default_backend() != "cpu":
        pytest.skip("CPU-only check")
    _, a, c, t = _counters(jax.random.PRNGKey(0), 2, 4, 4, 0.5)
    with pytest.raises(ValueError, match="backend='pallas'"):
        pbit_matmul(jnp.ones((2, 4)), jnp.ones((4, 4)), t, a, c, backend="pallas")
    with pytest.raises(ValueError, match="backend='cuda'"):
        pbit_matmul(jnp.ones((2, 4)), jnp.ones((4, 4)), t, a, c, backend="cuda")


def _gradient_problem():
    """x (11, 24), w (24, 20), per-cell thresholds, counters and a cotangent g (11, 20).

    Batch 11, rows 24 and columns 20 are not multiples of 8: padded samples, rows and
    columns in both passes.
    """
    n, m, batch = 24, 20, 11
    x = jax.random.normal(jax.random.PRNGKey(1), (batch, n))
    w = jax.random.normal(jax.random.PRNGKey(2), (n, m))
    p = jax.random.uniform(jax.random.PRNGKey(3), (n, m))
    _, a, c, _ = _counters(jax.random.PRNGKey(4), batch, n, m, 0.5)
    g = jax.random.normal(jax.random.PRNGKey(5), (batch, m))
    return x, w, keep_threshold(p), a, c, g


@pytest.mark.parametrize("backend,interpret", [("xla", False), ("pallas", True)])
def test_gradients_match_materialised_mask_reference(backend, interpret):
    x, w, t, a, c, g = _gradient_problem()

    def loss(f):
        return lambda x, w: jnp.sum(g * f(x, w))

    fused = loss(lambda x, w: pbit_matmul(x, w, t, a, c, backend=backend, interpret=interpret,
                                          block_sizes=BlockSizes(batch_chunk=4, block_b=8, block_m=16, block_n=8)))
    ref = loss(lambda x, w: pbit_matmul_reference(x, w, t, a, c))
    for got, want in zip(jax.grad(fused, (0, 1))(x, w), jax.grad(ref, (0, 1))(x, w)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("blocks", [BlockSizes(block_rows=8), BlockSizes(block_rows=8, batch_chunk=3),
                                    BlockSizes(block_rows=1), BlockSizes(block_rows=256)])
def test_xla_gradients_match_reference_across_blocks(blocks):
    x, w, t, a, c, g = _gradient_problem()
    _, vjp = jax.vjp(lambda x, w: pbit_matmul(x, w, t, a, c, backend="xla", block_sizes=blocks), x, w)
    _, vjp_ref = jax.vjp(lambda x, w: pbit_matmul_reference(x, w, t, a, c), x, w)
    for got, want in zip(vjp(g), vjp_ref(g)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("blocks", [BlockSizes(), BlockSizes(block_rows=16, batch_chunk=5)])
def test_backward_regenerates_the_documented_masks_exactly(blocks):
    """One-hot cotangents read the masks back out of both passes: dw = K[b0], dx = K[:, :, m0]."""
    key = jax.random.PRNGKey(12)
    batch, n, m, b0, m0 = 37, 40, 24, 29, 17
    seed, a, c, t = _counters(key, batch, n, m, 0.37)
    want = _np_mask(np.asarray(seed), np.arange(batch), n, m, 0.37)
    ones_x, ones_w = jnp.ones((batch, n), jnp.float32), jnp.ones((n, m), jnp.float32)
    _, vjp = jax.vjp(lambda x, w: pbit_matmul(x, w, t, a, c, backend="xla", block_sizes=blocks), ones_x, ones_w)
    dx, dw = vjp(jnp.zeros((batch, m), jnp.float32).at[b0].set(1.0))
    np.testing.assert_array_equal(np.asarray(dw), want[b0].astype(np.float32))
    dx, dw = vjp(jnp.zeros((batch, m), jnp.float32).at[:, m0].set(1.0))
    np.testing.assert_array_equal(np.asarray(dx), want[:, :, m0].astype(np.float32))


def test_refresh_groups_share_masks_and_match_the_general_path():
    n, m, k, batch = 32, 16, 4, 10
    key = jax.random.PRNGKey(9)
    seed, a, c, t = _counters(key, batch, n, m, 0.5, refresh=k)
    x = jax.random.normal(jax.random.PRNGKey(1), (batch, n))
    w = jax.random.normal(jax.random.PRNGKey(2), (n, m))
    masks = np.asarray(pbit_mask_reference(a, c, t))
    for b in range(batch):
        np.testing.assert_array_equal(masks[b], masks[(b // k) * k])
    _corr_ok(masks[0], masks[k])
    fast = pbit_matmul_refresh(x, w, t, seed, c, k)
    general = pbit_matmul(x, w, t, a, c)
    np.testing.assert_allclose(np.asarray(fast), np.asarray(general), rtol=1e-5, atol=1e-5)
    gf = jax.grad(lambda w: jnp.sum(pbit_matmul_refresh(x, w, t, seed, c, k) ** 2))(w)
    gg = jax.grad(lambda w: jnp.sum(pbit_matmul(x, w, t, a, c) ** 2))(w)
    np.testing.assert_allclose(np.asarray(gf), np.asarray(gg), rtol=1e-4, atol=1e-4)


def test_block_sizes_validate():
    assert BlockSizes.get_default() == BlockSizes()
    with pytest.raises(ValueError, match="block_b"):
        BlockSizes(block_b=12)
    with pytest.raises(ValueError, match="batch_chunk"):
        BlockSizes(batch_chunk=0)
    with pytest.raises(ValueError, match="block_rows"):
        BlockSizes(block_rows=0)


@pytest.mark.parametrize("blocks", [BlockSizes(block_rows=16), BlockSizes(block_rows=16, batch_chunk=3),
                                    BlockSizes(block_rows=64)])
def test_xla_row_blocks_and_batch_chunks_match_reference(blocks):
    # n = 40 is not a multiple of 16 (padded rows) and smaller than 64 (one block of n rows).
    n, m, batch = 40, 24, 10
    x = jax.random.normal(jax.random.PRNGKey(1), (batch, n))
    w = jax.random.normal(jax.random.PRNGKey(2), (n, m))
    _, a, c, t = _counters(jax.random.PRNGKey(6), batch, n, m, 0.3)
    got = pbit_matmul(x, w, t, a, c, backend="xla", block_sizes=blocks)
    np.testing.assert_allclose(np.asarray(got), np.asarray(pbit_matmul_reference(x, w, t, a, c)), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("p", [1e-3, 0.1, 0.3, 0.5, 0.7, 0.999])
def test_keep_rate_1e8_draws(p):
    batch, n, m = 400, 500, 500
    _, a, c, t = _counters(jax.random.PRNGKey(31), batch, n, m, p)
    y = pbit_matmul(jnp.ones((batch, n), jnp.float32), jnp.ones((n, m), jnp.float32), t, a, c)
    kept = float(np.sum(np.asarray(y, np.float64)))
    draws, q = batch * n * m, _np_quantised(p)
    assert abs(kept - draws * q) < 5 * np.sqrt(draws * q * (1 - q))


def _fmix32_inverse(h: int) -> int:
    """Inverse of MurmurHash3's 32-bit finaliser (inverse multipliers mod 2^32 of its constants)."""
    m = 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x7ED1B41D) & m  # 0xC2B2AE35^-1
    h ^= (h >> 13) ^ (h >> 26)
    h = (h * 0xA5CB9243) & m  # 0x85EBCA6B^-1
    return h ^ (h >> 16)


def test_normal_from_counters_is_finite_at_the_top_word():
    # Counters whose hashed word is all ones: (2^24 - 1) + 0.5 rounds to 2^24 in float32, u = 1,
    # and erf^-1(1) = inf unless held below 1. Sample 0, column 0: c = fmix32(s3) = 0 for s3 = 0.
    from cimjax.kernels import normal_from_counters

    s2 = _fmix32_inverse(_fmix32_inverse(0xFFFFFFFF))
    seed = jnp.array([0, 0, s2, 0, 0, 0], jnp.uint32)
    z = float(normal_from_counters(seed, jnp.zeros((1,), jnp.uint32), 1)[0, 0])
    # The largest float32 u below 1: 2u - 1 = 1 - 2^-23, z = sqrt(2) erfinv(1 - 2^-23) = 5.29.
    assert np.isfinite(z) and z == pytest.approx(5.2947, abs=1e-3)
