"""cimjax.demo: latent diffusion with ex-situ and in-situ P-bits, `cimjax sample` and `cimjax demo`.

Heavy modules (jax, flax) load on first use of a name, so `cimjax --help` stays fast.
"""

import importlib

_LAZY = {
    "DemoConfig": "cimjax.demo.config",
    "ImageData": "cimjax.demo.data",
    "load_digits_split": "cimjax.demo.data",
    "load_mnist": "cimjax.demo.data",
    "load_idx": "cimjax.demo.data",
    "Models": "cimjax.demo.pipeline",
    "prepare_models": "cimjax.demo.pipeline",
    "generate": "cimjax.demo.pipeline",
    "run_demo": "cimjax.demo.report",
    "run_sample": "cimjax.demo.sample_io",
    "transition_errors": "cimjax.demo.transitions",
    "CrossbarEpsNet": "cimjax.demo.crossbar_nets",
    "InSituCrossbarNet": "cimjax.demo.crossbar_nets",
    "EpsScore": "cimjax.demo.training",
    "image_counts": "cimjax.demo.costs",
    "cost_table": "cimjax.demo.costs",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cimjax.demo' has no attribute {name!r}")
