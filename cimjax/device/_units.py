"""Physical units: the one table of accepted units, and quantities that guard themselves.

Used by the switching CSV, the command line (`--width 700ps`, `--voltage 1.5V`) and the
energy presets (`{"value": 700, "unit": "ps"}`). It lives in the device layer, the lowest
one that reads physical quantities from a user.
"""

from __future__ import annotations

import math
import re

from cimjax.errors import ConfigError

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

# dimension -> (largest plausible plain SI number and how to say it, typical magnitude, what it is).
# A plain number above the first is a unit slip; the unit that brings it nearest the second is named.
PLAUSIBLE = {
    # Fig. 11: P-bit pulses of hundreds of ps; nothing the model covers lasts 1 ms (assumption)
    "time": (1e-3, "1 ms", 1e-9, "pulse width or time"),
    # Fig. 12: write pulses of about 1.5 V; 100 V would break any MTJ (assumption)
    "voltage": (100.0, "100 V", 1.0, "voltage"),
}
_NAMES = {"ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds", "ps": "picoseconds",
          "mV": "millivolts"}
_QUANTITY = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(\S*)\s*")


def units_of(dimension: str) -> list[str]:
    """Every accepted unit of one dimension (for error messages)."""
    return [u for u, (d, _) in UNITS.items() if d == dimension]


def parse_quantity(text: str, dimension: str, where: str, *, error: type[ConfigError] = ConfigError) -> float:
    """A quantity in SI units from `text`: a plain SI number (`700e-12`) or one with a unit (`700ps`, `1.5 V`).

    Args:
      text: what the user wrote.
      dimension: one of the dimensions of `UNITS` ("time", "voltage", ...).
      where: names the input in messages (`--width`, `file.csv:3: column 2 ('width')`).
      error: the error class raised (a `ConfigError` or a `DataFileError`).

    Raises:
      error: not a finite number, a unit of another dimension, or a plain number implausible
        for its dimension (`PLAUSIBLE`), naming the unit the writer likely meant.
    """
    text = str(text).strip()
    match = _QUANTITY.fullmatch(text.replace("µ", "u").replace("μ", "u"))
    if not match:
        raise error(f"{where}: {text!r} is not a number (SI units{_example(dimension)})")
    number, unit = match.groups()
    value = float(number)
    if unit:
        if UNITS.get(unit, ("",))[0] != dimension:
            raise error(f"{where}: {text!r}: {unit!r} is not a unit of {dimension}; use one of {units_of(dimension)}")
        return value * UNITS[unit][1]
    limit, limit_text, typical, what = PLAUSIBLE.get(dimension, (math.inf, "", 1.0, dimension))
    if abs(value) > limit:
        smaller = [u for u in units_of(dimension) if UNITS[u][1] < 1.0]
        meant = min(smaller, key=lambda u: abs(math.log10(abs(value) * UNITS[u][1] / typical)))
        factor = UNITS[meant][1]
        si = f"{value * factor:.6g}" if "e" in number.lower() else f"{number}e{round(math.log10(factor))}"
        raise error(f"{where}: {text} {SI_UNIT[dimension]} is implausible for a {what} (above {limit_text}); "
                    f"did you mean {_NAMES.get(meant, meant)}? write {si} or {number}{meant}")
    return value


def _example(dimension: str) -> str:
    examples = {"time": "700e-12 or 700ps", "voltage": "1.5 or 1.5V"}
    return f", e.g. {examples[dimension]}" if dimension in examples else ""
