"""Convolutions on the crossbar: every output position is one read of the kernel's array.

The kernel (*k, C_in, C_out) (flax's layout, k = (kh, kw) in 2-D) is programmed as one
(prod(k) * C_in) x C_out array, row (i * kw + j) * C_in + c holding kernel[i, j, c]
(flax's row-major order). Each output position's receptive field (im2col,
`lax.conv_general_dilated_patches`) is one input vector of that array, so a batch of B
samples with P output positions makes B * P reads, and each (sample, position) draws
its own P-bits: sample b's position j reads with counter id sample_index[b] * P + j
(`cimjax.nn._convert`). In exact mode an output is therefore a sum of independent
kept cells: E[y] = p conv(x, w) and Var[y] = p (1 - p) sum (patch^2 w^2) over the
receptive field (ideal periphery, one keep probability p, before the 1/p gain).

Geometry as flax's Conv: any number of spatial dims, strides, padding "SAME",
"SAME_LOWER", "VALID", "CIRCULAR", "REFLECT", "CAUSAL" (1-D), an int or (low, high)
pairs, kernel dilation, input dilation (with padding pairs, as lax), extra or missing batch dims. Not supported:
feature_group_count > 1 (grouped and depthwise convolutions), unshared (ConvLocal)
and transposed convolutions.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from cimjax.errors import ConfigError
import cimjax.nn._convert as _convert
import cimjax.nn._engine as _engine

__all__ = ["CrossbarConv", "count_conv_read", "crossbar_conv"]

PADDINGS = ("SAME", "SAME_LOWER", "VALID", "CIRCULAR", "REFLECT", "CAUSAL")


@dataclasses.dataclass(frozen=True)
class ConvGeometry:
    """A convolution's window, canonical: one int per spatial dim, padding a name or pairs."""

    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str | tuple[tuple[int, int], ...]
    input_dilation: tuple[int, ...]
    kernel_dilation: tuple[int, ...]


def _per_dim(path: tuple, name: str, value: Any, rank: int) -> tuple[int, ...]:
    value = 1 if value is None else value  # flax's sentinel for 1
    out = (value,) * rank if isinstance(value, (int, np.integer)) else tuple(value)
    if len(out) != rank or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1
                                   for v in out):
        raise ConfigError(f"layer {_convert.path_name(path)}: {name}={value!r} must be a positive int or "
                          f"{rank} of them")
    return tuple(int(v) for v in out)


def _padding(path: tuple, padding: Any, rank: int) -> str | tuple[tuple[int, int], ...]:
    where = f"layer {_convert.path_name(path)}: padding={padding!r}"
    if isinstance(padding, str):
        if padding.upper() not in PADDINGS:
            raise ConfigError(f"{where} is not one of {PADDINGS}, an int or {rank} (low, high) pairs")
        if padding.upper() == "CAUSAL" and rank != 1:
            raise ConfigError(f"{where}: causal padding needs a 1-D convolution, this one has {rank} spatial dims")
        return padding.upper()
    pads = [padding] * rank if isinstance(padding, (int, np.integer)) else list(padding)
    pairs = [(p, p) if isinstance(p, (int, np.integer)) else tuple(p) for p in pads]
    if len(pairs) != rank or not all(len(p) == 2 and all(isinstance(v, (int, np.integer)) for v in p) for p in pairs):
        raise ConfigError(f"{where} must be a name, an int or {rank} (low, high) pairs of ints")
    return tuple((int(lo), int(hi)) for lo, hi in pairs)


def conv_geometry(path: tuple, kernel_size: Any, *, strides: Any = 1, padding: Any = "SAME", input_dilation: Any = 1,
                  kernel_dilation: Any = 1, feature_group_count: int = 1, kind: str = "Conv") -> ConvGeometry:
    """Checks flax Conv attributes and returns their canonical form; ConfigError names `path`."""
    if feature_group_count != 1:
        raise _convert.unmappable(path, kind,
                                  f"feature_group_count={feature_group_count} (a grouped convolution is one array per "
                                  f"group; only feature_group_count=1 is supported)")
    ks = (kernel_size,) if isinstance(kernel_size, (int, np.integer)) else tuple(kernel_size)
    ks = _per_dim(path, "kernel_size", ks, len(ks))
    rank = len(ks)
    geo = ConvGeometry(ks, _per_dim(path, "strides", strides, rank), _padding(path, padding, rank),
                       _per_dim(path, "input_dilation", input_dilation, rank),
                       _per_dim(path, "kernel_dilation", kernel_dilation, rank))
    if isinstance(geo.padding, str) and max(geo.input_dilation) > 1:  # lax has no named padding for it
        raise ConfigError(f"layer {_convert.path_name(path)}: input_dilation={input_dilation!r} needs padding as "
                          f"(low, high) pairs, not {padding!r}")
    return geo


