"""Data loading, bad MNIST files, quality metrics against closed forms, checkpoints of other configs."""

import gzip
import warnings

import jax.numpy as jnp
import numpy as np
import pytest

from cimjax.errors import CheckpointError, CimjaxError
from cimjax.apps import diffusion as M
from cimjax.nn import TrainConfig, fit_loss
from cimjax.apps.diffusion import DemoConfig, stage_config
from cimjax.apps.diffusion import load_digits_split, load_idx, load_mnist


def test_digits_split_is_fixed_and_scaled():
    a, b = load_digits_split(seed=0), load_digits_split(seed=0)
    assert a.x_train.shape == (1438, 64) and a.x_test.shape == (359, 64)
    assert a.x_train.min() >= 0.0 and a.x_train.max() <= 1.0
    np.testing.assert_array_equal(a.x_test, b.x_test)


def _idx(images: np.ndarray, magic: int = 2051) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
    return header + images.astype(np.uint8).tobytes()


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    imgs = np.random.default_rng(0).integers(0, 256, (5, 28, 28))
    labels = np.arange(5)
    for name, blob in (("train-images-idx3-ubyte", _idx(imgs)), ("t10k-images-idx3-ubyte", _idx(imgs)),
                       ("train-labels-idx1-ubyte", _idx(labels, 2049)), ("t10k-labels-idx1-ubyte", _idx(labels, 2049))):
        path = tmp_path / (name + (".gz" if gz else ""))
        path.write_bytes(gzip.compress(blob) if gz else blob)
    data = load_mnist(tmp_path)
    assert data.x_train.shape == (5, 784) and data.side == 28
    np.testing.assert_allclose(data.x_train * 255, imgs.reshape(5, -1), atol=1e-3)


def test_idx_wrong_magic_and_shape_name_the_file(tmp_path):
    bad = tmp_path / "bad-idx"
    bad.write_bytes(_idx(np.zeros((2, 28, 28)), magic=2049))
    with pytest.raises(CimjaxError, match="bad-idx.*magic number 2049"):
        load_idx(bad, expect_images=True)
    small = tmp_path / "small-idx"
    small.write_bytes(_idx(np.zeros((2, 8, 8))))
    with pytest.raises(CimjaxError, match=r"small-idx.*\(8, 8\), expected \(28, 28\)"):
        load_idx(small, expect_images=True)


def test_npz_missing_arrays(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, x_train=np.zeros((2, 28, 28)))
    with pytest.raises(CimjaxError, match="m.npz.*missing"):
        load_mnist(path)


def test_mmd_and_sliced_wasserstein_closed_forms():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 3)), rng.normal(size=(400, 3))
    shift = np.array([3.0, 0.0, 4.0])
    assert abs(M.mmd_rbf(a, b)) < 0.02 < M.mmd_rbf(a, b + shift)
    # a translated copy: W2 along direction u is |c . u|, and E[(c . u)^2] = |c|^2 / D for uniform u
    sw = M.sliced_wasserstein(a, a + shift, n_projections=4000)
    assert sw == pytest.approx(np.linalg.norm(shift) / np.sqrt(3), rel=0.05)


def test_frechet_distance_of_gaussians():
    # FD between N(m1, s1^2 I) and N(m2, s2^2 I) in D dims is |m1 - m2|^2 + D (s1 - s2)^2 (Dowson & Landau 1982)
    rng = np.random.default_rng(1)
    n, d = 200_000, 2
    a = rng.normal(0.0, 1.0, (n, d))
    b = rng.normal(1.0, 2.0, (n, d))
    assert M.frechet_distance(a, b) == pytest.approx(d * 1.0 + d * 1.0, rel=0.03)


