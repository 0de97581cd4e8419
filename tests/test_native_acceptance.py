"""Issue 12's native in-situ acceptance at a reduced size (fixed seeds) on the default non-ideal crossbar.

The demo's quick configuration (a quarter of the training, 50 reverse steps; the native
net's fine-tuning at its full length) with the
default hardware: bit-sliced 3-state pairs, the device's programming variation and read
noise, P_sw spread. The noise-row variants are not under test (their stages run short).
The full-size run is `test_demo_pipeline.py::test_demo_acceptance` (slow) and the README.
The native net's column offsets are calibrated per step (`cimjax.sde.calibrate_offsets`), as
in the demo.
"""

import numpy as np
import pytest

from cimjax.apps.diffusion import DemoConfig, frechet_distance, generate, median_bandwidth, mmd_rbf, prepare_models
from cimjax.apps.diffusion import transition_errors

N_EVAL = 500  # the quick configuration's n_eval


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    cfg = DemoConfig.quick(insitu_steps=100, native_steps=DemoConfig.native_steps)
    models = prepare_models(cfg, tmp_path_factory.mktemp("cache"), progress=False)
    trans = transition_errors(models, "in_situ", every=5)
    ref = models.data.x_train
    ref_features = models.features(ref)
    bandwidth = median_bandwidth(models.data.x_test, ref)
    quality = {}
    for name in ("ex_situ", "in_situ", "prior"):
        images = models.decode(generate(models, name, N_EVAL, seed=cfg.seed, progress=False))
        quality[name] = {"frechet": frechet_distance(models.features(images), ref_features),
                         "mmd2": mmd_rbf(images, ref, bandwidth)}
    return trans, quality


def test_native_transition_is_the_ex_situ_one_from_its_own_pbits(native):
    trans, _ = native
    assert trans["pbit_variance_share_avg"] >= 0.9, trans["pbit_variance_share"]
    assert trans["mean_rel_err_avg"] < 0.10, trans["mean_rel_err"]
    assert trans["std_rel_err_avg"] < 0.10, trans["std_rel_err"]


def test_native_samples_are_within_one_and_a_half_times_ex_situs_frechet(native):
    _, q = native
    assert q["in_situ"]["frechet"] < 1.5 * q["ex_situ"]["frechet"], q
    assert np.isfinite(q["in_situ"]["mmd2"])


@pytest.mark.xfail(strict=True, reason="measured at this size (quick, seed 0, n=500): prior Frechet 5.35, so the "
                   "bound is 1.78; the ex-situ sampler itself scores 2.66 (seeds 1, 2: 3.26, 2.83; an ideal-crossbar "
                   "ex-situ 2.84): the reduced training of the score net, not the native sampler, misses it")
def test_native_samples_are_below_a_third_of_the_decoded_priors_distance(native):
    _, q = native
    assert q["in_situ"]["frechet"] < q["prior"]["frechet"] / 3, q
    assert q["in_situ"]["mmd2"] < q["prior"]["mmd2"] / 3, q
