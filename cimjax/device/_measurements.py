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
OPTIONAL = ("device", "direction")
# Switching directions, canonical names. The P-bit is reset to its data-bit's state before each
# write (`pair_output`), so a pair storing + switches P -> AP and one storing - switches AP -> P.
DIRECTIONS = ("p_to_ap", "ap_to_p")
# Accepted spellings of the `direction` column (case and spaces ignored) -> canonical name.
DIRECTION_SPELLINGS = {spelling: canonical for canonical, spellings in (
    ("p_to_ap", ("p->ap", "p_ap", "p-ap", "p_to_ap", "p2ap")),
    ("ap_to_p", ("ap->p", "ap_p", "ap-p", "ap_to_p", "ap2p"))) for spelling in spellings}
_DIMENSIONS = {"voltage": "voltage", "width": "time"}  # cell kind -> physical dimension
_MAX_COUNT = 1e15  # more pulses than any measurement applies (1e12 cycles rate a device, Fig. 19); int64-safe


class SwitchingData(NamedTuple):
    """Pulse-switching counts, one row per (device, voltage, width) cell.

    Attributes:
      voltage: pulse amplitudes [V], shape (N,).
      width: pulse widths [s], shape (N,).
      switched: number of pulses that switched the device, int64 shape (N,).
      trials: number of pulses applied, int64 shape (N,).
      device: device identifier per row (str), shape (N,); all "" without a device column.
      source: file the data came from ("<memory>" otherwise).
      direction: switching direction per row, "p_to_ap" or "ap_to_p" (DIRECTIONS), shape (N,);
        None without a direction column (one direction, or directions not told apart).
    """

    voltage: np.ndarray
    width: np.ndarray
    switched: np.ndarray
    trials: np.ndarray
    device: np.ndarray
    source: str = "<memory>"
    direction: np.ndarray | None = None

    @property
    def directions(self) -> list[str]:
        """Distinct switching directions in canonical order ([] without a direction column)."""
        return [] if self.direction is None else [d for d in DIRECTIONS if np.any(self.direction == d)]

    def select_direction(self, direction: str) -> "SwitchingData":
        """Rows of one switching direction, without the direction column; source names the direction."""
        keep = self.direction == direction
        return SwitchingData(*(a[keep] for a in self[:5]), source=f"{self.source} (direction {direction})")

    @property
    def devices(self) -> list[str]:
        """Distinct device identifiers in order of first appearance."""
        return list(dict.fromkeys(self.device.tolist()))

    def select(self, device: str) -> "SwitchingData":
        """Rows of one device."""
        keep = self.device == device
        direction = None if self.direction is None else self.direction[keep]
        return SwitchingData(*(a[keep] for a in self[:5]), source=self.source, direction=direction)


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
        if value > _MAX_COUNT:
            raise DataFileError(f"{where}: {name}={text} is above {_MAX_COUNT:.0e} pulses; is it a count?")
    if kind == "width" and value <= 0:
        raise DataFileError(f"{where}: {name}={text} must be > 0 (SI units: seconds)")
    if kind == "probability" and not 0 <= value <= 1:
        raise DataFileError(f"{where}: {name}={text} outside [0, 1]")
    return value


def _direction(path, line, header, row) -> str:
    col = header.index("direction")
    text = row[col].strip()
    canonical = DIRECTION_SPELLINGS.get(text.lower().replace(" ", ""))
    if canonical is None:
        raise DataFileError(f"{path}:{line}: column {col + 1} ('direction'): {text!r} is not a switching direction; "
                            f"write P->AP (also p_ap, p-ap, p_to_ap, p2ap) or AP->P (ap_p, ap-p, ap_to_p, ap2p)")
    return canonical


def load_switching_csv(path: str | os.PathLike) -> SwitchingData:
    """Reads a switching CSV: header `voltage,width,switched,trials` (+ optional `device`, `direction`).

    Units are SI (volts, seconds), or written in the cell (`700ps`, `1.5V`); a plain width
    above 1 ms or voltage above 100 V is refused as a unit slip (`parse_quantity`). A
    `probability` column (fraction of trials) may replace `switched`; it is converted to the
    nearest count. Columns may come in any order; lines starting with '#' are comments.
    An optional `direction` column names each row's switching direction: P->AP or AP->P
    (case and spaces ignored; also p_ap / ap_p, p-ap / ap-p, p_to_ap / ap_to_p, p2ap / ap2p).

    Raises:
      DataFileError: naming file, line and column, for an unreadable or binary file, a missing
        or unknown column, a short or long row, a non-numeric or non-finite cell, a wrong or
        implausible unit, a non-whole, negative or implausibly large count, a width <= 0, a probability outside
        [0, 1], switched > trials, a direction that is not one of the spellings, or no data rows.
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
            hint = next((f"; cells are separated by commas, not {sep!r}" for sep in (";", "\t")
                         if sep in name and "voltage" in name), "")
            raise DataFileError(f"{path}:{header_line}: column {col + 1} ({name!r}) is not one of "
                                f"{REQUIRED + COUNT_COLUMNS + OPTIONAL}{hint}")
        if header.index(name) != col:
            raise DataFileError(f"{path}:{header_line}: column {col + 1} ({name!r}) appears twice")
    for name in REQUIRED:
        if name not in header:
            raise DataFileError(f"{path}:{header_line}: missing column {name!r}; header is {header}, need voltage,width,switched,trials")
    counts = [c for c in COUNT_COLUMNS if c in header]
    if len(counts) != 1:
        raise DataFileError(f"{path}:{header_line}: need exactly one of the columns {COUNT_COLUMNS}; found {counts}")
    out = {k: [] for k in ("voltage", "width", "switched", "trials", "device", "direction")}
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
        if "direction" in header:
            out["direction"].append(_direction(path, line, header, row))
    if not out["voltage"]:
        raise DataFileError(f"{path}: no data rows after the header")
    return SwitchingData(
        voltage=np.asarray(out["voltage"]), width=np.asarray(out["width"]),
        switched=np.asarray(out["switched"], np.int64), trials=np.asarray(out["trials"], np.int64),
        device=np.asarray(out["device"], dtype=object), source=str(path),
        direction=np.asarray(out["direction"], dtype=object) if "direction" in header else None,
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
    names = {"p_to_ap": "P->AP", "ap_to_p": "AP->P"}
    direction = [""] * len(data.voltage) if data.direction is None else [f",{names[d]}" for d in data.direction]
    lines = [f"# {c}" for c in comment.splitlines()] + ["voltage,width,switched,trials" + (",device" if with_device else "")
                                                       + (",direction" if data.direction is not None else "")]
    for v, w, k, n, d, r in zip(data.voltage, data.width, data.switched, data.trials, data.device, direction):
        lines.append(f"{float(v)!r},{float(w)!r},{int(k)},{int(n)}" + (f",{d}" if with_device else "") + r)
    write_text_atomic(path, "\n".join(lines) + "\n")
