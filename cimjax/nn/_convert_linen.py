"""Any flax linen model on the crossbar: its Dense, DenseGeneral and Conv layers become reads.

`on_crossbar(model, config)` wraps an unmodified model. While its `init`/`apply` run,
`flax.linen.intercept_methods` reroutes the `__call__` of every `nn.Dense`,
`nn.DenseGeneral` (without batch_dims) and `nn.Conv` to one crossbar read of its
kernel (`cimjax.nn._convert`, `cimjax.nn._conv`); the bias is added digitally and every
other operation stays digital. The layers keep their own parameters, so the float
model and the crossbar model have the same variables and load the same checkpoint.
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any, Iterator

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.core import meta

from cimjax.errors import ConfigError
import cimjax.nn._conv as _conv
import cimjax.nn._convert as _convert
from cimjax.nn._layers import _check_finite

__all__ = ["CrossbarModel", "on_crossbar"]

_MAPPED = (nn.Dense, nn.DenseGeneral, nn.Conv)
_REFUSED = {
    nn.Einsum: "an einsum with a kernel is not a product the converter can map (write it as a DenseGeneral)",
    nn.ConvLocal: "an unshared (locally connected) convolution has one kernel per position, not one array",
    nn.ConvTranspose: "transposed convolutions are not supported (nn.Conv with input_dilation is)",
}


def _tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _refuse(module: nn.Module, path: tuple) -> None:
    """Raises for a stock layer with a kernel that no single array product can stand for."""
    for cls, why in _REFUSED.items():
        if isinstance(module, cls):
            raise _convert.unmappable(path, type(module).__name__, why)
    if isinstance(module, nn.DenseGeneral) and _tuple(module.batch_dims):
        raise _convert.unmappable(path, "DenseGeneral", f"batch_dims={module.batch_dims} makes one matrix per "
                                  f"batch index, not one matrix product")


def _param(module: nn.Module, name: str) -> jax.Array | None:
    if not module.has_variable("params", name):
        return None
    return meta.unbox(module.get_variable("params", name))


def _conv_geometry(module: nn.Module, path: tuple) -> _conv.ConvGeometry:
    return _conv.conv_geometry(path, module.kernel_size, strides=module.strides, padding=module.padding,
                               input_dilation=module.input_dilation, kernel_dilation=module.kernel_dilation,
                               feature_group_count=module.feature_group_count, kind=type(module).__name__)


def _check_kernel(module: nn.Module, path: tuple, kernel: jax.Array, config: Any, tiling: bool) -> None:
    if isinstance(module, nn.Conv):
        _conv_geometry(module, path)
        _conv.check_conv_kernel(path, kernel.shape, config, tiling=tiling)
        return
    n_in = len(_tuple(module.axis)) if isinstance(module, nn.DenseGeneral) else 1
    rows = int(np.prod(kernel.shape[:n_in], dtype=np.int64))
    _convert.check_array(path, rows, kernel.size // max(rows, 1), config, tiling=tiling, what=f"kernel {kernel.shape}")


def _check_params(module: nn.Module, path: tuple, x: jax.Array, kernel: jax.Array, bias: jax.Array | None) -> None:
    """The layer's parameters must have the shapes its own __call__ would create for `x`.

    The float layer checks this in `self.param`; the crossbar read bypasses it, so without
    this a checkpoint of another model ran silently as a different network.
    """
    features = _tuple(module.features)
    if isinstance(module, nn.Conv):
        geo = _conv_geometry(module, path)
        expected = (*geo.kernel_size, x.shape[-1] if x.ndim else None, *features)
    else:
        axis = (-1,) if isinstance(module, nn.Dense) else _tuple(module.axis)
        if any(not -x.ndim <= a < x.ndim for a in axis):
            raise ConfigError(f"layer {_convert.path_name(path)}: input shape {x.shape} has no axis {axis}")
        expected = (*(x.shape[a] for a in axis), *features)
    if tuple(kernel.shape) != expected:
        raise ConfigError(f"layer {_convert.path_name(path)}: kernel shape {tuple(kernel.shape)} does not match "
                          f"the layer on input shape {tuple(x.shape)}, which needs {expected} (parameters of "
                          f"another model?)")
    if bias is not None and tuple(bias.shape) != features:
        raise ConfigError(f"layer {_convert.path_name(path)}: bias shape {tuple(bias.shape)} must be {features}")


def _read(module: nn.Module, path: tuple, config: Any, x: jax.Array, rescale: bool, tiling: bool) -> jax.Array:
    """The layer's output with its product read on the crossbar."""
    kernel, bias = _param(module, "kernel"), _param(module, "bias")
    _check_params(module, path, x, kernel, bias)
    _check_finite(x, f"layer {_convert.path_name(path)} input")
    _check_kernel(module, path, kernel, config, tiling)
    key = _conv.linen_key(module, config, path)
    sample_index = _convert.current_sample_index()
    if isinstance(module, nn.Conv):
        if module.mask is not None:
            kernel = kernel * module.mask
        y = _conv.conv_read(path, x, kernel, key, config, _conv_geometry(module, path), sample_index=sample_index,
                            rescale=rescale, tiling=tiling)
    else:
        axis = (-1,) if isinstance(module, nn.Dense) else _tuple(module.axis)
        axis = tuple(a % x.ndim for a in axis)
        y = _convert.dense_read(path, x, kernel, key, config, axis=axis, sample_index=sample_index, rescale=rescale)
    y = _convert.add_bias(y, bias)
    return y.astype(module.dtype or jnp.result_type(x, kernel))


