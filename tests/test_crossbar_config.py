"""Bad input fails at construction or before compute, with a message naming the parameter."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import pytest

from cimjax.errors import CimjaxError
from cimjax.crossbar import CrossbarConfig, Mapping, PbitConfig, Periphery, Tile, crossbar_matmul, crossbar_moments

BAD_CONFIGS = [
    (lambda: PbitConfig(mode="refresh", refresh=0), "refresh=0"),
    (lambda: PbitConfig(refresh=-2), "refresh=-2"),
    (lambda: PbitConfig(refresh=1.5), "refresh=1.5"),
    (lambda: PbitConfig(mode="dropout"), "mode='dropout'"),
    (lambda: PbitConfig(keep_prob=1.5), "keep_prob=1.5"),
    (lambda: PbitConfig(keep_prob=-0.1), "keep_prob=-0.1"),
    (lambda: PbitConfig(keep_prob=math.nan), "keep_prob=nan"),
    (lambda: PbitConfig(voltage=-1.0), "voltage=-1.0"),
    (lambda: PbitConfig(width=math.inf), "width=inf"),
    (lambda: Tile(rows=4096), "rows=4096 must be <= 1024"),
    (lambda: Tile(cols=0), "cols=0"),
    (lambda: Mapping(scheme="ternary"), "scheme='ternary'"),
    (lambda: Mapping(bits=0), "bits=0"),
    (lambda: Periphery(dac_bits=17), "dac_bits=17"),
    (lambda: Periphery(adc_range=-1.0), "adc_range=-1.0"),
    (lambda: Periphery(read_noise=math.nan), "read_noise=nan"),
    (lambda: CrossbarConfig(backend="cuda"), "backend='cuda'"),
    (lambda: CrossbarConfig(programming_seed="7"), "programming_seed='7'"),
    (lambda: CrossbarConfig(programming_seed=-1), "programming_seed=-1"),
    (lambda: CrossbarConfig(programming_sigma=math.nan), "programming_sigma=nan"),
    (lambda: CrossbarConfig(stuck_at_zero=2.0), "stuck_at_zero=2.0"),
    (lambda: CrossbarConfig(stuck_at_zero=0.6, stuck_at_one=0.6), "stuck_at_one"),
    (lambda: CrossbarConfig(tile=(64, 64)), "tile="),
]


@pytest.mark.parametrize("build,needle", BAD_CONFIGS, ids=[n for _, n in BAD_CONFIGS])
def test_bad_config_raises_naming_the_parameter(build, needle):
    with pytest.raises(CimjaxError) as err:
        build()
    assert needle in str(err.value)


def test_configs_are_hashable_and_frozen():
    cfg = CrossbarConfig()
    assert hash(cfg) == hash(CrossbarConfig())
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.backend = "xla"


X = jnp.ones((4, 6))
W = jnp.ones((6, 3))
KEY = jax.random.PRNGKey(0)
BAD_CALLS = [
    (dict(x=jnp.ones(6)), "x.shape=(6,)"),
    (dict(x=jnp.ones((4, 5))), "x's N=5 must equal weights' N=6"),
    (dict(x=jnp.ones((4, 6), jnp.int32)), "x.dtype=int32"),
    (dict(weights=jnp.ones((6, 3), jnp.complex64)), "weights.dtype=complex64"),
    (dict(key=0), "key=0"),
    (dict(key=jax.random.split(KEY, 3)), "not a seed or a batch of keys"),
    (dict(keep_prob=jnp.ones((3, 6))), "keep_prob.shape=(3, 6)"),
    (dict(keep_prob=1.2), "keep_prob must be probabilities in [0, 1]"),
    (dict(keep_prob=jnp.full((6, 3), jnp.nan)), "NaN count=18"),
    (dict(sample_index=jnp.arange(5, dtype=jnp.uint32)), "sample_index.shape=(5,)"),
    (dict(sample_index=jnp.zeros(4)), "sample_index.dtype=float32"),
    (dict(config="exact"), "config='exact'"),
    (dict(key=None), "key=None: a read needs one JAX PRNG key"),
    (dict(key=None, config=CrossbarConfig(pbit=PbitConfig(mode="off"))), "key=None: a read needs one JAX PRNG key"),
    (dict(x=jnp.ones((4, 0)), weights=jnp.ones((0, 3))), "weights.shape=(0, 3) is empty"),
    (dict(weights=jnp.ones((6, 0))), "weights.shape=(6, 0) is empty"),
]


@pytest.mark.parametrize("change,needle", BAD_CALLS, ids=[n for _, n in BAD_CALLS])
def test_bad_call_raises_before_compute(change, needle):
    args = {"x": X, "weights": W, "key": KEY, "config": CrossbarConfig(), **change}
    with pytest.raises(CimjaxError) as err:
        crossbar_matmul(args["x"], args["weights"], args["key"], args["config"], keep_prob=args.get("keep_prob"),
                        sample_index=args.get("sample_index"))
    assert needle in str(err.value)


MOMENT_CALLS = [c for c in BAD_CALLS if "key" not in c[0] and "sample_index" not in c[0]]


@pytest.mark.parametrize("change,needle", MOMENT_CALLS, ids=[n for _, n in MOMENT_CALLS])
def test_bad_moments_call_raises_before_compute(change, needle):
    args = {"x": X, "weights": W, "config": CrossbarConfig(), **change}
    with pytest.raises(CimjaxError) as err:
        crossbar_moments(args["x"], args["weights"], args["config"], keep_prob=args.get("keep_prob"))
    assert needle in str(err.value)


def test_pallas_on_cpu_needs_interpret():
    if jax.default_backend() != "cpu":
        pytest.skip("CPU-only check")
    with pytest.raises(CimjaxError, match="interpret=True"):
        crossbar_matmul(X, W, KEY, CrossbarConfig(backend="pallas"))
