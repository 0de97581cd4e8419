"""The parameters of the energy, latency and area model: dimension, range and meaning.

Every parameter a preset may set is declared here once. `COMMON` parameters are needed
by every design (they also price the compute that all schemes share); the others only
by designs of the scheme that names them. Values are stored in SI units (areas in um^2).
"""

from __future__ import annotations

from typing import NamedTuple


class Spec(NamedTuple):
    """What one preset parameter is: its dimension, range and meaning."""

    dimension: str
    doc: str
    positive: bool = False  # must be > 0 (else >= 0)
    integer: bool = False
    at_most_one: bool = False  # a probability


S = Spec
COMMON: dict[str, Spec] = {
    # the P-bit write pulse (Figs. 11-12) and its driver
    "write_voltage": S("voltage", "P-bit write pulse amplitude", positive=True),
    "write_width": S("time", "P-bit write pulse width", positive=True),
    "write_resistance": S("resistance", "MTJ resistance under the write bias", positive=True),
    "write_overhead_time": S("time", "driver rise, fall and settling added to each pulse"),
    "level_shifter_energy": S("energy", "level shifter energy per write pulse"),
    "driver_capacitance": S("capacitance", "write driver output capacitance"),
    # the reset before a reset-mode write (P_sw != 0.5): verify read, then a deterministic pulse
    "reset_voltage": S("voltage", "P-bit reset pulse amplitude", positive=True),
    "reset_width": S("time", "P-bit reset pulse width", positive=True),
    # reads of the MTJs (Fig. 7)
    "read_voltage": S("voltage", "read bias across an MTJ", positive=True),
    "read_resistance_p": S("resistance", "parallel-state resistance at the read bias", positive=True),
    "read_resistance_ap": S("resistance", "antiparallel-state resistance at the read bias",
                            positive=True),
    "logic_voltage": S("voltage", "core logic supply", positive=True),
    # the crossbar technology and its compute periphery, shared by all schemes (the geometry
    # of a read comes from its counts; a Table II design states its own, IN_SITU)
    "line_capacitance_per_cell": S("capacitance", "column-line capacitance added per cell"),
    "read_time": S("time", "tile read: bit-line settling and sensing", positive=True),
    "parallel_tiles": S("count", "tiles operating at the same time", positive=True, integer=True),
    "dac_energy": S("energy", "input DAC energy per conversion"),
    "adc_energy": S("energy", "output ADC energy per conversion"),
    "accumulation_energy": S("energy", "digital addition of two partial sums"),
}

# the geometry of the Table II in-situ design (a run's own geometry is in its OpCounts)
IN_SITU: dict[str, Spec] = {
    "array_rows": S("count", "rows of a tile (cells on a column line)", positive=True, integer=True),
    "array_cols": S("count", "columns of a tile", positive=True, integer=True),
    "pbit_write_parallelism": S("count", "in-cell P-bits written and read per cycle in a tile",
                                positive=True, integer=True),
}

# whether an ex-situ design may generate the next random bits while the array computes
OVERLAP = S("count", "1: generation overlaps compute (latched pipeline), 0: in sequence",
            integer=True, at_most_one=True)

EX_SITU_PERIPHERY: dict[str, Spec] = {
    "n_pbits": S("count", "P-bit generators in the periphery", positive=True, integer=True),
    "local_line_capacitance": S("capacitance", "line between a generator's MTJ and its circuits"),
    "local_read_time": S("time", "read of a generator's MTJ into its sampler", positive=True),
    "amplifier_bias_current": S("current", "sampling preamplifier bias current while on"),
    "amplifier_time": S("time", "preamplifier settling time per sample"),
    "amplifier_area": S("area", "preamplifier area per generator"),
    "comparator_energy": S("energy", "comparator (latch) energy per decision"),
    "comparator_time": S("time", "comparator time per decision (incl. offset cancellation)"),
    "comparator_area": S("area", "comparator area per generator"),
    "write_driver_area": S("area", "dedicated write driver area per generator"),
    "latch_area": S("area", "output latch area per generator"),
    "flop_energy": S("energy", "bus register energy per bit"),
    "bus_width": S("count", "lanes of the bus to the compute unit", positive=True, integer=True),
    "bus_frequency": S("frequency", "bus transfer clock", positive=True),
    "bus_length": S("length", "bus wire length from generators to compute unit"),
    "wire_capacitance": S("capacitance_per_length", "bus wire capacitance per length"),
    "bus_toggle_probability": S("count", "0->1 transitions per bit sent", at_most_one=True),
    "lane_area": S("area", "repeaters and register per bus lane"),
    "shared_area": S("area", "bias generator and bus control shared by the generators"),
    "overlap_generation": OVERLAP,
}

EX_SITU_PCB: dict[str, Spec] = {
    "channels": S("count", "P-bit channels sampled on the board", positive=True, integer=True),
    "board_supply_voltage": S("voltage", "board supply of the discrete sampling chain",
                              positive=True),
    "board_amplifier_current": S("current", "discrete amplifier quiescent current"),
    "board_comparator_current": S("current", "discrete comparator quiescent current"),
    "board_interface_current": S("current", "I/O buffers and level translators"),
    "board_settling_time": S("time", "amplifier settling before each decision"),
    "link_bit_rate": S("frequency", "serial link from board to compute chip", positive=True),
    "trace_capacitance": S("capacitance", "board trace and pad load per link bit"),
    "bus_toggle_probability": EX_SITU_PERIPHERY["bus_toggle_probability"],
    "overlap_generation": OVERLAP,
}

# scheme -> parameters a design of that scheme needs beyond COMMON
SCHEME_PARAMS: dict[str, dict[str, Spec]] = {
    "in_situ": IN_SITU,
    "ex_situ_periphery": EX_SITU_PERIPHERY,
    "ex_situ_pcb": EX_SITU_PCB,
}

ALL_PARAMS: dict[str, Spec] = {**COMMON, **IN_SITU, **EX_SITU_PERIPHERY, **EX_SITU_PCB}


def required(scheme: str) -> dict[str, Spec]:
    """Parameters a design of `scheme` must have (COMMON plus the scheme's own)."""
    return {**COMMON, **SCHEME_PARAMS[scheme]}
