"""CrossbarDense / CrossbarMLP: bad input, the deterministic switch, gradients vs a materialised mask."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cimjax.errors import CimjaxError, ConfigError
from cimjax.crossbar import CrossbarConfig
from cimjax.kernels import keep_threshold, pair_keys, pbit_mask_reference, sample_words, seed_words
from cimjax.nn import (CrossbarDense, CrossbarMLP, check_dataset, mc_predict, sinusoidal_embedding,
                       summarize_samples, warn_narrow_spread)
from cimjax.nn import _engine

IDEAL = CrossbarConfig.ideal(mode="exact", keep_prob=0.5)


@pytest.mark.parametrize("keep_prob", [0.0, -0.1, 1.5, float("nan")])
def test_keep_prob_outside_unit_interval_is_rejected_at_construction(keep_prob):
    with pytest.raises(CimjaxError, match=r"keep_prob=.* must be in \(0, 1\]"):
        CrossbarDense(4, config=IDEAL, keep_prob=keep_prob)
    with pytest.raises(CimjaxError, match=r"keep_prob=.* must be in \(0, 1\]"):
        CrossbarMLP((4, 1), config=IDEAL, keep_prob=keep_prob)


def test_wrong_input_width_names_expected_and_got():
    layer = CrossbarDense(3, config=IDEAL)
    key = jax.random.key(0)
    params = layer.init({"params": key, "pbit": key}, jnp.ones((2, 5)))
    with pytest.raises(CimjaxError, match="input width 4 != expected 5"):
        layer.apply(params, jnp.ones((2, 4)), rngs={"pbit": key})
    mlp = CrossbarMLP((8, 1), config=IDEAL, in_features=2)
    with pytest.raises(CimjaxError, match="input width 3 != expected 2"):
        mlp.init({"params": key, "pbit": key}, jnp.ones((2, 3)))


def test_nan_in_data_is_rejected_with_its_index():
    mlp = CrossbarMLP((8, 1), config=IDEAL)
    key = jax.random.key(0)
    x = np.ones((3, 2), np.float32)
    x[1, 0] = np.nan
    with pytest.raises(CimjaxError, match=r"non-finite value nan at index \(1, 0\)"):
        mlp.init({"params": key, "pbit": key}, x)
    with pytest.raises(CimjaxError, match=r"data y holds a non-finite value inf at index \(2, 0\)"):
        check_dataset(np.zeros((3, 1)), np.array([[0.0], [1.0], [np.inf]]))


def test_time_and_condition_inputs_are_validated():
    mlp = CrossbarMLP((8, 2), config=IDEAL, time_embedding_dim=4, cond_features=3)
    key = jax.random.key(0)
    x, t, c = jnp.ones((5, 2)), jnp.linspace(0, 1, 5), jnp.ones((5, 3))
    params = mlp.init({"params": key, "pbit": key}, x, t, c)
    assert params["params"]["layer_0"]["kernel"].shape == (2 + 4 + 3, 8)
    with pytest.raises(CimjaxError, match="needs a time t"):
        mlp.apply(params, x, None, c, rngs={"pbit": key})
    with pytest.raises(CimjaxError, match=r"cond shape \(5, 2\) != expected \(5, 3\)"):
        mlp.apply(params, x, t, jnp.ones((5, 2)), rngs={"pbit": key})
    with pytest.raises(CimjaxError, match="time_embedding_dim=3 must be 0 or a positive even int"):
        CrossbarMLP((8, 2), time_embedding_dim=3)


def test_sinusoidal_embedding_closed_form():
    emb = sinusoidal_embedding(jnp.array([0.0, 0.25]), 6, max_freq=16.0)
    freqs = np.array([1.0, 4.0, 16.0])  # log-spaced from 1 to max_freq inclusive
    expected = np.concatenate([np.sin(np.outer([0.0, 0.25], freqs)), np.cos(np.outer([0.0, 0.25], freqs))], axis=1)
    np.testing.assert_allclose(emb, expected, rtol=1e-6, atol=1e-7)


def test_ann_mc_spread_is_exactly_zero_and_stochastic_spread_is_not():
    key = jax.random.key(1)
    x = jax.random.normal(key, (16, 3))
    ann = CrossbarMLP((16, 2), config=IDEAL, deterministic=True)
    params = ann.init({"params": key, "pbit": key}, x)
    with pytest.warns(RuntimeWarning, match=r"^32 of 32 predictive outputs have a spread exactly zero"):
        pred = mc_predict(ann.apply, params, x, jax.random.key(2), 32)
    assert float(jnp.max(pred.variance)) == 0.0
    assert (pred.zero_spread_count, pred.zero_spread_fraction) == (32, 1.0)
    mc = CrossbarMLP((16, 2), config=IDEAL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no point of the stochastic model has a zero spread: no warning
        pred = mc_predict(mc.apply, params, x, jax.random.key(2), 32)
    assert float(jnp.min(pred.variance)) > 0.0
    assert (pred.zero_spread_count, pred.zero_spread_fraction) == (0, 0.0)
    # the same weights: P-bits held fixed equals the deterministic call of the MC model
    np.testing.assert_array_equal(ann.apply(params, x), mc.apply(params, x, deterministic=True))


def test_spread_below_one_output_step_is_counted_and_warned():
    """Known spreads: S passes alternating between two values a step d apart have std
    d/2 * sqrt(S/(S-1)); with `resolution` above it every point warns, below it none."""
    s, d = 8, 0.5
    samples = jnp.asarray(np.tile(np.array([0.0, d])[:, None, None], (s // 2, 3, 1)), jnp.float32)  # (S, 3, 1)
    pred = summarize_samples(samples)
    std = d / 2 * np.sqrt(s / (s - 1))
    np.testing.assert_allclose(np.sqrt(pred.variance), std, rtol=1e-6)
    assert pred.zero_spread_count == 0
    with pytest.warns(RuntimeWarning, match=r"^3 of 3 predictive outputs have a spread below one output step"):
        assert warn_narrow_spread(pred, resolution=1.01 * std) == 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert warn_narrow_spread(pred, resolution=0.99 * std) == 0
    mixed = summarize_samples(samples.at[:, 0, 0].set(1.0))  # one point constant over the passes
    assert (mixed.zero_spread_count, mixed.zero_spread_fraction) == (1, 1 / 3)
    with pytest.raises(ConfigError, match="resolution"):
        mc_predict(lambda v, x, rngs: x, {}, jnp.ones((2, 1)), jax.random.key(0), 2, resolution=0.0)


def test_mc_passes_do_not_depend_on_chunking():
    key = jax.random.key(3)
    x = jax.random.normal(key, (8, 3))
    mc = CrossbarMLP((16, 1), config=IDEAL)
    params = mc.init({"params": key, "pbit": key}, x)
    a = mc_predict(mc.apply, params, x, key, 12, keep_samples=True).samples
    b = mc_predict(mc.apply, params, x, key, 12, keep_samples=True, chunk=5).samples
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("rescale", [True, False])
def test_layer_gradients_match_materialised_mask_reference(rescale, monkeypatch):
    keep = 0.5
    layer = CrossbarDense(5, config=IDEAL, rescale=rescale)
    key = jax.random.key(4)
    x = jax.random.normal(jax.random.key(5), (6, 7))
    ids = jnp.arange(10, 16, dtype=jnp.uint32)
    params = layer.init({"params": key, "pbit": key}, x)
    params = jax.tree.map(lambda p: p + 0.1, params)  # non-zero bias
    seen = []
    original = _engine.read

    def recording(x, w, k, config, *, sample_index=None):
        seen.append(k)
        return original(x, w, k, config, sample_index=sample_index)

    monkeypatch.setattr(_engine, "read", recording)
    g = jax.random.normal(jax.random.key(6), (6, 5))

    def layer_loss(p, x):
        return jnp.sum(g * layer.apply(p, x, sample_index=ids, rngs={"pbit": jax.random.key(9)}))

    val, (gp, gx) = jax.value_and_grad(layer_loss, argnums=(0, 1))(params, x)
    read_key = seen[-1]
    seed = seed_words(read_key)
    mask = pbit_mask_reference(sample_words(seed, ids), pair_keys(seed, 7, 5),
                               keep_threshold(jnp.full((7, 5), keep, jnp.float32)))

    def ref_loss(p, x):
        w, b = p["params"]["kernel"], p["params"]["bias"]
        y = jnp.einsum("bn,bnm->bm", x, jnp.where(mask, w[None], 0.0)) / (keep if rescale else 1.0)
        return jnp.sum(g * (y + b[None, :]))

    rval, (rp, rx) = jax.value_and_grad(ref_loss, argnums=(0, 1))(params, x)
    np.testing.assert_allclose(val, rval, rtol=1e-5)
    np.testing.assert_allclose(gx, rx, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gp["params"]["kernel"], rp["params"]["kernel"], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gp["params"]["bias"], rp["params"]["bias"], rtol=1e-6)


def test_per_layer_configs_apply_to_their_layers():
    from cimjax.crossbar import Periphery

    x = jax.random.normal(jax.random.key(7), (5, 2))
    coarse = CrossbarConfig(periphery=Periphery(adc_bits=3, adc_range=8.0), pbit=IDEAL.pbit)
    shared = CrossbarMLP((4, 3), config=IDEAL, deterministic=True)
    params = jax.tree.map(lambda p: p + 0.1, shared.init({"params": jax.random.key(8)}, x))
    first = CrossbarMLP((4, 3), config=(coarse, IDEAL), deterministic=True)
    last = CrossbarMLP((4, 3), config=(IDEAL, coarse), deterministic=True)
    assert not np.allclose(first.apply(params, x), shared.apply(params, x))
    # the coarse ADC in the first layer is not the coarse ADC in the last one
    assert not np.allclose(first.apply(params, x), last.apply(params, x))
    with pytest.raises(CimjaxError, match="config has 3 entries"):
        CrossbarMLP((4, 3), config=(IDEAL, IDEAL, IDEAL))


@pytest.mark.parametrize("build, needle", [
    (lambda: CrossbarDense(4, keep_prob=np.array([0.5, 0.6])), "must be one number in (0, 1]"),
    (lambda: CrossbarDense(4, keep_prob="half"), "must be one number in (0, 1]"),
    (lambda: CrossbarMLP((4, 1), keep_prob=[0.5]), "must be one number in (0, 1]"),
    (lambda: CrossbarDense(4, pulse=1.5), "pulse=1.5 must be (voltage > 0, width > 0), both finite"),
    (lambda: CrossbarDense(4, pulse=(float("inf"), 7e-10)), "pulse=(inf, 7e-10) must be"),
    (lambda: CrossbarDense(4, pulse=("1.5V", "700ps")), "pulse=('1.5V', '700ps') must be"),
])
def test_bad_keep_prob_or_pulse_is_a_config_error(build, needle):
    # were TypeError / ValueError from float() or len(), or accepted (an infinite voltage)
    with pytest.raises(ConfigError) as err:
        build()
    assert needle in str(err.value)


@pytest.mark.parametrize("model", [CrossbarDense(3, config=CrossbarConfig.ideal(mode="exact", keep_prob=0.0)),
                                   CrossbarMLP((4, 1), config=CrossbarConfig.ideal(mode="exact", keep_prob=0.0))])
def test_zero_keep_probability_of_the_config_is_refused_not_nan(model):
    # was: every output nan (a read that keeps no cell, times the gain 1/p = 1/0)
    key = jax.random.key(0)
    with pytest.raises(ConfigError, match=r"keep_prob=0.0: a stochastic read keeps no cell"):
        model.init({"params": key, "pbit": key}, jnp.ones((2, 4)))
    layer = CrossbarDense(3, config=CrossbarConfig.ideal(mode="exact", keep_prob=0.0), rescale=False)
    params = layer.init({"params": key, "pbit": key}, jnp.ones((2, 4)))
    assert np.all(layer.apply(params, jnp.ones((2, 4)), rngs={"pbit": key}) == 0.0)  # no gain: a read of nothing
