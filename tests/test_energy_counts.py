"""Operation counts of crossbar reads: hand-computed shapes, a brute-force tile walk, bad input."""

import itertools
import math

import pytest

from cimjax.errors import CimjaxError
from cimjax.crossbar import OpCounts, count_crossbar_read, count_random_bits

TILE = dict(tile_rows=64, tile_cols=32)


def test_known_shape_matches_hand_counts():
    # B=3 vectors of N=100 through a 100 x 70 matrix, 64 x 32 tiles, 2 weight slices.
    # Row tiles: 64 + 36 rows -> 2; column tiles: 32 + 32 + 6 columns -> 3; 6 tiles.
    c = count_crossbar_read(3, 100, 70, slices=2, pbit_mode="exact", **TILE)
    assert c.tile_reads == 18            # 3 vectors x 6 tiles
    assert c.cell_reads == 42_000        # 3 x 100 x 70 cells x 2 slices
    assert c.pbit_writes == 42_000       # exact: one write per cell per read
    assert c.dac_conversions == 900      # 3 x 100 inputs x 3 column tiles
    assert c.adc_conversions == 840      # 3 x 70 columns x 2 row tiles x 2 slices
    assert c.accumulations == 630        # 3 x 70 outputs x (2 x 2 partial sums - 1)
    assert c.random_bits_generated == 42_000
    assert c.random_bits_transferred == 0  # in-situ: used where generated


def test_modes_and_schemes_hand_counts():
    kw = dict(slices=2, **TILE)
    # refresh=2 over 3 vectors: masks written before reads 1 and 3 -> 2 x 14000 cells
    assert count_crossbar_read(3, 100, 70, pbit_mode="refresh", refresh=2, **kw).pbit_writes == 28_000
    assert count_crossbar_read(3, 100, 70, pbit_mode="refresh", refresh=5, **kw).pbit_writes == 14_000
    assert count_crossbar_read(3, 100, 70, pbit_mode="moment", **kw).pbit_writes == 42_000
    off = count_crossbar_read(3, 100, 70, pbit_mode="off", **kw)
    assert (off.pbit_writes, off.random_bits_generated, off.random_bits_transferred) == (0, 0, 0)
    assert off.cell_reads == 42_000
    for scheme in ("ex_situ_periphery", "ex_situ_pcb"):
        ex = count_crossbar_read(3, 100, 70, scheme=scheme, **kw)
        assert ex.random_bits_generated == ex.random_bits_transferred == 42_000
    # slices merged in analog before the ADC: one conversion per column per row tile
    merged = count_crossbar_read(3, 100, 70, merge_slices=True, **kw)
    assert (merged.adc_conversions, merged.accumulations) == (420, 210)  # 3x70x2, 3x70x(2-1)
    assert merged.cell_reads == 42_000 and merged.dac_conversions == 900
    assert count_random_bits(500) == OpCounts(pbit_writes=500, random_bits_generated=500,
                                              random_bits_transferred=500, pbit_write_pulses=500)
    assert count_random_bits(500, scheme="in_situ").random_bits_transferred == 0


def _brute_force(b, n, m, r, c, s):
    """Walks every tile of every read and tallies what it touches."""
    tally = dict(tile_reads=0, cell_reads=0, dac=0, adc=0, partials=0)
    for _ in range(b):
        for r0, c0 in itertools.product(range(0, n, r), range(0, m, c)):
            rows, cols = min(r, n - r0), min(c, m - c0)
            tally["tile_reads"] += 1
            tally["cell_reads"] += rows * cols * s
            tally["dac"] += rows
            tally["adc"] += cols * s
            tally["partials"] += cols * s
    return tally


@pytest.mark.parametrize("b,n,m,r,c,s", [(1, 1, 1, 1, 1, 1), (2, 65, 33, 64, 32, 1),
                                          (4, 128, 64, 64, 64, 3), (1, 784, 10, 128, 8, 2),
                                          (0, 10, 10, 4, 4, 1)])
