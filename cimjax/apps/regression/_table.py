"""The user's data for `cimjax regress --data`: a CSV or .npz table, its columns and its held-out split.

A CSV has one header line of column names (lines starting with '#' are comments);
an .npz holds one 1-D numeric array per column name. The held-out split is either
a seeded random fraction of the rows or a column of `train`/`test` labels, so a
table written by `save_table_csv` (the built-in task's data with its split) gives
back exactly the built-in run.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np

from cimjax._io import read_text, write_text_atomic
from cimjax.errors import ConfigError, DataFileError
from cimjax.apps.regression._task import RegressionData

__all__ = ["RegressionTable", "load_table", "split_table", "save_table_csv", "MIN_TRAIN", "MIN_TEST"]

MIN_TRAIN = 20  # assumption: fewer training rows cannot fit a mean and a spread
MIN_TEST = 10  # assumption: fewer held-out rows give no usable coverage
_SPLIT_SEED_TAG = 0x5EED  # keeps the split's stream apart from the training seed's
SPLIT_LABELS = ("train", "test")
_FLOAT32_MAX = float(np.finfo(np.float32).max)  # columns are read into float32


class RegressionTable(NamedTuple):
    """x: (n, k) float32; y: (n, 1) float32; is_test: (n,) bool from a split column, or None."""

    x: np.ndarray
    y: np.ndarray
    x_names: tuple[str, ...]
    y_name: str
    is_test: np.ndarray | None
    source: str


def _missing(path, where: str, name: str, header: Sequence[str], what: str) -> DataFileError:
    return DataFileError(f"{path}{where}: no {what} {name!r}; the file has {list(header)}")


def _number(cell: str, where: str) -> float:
    """A finite float from a CSV cell, else a DataFileError at `where` (file:line: column)."""
    try:
        value = float(cell)
    except ValueError:
        value, problem = math.nan, "is not a number"
    else:
        problem = "is not finite"
    if math.isfinite(value) and abs(value) > _FLOAT32_MAX:
        value, problem = math.nan, f"is beyond float32 (|v| <= {_FLOAT32_MAX:.4g}), the precision the models train in"
    if math.isfinite(value):
        return value
    raise DataFileError(f"{where}: {cell!r} {problem}")


def _read_csv(path: Path, names: Sequence[str], split: str | None) -> tuple[dict, np.ndarray | None]:
    text = read_text(path, "data table")
    rows = [(i, row) for i, row in enumerate(csv.reader(text.splitlines()), start=1)
            if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#")]
    if not rows:
        raise DataFileError(f"{path}:1: empty file; expected a header line of column names")
    header_line, header = rows[0][0], [h.strip() for h in rows[0][1]]
    for name in (*names, *([split] if split else [])):
        if name not in header:
            raise _missing(path, f":{header_line}", name, header, "column")
        at = [j + 1 for j, h in enumerate(header) if h == name]
        if len(at) > 1:
            raise DataFileError(f"{path}:{header_line}: column {at[1]} ({name!r}) has the name of column {at[0]}; "
                                f"rename one so {name!r} names a single column")
    cols = {name: header.index(name) for name in names}
    values = {name: [] for name in names}
    labels = []
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise DataFileError(f"{path}:{line}: {len(row)} cells, the header has {len(header)} columns")
        for name, col in cols.items():
            values[name].append(_number(row[col].strip(), f"{path}:{line}: column {col + 1} ({name!r})"))
        if split:
            label = row[header.index(split)].strip().lower()
            if label not in SPLIT_LABELS:
                raise DataFileError(f"{path}:{line}: column {header.index(split) + 1} ({split!r}): {label!r} is not "
                                    f"one of {SPLIT_LABELS}")
            labels.append(label == "test")
    return {k: np.asarray(v, np.float64) for k, v in values.items()}, (np.asarray(labels, bool) if split else None)


def _read_npz(path: Path, names: Sequence[str], split: str | None) -> tuple[dict, np.ndarray | None]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as err:
        raise DataFileError(f"{path}: cannot read the .npz data table: {err}") from None
    values = {}
    for name in (*names, *([split] if split else [])):
        if name not in arrays:
            raise _missing(path, "", name, sorted(arrays), "array")
        a = np.squeeze(arrays[name])
        if a.ndim != 1:
            raise DataFileError(f"{path}: array {name!r} has shape {arrays[name].shape}; each column must be 1-D")
        values[name] = a
    lengths = {k: len(v) for k, v in values.items()}
    if len(set(lengths.values())) > 1:
        raise DataFileError(f"{path}: the arrays differ in length: {lengths}")
    labels = None
    if split:
        labels_raw = np.char.lower(values.pop(split).astype(str))
        bad = np.flatnonzero(~np.isin(labels_raw, SPLIT_LABELS))
        if bad.size:
            raise DataFileError(f"{path}: array {split!r}[{bad[0]}] = {labels_raw[bad[0]]!r} is not one of {SPLIT_LABELS}")
        labels = labels_raw == "test"
    for name, a in values.items():
        if not np.issubdtype(a.dtype, np.number) or np.issubdtype(a.dtype, np.complexfloating):
            raise DataFileError(f"{path}: array {name!r} holds {a.dtype} values, not real numbers")
        if not np.all(np.isfinite(a)):
            raise DataFileError(f"{path}: array {name!r}[{int(np.flatnonzero(~np.isfinite(a))[0])}] is not finite")
        if np.any(np.abs(a) > _FLOAT32_MAX):
            raise DataFileError(f"{path}: array {name!r}[{int(np.flatnonzero(np.abs(a) > _FLOAT32_MAX)[0])}] is beyond "
                                f"float32 (|v| <= {_FLOAT32_MAX:.4g}), the precision the models train in")
        values[name] = a.astype(np.float64)
    return values, labels


def load_table(path: str | os.PathLike, x_cols: Sequence[str], y_col: str, *, split: str | None = None
               ) -> RegressionTable:
    """Reads the columns `x_cols` and `y_col` (and the `split` labels, if named) of a .csv or .npz table.

    Raises:
      ConfigError: no x column, or y among the x columns.
      DataFileError: naming the file (and line and column in a CSV): an unreadable file, a
        missing column (the header listed), a used column name the header repeats, a non-numeric or non-finite cell, a ragged row,
        a split label other than train/test, or no data rows.
    """
    path = Path(path)
    x_cols = tuple(x_cols)
    if not x_cols:
        raise ConfigError("--x names no column; give one or more, comma-separated")
    named = (*x_cols, y_col, *([split] if split is not None else []))
    twice = sorted({c for c in named if named.count(c) > 1})
    if twice:
        raise ConfigError(f"column {twice[0]!r} is named twice among --x, --y, --split")
    reader = _read_npz if path.suffix.lower() == ".npz" else _read_csv
    values, labels = reader(path, (*x_cols, y_col), split)
    if len(values[y_col]) == 0:
        raise DataFileError(f"{path}: no data rows")
    x = np.stack([values[c] for c in x_cols], axis=1).astype(np.float32)
    return RegressionTable(x, values[y_col][:, None].astype(np.float32), x_cols, y_col, labels, str(path))


def split_table(table: RegressionTable, test_fraction: float, seed: int) -> tuple[RegressionData, RegressionData]:
    """(train, test): the table's split labels, else a seeded random `test_fraction` of the rows held out.

    Raises:
      ConfigError: a fraction outside (0, 1), or fewer than MIN_TRAIN training or MIN_TEST
        held-out rows.
    """
    n = len(table.y)
    if table.is_test is not None:
        is_test = table.is_test
    else:
        if not 0.0 < test_fraction < 1.0:
            raise ConfigError(f"--test-fraction={test_fraction} must be in (0, 1)")
        order = np.random.default_rng([seed, _SPLIT_SEED_TAG]).permutation(n)
        is_test = np.zeros(n, bool)
        is_test[order[:int(round(test_fraction * n))]] = True
    n_test = int(is_test.sum())
    if n - n_test < MIN_TRAIN or n_test < MIN_TEST:
        raise ConfigError(f"{table.source}: {n} rows split into {n - n_test} training and {n_test} held-out rows; "
                          f"need at least {MIN_TRAIN} and {MIN_TEST}")
    return (RegressionData(table.x[~is_test], table.y[~is_test]), RegressionData(table.x[is_test], table.y[is_test]))


def save_table_csv(path: str | os.PathLike, train: RegressionData, test: RegressionData,
                   x_names: Sequence[str] | None = None, y_name: str = "y", split: str = "split") -> None:
    """Writes train and test rows as a CSV with a `split` column of train/test labels (float32 exact)."""
    k = train.x.shape[1]
    x_names = tuple(x_names) if x_names is not None else (("x",) if k == 1 else tuple(f"x{i + 1}" for i in range(k)))
    lines = [",".join((*x_names, y_name, split))]
    for label, data in zip(SPLIT_LABELS, (train, test)):
        for xr, yr in zip(np.asarray(data.x, np.float32), np.asarray(data.y, np.float32)):
            lines.append(",".join([*(f"{v:.9g}" for v in xr), f"{yr[0]:.9g}", label]))
    write_text_atomic(path, "\n".join(lines) + "\n")
