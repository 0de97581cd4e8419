"""Bad input to cimjax.nn's training, losses, checkpoints and converter: a ConfigError or
CheckpointError naming the parameter, before any compute."""

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
