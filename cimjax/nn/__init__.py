"""cimjax.nn: flax layers on the stochastic crossbar, MC-dropconnect training and inference.

The same `CrossbarMLP` is the paper's ANN (P-bits held fixed, Fig. 22a) and its
MC-dropconnect Bayesian network (P-bits written on every read, Fig. 22b).
`fit_loss` is cimjax's one training loop (any loss over a dataset, with versioned,
fingerprinted checkpoints and resume); `fit` is that loop for a crossbar network.
"""

from cimjax.nn._checkpoint import config_fingerprint as config_fingerprint
from cimjax.nn._checkpoint import describe as describe
from cimjax.nn._checkpoint import load_checkpoint as load_checkpoint
from cimjax.nn._checkpoint import save_checkpoint as save_checkpoint
from cimjax.nn._conv import CrossbarConv as CrossbarConv
from cimjax.nn._conv import count_conv_read as count_conv_read
from cimjax.nn._conv import crossbar_conv as crossbar_conv
from cimjax.nn._convert import crossbar_sample_index as crossbar_sample_index
from cimjax.nn._convert import record_op_counts as record_op_counts
from cimjax.nn._convert_linen import CrossbarModel as CrossbarModel
from cimjax.nn._convert_linen import on_crossbar as on_crossbar
from cimjax.nn._convert_nnx import to_crossbar as to_crossbar
from cimjax.nn._fit import fit as fit
from cimjax.nn._fit import fit_loss as fit_loss
from cimjax.nn._fit import run_config as run_config
from cimjax.nn._inference import Predictive as Predictive
from cimjax.nn._inference import mc_predict as mc_predict
from cimjax.nn._inference import mc_samples as mc_samples
from cimjax.nn._inference import summarize_samples as summarize_samples
from cimjax.nn._inference import warn_narrow_spread as warn_narrow_spread
from cimjax.nn._layers import CrossbarDense as CrossbarDense
from cimjax.nn._layers import sinusoidal_embedding as sinusoidal_embedding
from cimjax.nn._losses import categorical_nll as categorical_nll
from cimjax.nn._losses import crps_gaussian as crps_gaussian
from cimjax.nn._losses import dawid_sebastiani_score as dawid_sebastiani_score
from cimjax.nn._losses import energy_score as energy_score
from cimjax.nn._losses import gaussian_nll as gaussian_nll
from cimjax.nn._losses import mse as mse
from cimjax.nn._mlp import CrossbarMLP as CrossbarMLP
from cimjax.nn._sharding import batch_mesh as batch_mesh
from cimjax.nn._sharding import batch_sharded as batch_sharded
from cimjax.nn._sharding import global_array as global_array
from cimjax.nn._sharding import replicated as replicated
from cimjax.nn._train import TrainConfig as TrainConfig
from cimjax.nn._train import TrainState as TrainState
from cimjax.nn._train import batch_indices as batch_indices
from cimjax.nn._train import check_dataset as check_dataset
from cimjax.nn._train import init_params as init_params
from cimjax.nn._train import init_train_state as init_train_state
from cimjax.nn._train import make_loss_fn as make_loss_fn
from cimjax.nn._train import make_optimizer as make_optimizer
from cimjax.nn._train import make_train_chunk as make_train_chunk
from cimjax.nn._train import step_key as step_key

__all__ = [
    "batch_mesh",
    "batch_sharded",
    "global_array",
    "replicated",
    "CrossbarConv",
    "CrossbarDense",
    "CrossbarMLP",
    "CrossbarModel",
    "Predictive",
    "TrainConfig",
    "TrainState",
    "batch_indices",
    "categorical_nll",
    "check_dataset",
    "config_fingerprint",
    "count_conv_read",
    "crossbar_conv",
    "crossbar_sample_index",
    "crps_gaussian",
    "describe",
    "dawid_sebastiani_score",
    "energy_score",
    "fit",
    "fit_loss",
    "gaussian_nll",
    "init_params",
    "init_train_state",
    "load_checkpoint",
    "make_loss_fn",
    "make_optimizer",
    "make_train_chunk",
    "mc_predict",
    "mc_samples",
    "mse",
    "on_crossbar",
    "record_op_counts",
    "run_config",
    "save_checkpoint",
    "sinusoidal_embedding",
    "step_key",
    "summarize_samples",
    "to_crossbar",
    "warn_narrow_spread",
]
