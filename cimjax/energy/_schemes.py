"""Throughput, energy per bit and added area of each P-bit scheme (the paper's Table II).

The three schemes of Figs. 2-3:

* ``in_situ`` (generation-compute): the P-bit is the second device of the crossbar's
  differential pair. A cycle writes `pbit_write_parallelism` P-bits (one pulse through
  their column drivers) and reads them with the array's own sense circuits. The Table II
  design's geometry (`array_rows` cells per line, `pbit_write_parallelism` P-bits per
  pulse) is that design's own; a counted run is priced with its tiles' (`cimjax.energy.cost`).

      throughput = parallelism / (t_w + t_overhead + t_read),
      energy/bit = E_write(C_column) + E_read(P-bit),        added area = 0

  (no block is added: the devices and circuits are reused, Section I).
* ``ex_situ_periphery`` (generation-sample-transfer-compute, Fig. 2): `n_pbits`
  generators beside the array, each a P-bit MTJ with its own write driver, sampling
  circuit (preamplifier and/or comparator) and latch, feeding a `bus_width`-lane bus to
  the compute unit. Generation and transfer are pipelined through the latch, so the
  slower of the two limits:

      throughput = min(n_pbits / (t_w + t_overhead + t_read,local + t_amp + t_cmp),
                       bus_width * f_bus)
      energy/bit = E_write(C_local) + E_read + E_amp + E_cmp + E_wire + E_flop
      added area = n_pbits * (driver + amplifier + comparator + latch)
                   + bus_width * lane + shared
* ``ex_situ_pcb``: the P-bit sampled by a discrete amplifier and comparator on a board
  and sent over a serial link; the board's quiescent power runs the whole cycle:

      throughput = channels / (t_w + t_overhead + t_settle + 1 / link_rate)
      energy/bit = E_write + V_board * I_board * cycle / channels + E_trace
      added area: off chip (None)

The numbers all come from the design's parameters; none is hard-coded here.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple

import numpy as np

import cimjax.energy._components as C
from cimjax.energy._preset import Design
from cimjax.errors import ConfigError

LOCATION = {"in_situ": "in-situ", "ex_situ_periphery": "periphery", "ex_situ_pcb": "PCB"}


class Figures(NamedTuple):
    """One design's figures of merit, with the breakdowns they sum from.

    Attributes:
      throughput_bit_per_ns: random bits delivered to the compute per ns.
      energy_pJ_per_bit: energy per delivered random bit.
      added_area_um2: on-chip area added to support P-bits; None when off chip.
      cycle_s: one generation cycle (write + read [+ sample]) of a generator or row.
      generation_J: energy per generated bit by component (write, read, sample, static).
      transfer_J: energy per transferred bit by component (wire, register, trace).
      area_um2: added area by block.
    """

    design: str
    label: str
    scheme: str
    location: str
    throughput_bit_per_ns: float
    energy_pJ_per_bit: float
    added_area_um2: float | None
    cycle_s: float
    generation_J: Mapping[str, float]
    transfer_J: Mapping[str, float]
    area_um2: Mapping[str, float]


def _rows(rows) -> float:
    """`rows`, the cells on a column line, if a finite number >= 1; else a ConfigError naming it."""
    if isinstance(rows, bool) or not isinstance(rows, (int, float, np.integer, np.floating)) or not 1 <= rows < math.inf:
        raise ConfigError(f"{rows=} must be a finite number >= 1 (cells on a column line)")
    return rows


def in_situ_write_energy(d: Design, rows: float | None = None) -> float:
    """One in-cell P-bit write: the pulse charges a full column line of `rows` cells (J).

    `rows` defaults to the design's `array_rows` (the Table II geometry).
    """
    rows = d["array_rows"] if rows is None else _rows(rows)
    c_col = C.line_capacitance(rows, d["line_capacitance_per_cell"], d["driver_capacitance"])
    return C.write_pulse_energy(d["write_voltage"], d["write_width"], d["write_resistance"],
                                c_col, d["level_shifter_energy"])


def cell_read_energy(d: Design) -> float:
    """One device's share of a tile read (Joule heat only; the line is charged per column)."""
    return C.mtj_read_energy(d["read_voltage"], d["read_resistance_p"], d["read_resistance_ap"],
                             d["read_time"], 0.0)


