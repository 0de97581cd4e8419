"""Energy, latency and added area of a counted run, for each P-bit scheme.

The crossbar layers count what the hardware does (`cimjax.crossbar._counts.OpCounts`,
from shapes and modes, outside jit); this turns those counts into a `Cost`:

    energy  = compute + randomness
      compute    = cell_reads * 2 E_read,device + adc * (E_adc + C_col V_r^2)
                   + dac * E_dac + accumulations * E_add          (same in every scheme)
      in_situ    = pbit_writes * E_write(C_col)     (the P-bit read rides on the cell read)
      ex-situ    = bits_generated * E_generation + bits_transferred * E_transfer
    latency = compute + randomness, in sequence (generation, then compute, Fig. 2)
      compute    = tile_reads * t_read / parallel_tiles
      in_situ    = pbit_writes / (pbit_write_parallelism * parallel_tiles) * (t_w + t_overhead)
      ex-situ    = bits_transferred / throughput(design)
    area    = the design's added area (0 in-situ, None off chip)

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
from cimjax.energy._schemes import cell_read_energy, column_charge_energy, figures, in_situ_write_energy


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


def compute_energy(counts: OpCounts, d: Design) -> float:
    """Energy of the crossbar compute itself, the same for every scheme (J)."""
    return (counts.cell_reads * 2.0 * cell_read_energy(d)
            + counts.adc_conversions * (d["adc_energy"] + column_charge_energy(d))
            + counts.dac_conversions * d["dac_energy"]
            + counts.accumulations * d["accumulation_energy"])


def cost(counts: OpCounts, preset: Preset | Design, scheme: str | None = None, *,
         design: str | None = None) -> Cost:
    """Energy, latency and added area of a counted run under one scheme.

    Args:
      counts: what the run did (`count_crossbar_read`, summed and scaled).
      preset: a Preset (then pick `scheme`, or a `design` by name) or a Design.
      scheme: "in_situ", "ex_situ_periphery" or "ex_situ_pcb" (first design of it).
      design: a design name of the preset, instead of a scheme.
    """
    if not isinstance(counts, OpCounts):
        raise ConfigError(f"counts must be an OpCounts, got {type(counts).__name__}")
    d = _resolve(preset, scheme, design)
    c = for_scheme(counts, d.scheme)
    f = figures(d)
    energy = compute_energy(c, d)
    latency = c.tile_reads * d["read_time"] / d["parallel_tiles"]
    if d.scheme == "in_situ":
        energy += c.pbit_writes * in_situ_write_energy(d)
        pulses = c.pbit_writes / (d["pbit_write_parallelism"] * d["parallel_tiles"])
        latency += pulses * (d["write_width"] + d["write_overhead_time"])
    else:
        energy += (c.random_bits_generated * sum(f.generation_J.values())
                   + c.random_bits_transferred * sum(f.transfer_J.values()))
        latency += c.random_bits_transferred * 1e-9 / f.throughput_bit_per_ns
    return Cost(float(energy), float(latency), f.added_area_um2)


def cost_report(counts: OpCounts, preset: Preset, n_items: int = 1) -> dict[str, dict[str, Any]]:
    """JSON-ready cost of a run under every design of the preset, per item (e.g. per image)."""
    out = {}
    for name, d in preset.designs.items():
        c = cost(counts, d).per(n_items)
        out[name] = {"label": d.label, "scheme": d.scheme, "energy_J": c.energy_J,
                     "latency_s": c.latency_s, "added_area_um2": c.area_um2}
    return out
