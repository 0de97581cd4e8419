"""cimjax.device: VCMA-MTJ physics, the bottom layer.

Data-bit (TMR, resistance spread, read noise), endurance (drift with write cycles), P-bit
switching probability P_sw(V, t) in several nested forms, differential pair and a three-level
pattern stored in pairs (Figs. 9-10), presets, the units physical inputs
are written in, and calibration from measured CSVs: model selection, goodness of fit and a
population (random-effects) fit.
Paper: Xiao et al., section II, Figs. 3, 6-19.
"""

from cimjax.device._bitstream import pbit_bitstream as pbit_bitstream
from cimjax.device._calibration import SwitchingFit as SwitchingFit
from cimjax.device._calibration import fit_devices as fit_devices
from cimjax.device._calibration import fit_switching_curve as fit_switching_curve
from cimjax.device._calibration import stack_curves as stack_curves
from cimjax.device._calibration import PARAMETERS as PARAMETERS
from cimjax.device._calibration import DERIVED as DERIVED
from cimjax.device._data_bit import DataBit as DataBit
from cimjax.device._differential_pair import AP_STATE as AP_STATE
from cimjax.device._differential_pair import P_STATE as P_STATE
from cimjax.device._differential_pair import DifferentialPair as DifferentialPair
from cimjax.device._differential_pair import data_bit_state_for_sign as data_bit_state_for_sign
from cimjax.device._differential_pair import pair_output as pair_output
from cimjax.device._endurance import RATED_CYCLES as RATED_CYCLES
from cimjax.device._endurance import Endurance as Endurance
from cimjax.device._endurance import check_cycles as check_cycles
from cimjax.device._endurance import curve_after_cycles as curve_after_cycles
from cimjax.device._fit_io import FIT_SCHEMA as FIT_SCHEMA
from cimjax.device._fit_io import device_preset as device_preset
from cimjax.device._fit_io import fit_entry as fit_entry
from cimjax.device._fit_io import load_curve as load_curve
from cimjax.device._fit_io import load_fit_json as load_fit_json
from cimjax.device._fit_io import save_fit_json as save_fit_json
from cimjax.device._measurements import DIRECTION_SPELLINGS as DIRECTION_SPELLINGS
from cimjax.device._measurements import DIRECTIONS as DIRECTIONS
from cimjax.device._measurements import EXAMPLE_CSV as EXAMPLE_CSV
from cimjax.device._measurements import SwitchingData as SwitchingData
from cimjax.device._measurements import load_switching_csv as load_switching_csv
from cimjax.device._measurements import save_switching_csv as save_switching_csv
from cimjax.device._measurements import simulate_switching_data as simulate_switching_data
from cimjax.device._goodness import GoodnessOfFit as GoodnessOfFit
from cimjax.device._goodness import goodness_of_fit as goodness_of_fit
from cimjax.device._goodness import pearson_residuals as pearson_residuals
from cimjax.device._goodness import replicate_dispersion as replicate_dispersion
from cimjax.device._hierarchy import PopulationFit as PopulationFit
from cimjax.device._hierarchy import check_population as check_population
from cimjax.device._hierarchy import fit_population as fit_population
from cimjax.device._models import SwitchingModel as SwitchingModel
from cimjax.device._models import parse_switching_model as parse_switching_model
from cimjax.device._precession import BidirectionalCurve as BidirectionalCurve
from cimjax.device._precession import PrecessionCurve as PrecessionCurve
from cimjax.device._preset import PRESETS as PRESETS
from cimjax.device._preset import SCHEMA_VERSION as SCHEMA_VERSION
from cimjax.device._preset import DevicePreset as DevicePreset
from cimjax.device._preset import SwitchingSpread as SwitchingSpread
from cimjax.device._preset import default_preset as default_preset
from cimjax.device._preset import load_preset as load_preset
from cimjax.device._preset import sample_pbit_curves as sample_pbit_curves
from cimjax.device._preset import save_preset as save_preset
from cimjax.device._selection import ModelCandidate as ModelCandidate
from cimjax.device._selection import ModelSelection as ModelSelection
from cimjax.device._selection import select_switching_model as select_switching_model
from cimjax.device._stored_pattern import DEFAULT_ZERO_STATE as DEFAULT_ZERO_STATE
from cimjax.device._stored_pattern import LevelMargins as LevelMargins
from cimjax.device._stored_pattern import PATTERN_LEVELS as PATTERN_LEVELS
from cimjax.device._stored_pattern import StoredPattern as StoredPattern
from cimjax.device._stored_pattern import ZERO_STATES as ZERO_STATES
from cimjax.device._stored_pattern import level_margins as level_margins
from cimjax.device._stored_pattern import program_pattern as program_pattern
from cimjax.device._stored_pattern import read_pattern as read_pattern
from cimjax.device._switching import SwitchingCurve as SwitchingCurve
from cimjax.device._switching import precession_period_for_peak as precession_period_for_peak
from cimjax.device._table import TableCurve as TableCurve
from cimjax.device._table import pulse_for_probability as pulse_for_probability
from cimjax.device._table import switching_probability as switching_probability
from cimjax.device._units import SI_UNIT as SI_UNIT
from cimjax.device._units import UNITS as UNITS
from cimjax.device._units import parse_quantity as parse_quantity
from cimjax.device._units import units_of as units_of

__all__ = [
    "AP_STATE",
    "BidirectionalCurve",
    "check_cycles",
    "curve_after_cycles",
    "Endurance",
    "RATED_CYCLES",
    "check_population",
    "fit_population",
    "goodness_of_fit",
    "GoodnessOfFit",
    "ModelCandidate",
    "ModelSelection",
    "parse_switching_model",
    "pearson_residuals",
    "PopulationFit",
    "PrecessionCurve",
    "replicate_dispersion",
    "select_switching_model",
    "SwitchingModel",
    "data_bit_state_for_sign",
    "DataBit",
    "DEFAULT_ZERO_STATE",
    "default_preset",
    "DERIVED",
    "device_preset",
    "DIRECTION_SPELLINGS",
    "DIRECTIONS",
    "DevicePreset",
    "DifferentialPair",
    "EXAMPLE_CSV",
    "fit_devices",
    "FIT_SCHEMA",
    "fit_entry",
    "fit_switching_curve",
    "level_margins",
    "LevelMargins",
    "load_curve",
    "load_fit_json",
    "load_preset",
    "load_switching_csv",
    "P_STATE",
    "pair_output",
    "PATTERN_LEVELS",
    "parse_quantity",
    "PARAMETERS",
    "pbit_bitstream",
    "precession_period_for_peak",
    "PRESETS",
    "program_pattern",
    "pulse_for_probability",
    "read_pattern",
    "sample_pbit_curves",
    "save_fit_json",
    "save_preset",
    "save_switching_csv",
    "SCHEMA_VERSION",
    "SI_UNIT",
    "simulate_switching_data",
    "stack_curves",
    "StoredPattern",
    "switching_probability",
    "SwitchingCurve",
    "SwitchingData",
    "SwitchingFit",
    "SwitchingSpread",
    "TableCurve",
    "UNITS",
    "units_of",
    "ZERO_STATES",
]
