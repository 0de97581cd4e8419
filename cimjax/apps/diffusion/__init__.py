"""cimjax.apps.diffusion: latent diffusion with ex-situ and in-situ P-bits (`cimjax demo`, `cimjax sample`).

A VAE on the digits, a noise-prediction network read through the crossbar, and both
samplers of Fig. 21 on the same weights; metrics, costs per image and pictures.
"""

from cimjax.apps.diffusion._config import STAGES as STAGES
from cimjax.apps.diffusion._config import DemoConfig as DemoConfig
from cimjax.apps.diffusion._config import config_hash as config_hash
from cimjax.apps.diffusion._config import stage_config as stage_config
from cimjax.apps.diffusion._costs import cost_table as cost_table
from cimjax.apps.diffusion._costs import image_counts as image_counts
from cimjax.apps.diffusion._data import ImageData as ImageData
from cimjax.apps.diffusion._data import load_dataset as load_dataset
from cimjax.apps.diffusion._data import load_digits_split as load_digits_split
from cimjax.apps.diffusion._data import load_idx as load_idx
from cimjax.apps.diffusion._data import load_mnist as load_mnist
from cimjax.apps.diffusion._metrics import bootstrap_intervals as bootstrap_intervals
from cimjax.apps.diffusion._metrics import frechet_distance as frechet_distance
from cimjax.apps.diffusion._metrics import kernel_inception_distance as kernel_inception_distance
from cimjax.apps.diffusion._metrics import label_histogram as label_histogram
from cimjax.apps.diffusion._metrics import median_bandwidth as median_bandwidth
from cimjax.apps.diffusion._metrics import mmd_rbf as mmd_rbf
from cimjax.apps.diffusion._metrics import nn_distance as nn_distance
from cimjax.apps.diffusion._metrics import nn_distances as nn_distances
from cimjax.apps.diffusion._metrics import resampled_metrics as resampled_metrics
from cimjax.apps.diffusion._metrics import sliced_wasserstein as sliced_wasserstein
from cimjax.apps.diffusion._nets import VAE as VAE
from cimjax.apps.diffusion._nets import Classifier as Classifier
from cimjax.apps.diffusion._pipeline import Models as Models
from cimjax.apps.diffusion._pipeline import default_cache_dir as default_cache_dir
from cimjax.apps.diffusion._pipeline import generate as generate
from cimjax.apps.diffusion._pipeline import prepare_models as prepare_models
from cimjax.apps.diffusion._plots import save_embedding as save_embedding
from cimjax.apps.diffusion._plots import save_grid as save_grid
from cimjax.apps.diffusion._plots import save_pareto as save_pareto
from cimjax.apps.diffusion._report import evaluate as evaluate
from cimjax.apps.diffusion._report import prepare_out_dir as prepare_out_dir
from cimjax.apps.diffusion._report import real_floor as real_floor
from cimjax.apps.diffusion._report import run_demo as run_demo
from cimjax.apps.diffusion._sample_io import MANIFEST as MANIFEST
from cimjax.apps.diffusion._sample_io import load_samples as load_samples
from cimjax.apps.diffusion._sample_io import run_sample as run_sample
from cimjax.apps.diffusion._sample_io import save_sample_grid as save_sample_grid
from cimjax.apps.diffusion._transitions import transition_errors as transition_errors

__all__ = [
    "bootstrap_intervals",
    "resampled_metrics",
    "real_floor",
    "save_pareto",
    "Classifier",
    "config_hash",
    "cost_table",
    "default_cache_dir",
    "DemoConfig",
    "evaluate",
    "prepare_out_dir",
    "frechet_distance",
    "kernel_inception_distance",
    "generate",
    "image_counts",
    "ImageData",
    "label_histogram",
    "load_dataset",
    "load_digits_split",
    "load_idx",
    "load_mnist",
    "MANIFEST",
    "median_bandwidth",
    "mmd_rbf",
    "Models",
    "nn_distance",
    "nn_distances",
    "prepare_models",
    "run_demo",
    "load_samples",
    "run_sample",
    "save_embedding",
    "save_grid",
    "save_sample_grid",
    "sliced_wasserstein",
    "stage_config",
    "STAGES",
    "transition_errors",
    "VAE",
]
