"""Model selection and goodness of fit (issue 13, item 2): `cimjax device calibrate --model auto|NAME`.

Acceptance: synthetic data from each form (20 voltages x 8 widths x 1000 trials) gives that form
back under auto, every parameter inside its interval; a device with peak switching below 1 is
fitted within 0.02 at pulses not in the file; today's form fails goodness of fit on saturating
data and calibrate warns.
"""

import json

import jax
import numpy as np
import pytest
from scipy import stats

from cimjax.cli import main
from cimjax.device import (
    PrecessionCurve,
    SwitchingData,
    default_preset,
    fit_switching_curve,
    goodness_of_fit,
    load_curve,
    save_switching_csv,
    select_switching_model,
    simulate_switching_data,
)

VOLTAGES = np.linspace(0.6, 2.6, 20)
WIDTHS = np.linspace(0.2e-9, 2.0e-9, 8)
SEEDS = (0, 1, 2)
FORMS = {
    "normalised": default_preset().pbit,
    "precession": PrecessionCurve.create(1.5, 0.23, 1.2e-9, 1.0e-9),
    "precession+amplitude": PrecessionCurve.create(1.5, 0.23, 1.2e-9, 1.0e-9, amplitude=0.9),
    "precession+probit+amplitude": PrecessionCurve.create(1.5, 0.4, 1.2e-9, 1.0e-9, amplitude=0.9, link="probit"),
    "precession+floor": PrecessionCurve.create(1.5, 0.23, 1.2e-9, 1.0e-9, floor=0.05),
    "precession+dephasing": PrecessionCurve.create(1.5, 0.23, 1.2e-9, 3e-9, dephasing_time=1.2e-9),
    "precession+vcma": PrecessionCurve.create(1.5, 0.23, 1.2e-9, 1.0e-9, frequency_slope=0.6),
    "precession+amplitude+floor+dephasing+vcma": PrecessionCurve.create(
        1.5, 0.23, 1.2e-9, 2e-9, amplitude=0.92, floor=0.04, dephasing_time=1.5e-9, frequency_slope=0.5),
}
REQUIRED = {"model", "log_likelihood", "aic", "bic", "gof_p_value", "dispersion", "parameters", "candidates"}


def _data(curve, seed, trials=1000, voltages=VOLTAGES, widths=WIDTHS):
    return simulate_switching_data(jax.random.PRNGKey(seed), curve, voltages, widths, trials)


@pytest.mark.parametrize("name", list(FORMS))
def test_auto_recovers_each_form_with_every_parameter_in_its_interval(name):
    truth = FORMS[name]
    fitted = [p for p in FORMS[name].__dataclass_fields__ if p != "link"]
    n_checked = 4 + name.count("+") - name.count("probit")
    # Bonferroni: all n_checked x 3 intervals cover their truth with probability >= 95%
    confidence = 1 - 0.05 / (n_checked * len(SEEDS))
    for seed in SEEDS:
        selection = select_switching_model(_data(truth, seed), confidence=confidence)
        fit = selection.fit
        assert fit.model.name == name, selection.reason
        assert fit.converged and selection.gof.p_value > 0.01 / len(SEEDS) and not selection.warnings
        checked = [p for p in fit.model.parameters if p in fitted]
        assert len(checked) == n_checked
        for p in checked:
            lo, hi = fit.intervals[p]
            assert lo <= float(getattr(truth, p)) <= hi, (name, seed, p, lo, float(getattr(truth, p)), hi)


def test_fit_space_prediction_matches_the_curve_for_every_form():
    for name, truth in FORMS.items():
        fit = fit_switching_curve(_data(truth, 5), model=name)
        v, t = np.meshgrid(np.linspace(0.5, 2.7, 9), np.linspace(0.1e-9, 2.5e-9, 7), indexing="ij")
        np.testing.assert_allclose(fit.predict(v, t), np.asarray(fit.curve.switching_probability(v, t)), atol=2e-6)


def test_device_with_peak_below_one_is_fitted_within_002_off_the_grid():
    base = PrecessionCurve.create(1.5, 0.23, 1.2e-9, 3.0e-9)
    t = np.linspace(0.05e-9, 2e-9, 4001)
    peak = float(np.max(np.asarray(base.switching_probability(10.0, t))))
    truth = base.replace(amplitude=np.float32(0.9 / peak))  # peak switching 0.9 at high voltage
    fit = select_switching_model(_data(truth, 7)).fit
    v = 0.5 * (VOLTAGES[1:] + VOLTAGES[:-1])  # pulses not in the file
    w = np.concatenate([0.5 * (WIDTHS[1:] + WIDTHS[:-1]), [0.1e-9, 2.3e-9]])
    vv, ww = np.meshgrid(v, w, indexing="ij")
    error = np.abs(fit.predict(vv, ww) - np.asarray(truth.switching_probability(vv, ww), float))
    assert error.max() <= 0.02, error.max()
    old = fit_switching_curve(_data(truth, 7), model="normalised")
    assert np.abs(old.predict(vv, ww) - np.asarray(truth.switching_probability(vv, ww), float)).max() > 0.02


