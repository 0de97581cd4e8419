"""Endurance (issue 13 item 6, Fig. 19): switching drift with write cycles, none by default,
and the write cycles a TRNG run or a counted crossbar run puts on each P-bit.

Known answers: the closed forms of the logistic curve with the drifted parameters written
out here; cycle counts counted by hand; ones per chunk within a binomial interval.
"""

import json
import math

import jax
import numpy as np
import pytest
from scipy import stats

from cimjax import trng
from cimjax.cli import main
from cimjax.crossbar import count_crossbar_read, count_random_bits
from cimjax.device import (
    RATED_CYCLES,
    DevicePreset,
    Endurance,
    PrecessionCurve,
    curve_after_cycles,
    default_preset,
    load_preset,
    save_preset,
)
from cimjax.energy import cost_report, default_energy_preset, design_pbits, full_rate_wear, pbit_lifetime
from cimjax.energy import pbit_write_cycles
from cimjax.errors import ConfigError


def closed_form(v, t, v50, v_scale, period, tau):
    """sigmoid((V - v50)/s) g(t)/g(t_peak), g = 1 - exp(-t/tau) cos(2 pi t/T) (SwitchingCurve's
    docstring), in float64 from its parameters."""
    omega = 2 * np.pi / period
    g = lambda x: 1 - np.exp(-x / tau) * np.cos(omega * x)  # noqa: E731
    t_peak = (np.pi - np.arctan(1 / (omega * tau))) / omega
    return 1 / (1 + np.exp(-(v - v50) / v_scale)) * g(t) / g(t_peak)


def test_no_drift_leaves_p_sw_unchanged_bit_for_bit():
    preset = default_preset()
    curve = preset.pbit
    assert not preset.endurance.drifts and float(preset.endurance.rated_cycles) == RATED_CYCLES
    for cycles in (0, 1e6, 1e12, np.array([0.0, 1e3, 1e15])):
        aged = curve_after_cycles(curve, preset.endurance, cycles)
        assert aged is curve
        np.testing.assert_array_equal(aged.switching_probability(1.5, 7e-10), curve.switching_probability(1.5, 7e-10))
    zero = Endurance.create(rated_cycles=1e9)
    assert curve_after_cycles(curve, zero, 1e9) is curve
    # a TRNG run on a preset without drift draws the streams it drew before endurance existed
    a = trng.generate_streams(jax.random.key(5), 3, 500, preset=preset)
    b = trng.generate_streams(jax.random.key(5), 3, 500, preset=preset.replace(endurance=zero), cycles_before=1e9)
    np.testing.assert_array_equal(a.bits, b.bits)
    assert a.drift is None and b.drift is None


@pytest.mark.parametrize("cycles", [0.0, 9.0, 1e6, 1e12])
def test_known_drift_law_gives_the_closed_form(cycles):
    curve = default_preset().pbit
    law = Endurance.create(v50_per_decade=0.02, v_scale_per_decade=0.05)
    aged = curve_after_cycles(curve, law, cycles)
    d = math.log10(1 + cycles)
    v50 = float(curve.v50) + float(law.v50_per_decade) * d
    v_scale = float(curve.v_scale) * (1 + float(law.v_scale_per_decade) * d)
    period, tau = float(curve.precession_period), float(curve.damping_time)
    for v, t in ((1.5, 7e-10), (1.2, 5e-10), (2.0, 7e-10)):
        expected = closed_form(v, t, v50, v_scale, period, tau)
        assert float(aged.switching_probability(v, t)) == pytest.approx(expected, abs=2e-6)


def test_amplitude_drift_on_a_precession_curve():
    curve = PrecessionCurve.create(v50=1.5, v_scale=0.2, precession_period=1.4e-9, damping_time=1e-9, amplitude=0.95)
    law = Endurance.create(amplitude_per_decade=0.01)
    aged = curve_after_cycles(curve, law, 1e6)
    # P_sw = floor + (a - floor) S W with floor 0: scales with the amplitude
    ratio = aged.switching_probability(1.6, 7e-10) / curve.switching_probability(1.6, 7e-10)
    assert float(ratio) == pytest.approx((0.95 - 0.06) / 0.95, rel=1e-5)


