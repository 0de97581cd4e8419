"""The three-level images `cimjax device pairs` stores: a built-in logo, or a user's PNG."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cimjax.errors import ConfigError, DataFileError

# Grey level g in [0, 1] -> stored level: g < 1/3 -> -1, 1/3 <= g < 2/3 -> 0, g >= 2/3 -> +1
# (equal thirds of the grey scale, brighter is higher).
GREY_THRESHOLDS = (1.0 / 3.0, 2.0 / 3.0)
# assumption: a cap that keeps one run within seconds and its figure readable
MAX_PIXELS = 2048 * 2048

# 5 x 7 bitmaps of the logo's letters ('#' on, '.' off)
_GLYPHS = {
    "M": ("#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"),
    "T": ("#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."),
    "J": ("..###", "...#.", "...#.", "...#.", "#..#.", "#..#.", ".##.."),
}


def default_logo() -> np.ndarray:
    """The built-in pattern: "MTJ" at +1 inside a -1 frame on a 0 background, (48, 96) int8.

    A stand-in for the logo of Fig. 10 (the paper's own is not reproduced); all three levels
    appear, with edges between every pair of them.
    """
    logo = np.zeros((48, 96), np.int8)
    logo[2:46, 2:94] = -1
    logo[5:43, 5:91] = 0  # a frame 3 pixels wide
    gaps = np.zeros((7, 1), bool)
    text = np.concatenate([_glyph("M"), gaps, _glyph("T"), gaps, _glyph("J")], axis=1)  # (7, 17)
    big = np.kron(text, np.ones((4, 4), bool))  # (28, 68)
    logo[10:38, 14:82][big] = 1
    return logo


def _glyph(ch: str) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in _GLYPHS[ch]], bool)


def grey_to_levels(grey: np.ndarray) -> np.ndarray:
    """Grey levels in [0, 1] to -1, 0, +1 at GREY_THRESHOLDS; (H, W) float -> (H, W) int8."""
    lo, hi = GREY_THRESHOLDS
    return np.where(grey >= hi, 1, np.where(grey < lo, -1, 0)).astype(np.int8)


def load_pattern_png(path: str | os.PathLike) -> np.ndarray:
    """A PNG as a three-level pattern, (H, W) int8 of -1, 0, +1.

    Colour is turned to grey by the ITU-R BT.601 luma (0.299 R + 0.587 G + 0.114 B); a
    transparent pixel counts as white (the page under it). Grey levels map by `grey_to_levels`.

    Raises:
      ConfigError: not a .png name, or more than MAX_PIXELS pixels.
      DataFileError: an empty file, a file that is not a PNG image, or an image with no pixels.
    """
    import matplotlib.image

    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ConfigError(f"--image {str(path)!r} must be a .png file")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path}: cannot read image: the file is empty")
    try:
        img = np.asarray(matplotlib.image.imread(path))
    except Exception as err:  # Pillow and libpng raise many kinds on a damaged or foreign file
        raise DataFileError(f"{path}: cannot read image: not a PNG image ({type(err).__name__}: {err})") from None
    if img.size == 0 or img.ndim not in (2, 3):
        raise DataFileError(f"{path}: cannot read image: it has no pixels (shape {img.shape})")
    if img.shape[0] * img.shape[1] > MAX_PIXELS:
        raise ConfigError(f"--image {str(path)!r}: {img.shape[0]} x {img.shape[1]} pixels is more than the "
                          f"{MAX_PIXELS} this command stores; scale it down")
    if np.issubdtype(img.dtype, np.integer):
        img = img / np.iinfo(img.dtype).max
    img = img.astype(np.float64)
    if img.ndim == 2:
        return grey_to_levels(img)
    channels = img.shape[2]
    grey = img[..., 0] if channels < 3 else img[..., :3] @ np.array([0.299, 0.587, 0.114])
    if channels in (2, 4):
        alpha = img[..., -1]
        grey = alpha * grey + (1.0 - alpha)
    return grey_to_levels(grey)
