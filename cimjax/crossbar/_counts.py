"""Operation counts of crossbar reads, derived from shapes and modes only.

What the hardware does for one layer's read is fixed by the layer's shape, the tile
size, the bit-slicing and the P-bit mode, so it is counted in plain Python integers
outside `jit`: no per-element tallies, no effect on the compiled path. The energy
model (`cimjax.energy._cost`) turns an `OpCounts` into joules, seconds and um^2.

Counting rules for `count_crossbar_read(B, N, M, tile_rows=R, tile_cols=C, slices=S)`,
an input batch of B vectors of length N against an N x M weight matrix:

* tiles: the matrix is split into `Rt = ceil(N/R)` row tiles and `Ct = ceil(M/C)` column
  tiles, so one input vector costs `Rt*Ct` tile reads (`tile_reads = B*Rt*Ct`).
  `tile_cols` counts logical output columns; with `S` weight bit-slices each logical
  column spans `S` physical differential-pair columns of the same tile, read together.
* cells: only mapped cells are counted (padding of a partial tile holds no device):
  `cell_reads = B*N*M*S`.
* DAC: each input element drives its row once in every column tile:
  `dac_conversions = B*N*Ct`.
* ADC: one conversion per physical column per tile read, i.e. per logical column per
  row tile per slice: `adc_conversions = B*M*Rt*S`. With `merge_slices=True` the slices
  of a column are merged in analog before one conversion (`S` becomes 1 here and below).
* accumulation: the `Rt*S` partial sums of an output (row tiles, then shift-and-add of
  slices) are combined digitally with `Rt*S - 1` additions: `accumulations = B*M*(Rt*S-1)`.
* P-bits, `pbit_mode`:
  - "exact": every cell's P-bit is written before every read (one write per cell per
    input vector): `pbit_writes = B*N*M*S`.
  - "refresh" with `refresh=k`: the P-bits are rewritten once every k reads, so k
    consecutive inputs share a mask: `pbit_writes = ceil(B/k)*N*M*S`.
  - "moment": a numerical approximation of "exact" (Gaussian moment matching); the
    hardware it stands for is exact mode, so it counts as "exact".
  - "off": no P-bit writes, no random bits.
  Every P-bit write yields one random bit: `random_bits_generated = pbit_writes`.
* write geometry (in-situ). The paper does not say how a crossbar's P-bits are written;
  the model (assumption, as in a conventional 1T1R write, Fig. 20's differential cell):
  one pulse selects one word line of one tile and fires the P-bit column drivers of the
  physical columns that row uses in that tile (`min(C, M - c0) * S`), each driver charging
  its whole column line (the tile's `R` cells, used or not). So per P-bit mask write:
  `pbit_write_pulses = N * Ct` (every used row of every column tile) and
  `pbit_line_cells = pbit_writes * R`; the P-bits per pulse are what the tile holds, never
  a global figure. Writing all rows of a column at once is not modelled: R MTJs in
  parallel on one driver would draw R x 40 uA at 1.5 V.
* resets, `reset=True`: a toggle (precessional) write gives independent fair bits only at
  P_sw = 0.5; at any other P_sw (or per-cell spread around it) each write must start from
  a known state, so every write is preceded by a reset of the same cell, row by row:
  `pbit_resets = pbit_writes`, `pbit_reset_pulses = pbit_write_pulses`,
  `pbit_reset_line_cells = pbit_line_cells` (else 0). `count_read` decides it from the
  configuration (`needs_reset`).
* column lines of the compute read: every physical column of every tile read is charged
  to the read bias once: `column_reads = B*M*Rt*S`, `column_line_cells = column_reads * R`.
* scheme: "in_situ" uses each random bit in the cell that generated it
  (`random_bits_transferred = 0`); "ex_situ_periphery" and "ex_situ_pcb" generate the
  same number of bits off-array (the writes happen in separate P-bit generators) and
  transfer every one of them over the bus (`random_bits_transferred = random_bits_generated`).
"""

from __future__ import annotations

import functools
import operator
from typing import Any, NamedTuple

from cimjax.crossbar._config import CrossbarConfig
from cimjax.errors import ConfigError

PBIT_MODES = ("exact", "refresh", "moment", "off")
SCHEMES = ("in_situ", "ex_situ_periphery", "ex_situ_pcb")