def test_bad_drift_is_refused_not_clamped():
    curve = default_preset().pbit
    with pytest.raises(ConfigError, match=r"cycles=-1 must be finite and >= 0"):
        curve_after_cycles(curve, Endurance.create(v50_per_decade=0.01), -1)
    with pytest.raises(ConfigError, match=r"v_scale_per_decade=-0.25 takes v_scale to <= 0 from 1e\+04 cycles.*"
                                          r"refused, not clamped"):
        curve_after_cycles(curve, Endurance.create(v_scale_per_decade=-0.25), 1e6)
    precession = PrecessionCurve.create(v50=1.5, v_scale=0.2, precession_period=1.4e-9, damping_time=1e-9)
    with pytest.raises(ConfigError, match=r"amplitude_per_decade=-0.01 takes the amplitude out of \(0, 1\] from 0 "):
        curve_after_cycles(precession, Endurance.create(amplitude_per_decade=-0.01), 10)
    with pytest.raises(ConfigError, match=r"amplitude_per_decade=0.1 needs a curve with a 'amplitude' parameter; "
                                          r"SwitchingCurve has none"):
        curve_after_cycles(curve, Endurance.create(amplitude_per_decade=0.1), 10)
    with pytest.raises(ConfigError, match=r"rated_cycles=0 must be finite and > 0"):
        Endurance.create(rated_cycles=0)
    with pytest.raises(ConfigError, match=r"cycles_before=-5 must be finite and >= 0"):
        trng.generate_streams(jax.random.key(0), 1, 10, cycles_before=-5)


def test_preset_carries_endurance_and_old_files_stay_valid(tmp_path):
    old = default_preset().to_dict()
    assert "endurance" not in old  # a preset without drift writes what it wrote before
    assert not DevicePreset.from_dict(old).endurance.drifts
    law = Endurance.create(v50_per_decade=0.02, rated_cycles=1e10)
    path = tmp_path / "aging.json"
    save_preset(default_preset().replace(endurance=law), path)
    loaded = load_preset(path)
    assert float(loaded.endurance.v50_per_decade) == pytest.approx(0.02) and float(loaded.endurance.rated_cycles) == 1e10
    bad = dict(old, endurance={"v50_per_decade": 0.01, "speed": 2})
    with pytest.raises(ConfigError, match=r"endurance has unknown fields \['speed'\]"):
        DevicePreset.from_dict(bad, source="x.json")
    with pytest.raises(ConfigError, match=r"x.json: Endurance: v50_per_decade=nan must be finite"):
        DevicePreset.from_dict(dict(old, endurance={"v50_per_decade": float("nan")}), source="x.json")


@pytest.mark.parametrize("mode,debias,per_device", [("reset", None, 2 * 40), ("toggle", None, 40),
                                                    ("reset", "xor", 2 * 2 * 40), ("toggle", "xor", 2 * 40)])
def test_trng_write_cycles_match_a_hand_count(mode, debias, per_device):
    # 40 output bits; reset mode pulses a reset and a write per raw bit, xor reads 2 raw bits per bit
    streams = trng.generate_streams(jax.random.key(1), 3, 40, mode=mode, debias=debias, cycles_before=7)
    np.testing.assert_array_equal(streams.write_cycles, np.full(3, per_device))
    assert streams.cycles_before == 7


def test_von_neumann_write_cycles_count_the_raw_pairs_read():
    streams = trng.generate_streams(jax.random.key(2), 3, 25, p_sw=np.array([0.3, 0.5, 0.7]), debias="von-neumann")
    # each stream reads whole pairs, at least one per output bit; every raw bit is a reset and a write
    assert np.all(streams.raw_bits % 2 == 0) and np.all(streams.raw_bits >= 2 * 25)
    np.testing.assert_array_equal(streams.write_cycles, 2 * streams.raw_bits)


