"""cimjax.apps.energy_table: the paper's Table II computed from parameters, and the design sweep (`cimjax energy`)."""

from cimjax.apps.energy_table._sweep import plot_sweep as plot_sweep
from cimjax.apps.energy_table._sweep import sweep_figure as sweep_figure
from cimjax.apps.energy_table._sweep import sweep as sweep
from cimjax.apps.energy_table._sweep import sweep_all as sweep_all
from cimjax.apps.energy_table._table import CITATIONS_PATH as CITATIONS_PATH
from cimjax.apps.energy_table._table import format_table as format_table
from cimjax.apps.energy_table._table import load_citations as load_citations
from cimjax.apps.energy_table._table import ratios as ratios
from cimjax.apps.energy_table._table import table_rows as table_rows

__all__ = [
    "CITATIONS_PATH",
    "format_table",
    "load_citations",
    "plot_sweep",
    "sweep_figure",
    "ratios",
    "sweep",
    "sweep_all",
    "table_rows",
]