def test_closed_forms_match_tile_walk(b, n, m, r, c, s):
    ref = _brute_force(b, n, m, r, c, s)
    got = count_crossbar_read(b, n, m, tile_rows=r, tile_cols=c, slices=s)
    assert got.tile_reads == ref["tile_reads"]
    assert got.cell_reads == ref["cell_reads"]
    assert got.dac_conversions == ref["dac"]
    assert got.adc_conversions == ref["adc"]
    # combining P partial sums per output takes P - 1 additions
    assert got.accumulations == ref["partials"] - b * m


def test_opcounts_arithmetic():
    a = count_crossbar_read(2, 10, 10, tile_rows=8, tile_cols=8)
    b = count_crossbar_read(1, 10, 5, tile_rows=8, tile_cols=8, pbit_mode="off")
    total = a + b
    assert isinstance(total, OpCounts) and len(total) == len(a)
    assert total.cell_reads == 200 + 50
    assert sum([a, b]) == total
    assert 3 * a == a * 3 == a + a + a
    assert (a * 0) == OpCounts()
    # counts equal those of one call with the combined batch
    assert 2 * count_crossbar_read(1, 10, 10, tile_rows=8, tile_cols=8) == a


@pytest.mark.parametrize("kwargs,message", [
    (dict(batch=-1), "batch=-1 must be >= 0"),
    (dict(in_features=0), "in_features=0 must be >= 1"),
    (dict(out_features=2.5), "out_features=2.5 must be an integer"),
    (dict(tile_rows=True), "tile_rows=True must be an integer, not a bool"),
    (dict(tile_cols=0), "tile_cols=0 must be >= 1"),
    (dict(slices=0), "slices=0 must be >= 1"),
    (dict(pbit_mode="fast"), "pbit_mode='fast' is not one of"),
    (dict(scheme="quantum"), "scheme='quantum' is not one of"),
    (dict(pbit_mode="refresh", refresh=0), "refresh=0 must be >= 1"),
    (dict(pbit_mode="exact", refresh=4), "refresh=4 only applies with pbit_mode='refresh'"),
    (dict(merge_slices="yes"), "merge_slices='yes' must be True or False"),
])
def test_bad_input_names_the_parameter(kwargs, message):
    args = dict(batch=2, in_features=8, out_features=8, tile_rows=4, tile_cols=4)
    args.update(kwargs)
    with pytest.raises(CimjaxError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        count_crossbar_read(args.pop("batch"), args.pop("in_features"), args.pop("out_features"),
                            **args)


def test_bad_scale_and_random_bits():
    a = OpCounts(tile_reads=1)
    with pytest.raises(CimjaxError, match="scale factor=-1 must be >= 0"):
        a * -1
    with pytest.raises(CimjaxError, match="scale factor=1.5 must be an integer"):
        a * 1.5
    with pytest.raises(CimjaxError, match="bits=-3 must be >= 0"):
        count_random_bits(-3)
    with pytest.raises(CimjaxError, match="scheme='x' is not one of"):
        count_random_bits(3, scheme="x")
    assert math.isclose(sum(OpCounts(1, 2, 3, 4, 5, 6, 7, 8)), 36)


def test_cache_never_admits_a_bool_or_float_and_unhashables_are_named():
    ok = count_crossbar_read(1, 8, 8, tile_rows=4, tile_cols=4)
    assert count_crossbar_read(1, 8, 8, tile_rows=4, tile_cols=4) is ok  # cached
    with pytest.raises(CimjaxError, match="batch=True must be an integer, not a bool"):
        count_crossbar_read(True, 8, 8, tile_rows=4, tile_cols=4)
    with pytest.raises(CimjaxError, match=r"in_features=8.0 must be an integer"):
        count_crossbar_read(1, 8.0, 8, tile_rows=4, tile_cols=4)
    with pytest.raises(CimjaxError, match=r"batch=\[1\] must be an integer"):
        count_crossbar_read([1], 8, 8, tile_rows=4, tile_cols=4)
