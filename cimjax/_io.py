"""Atomic file output, input-error helpers and the bundled digits, shared by every layer."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import numpy as np

from cimjax.errors import ConfigError, DataFileError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it onto `path` on success.

    A crash or exception leaves no half-written file at `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    tmp = Path(tmp)
    try:  # from here on an interrupt (Ctrl-C) still removes the temporary file
        os.close(fd)
        # mkstemp creates 0600 files; outputs get the usual umask-derived mode instead.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def parse_json(text: str, source: str) -> Any:
    """`json.loads(text)`, or an DataFileError naming `source`, line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataFileError(f"{source}:{err.lineno}:{err.colno}: invalid JSON: {err.msg}") from None


def read_text(path: str | os.PathLike, what: str = "file") -> str:
    """The UTF-8 text in `path`, without a leading byte order mark.

    Raises:
      DataFileError: naming the file, if it is missing, a folder, unreadable, or not text
        (binary or another encoding: the message gives the line and byte offset).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise DataFileError(f"{path}: cannot read {what}: {err.strerror}") from None
    nul = data.find(b"\0")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        nul = err.start if nul < 0 else min(nul, err.start)
    else:
        if nul < 0:
            # a UTF-8 byte order mark (Excel's "CSV UTF-8", Windows Notepad) is not part of the text
            return text[1:] if text.startswith("\ufeff") else text
    line = data[:nul].count(b"\n") + 1
    raise DataFileError(f"{path}:{line}: cannot read {what}: not UTF-8 text (byte 0x{data[nul]:02x} at offset "
                        f"{nul}); is it a binary file?")


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """The JSON value in `path`; an DataFileError naming the file (and line, column) if unusable."""
    return parse_json(read_text(path, what), str(path))


def _json_safe(obj: Any) -> Any:
    """`obj` with every NaN or infinite float as None: standard JSON (null), which every reader parses."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def check_replaceable(path: str | os.PathLike, what: str) -> None:
    """A ConfigError if emptying the folder `path` would empty the current folder or the home folder."""
    here, target = Path.cwd().resolve(), Path(path).resolve()
    if target == here or target in here.parents or target == Path.home().resolve():
        raise ConfigError(f"{what} {str(path)!r} holds the current folder (or is your home folder): --force would "
                          "empty it; choose a results folder of its own")


def json_text(obj: Any, indent: int | None = 2) -> str:
    """`obj` as standard JSON text: a value that is not a finite number (a fit's undefined interval) is null."""
    return json.dumps(_json_safe(obj), indent=indent, sort_keys=False, allow_nan=False)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(path, json_text(obj) + "\n")


# the figure formats every command that draws accepts
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def save_figure_atomic(fig, path: str | os.PathLike, **kwargs) -> None:
    """Saves a matplotlib figure through a temporary file of the same extension."""
    suffix = Path(path).suffix or ".png"
    with atomic_path(path, suffix=suffix) as tmp:
        fig.savefig(tmp, **kwargs)


LEGEND_LOCATIONS = ("upper right", "upper left", "lower right", "lower left", "center right", "center left",
                    "upper center", "lower center")


def _hides_data(ax, box) -> bool:
    """Whether display-space `box` covers any drawn data of `ax`: line paths, markers, filled areas, bars, texts."""
    from matplotlib.collections import LineCollection

    for line in ax.lines:
        path = line.get_transform().transform_path(line.get_path())
        if line.get_linestyle() not in ("None", "none", "", " ") and path.intersects_bbox(box, filled=False):
            return True
        if line.get_marker() not in (None, "None", "none", "", " ") and box.count_contains(path.vertices) > 0:
            return True
    for coll in ax.collections:
        offsets = coll.get_offsets()
        if len(offsets) and not isinstance(coll, LineCollection) and coll.get_offset_transform() is not None:
            if box.count_contains(coll.get_offset_transform().transform(offsets)) > 0:
                return True
        paths = coll.get_paths()
        if len(paths) and len(offsets) <= 1:  # filled areas and line segments, not scatter markers
            transform = coll.get_transform()
            filled = not isinstance(coll, LineCollection)
            if any(transform.transform_path(p).intersects_bbox(box, filled=filled) for p in paths):
                return True
    artists = list(ax.patches) + [t for t in ax.texts if t.get_text()]
    renderer = ax.figure.canvas.get_renderer()
    return any(a.get_visible() and a.get_window_extent(renderer).overlaps(box) for a in artists)


def _place(ax, outside: str, kwargs: dict):
    renderer = ax.figure.canvas.get_renderer()
    for loc in LEGEND_LOCATIONS:
        legend = ax.legend(loc=loc, **kwargs)
        if not _hides_data(ax, legend.get_window_extent(renderer).padded(2.0)):
            return
    if outside == "below":
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, **kwargs)
    else:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def place_legends(fig, legends, *, outside: str = "right", passes: int = 3) -> None:
    """Legends where they hide no data: each in the first clear corner or side of its axes, else outside.

    `legends` is a list of (axes, legend keyword arguments). Legends moved outside change the
    (constrained) layout and so the data under the others: the figure is laid out again and
    any legend that now hides data is placed again, for up to `passes` rounds. `outside` is
    where a legend goes when no place inside is clear: "right" or "below".
    """
    pending = list(legends)
    for _ in range(passes):
        fig.draw_without_rendering()  # final positions before choosing
        for ax, kwargs in pending:
            _place(ax, outside, kwargs)
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        pending = [(ax, kwargs) for ax, kwargs in legends
                   if ax.get_legend().get_bbox_to_anchor() is ax.bbox  # an inside legend
                   and _hides_data(ax, ax.get_legend().get_window_extent(renderer).padded(2.0))]
        if not pending:
            return


def place_legend(ax, *, outside: str = "right", **kwargs) -> None:
    """`place_legends` for one legend of `ax`."""
    place_legends(ax.figure, [(ax, kwargs)], outside=outside)


class ImageData(NamedTuple):
    """Train/test images flattened to [N, H*W] float32 in [0, 1], labels int32 [N]."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    side: int  # images are side x side

    @property
    def n_pixels(self) -> int:
        return self.side * self.side


def load_digits_split(test_fraction: float = 0.2, seed: int = 0) -> ImageData:
    """The scikit-learn digits (1797 images, 8x8), split by a seeded permutation."""
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"{test_fraction=} must be in (0, 1)")
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)  # grey levels 0..16 (UCI optdigits)
    y = digits.target.astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    return ImageData(x[train], y[train], x[test], y[test], side=8)
