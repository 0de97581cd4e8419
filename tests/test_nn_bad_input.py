"""Bad input to cimjax.nn's training, losses, checkpoints and converter: a ConfigError or
CheckpointError naming the parameter, before any compute."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cimjax.errors import CheckpointError, ConfigError
from cimjax.crossbar import CrossbarConfig
from cimjax.nn import CrossbarMLP, TrainConfig, check_dataset, fit, fit_loss

IDEAL = CrossbarConfig.ideal(mode="exact", keep_prob=0.5)


def _data(n=16, width=2):
    x = np.random.default_rng(0).uniform(-1, 1, (n, width)).astype(np.float32)
    return x, np.sin(x[:, :1])


@pytest.mark.parametrize("num_steps", [2.5, "3", True, -1])
def test_a_fractional_or_non_integer_step_count_is_refused(num_steps):
    # num_steps=2.5 used to loop forever: step 2 < 2.5, and each chunk took int(2.5) - 2 = 0 steps
    x, y = _data()
    with pytest.raises(ConfigError, match="num_steps"):
        fit_loss(lambda p, b, i, k: 0.0 * p, np.zeros(()), (x, y), TrainConfig(batch_size=4), num_steps)


def test_a_fractional_chunk_is_refused():
    x, y = _data()
    with pytest.raises(ConfigError, match="chunk_steps"):
        fit_loss(lambda p, b, i, k: 0.0 * p, np.zeros(()), (x, y), TrainConfig(batch_size=4), 2, chunk_steps=1.5)


@pytest.mark.parametrize("kwargs, name", [
    ({"learning_rate": float("inf")}, "learning_rate"), ({"grad_clip": float("inf")}, "grad_clip"),
    ({"batch_size": 8.5}, "batch_size"), ({"num_samples": 4.5}, "num_samples"), ({"decay_steps": 10.5}, "decay_steps"),
    ({"learning_rate": "0.1"}, "learning_rate"), ({"seed": 2**70}, "seed"),
])
def test_train_config_refuses_non_finite_and_non_integer_values(kwargs, name):
    with pytest.raises(ConfigError, match=name):
        TrainConfig(**kwargs)


def test_non_numeric_data_is_a_config_error():
    with pytest.raises(ConfigError, match="data x"):
        check_dataset([["a", "b"]], [[1.0]])


@pytest.mark.parametrize("loss", ["mse", "energy", "dss"])
def test_fit_refuses_targets_wider_than_the_network_output(loss):
    # a (n, 3) y against a 1-output network used to broadcast (mse, dss) or keep only y[:, 0] (energy)
    x, y = _data()
    model = CrossbarMLP((8, 1), config=IDEAL)
    with pytest.raises(ConfigError, match=r"y.shape=\(4, 3\) must be \(4, 1\)"):
        fit(model, x, np.concatenate([y, y + 5, y - 5], 1), TrainConfig(loss=loss, batch_size=4), 1)


def test_scoring_rules_refuse_mismatched_shapes_and_nan():
    from cimjax.nn import categorical_nll, crps_gaussian, dawid_sebastiani_score, energy_score, gaussian_nll, mse

    s = np.random.default_rng(0).normal(size=(8, 4, 1)).astype(np.float32)
    cases = [
        (lambda: energy_score(s, np.arange(4.0)), "energy_score: y.shape"),  # used to read y[0] for every point
        (lambda: energy_score(s, np.zeros((4, 3))), "energy_score: y.shape"),
        (lambda: energy_score(s[..., 0], np.zeros(4)), "samples.shape"),
        (lambda: energy_score(s, np.full((4, 1), np.nan)), "non-finite"),
        (lambda: dawid_sebastiani_score(s, np.zeros((4, 3))), "dawid_sebastiani_score: y.shape"),
        (lambda: mse(np.zeros((4, 1)), np.zeros(4)), "mse: y.shape"),
        (lambda: gaussian_nll(np.zeros((4, 1)), np.ones((4, 1)), np.zeros((4, 3))), "gaussian_nll: y.shape"),
        (lambda: gaussian_nll(np.zeros((4, 1)), -np.ones((4, 1)), np.zeros((4, 1))), "var must be >= 0"),
        (lambda: crps_gaussian(0.0, -1.0, 0.5), "std must be > 0"),
        (lambda: categorical_nll(np.zeros((4, 3)), np.array([0, 1, 2, 5])), "outside \\[0, 3\\)"),
        (lambda: categorical_nll(np.zeros((4, 3)), np.array([0, 1, 2, -1])), "outside \\[0, 3\\)"),
        (lambda: categorical_nll(np.zeros((4, 3)), np.array([0.0, 1.7, 2.0, 1.0])), "labels.dtype"),
        (lambda: categorical_nll(np.zeros((4, 3)), np.array([0, 1])), "labels.shape"),
    ]
    for fn, match in cases:
        with pytest.raises(ConfigError, match=match):
            fn()


def test_a_checkpoint_of_other_shapes_under_the_same_run_config_is_refused(tmp_path):
    # fit_loss's run_config need not describe the parameters' shapes: the leaves are compared too
    from cimjax.nn import TrainState, load_checkpoint, save_checkpoint

    path = tmp_path / "run.msgpack"
    save_checkpoint(path, TrainState(np.int32(3), {"w": np.zeros((2, 8), np.float32)}, ()), "my-run")
    template = TrainState(np.int32(0), {"w": np.zeros((2, 16), np.float32)}, ())
    with pytest.raises(CheckpointError, match=r"\['w'\]: checkpoint has \(2, 8\), this run has \(2, 16\)"):
        load_checkpoint(path, template, "my-run")


def test_a_checkpoint_path_that_is_a_folder_is_refused_before_training(tmp_path):
    from cimjax.nn import TrainState, save_checkpoint

    with pytest.raises(CheckpointError, match="is a folder"):
        save_checkpoint(tmp_path, TrainState(np.int32(0), {}, ()), "my-run")
    x, y = _data()
    calls = []

    def loss(p, b, i, k):
        calls.append(1)
        return 0.0 * p

    with pytest.raises(CheckpointError, match="is a folder"):
        fit_loss(loss, np.zeros(()), (x, y), TrainConfig(batch_size=4), 2, checkpoint=tmp_path, run_config="r",
                 resume=False)
    assert not calls


def test_on_crossbar_refuses_params_of_another_model_and_a_nan_input():
    # the float model refuses them (ScopeParamShapeError); the crossbar read used to run them silently
    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    from cimjax.nn import on_crossbar

    class MLP(nn.Module):
        hidden: int

        @nn.compact
        def __call__(self, x):
            return nn.Dense(1)(nn.relu(nn.Dense(self.hidden)(x)))

    x = jnp.ones((4, 3))
    xbar = on_crossbar(MLP(32), CrossbarConfig.ideal(keep_prob=0.5))
    rngs = {"pbit": jax.random.key(1)}
    with pytest.raises(ConfigError, match=r"kernel shape \(3, 64\) .* needs \(3, 32\)"):
        xbar.apply(MLP(64).init(jax.random.key(0), x), x, rngs=rngs)
    with pytest.raises(ConfigError, match=r"kernel shape \(5, 32\) .* needs \(3, 32\)"):  # was a reshape TypeError
        xbar.apply(MLP(32).init(jax.random.key(0), jnp.ones((4, 5))), x, rngs=rngs)
    with pytest.raises(ConfigError, match="input holds a non-finite value"):
        xbar.apply(MLP(32).init(jax.random.key(0), x), x.at[0, 0].set(jnp.nan), rngs=rngs)

    class Conv(nn.Module):
        @nn.compact
        def __call__(self, x):
            return nn.Conv(4, (3, 3))(x)

    xc = jnp.ones((2, 5, 5, 4))
    params = Conv().init(jax.random.key(0), xc)
    params = jax.tree.map(lambda a: a[..., :2] if a.shape[-1] == 4 else a, params)  # 2 output channels, not 4
    with pytest.raises(ConfigError, match=r"kernel shape \(3, 3, 4, 2\) .* needs \(3, 3, 4, 4\)"):
        on_crossbar(Conv(), CrossbarConfig.ideal(keep_prob=0.5)).apply(params, xc, rngs=rngs)


@pytest.mark.parametrize("kwargs, name", [({"num_samples": 2.5}, "num_samples=2.5"), ({"num_samples": 0}, "num_samples=0"),
                                          ({"chunk": 1.5}, "chunk=1.5"), ({"key": 3}, "key=3")])
def test_mc_predict_refuses_a_fractional_count_or_a_key_that_is_not_one(kwargs, name):
    # num_samples=2.5 ran 2 passes silently; key=3 was a deep JAX TypeError
    import flax.linen as nn

    from cimjax.nn import mc_predict

    model = nn.Dense(2)
    x = jnp.ones((3, 4))
    params = model.init(jax.random.key(0), x)
    args = {"key": jax.random.key(1), "num_samples": 4, **kwargs}
    with pytest.raises(ConfigError, match=name):
        mc_predict(model.apply, params, x, args.pop("key"), args.pop("num_samples"), **args)
