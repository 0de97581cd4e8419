"""P-bit switching probability: the default preset's paper anchors (Figs. 11-13), inverses, table curves."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize, stats

from cimjax.device import (
    SwitchingCurve,
    TableCurve,
    default_preset,
    pulse_for_probability,
    sample_pbit_curves,
    switching_probability,
)


@pytest.fixture(scope="module")
def preset():
    return default_preset()


def _p(curve, v, t):
    return float(curve.switching_probability(v, t))


def test_half_switching_at_calibrated_pulse(preset):
    # Fig. 11-12: 50% at 1.5 V and the calibrated width (700 ps); acceptance 0.50 +- 0.01.
    assert float(preset.calibrated_voltage) == pytest.approx(1.5)
    assert abs(_p(preset.pbit, 1.5, float(preset.calibrated_width)) - 0.50) <= 0.01


def test_stochastic_window_is_one_volt(preset):
    # Fig. 12: 10-90% window located numerically on the curve (root finding), 1.0 +- 0.1 V.
    t = float(preset.calibrated_width)
    v10 = optimize.brentq(lambda v: _p(preset.pbit, v, t) - 0.1, -2.0, 5.0, xtol=1e-6)
    v90 = optimize.brentq(lambda v: _p(preset.pbit, v, t) - 0.9, -2.0, 5.0, xtol=1e-6)
    assert abs((v90 - v10) - 1.0) <= 0.1


def test_first_maximum_over_width_at_700ps(preset):
    # Fig. 11: first local maximum of P_sw(1.5 V, t) on a 0.1 ps grid, 700 +- 20 ps.
    widths = np.arange(1, 30001) * 1e-13
    p = np.asarray(preset.pbit.switching_probability(1.5, jnp.asarray(widths)))
    i = np.argmax((p[1:-1] >= p[:-2]) & (p[1:-1] > p[2:])) + 1
    assert abs(widths[i] - 700e-12) <= 20e-12
    # damped oscillation: the curve falls after the peak and rises again (second lobe), below the first
    later = p[i + 1000 :]
    assert later.min() < p[i] - 0.1 and later.max() < p[i]


def test_probability_bounded_and_broadcasts_over_devices(preset):
    curves = sample_pbit_curves(jax.random.PRNGKey(0), preset, (3, 4))
    v = jnp.linspace(0.0, 4.0, 5).reshape(5, 1, 1)  # leading axis of pulses, devices (3, 4)
    p = switching_probability(curves, v, 7e-10)
    assert p.shape == (5, 3, 4)
    assert bool(jnp.all((p >= 0) & (p <= 1)))
    # P_sw <= 1 at any width, even far above the window, for every sampled device
    t_grid = jnp.linspace(0.0, 5e-9, 200).reshape(200, 1, 1)
    p = curves.switching_probability(10.0, t_grid)
    assert p.shape == (200, 3, 4) and bool(jnp.all(p <= 1.0))


def test_sampled_curves_have_the_preset_spread(preset):
    # Fig. 13 device spread: sample mean/std of v50 within 99.9% normal / chi-square bounds.
    n = 20000
    curves = sample_pbit_curves(jax.random.PRNGKey(1), preset, (n,))
    assert curves.v50.shape == (n,) and curves.damping_time.shape == (n,)
    sigma = float(preset.pbit_spread.sigma_v50)
    v50 = np.asarray(curves.v50, float)
    z = stats.norm.ppf(0.9995)
    assert abs(v50.mean() - float(preset.pbit.v50)) <= z * sigma / np.sqrt(n)
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], n - 1) / (n - 1)
    assert lo <= v50.var(ddof=1) / sigma**2 <= hi
    same = sample_pbit_curves(jax.random.PRNGKey(1), preset, (n,))
    assert bool(jnp.all(same.v50 == curves.v50))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_voltage_inverse_round_trip(preset, p):
    t = float(preset.calibrated_width)
    v = pulse_for_probability(preset.pbit, p, t)
    assert _p(preset.pbit, float(v), t) == pytest.approx(p, abs=1e-5)


def test_width_inverse_round_trip_and_unreachable(preset):
    t = pulse_for_probability(preset.pbit, 0.3, voltage=2.0)
    assert 0 < float(t) < float(preset.pbit.first_peak_width)
    assert _p(preset.pbit, 2.0, float(t)) == pytest.approx(0.3, abs=1e-5)
    # at 1.5 V the amplitude factor is 1/2, so P_sw = 0.7 cannot be reached at any width
    assert np.isnan(float(pulse_for_probability(preset.pbit, 0.7, voltage=1.5)))


def test_anchor_constructor_matches_closed_form_peak():
    curve = SwitchingCurve.from_anchors(v50=1.2, window_10_90=0.8, first_peak_width=5e-10, damping_time=2e-9)
    assert float(curve.first_peak_width) == pytest.approx(5e-10, rel=1e-5)
    assert float(curve.window_10_90) == pytest.approx(0.8, rel=1e-6)


def test_table_curve_interpolates_linear_data_exactly():
    # A bilinear function is reproduced exactly by bilinear interpolation (independent known answer).
    v = np.array([0.5, 1.0, 2.0, 3.0])
    t = np.array([1e-10, 5e-10, 1e-9])
    f = lambda vv, tt: 0.1 + 0.2 * (vv - 0.5) / 2.5 + 0.3 * (tt - 1e-10) / 9e-10
    table = TableCurve.create(v, t, f(v[:, None], t[None, :]))
    vq = jnp.array([0.7, 1.5, 2.9, 1.0])
    tq = jnp.array([2e-10, 9e-10, 1e-10, 3e-10])
    np.testing.assert_allclose(np.asarray(table.switching_probability(vq, tq)), f(np.asarray(vq), np.asarray(tq)), atol=1e-6)
    # clamped outside the grid
    assert float(table.switching_probability(10.0, 1.0)) == pytest.approx(f(3.0, 1e-9), abs=1e-6)
    vp = pulse_for_probability(table, 0.3, 5e-10)
    assert float(table.switching_probability(vp, 5e-10)) == pytest.approx(0.3, abs=1e-5)
