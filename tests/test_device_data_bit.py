"""Data-bit and differential pair: TMR anchors (Figs. 6-7), variation (Fig. 8), three states (Fig. 9), pair mapping."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from cimjax.device import AP_STATE, P_STATE, data_bit_state_for_sign, default_preset, pair_output, pbit_bitstream


@pytest.fixture(scope="module")
def preset():
    return default_preset()


def test_tmr_anchors(preset):
    db = preset.data_bit
    assert abs(float(db.tmr(0.2)) - 0.65) <= 0.02  # Fig. 7: 65% at 200 mV read
    assert float(db.tmr(0.0)) > 1.0  # Fig. 6: above 100% near zero bias
    tmr = np.asarray(db.tmr(jnp.linspace(0.0, 0.5, 11)))
    assert np.all(np.diff(tmr) < 0)  # falls with bias


def test_conductances_from_ra_and_tmr(preset):
    db = preset.data_bit
    g_p, g_ap = (float(g) for g in db.conductances(0.2))
    r_p = float(db.ra_product) / float(db.area)
    assert g_p == pytest.approx(1.0 / r_p, rel=1e-6)
    assert (1.0 / g_ap) / (1.0 / g_p) - 1.0 == pytest.approx(float(db.tmr(0.2)), rel=1e-5)  # TMR = R_AP/R_P - 1


def test_no_endurance_drift_by_default(preset):
    # Fig. 19: no conductance change after 1e12 write cycles with the default preset.
    g0 = preset.data_bit.conductances(0.2, cycles=0.0)
    g12 = preset.data_bit.conductances(0.2, cycles=1e12)
    assert all(float(a) == float(b) for a, b in zip(g0, g12))
    worn = preset.data_bit.replace(drift_per_decade=jnp.float32(0.01))
    assert float(worn.tmr(0.2, cycles=1e12)) < float(preset.data_bit.tmr(0.2))


def test_lognormal_device_and_array_variation(preset):
    # Fig. 8: log G_P within one array has sd sigma_device (chi-square bound); array means
    # spread with sd sigma_array (chi-square bound with n_arrays - 1 dof).
    db = preset.data_bit
    n_arrays, n = 64, 4096
    g_p, _ = db.sample_conductances(jax.random.PRNGKey(0), 0.2, (n,), n_arrays=n_arrays)
    log_g = np.log(np.asarray(g_p, float))
    within = log_g.var(axis=1, ddof=1).mean() / float(db.sigma_device) ** 2
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], n_arrays * (n - 1)) / (n_arrays * (n - 1))
    assert lo <= within <= hi
    # each array mean has variance sigma_array^2 + sigma_device^2 / n
    var_mean = float(db.sigma_array) ** 2 + float(db.sigma_device) ** 2 / n
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], n_arrays - 1) / (n_arrays - 1)
    assert lo <= log_g.mean(axis=1).var(ddof=1) / var_mean <= hi


def test_pair_output_mapping_table():
    # The documented convention: output = pbit_state - data_bit_state (units of dG).
    d = jnp.array([P_STATE, P_STATE, AP_STATE, AP_STATE])
    p = jnp.array([P_STATE, AP_STATE, AP_STATE, P_STATE])
    np.testing.assert_array_equal(np.asarray(pair_output(d, p)), [0, 1, 0, -1])
    np.testing.assert_array_equal(np.asarray(data_bit_state_for_sign(jnp.array([1, -1]))), [P_STATE, AP_STATE])


@pytest.mark.parametrize("sign", [1, -1])
def test_probabilistic_pair_keeps_weight_with_p_sw(preset, sign):
    # Reset P-bit to the data-bit, one write pulse: output == sign with probability P_sw, else 0.
    p_sw = float(preset.pbit.switching_probability(preset.calibrated_voltage, preset.calibrated_width))
    n = 200_000
    data = data_bit_state_for_sign(jnp.int32(sign))
    pbit = pbit_bitstream(jax.random.PRNGKey(5), jnp.float32(p_sw), n, mode="reset", initial_state=data)
    out = np.asarray(pair_output(jnp.broadcast_to(data, pbit.shape), pbit))
    assert set(np.unique(out)) <= {0, sign}
    keep = np.mean(out == sign)
    assert abs(keep - p_sw) <= stats.norm.ppf(0.9995) * np.sqrt(p_sw * (1 - p_sw) / n)


def test_three_states_separated_by_six_sigma(preset):
    # Fig. 9: Monte Carlo reads of the three states within one array; gap / sd >= 6.
    pair = preset.differential_pair
    n = 100_000
    stats_mc = {}
    for name, (left, right) in {"+": (P_STATE, AP_STATE), "0pp": (P_STATE, P_STATE),
                                "0aa": (AP_STATE, AP_STATE), "-": (AP_STATE, P_STATE)}.items():
        out = np.asarray(pair.sample_outputs(jax.random.PRNGKey(len(name) + left * 3 + right),
                                             jnp.full((n,), left), jnp.full((n,), right)), float)
        stats_mc[name] = (out.mean(), out.std(ddof=1))
    for zero in ("0pp", "0aa"):
        for hi, lo in (("+", zero), (zero, "-")):
            gap = stats_mc[hi][0] - stats_mc[lo][0]
            assert gap / max(stats_mc[hi][1], stats_mc[lo][1]) >= 6.0
    assert float(pair.read_margin_sigma()) >= 6.0


def test_closed_form_state_statistics_match_monte_carlo(preset):
    # Closed form is for the median array (array factor 1): compare with sigma_array = 0 reads.
    # Bounds: 4.5 standard errors (mean: sd / sqrt(n); sample sd: ~ sd / sqrt(2n), near-normal).
    db = preset.data_bit.replace(sigma_array=jnp.float32(0.0))
    pair = preset.differential_pair.replace(data_bit=db)
    closed = pair.state_statistics()
    n = 100_000
    for i, (name, (left, right)) in enumerate({"+dG": (P_STATE, AP_STATE), "0 (P,P)": (P_STATE, P_STATE),
                                               "0 (AP,AP)": (AP_STATE, AP_STATE), "-dG": (AP_STATE, P_STATE)}.items()):
        out = np.asarray(pair.sample_outputs(jax.random.PRNGKey(100 + i), jnp.full((n,), left), jnp.full((n,), right)), float)
        mean, sd = (float(x) for x in closed[name])
        assert abs(out.mean() - mean) <= 4.5 * sd / np.sqrt(n)
        assert abs(out.std(ddof=1) - sd) <= 4.5 * sd * np.sqrt(2.0 / n)


def test_pair_programming_spread_matches_monte_carlo_and_first_order(preset):
    # A +dG pair of two independent devices of one array (array factor off): sd / mean of G_P - G_AP.
    # Bound: delta method for sd / mean of n near-normal draws, rel SE = sqrt((1/2 + rel^2) / n), 4.5 of them.
    db = preset.data_bit.replace(sigma_array=jnp.float32(0.0))
    pair = preset.differential_pair.replace(data_bit=db)
    n = 400_000
    g_p, _ = db.sample_conductances(jax.random.PRNGKey(21), 0.2, (n,))
    _, g_ap = db.sample_conductances(jax.random.PRNGKey(22), 0.2, (n,))
    dg = np.asarray(g_p, float) - np.asarray(g_ap, float)
    closed = float(pair.programming_spread())
    assert abs(dg.std(ddof=1) / dg.mean() - closed) <= 4.5 * closed * np.sqrt((0.5 + closed**2) / n)
    # First order from the paper's numbers: TMR 65% at the read (Fig. 7), sigma_device 4% (Fig. 8),
    # sigma_tmr 3% (Fig. 7); the lognormal corrections are O(sigma^2) ~ 0.3% of it.
    g_ap1 = 1.0 / 1.65
    first = np.sqrt(0.04**2 + (0.04**2 + 0.03**2) * g_ap1**2) / (1.0 - g_ap1)
    assert closed == pytest.approx(first, rel=0.01)


def test_pair_read_noise_matches_monte_carlo_in_every_state(preset):
    # One read of fixed devices: noise = read - conductance on each side (Fig. 15); its sd relative to
    # the mean dG is the same for +-dG and, averaged, for the two zero states. Bound: sample variance
    # of n normals, rel SE sqrt(2 / n) on the variance, 4.5 of them.
    db = preset.data_bit.replace(sigma_array=jnp.float32(0.0))
    pair = preset.differential_pair.replace(data_bit=db)
    n = 400_000
    g_p, g_ap = (np.asarray(g, float) for g in db.sample_conductances(jax.random.PRNGKey(31), 0.2, (n,)))
    g_p2, g_ap2 = (np.asarray(g, float) for g in db.sample_conductances(jax.random.PRNGKey(32), 0.2, (n,)))
    dg = (g_p - g_ap2).mean()

    def noise_var(left, right, seed):
        k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
        out = np.asarray(db.read(k1, left), float) - np.asarray(db.read(k2, right), float) - (left - right)
        return out.var(ddof=1) / dg**2

    closed = float(pair.read_noise_spread()) ** 2
    bound = 4.5 * np.sqrt(2.0 / n)
    assert noise_var(g_p, g_ap2, 33) == pytest.approx(closed, rel=bound)
    zeros = 0.5 * (noise_var(g_p, g_p2, 34) + noise_var(g_ap, g_ap2, 35))
    assert zeros == pytest.approx(closed, rel=bound)
    g_ap1 = 1.0 / 1.65  # first order: sigma_read 1% (Fig. 15) on both devices, TMR 65% (Fig. 7)
    assert np.sqrt(closed) == pytest.approx(0.01 * np.sqrt(1 + g_ap1**2) / (1 - g_ap1), rel=0.01)
