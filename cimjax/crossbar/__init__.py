"""cimjax.crossbar: weights to probabilistic differential pairs, tiles, periphery, op counts.

`crossbar_matmul` (one read of the crossbar) and `crossbar_moments` (its closed-form
mean and variance) are implemented in `cimjax.kernels`, which sits above this package;
they are re-exported here lazily so that importing `cimjax.crossbar` never imports the
kernels.
"""

from cimjax.crossbar.config import MAX_TILE_COLS as MAX_TILE_COLS
from cimjax.crossbar.config import MAX_TILE_ROWS as MAX_TILE_ROWS
from cimjax.crossbar.config import CrossbarConfig as CrossbarConfig
from cimjax.crossbar.config import Mapping as Mapping
from cimjax.crossbar.config import PbitConfig as PbitConfig
from cimjax.crossbar.config import Periphery as Periphery
from cimjax.crossbar.config import Tile as Tile
from cimjax.crossbar.config import fit_adc_range as fit_adc_range
from cimjax.crossbar.counts import OpCounts as OpCounts
from cimjax.crossbar.counts import count_crossbar_read as count_crossbar_read
from cimjax.crossbar.mapping import MappedWeights as MappedWeights
from cimjax.crossbar.mapping import effective_weights as effective_weights
from cimjax.crossbar.mapping import map_weights as map_weights
from cimjax.crossbar.mapping import program_cells as program_cells
from cimjax.crossbar.ops import count_read as count_read
from cimjax.crossbar.periphery import adc as adc
from cimjax.crossbar.periphery import dac as dac
from cimjax.crossbar.periphery import quantize as quantize
from cimjax.crossbar.probability import keep_probability as keep_probability

__all__ = [
    "MAX_TILE_COLS",
    "MAX_TILE_ROWS",
    "CrossbarConfig",
    "MappedWeights",
    "Mapping",
    "OpCounts",
    "PbitConfig",
    "Periphery",
    "Tile",
    "adc",
    "count_crossbar_read",
    "count_read",
    "crossbar_matmul",
    "crossbar_moments",
    "dac",
    "effective_weights",
    "fit_adc_range",
    "keep_probability",
    "map_weights",
    "program_cells",
    "quantize",
]


def __getattr__(name):
    if name in ("crossbar_matmul", "crossbar_moments"):
        from cimjax.kernels import crossbar_read

        return getattr(crossbar_read, name)
    raise AttributeError(f"module 'cimjax.crossbar' has no attribute {name!r}")
