"""The cost of a read follows the geometry that was read: line length, P-bits per pulse, resets."""

import pytest

from cimjax.errors import CimjaxError
from cimjax.crossbar import CrossbarConfig, Mapping, PbitConfig, Tile, count_crossbar_read, count_read, needs_reset
from cimjax.energy import cost, default_energy_preset, figures, in_situ_write_energy, line_capacitance
from cimjax.energy import mtj_read_energy, write_pulse_energy


@pytest.fixture(scope="module")
def d():
    return default_energy_preset().design("in_situ")


def _pbit_part(d, **read):
    """Energy and delay of a read's P-bits: the read with them minus the same read without."""
    on = cost(count_crossbar_read(1, **read), d)
    off = cost(count_crossbar_read(1, **read, pbit_mode="off"), d)
    return on.energy_J - off.energy_J, on.latency_s - off.latency_s


@pytest.mark.parametrize("rows", [16, 64, 256, 1024])
def test_write_energy_per_pbit_follows_the_line_of_the_tile(d, rows):
    # closed form from the components: the pulse charges one column line of `rows` cells
    c_line = line_capacitance(rows, d["line_capacitance_per_cell"], d["driver_capacitance"])
    expected = write_pulse_energy(d["write_voltage"], d["write_width"], d["write_resistance"], c_line,
                                  d["level_shifter_energy"])
    read = dict(in_features=rows, out_features=8, tile_rows=rows, tile_cols=8)
    energy, _ = _pbit_part(d, **read)
    assert energy / (rows * 8) == pytest.approx(expected, rel=1e-9)


def test_write_energy_grows_by_the_line_charging_slope(d):
    # E(r) = a + r c_cell V^2: the growth per added row is the line-charging term, nothing else
    e = {r: _pbit_part(d, in_features=4, out_features=8, tile_rows=r, tile_cols=8)[0] / 32 for r in (64, 256)}
    assert (e[256] - e[64]) / 192 == pytest.approx(d["line_capacitance_per_cell"] * d["write_voltage"] ** 2, rel=1e-9)
    # the Table II design's 64-row geometry prices a 64-row read exactly as its Table II row
    assert e[64] == pytest.approx(in_situ_write_energy(d), rel=1e-9)
    assert in_situ_write_energy(d, 256) == pytest.approx(e[256], rel=1e-9)


def test_six_columns_are_never_priced_as_64_parallel_writes(d):
    # a 256 x 6 stochastic read on a 256 x 256 tile: one pulse per row, 6 P-bits per pulse
    counts = count_crossbar_read(1, 256, 6, tile_rows=256, tile_cols=256)
    assert counts.pbit_write_pulses == 256 and counts.pbit_writes == 256 * 6
    _, delay = _pbit_part(d, in_features=256, out_features=6, tile_rows=256, tile_cols=256)
    assert delay == pytest.approx(256 * (d["write_width"] + d["write_overhead_time"]), rel=1e-9)
    assert d["pbit_write_parallelism"] == 64  # the Table II design writes 64 per pulse ...
    assert delay > 10 * 256 * 6 / 64 * (d["write_width"] + d["write_overhead_time"])  # ... this read cannot
    # with 64 columns the same rows take the same pulses: 64 P-bits ride on each
    assert count_crossbar_read(1, 256, 64, tile_rows=256, tile_cols=256).pbit_write_pulses == 256


