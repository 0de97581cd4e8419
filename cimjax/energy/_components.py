"""Energy of the circuit components, one closed form each (SI units in, joules out).

These are the building blocks every scheme composes: the P-bit write pulse, an MTJ
read, a biased amplifier, a switched wire. Each is the textbook expression; the
numbers that go in are the preset's, with their sources.
"""

from __future__ import annotations


def line_capacitance(rows: float, capacitance_per_cell: float, driver_capacitance: float) -> float:
    """Capacitance a column driver charges: `rows * c_cell + c_driver` (F)."""
    return rows * capacitance_per_cell + driver_capacitance


def write_pulse_energy(voltage: float, width: float, resistance: float,
                       line_capacitance: float, level_shifter_energy: float) -> float:
    """Energy of one P-bit write pulse (J).

        E = V^2 / R * t_w  +  C_line * V^2  +  E_ls

    The first term is the Joule heat in the MTJ during the pulse (VCMA switching is
    voltage driven, the current only heats); the second is the driver charging its line
    to V from the supply; the third is the level shifter that produces the pulse.
    Linear in V^2 (first two terms) and in the width (first term).
    """
    return voltage**2 / resistance * width + line_capacitance * voltage**2 + level_shifter_energy


def mtj_read_energy(voltage: float, resistance_p: float, resistance_ap: float, time: float,
                    line_capacitance: float) -> float:
    """Energy of reading one MTJ whose state is P or AP with equal odds (J).

        E = V_r^2 * (G_P + G_AP) / 2 * t_r  +  C_line * V_r^2

    An unbiased P-bit sits in each state half of the time, hence the mean conductance.
    """
    mean_conductance = 0.5 * (1.0 / resistance_p + 1.0 / resistance_ap)
    return voltage**2 * mean_conductance * time + line_capacitance * voltage**2


def biased_energy(current: float, supply: float, time: float) -> float:
    """Energy of a circuit drawing a bias current from a supply for a time: `I * V * t` (J)."""
    return current * supply * time


def wire_energy_per_bit(capacitance_per_length: float, length: float, supply: float,
                        toggle_probability: float) -> float:
    """Mean energy to send one bit down a full-swing wire (J): `alpha * c * L * V^2`.

    The supply charges the wire only on a 0->1 transition, which an unbiased random
    stream makes with probability alpha = p(1-p) = 1/4.
    """
    return toggle_probability * capacitance_per_length * length * supply**2
