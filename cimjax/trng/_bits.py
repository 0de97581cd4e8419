"""Bit streams in and out: validation, ASCII / packed-byte / numpy files.

Every test in `cimjax.trng` takes a `(k, n)` uint8 array of 0/1, one stream per row,
read first bit first (bit 0 is epsilon_1 of SP800-22), as the NIST reference does.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cimjax.errors import ConfigError, DataFileError
from cimjax._io import atomic_path, write_bytes_atomic, write_text_atomic

FORMATS = ("ascii", "bytes", "npy")
_EXTENSIONS = {".txt": "ascii", ".asc": "ascii", ".ascii": "ascii", ".bin": "bytes",
               ".dat": "bytes", ".bytes": "bytes", ".npy": "npy"}


def as_bit_matrix(bits, name: str = "bits") -> np.ndarray:
    """Validates 0/1 data and returns it as a `(k, n)` uint8 matrix (a 1-D stream becomes k=1).

    Raises:
      ConfigError: if `bits` is empty, ragged, not 1-D/2-D, non-integer-valued, or holds values other than 0/1.
    """
    try:
        arr = np.asarray(bits)
    except ValueError:  # numpy: "inhomogeneous shape" for ragged nested lists
        lengths = sorted({len(r) for r in bits if hasattr(r, "__len__")}) if hasattr(bits, "__iter__") else []
        detail = f" (stream lengths {lengths})" if len(lengths) > 1 else ""
        raise ConfigError(f"{name} is ragged{detail}: the streams must all have one length and hold single bits; "
                          f"pass a 1-D stream or a rectangular streams x bits array") from None
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ConfigError(f"{name} must be 1-D (one stream) or 2-D (streams x bits), got {arr.shape=}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ConfigError(f"{name} is empty: {arr.shape=}")
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ConfigError(f"{name} must be numeric 0/1, got {arr.dtype=}")
    bad = (arr != 0) & (arr != 1)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ConfigError(f"{name} must hold only 0 and 1; found {arr[idx]!r} at index {idx}")
    return arr.astype(np.uint8)


def infer_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    """The file format: `fmt` if given, else from the extension (.txt ascii, .bin bytes, .npy)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ConfigError(f"unknown format {fmt!r}; expected one of {FORMATS}")
        return fmt
    ext = Path(path).suffix.lower()
    if ext not in _EXTENSIONS:
        raise DataFileError(f"cannot tell the format of {str(path)!r} from its extension {ext!r}; "
                         f"pass --format with one of {FORMATS}")
    return _EXTENSIONS[ext]


def parse_ascii(text: str, source: str = "<text>") -> np.ndarray:
    """Parses ASCII '0'/'1' with any whitespace into a 1-D uint8 stream.

    Raises:
      DataFileError: naming the first offending line and column (1-based), or an empty input.
    """
    raw = np.frombuffer(text.encode("utf-8", "surrogateescape"), dtype=np.uint8)
    is_bit = (raw == ord("0")) | (raw == ord("1"))
    is_space = np.isin(raw, np.frombuffer(b" \t\n\r\v\f", dtype=np.uint8))
    bad = np.flatnonzero(~(is_bit | is_space))
    if bad.size:
        pos = int(bad[0])
        prefix = raw[:pos].tobytes()
        line = prefix.count(b"\n") + 1
        line_start = prefix.rfind(b"\n") + 1
        col = len(prefix[line_start:].decode("utf-8", "replace")) + 1
        char = text.encode("utf-8", "surrogateescape")[pos:pos + 1].decode("utf-8", "replace")
        raise DataFileError(f"{source}: line {line}, column {col}: invalid character {char!r}; "
                         "expected only '0', '1' and whitespace")
    bits = raw[is_bit] - ord("0")
    if bits.size == 0:
        raise DataFileError(f"{source}: no bits found (the file is empty or only whitespace)")
    return bits.astype(np.uint8)


def load_bits(path: str | os.PathLike, fmt: str | None = None) -> np.ndarray:
    """Reads a bit-stream file as a `(k, n)` uint8 matrix.

    Formats: "ascii" (0/1 with any whitespace; one stream), "bytes" (packed, most
    significant bit first; one stream), "npy" (a 1-D or 2-D numpy array of 0/1, or
    bool; rows are streams).

    Raises:
      DataFileError: missing/empty file, unknown format, bad character, or a non-binary array.
    """
    fmt = infer_format(path, fmt)
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"no such file: {str(path)!r}")
    if fmt == "ascii":
        data = path.read_bytes()
        return parse_ascii(data.decode("utf-8", "surrogateescape"), str(path))[None, :]
    if fmt == "bytes":
        data = np.fromfile(path, dtype=np.uint8)
        if data.size == 0:
            raise DataFileError(f"{str(path)!r}: the file is empty")
        return np.unpackbits(data)[None, :]  # MSB first
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise DataFileError(f"{str(path)!r}: not a readable .npy array ({err})") from None
    return as_bit_matrix(arr, name=str(path))


def save_bits(path: str | os.PathLike, bits, fmt: str | None = None) -> None:
    """Writes bits atomically: ascii (one stream per line), bytes (packed MSB first), or npy.

    "bytes" needs a single stream; its length is padded with zeros to a multiple of 8.
    """
    fmt = infer_format(path, fmt)
    bits = as_bit_matrix(bits)
    if fmt == "ascii":
        write_text_atomic(path, "\n".join((row + ord("0")).tobytes().decode() for row in bits) + "\n")
    elif fmt == "bytes":
        if bits.shape[0] != 1:
            raise ConfigError(f"the bytes format holds one stream; got {bits.shape[0]} (use .npy or .txt)")
        write_bytes_atomic(path, np.packbits(bits[0]).tobytes())
    else:
        with atomic_path(path, suffix=".npy") as tmp:
            np.save(tmp, bits)
