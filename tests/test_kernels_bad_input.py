"""Bad input to cimjax.kernels' public reads: a ConfigError naming the argument, before any compute."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cimjax.errors import ConfigError
from cimjax.kernels import (BlockSizes, keep_threshold, pair_keys, pbit_matmul, pbit_matmul_pallas,
                            pbit_matmul_refresh, sample_words, seed_words)

B, N, M = 4, 6, 5


def _args():
    seed = seed_words(jax.random.key(0))
    return (jnp.ones((B, N), jnp.float32), jnp.ones((N, M), jnp.float32), keep_threshold(jnp.full((N, M), 0.5)),
            sample_words(seed, jnp.arange(B, dtype=jnp.uint32)), pair_keys(seed, N, M), seed)


@pytest.mark.parametrize("p", [1.5, -0.2, float("nan")])
def test_keep_threshold_refuses_a_probability_outside_0_1(p):
    # used to clip silently (1.5 kept every cell, NaN none)
    with pytest.raises(ConfigError, match="not a probability"):
        keep_threshold(p)


def test_pbit_matmul_refuses_bad_block_sizes_lists_and_thresholds_above_one():
    x, w, th, sk, pk, _ = _args()
    with pytest.raises(ConfigError, match="block_sizes"):
        pbit_matmul(x, w, th, sk, pk, backend="xla", block_sizes=(16, 16))  # was AttributeError
    with pytest.raises(ConfigError, match="x=list"):
        pbit_matmul(x.tolist(), w, th, sk, pk, backend="xla")
    with pytest.raises(ConfigError, match="threshold holds"):
        pbit_matmul(x, w, jnp.full((N, M), 2**20, jnp.uint32), sk, pk, backend="xla")


def test_pbit_matmul_pallas_checks_its_arguments_like_pbit_matmul():
    x, w, th, sk, pk, _ = _args()
    if jax.default_backend() == "cpu":
        with pytest.raises(ConfigError, match="interpret=True"):  # was Pallas's own ValueError
            pbit_matmul_pallas(x, w, th, sk, pk, block_sizes=BlockSizes())
    with pytest.raises(ConfigError, match="w.shape"):  # was a reshape TypeError
        pbit_matmul_pallas(x, w[:5], th, sk, pk, block_sizes=BlockSizes(), interpret=True)
    with pytest.raises(ConfigError, match="block_sizes"):
        pbit_matmul_pallas(x, w, th, sk, pk, block_sizes={"block_b": 8}, interpret=True)


def test_pbit_matmul_refresh_refuses_bad_refresh_shapes_and_float_thresholds():
    x, w, th, _, pk, seed = _args()
    with pytest.raises(ConfigError, match="refresh=0"):  # was ZeroDivisionError
        pbit_matmul_refresh(x, w, th, seed, pk, 0)
    with pytest.raises(ConfigError, match="w.shape"):
        pbit_matmul_refresh(x, w[:5], th, seed, pk, 2)
    with pytest.raises(ConfigError, match="threshold"):  # float p compared with uint32 uniforms: all dropped
        pbit_matmul_refresh(x, w, jnp.full((N, M), 0.5), seed, pk, 2)


def test_moment_weights_and_gaussian_read_refuse_shapes_that_would_broadcast():
    # p of shape (N, M, 1) against S = 4 slices broadcast silently; a short sample_index was a TypeError
    from cimjax.kernels import gaussian_read, moment_weights

    cells = jnp.ones((3, 2, 4))
    with pytest.raises(ConfigError, match="moment_weights"):
        moment_weights(cells, jnp.full((3, 2, 1), 0.5), jnp.ones(4))
    with pytest.raises(ConfigError, match="moment_weights"):
        moment_weights(cells, jnp.full((3, 2, 4), 0.5), jnp.ones(3))
    seed = jnp.zeros((6,), jnp.uint32)
    with pytest.raises(ConfigError, match="gaussian_read"):
        gaussian_read(jnp.zeros((5, 2)), jnp.ones((5, 2)), seed, jnp.arange(4, dtype=jnp.uint32))
    with pytest.raises(ConfigError, match="gaussian_read"):
        gaussian_read(jnp.zeros((5, 2)), jnp.ones((5, 1)), seed, jnp.arange(5, dtype=jnp.uint32))