def test_known_configuration_counts_by_hand_with_resets():
    # B=3 vectors through 100 x 70 weights, 64 x 32 tiles, 2-bit bit-sliced pairs, P_sw = 0.8
    cfg = CrossbarConfig(mapping=Mapping(scheme="bitslice", bits=2), tile=Tile(64, 32),
                         pbit=PbitConfig(mode="exact", keep_prob=0.8))
    c = count_read(cfg, 3, 100, 70)
    # row tiles 64 + 36 -> 2; column tiles 32 + 32 + 6 -> 3
    assert c.pbit_writes == 3 * 100 * 70 * 2            # 42 000 cells written per read
    assert c.pbit_write_pulses == 3 * 100 * 3           # every used row of each column tile
    assert c.pbit_line_cells == 42_000 * 64             # each driver charges a 64-cell line
    assert (c.pbit_resets, c.pbit_reset_pulses, c.pbit_reset_line_cells) == (42_000, 900, 42_000 * 64)
    assert c.column_reads == 3 * 70 * 2 * 2             # columns x row tiles x slices
    assert c.column_line_cells == 840 * 64
    fair = count_read(CrossbarConfig(mapping=cfg.mapping, tile=cfg.tile, pbit=PbitConfig(keep_prob=0.5)), 3, 100, 70)
    assert (fair.pbit_resets, fair.pbit_reset_pulses) == (0, 0)  # toggle writes: fair bits as they are


def test_which_configurations_need_a_reset():
    assert needs_reset(CrossbarConfig(pbit=PbitConfig(keep_prob=0.8)))
    assert not needs_reset(CrossbarConfig(pbit=PbitConfig(keep_prob=0.5)))
    assert needs_reset(CrossbarConfig(pbit=PbitConfig(spread=True)))  # Fig. 13: cells scatter off 0.5
    assert not needs_reset(CrossbarConfig(pbit=PbitConfig(spread=False)))  # calibrated 1.5 V, 700 ps: 0.5
    assert needs_reset(CrossbarConfig(pbit=PbitConfig(spread=False, voltage=1.7)))
    assert not needs_reset(CrossbarConfig(pbit=PbitConfig(mode="off", keep_prob=0.8)))


def test_resets_are_priced_from_the_preset(d):
    cfg = lambda p: CrossbarConfig(tile=Tile(64, 64), pbit=PbitConfig(keep_prob=p))  # noqa: E731
    with_reset, without = count_read(cfg(0.8), 1, 64, 64), count_read(cfg(0.5), 1, 64, 64)
    de = cost(with_reset, d).energy_J - cost(without, d).energy_J
    dt = cost(with_reset, d).latency_s - cost(without, d).latency_s
    c_line = line_capacitance(64, d["line_capacitance_per_cell"], d["driver_capacitance"])
    per_reset = (write_pulse_energy(d["reset_voltage"], d["reset_width"], d["write_resistance"], c_line,
                                    d["level_shifter_energy"])
                 + mtj_read_energy(d["read_voltage"], d["read_resistance_p"], d["read_resistance_ap"],
                                   d["read_time"], c_line))
    assert de == pytest.approx(64 * 64 * per_reset, rel=1e-9)
    assert dt == pytest.approx(64 * (d["read_time"] + d["reset_width"] + d["write_overhead_time"]), rel=1e-9)


def test_ex_situ_overlap_is_on_only_where_the_design_allows():
    preset = default_energy_preset()
    counts = count_crossbar_read(4, 100, 30, tile_rows=64, tile_cols=64, scheme="ex_situ_periphery")
    compute = cost(count_crossbar_read(4, 100, 30, tile_rows=64, tile_cols=64, pbit_mode="off"),
                   preset, "ex_situ_periphery").latency_s
    f = figures(preset.design("ex_situ_periphery"))
    random = counts.random_bits_transferred / f.throughput_bit_per_ns * 1e-9
    assert cost(counts, preset, "ex_situ_periphery").latency_s == pytest.approx(max(compute, random), rel=1e-9)
    assert cost(counts, preset, "ex_situ_periphery", overlap=False).latency_s == pytest.approx(
        compute + random, rel=1e-9)
    pcb = counts.random_bits_transferred / figures(preset.design("ex_situ_pcb")).throughput_bit_per_ns * 1e-9
    assert cost(counts, preset, "ex_situ_pcb").latency_s == pytest.approx(compute + pcb, rel=1e-9)  # in sequence
    for scheme in ("ex_situ_pcb", "in_situ"):
        with pytest.raises(CimjaxError, match="overlap=True: design"):
            cost(counts, preset, scheme, overlap=True)
