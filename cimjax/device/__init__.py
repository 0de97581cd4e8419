"""cimjax.device: VCMA-MTJ physics (data-bit, P-bit switching, differential pair, calibration).

Paper: Xiao et al., in-situ P-bits with CMOS-integrated VCMA-MTJs, section II, Figs. 3, 6-19.

Names are imported on first use (PEP 562) so that `cimjax --help`, which imports
`cimjax.device.cli`, does not load jax.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cimjax.device.bitstream import pbit_bitstream as pbit_bitstream
    from cimjax.device.calibration import SwitchingFit as SwitchingFit
    from cimjax.device.calibration import fit_devices as fit_devices
    from cimjax.device.calibration import fit_switching_curve as fit_switching_curve
    from cimjax.device.calibration import stack_curves as stack_curves
    from cimjax.device.data_bit import DataBit as DataBit
    from cimjax.device.differential_pair import AP_STATE as AP_STATE
    from cimjax.device.differential_pair import P_STATE as P_STATE
    from cimjax.device.differential_pair import DifferentialPair as DifferentialPair
    from cimjax.device.differential_pair import data_bit_state_for_sign as data_bit_state_for_sign
    from cimjax.device.differential_pair import pair_output as pair_output
    from cimjax.device.fit_io import device_preset as device_preset
    from cimjax.device.fit_io import load_curve as load_curve
    from cimjax.device.fit_io import load_fit_json as load_fit_json
    from cimjax.device.fit_io import save_fit_json as save_fit_json
    from cimjax.device.measurements import EXAMPLE_CSV as EXAMPLE_CSV
    from cimjax.device.measurements import SwitchingData as SwitchingData
    from cimjax.device.measurements import load_switching_csv as load_switching_csv
    from cimjax.device.measurements import save_switching_csv as save_switching_csv
    from cimjax.device.measurements import simulate_switching_data as simulate_switching_data
    from cimjax.device.preset import PRESETS as PRESETS
    from cimjax.device.preset import SCHEMA_VERSION as SCHEMA_VERSION
    from cimjax.device.preset import DevicePreset as DevicePreset
    from cimjax.device.preset import SwitchingSpread as SwitchingSpread
    from cimjax.device.preset import default_preset as default_preset
    from cimjax.device.preset import load_preset as load_preset
    from cimjax.device.preset import sample_pbit_curves as sample_pbit_curves
    from cimjax.device.preset import save_preset as save_preset
    from cimjax.device.switching import SwitchingCurve as SwitchingCurve
    from cimjax.device.switching import precession_period_for_peak as precession_period_for_peak
    from cimjax.device.table import TableCurve as TableCurve
    from cimjax.device.table import pulse_for_probability as pulse_for_probability
    from cimjax.device.table import switching_probability as switching_probability

# public name -> defining module
_LAZY = {
    "pbit_bitstream": "cimjax.device.bitstream",
    "SwitchingFit": "cimjax.device.calibration",
    "fit_devices": "cimjax.device.calibration",
    "fit_switching_curve": "cimjax.device.calibration",
    "stack_curves": "cimjax.device.calibration",
    "DataBit": "cimjax.device.data_bit",
    "AP_STATE": "cimjax.device.differential_pair",
    "P_STATE": "cimjax.device.differential_pair",
    "DifferentialPair": "cimjax.device.differential_pair",
    "data_bit_state_for_sign": "cimjax.device.differential_pair",
    "pair_output": "cimjax.device.differential_pair",
    "load_curve": "cimjax.device.fit_io",
    "device_preset": "cimjax.device.fit_io",
    "load_fit_json": "cimjax.device.fit_io",
    "save_fit_json": "cimjax.device.fit_io",
    "EXAMPLE_CSV": "cimjax.device.measurements",
    "SwitchingData": "cimjax.device.measurements",
    "load_switching_csv": "cimjax.device.measurements",
    "save_switching_csv": "cimjax.device.measurements",
    "simulate_switching_data": "cimjax.device.measurements",
    "PRESETS": "cimjax.device.preset",
    "SCHEMA_VERSION": "cimjax.device.preset",
    "DevicePreset": "cimjax.device.preset",
    "SwitchingSpread": "cimjax.device.preset",
    "default_preset": "cimjax.device.preset",
    "load_preset": "cimjax.device.preset",
    "sample_pbit_curves": "cimjax.device.preset",
    "save_preset": "cimjax.device.preset",
    "SwitchingCurve": "cimjax.device.switching",
    "precession_period_for_peak": "cimjax.device.switching",
    "TableCurve": "cimjax.device.table",
    "pulse_for_probability": "cimjax.device.table",
    "switching_probability": "cimjax.device.table",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'cimjax.device' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))

__all__ = [
    "AP_STATE",
    "EXAMPLE_CSV",
    "DataBit",
    "DevicePreset",
    "DifferentialPair",
    "PRESETS",
    "P_STATE",
    "SCHEMA_VERSION",
    "SwitchingCurve",
    "SwitchingData",
    "SwitchingFit",
    "SwitchingSpread",
    "TableCurve",
    "data_bit_state_for_sign",
    "default_preset",
    "device_preset",
    "fit_devices",
    "fit_switching_curve",
    "load_curve",
    "load_fit_json",
    "load_preset",
    "load_switching_csv",
    "pair_output",
    "pbit_bitstream",
    "precession_period_for_peak",
    "pulse_for_probability",
    "sample_pbit_curves",
    "save_fit_json",
    "save_preset",
    "save_switching_csv",
    "simulate_switching_data",
    "stack_curves",
    "switching_probability",
]
