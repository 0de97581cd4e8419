"""Issue 12's native in-situ acceptance at a reduced size (fixed seeds) on the default non-ideal crossbar.

The demo's default models (VAE, classifier, score net and the native fine-tuning at full
length) with 50 reverse steps instead of 100, the noise-row stages cut short (not under
test) and n = 2000 images per set instead of 4000, on the default hardware: bit-sliced
3-state pairs, the device's programming variation and read noise, P_sw spread. The native
net's column offsets are calibrated per step (`cimjax.sde.calibrate_offsets`), as in the demo.
The full-size run is `test_demo_pipeline.py::test_demo_acceptance` (slow) and the README.

Why this size (measured with this configuration, seeds 0, 1, 2): at n = 500 the Frechet
distance's small-n bias put the native sampler above a third of the prior's at every seed
(2.57, 2.58, 2.84 against bounds 2.25, 2.54, 2.79; ex-situ 2.95, 2.43, 2.98); at n = 2000 every
bound held (native 1.87, 1.37, 2.01 against 2.29, 2.13, 2.06; MMD^2 0.59, 0.56, 0.80e-3 against
0.82, 0.85, 0.86e-3; weight-cell share 0.950, 0.950, 0.922). The demo's quick configuration
(a quarter of the VAE, classifier and score-net training) missed with ex-situ itself: at
n = 2000, seed 0, ex-situ MMD^2 1.79e-3 against a bound of 1.02e-3.
"""

import numpy as np
import pytest

from cimjax.apps.diffusion import DemoConfig, frechet_distance, generate, median_bandwidth, mmd_rbf, prepare_models
from cimjax.apps.diffusion import transition_errors

N_EVAL = 2000  # images per set (the demo: 4000)


@pytest.fixture(scope="module")
def native(tmp_path_factory):
    cfg = DemoConfig(n_steps=50, insitu_steps=100)
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


def test_native_samples_are_below_a_third_of_the_decoded_priors_distance(native):
    _, q = native
    assert q["in_situ"]["frechet"] < q["prior"]["frechet"] / 3, q
    assert q["in_situ"]["mmd2"] < q["prior"]["mmd2"] / 3, q
