"""cimjax.energy: energy, latency and area of in-situ against ex-situ P-bits (Table II).

Presets (versioned JSON) hold every parameter with its source; `figures` turns a design
into throughput, efficiency and added area; `cost` turns a run's `OpCounts` into energy,
latency and area. The cost names load lazily so `cimjax --help` does not import the
crossbar stack.
"""

from cimjax.energy.preset import Design as Design
from cimjax.energy.preset import Preset as Preset
from cimjax.energy.preset import default_preset as default_preset
from cimjax.energy.preset import load_preset as load_preset
from cimjax.energy.preset import parse_preset as parse_preset
from cimjax.energy.preset import with_device as with_device
from cimjax.energy.schemes import Figures as Figures
from cimjax.energy.schemes import figures as figures
from cimjax.energy.sweep import sweep as sweep
from cimjax.energy.sweep import sweep_all as sweep_all
from cimjax.energy.table import load_citations as load_citations
from cimjax.energy.table import ratios as ratios
from cimjax.energy.table import table_rows as table_rows

_LAZY = {
    "Cost": "cimjax.energy.cost",
    "cost": "cimjax.energy.cost",
    "cost_report": "cimjax.energy.cost",
    "compute_energy": "cimjax.energy.cost",
    "for_scheme": "cimjax.energy.cost",
    "OpCounts": "cimjax.crossbar.counts",
    "count_crossbar_read": "cimjax.crossbar.counts",
    "count_random_bits": "cimjax.crossbar.counts",
}

__all__ = [
    "Cost",
    "Design",
    "Figures",
    "OpCounts",
    "Preset",
    "compute_energy",
    "cost",
    "cost_report",
    "count_crossbar_read",
    "count_random_bits",
    "default_preset",
    "figures",
    "for_scheme",
    "load_citations",
    "load_preset",
    "parse_preset",
    "ratios",
    "sweep",
    "sweep_all",
    "table_rows",
    "with_device",
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cimjax.energy' has no attribute {name!r}")
