"""Hierarchical device fit (issue 13, item 3): the population's spread without per-device estimation error."""

import json

import jax
import numpy as np
import pytest

from cimjax.cli import main
from cimjax.crossbar import CrossbarConfig, Mapping, PbitConfig, Periphery, nominal_keep_probability
from cimjax.device import (
    PrecessionCurve,
    SwitchingData,
    device_preset,
    fit_population,
    load_curve,
    save_switching_csv,
    simulate_switching_data,
)

TYPICAL = PrecessionCurve.create(1.5, 0.23, 1.2e-9, 1.0e-9)
# device-to-device sd in fit space (v50 in V, the rest lognormal sigmas): of the order of each
# device's estimation error at 100 trials per cell, so the plain sd of the fits is visibly inflated
SPREAD = {"v50": 0.015, "v_scale": 0.05, "precession_period": 0.02, "damping_time": 0.08}
SEEDS = (0, 1)


def _array(seed, n_devices=32, trials=100):
    kz, kd = jax.random.split(jax.random.PRNGKey(100 + seed))
    z = np.asarray(jax.random.normal(kz, (n_devices, 4)), float)
    parts = []
    for i in range(n_devices):
        c = TYPICAL.replace(
            v50=TYPICAL.v50 + SPREAD["v50"] * z[i, 0],
            v_scale=TYPICAL.v_scale * np.exp(SPREAD["v_scale"] * z[i, 1]),
            precession_period=TYPICAL.precession_period * np.exp(SPREAD["precession_period"] * z[i, 2]),
            damping_time=TYPICAL.damping_time * np.exp(SPREAD["damping_time"] * z[i, 3]))
        d = simulate_switching_data(jax.random.fold_in(kd, i), c, np.linspace(0.6, 2.6, 10), np.linspace(0.2e-9, 2e-9, 6), trials)
        parts.append(d._replace(device=np.full(d.device.shape, f"d{i:02d}", dtype=object)))
    return SwitchingData(*(np.concatenate([getattr(d, f) for d in parts]) for f in SwitchingData._fields[:5]))


@pytest.mark.parametrize("seed", [SEEDS[0], pytest.param(SEEDS[1], marks=pytest.mark.slow)])
def test_population_spread_is_recovered_where_the_plain_sd_overstates_it(seed):
    confidence = 1 - 0.05 / (len(SPREAD) * len(SEEDS))  # Bonferroni over 4 sds x 2 seeds
    pop = fit_population(_array(seed), "precession", confidence=confidence)
    assert pop.model.name == "precession" and len(pop.devices) == 32 and not pop.excluded
    for name, truth in SPREAD.items():
        lo, hi = pop.sd_intervals[name]
        assert lo <= truth <= hi, (seed, name, lo, truth, hi)
        # the plain sd of the per-device fits adds each device's estimation error
        assert pop.plain_sd[name] > truth and pop.plain_sd[name] > pop.sd[name], (seed, name)
    lo, hi = pop.mean_intervals["v50"]
    assert lo <= 1.5 <= hi
    assert pop.correlation.shape == (4, 4)


def test_calibrate_writes_the_population_and_pbit_config_uses_it(tmp_path, capsys):
    path, out = tmp_path / "array.csv", tmp_path / "fit.json"
    save_switching_csv(_array(0, n_devices=8), path)
    assert main(["device", "calibrate", str(path), "--out", str(out), "--model", "precession"]) == 0
    text = capsys.readouterr().out
    assert "population (8 devices, precession; random effects)" in text
    obj = json.loads(out.read_text())
    population = obj["population"]
    assert population["n_devices"] == 8 and set(population["sd"]) == set(SPREAD)
    assert "spread" in obj and len(obj["devices"]) == 8
    preset = device_preset(str(out))
    assert float(load_curve(out)[0].v50) == pytest.approx(population["typical"]["v50"], rel=1e-6)
    # the nominal device is the population's typical device, not the pooled curve
    assert float(preset.pbit.v50) == pytest.approx(population["typical"]["v50"], rel=1e-6)
    assert float(preset.pbit.v50) != pytest.approx(obj["pooled"]["parameters"]["v50"], rel=1e-6)
    assert float(preset.pbit_spread.sigma_v50) == pytest.approx(population["sd"]["v50"], rel=1e-5)
    assert float(preset.pbit_spread.sigma_log_period) == pytest.approx(population["sd"]["precession_period"], rel=1e-5)
    config = CrossbarConfig(mapping=Mapping("analog"), periphery=Periphery.ideal(),
                            pbit=PbitConfig(device=str(out), spread=False))
    assert nominal_keep_probability(config.pbit) == pytest.approx(0.5, abs=1e-4)
