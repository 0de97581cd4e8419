"""General switching forms (issue 13, item 1): the physics of PrecessionCurve against independent closed forms."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from cimjax.errors import CimjaxError
from cimjax.device import (
    BidirectionalCurve,
    PrecessionCurve,
    SwitchingCurve,
    SwitchingModel,
    default_preset,
    device_preset,
    parse_switching_model,
    pulse_for_probability,
    sample_pbit_curves,
    save_preset,
    load_preset,
)

FULL = dict(v50=1.5, v_scale=0.25, precession_period=1.2e-9, damping_time=2e-9, amplitude=0.92, floor=0.03,
            dephasing_time=1.5e-9, frequency_slope=0.5)


def _reference(v, t, v50, v_scale, precession_period, damping_time, amplitude=1.0, floor=0.0,
               dephasing_time=math.inf, frequency_slope=0.0, link="logistic"):
    """The docstring's equations, written out in numpy (float64)."""
    z = (v - v50) / v_scale
    s = stats.norm.cdf(z) if link == "probit" else 1 / (1 + np.exp(-z))
    omega = 2 * np.pi / precession_period * np.sqrt(np.maximum(1 + frequency_slope * (v - v50), 1e-6))
    envelope = np.exp(-t / damping_time - 0.5 * (t / dephasing_time) ** 2)
    return floor + (amplitude - floor) * s * 0.5 * (1 - envelope * np.cos(omega * t))


@pytest.mark.parametrize("link", ["logistic", "probit"])
def test_probability_is_the_stated_equation(link):
    curve = PrecessionCurve.create(**FULL, link=link)
    v, t = np.meshgrid(np.linspace(0.2, 3.0, 15), np.linspace(0.05e-9, 4e-9, 11), indexing="ij")
    got = np.asarray(curve.switching_probability(jnp.asarray(v), jnp.asarray(t)), float)
    np.testing.assert_allclose(got, _reference(v, t, **FULL, link=link), atol=2e-6)


def test_dephasing_envelope_is_the_ensemble_average_over_a_normal_frequency_spread():
    # <cos(omega t)> over omega ~ N(omega0, 1/tau_phi^2), by Gauss-Hermite quadrature (independent).
    tau_phi, period = 1.5e-9, 1.2e-9
    curve = PrecessionCurve.create(1.5, 0.25, period, 1e3, dephasing_time=tau_phi)  # damping negligible
    x, w = np.polynomial.hermite_e.hermegauss(80)
    omega = 2 * np.pi / period + x / tau_phi
    for t in (0.3e-9, 1.0e-9, 2.2e-9):
        average = np.sum(w * np.cos(omega * t)) / np.sum(w)
        w_expected = 0.5 * (1 - np.exp(-t / 1e3) * average)
        assert float(curve.switching_probability(50.0, t)) == pytest.approx(w_expected, abs=2e-6)


def test_peak_below_one_and_long_pulses_relax_to_half_the_amplitude():
    curve = PrecessionCurve.create(1.5, 0.25, 1.2e-9, 1e-9)
    t = np.linspace(1e-13, 1.2e-9, 200001)
    p = np.asarray(curve.switching_probability(20.0, jnp.asarray(t)), float)
    t_peak = t[np.argmax(p)]
    assert float(curve.first_peak_width) == pytest.approx(t_peak, rel=1e-4)
    # the physical peak (1 + exp(-t_peak / tau)) / 2 (issue 13: 0.74 with the preset's damping)
    omega = 2 * np.pi / 1.2e-9
    assert p.max() == pytest.approx(0.5 * (1 - np.exp(-t_peak / 1e-9) * np.cos(omega * t_peak)), abs=1e-6)
    assert p.max() < 0.8
    assert float(curve.switching_probability(20.0, 40e-9)) == pytest.approx(0.5, abs=1e-6)
    saturating = curve.replace(amplitude=jnp.float32(0.9), floor=jnp.float32(0.02))
    s = 1 / (1 + np.exp(-(1.7 - 1.5) / 0.25))
    assert float(saturating.switching_probability(1.7, 40e-9)) == pytest.approx(0.02 + 0.88 * s / 2, abs=1e-6)


def test_vcma_frequency_moves_the_window_and_over_rotates():
    curve = PrecessionCurve.create(1.5, 0.25, 1.2e-9, 2e-9, frequency_slope=0.5)
    v = np.array([1.2, 1.5, 2.0, 2.5])
    omega = np.asarray(curve.omega(jnp.asarray(v)), float)
    # Kittel with linear VCMA: omega^2 linear in V, (2 pi / T)^2 at v50
    np.testing.assert_allclose(omega**2, (2 * np.pi / 1.2e-9) ** 2 * (1 + 0.5 * (v - 1.5)), rtol=1e-5)
    peaks = np.asarray(curve.peak_width(jnp.asarray(v)), float)
    assert np.all(np.diff(peaks) < 0)  # the window moves to shorter pulses at higher V
    # over-rotation: at the 1.5 V peak width, P_sw falls again above some voltage
    t = float(peaks[1])
    p = np.asarray(curve.switching_probability(jnp.linspace(1.5, 6.0, 200), t), float)
    assert p.max() > p[-1] + 0.1


