"""Any flax NNX model on the crossbar: its Linear, LinearGeneral and Conv modules become reads.

`to_crossbar(model, config, rngs=...)` returns a converted copy of the model graph
(`nnx.clone`): every `nnx.Linear`, `nnx.LinearGeneral` (without batch_axis) and
`nnx.Conv` in the copy becomes its crossbar subclass below, whose `__call__` is one
crossbar read of the same kernel plus the digital bias. The subclasses keep every
attribute and parameter of the original, so the model's own `__call__` runs
unchanged and `nnx.state(copy, nnx.Param)` has the float model's tree.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from cimjax.errors import ConfigError
import cimjax.nn._conv as _conv
import cimjax.nn._convert as _convert

__all__ = ["OnCrossbarConv", "OnCrossbarLinear", "OnCrossbarLinearGeneral", "to_crossbar"]


@dataclasses.dataclass(frozen=True)
class LayerSetup:
    """A converted layer's static settings: its path, config, 1/p gain and tiling rule."""

    path: tuple
    config: Any
    rescale: bool
    tiling: bool


def _key(module: nnx.Module) -> jax.Array:
    if module.pbit_stream is not None:
        return module.pbit_stream()
    return jax.random.key(0)  # P-bits off (checked at conversion): only periphery noise would use it


def _finish(module: nnx.Module, x: jax.Array, kernel: jax.Array, y: jax.Array) -> jax.Array:
    bias = module.bias[...] if module.bias is not None else None
    return _convert.add_bias(y, bias).astype(module.dtype or jnp.result_type(x, kernel))


class OnCrossbarLinear(nnx.Linear):
    """An `nnx.Linear` whose product is one crossbar read; made by `to_crossbar`.

    x: (..., in_features) -> (..., out_features); the leading axis is the sample axis.
    """

    def __call__(self, inputs: jax.Array, out_sharding: Any = None) -> jax.Array:
        s, x, kernel = self.crossbar, jnp.asarray(inputs), self.kernel[...]
        y = _convert.dense_read(s.path, x, kernel, _key(self), s.config, axis=(x.ndim - 1,),
                                sample_index=_convert.current_sample_index(), rescale=s.rescale)
        return _finish(self, x, kernel, y)


class OnCrossbarLinearGeneral(nnx.LinearGeneral):
    """An `nnx.LinearGeneral` (no batch_axis) whose product is one crossbar read; made by `to_crossbar`."""

    def __call__(self, inputs: jax.Array, out_sharding: Any = None) -> jax.Array:
        s, x, kernel = self.crossbar, jnp.asarray(inputs), self.kernel[...]
        axis = tuple(a % x.ndim for a in self.axis)
        y = _convert.dense_read(s.path, x, kernel, _key(self), s.config, axis=axis,
                                sample_index=_convert.current_sample_index(), rescale=s.rescale)
        return _finish(self, x, kernel, y)


class OnCrossbarConv(nnx.Conv):
    """An `nnx.Conv` whose every output position is one crossbar read (`crossbar_conv`); made by `to_crossbar`."""

    def __call__(self, inputs: jax.Array, out_sharding: Any = None) -> jax.Array:
        s, x, kernel = self.crossbar, jnp.asarray(inputs), self.kernel[...]
        if self.mask is not None:
            kernel = kernel * self.mask
        y = _conv.conv_read(s.path, x, kernel, _key(self), s.config, _geometry(self, s.path),
                            sample_index=_convert.current_sample_index(), rescale=s.rescale, tiling=s.tiling)
        return _finish(self, x, kernel, y)


def _geometry(conv: nnx.Conv, path: tuple) -> _conv.ConvGeometry:
    return _conv.conv_geometry(path, conv.kernel_size, strides=conv.strides, padding=conv.padding,
                               input_dilation=conv.input_dilation, kernel_dilation=conv.kernel_dilation,
                               feature_group_count=conv.feature_group_count, kind=type(conv).__name__)


_KERNEL_LAYERS = (nnx.Linear, nnx.LinearGeneral, nnx.Conv, nnx.Einsum, nnx.ConvTranspose)


