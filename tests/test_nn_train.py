"""Training through the crossbar: losses, exact-mode learning, checkpoints and resume."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from cimjax.errors import CimjaxError
from cimjax.crossbar import CrossbarConfig
from cimjax.nn import (
    CrossbarMLP,
    TrainConfig,
    batch_indices,
    categorical_nll,
    crps_gaussian,
    dawid_sebastiani_score,
    energy_score,
    fit,
    init_train_state,
    load_checkpoint,
    make_loss_fn,
    make_optimizer,
    run_config,
    save_checkpoint,
)

IDEAL = CrossbarConfig.ideal(mode="exact", keep_prob=0.5)


def _problem(n=256):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
    y = (np.sin(3 * x) + 0.1 * rng.standard_normal((n, 1))).astype(np.float32)
    return x, y


def test_energy_score_is_unbiased_for_the_gaussian_crps():
    # X ~ N(0, 1), y = 0: CRPS = 2 phi(0) - 1/sqrt(pi) (Gneiting & Raftery 2007, eq. 21)
    key = jax.random.key(0)
    b = 20000
    samples = jax.random.normal(key, (2, b, 1))
    per_point = jax.vmap(lambda s: energy_score(s[:, None, :], jnp.zeros((1, 1))), in_axes=1)(samples)
    closed = 2 * stats.norm.pdf(0) - 1 / math.sqrt(math.pi)
    se = float(np.std(per_point)) / math.sqrt(b)
    assert abs(float(np.mean(per_point)) - closed) < 5 * se
    # the batch form averages the per-point scores, and the Gaussian CRPS has the same closed form at 0
    assert float(energy_score(samples, jnp.zeros((b, 1)))) == pytest.approx(float(np.mean(per_point)), rel=1e-5)
    assert float(crps_gaussian(0.0, 1.0, 0.0)) == pytest.approx(closed, rel=1e-6)


@pytest.mark.parametrize("dim", [1, 3])
def test_energy_score_equals_the_pairwise_definition(dim):
    # mean_s ||x_s - y|| - sum_{s != s'} ||x_s - x_s'|| / (2 S (S - 1)), by hand in float64; D = 1 takes
    # the sorted O(S log S) route, so this also checks the sample CRPS used to score Fig. 22
    rng = np.random.default_rng(1)
    s, b = 7, 5
    x, y = rng.standard_normal((s, b, dim)), rng.standard_normal((b, dim))
    to_data = np.linalg.norm(x - y[None], axis=-1).mean(0)
    pairs = sum(np.linalg.norm(x[i] - x[j], axis=-1) for i in range(s) for j in range(s) if i != j)
    expected = np.mean(to_data - pairs / (2 * s * (s - 1)))
    assert float(energy_score(x.astype(np.float32), y.astype(np.float32))) == pytest.approx(expected, rel=1e-5)


def test_dawid_sebastiani_score_by_hand():
    # passes 1, 2, 3, 6 (S = 4), y = 5: mean 3, unbiased var 14/3, k = (S-1)/(S-3) = 3, so k var = 14 and
    # DSS = log 14 + (5 - 3)^2 / 14; a second point whose passes agree scores at the floor 1e-6
    samples = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [6.0, 0.0]], np.float32)[..., None]
    y = np.array([[5.0], [0.0]], np.float32)
    expected = (math.log(14.0) + 4.0 / 14.0 + math.log(1e-6)) / 2
    assert float(dawid_sebastiani_score(samples, y)) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(CimjaxError, match="needs >= 4 stochastic passes"):
        dawid_sebastiani_score(samples[:3], y)


def test_dawid_sebastiani_score_is_minimised_at_the_data_spread():
    # passes ~ N(0, c^2), y ~ N(0, 1), S = 8: the sample variance is c^2 W / (S-1), W ~ chi2(S-1), independent
    # of the sample mean, so E[DSS] = log(k c^2) + psi((S-1)/2) + log(2 / (S-1)) + 1 / c^2 + 1 / S, smallest
    # at c = 1 (the correction k = (S-1)/(S-3) is what puts the minimum there)
    s, b = 8, 200_000
    k_samples, k_y = jax.random.split(jax.random.key(0))
    z = jax.random.normal(k_samples, (s, b, 1))
    y = jax.random.normal(k_y, (b, 1))
    k = (s - 1) / (s - 3)
    means = {}
    for c in (0.8, 1.0, 1.25):  # the same normals at every scale: the differences are sharp
        per_point = np.asarray(jax.vmap(lambda x, t: dawid_sebastiani_score(x[:, None], t[None]),
                                        in_axes=(1, 0))(c * z, y))
        closed = math.log(k * c**2) + special.digamma((s - 1) / 2) + math.log(2 / (s - 1)) + 1 / c**2 + 1 / s
        assert abs(per_point.mean() - closed) < 5 * per_point.std() / math.sqrt(b), c
        means[c] = per_point.mean()
    assert means[1.0] < min(means[0.8], means[1.25])


def test_categorical_nll_of_one_pass_and_of_a_mixture_by_hand():
    one = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    assert float(categorical_nll(one, np.array([0, 1]))) == pytest.approx(-(math.log(0.7) + math.log(0.1)) / 2)
    # two passes: the mixture gives label 0 probability (0.7 + 0.3) / 2; logits shifted per pass change nothing
    two = np.log(np.array([[[0.7, 0.2, 0.1]], [[0.3, 0.3, 0.4]]])) + np.array([[[5.0]], [[-2.0]]])
    assert float(categorical_nll(two, np.array([0]))) == pytest.approx(math.log(2.0), rel=1e-6)


def test_train_config_rejects_bad_values():
    with pytest.raises(CimjaxError, match="loss='l1' is not one of"):
        TrainConfig(loss="l1")
    with pytest.raises(CimjaxError, match="num_samples=1 must be >= 2 for the energy score"):
        TrainConfig(loss="energy", num_samples=1)
    with pytest.raises(CimjaxError, match="num_samples=3 must be >= 4 for the Dawid-Sebastiani score"):
        TrainConfig(loss="dss", num_samples=3)
    with pytest.raises(CimjaxError, match=r"decay_floor=1.5 must be in \[0, 1\]"):
        TrainConfig(decay_floor=1.5)


def test_each_epoch_visits_every_example_once():
    idx = np.concatenate([np.asarray(batch_indices(3, s, 40, 10)) for s in range(4)])
    assert sorted(idx.tolist()) == list(range(40))


@pytest.mark.parametrize("steps", [100, pytest.param(300, marks=pytest.mark.slow)])
@pytest.mark.parametrize("loss", ["energy", "mse"])
def test_training_through_exact_mode_reduces_the_loss(loss, steps):
    x, y = _problem()
    model = CrossbarMLP((16, 16, 1), config=IDEAL)  # every layer's P-bits written each read
    config = TrainConfig(loss=loss, batch_size=64, learning_rate=1e-2, num_samples=4)
    loss_fn = make_loss_fn(model, config)
    ids = jnp.arange(x.shape[0], dtype=jnp.uint32)
    key = jax.random.key(123)  # the same masks before and after
    state0 = init_train_state(model, make_optimizer(config), x[:1], config.seed)
    before = float(loss_fn(state0.params, x, y, ids, key))
    state, _ = fit(model, x, y, config, steps, chunk_steps=steps)
    after = float(loss_fn(state.params, x, y, ids, key))
    assert after < 0.6 * before, (before, after)


def test_interrupted_and_resumed_training_equals_uninterrupted(tmp_path):
    x, y = _problem(128)
    model = CrossbarMLP((8, 1), config=IDEAL)
    config = TrainConfig(loss="energy", batch_size=32, num_samples=2, seed=5)
    # one scan length throughout (one compilation); the interruption falls mid-epoch (4 steps/epoch)
    straight, losses = fit(model, x, y, config, 21, chunk_steps=7)
    path = tmp_path / "ckpt.msgpack"
    half, _ = fit(model, x, y, config, 14, chunk_steps=7, checkpoint=path)
    assert int(half.step) == 14
    resumed, rest = fit(model, x, y, config, 21, chunk_steps=7, checkpoint=path)
    assert int(resumed.step) == 21
    jax.tree.map(np.testing.assert_array_equal, straight.params, resumed.params)
    jax.tree.map(np.testing.assert_array_equal, straight.opt_state, resumed.opt_state)
    np.testing.assert_array_equal(losses[14:], rest)


def test_checkpoint_from_another_configuration_names_the_field(tmp_path):
    x, y = _problem(64)
    config = TrainConfig(loss="mse", batch_size=32)
    saved = CrossbarMLP((8, 1), config=IDEAL)
    tx = make_optimizer(config)
    state = init_train_state(saved, tx, x[:1], 0)
    path = tmp_path / "ckpt.msgpack"
    save_checkpoint(path, state, run_config(saved, config))
    other = CrossbarMLP((8, 1), config=CrossbarConfig.ideal(mode="exact", keep_prob=0.25))
    with pytest.raises(CimjaxError, match=r"model\.config\.pbit\.keep_prob: checkpoint has 0\.5, this run has 0\.25"):
        load_checkpoint(path, state, run_config(other, config))
    restored = load_checkpoint(path, state, run_config(saved, config))
    jax.tree.map(np.testing.assert_array_equal, state.params, restored.params)
    bad = tmp_path / "garbage.msgpack"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CimjaxError, match="is not a cimjax checkpoint"):
        load_checkpoint(bad, state, run_config(saved, config))


def test_a_network_trained_in_moment_mode_works_on_exact_reads():
    """Moment mode is a cheap training proxy: the weights it finds must do on the exact
    (per-cell Bernoulli) crossbar what they did in training, beating the best constant."""
    import dataclasses

    from cimjax.apps.regression import demo_crossbar, layer_configs

    x, y = _problem()
    demo = demo_crossbar()
    configs = {mode: layer_configs(dataclasses.replace(demo, pbit=dataclasses.replace(demo.pbit, mode=mode)),
                                   1, (16, 16)) for mode in ("moment", "exact")}
    config = TrainConfig(loss="mse", batch_size=64, learning_rate=1e-2)
    state, _ = fit(CrossbarMLP((16, 16, 1), config=configs["moment"]), x, y, config, 300, chunk_steps=300)
    ids = jnp.arange(x.shape[0], dtype=jnp.uint32)

    def mean_loss(mode):
        loss_fn = make_loss_fn(CrossbarMLP((16, 16, 1), config=configs[mode]), config)
        return np.mean([float(loss_fn(state.params, x, y, ids, jax.random.key(k))) for k in range(16)])

    moment, exact = mean_loss("moment"), mean_loss("exact")
    best_constant = float(np.var(y))  # the MSE of predicting the mean
    assert exact < best_constant and moment < best_constant