class OpCounts(NamedTuple):
    """Counts of what the crossbar hardware does; adds with `+`, scales with integer `*`.

    Attributes (all non-negative Python ints):
      tile_reads: tile read operations (MVM cycles): one input vector on one tile.
      cell_reads: differential-pair cells read (mapped cells only).
      pbit_writes: P-bit write pulses (in the cells, or in ex-situ generators).
      dac_conversions: input DAC conversions.
      adc_conversions: output ADC conversions.
      random_bits_generated: random bits produced by P-bits.
      random_bits_transferred: random bits moved from a generator to the compute array.
      accumulations: digital additions of partial sums (tiles and shift-and-add).
      pbit_write_pulses: in-array P-bit write pulses (one word line of one tile each).
      pbit_line_cells: cells on the column lines the P-bit write drivers charge, summed
        over P-bit writes (the line-charging term follows the tile's rows).
      pbit_resets, pbit_reset_pulses, pbit_reset_line_cells: the same for the resets
        before reset-mode writes (P_sw != 0.5).
      column_reads: physical column lines charged to the read bias by the compute reads.
      column_line_cells: cells on those column lines, summed.
    """

    tile_reads: int = 0
    cell_reads: int = 0
    pbit_writes: int = 0
    dac_conversions: int = 0
    adc_conversions: int = 0
    random_bits_generated: int = 0
    random_bits_transferred: int = 0
    accumulations: int = 0
    pbit_write_pulses: int = 0
    pbit_line_cells: int = 0
    pbit_resets: int = 0
    pbit_reset_pulses: int = 0
    pbit_reset_line_cells: int = 0
    column_reads: int = 0
    column_line_cells: int = 0

    def __add__(self, other: Any) -> "OpCounts":  # element-wise, not tuple concatenation
        if not isinstance(other, OpCounts):
            return NotImplemented
        return tuple.__new__(OpCounts, map(operator.add, self, other))

    def __radd__(self, other: Any) -> "OpCounts":  # lets sum(list_of_counts) start at 0
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __mul__(self, k: Any) -> "OpCounts":  # scaling, not tuple repetition
        k = _count("scale factor", k, minimum=0)
        return tuple.__new__(OpCounts, map(k.__mul__, self))

    __rmul__ = __mul__


def _count(name: str, value: Any, *, minimum: int) -> int:
    """An integer >= minimum (bools and floats rejected), else ConfigError naming it."""
    if isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} must be an integer, not a bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise ConfigError(f"{name}={value!r} must be an integer") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} must be >= {minimum}")
    return value


def count_crossbar_read(
    batch: int,
    in_features: int,
    out_features: int,
    *,
    tile_rows: int,
    tile_cols: int,
    slices: int = 1,
    pbit_mode: str = "exact",
    refresh: int = 1,
    scheme: str = "in_situ",
    merge_slices: bool = False,
    reset: bool = False,
) -> OpCounts:
    """Counts of one crossbar read of a (batch, in_features) input through an (in, out) matrix.

    Args:
      batch: B, input vectors read (each is one read of every tile).
      in_features: N, crossbar rows used (length of an input vector).
      out_features: M, logical output columns.
      tile_rows, tile_cols: R, C, the tile size (rows x logical columns).
      slices: S, weight bit-slices per logical column.
      pbit_mode: "exact", "refresh", "moment" or "off" (see the module docstring).
      refresh: k, reads per P-bit rewrite; only with pbit_mode="refresh".
      scheme: "in_situ", "ex_situ_periphery" or "ex_situ_pcb".
      merge_slices: slices summed in analog before a single ADC conversion (no digital
        shift-and-add), instead of one conversion per slice.
      reset: every P-bit write is preceded by a reset (needed when P_sw != 0.5).

    Returns:
      OpCounts, from the rules in the module docstring.

    Raises:
      ConfigError: a non-integer or out-of-range size, an unknown mode or scheme, or
        refresh != 1 outside "refresh" mode.
    """
    args = (batch, in_features, out_features, tile_rows, tile_cols, slices, pbit_mode,
            refresh, scheme, merge_slices, reset)
    try:
        return _count_cached(*args)  # a layer counts the same shapes every step
    except TypeError:  # an unhashable argument: let the uncached path name it
        return _count_crossbar_read(*args)


# typed: 1, 1.0 and True are distinct keys, so a cached int never admits a bool or float
@functools.lru_cache(maxsize=4096, typed=True)
def _count_cached(*args) -> OpCounts:
    return _count_crossbar_read(*args)


