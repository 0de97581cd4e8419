"""The heteroscedastic regression task of Fig. 22 and its predictive scores.

Data: y = x sin x + 0.3 e1 + 0.3 x e2, x ~ U[0, 10], e1, e2 ~ N(0, 1), so
y | x ~ N(x sin x, 0.09 (1 + x^2)): the noise grows tenfold across the range, which
is what the ANN with a constant variance misses (Fig. 22a) and the MC-dropconnect
model captures with its in-situ P-bit randomness (Fig. 22b).

Scores of a predictive distribution at held-out points: the coverage of the
central 90% interval, overall and per tenth of the x range (the Gaussian NLL and
the CRPS are `cimjax.nn`'s scoring rules).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from cimjax.errors import ConfigError

__all__ = [
    "X_RANGE",
    "RegressionData",
    "heteroscedastic_data",
    "multi_input_task",
    "true_conditional",
    "Standardizer",
    "interval_coverage",
    "bin_index",
]

X_RANGE = (0.0, 10.0)  # Fig. 22: x on [0, 10]
NOISE_1 = 0.3  # Fig. 22 task: homoscedastic part, 0.3 e1
NOISE_X = 0.3  # Fig. 22 task: heteroscedastic part, 0.3 x e2


class RegressionData(NamedTuple):
    """x: (n, k), y: (n, 1) float32."""

    x: np.ndarray
    y: np.ndarray


def heteroscedastic_data(seed: int, n: int) -> RegressionData:
    """n draws of the Fig. 22 task from `np.random.default_rng(seed)`."""
    if int(n) < 1:
        raise ConfigError(f"{n=} must be >= 1")
    rng = np.random.default_rng(seed)
    x = rng.uniform(*X_RANGE, size=(n, 1))
    e1, e2 = rng.standard_normal((2, n, 1))
    y = x * np.sin(x) + NOISE_1 * e1 + NOISE_X * x * e2
    return RegressionData(x.astype(np.float32), y.astype(np.float32))


def multi_input_task(seed: int, n: int, inputs: int) -> tuple[RegressionData, np.ndarray]:
    """n draws of a heteroscedastic task with `inputs` inputs, and each draw's true noise std.

    x ~ U[0, 10]^inputs; y = x1 sin x1 + 0.5 sum_{j>1} sin x_j + 0.3 e1 + 0.3 x1 e2
    (assumption: the Fig. 22 task with additive, noise-free extra inputs), so the noise
    std sqrt(0.09 + 0.09 x1^2) grows tenfold as in Fig. 22; `inputs`=1 is the Fig. 22 task.
    Returns (data, noise std (n,)).
    """
    if int(n) < 1 or int(inputs) < 1:
        raise ConfigError(f"{n=} and {inputs=} must be >= 1")
    rng = np.random.default_rng([seed, inputs])
    x = rng.uniform(*X_RANGE, size=(n, inputs))
    e1, e2 = rng.standard_normal((2, n, 1))
    x1 = x[:, :1]
    y = x1 * np.sin(x1) + 0.5 * np.sin(x[:, 1:]).sum(1, keepdims=True) + NOISE_1 * e1 + NOISE_X * x1 * e2
    return RegressionData(x.astype(np.float32), y.astype(np.float32)), true_conditional(x1[:, 0])[1]


def true_conditional(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of y | x in closed form: x sin x, sqrt(0.09 + 0.09 x^2)."""
    x = np.asarray(x, dtype=np.float64)
    return x * np.sin(x), np.sqrt(NOISE_1**2 + (NOISE_X * x) ** 2)


class Standardizer(NamedTuple):
    """Affine maps to and from the network's unit scale, fitted on training data.

    x_mean, x_std: (k,) centre and half-width of each input column's training range;
    y_mean, y_std: the training targets' mean and standard deviation.
    """

    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: float
    y_std: float

    @classmethod
    def fit(cls, data: RegressionData) -> "Standardizer":
        """x: each column's training range onto [-1, 1] (the DAC's input range); y: zero mean, unit std.

        Raises:
          ConfigError: a constant column (nothing to scale, or nothing to regress).
        """
        lo, hi = data.x.min(0).astype(np.float64), data.x.max(0).astype(np.float64)
        if np.any(hi <= lo):
            col = int(np.argmax(hi <= lo))
            raise ConfigError(f"x column {col} is constant ({lo[col]:g}) in the training rows: it carries no "
                              "information; leave it out")
        y_std = float(np.asarray(data.y, np.float64).std())  # float32's square overflows from |y| ~ 1e19
        if not y_std > 0:
            raise ConfigError(f"y is constant ({float(data.y[0, 0]):g}) in the training rows: nothing to regress")
        return cls((lo + hi) / 2, (hi - lo) / 2, float(data.y.mean()), y_std)

    @property
    def x_range(self) -> tuple[float, float]:
        """The training range of the first input column (the figure's and the bins' axis)."""
        return float(self.x_mean[0] - self.x_std[0]), float(self.x_mean[0] + self.x_std[0])

    def x_in(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.x_mean) / self.x_std).astype(np.float32)

    def y_in(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.y_mean) / self.y_std).astype(np.float32)

    def y_out(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64) * self.y_std + self.y_mean


def interval_coverage(
    x: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray, bins: int = 10,
    x_range: tuple[float, float] = X_RANGE,
) -> tuple[float, list[dict]]:
    """Fraction of y inside [lower, upper], overall and per equal-width bin of `x_range`
    (points outside it count in the end bins).

    Returns (overall, [{"x_lo", "x_hi", "n", "coverage"} per bin]).
    """
    x, y, lower, upper = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (x, y, lower, upper))
    inside = (y >= lower) & (y <= upper)
    edges = np.linspace(*x_range, bins + 1)
    which = bin_index(x, edges)
    per_bin = []
    for b in range(bins):
        sel = which == b
        per_bin.append({"x_lo": float(edges[b]), "x_hi": float(edges[b + 1]), "n": int(sel.sum()),
                        "coverage": float(inside[sel].mean()) if sel.any() else float("nan")})
    return float(inside.mean()), per_bin


def bin_index(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The equal-width bin of each x among `edges` (B + 1,), the ends catching what lies outside."""
    return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
