"""cimjax.energy: energy, latency and area of in-situ against ex-situ P-bits (Table II).

Presets (versioned JSON) hold every parameter with its source; `figures` turns a design
into throughput, efficiency and added area; `cost` turns a run's `OpCounts` into energy,
latency and area; `pbit_write_cycles` into the write cycles on each P-bit (endurance, Fig. 19).
"""

from cimjax.energy._components import line_capacitance as line_capacitance
from cimjax.energy._components import mtj_read_energy as mtj_read_energy
from cimjax.energy._components import write_pulse_energy as write_pulse_energy
from cimjax.energy._cost import Cost as Cost
from cimjax.energy._cost import compute_energy as compute_energy
from cimjax.energy._cost import cost as cost
from cimjax.energy._cost import cost_report as cost_report
from cimjax.energy._cost import for_scheme as for_scheme
from cimjax.energy._cost import in_situ_pbit_delay as in_situ_pbit_delay
from cimjax.energy._cost import in_situ_pbit_energy as in_situ_pbit_energy
from cimjax.energy._cost import overlaps as overlaps
from cimjax.energy._params import ALL_PARAMS as ALL_PARAMS
from cimjax.energy._preset import PRESET_DIR as PRESET_DIR
from cimjax.energy._preset import Design as Design
from cimjax.energy._preset import Preset as Preset
from cimjax.energy._preset import default_energy_preset as default_energy_preset
from cimjax.energy._preset import load_energy_preset as load_energy_preset
from cimjax.energy._preset import parse_energy_preset as parse_energy_preset
from cimjax.energy._preset import with_device as with_device
from cimjax.energy._schemes import Figures as Figures
from cimjax.energy._schemes import cell_read_energy as cell_read_energy
from cimjax.energy._schemes import column_charge_energy as column_charge_energy
from cimjax.energy._schemes import figures as figures
from cimjax.energy._schemes import in_situ_write_energy as in_situ_write_energy
from cimjax.energy._wear import design_pbits as design_pbits
from cimjax.energy._wear import full_rate_wear as full_rate_wear
from cimjax.energy._wear import pbit_lifetime as pbit_lifetime
from cimjax.energy._wear import pbit_write_cycles as pbit_write_cycles

__all__ = [
    "ALL_PARAMS",
    "compute_energy",
    "Cost",
    "cell_read_energy",
    "column_charge_energy",
    "in_situ_write_energy",
    "line_capacitance",
    "mtj_read_energy",
    "write_pulse_energy",
    "cost",
    "cost_report",
    "default_energy_preset",
    "design_pbits",
    "full_rate_wear",
    "pbit_lifetime",
    "pbit_write_cycles",
    "Design",
    "Figures",
    "figures",
    "for_scheme",
    "in_situ_pbit_delay",
    "in_situ_pbit_energy",
    "overlaps",
    "load_energy_preset",
    "parse_energy_preset",
    "Preset",
    "PRESET_DIR",
    "with_device",
]
