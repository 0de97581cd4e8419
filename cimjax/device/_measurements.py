"""Switching measurements: the CSV format read by `cimjax device calibrate`, validated line by line."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cimjax.errors import DataFileError
from cimjax._io import read_text, write_text_atomic
from cimjax.device._units import parse_quantity

# Synthetic data shipped with the package (binomial draws from the default preset; see its header).
EXAMPLE_CSV = Path(__file__).parent / "presets" / "example_switching.csv"

REQUIRED = ("voltage", "width", "trials")
COUNT_COLUMNS = ("switched", "probability")  # exactly one: a count, or a fraction of trials
OPTIONAL = ("device",)
_DIMENSIONS = {"voltage": "voltage", "width": "time"}  # cell kind -> physical dimension


class SwitchingData(NamedTuple):
    """Pulse-switching counts, one row per (device, voltage, width) cell.

    Attributes:
      voltage: pulse amplitudes [V], shape (N,).
      width: pulse widths [s], shape (N,).
      switched: number of pulses that switched the device, int64 shape (N,).
      trials: number of pulses applied, int64 shape (N,).
      device: device identifier per row (str), shape (N,); all "" without a device column.
      source: file the data came from ("<memory>" otherwise).
    """

    voltage: np.ndarray
    width: np.ndarray
    switched: np.ndarray
    trials: np.ndarray
    device: np.ndarray
    source: str = "<memory>"

    @property
    def devices(self) -> list[str]:
        """Distinct device identifiers in order of first appearance."""
        return list(dict.fromkeys(self.device.tolist()))

    def select(self, device: str) -> "SwitchingData":
        """Rows of one device."""
        keep = self.device == device
        return SwitchingData(*(a[keep] for a in self[:5]), source=self.source)


def _cell(path, line, header, row, name, kind):
    col = header.index(name)
    text = row[col].strip()
    where = f"{path}:{line}: column {col + 1} ({name!r})"
    if kind in _DIMENSIONS:  # a physical quantity: SI number or number with unit, checked for plausibility
        value = parse_quantity(text, _DIMENSIONS[kind], where, error=DataFileError)
    else:
        try:
            value = float(text)
        except ValueError:
            raise DataFileError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataFileError(f"{where}: {text!r} is not finite")
    if kind == "count":
        if value != int(value):
            raise DataFileError(f"{where}: {text!r} is not a whole number")
        if value < 0:
            raise DataFileError(f"{where}: {name}={text} must be >= 0")
    if kind == "width" and value <= 0:
        raise DataFileError(f"{where}: {name}={text} must be > 0 (SI units: seconds)")
    if kind == "probability" and not 0 <= value <= 1:
        raise DataFileError(f"{where}: {name}={text} outside [0, 1]")
    return value


def load_switching_csv(path: str | os.PathLike) -> SwitchingData:
    """Reads a switching CSV: header `voltage,width,switched,trials` (+ optional `device`).

    Units are SI (volts, seconds), or written in the cell (`700ps`, `1.5V`); a plain width
    above 1 ms or voltage above 100 V is refused as a unit slip (`parse_quantity`). A
    `probability` column (fraction of trials) may replace `switched`; it is converted to the
    nearest count. Columns may come in any order; lines starting with '#' are comments.

    Raises:
      DataFileError: naming file, line and column, for an unreadable or binary file, a missing
        or unknown column, a short or long row, a non-numeric or non-finite cell, a wrong or
        implausible unit, a non-whole or negative count, a width <= 0, a probability outside
        [0, 1], switched > trials, or no data rows.
    """
    path = Path(path)
    text = read_text(path, "switching data")
    # (line number, cells); lines starting with '#' are comments (e.g. provenance notes)
    rows = [(i, row) for i, row in enumerate(csv.reader(text.splitlines()), start=1)
            if not (row and row[0].lstrip().startswith("#"))]
    if not rows:
        raise DataFileError(f"{path}:1: empty file; expected header {','.join(REQUIRED[:2] + ('switched',) + REQUIRED[2:])}")
    header_line, header = rows[0][0], [h.strip().lower() for h in rows[0][1]]
    for col, name in enumerate(header):
        if name not in REQUIRED + COUNT_COLUMNS + OPTIONAL:
            raise DataFileError(f"{path}:{header_line}: column {col + 1} ({name!r}) is not one of {REQUIRED + COUNT_COLUMNS + OPTIONAL}")
        if header.index(name) != col:
            raise DataFileError(f"{path}:{header_line}: column {col + 1} ({name!r}) appears twice")
    for name in REQUIRED:
        if name not in header:
            raise DataFileError(f"{path}:{header_line}: missing column {name!r}; header is {header}, need voltage,width,switched,trials")
    counts = [c for c in COUNT_COLUMNS if c in header]
    if len(counts) != 1:
        raise DataFileError(f"{path}:{header_line}: need exactly one of the columns {COUNT_COLUMNS}; found {counts}")
    out = {k: [] for k in ("voltage", "width", "switched", "trials", "device")}
    for line, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if len(row) != len(header):
            raise DataFileError(f"{path}:{line}: {len(row)} cells, header has {len(header)} columns")
        out["voltage"].append(_cell(path, line, header, row, "voltage", "voltage"))
        out["width"].append(_cell(path, line, header, row, "width", "width"))
        trials = _cell(path, line, header, row, "trials", "count")
        if counts[0] == "switched":
            switched = _cell(path, line, header, row, "switched", "count")
            if switched > trials:
                col = header.index("switched") + 1
                raise DataFileError(f"{path}:{line}: column {col} ('switched'): switched={int(switched)} > trials={int(trials)}")
        else:
            switched = round(_cell(path, line, header, row, "probability", "probability") * trials)
        out["trials"].append(int(trials))
        out["switched"].append(int(switched))
        out["device"].append(row[header.index("device")].strip() if "device" in header else "")
    if not out["voltage"]:
        raise DataFileError(f"{path}: no data rows after the header")
    return SwitchingData(
        voltage=np.asarray(out["voltage"]), width=np.asarray(out["width"]),
        switched=np.asarray(out["switched"], np.int64), trials=np.asarray(out["trials"], np.int64),
        device=np.asarray(out["device"], dtype=object), source=str(path),
    )


def simulate_switching_data(key, curve, voltages, widths, trials: int) -> SwitchingData:
    """Binomial switching counts drawn from `curve` (scalar leaves) on the voltages x widths grid."""
    import jax
    import jax.numpy as jnp

    v, w = np.meshgrid(np.asarray(voltages, float), np.asarray(widths, float), indexing="ij")
    p = np.asarray(curve.switching_probability(jnp.asarray(v.ravel()), jnp.asarray(w.ravel())), float)
    k = np.asarray(jax.random.binomial(key, int(trials), jnp.asarray(p)), float).round().astype(np.int64)
    n = np.full(k.shape, int(trials), np.int64)
    return SwitchingData(v.ravel(), w.ravel(), k, n, np.full(k.shape, "", dtype=object))


def save_switching_csv(data: SwitchingData, path: str | os.PathLike, comment: str = "") -> None:
    """Writes `data` in the format `load_switching_csv` reads (atomically), after `comment` lines."""
    with_device = any(d != "" for d in data.device)
    lines = [f"# {c}" for c in comment.splitlines()] + ["voltage,width,switched,trials" + (",device" if with_device else "")]
    for v, w, k, n, d in zip(data.voltage, data.width, data.switched, data.trials, data.device):
        lines.append(f"{float(v)!r},{float(w)!r},{int(k)},{int(n)}" + (f",{d}" if with_device else ""))
    write_text_atomic(path, "\n".join(lines) + "\n")
