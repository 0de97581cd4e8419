"""Changing one parameter moves the figures the way the physics says."""

import numpy as np
import pytest

from cimjax.energy import default_energy_preset, figures
from cimjax.energy import write_pulse_energy
from cimjax.energy import in_situ_write_energy

WIDTHS_NS = [0.3, 0.5, 0.7, 1.0, 1.5, 3.0]


@pytest.fixture(scope="module")
def preset():
    return default_energy_preset()


def test_in_situ_throughput_is_parallelism_over_write_plus_read_cycle(preset):
    d = preset.design("in_situ")
    for width in WIDTHS_NS:
        for read in (0.5e-9, 1.2e-9, 4e-9):
            dd = d.replace(write_width=width * 1e-9, read_time=read)
            cycle = width * 1e-9 + d["write_overhead_time"] + read
            # bits per ns = P-bits per cycle / cycle in ns
            expected = d["pbit_write_parallelism"] / (cycle * 1e9)
            assert figures(dd).throughput_bit_per_ns == pytest.approx(expected, rel=1e-12)


def test_throughput_inversely_proportional_to_cycle_time(preset):
    d = preset.design("in_situ")
    t = np.array([figures(d.replace(write_width=w * 1e-9)).throughput_bit_per_ns
                  for w in WIDTHS_NS])
    cycle = np.array(WIDTHS_NS) * 1e-9 + d["write_overhead_time"] + d["read_time"]
    np.testing.assert_allclose(t * cycle, t[0] * cycle[0], rtol=1e-12)


def test_ex_situ_generation_limited_throughput_scales_with_cycle(preset):
    # with an unbounded bus, generators alone set the rate: n / (write + read + sample)
    d = preset.design("ex_situ_periphery").replace(bus_frequency=1e15)
    for width in WIDTHS_NS:
        dd = d.replace(write_width=width * 1e-9)
        t_gen = (width * 1e-9 + d["write_overhead_time"] + d["local_read_time"]
                 + d["amplifier_time"] + d["comparator_time"])
        assert figures(dd).throughput_bit_per_ns == pytest.approx(d["n_pbits"] / (t_gen * 1e9))
    # with a slow bus, the bus sets it (the transfer bottleneck of Fig. 2)
    slow = d.replace(bus_frequency=1e8)
    assert figures(slow).throughput_bit_per_ns == pytest.approx(d["bus_width"] * 1e8 * 1e-9)


def test_write_energy_linear_in_v_squared(preset):
    d = preset.design("in_situ")
    volts = np.array([0.5, 1.0, 1.5, 2.0, 3.0])
    e = np.array([in_situ_write_energy(d.replace(write_voltage=v)) for v in volts])
    per_v2 = (e - d["level_shifter_energy"]) / volts**2
    np.testing.assert_allclose(per_v2, per_v2[0], rtol=1e-12)


def test_write_energy_linear_in_width_with_joule_slope(preset):
    d = preset.design("in_situ")
    widths = np.array(WIDTHS_NS) * 1e-9
    e = np.array([in_situ_write_energy(d.replace(write_width=w)) for w in widths])
    slope = np.diff(e) / np.diff(widths)
    # dE/dt_w = V^2 / R: 1.5^2 / 38.2 kOhm = 58.9 uW (the Joule heat of the MTJ during the pulse)
    np.testing.assert_allclose(slope, d["write_voltage"] ** 2 / d["write_resistance"], rtol=1e-9)
    assert d["write_voltage"] ** 2 / d["write_resistance"] == pytest.approx(58.9e-6, rel=1e-3)


def test_write_pulse_closed_form_by_hand():
    # 1 V over 1 kOhm for 1 ns = 1 pJ; 10 fF charged to 1 V = 10 fJ; plus 5 fJ shifter
    assert write_pulse_energy(1.0, 1e-9, 1e3, 10e-15, 5e-15) == pytest.approx(1.015e-12)


def test_energy_per_bit_rises_with_width_and_voltage_for_every_design(preset):
    for d in preset.designs.values():
        e_w = [figures(d.replace(write_width=w * 1e-9)).energy_pJ_per_bit for w in WIDTHS_NS]
        e_v = [figures(d.replace(write_voltage=v)).energy_pJ_per_bit for v in (1.0, 1.5, 2.0)]
        assert np.all(np.diff(e_w) > 0) and np.all(np.diff(e_v) > 0), d.name


def test_parallelism_and_area(preset):
    d = preset.design("in_situ")
    t = [figures(d.replace(pbit_write_parallelism=p)).throughput_bit_per_ns for p in (16, 32, 64)]
    assert t[1] == pytest.approx(2 * t[0]) and t[2] == pytest.approx(2 * t[1])
    assert figures(d.replace(pbit_write_parallelism=64)).added_area_um2 == 0.0
    ex = preset.design("ex_situ_periphery")
    a = [figures(ex.replace(n_pbits=n)).added_area_um2 for n in (8, 16)]
    per_generator = (ex["write_driver_area"] + ex["amplifier_area"] + ex["comparator_area"]
                     + ex["latch_area"])
    assert a[1] - a[0] == pytest.approx(8 * per_generator)


def test_sweep_axes_follow_the_knobs(preset):
    from cimjax.apps.energy_table import sweep
    from cimjax.errors import CimjaxError

    s = sweep(preset, "parallelism", [8, 16, 32])
    t = s["designs"]["in_situ"]["throughput_bit_per_ns"]
    assert t[1] == pytest.approx(2 * t[0]) and t[2] == pytest.approx(4 * t[0])
    assert s["designs"]["in_situ"]["added_area_um2"] == [0.0, 0.0, 0.0]
    size = sweep(preset, "array_size", [32, 64])["designs"]
    # a longer column line costs more write energy; ex-situ generators are outside the array
    assert size["in_situ"]["energy_pJ_per_bit"][1] > size["in_situ"]["energy_pJ_per_bit"][0]
    assert len(set(size["ex_situ_periphery"]["energy_pJ_per_bit"])) == 1
    with pytest.raises(CimjaxError, match="axis='voltage' is not one of"):
        sweep(preset, "voltage")
    with pytest.raises(CimjaxError, match="parallelism 8192 exceeds the 64 x 64 tile"):
        sweep(preset, "parallelism", [8192])
