"""The fused read's arguments: tiling (`BlockSizes`), backend choice, and the checks that
`pbit_matmul` and `pbit_matmul_pallas` share (a module of its own so neither imports the other)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from cimjax.errors import ConfigError
from cimjax.kernels._hash import pair_count

BACKENDS = ("auto", "xla", "pallas")


@dataclasses.dataclass(frozen=True)
class BlockSizes:
    """Tiling of the fused read.

    Attributes:
      batch_chunk: samples per step of the XLA path's loop over the batch, in the forward
        and in the backward's dx pass (None takes the whole batch in one step).
      block_rows: crossbar rows per step of the XLA forward's loop over the rows, taken
        as block_rows // 2 row pairs (at least one); each step is one vectorised
        elementwise pass over the (M, B) accumulator. The backward uses it too, as
        columns per step of its dx pass and samples per step of its dw pass.
      block_b: samples per Pallas program.
      block_m: crossbar columns per Pallas program.
      block_n: crossbar rows per step of a Pallas program's inner loop (block_n // 2
        row pairs, at least one).
    """

    batch_chunk: int | None = None
    # Measured on a 2-core Xeon (AVX-512): 16-32 rows run at the same speed, 64 about 15%
    # slower; below 16 XLA fuses the step's slices into the loop, which then runs ~5x slower.
    block_rows: int = 32
    block_b: int = 16
    block_m: int = 64
    block_n: int = 16

    def __post_init__(self):
        for name in ("block_b", "block_m", "block_n"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1 or value & (value - 1):
                raise ConfigError(f"BlockSizes: {name}={value!r} must be a positive power of two")
        if not isinstance(self.block_rows, int) or not 1 <= self.block_rows <= 256:
            raise ConfigError(f"BlockSizes: block_rows={self.block_rows!r} must be an int in [1, 256]")
        if self.batch_chunk is not None and (not isinstance(self.batch_chunk, int) or self.batch_chunk < 1):
            raise ConfigError(f"BlockSizes: batch_chunk={self.batch_chunk!r} must be a positive int or None")

    @classmethod
    def get_default(cls) -> "BlockSizes":
        """Defaults: row blocks measured on a 2-core CPU (XLA); Pallas blocks not yet tuned on a GPU."""
        return cls()


def resolve_backend(backend: str, interpret: bool = False) -> str:
    """'xla' or 'pallas' for `backend` ('auto' picks Pallas on GPU, XLA elsewhere).

    Raises `ConfigError` for an unknown name, or for Pallas on a CPU without `interpret`.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend={backend!r} is not one of {BACKENDS}")
    if backend == "auto":
        return "pallas" if jax.default_backend() == "gpu" else "xla"
    if backend == "pallas" and jax.default_backend() == "cpu" and not interpret:
        raise ConfigError("backend='pallas' needs a GPU; on CPU pass interpret=True or use backend='xla'")
    return backend


def check_read_args(x, w, threshold, sample_key, pair_key, row_offset, block_sizes) -> BlockSizes:
    """The checks of `pbit_matmul`'s arguments (shared with `pbit_matmul_pallas`); returns the block sizes."""
    arrays = (("x", x), ("w", w), ("threshold", threshold), ("sample_key", sample_key), ("pair_key", pair_key))
    for name, arr in arrays:
        if not hasattr(arr, "shape") or not hasattr(arr, "dtype"):
            raise ConfigError(f"{name}={type(arr).__name__} must be an array")
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ConfigError(f"x.shape={x.shape} and w.shape={w.shape} must be (B, N) and (N, M)")
    if isinstance(row_offset, bool) or not isinstance(row_offset, int) or row_offset < 0:
        raise ConfigError(f"row_offset={row_offset!r} must be a non-negative int")
    pairs = (pair_count(w.shape[0], row_offset), w.shape[1])
    for name, arr, shape in (("threshold", threshold, w.shape), ("pair_key", pair_key, pairs),
                             ("sample_key", sample_key, x.shape[:1])):
        if arr.shape != shape or arr.dtype != jnp.uint32:
            raise ConfigError(f"{name}.shape={arr.shape} dtype={arr.dtype} must be {shape} uint32")
    if x.dtype != jnp.float32 or w.dtype != jnp.float32:
        raise ConfigError(f"x.dtype={x.dtype} and w.dtype={w.dtype} must be float32")
    if not isinstance(threshold, jax.core.Tracer) and threshold.size and int(jnp.max(threshold)) > 2**16:
        raise ConfigError(f"threshold holds {int(jnp.max(threshold))} > 2^16: a keep probability above 1 "
                          "(use keep_threshold(p))")
    if block_sizes is None:
        return BlockSizes.get_default()
    if not isinstance(block_sizes, BlockSizes):
        raise ConfigError(f"block_sizes={block_sizes!r} must be a BlockSizes or None")
    return block_sizes


def check_prng_key(key, where: str = "") -> None:
    """`key` must be one JAX PRNG key: typed (jax.random.key) or raw uint32 (PRNGKey); else a ConfigError."""
    typed = jnp.issubdtype(getattr(key, "dtype", jnp.int8), jax.dtypes.prng_key) and getattr(key, "shape", None) == ()
    raw = getattr(key, "dtype", None) == jnp.uint32 and getattr(key, "shape", None) in ((2,), (4,))
    if not (typed or raw):
        raise ConfigError(f"{where}key={key!r:.80} must be one JAX PRNG key (jax.random.key(seed) or PRNGKey(seed)), "
                          "not a seed or a batch of keys")
