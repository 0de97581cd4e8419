"""crossbar_matmul end to end: closed-form moments, ideal and quantised references, modes."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cimjax.crossbar import (
    CrossbarConfig,
    Mapping,
    PbitConfig,
    Periphery,
    Tile,
    count_read,
    crossbar_matmul,
    crossbar_moments,
    crossbar_cumulant,
    fit_adc_range,
)


def _data(batch, n, m, seed=0):
    kx, kw = jax.random.split(jax.random.PRNGKey(seed))
    return jax.random.uniform(kx, (batch, n), minval=-1, maxval=1), jax.random.normal(kw, (n, m))


def test_off_with_ideal_periphery_equals_matmul():
    x, w = _data(7, 300, 45)
    want = np.asarray(x, np.float64) @ np.asarray(w, np.float64)
    for scheme_cfg in (CrossbarConfig.ideal("off"), CrossbarConfig.ideal("exact", keep_prob=1.0),
                       CrossbarConfig.ideal("moment", keep_prob=1.0)):
        y = crossbar_matmul(x, w, jax.random.PRNGKey(0), scheme_cfg)
        np.testing.assert_allclose(np.asarray(y), want, rtol=1e-5, atol=1e-4)


def _np_quantize(v, bits, full_scale):
    levels = 2 ** (bits - 1) - 1
    step = full_scale / levels
    return np.clip(np.round(v / step), -levels, levels) * step


def _np_weights(w, mapping):
    """Independent numpy mapping: cells (N, M, S), scale, significance."""
    if mapping.scheme == "analog":
        s = np.abs(w).max()
        return (w / s)[:, :, None], s, np.ones(1)
    if mapping.scheme == "binary":
        return np.where(w >= 0, 1.0, -1.0)[:, :, None], np.abs(w).mean(), np.ones(1)
    levels = 2**mapping.bits - 1
    s = np.abs(w).max() / levels
    q = np.clip(np.round(np.abs(w) / s), 0, levels).astype(int)
    bits = np.stack([(q >> i) & 1 for i in range(mapping.bits)], axis=-1)
    return np.sign(w)[:, :, None] * bits, s, 2.0 ** np.arange(mapping.bits)


@pytest.mark.parametrize("scheme,merged", [("analog", False), ("binary", False), ("bitslice", False),
                                           ("bitslice", True)])
def test_quantised_periphery_equals_numpy_reference(scheme, merged):
    x, w = _data(9, 150, 12, seed=1)
    x = 1.3 * x  # some inputs beyond the DAC range clip
    # adc_range 7.9 (7 * 7.9 merged): no ADC rounding boundary (2j+1)*range/62 is a multiple of the
    # DAC step 1/15, so float32 and float64 sums cannot round to different levels.
    adc_range = 7.9 * (7 if merged else 1)
    # The converters alone: no read noise, no programming variation (the reference has neither).
    per = Periphery(dac_bits=5, dac_range=1.0, adc_bits=6, adc_range=adc_range, read_noise=0.0)
    cfg = CrossbarConfig(mapping=Mapping(scheme, bits=3, shift_and_add=not merged), periphery=per,
                         tile=Tile(rows=64, cols=64), pbit=PbitConfig(mode="off"), programming_sigma=0.0)
    y = np.asarray(crossbar_matmul(x, w, jax.random.PRNGKey(0), cfg), np.float64)
    xn, wn = np.asarray(x, np.float64), np.asarray(w, np.float64)
    cells, scale, sig = _np_weights(wn, cfg.mapping)
    xq = _np_quantize(xn, 5, 1.0)
    acc = 0.0
    for r0 in range(0, 150, 64):  # three tiles, the last one partial
        part = np.einsum("bn,nms->bms", xq[:, r0:r0 + 64], cells[r0:r0 + 64])
        if merged:  # the slices of a column summed in analog, then one conversion
            part = np.einsum("bms,s->bm", part, sig)[:, :, None]
        acc = acc + _np_quantize(part, 6, adc_range)
    want = scale * np.einsum("bms,s->bm", acc, np.ones(1) if merged else sig)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-4 * scale)


def _closed_form(x, w, p):
    t = x[:, :, None] * w[None]  # (B, N, M) terms, each kept with p
    mean = np.einsum("bnm,nm->bm", t, p)
    var = np.einsum("bnm,nm->bm", t**2, p * (1 - p))
    k4 = np.einsum("bnm,nm->bm", t**4, p * (1 - p) * (1 - 6 * p * (1 - p)))
    return mean, var, k4


def _check_moments(samples, mean, var, k4):
    """Sample mean and variance of R reads within 5 sigma of their CLT sampling error."""
    r = samples.shape[0]
    assert np.all(np.abs(samples.mean(0) - mean) < 5 * np.sqrt(var / r))
    # Var of the sample variance: (mu4 - sigma^4) / R with mu4 = k4 + 3 sigma^4.
    assert np.all(np.abs(samples.var(0, ddof=1) - var) < 5 * np.sqrt((k4 + 2 * var**2) / r))


@pytest.mark.parametrize("mode", ["exact", "moment"])
def test_mean_and_variance_match_closed_form(mode):
    n, m, reads = 96, 6, 4000
    x, w = _data(1, n, m, seed=2)
    p = jax.random.uniform(jax.random.PRNGKey(3), (n, m), minval=0.1, maxval=0.9)
    cfg = CrossbarConfig.ideal(mode)
    # One input vector read `reads` times: each sample id draws a fresh mask.
    xs = jnp.broadcast_to(x, (reads, n))
    y = np.asarray(crossbar_matmul(xs, w, jax.random.PRNGKey(4), cfg, keep_prob=p), np.float64)
    mean, var, k4 = _closed_form(np.asarray(x, np.float64), np.asarray(w, np.float64), np.asarray(p, np.float64))
    if mode == "moment":
        k4 = np.zeros_like(k4)  # a Gaussian has no fourth cumulant
    _check_moments(y, mean[0], var[0], k4[0])


@pytest.mark.parametrize("layout", ["pair", "blocks"])
def test_differential_rows_of_equal_input_add_their_variances(layout):
    """Cells +a and -a read with the same input (the in-situ noise rows [W; +A; -A]): the mean
    cancels and the variances add, 2 x^2 a^2 p (1 - p), only if the two keep decisions are
    independent. "pair": +a and -a are the two cells of one row pair (one shared draw);
    "blocks": [W; +A; -A] as the sampler lays them out."""
    hidden, noise, m, reads = 32, 16, 4, 4000
    x, w = _data(1, hidden, m, seed=8)
    a = jax.random.normal(jax.random.PRNGKey(9), (noise, m))
    r = jnp.full((1, noise), 0.7)
    if layout == "pair":
        x_all, w_all = jnp.repeat(r, 2, axis=1), jnp.stack([a, -a], axis=1).reshape(2 * noise, m)
    else:
        x_all, w_all = jnp.concatenate([x, r, r], axis=1), jnp.concatenate([w, a, -a])
    xs = jnp.broadcast_to(x_all, (reads, x_all.shape[1]))
    y = np.asarray(crossbar_matmul(xs, w_all, jax.random.PRNGKey(10), CrossbarConfig.ideal("exact", 0.5)), np.float64)
    mean, var, k4 = _closed_form(np.asarray(x_all, np.float64), np.asarray(w_all, np.float64),
                                 np.full(w_all.shape, 0.5))
    _check_moments(y, mean[0], var[0], k4[0])


def test_moment_mode_matches_exact_within_clt():
    n, m, reads = 64, 5, 3000
    x, w = _data(1, n, m, seed=5)
    xs = jnp.broadcast_to(x, (reads, n))
    ye = np.asarray(crossbar_matmul(xs, w, jax.random.PRNGKey(1), CrossbarConfig.ideal("exact", 0.3)), np.float64)
    ym = np.asarray(crossbar_matmul(xs, w, jax.random.PRNGKey(2), CrossbarConfig.ideal("moment", 0.3)), np.float64)
    _, var, k4 = _closed_form(np.asarray(x, np.float64), np.asarray(w, np.float64), np.full((n, m), 0.3))
    se_mean = np.sqrt(2 * var[0] / reads)
    assert np.all(np.abs(ye.mean(0) - ym.mean(0)) < 5 * se_mean)
    se_var = np.sqrt((k4[0] + 2 * var[0] ** 2) / reads + 2 * var[0] ** 2 / reads)
    assert np.all(np.abs(ye.var(0, ddof=1) - ym.var(0, ddof=1)) < 5 * se_var)


# Bit-sliced cells, an 8-bit DAC, read noise, 16-row tiles, P_sw device spread and
# programming variation: every part of a read that `crossbar_moments` models exactly.
SLICED = CrossbarConfig(mapping=Mapping("bitslice", bits=3), tile=Tile(rows=16, cols=64), programming_sigma=0.05,
                        periphery=Periphery(dac_bits=8, adc_bits=None, read_noise=0.05))


def test_closed_form_moments_match_exact_reads_of_a_bit_sliced_crossbar():
    n, m, reads = 40, 4, 4000
    x, w = _data(1, n, m, seed=11)
    xs = jnp.broadcast_to(x, (reads, n))
    y = np.asarray(crossbar_matmul(xs, w, jax.random.PRNGKey(12), SLICED), np.float64)
    mean, var = (np.asarray(v, np.float64)[0] for v in crossbar_moments(x, w, SLICED))
    assert np.all(np.abs(y.mean(0) - mean) < 5 * np.sqrt(var / reads))
    # Var of a sample variance is (k4 + 2 var^2) / R. Each kept-or-dropped term has fourth cumulant
    # t^4 p(1-p)(1 - 6p(1-p)) < 0 for p in (0.21, 0.79) (here P_sw ~ 0.48 +- 0.05), read noise has none.
    assert np.all(np.abs(y.var(0, ddof=1) - var) < 5 * np.sqrt(2 * var**2 / reads))


@pytest.mark.parametrize("scheme", ["analog", "binary", "bitslice"])
def test_cumulants_equal_a_numpy_reference(scheme):
    x, w = _data(5, 30, 7, seed=21)
    p, q = 0.1, 0.1 * 0.9
    cfg = dataclasses.replace(CrossbarConfig.ideal("exact", keep_prob=p), mapping=Mapping(scheme, bits=4))
    cells, scale, sig = _np_weights(np.asarray(w, np.float64), cfg.mapping)
    # a kept-or-dropped term t: cumulants q t^2, q (1 - 2p) t^3, q (1 - 6q) t^4 (Bernoulli's)
    for order, k in ((2, q), (3, q * (1 - 2 * p)), (4, q * (1 - 6 * q))):
        want = scale**order * k * np.einsum("bn,nms,s->bm", np.asarray(x, np.float64) ** order, cells**order,
                                            sig**order)
        got = crossbar_cumulant(x, w, cfg, order=order)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(crossbar_cumulant(x, w, cfg, order=2), crossbar_moments(x, w, cfg)[1], rtol=1e-5)
    half = dataclasses.replace(cfg, pbit=PbitConfig(mode="exact", keep_prob=0.5, spread=False))
    np.testing.assert_allclose(np.asarray(crossbar_cumulant(x, w, half, order=3)), 0.0, atol=1e-6)
    for mode in ("moment", "off"):  # Gaussian reads; every cell kept
        other = dataclasses.replace(cfg, pbit=PbitConfig(mode=mode, keep_prob=p, spread=False))
        assert np.all(np.asarray(crossbar_cumulant(x, w, other, order=3)) == 0.0)
    with pytest.raises(Exception, match="order=5"):
        crossbar_cumulant(x, w, cfg, order=5)


def test_cumulants_match_exact_reads_of_a_bit_sliced_crossbar():
    n, m, reads = 40, 4, 20000
    x, w = _data(1, n, m, seed=11)
    cfg = dataclasses.replace(SLICED, pbit=PbitConfig(mode="exact", voltage=1.0))  # P_sw ~ 0.1 with spread
    y = np.asarray(crossbar_matmul(jnp.broadcast_to(x, (reads, n)), w, jax.random.PRNGKey(12), cfg), np.float64)
    k3, k4 = (np.asarray(crossbar_cumulant(x, w, cfg, order=r), np.float64)[0] for r in (3, 4))
    d = y - y.mean(0)
    m2, m3 = (d**2).mean(0), (d**3).mean(0)
    # the sample cumulants are asymptotically normal (delta method), with influence functions
    # d^3 - 3 m2 d and d^4 - 6 m2 d^2 - 4 m3 d (read noise adds variance but no k3 or k4)
    se3 = np.sqrt((d**3 - 3 * m2 * d).var(0) / reads)
    assert np.all(np.abs(m3 - k3) < 5 * se3)
    assert np.max(np.abs(k3) / se3) > 5  # and a skew is there to be seen
    se4 = np.sqrt((d**4 - 6 * m2 * d**2 - 4 * m3 * d).var(0) / reads)
    assert np.all(np.abs((d**4).mean(0) - 3 * m2**2 - k4) < 5 * se4)


def test_moment_mode_draws_gaussians_with_the_closed_form_moments():
    n, m, reads = 64, 3, 4000
    cfg = dataclasses.replace(fit_adc_range(CrossbarConfig(mapping=Mapping("bitslice", bits=4),
                                                           tile=Tile(rows=32, cols=64),
                                                           periphery=Periphery(adc_range=16.0)), n),
                              pbit=PbitConfig(mode="moment"))
    x, w = _data(1, n, m, seed=13)
    xs = jnp.broadcast_to(x, (reads, n))
    y = np.asarray(crossbar_matmul(xs, w, jax.random.PRNGKey(14), cfg), np.float64)
    mean, var = (np.asarray(v, np.float64)[0] for v in crossbar_moments(x, w, cfg))
    _check_moments(y, mean, var, np.zeros_like(var))
    # A standard normal's E[z^3] = 0 and E[z^4] = 3, with Var[z^3] = 15 and Var[z^4] = 105 - 9 = 96.
    z = (y - mean) / np.sqrt(var)
    assert np.all(np.abs((z**3).mean(0)) < 5 * np.sqrt(15 / reads))
    assert np.all(np.abs((z**4).mean(0) - 3) < 5 * np.sqrt(96 / reads))


def test_fit_adc_range_bounds_the_range_by_the_fan_in():
    base = CrossbarConfig(mapping=Mapping("bitslice", bits=4), tile=Tile(rows=64, cols=64),
                          periphery=Periphery(dac_range=0.5, adc_range=16.0))
    assert fit_adc_range(base, 1).periphery.adc_range == 0.5  # one row sums to at most dac_range
    assert fit_adc_range(base, 20).periphery.adc_range == 10.0
    assert fit_adc_range(base, 64) is base  # 32 >= 16: already within the bound
    merged = dataclasses.replace(base, mapping=Mapping("bitslice", bits=4, shift_and_add=False))
    assert fit_adc_range(merged, 1).periphery.adc_range == 0.5 * 15  # slices merged: 1 + 2 + 4 + 8
    full = dataclasses.replace(base, periphery=Periphery(adc_range=None))
    assert fit_adc_range(full, 3000).periphery.adc_range == 64.0  # a tile has at most 64 rows
    ideal = CrossbarConfig.ideal()
    assert fit_adc_range(ideal, 1) is ideal
    with pytest.raises(Exception, match="fan_in=0"):
        fit_adc_range(base, 0)


MODES = [PbitConfig(mode="exact"), PbitConfig(mode="refresh", refresh=3), PbitConfig(mode="moment"),
         PbitConfig(mode="off")]


@pytest.mark.parametrize("pbit", MODES[:3], ids=lambda p: p.mode)
def test_deterministic_and_batch_size_invariant(pbit):
    x, w = _data(12, 40, 8, seed=6)
    cfg = CrossbarConfig(mapping=Mapping("bitslice", bits=3), tile=Tile(rows=64, cols=16), pbit=pbit,
                         periphery=Periphery(read_noise=0.05, dac_range=1.0), programming_sigma=0.05)
    key = jax.random.PRNGKey(8)
    y = np.asarray(crossbar_matmul(x, w, key, cfg))
    np.testing.assert_array_equal(y, np.asarray(crossbar_matmul(x, w, key, cfg)))
    ids = jnp.arange(6, 12, dtype=jnp.uint32)
    part = np.asarray(crossbar_matmul(x[6:], w, key, cfg, sample_index=ids))
    np.testing.assert_allclose(part, y[6:], rtol=1e-5, atol=1e-4)
    if pbit.mode != "off":
        assert not np.allclose(y, np.asarray(crossbar_matmul(x, w, jax.random.PRNGKey(9), cfg)))


@pytest.mark.parametrize("pbit", [PbitConfig(mode="exact", keep_prob=0.5),
                                  PbitConfig(mode="refresh", refresh=2, keep_prob=0.5)], ids=lambda p: p.mode)
def test_odd_row_tiles_keep_every_cells_mask(pbit):
    """Tiles of 7 rows start inside row pairs (rows 7, 21): each cell keeps its untiled mask."""
    n, m = 23, 5
    # Read noise (negligible here) makes the read go tile by tile; the ideal one does not.
    tiled = CrossbarConfig(mapping=Mapping("analog"), tile=Tile(rows=7, cols=64), pbit=pbit,
                           periphery=Periphery(dac_bits=None, adc_bits=None, read_noise=1e-20))
    untiled = dataclasses.replace(tiled, periphery=Periphery.ideal())
    # One-hot inputs and unit weights read sample b's mask of row b out of the product.
    eye, ones, key = jnp.eye(n), jnp.ones((n, m)), jax.random.PRNGKey(3)
    y = np.asarray(crossbar_matmul(eye, ones, key, tiled))
    np.testing.assert_allclose(y, np.asarray(crossbar_matmul(eye, ones, key, untiled)), atol=1e-6)
    assert 0 < np.round(y).sum() < n * m


def test_pallas_backend_through_the_crossbar():
    x, w = _data(10, 40, 12, seed=7)
    cfg = CrossbarConfig(pbit=PbitConfig(keep_prob=0.7), periphery=Periphery.ideal())
    key = jax.random.PRNGKey(1)
    yx = crossbar_matmul(x, w, key, dataclasses.replace(cfg, backend="xla"))
    yp = crossbar_matmul(x, w, key, dataclasses.replace(cfg, backend="pallas"), interpret=True)
    np.testing.assert_allclose(np.asarray(yp), np.asarray(yx), rtol=1e-5, atol=1e-4)


GRAD_CASES = [("analog", p) for p in MODES] + [("binary", MODES[0]), ("bitslice", MODES[0])]


@pytest.mark.parametrize("scheme,pbit", GRAD_CASES, ids=lambda c: getattr(c, "mode", c))
def test_differentiable_in_every_mode(scheme, pbit):
    x, w = _data(6, 20, 5, seed=8)
    cfg = CrossbarConfig(mapping=Mapping(scheme, bits=3), pbit=pbit, tile=Tile(rows=8, cols=8))
    gx, gw = jax.grad(lambda x, w: jnp.sum(crossbar_matmul(x, w, jax.random.PRNGKey(0), cfg) ** 2), (0, 1))(x, w)
    assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gw))
    assert np.any(gw != 0) and np.any(gx != 0)


@pytest.mark.slow  # the kernel-level test (tests/test_kernels_pbit.py) covers this by default
def test_exact_gradient_matches_materialised_reference():
    x, w = _data(5, 18, 7, seed=9)
    p = jax.random.uniform(jax.random.PRNGKey(1), (18, 7))
    cfg = CrossbarConfig.ideal("exact")
    key = jax.random.PRNGKey(2)
    # Recover each sample's mask with one-hot reads of unit weights (same key, same ids).
    masks = []
    for b in range(5):
        ids = jnp.full((18,), b, jnp.uint32)
        masks.append(crossbar_matmul(jnp.eye(18), jnp.ones((18, 7)), key, cfg, keep_prob=p, sample_index=ids))
    mask = jnp.stack(masks)  # (B, N, M) of 0/1

    def ref(x, w):
        return jnp.sum(jnp.sin(jnp.einsum("bn,bnm->bm", x, mask * w[None])))

    def fused(x, w):
        return jnp.sum(jnp.sin(crossbar_matmul(x, w, key, cfg, keep_prob=p)))

    for got, want in zip(jax.grad(fused, (0, 1))(x, w), jax.grad(ref, (0, 1))(x, w)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-5)


def test_device_probabilities_with_spread_center_on_calibration():
    n, m = 64, 64
    cfg = CrossbarConfig(pbit=PbitConfig(mode="exact"))  # the default: P_sw spread on
    from cimjax.crossbar import keep_probability

    p = np.asarray(keep_probability(cfg, (n, m)))
    assert p.std() > 0 and 0.3 < p.mean() < 0.7  # Fig. 13: spread around the calibrated 50%
    nospread = dataclasses.replace(cfg, pbit=PbitConfig(spread=False))
    np.testing.assert_allclose(np.asarray(keep_probability(nospread, (n, m))), 0.5, atol=1e-5)  # Figs. 11-12
    np.testing.assert_array_equal(p, np.asarray(keep_probability(cfg, (n, m))))  # drawn once from the seed


def test_count_read_uses_shapes_and_modes():
    cfg = CrossbarConfig(mapping=Mapping("bitslice", bits=4), tile=Tile(rows=256, cols=128),
                         pbit=PbitConfig(mode="refresh", refresh=8))
    c = count_read(cfg, 100, 600, 200)
    assert c.pbit_writes == 13 * 600 * 200 * 4
    assert c.adc_conversions == 100 * 200 * 3 * 4
    assert count_read(dataclasses.replace(cfg, pbit=PbitConfig(mode="off")), 100, 600, 200).pbit_writes == 0


def test_read_noise_keeps_gradients_finite_for_an_all_zero_input_row():
    # ||x_b|| = 0 makes the noise std sqrt(0): its slope is infinite, and 0 * inf would be NaN.
    x = jnp.zeros((3, 8)).at[0].set(0.5)
    w = jax.random.normal(jax.random.PRNGKey(0), (8, 4))
    cfg = CrossbarConfig(periphery=Periphery(read_noise=0.03))
    grads = jax.grad(lambda x, w: jnp.sum(crossbar_matmul(x, w, jax.random.PRNGKey(1), cfg) ** 2), (0, 1))(x, w)
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads)
