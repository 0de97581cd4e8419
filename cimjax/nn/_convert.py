"""What the model converters share: per-layer configs, sample ids, checks and the weight read.

A converted layer (linen `on_crossbar`, NNX `to_crossbar`, or `CrossbarConv`) turns its
input into rows, one row per input vector that meets the weight array, and reads them
all in one `crossbar_matmul`:

    x (..., N) -> rows (R, N) -> one read of the (N, M) array -> (R, M) -> (..., M)

Sample ids. The leading axis of a layer's input is the sample axis: with B samples
each sample owns the P = R / B rows that follow it in C order (the positions of a
convolution, the tokens of a sequence), and row j of sample b reads with the counter
id sample_index[b] * P + j. A sample's masks therefore depend only on its own id (never
on the batch it is in), and no two (sample, position) pairs of a layer share masks as
long as every id is below 2^32, which is checked where the ids are known. In mode
"refresh" (P-bits rewritten every k reads) k consecutive ids share a mask, so k
consecutive positions of a sample do, as on the hardware.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import zlib
from typing import Any, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from cimjax.errors import ConfigError
import cimjax.nn._engine as _engine

__all__ = ["crossbar_sample_index", "record_op_counts"]

_SAMPLE_INDEX: contextvars.ContextVar = contextvars.ContextVar("cimjax_sample_index", default=None)
_COUNTS: contextvars.ContextVar = contextvars.ContextVar("cimjax_op_counts", default=None)
_COUNTER_LIMIT = 2**32  # the P-bit hash's uint32 counters (cimjax.kernels)


def path_name(path: tuple) -> str:
    """A layer path as one string, 'block/0/conv' ('<model>' for the root)."""
    return "/".join(str(p) for p in path) or "<model>"


def layer_config(spec: Any, path: tuple) -> Any:
    """The `CrossbarConfig` of the layer at `path`, or None to leave it digital.

    One config for every layer gets a per-layer programming seed (the config's seed plus
    the CRC-32 of the path), so that no two arrays share their programming draws
    (variation, faults, P_sw spread). A function of the path is used as it returns.
    """
    if isinstance(spec, _engine.CrossbarConfig):
        seed = (spec.programming_seed + zlib.crc32(path_name(path).encode())) % _COUNTER_LIMIT
        return dataclasses.replace(spec, programming_seed=seed)
    if not callable(spec):
        raise ConfigError(f"config={spec!r} must be a CrossbarConfig or a function of the layer path")
    config = spec(path)
    if config is not None and not isinstance(config, _engine.CrossbarConfig):
        raise ConfigError(f"layer {path_name(path)}: the config function returned {config!r}, "
                          f"not a CrossbarConfig or None")
    return config


def unmappable(path: tuple, kind: str, why: str) -> ConfigError:
    """The error for a layer (of class name `kind`) the converter cannot put on the crossbar."""
    return ConfigError(f"layer {path_name(path)} ({kind}) cannot be mapped to the crossbar: {why}. "
                       f"Leave it digital with a config function that returns None for {path!r}")


def check_array(path: tuple, rows: int, cols: int, config: Any, *, tiling: bool, what: str) -> None:
    """Refuses a (rows, cols) weight array the crossbar cannot hold, naming the layer.

    With `tiling` the array is split over tiles of config.tile and only the hash's 2^32
    counter space limits it; without, it must fit one tile.
    """
    tile = config.tile
    if not tiling and (rows > tile.rows or cols > tile.cols):
        raise ConfigError(f"layer {path_name(path)}: {what} needs a {rows} x {cols} array, larger than one "
                          f"{tile.rows} x {tile.cols} tile, and tiling=False")
    used = _engine.counter_space(config, rows, cols)
    if used >= _COUNTER_LIMIT:
        raise ConfigError(f"layer {path_name(path)}: {what} needs a {rows} x {cols} array with "
                          f"{config.mapping.slices} slices over {-(-rows // tile.rows)} row tiles: {used} counters "
                          f"exceed the 2^32 counter space of the P-bit hash")


@contextlib.contextmanager
def crossbar_sample_index(sample_index: jax.Array | None) -> Iterator[None]:
    """Gives every converted layer read inside the block these global sample ids.

    sample_index: (B,) non-negative integer ids of the B samples of the batch (the
    leading axis of each layer's input); None restores the default 0..B-1. Under
    `jax.jit` / `nnx.jit` enter the block inside the traced function: a block entered
    outside is read once, when the function is first traced.
    """
    token = _SAMPLE_INDEX.set(sample_index)
    try:
        yield
    finally:
        _SAMPLE_INDEX.reset(token)


def current_sample_index() -> jax.Array | None:
    return _SAMPLE_INDEX.get()


@contextlib.contextmanager
def record_op_counts() -> Iterator[dict]:
    """Collects the op counts of every converted layer read traced inside the block.

    Yields a dict {layer path: OpCounts}, summed over a layer's calls, filled as the
    reads are traced: run the model eagerly or under `jax.eval_shape` (no compute)
    inside the block. A jitted function counts only when it is traced. The counts
    price a model in `cimjax.energy`.
    """
    counts: dict = {}
    token = _COUNTS.set(counts)
    try:
        yield counts
    finally:
        _COUNTS.reset(token)


def _check_ids(path: tuple, sample_index: Any, lead: int, per: int) -> None:
    if jnp.shape(sample_index) != (lead,):
        raise ConfigError(f"layer {path_name(path)}: sample_index.shape={jnp.shape(sample_index)} must be "
                          f"({lead},), one id per sample on the input's leading axis")
    if not jnp.issubdtype(jnp.asarray(sample_index).dtype, jnp.integer):
        raise ConfigError(f"layer {path_name(path)}: sample_index.dtype={jnp.asarray(sample_index).dtype} "
                          f"must be an integer type")
    if isinstance(sample_index, jax.core.Tracer) or lead == 0:
        return
    ids = np.asarray(sample_index, dtype=np.int64)
    if ids.min() < 0 or (int(ids.max()) + 1) * per > _COUNTER_LIMIT:
        raise ConfigError(f"layer {path_name(path)}: sample ids {int(ids.min())}..{int(ids.max())} with {per} "
                          f"reads per sample reach id {(int(ids.max()) + 1) * per - 1}; ids must stay in "
                          f"[0, 2^32) so that no two reads share P-bit masks")


def read_ids(path: tuple, sample_index: Any, lead: int, rows: int) -> jax.Array:
    """Counter ids (rows,) uint32 of `rows` reads made by `lead` samples (see the module doc)."""
    per = rows // max(lead, 1)
    if sample_index is None:
        return jnp.arange(rows, dtype=jnp.uint32)
    _check_ids(path, sample_index, lead, per)
    base = jnp.asarray(sample_index).astype(jnp.uint32)[:, None] * jnp.uint32(per)
    return (base + jnp.arange(per, dtype=jnp.uint32)[None, :]).reshape(-1)


def matrix_read(path: tuple, rows_x: jax.Array, matrix: jax.Array, key: jax.Array, config: Any, *,
                lead: int, sample_index: Any, rescale: bool) -> jax.Array:
    """One read of rows_x (R, N) through matrix (N, M) -> (R, M), gain 1/p with `rescale`.

    `lead` samples own the R rows (R / lead each) for the sample ids.
    """
    reads, n = rows_x.shape
    counts = _COUNTS.get()
    if counts is not None:
        name = path_name(path)
        counts[name] = counts.get(name, _engine.OpCounts()) + _engine.counts(config, reads, n, matrix.shape[1])
    ids = read_ids(path, sample_index, lead, reads)
    dtype = jnp.promote_types(jnp.result_type(rows_x, matrix), jnp.float32)
    stochastic = rescale and config.pbit.mode != "off"
    matrix = _engine.direction_compensated(matrix.astype(dtype), config) if stochastic else matrix.astype(dtype)
    y = _engine.read(rows_x.astype(dtype), matrix, key, config, sample_index=ids)
    if stochastic:
        y = y / _engine.nominal_keep_prob(config)
    return y


def dense_read(path: tuple, x: jax.Array, kernel: jax.Array, key: jax.Array, config: Any, *,
               axis: tuple[int, ...], sample_index: Any, rescale: bool) -> jax.Array:
    """A dense layer's product on the crossbar, bias not included.

    x: (...) contracted over the normalised axes `axis` (in the kernel's order) against
    kernel (*[x.shape[a] for a in axis], *features); the result has x's other axes, in
    order, then the features, as `lax.dot_general` gives. The first other axis is the
    sample axis; an input with no other axis is one sample.
    """
    free = [a for a in range(x.ndim) if a not in axis]
    n = int(np.prod([x.shape[a] for a in axis], dtype=np.int64))
    features = kernel.shape[len(axis):]
    rows_x = jnp.transpose(x, free + list(axis)).reshape(-1, n)
    lead = x.shape[free[0]] if free else 1
    y = matrix_read(path, rows_x, kernel.reshape(n, -1), key, config, lead=lead, sample_index=sample_index,
                    rescale=rescale)
    return y.reshape(tuple(x.shape[a] for a in free) + tuple(features))


def add_bias(y: jax.Array, bias: jax.Array | None) -> jax.Array:
    """y (..., *features) plus a digital bias (*features,) (none when None)."""
    if bias is None:
        return y
    return y + jnp.reshape(bias, (1,) * (y.ndim - bias.ndim) + bias.shape).astype(y.dtype)
