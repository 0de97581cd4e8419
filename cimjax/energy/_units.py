"""Units accepted in energy presets, each with its dimension and factor to SI.

A preset value is written with the unit a designer would quote (fF, ps, uA, um^2) and
converted to SI on load; a unit that is unknown, or of the wrong dimension for its
parameter, is an error naming the parameter.
"""

from __future__ import annotations

# unit -> (dimension, factor to SI). Area stays in um^2 (the unit Table II quotes).
UNITS: dict[str, tuple[str, float]] = {
    "V": ("voltage", 1.0), "mV": ("voltage", 1e-3),
    "s": ("time", 1.0), "ms": ("time", 1e-3), "us": ("time", 1e-6), "ns": ("time", 1e-9),
    "ps": ("time", 1e-12),
    "ohm": ("resistance", 1.0), "kohm": ("resistance", 1e3), "Mohm": ("resistance", 1e6),
    "F": ("capacitance", 1.0), "pF": ("capacitance", 1e-12), "fF": ("capacitance", 1e-15),
    "aF": ("capacitance", 1e-18),
    "F/m": ("capacitance_per_length", 1.0), "fF/um": ("capacitance_per_length", 1e-9),
    "pF/m": ("capacitance_per_length", 1e-12),
    "J": ("energy", 1.0), "nJ": ("energy", 1e-9), "pJ": ("energy", 1e-12), "fJ": ("energy", 1e-15),
    "A": ("current", 1.0), "mA": ("current", 1e-3), "uA": ("current", 1e-6), "nA": ("current", 1e-9),
    "W": ("power", 1.0), "mW": ("power", 1e-3), "uW": ("power", 1e-6),
    "m": ("length", 1.0), "mm": ("length", 1e-3), "um": ("length", 1e-6),
    "um^2": ("area", 1.0), "mm^2": ("area", 1e6),
    "Hz": ("frequency", 1.0), "kHz": ("frequency", 1e3), "MHz": ("frequency", 1e6),
    "GHz": ("frequency", 1e9),
    "bit/s": ("frequency", 1.0), "kbit/s": ("frequency", 1e3), "Mbit/s": ("frequency", 1e6),
    "Gbit/s": ("frequency", 1e9),
    "1": ("count", 1.0), "count": ("count", 1.0), "bit": ("count", 1.0),
}

# the SI (or um^2) unit each dimension is stored in, for messages and dumps
SI_UNIT = {
    "voltage": "V", "time": "s", "resistance": "ohm", "capacitance": "F",
    "capacitance_per_length": "F/m", "energy": "J", "current": "A", "power": "W",
    "length": "m", "area": "um^2", "frequency": "Hz", "count": "1",
}


def units_of(dimension: str) -> list[str]:
    """Every accepted unit of one dimension (for error messages)."""
    return [u for u, (d, _) in UNITS.items() if d == dimension]
