"""Image data for the diffusion demo: scikit-learn's 8x8 digits, or local MNIST files.

Nothing is downloaded. The default is the 1797 handwritten digits that ship with
scikit-learn (8x8, grey levels 0..16), split once with a fixed seed. MNIST-format files
the user already has (IDX, gzipped or not, or an .npz with x_train/y_train/x_test/y_test)
can be loaded for larger runs. Pixels are scaled to [0, 1] and flattened. The digits split
(`load_digits_split`) lives in `cimjax._io`, shared with the classification app.
"""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import numpy as np

from cimjax._io import ImageData, load_digits_split
from cimjax.errors import ConfigError, DataFileError

__all__ = ["ImageData", "load_digits_split", "load_idx", "load_mnist", "load_dataset"]

_IDX_IMAGES_MAGIC = 2051  # MNIST spec: 0x00000803, unsigned byte, 3 dimensions
_IDX_LABELS_MAGIC = 2049  # MNIST spec: 0x00000801, unsigned byte, 1 dimension


def _open(path: Path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def load_idx(path: str | os.PathLike, *, expect_images: bool) -> np.ndarray:
    """One IDX file (MNIST format), optionally gzipped: images [N, 28, 28] or labels [N].

    Raises:
      DataFileError: the file is missing, has the wrong magic number, is truncated, or
        holds images that are not 28x28.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"MNIST file not found: {path}")
    try:
        with _open(path) as f:
            data = f.read()
    except (OSError, EOFError) as err:
        raise DataFileError(f"{path}: cannot read ({err})") from None
    want = _IDX_IMAGES_MAGIC if expect_images else _IDX_LABELS_MAGIC
    if len(data) < 8:
        raise DataFileError(f"{path}: too short for an IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic != want:
        raise DataFileError(f"{path}: magic number {magic} (0x{magic:08x}), expected {want} "
                         f"(0x{want:08x}) for an IDX {'image' if expect_images else 'label'} file")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFileError(f"{path}: truncated: {len(data)} bytes, shorter than its {header}-byte IDX header")
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if expect_images and dims[1:] != (28, 28):
        raise DataFileError(f"{path}: images of shape {dims[1:]}, expected (28, 28)")
    n = int(np.prod(dims))
    if len(data) - header != n:
        raise DataFileError(f"{path}: header says {dims} ({n} bytes of data), file holds {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _check_pair(images: np.ndarray, labels: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """(pixels [N, 784] float32 in [0, 1], labels [N] int32 in 0..9), else a DataFileError at `where`."""
    if images.ndim == 2 and images.shape[1] == 784:
        images = images.reshape(-1, 28, 28)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataFileError(f"{where}: images of shape {images.shape}, expected (N, 28, 28)")
    if labels.ndim != 1:
        raise DataFileError(f"{where}: labels of shape {labels.shape}, expected ({images.shape[0]},)")
    if labels.shape[0] != images.shape[0]:
        raise DataFileError(f"{where}: {labels.shape[0]} labels for {images.shape[0]} images; the counts must match")
    if images.shape[0] == 0:
        raise DataFileError(f"{where}: no images (N = 0)")
    for what, a in (("images", images), ("labels", labels)):
        if not (a.dtype == np.bool_ or np.issubdtype(a.dtype, np.integer) or np.issubdtype(a.dtype, np.floating)):
            raise DataFileError(f"{where}: {what} hold {a.dtype} values, expected real numbers")
    bad = np.flatnonzero(~np.isfinite(labels) | (labels != np.round(labels)) | (labels < 0) | (labels > 9)) \
        if labels.dtype != np.bool_ else np.array([], int)
    if bad.size:
        raise DataFileError(f"{where}: label [{bad[0]}] = {labels[bad[0]].item()!r} is not a digit class 0..9")
    scale = 255.0 if images.dtype == np.uint8 or images.max() > 1.0 else 1.0
    x = (images.reshape(len(images), -1) / scale).astype(np.float32)
    if not np.all(np.isfinite(x)) or x.min() < 0.0 or x.max() > 1.0:
        raise DataFileError(f"{where}: pixel values must be finite and in [0, 255] (or [0, 1])")
    return x, labels.astype(np.int32)


def load_mnist(path: str | os.PathLike) -> ImageData:
    """MNIST from an .npz (x_train, y_train, x_test, y_test) or a folder of the 4 IDX files.

    The folder must hold train-images-idx3-ubyte, train-labels-idx1-ubyte,
    t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally with '.gz'.
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".npz":
        if not zipfile.is_zipfile(path):
            raise DataFileError(f"{path}: not an .npz (zip) archive, or a truncated one; expected arrays x_train, "
                                f"y_train, x_test, y_test (numpy.savez)")
        try:
            with np.load(path, allow_pickle=False) as f:
                missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in f]
                if missing:
                    raise DataFileError(f"{path}: missing arrays {missing} (has {sorted(f.files)})")
                arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}
        except DataFileError:
            raise
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:  # not a zip, truncated, pickled objects
            raise DataFileError(f"{path}: cannot read the .npz ({' '.join(str(err).split())})") from None
        tr = _check_pair(arrays["x_train"], arrays["y_train"], f"{path}: x_train, y_train")
        te = _check_pair(arrays["x_test"], arrays["y_test"], f"{path}: x_test, y_test")
        return ImageData(*tr, *te, side=28)
    if not path.is_dir():
        raise DataFileError(f"MNIST path {path} is neither an .npz file nor a folder of IDX files")

    def find(stem: str) -> Path:
        for name in (stem, stem + ".gz"):
            if (path / name).is_file():
                return path / name
        raise DataFileError(f"{path}: missing {stem} (or {stem}.gz)")

    parts = []
    for split in ("train", "t10k"):
        img_file, lab_file = find(f"{split}-images-idx3-ubyte"), find(f"{split}-labels-idx1-ubyte")
        parts.append(_check_pair(load_idx(img_file, expect_images=True),
                                 load_idx(lab_file, expect_images=False), f"{img_file}, {lab_file.name}"))
    return ImageData(*parts[0], *parts[1], side=28)


def load_dataset(name: str = "digits", *, mnist_path: str | None = None, seed: int = 0) -> ImageData:
    """'digits' (built in) or 'mnist' (needs `mnist_path`)."""
    if name == "digits":
        return load_digits_split(seed=seed)
    if name == "mnist":
        if not mnist_path:
            raise ConfigError("dataset='mnist' needs a path to local MNIST files (--mnist PATH)")
        return load_mnist(mnist_path)
    raise ConfigError(f"{name=} must be 'digits' or 'mnist'")
