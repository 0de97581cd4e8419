"""P-bit bitstreams: reset mode is i.i.d. Bernoulli(p), toggle mode a Markov chain with lag-1 autocorrelation 1 - 2p."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from cimjax.device import pbit_bitstream

P = np.array([0.1, 0.3, 0.5, 0.8], np.float32)
N = 100_000
# Bonferroni over the 4 probabilities x 2 modes: family-wise false-failure rate 1e-3.
Z = stats.norm.ppf(1 - 1e-3 / (2 * 2 * len(P)))


def _lag1(bits):
    """Sample lag-1 autocorrelation of each row."""
    x = bits.astype(np.float64)
    x = x - x.mean(axis=-1, keepdims=True)
    return (x[:, :-1] * x[:, 1:]).sum(axis=-1) / (x * x).sum(axis=-1)


@pytest.fixture(scope="module")
def streams():
    key_r, key_t = jax.random.split(jax.random.PRNGKey(2024))
    return {m: np.asarray(pbit_bitstream(k, jnp.asarray(P), N, mode=m)) for m, k in (("reset", key_r), ("toggle", key_t))}


def test_shape_dtype_and_determinism(streams):
    bits = streams["reset"]
    assert bits.shape == (len(P), N) and bits.dtype == np.uint8
    assert set(np.unique(bits)) <= {0, 1}
    again = pbit_bitstream(jax.random.split(jax.random.PRNGKey(2024))[0], jnp.asarray(P), N, mode="reset")
    np.testing.assert_array_equal(np.asarray(again), bits)


def test_reset_mode_mean_is_p(streams):
    mean = streams["reset"].mean(axis=-1)
    assert np.all(np.abs(mean - P) <= Z * np.sqrt(P * (1 - P) / N))


def test_reset_mode_is_uncorrelated(streams):
    # i.i.d. bits: the lag-1 sample autocorrelation is N(0, 1/n) asymptotically (CLT).
    assert np.all(np.abs(_lag1(streams["reset"])) <= Z / np.sqrt(N))


def test_toggle_mode_lag1_autocorrelation_is_1_minus_2p(streams):
    # Two-state Markov chain flipping with probability p is AR(1) with rho = 1 - 2p; Bartlett:
    # the lag-1 sample autocorrelation is N(rho, (1 - rho^2) / n) asymptotically.
    rho = 1.0 - 2.0 * P.astype(np.float64)
    r1 = _lag1(streams["toggle"])
    assert np.all(np.abs(r1 - rho) <= Z * np.sqrt((1.0 - rho**2) / N))


def test_toggle_mode_flips_match_bernoulli_and_initial_state():
    # Differences of consecutive toggle states are the flips; the first state is initial XOR flip.
    p = jnp.float32(0.25)
    bits = np.asarray(pbit_bitstream(jax.random.PRNGKey(9), p, 1000, mode="toggle", initial_state=1))
    flips = np.abs(np.diff(np.concatenate([[1], bits]).astype(int)))
    u24 = np.asarray(jax.random.bits(jax.random.PRNGKey(9), (1000,), jnp.uint32)) >> 8
    np.testing.assert_array_equal(flips, (u24 < 0.25 * 2**24).astype(int))