def column_charge_energy(d: Design, rows: float | None = None) -> float:
    """Charging one column line of `rows` cells (default: the design's `array_rows`) to the
    read bias, once per column per tile read (J)."""
    rows = d["array_rows"] if rows is None else _rows(rows)
    c_col = C.line_capacitance(rows, d["line_capacitance_per_cell"], d["driver_capacitance"])
    return c_col * d["read_voltage"] ** 2


def _in_situ(d: Design) -> tuple[float, float, dict, dict, dict]:
    cycle = d["write_width"] + d["write_overhead_time"] + d["read_time"]
    gen = {"write": in_situ_write_energy(d),
           "read": cell_read_energy(d) + column_charge_energy(d)}
    return cycle / d["pbit_write_parallelism"], cycle, gen, {}, {}


def _local_write(d: Design) -> float:
    c_local = d["driver_capacitance"] + d["local_line_capacitance"]
    return C.write_pulse_energy(d["write_voltage"], d["write_width"], d["write_resistance"],
                                c_local, d["level_shifter_energy"])


def _ex_situ_periphery(d: Design) -> tuple[float, float, dict, dict, dict]:
    t_gen = (d["write_width"] + d["write_overhead_time"] + d["local_read_time"]
             + d["amplifier_time"] + d["comparator_time"])
    seconds_per_bit = max(t_gen / d["n_pbits"], 1.0 / (d["bus_width"] * d["bus_frequency"]))
    gen = {
        "write": _local_write(d),
        "read": C.mtj_read_energy(d["read_voltage"], d["read_resistance_p"],
                                  d["read_resistance_ap"], d["local_read_time"],
                                  d["local_line_capacitance"]),
        "sample": (C.biased_energy(d["amplifier_bias_current"], d["logic_voltage"],
                                   d["amplifier_time"]) + d["comparator_energy"]),
    }
    transfer = {
        "wire": C.wire_energy_per_bit(d["wire_capacitance"], d["bus_length"], d["logic_voltage"],
                                      d["bus_toggle_probability"]),
        "register": d["flop_energy"],
    }
    n, w = d["n_pbits"], d["bus_width"]
    area = {
        "write drivers": n * d["write_driver_area"],
        "amplifiers": n * d["amplifier_area"],
        "comparators": n * d["comparator_area"],
        "latches": n * d["latch_area"],
        "bus lanes": w * d["lane_area"],
        "shared": d["shared_area"],
    }
    return seconds_per_bit, t_gen, gen, transfer, area


def _ex_situ_pcb(d: Design) -> tuple[float, float, dict, dict, None]:
    cycle = (d["write_width"] + d["write_overhead_time"] + d["board_settling_time"]
             + 1.0 / d["link_bit_rate"])
    board_current = (d["board_amplifier_current"] + d["board_comparator_current"]
                     + d["board_interface_current"])
    gen = {"write": _local_write(d),
           "static": C.biased_energy(board_current, d["board_supply_voltage"], cycle)
           / d["channels"]}
    transfer = {"trace": C.wire_energy_per_bit(d["trace_capacitance"], 1.0,
                                               d["board_supply_voltage"],
                                               d["bus_toggle_probability"])}
    return cycle / d["channels"], cycle, gen, transfer, None


_SCHEMES = {"in_situ": _in_situ, "ex_situ_periphery": _ex_situ_periphery,
            "ex_situ_pcb": _ex_situ_pcb}


def figures(design: Design) -> Figures:
    """Throughput (bit/ns), efficiency (pJ/bit) and added area (um^2) of one design."""
    seconds_per_bit, cycle, gen, transfer, area = _SCHEMES[design.scheme](design)
    energy = sum(gen.values()) + sum(transfer.values())
    return Figures(
        design=design.name, label=design.label, scheme=design.scheme,
        location=LOCATION[design.scheme],
        throughput_bit_per_ns=1e-9 / seconds_per_bit,
        energy_pJ_per_bit=energy * 1e12,
        added_area_um2=None if area is None else float(sum(area.values())),
        cycle_s=cycle,
        generation_J=gen, transfer_J=transfer, area_um2=area or {},
    )