def test_frechet_distance_with_singular_covariance():
    # a dead feature (constant column, as ReLU features often have) makes both covariances
    # singular; the closed form above still holds on the live features: D (s1 - s2)^2
    rng = np.random.default_rng(2)
    n = 100_000
    a = np.column_stack([rng.normal(0.0, 1.0, (n, 2)), np.zeros(n)])
    b = np.column_stack([rng.normal(0.0, 3.0, (n, 2)), np.zeros(n)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fd = M.frechet_distance(a, b)
    assert fd == pytest.approx(2 * (3.0 - 1.0) ** 2, rel=0.03)


def test_histogram_and_nearest_neighbour():
    np.testing.assert_allclose(M.label_histogram(np.array([0, 0, 3]), 4), [2 / 3, 0, 0, 1 / 3])
    train = np.array([[0.0, 0.0], [10.0, 0.0]])
    assert M.nn_distance(np.array([[3.0, 4.0], [10.0, 1.0]]), train) == pytest.approx(3.0)


def test_checkpoint_of_another_config_names_the_difference(tmp_path):
    # a demo stage's cache file is nn's checkpoint fingerprinted with the stage's configuration
    cfg = DemoConfig.quick()
    path = tmp_path / "score.msgpack"
    data, config = np.arange(4.0)[:, None], TrainConfig(batch_size=2, grad_clip=None)

    def run(demo, steps):
        return fit_loss(lambda w, b, i, k: jnp.sum(jnp.square(b - w)), jnp.zeros((1, 1)), data, config, steps,
                        checkpoint=path, run_config=stage_config(demo, "score"))

    first, _ = run(cfg, 2)
    loaded, losses = run(cfg, 2)  # finished: loaded, no step taken
    assert losses.size == 0 and int(loaded.step) == 2
    np.testing.assert_array_equal(loaded.params, first.params)
    resumed, losses = run(cfg, 3)  # an interrupted stage continues from its step
    assert losses.size == 1 and int(resumed.step) == 3
    with pytest.raises(CheckpointError, match="score_steps: checkpoint has 2000, this run has 7"):
        run(DemoConfig.quick(score_steps=7), 3)


def test_bad_config():
    with pytest.raises(CimjaxError, match="keep_prob"):
        DemoConfig(keep_prob=1.5)
    with pytest.raises(CimjaxError, match="n_steps"):
        DemoConfig(n_steps=0)
    for bad in (-1.0, float("nan")):
        for name in ("native_skew_weight", "native_var_weight"):
            with pytest.raises(CimjaxError, match=name):
                DemoConfig(**{name: bad})


def test_resampled_metrics_equal_the_direct_metrics_of_the_resampled_set():
    # the vectorised bootstrap evaluates each resample as draw counts; each must equal the
    # plain metric of np.repeat(images, counts) (and all ones = the set itself)
    rng = np.random.default_rng(5)
    a, ref = rng.normal(size=(120, 6)), rng.normal(size=(150, 6)) + 0.3
    fa, fr = rng.normal(size=(120, 4)), rng.normal(size=(150, 4)) + 0.2
    h = M.median_bandwidth(a, ref)
    w = np.concatenate([np.ones((1, 120), int), rng.multinomial(120, np.full(120, 1 / 120), size=3)])
    got = M.resampled_metrics(a, ref, fa, fr, h, w, n_projections=64, seed=1)
    for k, counts in enumerate(w):
        i = np.repeat(np.arange(120), counts)
        assert got["frechet"][k] == pytest.approx(M.frechet_distance(fa[i], fr), rel=1e-9)
        assert got["mmd2"][k] == pytest.approx(M.mmd_rbf(a[i], ref, h), rel=1e-9, abs=1e-12)
        assert got["sliced_w2"][k] == pytest.approx(M.sliced_wasserstein(a[i], ref, n_projections=64, seed=1),
                                                    rel=1e-9)
        assert got["kid"][k] == pytest.approx(M.kernel_inception_distance(fa[i], fr), rel=1e-9, abs=1e-12)


def test_kid_is_the_unbiased_mmd_of_the_cubic_kernel():
    # by hand, F = 1: k(x, y) = (x y + 1)^3; within {0, 1}: k(0, 1) = 1; within {0, 2}: 1;
    # across: k(0, 0) = k(0, 2) = k(1, 0) = 1, k(1, 2) = 27 -> mean 7.5; KID = 1 + 1 - 2 * 7.5
    assert M.kernel_inception_distance(np.array([[0.0], [1.0]]), np.array([[0.0], [2.0]])) == pytest.approx(-13.0)
    # against a plain double loop over distinct pairs (Binkowski et al. 2018, eq. of the U-statistic)
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(7, 3)), rng.normal(size=(5, 3)) + 0.5
    k = lambda x, y: (x @ y / 3 + 1.0) ** 3  # noqa: E731
    aa = sum(k(a[i], a[j]) for i in range(7) for j in range(7) if i != j) / (7 * 6)
    bb = sum(k(b[i], b[j]) for i in range(5) for j in range(5) if i != j) / (5 * 4)
    ab = sum(k(x, y) for x in a for y in b) / 35
    assert M.kernel_inception_distance(a, b) == pytest.approx(aa + bb - 2 * ab, rel=1e-12)


def test_bootstrap_interval_of_a_mean_shift_covers_the_clt_spread():
    # Frechet distance of N(d, I) samples against a huge N(0, I) reference in 1-D: the estimate
    # is ~ (mean - 0)^2 + (s - 1)^2, whose spread at n is dominated by 2 d sd(mean) = 2 d / sqrt(n);
    # the 95% interval's width should be ~ 2 * 1.96 * 2d / sqrt(n) (CLT), within 25%
    rng = np.random.default_rng(6)
    n, d = 800, 1.0
    a, ref = rng.normal(d, 1.0, (n, 1)), rng.normal(0.0, 1.0, (20_000, 1))
    ci = M.bootstrap_intervals(a, ref[:400], a, ref, 1.0, n_boot=300, seed=0)
    width = ci["frechet_ci"][1] - ci["frechet_ci"][0]
    assert width == pytest.approx(2 * 1.96 * 2 * d / np.sqrt(n), rel=0.25)
    fd = float(np.sum((a.mean(0) - ref.mean(0)) ** 2) + (a.std(ddof=1) - ref.std(ddof=1)) ** 2)  # 1-D closed form
    assert ci["frechet_ci"][0] < fd < ci["frechet_ci"][1]
    assert ci == M.bootstrap_intervals(a, ref[:400], a, ref, 1.0, n_boot=300, seed=0)  # seeded


def test_real_floor_is_drawn_at_n_and_disjoint_from_its_reference():
    from cimjax.apps.diffusion import real_floor

    train, test = np.arange(30.0)[:, None], np.arange(30.0, 40.0)[:, None]
    real, ref = real_floor(train, test, 25, seed=0)
    assert len(real) == 25 and len(ref) == 15
    assert not set(real[:, 0]) & set(ref[:, 0])
    assert sorted(np.concatenate([real, ref])[:, 0]) == list(range(40))
    assert len(real_floor(train, test, 100, seed=0)[0]) == 30  # at most 3/4 of the pool: a quarter remains as reference