def test_todays_form_fails_goodness_of_fit_on_saturating_data_and_calibrate_warns(tmp_path, capsys):
    path = tmp_path / "saturating.csv"
    save_switching_csv(_data(FORMS["precession+amplitude"], 3), path)
    out = tmp_path / "fit.json"
    assert main(["device", "calibrate", str(path), "--model", "normalised", "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert REQUIRED <= set(printed) and all({"model", "log_likelihood", "aic", "bic"} <= set(c) for c in printed["candidates"])
    assert printed["model"] == "normalised" and printed["gof_p_value"] < 0.01
    assert printed["warnings"] and "fails goodness of fit at the 1% level" in printed["warnings"][0]
    assert "warning: normalised fails goodness of fit" in captured.err
    assert json.loads(out.read_text())["selection"]["gof_p_value"] == printed["gof_p_value"]
    # auto on the same file: the saturating form, no warning, and the calibration loads as its curve
    assert main(["device", "calibrate", str(path), "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    printed = json.loads(captured.out)
    assert printed["model"] == "precession+amplitude" and printed["gof_p_value"] > 0.01
    assert not printed["warnings"] and "warning" not in captured.err
    assert "auto:" in printed["selection"] and "+amplitude" in printed["selection"]
    curve, _ = load_curve(out)
    assert isinstance(curve, PrecessionCurve) and float(curve.amplitude) == pytest.approx(printed["parameters"]["amplitude"], rel=1e-6)


def test_likelihood_ratio_tests_use_the_boundary_mixture():
    selection = select_switching_model(_data(FORMS["precession"], 4))
    by_name = {c.fit.model.name: c for c in selection.candidates}
    amplitude, vcma = by_name["precession+amplitude"], by_name["precession+vcma"]
    assert amplitude.parent == "precession" and vcma.parent == "precession"
    # a = 1 lies on the boundary of a <= 1: half chi-square(1) (Self & Liang 1987); slope 0 is interior
    expected = 0.5 * stats.chi2.sf(amplitude.lr_statistic, 1) if amplitude.lr_statistic > 0 else 1.0
    assert amplitude.lr_p_value == pytest.approx(expected)
    assert vcma.lr_p_value == pytest.approx(stats.chi2.sf(vcma.lr_statistic, 1))
    for c in selection.candidates:
        k = len(c.fit.model.parameters)
        assert c.aic == pytest.approx(-2 * c.fit.log_likelihood + 2 * k)
        assert c.bic == pytest.approx(-2 * c.fit.log_likelihood + k * np.log(160 * 1000))
    assert selection.chosen.bic == min(c.bic for c in selection.candidates)


def _replicated(seed, rho, copies=4, trials=400):
    """`copies` rows per pulse (10 voltages x 6 widths); with rho > 0 each row's probability is
    Beta-distributed around P_sw."""
    truth = FORMS["precession+amplitude"]
    rng = np.random.default_rng(seed)
    grid = np.meshgrid(np.linspace(0.6, 2.6, 10), np.linspace(0.2e-9, 2.0e-9, 6), indexing="ij")
    v, w = (np.repeat(a.ravel(), copies) for a in grid)
    p = np.asarray(truth.switching_probability(v, w), float)
    if rho > 0:
        p = rng.beta(p * (1 / rho - 1), (1 - p) * (1 / rho - 1))
    k = rng.binomial(trials, p)
    return SwitchingData(v, w, k, np.full(k.shape, trials), np.full(k.shape, "", dtype=object))


def test_beta_binomial_when_replicate_rows_are_over_dispersed():
    rho = 0.01
    selection = select_switching_model(_replicated(0, rho), confidence=1 - 0.05 / 2)
    fit = selection.fit
    assert fit.model.beta_binomial and selection.replicate_test[2] < 0.01
    lo, hi = fit.intervals["overdispersion"]
    assert lo <= rho <= hi
    lo, hi = fit.intervals["amplitude"]
    assert lo <= 0.9 <= hi
    assert selection.gof.statistic == "pearson" and selection.gof.p_value > 0.01
    binomial = select_switching_model(_replicated(1, 0.0))
    assert not binomial.fit.model.beta_binomial and binomial.replicate_test[2] > 0.01


def test_small_cells_use_the_parametric_bootstrap():
    data = _data(FORMS["precession+amplitude"], 9, trials=50)
    fit = fit_switching_curve(data, model="precession+amplitude")
    gof = goodness_of_fit(fit, data, seed=0, bootstrap=499)
    assert gof.method == "bootstrap" and gof.bootstrap == 499 and gof.small_cells > 0.2
    assert gof.p_value > 0.01
    wrong = fit_switching_curve(data, model="normalised")
    assert goodness_of_fit(wrong, data, seed=0, bootstrap=499).p_value < 0.01
    # the same seed gives the same bootstrap
    assert goodness_of_fit(fit, data, seed=0, bootstrap=499).p_value == gof.p_value