def _count_crossbar_read(batch, in_features, out_features, tile_rows, tile_cols, slices,
                         pbit_mode, refresh, scheme, merge_slices, reset) -> OpCounts:
    b = _count("batch", batch, minimum=0)
    n = _count("in_features", in_features, minimum=1)
    m = _count("out_features", out_features, minimum=1)
    r = _count("tile_rows", tile_rows, minimum=1)
    c = _count("tile_cols", tile_cols, minimum=1)
    s = _count("slices", slices, minimum=1)
    k = _count("refresh", refresh, minimum=1)
    if pbit_mode not in PBIT_MODES:
        raise ConfigError(f"{pbit_mode=} is not one of {PBIT_MODES}")
    if scheme not in SCHEMES:
        raise ConfigError(f"{scheme=} is not one of {SCHEMES}")
    if not isinstance(merge_slices, bool):
        raise ConfigError(f"{merge_slices=} must be True or False")
    if not isinstance(reset, bool):
        raise ConfigError(f"{reset=} must be True or False")
    if pbit_mode != "refresh" and k != 1:
        raise ConfigError(f"{refresh=} only applies with pbit_mode='refresh', got {pbit_mode=}")

    row_tiles, col_tiles = -(-n // r), -(-m // c)  # exact integer ceil
    cells = n * m * s
    if pbit_mode in ("exact", "moment"):
        masks = b
    elif pbit_mode == "refresh":
        masks = -(-b // k)
    else:
        masks = 0
    pbit_writes = masks * cells
    pulses = masks * n * col_tiles  # one pulse per used row of each column tile
    resets = int(reset)
    transferred = 0 if scheme == "in_situ" else pbit_writes
    converted = 1 if merge_slices else s  # slices per ADC conversion group
    return OpCounts(
        tile_reads=b * row_tiles * col_tiles,
        cell_reads=b * cells,
        pbit_writes=pbit_writes,
        dac_conversions=b * n * col_tiles,
        adc_conversions=b * m * row_tiles * converted,
        random_bits_generated=pbit_writes,
        random_bits_transferred=transferred,
        accumulations=b * m * (row_tiles * converted - 1),
        pbit_write_pulses=pulses,
        pbit_line_cells=pbit_writes * r,
        pbit_resets=resets * pbit_writes,
        pbit_reset_pulses=resets * pulses,
        pbit_reset_line_cells=resets * pbit_writes * r,
        column_reads=b * m * row_tiles * s,
        column_line_cells=b * m * row_tiles * s * r,
    )


def count_random_bits(bits: int, *, scheme: str = "ex_situ_periphery") -> OpCounts:
    """Counts of `bits` random bits drawn from P-bits outside any crossbar read.

    For noise a sampler injects explicitly (the ex-situ SDE of Fig. 21): each bit is one
    P-bit write in a generator, and is transferred unless the scheme is "in_situ". A
    generator is a lone P-bit (no array line), so each bit is its own pulse with no line
    cells; generators run at P_sw = 0.5 (no resets).
    """
    n = _count("bits", bits, minimum=0)
    if scheme not in SCHEMES:
        raise ConfigError(f"{scheme=} is not one of {SCHEMES}")
    return OpCounts(pbit_writes=n, random_bits_generated=n,
                    random_bits_transferred=0 if scheme == "in_situ" else n, pbit_write_pulses=n)


def count_read(config: CrossbarConfig, batch: int, in_features: int, out_features: int,
               scheme: str = "in_situ") -> OpCounts:
    """Counts (tile reads, cell reads, P-bit writes, DAC/ADC conversions, ...) of one read.

    A thin adapter from a `CrossbarConfig` to `counts.count_crossbar_read`: plain Python
    ints, no tracing, safe to call anywhere. Moment mode counts as the exact hardware it
    approximates; mode "off" writes no P-bits. The geometry (rows per line, P-bits per
    pulse) is the configuration's tile; resets are counted where `needs_reset(config)`.
    """
    pbit = config.pbit
    return count_crossbar_read(
        batch, in_features, out_features,
        tile_rows=config.tile.rows, tile_cols=config.tile.cols, slices=config.mapping.slices,
        pbit_mode=pbit.mode, refresh=pbit.refresh if pbit.mode == "refresh" else 1, scheme=scheme,
        merge_slices=config.mapping.merged, reset=needs_reset(config),
    )


def needs_reset(config: CrossbarConfig) -> bool:
    """Whether the configuration's P-bit writes need a reset first.

    A toggle write from whatever state the P-bit was left in gives an independent fair bit
    only when P_sw = 0.5 exactly (state' = state XOR Bernoulli(p): lag-1 correlation
    1 - 2p otherwise). So a reset is needed when the keep probability is set to another
    value, when the device's nominal P_sw at the configured pulse (in either switching
    direction) is not 0.5, or when the P_sw spread across the array is on (then almost every
    cell is off 0.5, Fig. 13).
    """
    pbit = config.pbit
    if pbit.mode == "off":
        return False
    if pbit.keep_prob is not None:
        return float(pbit.keep_prob) != 0.5
    if pbit.spread:
        return True
    from cimjax.crossbar._probability import direction_probabilities  # jax: only when needed
    return any(abs(p - 0.5) > 1e-6 for p in direction_probabilities(pbit))  # both switching directions
