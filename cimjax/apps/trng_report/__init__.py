"""cimjax.apps.trng_report: the report and figures of `cimjax trng` (Figs. 14-18, Table I)."""

from cimjax.apps.trng_report._plot import PLOT_SUFFIXES as PLOT_SUFFIXES
from cimjax.apps.trng_report._plot import binomial_bins as binomial_bins
from cimjax.apps.trng_report._plot import check_plot_path as check_plot_path
from cimjax.apps.trng_report._plot import hamming_counts as hamming_counts
from cimjax.apps.trng_report._plot import load_conductance as load_conductance
from cimjax.apps.trng_report._plot import plot_trng as plot_trng
from cimjax.apps.trng_report._plot import trng_figure as trng_figure
from cimjax.apps.trng_report._report import PASS_RULE as PASS_RULE
from cimjax.apps.trng_report._report import endurance_lines as endurance_lines
from cimjax.apps.trng_report._report import result_json as result_json
from cimjax.apps.trng_report._report import stream_extra as stream_extra
from cimjax.apps.trng_report._report import text_table as text_table

__all__ = [
    "binomial_bins",
    "check_plot_path",
    "endurance_lines",
    "hamming_counts",
    "load_conductance",
    "PASS_RULE",
    "PLOT_SUFFIXES",
    "plot_trng",
    "result_json",
    "stream_extra",
    "text_table",
    "trng_figure",
]
