"""The demo's crossbar networks: same weights in both samplers, in-situ mean = ex-situ drift, op counts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from cimjax.apps.diffusion import cost_table, image_counts
from cimjax.sde import (VPSDE, CrossbarEpsNet, EpsScore, ExSituStep, InSituCrossbarNet, crossbar_layer_shapes,
                        init_noise_params, repeat_passes, transition_targets)


def _nets(dac_bits=None, adc_bits=None):
    sde = VPSDE()
    net = CrossbarEpsNet(3, 32, 2, t_dim=8, dac_bits=dac_bits, adc_bits=adc_bits)
    sp = net.init(jax.random.key(0), jnp.zeros((1, 3)), jnp.zeros((1,)))
    ins = InSituCrossbarNet(net, sde, noise_rows=4)
    ip = {"score": sp, "noise": init_noise_params(jax.random.key(1), 4, 3, 8)}
    return sde, net, sp, ins, ip


def test_in_situ_pass_averages_to_the_ex_situ_drift():
    # Ideal periphery: E[read] over the P-bits is h @ [W; A; -A] * p / p = h @ W, so the in-situ
    # differential's mean is the ex-situ mean increment exactly; check within a CLT bound (5 sigma).
    sde, net, sp, ins, ip = _nets()
    kernel, bias = ins.out_kernel(ip)
    np.testing.assert_array_equal(kernel[:32], sp["params"]["layer_2"]["kernel"])  # the same weights
    ex = ExSituStep(sde, EpsScore(net, sde))
    x = jax.random.normal(jax.random.key(2), (4, 3))
    t, dt = jnp.float32(0.5), jnp.float32(-0.01)
    dm, c = transition_targets(ex, sp, x, t, dt)
    passes = 2000
    xr, idx = repeat_passes(x, passes)
    dx = np.asarray(jax.jit(ins)(ip, xr, t, dt, jax.random.key(3), idx)).reshape(4, passes, 3)
    m, s = dx.mean(1), dx.std(1, ddof=1)
    assert np.all(s > 0)  # the P-bits do spread the pass
    assert np.all(np.abs(m - np.asarray(dm)) < 5 * s / np.sqrt(passes)), (m, dm)


def test_in_situ_pass_depends_only_on_key_and_sample_id():
    sde, net, sp, ins, ip = _nets(dac_bits=8, adc_bits=8)
    x = jax.random.normal(jax.random.key(4), (6, 3))
    t, dt = jnp.float32(0.3), jnp.float32(-0.02)
    idx = jnp.arange(100, 106, dtype=jnp.uint32)
    run = jax.jit(ins)
    full = run(ip, x, t, dt, jax.random.key(5), idx)
    part = run(ip, x[2:5], t, dt, jax.random.key(5), idx[2:5])
    np.testing.assert_allclose(full[2:5], part, rtol=1e-6, atol=1e-6)
    other = run(ip, x, t, dt, jax.random.key(6), idx)
    assert not np.allclose(other, full)  # another read key: other P-bits


@pytest.mark.parametrize("n_steps", [1, 10])
def test_image_counts_closed_form(n_steps):
    # per step: ex-situ reads every layer with P-bits off and draws D Gaussians of K bits (moved to the array);
    # in-situ writes one P-bit per cell of the output read, (H + 2R) x D, and moves nothing.
    _, net, _, _, _ = _nets(8, 8)
    ex = image_counts("ex_situ", crossbar_layer_shapes(net), n_steps=n_steps, latent_dim=3, bits_per_gaussian=64)
    ins = image_counts("in_situ", crossbar_layer_shapes(net, 4), n_steps=n_steps, latent_dim=3)
    assert ex.pbit_writes == ex.random_bits_transferred == n_steps * 3 * 64
    assert ins.pbit_writes == n_steps * (32 + 8) * 3 and ins.random_bits_transferred == 0
    cells = (3 + 8) * 32 + 32 * 32 + 32 * 3
    assert ex.cell_reads == n_steps * cells
    assert ins.cell_reads == n_steps * (cells + 8 * 3)
    assert ex.tile_reads == ins.tile_reads == n_steps * 3  # every layer fits one 256 x 256 tile
    # the output read's P-bits: one pulse per used row (H + 2R = 40 rows) of its one tile, 3 P-bits each,
    # each driver charging a 256-cell line; P_sw = 0.5 without spread needs no reset
    assert ins.pbit_write_pulses == n_steps * 40 and ins.pbit_line_cells == ins.pbit_writes * 256
    assert ins.pbit_resets == 0


def test_cost_table_rows_every_sampler_on_every_design_that_can_run_it():
    from cimjax.energy import default_energy_preset

    _, net, _, _, _ = _nets(8, 8)
    t = cost_table(crossbar_layer_shapes(net), crossbar_layer_shapes(net, 4), n_steps=10, latent_dim=3,
                   bits_per_gaussian=64)
    designs = list(default_energy_preset().designs)
    pairs = [(r["sampler"], r["design"]) for r in t["rows"]]
    assert pairs == [("ex_situ", d) for d in designs if d != "in_situ"] + [("in_situ", d) for d in designs]
    for r in t["rows"]:
        assert {"sampler", "scheme", "energy_per_image_J", "delay_per_image_s", "pbit_writes", "random_bits"} <= set(r)
        assert r["energy_per_image_J"] > 0 and r["delay_per_image_s"] > 0
        assert r["native"] == ((r["sampler"] == "in_situ") == (r["scheme"] == "in_situ"))
        assert r["random_bits"] == (10 * 3 * 64 if r["sampler"] == "ex_situ" else 10 * 40 * 3)
        if r["design"] == "in_situ":  # each of the output read's 40 x 3 P-bits is written once per step
            assert r["pbit_write_cycles"] == 10 and r["lifetime_images"] == pytest.approx(1e12 / 10)
        else:  # the sampler's random bits spread over the design's generators
            assert r["pbit_write_cycles"] > 0 and r["lifetime_images"] > 0


def test_native_write_voltage_outside_the_device_window_is_refused_before_training():
    from cimjax.errors import ConfigError
    from cimjax.sde import NativeInSituNet, write_voltage_range

    lo, hi = write_voltage_range()
    _, net, _, _, _ = _nets()
    with pytest.raises(ConfigError, match=r"voltages\[1\]=3.0 V is outside the device's write window"):
        NativeInSituNet(net, VPSDE(), (1.0, 3.0))
    # the window is where the nominal P_sw (logistic in V, Fig. 12) runs from 1% to 99%
    from cimjax.device import default_preset

    preset = default_preset()
    p = np.asarray(preset.pbit.switching_probability(np.array([lo, hi]), preset.calibrated_width))
    np.testing.assert_allclose(p, [0.01, 0.99], atol=1e-4)


def test_native_training_refuses_a_negative_or_nan_weight_before_training():
    from cimjax.errors import ConfigError
    from cimjax.nn import TrainConfig
    from cimjax.sde import NativeInSituNet, train_native

    _, net, _, _, _ = _nets()
    sde = VPSDE()
    teacher = ExSituStep(sde, EpsScore(net, sde))
    latents = np.zeros((64, 3), np.float32)
    for kw, name in (({"skew_weight": -1.0}, "skew_weight"), ({"mean_weight": float("nan")}, "mean_weight"),
                     ({"var_weight": -0.5}, "var_weight")):
        with pytest.raises(ConfigError, match=name):
            train_native(NativeInSituNet(net, sde, (1.0,)), teacher, None, latents, TrainConfig(batch_size=8), 1,
                         n_steps=5, **kw)


def test_native_moments_split_the_variance_into_pbits_and_periphery():
    # Hardware(): bit-sliced pairs with read noise; the weight cells' P-bit variance is the whole
    # read's less the read noise and ADC rounding, so their share is in (0, 1].
    from cimjax.sde import Hardware, NativeInSituNet, init_native_params

    net = CrossbarEpsNet(3, 32, 2, t_dim=8, hardware=Hardware())
    sp = net.init(jax.random.key(0), jnp.zeros((1, 3)), jnp.zeros((1,)))
    nat = NativeInSituNet(net, VPSDE(), (1.0,))
    params = init_native_params(sp, 8)
    x = jax.random.normal(jax.random.key(1), (4, 3))
    mean, var, pbit_var = nat.moments(params, x, jnp.float32(0.5), None, jnp.arange(4, dtype=jnp.uint32))
    assert np.all(pbit_var > 0) and np.all(pbit_var < var)


def test_native_cumulants_are_the_passes_skew_and_spread():
    # one state, many passes (distinct sample ids: independent P-bits and output read noise, the
    # same hidden read): the passes' third central moment against the closed form, CLT bound
    from cimjax.sde import Hardware, NativeInSituNet, init_native_params, repeat_passes

    net = CrossbarEpsNet(3, 32, 2, t_dim=8, hardware=Hardware())
    sp = net.init(jax.random.key(0), jnp.zeros((1, 3)), jnp.zeros((1,)))
    nat = NativeInSituNet(net, VPSDE(), (1.0,))  # P_sw ~ 0.1: a skewed Bernoulli per cell
    params = init_native_params(sp, 8)
    t, key, reads = jnp.float32(0.5), jax.random.key(3), 20000
    xr, ids = repeat_passes(jax.random.normal(jax.random.key(1), (1, 3)), reads)
    h = np.asarray(nat.eps(params, xr, t, key, ids), np.float64)
    _, var, _, k3 = (np.asarray(v, np.float64)[0] for v in nat.cumulants(params, xr[:1], t, key, ids[:1]))
    d = h - h.mean(0)
    se = np.sqrt((d**3 - 3 * (d**2).mean(0) * d).var(0) / reads)  # delta method, as in test_crossbar_read
    assert np.all(np.abs((d**3).mean(0) - k3) < 5 * se)
    # Var of a sample variance: (mu4 - var^2) / R
    assert np.all(np.abs(d.var(0, ddof=1) - var) < 5 * np.sqrt(((d**4).mean(0) - d.var(0) ** 2) / reads))


def test_hardware_defaults_are_the_device_presets():
    """The demo's crossbar takes the device's non-idealities, as every crossbar does by default."""
    from cimjax.crossbar import CrossbarConfig, resolved_programming_sigma, resolved_read_noise
    from cimjax.sde import Hardware, periphery_config

    hw = Hardware()
    cfg = periphery_config(16, dac_bits=8, adc_bits=8, dac_range=4.0, hardware=hw)
    default = CrossbarConfig()
    assert resolved_programming_sigma(cfg) == resolved_programming_sigma(default) > 0
    assert resolved_read_noise(cfg) == resolved_read_noise(default) > 0
    assert cfg.pbit.spread and cfg.mapping.scheme == "bitslice"
    assert hw.pbit_spread and not hw.is_ideal and Hardware.ideal().is_ideal


def test_calibrated_offsets_remove_a_known_column_offset():
    """Ideal periphery and crossbar: the native pass's mean is the teacher's z_hat plus its bias shift
    delta, so each step's calibrated offset is -delta (the closed form), and the table is indexed by step."""
    from cimjax.sde import NativeInSituNet, calibrate_offsets, init_native_params

    sde = VPSDE()
    net = CrossbarEpsNet(3, 32, 2, t_dim=8, dac_bits=None, adc_bits=None)  # Hardware.ideal(): no spread, no noise
    sp = net.init(jax.random.key(0), jnp.zeros((1, 3)), jnp.zeros((1,)))
    teacher = ExSituStep(sde, EpsScore(net, sde))
    native = NativeInSituNet(net, sde, (1.0,))
    delta = np.array([0.3, -0.2, 0.05], np.float32)
    params = init_native_params(sp, 8)
    last = params["score"]["params"]["layer_2"]
    last["bias"] = last["bias"] + delta
    latents = np.random.default_rng(0).normal(size=(64, 3)).astype(np.float32)
    cal = calibrate_offsets(native, teacher, sp, params, latents, n_steps=5, key=jax.random.key(1), states=16, reads=1)
    np.testing.assert_allclose(cal["offset"], np.broadcast_to(-delta, (5, 3)), atol=1e-4)

    grid = sde.time_grid(5)
    table = {**params, "offset": jnp.arange(15, dtype=jnp.float32).reshape(5, 3)}
    for k in range(5):
        np.testing.assert_array_equal(native.offset(table, grid[k]), np.arange(3 * k, 3 * k + 3))
    x = jax.random.normal(jax.random.key(2), (4, 3))
    ids = jnp.arange(4, dtype=jnp.uint32)
    z = -teacher.score_fn(sp, x, grid[2], ids) * sde.std(grid[2])
    np.testing.assert_allclose(native.moments(cal, x, grid[2], None, ids)[0], z, atol=1e-4)
