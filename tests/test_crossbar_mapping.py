"""Weight mapping, straight-through gradients, programming variation and faults."""

import jax
import jax.numpy as jnp
import numpy as np

from cimjax.crossbar import CrossbarConfig, Mapping, effective_weights, map_weights, program_cells


def test_binary_and_bitslice_levels():
    w = jnp.asarray([[-0.9, 0.2], [0.05, 0.7]])
    mapw = jax.jit(map_weights, static_argnums=1)
    b = mapw(w, Mapping("binary"))
    np.testing.assert_array_equal(np.asarray(b.cells), [[-1, 1], [1, 1]])
    np.testing.assert_allclose(float(b.scale), np.mean(np.abs(np.asarray(w))), rtol=1e-6)
    s = mapw(w, Mapping("bitslice", bits=3))
    cells = np.asarray(s.cells).reshape(2, 2, 3)
    assert set(np.unique(cells)) <= {-1.0, 0.0, 1.0}  # Fig. 9: three pair states
    # -0.9 is the largest magnitude: all 3 bits set (7 = 0b111), sign negative.
    np.testing.assert_array_equal(cells[0, 0], [-1, -1, -1])
    # 0.7 / (0.9 / 7) = 5.44 -> 5 = 0b101 (bits listed least significant first).
    np.testing.assert_array_equal(cells[1, 1], [1, 0, 1])


def test_straight_through_gradient_is_identity():
    w = jax.random.normal(jax.random.PRNGKey(0), (5, 4))
    g = jax.random.normal(jax.random.PRNGKey(1), (5, 4))
    for scheme in ("analog", "binary", "bitslice"):
        cfg = CrossbarConfig(mapping=Mapping(scheme, bits=4), programming_sigma=0.0)  # the mapping alone
        grad = jax.jit(jax.grad(lambda w: jnp.sum(g * effective_weights(w, cfg))))(w)
        np.testing.assert_allclose(np.asarray(grad), np.asarray(g), rtol=1e-5, atol=1e-6)


def test_programming_variation_and_faults_follow_their_rates():
    shape = (400, 500)
    cells = jnp.ones(shape)
    sigma = 0.1
    program = jax.jit(program_cells, static_argnums=1)
    varied = np.asarray(program(cells, CrossbarConfig(programming_sigma=sigma, programming_seed=3)), np.float64)
    n = varied.size
    # Sample std of n normals: standard error sigma / sqrt(2 n).
    assert abs(varied.std() - sigma) < 5 * sigma / np.sqrt(2 * n)
    np.testing.assert_array_equal(varied, np.asarray(program(cells, CrossbarConfig(programming_sigma=sigma,
                                                                                   programming_seed=3))))
    faulty = np.asarray(program(cells * 0.5, CrossbarConfig(stuck_at_zero=0.02, stuck_at_one=0.05)))
    for value, rate in ((0.0, 0.02), (None, 0.05)):
        count = np.sum(faulty == value) if value is not None else np.sum(np.abs(faulty) == 1.0)
        assert abs(count - n * rate) < 5 * np.sqrt(n * rate * (1 - rate))
