"""Bad input to cimjax.sde: SDE parameters, steps, the sampler and the native net's training,
refused with a ConfigError naming the parameter before any compute."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cimjax.errors import ConfigError
from cimjax.sde import VESDE, VPSDE, ExSituStep, InSituStep, StandardNormal, SubVPSDE, sample_reverse


@pytest.mark.parametrize("make, name", [
    (lambda: VPSDE(beta_max=float("inf")), "beta_max=inf"), (lambda: VPSDE(T=float("inf")), "T=inf"),
    (lambda: SubVPSDE(beta_min="0.1"), "beta_min='0.1'"), (lambda: VESDE(sigma_max=float("inf")), "sigma_max=inf"),
    (lambda: StandardNormal(bits_per_gaussian=-3), "bits_per_gaussian=-3"),
])
def test_non_finite_or_non_numeric_parameters_are_refused(make, name):
    # VPSDE(T=inf) gave the grid [inf, inf, eps]; VESDE(sigma_max=inf) an infinite prior
    with pytest.raises(ConfigError, match=name):
        make()


def _sample(step, sde=None, dim=3):
    return sample_reverse(step, {}, sde or VPSDE(), n_steps=2, dim=dim, seed=0, count=4)


def test_a_step_network_of_the_wrong_width_is_refused_not_broadcast():
    sde = VPSDE()
    # (B, 1) outputs used to broadcast over the D = 3 coordinates and sample silently
    with pytest.raises(ConfigError, match=r"InSituStep: net_fn returned shape \(1, 1\)"):
        _sample(InSituStep(sde, lambda p, x, t, dt, k, i: jnp.zeros((x.shape[0], 1))))
    with pytest.raises(ConfigError, match=r"ExSituStep: score_fn returned shape \(1, 1\)"):
        _sample(ExSituStep(sde, lambda p, x, t, i, read_key=None: jnp.zeros((x.shape[0], 1))))


def test_a_step_that_changes_the_state_shape_or_dtype_is_named_before_compiling():
    class Narrow:
        def __call__(self, p, x, t, dt, rand):
            return x[:, :2]

    class Half:
        def __call__(self, p, x, t, dt, rand):
            return x.astype(jnp.bfloat16)

    with pytest.raises(ConfigError, match=r"the step returned \(1, 2\)"):
        _sample(Narrow())
    with pytest.raises(ConfigError, match="bfloat16"):
        _sample(Half())
    with pytest.raises(ConfigError, match="step=3"):
        _sample(3)


def test_steps_refuse_bad_parts_and_another_sde():
    score = lambda p, x, t, i, read_key=None: -x  # noqa: E731
    with pytest.raises(ConfigError, match="noise=None"):
        ExSituStep(VPSDE(), score, noise=None)
    with pytest.raises(ConfigError, match="sde='vp'"):
        ExSituStep("vp", score)
    with pytest.raises(ConfigError, match="net_fn"):
        InSituStep(VPSDE(), None)
    # a VE step sampled on a VP grid and prior ran silently
    with pytest.raises(ConfigError, match="built on VESDE"):
        _sample(ExSituStep(VESDE(), score), VPSDE())


def _native():
    from cimjax.sde import CrossbarEpsNet, EpsScore, NativeInSituNet

    sde = VPSDE()
    net = CrossbarEpsNet(3, 16, 1, t_dim=8, dac_bits=None, adc_bits=None)
    sp = net.init(jax.random.key(0), jnp.zeros((1, 3)), jnp.zeros((1,)))
    return net, sp, ExSituStep(sde, EpsScore(net, sde)), NativeInSituNet(net, sde, (1.0,))


def test_native_training_refuses_bad_latents_times_and_another_sde():
    from cimjax.nn import TrainConfig
    from cimjax.sde import EpsScore, NativeInSituNet, train_native

    net, sp, teacher, native = _native()
    lat = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    cfg = TrainConfig(batch_size=8)
    cases = [
        ({"latents": lat, "times": 0}, "times=0"),  # was ZeroDivisionError
        ({"latents": lat, "times": -4}, "times=-4"),  # was a reshape TypeError
        ({"latents": lat[:, :2]}, r"latents.shape=\(32, 2\) must be \(n, 3\)"),  # named "input width 10 != 11"
        ({"latents": lat[:, 0]}, r"latents.shape=\(32,\)"),
        ({"latents": np.where(lat > 2, np.nan, lat)}, "non-finite"),
    ]
    for kwargs, match in cases:
        kwargs = dict(kwargs)
        with pytest.raises(ConfigError, match=match):
            train_native(native, teacher, sp, kwargs.pop("latents"), cfg, 1, n_steps=5, **kwargs)
    ve_teacher = ExSituStep(VESDE(), EpsScore(net, VESDE()))  # trained silently on the teacher's SDE
    with pytest.raises(ConfigError, match="differs from the net's"):
        train_native(native, ve_teacher, sp, lat, cfg, 1, n_steps=5)


def test_calibrate_offsets_refuses_bad_latents_and_key():
    from cimjax.sde import calibrate_offsets, init_native_params

    net, sp, teacher, native = _native()
    lat = np.random.default_rng(0).normal(size=(32, 3)).astype(np.float32)
    params = init_native_params(sp, 8)
    for latents, key, match in ((lat[:, :2], jax.random.key(1), r"latents.shape=\(32, 2\)"),
                                (np.where(lat > 2, np.nan, lat), jax.random.key(1), "non-finite"),
                                (lat, 1, "key=1")):
        with pytest.raises(ConfigError, match=match):
            calibrate_offsets(native, teacher, sp, params, latents, n_steps=2, key=key, states=4, reads=1)
