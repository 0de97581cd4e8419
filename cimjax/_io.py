"""Atomic file output and input-error helpers shared by every layer."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from cimjax.errors import DataFileError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yields a temporary path beside `path`; renames it onto `path` on success.

    A crash or exception leaves no half-written file at `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    # mkstemp creates 0600 files; outputs get the usual umask-derived mode instead.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
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
    """The UTF-8 text in `path`.

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
            return text
    line = data[:nul].count(b"\n") + 1
    raise DataFileError(f"{path}:{line}: cannot read {what}: not UTF-8 text (byte 0x{data[nul]:02x} at offset "
                        f"{nul}); is it a binary file?")


def read_json(path: str | os.PathLike, what: str = "file") -> Any:
    """The JSON value in `path`; an DataFileError naming the file (and line, column) if unusable."""
    return parse_json(read_text(path, what), str(path))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


# the figure formats every command that draws accepts
FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def save_figure_atomic(fig, path: str | os.PathLike, **kwargs) -> None:
    """Saves a matplotlib figure through a temporary file of the same extension."""
    suffix = Path(path).suffix or ".png"
    with atomic_path(path, suffix=suffix) as tmp:
        fig.savefig(tmp, **kwargs)