def _interceptor(spec: Any, rescale: bool, tiling: bool):
    def intercept(next_fun, args, kwargs, context):
        module = context.module
        if context.method_name != "__call__" or not isinstance(module, _MAPPED + tuple(_REFUSED)):
            return next_fun(*args, **kwargs)
        path = tuple(module.path)
        config = _convert.layer_config(spec, path)
        if config is None:
            return next_fun(*args, **kwargs)
        _refuse(module, path)
        x = args[0] if args else kwargs["inputs"]
        if _param(module, "kernel") is None:  # init: the float layer creates its own parameters
            out = next_fun(*args, **kwargs)
            _check_kernel(module, path, _param(module, "kernel"), config, tiling)
            return out
        return _read(module, path, config, jnp.asarray(x), rescale, tiling)

    return intercept


def _eager(args: tuple, kwargs: dict) -> bool:
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves((args, kwargs)))


def _trace_only(fn, args: tuple, kwargs: dict) -> None:
    """Traces fn(*args, **kwargs) without compute (`jax.eval_shape`).

    Called before an eager run, a bad layer deep in a model is reported before the
    layers above it compute. Array leaves are abstracted; every other leaf (flags,
    strings) stays as given.
    """
    leaves, tree = jax.tree.flatten((args, kwargs))
    dynamic = [i for i, leaf in enumerate(leaves) if isinstance(leaf, (jax.Array, np.ndarray))]

    def run(*arrays):
        full = list(leaves)
        for i, a in zip(dynamic, arrays):
            full[i] = a
        a, k = jax.tree.unflatten(tree, full)
        return fn(*a, **k)

    jax.eval_shape(run, *[leaves[i] for i in dynamic])


