"""cimjax.apps.stored_pattern: a three-level image stored in differential pairs and read back (`cimjax device pairs`, Figs. 9-10)."""

from cimjax.apps.stored_pattern._pattern import GREY_THRESHOLDS as GREY_THRESHOLDS
from cimjax.apps.stored_pattern._pattern import MAX_PIXELS as MAX_PIXELS
from cimjax.apps.stored_pattern._pattern import default_logo as default_logo
from cimjax.apps.stored_pattern._pattern import grey_to_levels as grey_to_levels
from cimjax.apps.stored_pattern._pattern import load_pattern_png as load_pattern_png
from cimjax.apps.stored_pattern._plot import plot_stored_pattern as plot_stored_pattern
from cimjax.apps.stored_pattern._plot import stored_pattern_figure as stored_pattern_figure
from cimjax.apps.stored_pattern._report import ERROR_COUNT_COVERAGE as ERROR_COUNT_COVERAGE
from cimjax.apps.stored_pattern._report import pattern_text as pattern_text
from cimjax.apps.stored_pattern._report import run_stored_pattern as run_stored_pattern

__all__ = [
    "default_logo",
    "ERROR_COUNT_COVERAGE",
    "GREY_THRESHOLDS",
    "grey_to_levels",
    "load_pattern_png",
    "MAX_PIXELS",
    "pattern_text",
    "plot_stored_pattern",
    "run_stored_pattern",
    "stored_pattern_figure",
]
