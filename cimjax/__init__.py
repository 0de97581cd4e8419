"""cimjax: a JAX emulator of stochastic compute-in-memory hardware.

    import cimjax as cj
    y = cj.crossbar_matmul(x, w, key, cj.CrossbarConfig())

The layers, each importing only those below it (tests/test_architecture.py):

  errors    the error family every layer raises (`CimjaxError` and its subclasses)
  device    VCMA-MTJ physics: data-bit, P-bit switching probability, differential pair
  kernels   the masked product: counter-hashed P-bit masks inside the matmul (XLA, Pallas)
  crossbar  configuration, mapping, periphery, keep probabilities, the read, op counts
  nn        flax layers on the crossbar, MC-dropconnect training and prediction
  sde       diffusion SDEs, samplers, and the crossbar networks whose read is the SDE step
  trng      NIST SP800-22 and the other randomness tests of P-bit streams
  energy    energy, latency and area of in-situ against ex-situ P-bits (Table II)
  apps      the applications (`cimjax.apps`), and the command line (`cimjax.cli`) above them

This module is the flat API: the names most users need, and the libraries as
namespaces (`cj.device`, `cj.trng`, `cj.energy`, ...). It is the one module that
imports on attribute access, so that `import cimjax` (and `cimjax --help`) loads no
jax; `cj.crossbar_matmul` imports the crossbar layer the first time it is used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> the public package that defines it
_API = {
    # errors
    "CimjaxError": "cimjax.errors",
    "ConfigError": "cimjax.errors",
    "DataFileError": "cimjax.errors",
    "CheckpointError": "cimjax.errors",
    # one read of the crossbar
    "CrossbarConfig": "cimjax.crossbar",
    "Mapping": "cimjax.crossbar",
    "Periphery": "cimjax.crossbar",
    "PbitConfig": "cimjax.crossbar",
    "Tile": "cimjax.crossbar",
    "crossbar_matmul": "cimjax.crossbar",
    "crossbar_moments": "cimjax.crossbar",
    "crossbar_cumulant": "cimjax.crossbar",
    "fit_adc_range": "cimjax.crossbar",
    "count_read": "cimjax.crossbar",
    # MC-dropconnect networks
    "CrossbarDense": "cimjax.nn",
    "CrossbarMLP": "cimjax.nn",
    "CrossbarConv": "cimjax.nn",
    "on_crossbar": "cimjax.nn",
    "to_crossbar": "cimjax.nn",
    "TrainConfig": "cimjax.nn",
    "fit": "cimjax.nn",
    "mc_predict": "cimjax.nn",
    # diffusion
    "VPSDE": "cimjax.sde",
    "SubVPSDE": "cimjax.sde",
    "VESDE": "cimjax.sde",
    "ExSituStep": "cimjax.sde",
    "InSituStep": "cimjax.sde",
    "InSituCrossbarNet": "cimjax.sde",
    "sample_reverse": "cimjax.sde",
}
_NAMESPACES = ("errors", "device", "kernels", "crossbar", "nn", "sde", "trng", "energy")

__all__ = ["__version__", *_API, *_NAMESPACES]


def __getattr__(name: str):
    if name in _API:
        value = getattr(importlib.import_module(_API[name]), name)
    elif name in _NAMESPACES:
        value = importlib.import_module(f"cimjax.{name}")
    else:
        raise AttributeError(f"module 'cimjax' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