def _crossbar_class(module: nnx.Module, path: tuple, config: Any, tiling: bool) -> type:
    """The crossbar subclass for a stock layer with a kernel, after checking the kernel."""
    kind, shape = type(module).__name__, tuple(module.kernel.shape)
    if isinstance(module, nnx.Einsum):
        raise _convert.unmappable(path, kind, "an einsum with a kernel is not a product the converter can map "
                                  "(write it as a LinearGeneral)")
    if isinstance(module, nnx.ConvTranspose):
        raise _convert.unmappable(path, kind, "transposed convolutions are not supported (nnx.Conv with "
                                  "input_dilation is)")
    if isinstance(module, nnx.Conv):
        _geometry(module, path)
        _conv.check_conv_kernel(path, shape, config, tiling=tiling)
        return OnCrossbarConv
    if isinstance(module, nnx.LinearGeneral):
        if module.batch_axis:
            raise _convert.unmappable(path, kind, f"batch_axis={dict(module.batch_axis)} makes one matrix per batch "
                                      f"index, not one matrix product")
        rows, cls = int(np.prod(module.in_features, dtype=np.int64)), OnCrossbarLinearGeneral
    else:
        rows, cls = shape[0], OnCrossbarLinear
    _convert.check_array(path, rows, int(np.prod(shape, dtype=np.int64)) // rows, config, tiling=tiling,
                         what=f"kernel {shape}")
    return cls


def _pbit_stream(rngs: Any) -> Any:
    if rngs is None:
        return None
    if not isinstance(rngs, nnx.Rngs):
        rngs = nnx.Rngs(pbit=rngs)
    try:
        return rngs.pbit  # nnx falls back to the "default" stream
    except AttributeError:
        raise ConfigError(f"rngs={rngs!r} has neither a 'pbit' nor a 'default' stream") from None


def to_crossbar(model: nnx.Module, config: Any, *, rngs: Any = None, rescale: bool = True,
                tiling: bool = True) -> nnx.Module:
    """A copy of an NNX model whose Linear, LinearGeneral and Conv modules read through the crossbar.

    The copy is `nnx.clone(model)` with each mapped module's class swapped for its
    crossbar subclass (`OnCrossbarLinear`, `OnCrossbarLinearGeneral`, `OnCrossbarConv`),
    so it holds the same parameter values (the same immutable arrays, in new Variables:
    training one model does not move the other) under the same state tree; load float
    weights into it with `nnx.update(copy, nnx.state(float_model, nnx.Param))`. A
    module shared by several paths stays shared. Biases and every other operation stay
    digital. `nnx.Einsum`, `nnx.ConvTranspose`, grouped convolutions and LinearGeneral
    with batch_axis raise ConfigError naming their path (return None for it from a
    config function to leave it digital).

    Args:
      model: an unmodified `flax.nnx.Module`; it is not changed.
      config: one `CrossbarConfig` for every layer (each gets its own programming seed,
        as `on_crossbar`), or a function of the layer path (a tuple of attribute names
        and list indices, e.g. ('layers', 0)) returning its config or None (digital).
      rngs: the P-bit keys: an `nnx.Rngs` whose "pbit" (else "default") stream every
        read draws its next key from (state that advances per read, as nnx.Dropout's),
        or a seed / key for a new `nnx.Rngs(pbit=...)`. Needed unless all P-bits are off.
      rescale: digital gain 1/p on stochastic reads, so E[layer] = float layer.
      tiling: False refuses a layer whose array exceeds one tile.

    Returns:
      The converted copy. Call it as the original; give global sample ids with
      `cimjax.nn.crossbar_sample_index(ids)` around the call (inside `nnx.jit`).

    Raises:
      ConfigError: an unmappable layer, an array the crossbar cannot hold, a stochastic
        layer without rngs; at conversion, before any compute.
    """
    if not isinstance(model, nnx.Module):
        raise ConfigError(f"model={type(model).__name__} must be a flax.nnx Module")
    if not callable(config):
        _convert.layer_config(config, ())  # a bad config type fails now, not at the first layer
    stream = _pbit_stream(rngs)
    converted = nnx.clone(model)
    for path, module in nnx.iter_modules(converted):
        if not isinstance(module, _KERNEL_LAYERS):
            continue
        path = tuple(path)
        layer_config = _convert.layer_config(config, path)
        if layer_config is None:
            continue
        cls = _crossbar_class(module, path, layer_config, bool(tiling))
        if stream is None and layer_config.pbit.mode != "off":
            raise ConfigError(f"layer {_convert.path_name(path)}: P-bit mode {layer_config.pbit.mode!r} needs keys: "
                              f"to_crossbar(..., rngs=nnx.Rngs(pbit=seed))")
        module.__class__ = cls
        module.crossbar = LayerSetup(path, layer_config, bool(rescale), bool(tiling))
        module.pbit_stream = stream
    return converted