def test_drifting_stream_follows_the_drifted_p_sw_per_chunk():
    law = Endurance.create(v50_per_decade=0.05)
    preset = default_preset().replace(endurance=law)
    n, chunks = 64_000, 8
    streams = trng.generate_streams(jax.random.key(3), 2, n, preset=preset, spread=False, drift_chunks=chunks)
    d = streams.drift
    curve = preset.pbit
    np.testing.assert_array_equal(d.edges, np.arange(chunks + 1) * (n // chunks))
    z = stats.norm.isf(0.01 / (2 * 2 * chunks))  # two-sided 1% over all device-chunks (Bonferroni)
    for c in range(chunks):
        lo, hi = d.edges[c], d.edges[c + 1]
        cycles = 2 * (lo + hi - 1) / 2 + 1  # reset mode: 2 pulses per earlier bit, then this bit's reset
        assert d.cycles[c] == pytest.approx(cycles)
        p = closed_form(1.5, float(preset.calibrated_width),
                        float(curve.v50) + float(law.v50_per_decade) * math.log10(1 + cycles), float(curve.v_scale),
                        float(curve.precession_period), float(curve.damping_time))
        np.testing.assert_allclose(d.p_sw[:, c], p, atol=2e-6)
        m = hi - lo
        ones = streams.bits[:, lo:hi].sum(axis=1)
        assert np.all(np.abs(ones - m * p) <= z * math.sqrt(m * p * (1 - p))), (c, ones, m * p)
    assert d.p_sw[0, 0] - d.p_sw[0, -1] > 0.05  # the drift is visible along the run


def test_energy_write_cycles_per_pbit_and_lifetime():
    preset = default_energy_preset()
    # 8 reads of a 100 x 30 layer, exact mode with resets: each of the 3000 cells gets 8 writes and 8 resets
    counts = count_crossbar_read(8, 100, 30, tile_rows=64, tile_cols=64, reset=True)
    report = cost_report(counts, preset, n_items=2, in_situ_pbits=100 * 30)
    assert report["in_situ"]["pbit_write_cycles"] == 8.0  # (8 + 8) per run / 2 items
    assert report["in_situ"]["lifetime_items"] == RATED_CYCLES / 8.0
    periphery = preset.design("ex_situ_periphery")
    assert report["ex_situ_periphery"]["pbit_write_cycles"] == 8 * 3000 / 2 / periphery["n_pbits"]
    assert cost_report(counts, preset)["in_situ"]["pbit_write_cycles"] is None  # cells unknown
    assert pbit_write_cycles(count_random_bits(1000), preset.design("ex_situ_pcb")) == 1000 / design_pbits(
        preset.design("ex_situ_pcb"))
    assert pbit_lifetime(0.0) == math.inf and pbit_lifetime(4.0, rated_cycles=1e6) == 2.5e5
    with pytest.raises(ConfigError, match="in_situ_pbits=0 must be a positive integer"):
        pbit_write_cycles(counts, preset.design("in_situ"), 0)
    with pytest.raises(ConfigError, match="rated_cycles=-1 must be a finite number > 0"):
        pbit_lifetime(1.0, rated_cycles=-1)
    # Table II's in-situ design at full rate: 64 P-bits of 4096 written per cycle
    d = preset.design("in_situ")
    wear = full_rate_wear(d)
    cycle = d["write_width"] + d["write_overhead_time"] + d["read_time"]
    assert wear["writes_per_s_per_pbit"] == pytest.approx(64 / cycle / 4096, rel=1e-12)


def test_cli_reports_write_cycles_and_drift(tmp_path, capsys):
    path = tmp_path / "aging.json"
    save_preset(default_preset().replace(endurance=Endurance.create(v50_per_decade=0.05)), path)
    out = tmp_path / "bits.npy"
    code = main(["trng", "generate", "--devices", "2", "--bits", "1000", "--preset", str(path), "--out", str(out),
                 "--cycles-before", "1e3"])
    text = capsys.readouterr().out
    assert code == 0
    assert "write cycles per P-bit this run: 2000..2000 (a reset and a write per raw bit" in text
    assert "3000 after the run, from 1000" in text and "endurance drift: P_sw mean" in text
    assert main(["trng", "generate", "--bits", "10", "--out", str(out), "--cycles-before", "-1"]) == 2
    assert "--cycles-before=-1 must be a finite count >= 0" in capsys.readouterr().err
    assert main(["energy", "table", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert rows[0]["endurance_at_full_rate"]["pbits"] == 4096


def test_drift_leaving_its_domain_within_the_run_is_refused_before_drawing():
    preset = default_preset().replace(endurance=Endurance.create(v_scale_per_decade=-0.3))  # v_scale 0 at 2154 cycles
    trng.generate_streams(jax.random.key(0), 1, 100, preset=preset, spread=False)  # 200 cycles: inside
    with pytest.raises(ConfigError, match=r"takes v_scale to <= 0 from 2.15e\+03 cycles, and cycles=2200 were asked"):
        trng.generate_streams(jax.random.key(0), 1, 100, preset=preset, spread=False, cycles_before=2000)
