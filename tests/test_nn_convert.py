"""Flax models on the crossbar: linen `on_crossbar`, NNX `to_crossbar`, `CrossbarConv`.

Known answers: the float model itself (P-bits off, ideal periphery), `lax.conv_general_dilated`
for the closed-form moments of an exact-mode convolution, and the shape arithmetic of
SAME/VALID convolutions for the op counts.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax import lax
from scipy import stats

from cimjax.crossbar import CrossbarConfig, Mapping, Periphery, Tile, count_read, crossbar_matmul
from cimjax.errors import ConfigError
from cimjax.nn import CrossbarConv, count_conv_read, crossbar_conv, crossbar_sample_index, on_crossbar, record_op_counts
from cimjax.nn import to_crossbar

OFF = CrossbarConfig.ideal(mode="off")
KEEP = 0.3
EXACT = CrossbarConfig.ideal(mode="exact", keep_prob=KEEP)


class StockMLP(nn.Module):
    """A plain linen MLP, written as any flax user would."""

    @nn.compact
    def __call__(self, x):
        x = nn.relu(nn.Dense(32)(x))
        x = nn.relu(nn.Dense(16)(x))
        return nn.Dense(2)(x)


class SmallCNN(nnx.Module):
    """A plain NNX CNN: two convolutions (SAME, then strided VALID) and a linear head."""

    def __init__(self, rngs):
        self.conv1 = nnx.Conv(2, 4, (3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(4, 6, (3, 3), strides=2, padding="VALID", rngs=rngs)
        self.head = nnx.Linear(6, 3, rngs=rngs)

    def __call__(self, x):
        h = nnx.relu(self.conv1(x))
        h = nnx.relu(self.conv2(h))
        return self.head(h.mean(axis=(1, 2)))


def _random_like(tree, seed=0):
    """Normal(0, 0.5) values of the shapes in `tree`, drawn on the host (no compile per shape)."""
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda s: jnp.asarray(0.5 * rng.normal(size=s.shape), s.dtype), tree)


def _linen_params(model, *args):
    key = jax.random.key(0)
    return _random_like(jax.eval_shape(model.init, {"params": key, "pbit": key}, *args))


@pytest.fixture(scope="module")
def cnn():
    model = nnx.eval_shape(lambda: SmallCNN(nnx.Rngs(0)))  # the graph without its initialisers' compiles
    nnx.update(model, _random_like(nnx.state(model, nnx.Param)))
    return model


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)


def test_stock_linen_mlp_on_an_ideal_crossbar_with_pbits_off_is_the_float_model():
    x = jax.random.normal(jax.random.key(0), (7, 5))
    model = StockMLP()
    xbar = on_crossbar(model, OFF)
    # the float model's variables: same tree, same values
    params, same = jax.jit(lambda k, v: (model.init(k, v), xbar.init(k, v)))(jax.random.key(1), x)
    assert jax.tree.structure(same) == jax.tree.structure(params)
    jax.tree.map(np.testing.assert_array_equal, same, params)
    _close(*jax.jit(lambda p, v: (xbar.apply(p, v), model.apply(p, v)))(params, x))
    grads = [jax.grad(lambda p, f=f: jnp.sum(f(p, x) ** 2))(params) for f in (xbar.apply, model.apply)]
    jax.tree.map(_close, *grads)  # trains as the float model does
    counts = xbar.op_counts(params, x)
    assert sorted(counts) == ["Dense_0", "Dense_1", "Dense_2"]
    assert counts["Dense_1"] == count_read(OFF, 7, 32, 16)


def test_small_nnx_cnn_on_an_ideal_crossbar_with_pbits_off_is_the_float_model(cnn):
    x = jax.random.normal(jax.random.key(0), (3, 9, 9, 2))
    model = nnx.clone(cnn)
    xbar = to_crossbar(model, OFF)
    assert type(xbar.conv2).__name__ == "OnCrossbarConv" and type(model.conv2) is nnx.Conv  # original untouched
    _close(xbar(x), model(x))
    float_state, xbar_state = nnx.state(model, nnx.Param), nnx.state(xbar, nnx.Param)
    assert jax.tree.structure(xbar_state) == jax.tree.structure(float_state)
    # weights trained elsewhere load into either model: they then agree again
    trained = jax.tree.map(lambda v: 0.5 - v, float_state)
    nnx.update(xbar, trained)
    nnx.update(model, trained)
    _close(xbar(x), model(x))
    assert not np.allclose(model(x), cnn(x))


@pytest.mark.parametrize("geometry", [
    dict(kernel_size=(3, 3), strides=2, padding="VALID"),
    dict(kernel_size=(2, 3), padding=((1, 0), (2, 1)), kernel_dilation=(2, 1), input_dilation=2),
    dict(kernel_size=(3, 3), padding="CIRCULAR"),
    dict(kernel_size=(3,), padding="CAUSAL"),
])
def test_conv_geometries_with_pbits_off_match_flax(geometry):
    shape = (2, 7, 3) if len(geometry["kernel_size"]) == 1 else (2, 7, 6, 3)
    x = jax.random.normal(jax.random.key(0), shape)
    conv = nn.Conv(4, **geometry)
    layer = CrossbarConv(4, config=OFF, **geometry)  # a drop-in: nn.Conv's parameters
    params = _linen_params(conv, x)
    assert jax.eval_shape(layer.init, jax.random.key(0), x) == jax.eval_shape(conv.init, jax.random.key(0), x)
    window = {k: v for k, v in geometry.items() if k != "kernel_size"}

    def outputs(p, v):
        direct = crossbar_conv(v, p["params"]["kernel"], jax.random.key(0), OFF, **window)
        direct = direct + p["params"]["bias"].reshape((1,) * (direct.ndim - 1) + (-1,))
        return conv.apply(p, v), on_crossbar(conv, OFF).apply(p, v), layer.apply(p, v), direct

    reference, *ours = jax.jit(outputs)(params, x)
    for y in ours:
        _close(y, reference)


def test_dense_general_over_several_axes_is_one_matrix_product():
    x = jax.random.normal(jax.random.key(0), (3, 2, 6, 7))
    general = nn.DenseGeneral((4, 5), axis=(1, -1))
    params = _linen_params(general, x)
    _close(jax.jit(on_crossbar(general, OFF).apply)(params, x), general.apply(params, x))
    linear = nnx.eval_shape(lambda: nnx.LinearGeneral((2, 7), (4, 5), axis=(1, -1), rngs=nnx.Rngs(0)))
    nnx.update(linear, _random_like(nnx.state(linear, nnx.Param)))
    _close(to_crossbar(linear, OFF)(x), linear(x))


def test_a_config_function_leaves_a_layer_digital():
    x = jax.random.normal(jax.random.key(0), (6, 5))
    model = StockMLP()
    params = _linen_params(model, x)["params"]
    binary = CrossbarConfig(mapping=Mapping(scheme="binary"), periphery=Periphery.ideal(),
                            pbit=OFF.pbit)  # sign weights: far from the float product
    xbar = on_crossbar(model, lambda path: None if path == ("Dense_1",) else binary)
    y = jax.jit(xbar.apply)({"params": params}, x)
    key = jax.random.key(0)

    def layer(h, name, on_crossbar):
        w, b = params[name]["kernel"], params[name]["bias"]
        return (crossbar_matmul(h, w, key, binary) if on_crossbar else h @ w) + b[None, :]

    h = jax.nn.relu(layer(x, "Dense_0", True))
    h = jax.nn.relu(layer(h, "Dense_1", False))
    _close(y, layer(h, "Dense_2", True))
    assert sorted(xbar.op_counts({"params": params}, x)) == ["Dense_0", "Dense_2"]
    assert not np.allclose(y, model.apply({"params": params}, x), atol=1e-2)


@pytest.mark.parametrize("rescale", [False, True])
def test_exact_mode_conv_mean_over_reads_matches_the_closed_form(rescale):
    """E[y] = g p conv(x, w), Var[y] = g^2 p (1 - p) conv(x^2, w^2), g = 1/p with rescale else 1."""
    reads = 400
    x1 = jax.random.normal(jax.random.key(0), (1, 6, 6, 2))
    layer = CrossbarConv(3, (3, 3), config=EXACT, use_bias=False, rescale=rescale)
    params = _linen_params(layer, x1)
    w = params["params"]["kernel"]
    # the same sample read `reads` times: one batch, one sample id per read
    y = layer.apply(params, jnp.repeat(x1, reads, axis=0), rngs={"pbit": jax.random.key(3)},
                    sample_index=jnp.arange(reads))
    numbers = lax.conv_dimension_numbers(x1.shape, w.shape, ("NHWC", "HWIO", "NHWC"))

    def conv(a, b):
        return np.asarray(lax.conv_general_dilated(a, b, (1, 1), "SAME", dimension_numbers=numbers,
                                                   precision=lax.Precision.HIGHEST), np.float64)[0]

    gain = 1.0 / KEEP if rescale else 1.0
    mean = gain * KEEP * conv(x1, w)
    var = gain**2 * KEEP * (1 - KEEP) * conv(x1 * x1, w * w)
    y = np.asarray(y, np.float64)
    z = (y.mean(axis=0) - mean) / np.sqrt(var / reads)
    # CLT, Bonferroni over every output: P(any |z| above the bound) <= 1e-3
    assert np.max(np.abs(z)) < stats.norm.ppf(1 - 1e-3 / (2 * z.size))
    # independent masks per (sample, position) and cell: sum s^2 / var ~ chi2(outputs * (R-1)) for normal
    # outputs; a sum of Bernoulli(0.3) cells has negative excess kurtosis (1 - 6pq < 0), so the interval is conservative
    dof = z.size * (reads - 1)
    total = np.sum((reads - 1) * y.var(axis=0, ddof=1) / var)
    assert stats.chi2.ppf(5e-4, dof) < total < stats.chi2.ppf(1 - 5e-4, dof)


def test_exact_mode_sample_output_does_not_depend_on_the_batch():
    x = jnp.ones((5, 5, 5, 1))  # equal inputs: only the sample id tells the samples apart
    conv = nn.Conv(4, (3, 3))
    params = _linen_params(conv, x)
    model = on_crossbar(conv, EXACT)
    apply = jax.jit(lambda p, v, ids: model.apply(p, v, rngs={"pbit": jax.random.key(3)}, sample_index=ids))
    big = apply(params, x, jnp.array([7, 3, 11, 0, 2]))
    small = apply(params, x[:2], jnp.array([11, 5]))
    _close(small[0], big[2])
    assert not np.allclose(big[0], big[1])  # other ids, other masks
    # each (sample, position) draws its own P-bits: interior positions see equal patches but differ
    assert len({tuple(np.round(np.asarray(big[0, i, j]), 5)) for i in range(1, 4) for j in range(1, 4)}) == 9


def test_nnx_reads_take_keys_from_the_rngs_stream_and_sample_ids_from_the_context(cnn):
    x = jax.random.normal(jax.random.key(0), (2, 9, 9, 2))

    @nnx.jit
    def run(m, v, ids):
        with crossbar_sample_index(ids):
            return m(v)

    first = run(to_crossbar(cnn, EXACT, rngs=nnx.Rngs(pbit=5)), x, jnp.array([2, 3]))
    xbar = to_crossbar(cnn, EXACT, rngs=nnx.Rngs(pbit=5))
    swapped = run(xbar, x[::-1], jnp.array([3, 2]))  # same keys, samples swapped with their ids
    _close(swapped[::-1], first)
    assert not np.allclose(run(xbar, x[::-1], jnp.array([3, 2])), swapped)  # the stream moved on: new masks


def test_count_conv_read_is_reads_per_output_position(cnn):
    config = CrossbarConfig(tile=Tile(rows=16, cols=4))
    # SAME, stride 2 on 8 x 8: 4 x 4 positions; VALID, stride 1: 6 x 6
    assert count_conv_read(config, (2, 8, 8, 3), (3, 3, 3, 5), strides=2) == count_read(config, 2 * 16, 27, 5)
    assert count_conv_read(config, (2, 8, 8, 3), (3, 3, 3, 5), padding="VALID") == count_read(config, 2 * 36, 27, 5)
    xbar = to_crossbar(cnn, OFF)
    with record_op_counts() as counts:
        jax.eval_shape(lambda v: xbar(v), jax.ShapeDtypeStruct((3, 9, 9, 2), jnp.float32))
    assert counts["conv2"] == count_conv_read(OFF, (3, 9, 9, 4), (3, 3, 4, 6), strides=2, padding="VALID")


# ----------------------------------------------------------------------------- bad input


class WithEinsum(nn.Module):
    @nn.compact
    def __call__(self, x):
        return nn.Einsum((3, 4), "bi,ij->bj", name="mix")(nn.Dense(3)(x))


def test_a_layer_the_converter_cannot_map_is_named_with_its_path_and_why():
    x = jnp.ones((2, 5))
    params = _linen_params(WithEinsum(), x)
    with pytest.raises(ConfigError, match=r"layer mix \(Einsum\) cannot be mapped to the crossbar: an einsum"):
        on_crossbar(WithEinsum(), OFF).apply(params, x)
    digital = on_crossbar(WithEinsum(), lambda path: None if path == ("mix",) else OFF)
    _close(digital.apply(params, x), WithEinsum().apply(params, x))
    general = nn.DenseGeneral(4, batch_dims=(0,))
    with pytest.raises(ConfigError, match=r"layer layers_0 \(DenseGeneral\).*batch_dims=\(0,\)"):
        on_crossbar(nn.Sequential([general]), OFF).init(jax.random.key(0), jnp.ones((2, 3, 5)))
    with pytest.raises(ConfigError, match=r"layer layers_0 \(Conv\).*feature_group_count=2"):
        on_crossbar(nn.Sequential([nn.Conv(4, (3, 3), feature_group_count=2)]), OFF).init(
            jax.random.key(0), jnp.ones((1, 5, 5, 2)))
    with pytest.raises(ConfigError, match=r"layer layers_0: padding='FULL' is not one of"):
        nn.Sequential([CrossbarConv(4, (3, 3), config=OFF, padding="FULL")]).init(
            jax.random.key(0), jnp.ones((1, 5, 5, 2)))


def test_nnx_bad_layers_fail_at_conversion(cnn):
    class Mixer(nnx.Module):
        def __init__(self, rngs):
            self.blocks = nnx.List([nnx.Linear(3, 3, rngs=rngs), nnx.Einsum("bi,ij->bj", (3, 3), rngs=rngs)])

    with pytest.raises(ConfigError, match=r"layer blocks/1 \(Einsum\) cannot be mapped"):
        to_crossbar(Mixer(nnx.Rngs(0)), OFF)
    with pytest.raises(ConfigError, match=r"layer conv1: P-bit mode 'exact' needs keys"):
        to_crossbar(cnn, EXACT)


def test_a_conv_beyond_one_tile_without_tiling_or_beyond_the_hash_is_refused_before_compute():
    x = jax.ShapeDtypeStruct((1, 4, 4, 128), jnp.float32)
    conv = nn.Sequential([nn.Conv(8, (3, 3))])
    with pytest.raises(ConfigError, match=r"layer layers_0: kernel \(3, 3, 128, 8\) \(kh\*kw\*C_in = 3\*3\*128 = 1152 "
                                          r"rows, C_out = 8\) needs a 1152 x 8 array, larger than one 256 x 256 tile"):
        jax.eval_shape(lambda v: on_crossbar(conv, OFF, tiling=False).init(jax.random.key(0), v), x)
    jax.eval_shape(lambda v: on_crossbar(conv, OFF).init(jax.random.key(0), v), x)  # tiled: fine
    # 18432 rows x 2048 columns x 4 slices x (72 row tiles + 1) > 2^32 hash counters (shapes only, no memory)
    sliced = CrossbarConfig(mapping=Mapping(scheme="bitslice", bits=4), pbit=OFF.pbit)
    wide = nn.Sequential([nn.Conv(2048, (3, 3))])
    with pytest.raises(ConfigError, match=r"3\*3\*2048 = 18432 rows.*exceed the 2\^32 counter space"):
        jax.eval_shape(lambda v: on_crossbar(wide, sliced).init(jax.random.key(0), v),
                       jax.ShapeDtypeStruct((1, 4, 4, 2048), jnp.float32))


def test_sample_ids_that_would_collide_or_do_not_fit_the_batch_are_refused():
    x = jnp.ones((2, 6, 6, 1))
    layer = CrossbarConv(2, (3, 3), config=EXACT)
    params = _linen_params(layer, x)
    rngs = {"pbit": jax.random.key(1)}
    with pytest.raises(ConfigError, match=r"sample ids 0\.\.119304647 with 36 reads per sample reach id 4294967327"):
        layer.apply(params, x, rngs=rngs, sample_index=np.array([0, 2**32 // 36], np.uint32))
    with pytest.raises(ConfigError, match=r"sample_index.shape=\(3,\) must be \(2,\)"):
        layer.apply(params, x, rngs=rngs, sample_index=jnp.arange(3))
    with pytest.raises(ConfigError, match=r"needs rngs=\{'pbit': key\}"):
        layer.apply(params, x)
