"""cimjax.crossbar: one read of a crossbar of probabilistic differential pairs.

Configuration (mapping, periphery, tile, P-bit mode, programming non-idealities),
weights to cells, DAC/ADC, per-cell keep probabilities from the device layer, the read
itself (`crossbar_matmul`) and its closed-form moments (`crossbar_moments`), and the
operation counts the energy model prices.
"""

from cimjax.crossbar._config import MAX_TILE_COLS as MAX_TILE_COLS
from cimjax.crossbar._config import MAX_TILE_ROWS as MAX_TILE_ROWS
from cimjax.crossbar._config import MODES as MODES
from cimjax.crossbar._config import SCHEMES as SCHEMES
from cimjax.crossbar._config import CrossbarConfig as CrossbarConfig
from cimjax.crossbar._config import Mapping as Mapping
from cimjax.crossbar._config import PbitConfig as PbitConfig
from cimjax.crossbar._config import Periphery as Periphery
from cimjax.crossbar._config import Tile as Tile
from cimjax.crossbar._config import fit_adc_range as fit_adc_range
from cimjax.crossbar._counts import OpCounts as OpCounts
from cimjax.crossbar._counts import count_crossbar_read as count_crossbar_read
from cimjax.crossbar._counts import count_random_bits as count_random_bits
from cimjax.crossbar._counts import count_read as count_read
from cimjax.crossbar._counts import needs_reset as needs_reset
from cimjax.crossbar._mapping import MappedWeights as MappedWeights
from cimjax.crossbar._mapping import effective_weights as effective_weights
from cimjax.crossbar._mapping import map_weights as map_weights
from cimjax.crossbar._mapping import program_cells as program_cells
from cimjax.crossbar._nonideal import resolved_programming_sigma as resolved_programming_sigma
from cimjax.crossbar._nonideal import resolved_read_noise as resolved_read_noise
from cimjax.crossbar._periphery import adc as adc
from cimjax.crossbar._periphery import adc_full_scale as adc_full_scale
from cimjax.crossbar._periphery import dac as dac
from cimjax.crossbar._periphery import quantize as quantize
from cimjax.crossbar._periphery import read_noise_std as read_noise_std
from cimjax.crossbar._probability import direction_probabilities as direction_probabilities
from cimjax.crossbar._probability import keep_probability as keep_probability
from cimjax.crossbar._probability import nominal_keep_probability as nominal_keep_probability
from cimjax.crossbar._read import crossbar_matmul as crossbar_matmul
from cimjax.crossbar._read import crossbar_moments as crossbar_moments
from cimjax.crossbar._read import crossbar_cumulant as crossbar_cumulant

__all__ = [
    "adc",
    "adc_full_scale",
    "count_crossbar_read",
    "count_random_bits",
    "count_read",
    "needs_reset",
    "crossbar_matmul",
    "crossbar_moments",
    "crossbar_cumulant",
    "CrossbarConfig",
    "dac",
    "effective_weights",
    "fit_adc_range",
    "direction_probabilities",
    "keep_probability",
    "map_weights",
    "MappedWeights",
    "Mapping",
    "MAX_TILE_COLS",
    "MAX_TILE_ROWS",
    "MODES",
    "nominal_keep_probability",
    "OpCounts",
    "PbitConfig",
    "Periphery",
    "program_cells",
    "quantize",
    "read_noise_std",
    "resolved_programming_sigma",
    "resolved_read_noise",
    "SCHEMES",
    "Tile",
]
