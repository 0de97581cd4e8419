"""Energy, latency and added area of a counted run, for each P-bit scheme.

The crossbar layers count what the hardware does (`cimjax.crossbar._counts.OpCounts`,
from shapes and modes, outside jit); this turns those counts into a `Cost`:

    energy  = compute + randomness
      compute    = cell_reads * 2 E_read,device + adc * E_adc + dac * E_dac
                   + accumulations * E_add
                   + (column_reads * C_drv + column_line_cells * c_cell) * V_r^2
                                                                  (same in every scheme)
      in_situ    = pbit_writes * (V^2/R t_w + E_ls + C_drv V^2) + pbit_line_cells * c_cell V^2
                   (= sum over writes of E_write(C_line of that tile's rows); the P-bit read
                   rides on the cell read)
                   + resets: pbit_resets * (verify read + reset pulse at V_reset, t_reset)
                   with the line term over pbit_reset_line_cells
      ex-situ    = bits_generated * E_generation + bits_transferred * E_transfer
    latency
      compute    = tile_reads * t_read / parallel_tiles
      in_situ    = (pbit_write_pulses * (t_w + t_overhead)
                    + pbit_reset_pulses * (t_read + t_reset + t_overhead)) / parallel_tiles
                   in sequence with the compute (the cell is written, then read)
      ex-situ    = bits_transferred / throughput(design); in sequence with the compute
                   (Fig. 2), or overlapped with it, max(compute, randomness), where the design
                   allows (`overlap_generation`: the next step's noise does not depend on the
                   state, and latched generators can fill while the array computes)
    area    = the design's added area (0 in-situ, None off chip)

The geometry of every read (cells per line, P-bits per pulse) is the one counted from its
tile (`cimjax.crossbar.count_read`); a preset holds only technology parameters, and the
Table II design's own 64 x 64 geometry prices nothing but its Table II row.

A run's counts are the same under every scheme except where the random bits go, so
`cost` re-derives `random_bits_transferred` for the design's scheme: one count of a run
prices it under all schemes.

Example (a diffusion sampler, per image):

    counts = sum(count_crossbar_read(1, n, m, tile_rows=64, tile_cols=64) for n, m in layers)
    report = cost_report(counts * n_steps, default_energy_preset())   # design -> Cost per image
"""

from __future__ import annotations

from typing import Any, NamedTuple

from cimjax.errors import ConfigError
from cimjax.crossbar import OpCounts
from cimjax.energy._preset import Design, Preset
import cimjax.energy._components as C
from cimjax.energy._schemes import cell_read_energy, figures
from cimjax.energy._wear import RATED_CYCLES, check_counts, pbit_lifetime, pbit_write_cycles


class Cost(NamedTuple):
    """What a run costs on the hardware: energy (J), latency (s), added area (um^2 or None)."""

    energy_J: float
    latency_s: float
    area_um2: float | None

    def per(self, n: int) -> "Cost":
        """Cost per item (e.g. per image) of a run of `n` items; the area is not divided."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ConfigError(f"{n=} must be a positive integer (items in the run)")
        return Cost(self.energy_J / n, self.latency_s / n, self.area_um2)


def for_scheme(counts: OpCounts, scheme: str) -> OpCounts:
    """The same run's counts under `scheme`: in-situ bits stay in the cell, ex-situ bits move."""
    moved = 0 if scheme == "in_situ" else counts.random_bits_generated
    return counts._replace(random_bits_transferred=moved)


def _resolve(preset: Preset | Design, scheme: str | None, design: str | None) -> Design:
    if isinstance(preset, Design):
        if scheme is not None and scheme != preset.scheme:
            raise ConfigError(f"{scheme=} does not match design {preset.name!r} "
                             f"(scheme {preset.scheme!r})")
        return preset
    if not isinstance(preset, Preset):
        raise ConfigError(f"preset must be a Preset or Design, got {type(preset).__name__}")
    if design is not None:
        return preset.design(design)
    if scheme is None:
        raise ConfigError("give a scheme ('in_situ', 'ex_situ_periphery', 'ex_situ_pcb') "
                         "or a design name")
    return preset.for_scheme(scheme)


def _line_charge(d: Design, lines: int, cells: int, voltage: float) -> float:
    """Charging `lines` column lines of `cells` cells in all to `voltage` (J)."""
    return (lines * d["driver_capacitance"] + cells * d["line_capacitance_per_cell"]) * voltage**2


def compute_energy(counts: OpCounts, d: Design) -> float:
    """Energy of the crossbar compute itself, the same for every scheme (J)."""
    return (counts.cell_reads * 2.0 * cell_read_energy(d)
            + counts.adc_conversions * d["adc_energy"]
            + _line_charge(d, counts.column_reads, counts.column_line_cells, d["read_voltage"])
            + counts.dac_conversions * d["dac_energy"]
            + counts.accumulations * d["accumulation_energy"])