def test_nested_nulls_and_probit_link():
    plain = PrecessionCurve.create(1.5, 0.25, 1.2e-9, 1e-9)
    nulls = PrecessionCurve.create(1.5, 0.25, 1.2e-9, 1e-9, amplitude=1.0, floor=0.0, dephasing_time=math.inf,
                                   frequency_slope=0.0)
    v, t = jnp.linspace(0.5, 2.5, 7), jnp.full(7, 0.7e-9)
    np.testing.assert_array_equal(np.asarray(plain.switching_probability(v, t)), np.asarray(nulls.switching_probability(v, t)))
    probit = PrecessionCurve.create(1.5, 0.25, 1.2e-9, 1e-9, link="probit")
    assert float(probit.window_10_90) == pytest.approx(2 * stats.norm.ppf(0.9) * 0.25, rel=1e-6)
    assert float(plain.window_10_90) == pytest.approx(2 * np.log(9) * 0.25, rel=1e-6)


def test_inverses_round_trip_on_the_rising_branch():
    curve = PrecessionCurve.create(**FULL)
    t = float(curve.first_peak_width)
    for p in (0.1, 0.3, 0.5):
        v = float(pulse_for_probability(curve, p, t))
        assert float(curve.switching_probability(v, t)) == pytest.approx(p, abs=1e-5)
        # the lowest such voltage: just below it the curve is below p
        assert float(curve.switching_probability(v - 0.01, t)) < p
    w = float(pulse_for_probability(curve, 0.3, voltage=2.0))
    assert 0 < w < float(curve.peak_width(2.0))
    assert float(curve.switching_probability(2.0, w)) == pytest.approx(0.3, abs=1e-5)
    assert np.isnan(float(pulse_for_probability(curve, 0.99, t)))  # above amplitude: out of reach


def test_pytree_jit_vmap_and_device_spread():
    curve = PrecessionCurve.create(**FULL)
    leaves, tree = jax.tree_util.tree_flatten(curve)
    assert len(leaves) == 8 and jax.tree_util.tree_unflatten(tree, leaves).link == "logistic"
    f = jax.jit(lambda c, v: c.switching_probability(v, 7e-10))
    batched = jax.vmap(lambda v50: curve.replace(v50=v50).switching_probability(1.5, 7e-10))(jnp.array([1.4, 1.5, 1.6]))
    assert float(f(curve, 1.5)) == pytest.approx(float(batched[1]), abs=1e-7)
    assert bool(jnp.all(jnp.diff(batched) < 0))  # higher v50 switches less at 1.5 V
    preset = default_preset().replace(pbit=curve)
    cells = sample_pbit_curves(jax.random.PRNGKey(0), preset, (4, 5))
    p = cells.switching_probability(1.5, 7e-10)
    assert p.shape == (4, 5) and cells.amplitude.shape == () and float(p.std()) > 0


def test_two_directions_select_by_start_state():
    p_to_ap = PrecessionCurve.create(1.4, 0.25, 1.2e-9, 1e-9)
    ap_to_p = PrecessionCurve.create(1.6, 0.25, 1.2e-9, 1e-9)
    pair = BidirectionalCurve(p_to_ap, ap_to_p)
    state = jnp.array([[0, 1], [1, 0]])
    got = np.asarray(pair.switching_probability(1.5, 7e-10, state))
    a, b = float(p_to_ap.switching_probability(1.5, 7e-10)), float(ap_to_p.switching_probability(1.5, 7e-10))
    np.testing.assert_allclose(got, [[a, b], [b, a]], rtol=1e-6)
    assert a > b  # the direction with the lower v50 switches more


def test_preset_json_round_trip_of_a_precession_preset(tmp_path):
    preset = default_preset().replace(pbit=PrecessionCurve.create(**FULL, link="probit"))
    path = tmp_path / "p.json"
    save_preset(preset, path)
    obj = json.loads(path.read_text())
    assert obj["pbit"]["link"] == "probit" and "dephasing_time" in obj["pbit"]
    loaded = load_preset(path)
    assert isinstance(loaded.pbit, PrecessionCurve) and loaded.to_dict() == preset.to_dict()
    assert device_preset(str(path)).pbit.link == "probit"
    assert isinstance(default_preset().pbit, SwitchingCurve)  # the default preset keeps today's form


def test_model_names_parse_and_nest():
    m = parse_switching_model("precession+vcma+probit+amplitude")
    assert m.name == "precession+probit+amplitude+vcma"
    assert m.parameters == ("v50", "v_scale", "precession_period", "damping_time", "amplitude", "frequency_slope")
    assert [c.name for c in m.chain()] == ["precession+probit", "precession+probit+amplitude", m.name]
    assert parse_switching_model("normalised") == SwitchingModel()
    for bad, match in (("sigmoid", "unknown switching model 'sigmoid'"), ("precession+amp", "modifier 'amp'"),
                       ("normalised+amplitude", "takes no modifiers"), ("precession+floor+floor", "given twice")):
        with pytest.raises(CimjaxError, match=match):
            parse_switching_model(bad)
    with pytest.raises(CimjaxError, match=r"amplitude=1\.2 must be in \(0, 1\]"):
        PrecessionCurve.create(1.5, 0.2, 1e-9, 1e-9, amplitude=1.2)
    with pytest.raises(CimjaxError, match=r"link='tanh'"):
        PrecessionCurve.create(1.5, 0.2, 1e-9, 1e-9, link="tanh")
