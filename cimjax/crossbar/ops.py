"""Operation counts of a configured crossbar read, from shapes and modes only."""

from __future__ import annotations

from cimjax.crossbar.config import CrossbarConfig
from cimjax.crossbar.counts import OpCounts, count_crossbar_read


def count_read(config: CrossbarConfig, batch: int, in_features: int, out_features: int,
               scheme: str = "in_situ") -> OpCounts:
    """Counts (tile reads, cell reads, P-bit writes, DAC/ADC conversions, ...) of one read.

    A thin adapter from a `CrossbarConfig` to `counts.count_crossbar_read`: plain Python
    ints, no tracing, safe to call anywhere. Moment mode counts as the exact hardware it
    approximates; mode "off" writes no P-bits.
    """
    pbit = config.pbit
    return count_crossbar_read(
        batch, in_features, out_features,
        tile_rows=config.tile.rows, tile_cols=config.tile.cols, slices=config.mapping.slices,
        pbit_mode=pbit.mode, refresh=pbit.refresh if pbit.mode == "refresh" else 1, scheme=scheme,
    )