@dataclasses.dataclass(frozen=True)
class CrossbarModel:
    """A linen model whose Dense, DenseGeneral and Conv layers read through the crossbar.

    Built by `on_crossbar`. `init` and `apply` take what the model's own take; the
    variables are the float model's.

    Attributes:
      model: the unmodified `flax.linen.Module`.
      config: one `CrossbarConfig` for every layer, or a function of the layer path
        (a tuple of names, e.g. ('Dense_0',)) returning its config, or None to leave
        that layer digital.
      rescale: digital gain 1/p on stochastic reads, so E[layer] = float layer.
      tiling: False refuses a layer whose array exceeds one tile.
    """

    model: nn.Module
    config: Any
    rescale: bool = True
    tiling: bool = True

    @contextlib.contextmanager
    def intercept(self, sample_index: jax.Array | None = None) -> Iterator[None]:
        """Inside the block, `self.model.init/apply` read through the crossbar (see `apply`)."""
        with _convert.crossbar_sample_index(sample_index), nn.intercept_methods(
                _interceptor(self.config, self.rescale, self.tiling)):
            yield

    def _init(self, rngs: Any, *args: Any, **kwargs: Any) -> Any:
        with self.intercept():
            return self.model.init(rngs, *args, **kwargs)

    def init(self, rngs: Any, *args: Any, **kwargs: Any) -> Any:
        """The float model's `init` (same variables), with every layer checked first.

        Layers run as floats during init. Raises ConfigError for a layer the converter
        cannot map, before any compute.
        """
        if _eager((rngs, args), kwargs):
            _trace_only(self._init, (rngs, *args), kwargs)
        return self._init(rngs, *args, **kwargs)

    def _apply(self, variables: Any, *args: Any, sample_index: Any = None, **kwargs: Any) -> Any:
        with self.intercept(sample_index):
            return self.model.apply(variables, *args, **kwargs)

    def apply(self, variables: Any, *args: Any, rngs: Any = None, sample_index: jax.Array | None = None,
              **kwargs: Any) -> Any:
        """`model.apply` with every mapped layer one crossbar read.

        Args:
          variables: the float model's variables.
          *args, **kwargs: the model's inputs and flags, as for `model.apply`.
          rngs: the model's rng streams; reads take their keys from "pbit" (needed
            unless every read has its P-bits off).
          sample_index: (B,) integer global ids of the B samples on the leading axis of
            the inputs (default 0..B-1); a sample's P-bits then depend only on its id,
            not on the batch. Each layer gives sample b's P positions (conv outputs,
            tokens) the ids sample_index[b] * P + 0..P-1.
        Returns:
          What `model.apply` returns.
        Raises:
          ConfigError: a layer the converter cannot map, an array the crossbar cannot
            hold, missing "pbit" keys, sample ids that collide; before any compute.
        """
        kwargs = dict(kwargs, rngs=rngs, sample_index=sample_index)
        if _eager((variables, args), kwargs):
            _trace_only(self._apply, (variables, *args), kwargs)
        return self._apply(variables, *args, **kwargs)

    def op_counts(self, variables: Any, *args: Any, rngs: Any = None, sample_index: jax.Array | None = None,
                  **kwargs: Any) -> dict:
        """{layer path: OpCounts} of one `apply` on these inputs, from shapes only (no compute).

        Counting draws nothing, so `rngs` may be left out (a placeholder key is traced).
        """
        rngs = {"pbit": jax.random.key(0)} if rngs is None else rngs
        with _convert.record_op_counts() as counts:
            _trace_only(self._apply, (variables, *args), dict(kwargs, rngs=rngs, sample_index=sample_index))
        return counts


def on_crossbar(model: nn.Module, config: Any, *, rescale: bool = True, tiling: bool = True) -> CrossbarModel:
    """Puts an unmodified flax linen model on the crossbar.

    Every `nn.Dense`, `nn.DenseGeneral` (without batch_dims: its contracted axes
    flatten into the array's rows) and `nn.Conv` (`cimjax.nn.crossbar_conv`) becomes
    one read per input vector; biases, activations, norms and the rest stay digital.
    `nn.Einsum`, `nn.ConvLocal`, `nn.ConvTranspose`, grouped convolutions and
    DenseGeneral with batch_dims raise ConfigError naming the layer's path (return
    None for it from a config function to leave it digital). Products written by hand
    (`x @ self.param(...)`) stay digital.

    With one config, each layer gets its own programming seed (`programming_seed` plus
    the CRC-32 of its path). The keys come from the "pbit" rng stream, folded by flax
    with each layer's path and call count.

    Example:
      mlp = MyMLP()                                   # any linen model
      params = mlp.init(key, x)                       # or a trained checkpoint
      xbar = cimjax.nn.on_crossbar(mlp, CrossbarConfig.ideal(keep_prob=0.5))
      y = xbar.apply(params, x, rngs={"pbit": key}, sample_index=ids)
    """
    if not isinstance(model, nn.Module):
        raise ConfigError(f"model={type(model).__name__} must be a flax.linen Module")
    if not callable(config):
        _convert.layer_config(config, ())  # a bad config type fails now, not at the first layer
    return CrossbarModel(model, config, rescale=bool(rescale), tiling=bool(tiling))