def _patches(x: jax.Array, geo: ConvGeometry) -> jax.Array:
    """Receptive fields (B, *out, prod(k) * C_in) of x (B, *spatial, C_in), rows in flax kernel order."""
    padding = geo.padding
    if padding in ("CIRCULAR", "REFLECT", "CAUSAL"):  # padded first, then VALID, as flax's Conv does
        spans = [(k - 1) * d + 1 for k, d in zip(geo.kernel_size, geo.kernel_dilation)]
        if padding == "CAUSAL":
            x = jnp.pad(x, [(0, 0), (spans[0] - 1, 0), (0, 0)])
        else:
            pads = [(0, 0)] + [((s - 1) // 2, s // 2) for s in spans] + [(0, 0)]
            x = jnp.pad(x, pads, mode={"CIRCULAR": "wrap", "REFLECT": "reflect"}[padding])
        padding = "VALID"
    nd = x.ndim
    spec = (0, nd - 1) + tuple(range(1, nd - 1))
    numbers = lax.ConvDimensionNumbers(spec, (nd - 1, nd - 2) + tuple(range(nd - 2)), spec)
    patches = lax.conv_general_dilated_patches(
        x, geo.kernel_size, geo.strides, padding, lhs_dilation=geo.input_dilation, rhs_dilation=geo.kernel_dilation,
        dimension_numbers=numbers, precision=lax.Precision.HIGHEST)
    # lax orders a patch channel-major (c, window); the array's rows are (window, c)
    c_in, window = x.shape[-1], int(np.prod(geo.kernel_size))
    grouped = patches.reshape(patches.shape[:-1] + (c_in, window))
    return jnp.swapaxes(grouped, -1, -2).reshape(patches.shape)


def _as_batch(x: jax.Array, rank: int) -> tuple[jax.Array, tuple[int, ...]]:
    """x as (B, *spatial, C) and its batch shape: flax's rule (extra batch dims flattened, none added)."""
    batch_shape = x.shape[: x.ndim - rank - 1]
    return x.reshape((-1,) + x.shape[len(batch_shape):]), batch_shape


def check_conv_kernel(path: tuple, kernel_shape: tuple[int, ...], config: Any, *, tiling: bool) -> None:
    """Refuses a conv kernel whose (prod(k) * C_in) x C_out array the crossbar cannot hold."""
    *k, c_in, c_out = kernel_shape
    rows = int(np.prod(k, dtype=np.int64)) * c_in
    what = f"kernel {tuple(kernel_shape)} (kh*kw*C_in = {'*'.join(map(str, k))}*{c_in} = {rows} rows, C_out = {c_out})"
    _convert.check_array(path, rows, c_out, config, tiling=tiling, what=what)


def conv_read(path: tuple, x: jax.Array, kernel: jax.Array, key: jax.Array, config: Any, geo: ConvGeometry, *,
              sample_index: Any, rescale: bool, tiling: bool) -> jax.Array:
    """The crossbar convolution of x (*batch, *spatial, C_in) by kernel (*k, C_in, C_out), no bias."""
    rank = len(geo.kernel_size)
    if kernel.ndim != rank + 2 or x.ndim < rank + 1 or x.shape[-1] != kernel.shape[-2]:
        raise ConfigError(f"layer {_convert.path_name(path)}: input shape {x.shape} does not fit kernel "
                          f"{kernel.shape} ({rank} spatial dims, C_in = {kernel.shape[-2]} last)")
    check_conv_kernel(path, kernel.shape, config, tiling=tiling)
    xb, batch_shape = _as_batch(x, rank)
    patches = _patches(xb, geo)
    lead = batch_shape[0] if batch_shape else 1
    y = _convert.matrix_read(path, patches.reshape(-1, patches.shape[-1]), kernel.reshape(-1, kernel.shape[-1]),
                             key, config, lead=lead, sample_index=sample_index, rescale=rescale)
    return y.reshape(batch_shape + patches.shape[1:-1] + (kernel.shape[-1],))


def crossbar_conv(x: jax.Array, kernel: jax.Array, key: jax.Array, config: Any = None, *, strides: Any = 1,
                  padding: Any = "SAME", input_dilation: Any = 1, kernel_dilation: Any = 1,
                  sample_index: jax.Array | None = None, rescale: bool = True, tiling: bool = True,
                  name: str = "crossbar_conv") -> jax.Array:
    """A convolution on the crossbar, every output position one read (see the module doc).

    Args:
      x: (*batch, *spatial, C_in) float inputs, channels last as flax (no batch dim: one sample).
      kernel: (*k, C_in, C_out) float weights, flax's layout.
      key: the read's JAX PRNG key.
      config: the crossbar (`CrossbarConfig()` when None).
      strides, padding, input_dilation, kernel_dilation: as `flax.linen.Conv`.
      sample_index: (B,) integer global ids of the samples on x's leading axis (default
        0..B-1); a sample's P-bits depend only on its id.
      rescale: digital gain 1/p on stochastic reads (p the nominal keep probability),
        so that E[y] = conv(x, w); False gives the array's own mean p conv(x, w).
      tiling: False refuses a kernel whose array exceeds one tile.
      name: the layer name errors report.

    Returns:
      (*batch, *out_spatial, C_out), float32 (float64 with float64 inputs).

    Raises:
      ConfigError: bad geometry, mismatched shapes, an array beyond one tile without
        tiling or beyond the hash's 2^32 counters, sample ids that would collide;
        before any compute.
    """
    path = (name,)
    config = _engine.resolve_config(config)
    geo = conv_geometry(path, tuple(kernel.shape[:-2]), strides=strides, padding=padding,
                        input_dilation=input_dilation, kernel_dilation=kernel_dilation)
    return conv_read(path, x, kernel, key, config, geo, sample_index=sample_index, rescale=rescale, tiling=tiling)


def count_conv_read(config: Any, x_shape: Sequence[int], kernel_shape: Sequence[int], *, strides: Any = 1,
                    padding: Any = "SAME", input_dilation: Any = 1, kernel_dilation: Any = 1,
                    scheme: str = "in_situ") -> Any:
    """Op counts of one convolution on the crossbar, for the energy model.

    B * P reads (B samples, P output positions) of a (prod(k) * C_in) x C_out array:
    `count_read(config, B * P, prod(k) * C_in, C_out, scheme)`. Shapes only, no compute.

    Args:
      config: the `CrossbarConfig`; x_shape: (*batch, *spatial, C_in); kernel_shape:
        (*k, C_in, C_out); the geometry as `crossbar_conv`; scheme: as `count_read`.
    Returns:
      `cimjax.crossbar.OpCounts`.
    """
    path = ("count_conv_read",)
    geo = conv_geometry(path, tuple(kernel_shape[:-2]), strides=strides, padding=padding,
                        input_dilation=input_dilation, kernel_dilation=kernel_dilation)
    x = jax.ShapeDtypeStruct(tuple(x_shape), jnp.float32)
    patches = jax.eval_shape(lambda v: _patches(_as_batch(v, len(geo.kernel_size))[0], geo), x)
    reads = int(np.prod(patches.shape[:-1], dtype=np.int64))
    return _engine.counts(config, reads, patches.shape[-1], int(kernel_shape[-1]), scheme=scheme)


class CrossbarConv(nn.Module):
    """A convolution layer whose every output position is one read of a stochastic crossbar.

    A drop-in for `flax.linen.Conv` (same attributes where shared, same parameters:
    kernel (*kernel_size, C_in, features), bias (features,)), plus the crossbar's.
    The bias is added digitally. P-bit keys come from the "pbit" rng stream.

    Attributes:
      features: output channels C_out.
      kernel_size, strides, padding, input_dilation, kernel_dilation: as `nn.Conv`.
      use_bias: add a digital bias.
      config: the `CrossbarConfig` (None: `CrossbarConfig()`).
      rescale: digital gain 1/p on stochastic reads (as `CrossbarDense`).
      deterministic: used when the call's is None; True holds the P-bits fixed (the ANN).
      tiling: False refuses a kernel whose array exceeds one tile.
    """

    features: int
    kernel_size: int | Sequence[int]
    strides: int | Sequence[int] | None = 1
    padding: Any = "SAME"
    input_dilation: int | Sequence[int] | None = 1
    kernel_dilation: int | Sequence[int] | None = 1
    use_bias: bool = True
    config: Any = None
    rescale: bool = True
    deterministic: bool = False
    tiling: bool = True
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    @nn.compact
    def __call__(self, x: jax.Array, *, deterministic: bool | None = None,
                 sample_index: jax.Array | None = None) -> jax.Array:
        """x: (*batch, *spatial, C_in) -> (*batch, *out_spatial, features). sample_index: (B,) ids."""
        path = self.path or (self.name or "CrossbarConv",)
        geo = conv_geometry(path, self.kernel_size, strides=self.strides, padding=self.padding,
                            input_dilation=self.input_dilation, kernel_dilation=self.kernel_dilation)
        config = _engine.resolve_config(self.config)
        if self.deterministic if deterministic is None else deterministic:
            config = _engine.fixed_pbits(config)
        kernel = self.param("kernel", self.kernel_init, geo.kernel_size + (x.shape[-1], self.features), jnp.float32)
        y = conv_read(path, x, kernel, linen_key(self, config, path), config, geo, sample_index=sample_index,
                      rescale=self.rescale, tiling=self.tiling)
        bias = self.param("bias", self.bias_init, (self.features,), jnp.float32) if self.use_bias else None
        return _convert.add_bias(y, bias)


def linen_key(module: nn.Module, config: Any, path: tuple) -> jax.Array:
    """The read's key from the module's "pbit" rng stream (a fixed key if P-bits are off)."""
    if module.has_rng("pbit"):
        return module.make_rng("pbit")
    if config.pbit.mode == "off":
        return jax.random.key(0)  # P-bits fixed: only periphery noise would use it, identically each call
    raise ConfigError(f"layer {_convert.path_name(path)}: a read in P-bit mode {config.pbit.mode!r} needs "
                      f"rngs={{'pbit': key}} in apply")
