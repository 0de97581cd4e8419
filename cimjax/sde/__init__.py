"""cimjax.sde: diffusion SDEs and reverse samplers with ex-situ or in-situ noise (Figs. 1, 21).

Also the crossbar networks whose read is the SDE step, and their training.
"""

from cimjax.sde._crossbar_nets import CrossbarEpsNet as CrossbarEpsNet
from cimjax.sde._crossbar_nets import EpsScore as EpsScore
from cimjax.sde._crossbar_nets import Hardware as Hardware
from cimjax.sde._crossbar_nets import InSituCrossbarNet as InSituCrossbarNet
from cimjax.sde._crossbar_nets import crossbar_layer_shapes as crossbar_layer_shapes
from cimjax.sde._crossbar_nets import init_noise_params as init_noise_params
from cimjax.sde._crossbar_nets import periphery_config as periphery_config
from cimjax.sde._crossbar_nets import VARIANTS as VARIANTS
from cimjax.sde._native import NativeInSituNet as NativeInSituNet
from cimjax.sde._native import init_native_params as init_native_params
from cimjax.sde._native import calibrate_offsets as calibrate_offsets
from cimjax.sde._native import train_native as train_native
from cimjax.sde._native import write_voltage_range as write_voltage_range
from cimjax.sde._native import check_write_voltages as check_write_voltages
from cimjax.sde._insitu_training import repeat_passes as repeat_passes
from cimjax.sde._insitu_training import train_insitu as train_insitu
from cimjax.sde._insitu_training import transition_targets as transition_targets
from cimjax.sde._losses import dsm_loss as dsm_loss
from cimjax.sde._noise import NoiseSource as NoiseSource
from cimjax.sde._noise import PbitBitstreamNormal as PbitBitstreamNormal
from cimjax.sde._noise import StandardNormal as StandardNormal
from cimjax.sde._sampler import check_sample_range as check_sample_range
from cimjax.sde._sampler import prior_keys as prior_keys
from cimjax.sde._sampler import read_key as read_key
from cimjax.sde._sampler import sample_keys as sample_keys
from cimjax.sde._sampler import sample_reverse as sample_reverse
from cimjax.sde._sampler import sample_reverse_local as sample_reverse_local
from cimjax.sde._sde import VESDE as VESDE
from cimjax.sde._sde import VPSDE as VPSDE
from cimjax.sde._sde import AbstractSDE as AbstractSDE
from cimjax.sde._sde import SubVPSDE as SubVPSDE
from cimjax.sde._sde import reverse_drift as reverse_drift
from cimjax.sde._steps import ExSituStep as ExSituStep
from cimjax.sde._steps import InSituStep as InSituStep
from cimjax.sde._steps import ReverseStep as ReverseStep
from cimjax.sde._steps import ScoreFn as ScoreFn
from cimjax.sde._steps import StepRandomness as StepRandomness
from cimjax.sde._steps import StochasticNetFn as StochasticNetFn
from cimjax.sde._steps import read_gain as read_gain

__all__ = [
    "AbstractSDE",
    "VPSDE",
    "SubVPSDE",
    "VESDE",
    "reverse_drift",
    "NoiseSource",
    "StandardNormal",
    "PbitBitstreamNormal",
    "ReverseStep",
    "StepRandomness",
    "ScoreFn",
    "StochasticNetFn",
    "ExSituStep",
    "InSituStep",
    "read_gain",
    "sample_reverse",
    "check_sample_range",
    "sample_reverse_local",
    "sample_keys",
    "prior_keys",
    "read_key",
    "dsm_loss",
    "CrossbarEpsNet",
    "EpsScore",
    "Hardware",
    "VARIANTS",
    "NativeInSituNet",
    "init_native_params",
    "calibrate_offsets",
    "train_native",
    "write_voltage_range",
    "check_write_voltages",
    "InSituCrossbarNet",
    "crossbar_layer_shapes",
    "init_noise_params",
    "periphery_config",
    "repeat_passes",
    "train_insitu",
    "transition_targets",
]
