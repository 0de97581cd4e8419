"""P-bit write cycles of a run or a design against the rated endurance (Fig. 19).

Every random bit is a write of some P-bit; where the bits are written decides how fast a
P-bit wears. In-situ, a run's writes spread over every cell of its crossbar layers
(`pbit_writes` is masks x cells, the same count on each cell), plus a reset per write in
reset mode. Ex-situ, the same bits come from the design's few generators (`n_pbits`
periphery generators, `channels` board channels), each a lone P-bit at P_sw = 1/2
written without resets (`cimjax.crossbar.count_random_bits`)::

    cycles per P-bit = (pbit_writes + pbit_resets) / P-bits in the layers    (in-situ)
                     = random_bits_generated / generators                    (ex-situ)
    lifetime         = rated_cycles / cycles per item   (items, e.g. images)

The rated count is `cimjax.device.RATED_CYCLES`, Fig. 19's 1e12 cycles without
significant degradation: a demonstrated count, not a failure point (assumption).
"""

from __future__ import annotations

import math

import numpy as np

from cimjax.crossbar import OpCounts
from cimjax.device import RATED_CYCLES
from cimjax.errors import ConfigError
from cimjax.energy._preset import Design
from cimjax.energy._schemes import figures


def check_counts(counts: OpCounts) -> OpCounts:
    """`counts` if it is an OpCounts of non-negative integers; else a ConfigError naming the field.

    `count_crossbar_read` only makes such counts, but an OpCounts built or edited by hand
    may hold a negative, fractional or NaN entry, which would price to a negative or NaN cost.
    """
    if not isinstance(counts, OpCounts):
        raise ConfigError(f"counts must be an OpCounts, got {type(counts).__name__}")
    for name, value in zip(OpCounts._fields, counts):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ConfigError(f"counts.{name}={value!r} must be an integer >= 0")
    return counts


def design_pbits(d: Design) -> int:
    """P-bits a design writes its random bits in: its tile's cells in-situ, else its generators."""
    key = {"in_situ": None, "ex_situ_periphery": "n_pbits", "ex_situ_pcb": "channels"}[d.scheme]
    return int(d["array_rows"] * d["array_cols"]) if key is None else int(d[key])


def pbit_write_cycles(counts: OpCounts, d: Design, in_situ_pbits: int | None = None) -> float | None:
    """Write cycles a counted run puts on each P-bit of design `d` (resets included in-situ).

    Args:
      counts: what the run did.
      d: the design whose P-bits write the bits.
      in_situ_pbits: P-bits (cells) of the run's crossbar layers, the sum of N M slices
        over them; needed in-situ (None there gives None: counts do not hold the cells).
    """
    check_counts(counts)
    if d.scheme != "in_situ":
        return counts.random_bits_generated / design_pbits(d)
    if in_situ_pbits is None:
        return None
    if isinstance(in_situ_pbits, bool) or not isinstance(in_situ_pbits, int) or in_situ_pbits < 1:
        raise ConfigError(f"{in_situ_pbits=} must be a positive integer (cells of the run's crossbar layers)")
    return (counts.pbit_writes + counts.pbit_resets) / in_situ_pbits


def pbit_lifetime(cycles_per_item: float | None, rated_cycles: float = RATED_CYCLES) -> float | None:
    """Items (runs, images) until a P-bit reaches `rated_cycles`; inf with no writes, None unknown."""
    if not (isinstance(rated_cycles, (int, float)) and math.isfinite(rated_cycles) and rated_cycles > 0):
        raise ConfigError(f"{rated_cycles=} must be a finite number > 0 (write cycles a P-bit is rated for)")
    if cycles_per_item is None:
        return None
    if not cycles_per_item >= 0:
        raise ConfigError(f"{cycles_per_item=} must be >= 0")
    return math.inf if cycles_per_item == 0 else rated_cycles / cycles_per_item


def full_rate_wear(d: Design, rated_cycles: float = RATED_CYCLES) -> dict:
    """A design generating at its full throughput: writes per second on each P-bit and the
    seconds until each reaches `rated_cycles` (the Table II design, no resets: P_sw = 1/2)."""
    pbits = design_pbits(d)
    rate = figures(d).throughput_bit_per_ns * 1e9 / pbits
    return {"pbits": pbits, "writes_per_s_per_pbit": rate, "rated_cycles": float(rated_cycles),
            "lifetime_s": pbit_lifetime(rate, rated_cycles)}