def in_situ_pbit_energy(counts: OpCounts, d: Design) -> float:
    """Energy of the in-cell P-bit writes and their resets, on the lines counted (J)."""
    pulse = lambda v, t: C.write_pulse_energy(v, t, d["write_resistance"], 0.0,  # noqa: E731
                                              d["level_shifter_energy"])
    write = (counts.pbit_writes * pulse(d["write_voltage"], d["write_width"])
             + _line_charge(d, counts.pbit_writes, counts.pbit_line_cells, d["write_voltage"]))
    verify = C.mtj_read_energy(d["read_voltage"], d["read_resistance_p"], d["read_resistance_ap"],
                               d["read_time"], 0.0)
    reset = (counts.pbit_resets * (pulse(d["reset_voltage"], d["reset_width"]) + verify)
             + _line_charge(d, counts.pbit_resets, counts.pbit_reset_line_cells,
                            d["reset_voltage"])
             + _line_charge(d, counts.pbit_resets, counts.pbit_reset_line_cells,
                            d["read_voltage"]))
    return write + reset


def in_situ_pbit_delay(counts: OpCounts, d: Design) -> float:
    """Time of the in-cell P-bit write and reset pulses, one word line of a tile each (s)."""
    write = counts.pbit_write_pulses * (d["write_width"] + d["write_overhead_time"])
    reset = counts.pbit_reset_pulses * (d["read_time"] + d["reset_width"]
                                        + d["write_overhead_time"])
    return (write + reset) / d["parallel_tiles"]


def overlaps(d: Design, overlap: bool | None = None) -> bool:
    """Whether ex-situ generation overlaps compute: the design's default, or `overlap` where
    the design allows it (in-situ never: the cell is written, then read)."""
    allowed = d.scheme != "in_situ" and bool(d.params.get("overlap_generation", 0))
    if overlap is None:
        return allowed
    if not isinstance(overlap, bool):
        raise ConfigError(f"{overlap=} must be True, False or None")
    if overlap and not allowed:
        raise ConfigError(f"overlap=True: design {d.name!r} cannot generate its random bits "
                          "while the array computes (overlap_generation = 0 or an in-situ design)")
    return overlap


def cost(counts: OpCounts, preset: Preset | Design, scheme: str | None = None, *,
         design: str | None = None, overlap: bool | None = None) -> Cost:
    """Energy, latency and added area of a counted run under one scheme.

    Args:
      counts: what the run did (`count_crossbar_read`, summed and scaled).
      preset: a Preset (then pick `scheme`, or a `design` by name) or a Design.
      scheme: "in_situ", "ex_situ_periphery" or "ex_situ_pcb" (first design of it).
      design: a design name of the preset, instead of a scheme.
      overlap: ex-situ generation overlaps the compute (latency = the larger of the two);
        None = the design's `overlap_generation`; True where the design cannot is an error.
    """
    check_counts(counts)
    d = _resolve(preset, scheme, design)
    overlap = overlaps(d, overlap)
    c = for_scheme(counts, d.scheme)
    f = figures(d)
    energy = compute_energy(c, d)
    latency = c.tile_reads * d["read_time"] / d["parallel_tiles"]
    if d.scheme == "in_situ":
        energy += in_situ_pbit_energy(c, d)
        latency += in_situ_pbit_delay(c, d)
    else:
        energy += (c.random_bits_generated * sum(f.generation_J.values())
                   + c.random_bits_transferred * sum(f.transfer_J.values()))
        random = c.random_bits_transferred * 1e-9 / f.throughput_bit_per_ns
        latency = max(latency, random) if overlap else latency + random
    return Cost(float(energy), float(latency), f.added_area_um2)


def cost_report(counts: OpCounts, preset: Preset, n_items: int = 1, *, in_situ_pbits: int | None = None,
                rated_cycles: float = RATED_CYCLES) -> dict[str, dict[str, Any]]:
    """JSON-ready cost of a run under every design of the preset, per item (e.g. per image).

    Each design also gets `pbit_write_cycles`, the write cycles one item puts on each of its
    P-bits, and `lifetime_items`, the items until a P-bit reaches `rated_cycles` (Fig. 19;
    `cimjax.energy.pbit_write_cycles`); in-situ both need `in_situ_pbits` (else None).
    """
    check_counts(counts)
    out = {}
    for name, d in preset.designs.items():
        c = cost(counts, d).per(n_items)
        cycles = pbit_write_cycles(counts, d, in_situ_pbits)
        cycles = None if cycles is None else cycles / n_items
        out[name] = {"label": d.label, "scheme": d.scheme, "energy_J": c.energy_J,
                     "latency_s": c.latency_s, "added_area_um2": c.area_um2,
                     "overlap": overlaps(d), "pbit_write_cycles": cycles,
                     "lifetime_items": pbit_lifetime(cycles, rated_cycles)}
    return out
