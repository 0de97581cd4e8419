"""A three-level pattern stored in differential pairs and read back (Figs. 8-10).

Each pixel is one pair of data-bits holding -1, 0 or +1 as the Fig. 9 states -dG (AP, P),
0 and +dG (P, AP). A read measures G_left - G_right with cycle-to-cycle noise and decodes
it against two fixed thresholds. The margin of a level is its distance to a threshold over
the standard deviation of its read. With a Gaussian read, a pixel at that level is misread
with probability Q(margin_below) + Q(margin_above).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from scipy.special import ndtr

from cimjax.errors import ConfigError
from cimjax.device._differential_pair import AP_STATE, P_STATE, DifferentialPair

PATTERN_LEVELS = (-1, 0, 1)
# The zero level's two realisations (Fig. 9), as (left, right) device states.
ZERO_STATES = {"AP,AP": (AP_STATE, AP_STATE), "P,P": (P_STATE, P_STATE)}
# assumption: zero stored as (AP, AP). Both devices then sit at the lower G_AP, so the zero's
# spread is the narrower of the two (and its read current the lower).
DEFAULT_ZERO_STATE = "AP,AP"


class LevelMargins(NamedTuple):
    """Read statistics of the three levels of a stored pattern, in the order -1, 0, +1.

    Attributes:
      means, sds: (3,) mean and standard deviation of one read of G_left - G_right [S]
        (device, TMR and read noise within one array).
      thresholds: (2,) decision thresholds [S], between -1 and 0, and between 0 and +1.
      margin_below, margin_above: (3,) distance of each mean to the threshold below and above,
        in units of its sd (inf where there is no threshold).
      error_probability: (3,) Q(margin_below) + Q(margin_above), the Gaussian misread rate.
    """

    means: np.ndarray
    sds: np.ndarray
    thresholds: np.ndarray
    margin_below: np.ndarray
    margin_above: np.ndarray
    error_probability: np.ndarray

    @property
    def margin_sigma(self) -> float:
        """The smallest margin of any level to any threshold [sigma]."""
        return float(min(self.margin_below.min(), self.margin_above.min()))


@struct.dataclass
class StoredPattern:
    """Differential pairs programmed with a three-level pattern, before any read.

    Attributes:
      levels: int8 (H, W) of -1, 0, +1: the pattern written.
      g_left, g_right: (H, W) conductances [S] of each pair's devices, with device, TMR and
        array variation (Figs. 7-8), no read noise.
      array_factor: scalar exp(-sigma_array z) shared by every device of the array (Fig. 8).
    """

    levels: jax.Array
    g_left: jax.Array
    g_right: jax.Array
    array_factor: jax.Array


def _zero_state(zero_state: str) -> tuple[int, int]:
    if zero_state not in ZERO_STATES:
        raise ConfigError(f"{zero_state=} is not one of {sorted(ZERO_STATES)}")
    return ZERO_STATES[zero_state]


def _q(x: np.ndarray) -> np.ndarray:
    """Gaussian upper tail Q(x) = P(N(0, 1) > x), accurate far into the tail."""
    return ndtr(-np.asarray(x, np.float64))


def level_margins(pair: DifferentialPair, zero_state: str = DEFAULT_ZERO_STATE, array_factor: float = 1.0,
                  thresholds=None) -> LevelMargins:
    """Means, spreads, thresholds and margins of the three stored levels.

    The moments are exact (lognormal device and TMR spread, read noise; `DataBit.lognormal_moments`);
    an array whose factor is `array_factor` scales every mean and sd by it. The default
    thresholds are fixed at design time from the nominal array (factor 1): between adjacent
    levels, where both sit the same number of sigmas away,

        t = m_lo + (m_hi - m_lo) s_lo / (s_lo + s_hi)      (margin (m_hi - m_lo) / (s_lo + s_hi)).

    A programmed array's factor then moves its levels against them (Fig. 8).

    Args:
      pair: the differential pair (data-bit and read voltage).
      zero_state: how the zero level is stored: "AP,AP" or "P,P".
      array_factor: the array's conductance factor (`StoredPattern.array_factor`).
      thresholds: (2,) fixed thresholds [S]; None for the nominal equal-margin ones.

    Returns:
      LevelMargins (numpy float64).
    """
    stats = pair.state_statistics()
    zero_name = "0 (P,P)" if _zero_state(zero_state) == ZERO_STATES["P,P"] else "0 (AP,AP)"
    nominal = [stats[k] for k in ("-dG", zero_name, "+dG")]
    means = np.array([float(m) for m, _ in nominal])
    sds = np.array([float(s) for _, s in nominal])
    if thresholds is None:
        thresholds = means[:-1] + np.diff(means) * sds[:-1] / (sds[:-1] + sds[1:])
    thresholds = np.asarray(thresholds, np.float64)
    means, sds = means * float(array_factor), sds * float(array_factor)
    below = np.concatenate([[np.inf], (means[1:] - thresholds) / sds[1:]])
    above = np.concatenate([(thresholds - means[:-1]) / sds[:-1], [np.inf]])
    return LevelMargins(means, sds, thresholds, below, above, _q(below) + _q(above))


def program_pattern(key: jax.Array, pair: DifferentialPair, levels, zero_state: str = DEFAULT_ZERO_STATE) -> StoredPattern:
    """Programs `levels` into one array of differential pairs (Fig. 10).

    +1 is stored as (P, AP), -1 as (AP, P), 0 as `zero_state` (Fig. 9). Every device draws
    its own device and TMR variation; one array factor is shared by all (Figs. 7-8).

    Args:
      key: PRNG key.
      pair: the differential pair (data-bit and read voltage).
      levels: (H, W) integers in {-1, 0, +1}.
      zero_state: "AP,AP" (default) or "P,P".

    Raises:
      ConfigError: `levels` not a non-empty 2-D array of -1, 0, +1; unknown `zero_state`.
    """
    zero = _zero_state(zero_state)
    levels = np.asarray(levels)
    if levels.ndim != 2 or levels.size == 0:
        raise ConfigError(f"pattern levels must be a non-empty 2-D array, got shape {levels.shape}")
    if not np.isin(levels, PATTERN_LEVELS).all():
        raise ConfigError(f"pattern levels must be -1, 0 or +1, found {[v.item() for v in np.unique(levels) if v not in PATTERN_LEVELS][:5]}")
    return _program(key, pair, jnp.asarray(levels, jnp.int8), zero)


@partial(jax.jit, static_argnames="zero")
def _program(key, pair, levels, zero):
    left = jnp.where(levels > 0, P_STATE, jnp.where(levels < 0, AP_STATE, zero[0]))
    right = jnp.where(levels > 0, AP_STATE, jnp.where(levels < 0, P_STATE, zero[1]))
    k_dev, k_arr = jax.random.split(key)
    data_bit = pair.data_bit
    no_array = data_bit.replace(sigma_array=jnp.zeros_like(data_bit.sigma_array))
    g_p, g_ap = no_array.sample_conductances(k_dev, pair.read_voltage, (2, *levels.shape))
    factor = jnp.exp(-data_bit.sigma_array * jax.random.normal(k_arr))
    g_left = jnp.where(left == AP_STATE, g_ap[0], g_p[0]) * factor
    g_right = jnp.where(right == AP_STATE, g_ap[1], g_p[1]) * factor
    return StoredPattern(levels=levels, g_left=g_left, g_right=g_right, array_factor=factor)


def read_pattern(key: jax.Array, pair: DifferentialPair, stored: StoredPattern, thresholds) -> tuple[jax.Array, jax.Array]:
    """One read of every pair and its decoded level.

    Args:
      key: PRNG key of the read noise (Fig. 15).
      pair: the differential pair the pattern was programmed with.
      stored: from `program_pattern`.
      thresholds: (2,) decision thresholds [S] (`level_margins(...).thresholds`).

    Returns:
      (conductance, decoded): (H, W) G_left - G_right [S] and int8 levels -1, 0, +1.
    """
    return _read(key, pair, stored, jnp.asarray(thresholds, jnp.float32))


@jax.jit
def _read(key, pair, stored, thresholds):
    k_left, k_right = jax.random.split(key)
    g = pair.data_bit.read(k_left, stored.g_left) - pair.data_bit.read(k_right, stored.g_right)
    decoded = (g > thresholds[1]).astype(jnp.int8) - (g < thresholds[0]).astype(jnp.int8)
    return g, decoded
