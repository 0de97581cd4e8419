"""Cost of counted runs: hand-computed energy and latency, consistency with Table II figures."""

import pytest

from cimjax.errors import CimjaxError
from cimjax.crossbar import OpCounts, count_crossbar_read, count_random_bits
from cimjax.energy import default_energy_preset, figures
from cimjax.energy import Cost, cost, cost_report


@pytest.fixture(scope="module")
def preset():
    return default_energy_preset()


def _round_design(preset):
    """In-situ design with round numbers so its costs can be worked out by hand."""
    return preset.design("in_situ").replace(
        write_voltage=1.0, write_width=1e-9, write_resistance=1e3, write_overhead_time=1e-9,
        level_shifter_energy=0.0, driver_capacitance=0.0, line_capacitance_per_cell=1e-15,
        array_rows=10, read_voltage=0.1, read_resistance_p=1e4, read_resistance_ap=1e4,
        read_time=1e-9, adc_energy=1e-12, dac_energy=1e-13, accumulation_energy=1e-14,
        pbit_write_parallelism=5, parallel_tiles=1)


def test_in_situ_cost_by_hand(preset):
    d = _round_design(preset)
    # 10 P-bits on 10-cell lines written by 2 pulses; 6 columns of 10 cells charged by the read
    counts = OpCounts(tile_reads=2, cell_reads=10, pbit_writes=10, dac_conversions=4,
                      adc_conversions=6, random_bits_generated=10, accumulations=3,
                      pbit_write_pulses=2, pbit_line_cells=100, column_reads=6,
                      column_line_cells=60)
    # write: 1 V^2 / 1 kOhm * 1 ns = 1 pJ, + 10 cells * 1 fF * 1 V^2 = 10 fJ  -> 1.010 pJ
    # cell read: 2 devices * 0.01 V^2 * 1e-4 S * 1 ns = 2 fJ
    # adc: 1 pJ + column charge 10 fF * 0.01 V^2 = 0.1 fJ; dac 0.1 pJ; add 10 fJ
    expected = (10 * 1.010e-12 + 10 * 2e-15 + 6 * (1e-12 + 0.1e-15) + 4 * 1e-13 + 3 * 1e-14)
    # latency: 2 reads * 1 ns + 2 pulses * (1 ns pulse + 1 ns overhead)
    c = cost(counts, d)
    assert c.energy_J == pytest.approx(expected, rel=1e-12)
    assert c.latency_s == pytest.approx(2e-9 + 2 * 2e-9, rel=1e-12)
    assert c.area_um2 == 0.0
    assert c.per(2) == Cost(c.energy_J / 2, c.latency_s / 2, 0.0)


@pytest.mark.parametrize("design", ["ex_situ_periphery", "ex_situ_periphery_wide", "ex_situ_pcb"])
def test_ex_situ_random_bits_cost_the_table_figures(preset, design):
    # the same run with and without P-bits differs by exactly bits x (pJ/bit) and bits / throughput
    on = count_crossbar_read(4, 100, 30, tile_rows=64, tile_cols=64)
    off = count_crossbar_read(4, 100, 30, tile_rows=64, tile_cols=64, pbit_mode="off")
    f = figures(preset.design(design))
    # in sequence (overlap off): the random bits' time adds to the compute's
    d_on, d_off = (cost(c, preset, design=design, overlap=False) for c in (on, off))
    bits = on.random_bits_generated
    assert (d_on.energy_J - d_off.energy_J) == pytest.approx(bits * f.energy_pJ_per_bit * 1e-12,
                                                             rel=1e-9)
    assert (d_on.latency_s - d_off.latency_s) == pytest.approx(bits / f.throughput_bit_per_ns * 1e-9,
                                                               rel=1e-9)
    assert d_on.area_um2 == f.added_area_um2


def test_one_count_prices_every_scheme(preset):
    counts = count_crossbar_read(8, 64, 64, tile_rows=64, tile_cols=64)  # counted in-situ
    report = cost_report(counts, preset, n_items=8)
    assert list(report) == list(preset.designs)
    e = {k: v["energy_J"] for k, v in report.items()}
    assert e["in_situ"] < e["ex_situ_periphery_wide"] < e["ex_situ_periphery"] < e["ex_situ_pcb"]
    assert cost(counts, preset, "ex_situ_periphery") == cost(
        count_crossbar_read(8, 64, 64, tile_rows=64, tile_cols=64, scheme="ex_situ_periphery"),
        preset, "ex_situ_periphery")
    # noise injected explicitly by a sampler is priced the same way
    noise = cost(count_random_bits(1000), preset, "ex_situ_periphery")
    assert noise.energy_J == pytest.approx(1000 * figures(preset.design("ex_situ_periphery"))
                                           .energy_pJ_per_bit * 1e-12)


def test_cost_bad_input(preset):
    counts = OpCounts(tile_reads=1)
    with pytest.raises(CimjaxError, match="counts must be an OpCounts, got dict"):
        cost({"tile_reads": 1}, preset, "in_situ")
    with pytest.raises(CimjaxError, match="scheme='warp' is not one of"):
        cost(counts, preset, "warp")
    with pytest.raises(CimjaxError, match="give a scheme"):
        cost(counts, preset)
    with pytest.raises(CimjaxError, match="scheme='in_situ' does not match design 'ex_situ_pcb'"):
        cost(counts, preset.design("ex_situ_pcb"), "in_situ")
    with pytest.raises(CimjaxError, match="n=0 must be a positive integer"):
        cost(counts, preset, "in_situ").per(0)


@pytest.mark.parametrize("counts, needle", [
    (OpCounts(tile_reads=-5, cell_reads=-100), "counts.tile_reads=-5 must be an integer >= 0"),
    (OpCounts(cell_reads=float("nan")), "counts.cell_reads=nan must be an integer >= 0"),
    (OpCounts(pbit_writes=2.5), "counts.pbit_writes=2.5 must be an integer >= 0"),
    (OpCounts(cell_reads="7"), "counts.cell_reads='7' must be an integer >= 0"),
    (OpCounts(random_bits_generated=True), "counts.random_bits_generated=True must be an integer >= 0"),
])
def test_hand_made_counts_are_checked_before_pricing(preset, counts, needle):
    # were: a negative energy and latency, nan, or a TypeError from multiplying a str
    from cimjax.energy import pbit_write_cycles

    for price in (lambda: cost(counts, preset, "in_situ"), lambda: cost_report(counts, preset),
                  lambda: pbit_write_cycles(counts, preset.design("ex_situ_pcb"))):
        with pytest.raises(CimjaxError) as err:
            price()
        assert needle in str(err.value)


@pytest.mark.parametrize("rows", [-5, 0, float("nan"), float("inf"), "64", True])
def test_line_energies_refuse_impossible_rows(preset, rows):
    # were: a positive energy for -5 rows, nan for nan rows
    from cimjax.energy import column_charge_energy, in_situ_write_energy

    for energy in (column_charge_energy, in_situ_write_energy):
        with pytest.raises(CimjaxError, match=r"rows=.* must be a finite number >= 1"):
            energy(preset.design("in_situ"), rows)
    assert in_situ_write_energy(preset.design("in_situ"), 64) > 0
