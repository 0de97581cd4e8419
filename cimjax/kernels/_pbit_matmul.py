"""Fused crossbar read with in-situ P-bit dropconnect: y = x @ (W * K), K never stored.

Each cell (n, m) of the crossbar keeps its signed weight in read b with probability
p_nm (its P-bit switched, Fig. 3c) and outputs zero otherwise, so one read is an
MC-dropconnect matrix-vector product::

    y[b, m] = sum_n x[b, n] * w[n, m] * K[b, n, m],   K[b, n, m] ~ Bernoulli(p[n, m])

K is a pure function of counters (see `_hash`): it is regenerated inside the product
and again in the backward pass, so memory stays O(B*M + N*M) and no mask is stored.
On the XLA path the forward walks the rows in blocks; each row adds the elementwise
term x[:, n] * where(draw < t[n], w[n], 0) to a (B, M) accumulator, which XLA:CPU
compiles to one vectorised loop per block (hash, select and multiply-add in registers).
The backward pass uses the same accumulate-don't-reduce form twice: dx is the forward
read of g through the transposed crossbar (a walk over columns into a (B, N) total),
and dw walks the samples, adding x[b]^T g[b] * K_b to an (N, M) total.

Layout (as the Pallas ops files of jax): the XLA path below, the Pallas GPU kernel in
`pbit_matmul_pallas.py`, `BlockSizes`, and the plain-jnp `*_reference` functions.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
from jax import lax

from cimjax.kernels._hash import pbit_bits
from cimjax.errors import ConfigError

BACKENDS = ("auto", "xla", "pallas")


@dataclasses.dataclass(frozen=True)
class BlockSizes:
    """Tiling of the fused read.

    Attributes:
      batch_chunk: samples per step of the XLA path's loop over the batch, in the forward
        and in the backward's dx pass (None takes the whole batch in one step).
      block_rows: crossbar rows per step of the XLA forward's loop over the rows; each
        step is one vectorised elementwise pass over the (B, M) accumulator. The
        backward uses it too, as columns per step of its dx pass and samples per
        step of its dw pass.
      block_b: samples per Pallas program.
      block_m: crossbar columns per Pallas program.
      block_n: crossbar rows per step of a Pallas program's inner loop.
    """

    batch_chunk: int | None = None
    # Measured on a 2-core Xeon (AVX-512): 16-64 rows run at the same speed; below 16 XLA
    # fuses the step's row slice into the kernel and the loop is no longer vectorised.
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


# ----------------------------------------------------------------------------- references


def pbit_mask_reference(sample_key: jax.Array, cell_key: jax.Array, threshold: jax.Array) -> jax.Array:
    """Materialised P-bit mask K (B, N, M) bool: True where the cell keeps its weight."""
    return pbit_bits(sample_key[:, None, None], cell_key[None, :, :]) < threshold[None, :, :]


def pbit_matmul_reference(x, w, threshold, sample_key, cell_key) -> jax.Array:
    """Plain-jnp read with the mask materialised: einsum('bn,bnm->bm', x, w * K). O(B*N*M) memory."""
    mask = pbit_mask_reference(sample_key, cell_key, threshold)
    return jnp.einsum("bn,bnm->bm", x, jnp.where(mask, w[None, :, :], 0.0))


# ----------------------------------------------------------------------------- XLA path


def _chunked(x, a, bc):
    """Pads the batch to a multiple of bc and splits it into (steps, bc, ...) chunks."""
    batch = x.shape[0]
    steps = -(-batch // bc)
    pad = steps * bc - batch
    x = jnp.pad(x, ((0, pad), (0, 0)))
    a = jnp.pad(a, (0, pad))
    return x.reshape(steps, bc, x.shape[1]), a.reshape(steps, bc)


def _forward_rows(x, w, threshold, sample_key, cell_key, nr):
    """y (B, M) of one batch chunk: a scan over blocks of nr rows, each an unrolled sum of rows.

    A row's contribution x[:, n] * where(draw < t[n], w[n], 0) is elementwise over (B, M),
    so one step is a single vectorised loop that hashes, selects and accumulates in
    registers; a reduction over rows inside one fused kernel is not vectorised by XLA:CPU.
    """
    batch, n = x.shape
    m = w.shape[1]
    steps = -(-n // nr)
    pad = steps * nr - n
    # Padding rows carry x = 0 and threshold 0 (never kept), so they never change y.
    xs = jnp.pad(x.T, ((0, pad), (0, 0))).reshape(steps, nr, batch)
    ws, ts, cs = (jnp.pad(arr, ((0, pad), (0, 0))).reshape(steps, nr, m) for arr in (w, threshold, cell_key))
    a = sample_key[:, None]

    def step(acc, block):
        xb, wb, tb, cb = block
        for j in range(nr):
            keep = pbit_bits(a, cb[j][None, :]) < tb[j][None, :]
            acc = acc + xb[j][:, None] * jnp.where(keep, wb[j][None, :], 0.0)
        return acc, None

    y, _ = lax.scan(step, jnp.zeros((batch, m), jnp.float32), (xs, ws, ts, cs))
    return y


def _forward_xla(x, w, threshold, sample_key, cell_key, block_sizes):
    batch, n = x.shape
    nr = min(block_sizes.block_rows, n)
    if block_sizes.batch_chunk is None or block_sizes.batch_chunk >= batch:
        return _forward_rows(x, w, threshold, sample_key, cell_key, nr)
    bc = block_sizes.batch_chunk
    xs, As = _chunked(x, sample_key, bc)
    y = lax.map(lambda args: _forward_rows(args[0], w, threshold, args[1], cell_key, nr), (xs, As))
    return y.reshape(-1, w.shape[1])[:batch]


def _dw_samples(x, g, threshold, sample_key, cell_key, nb):
    """dw (N, M) = sum_b x[b]^T g[b] * K_b: a scan over blocks of nb samples into an (N, M) total.

    Each sample's term where(K_b, x[b, :, None] * g[b, None, :], 0) is elementwise over
    (N, M), so, as in the forward, one step is one vectorised loop and no reduction op.
    """
    batch, n = x.shape
    m = g.shape[1]
    steps = -(-batch // nb)
    pad = steps * nb - batch
    # Padding samples carry x = g = 0, so their terms are zero whatever their masks.
    xs = jnp.pad(x, ((0, pad), (0, 0))).reshape(steps, nb, n)
    gs = jnp.pad(g, ((0, pad), (0, 0))).reshape(steps, nb, m)
    As = jnp.pad(sample_key, (0, pad)).reshape(steps, nb)

    def step(acc, block):
        xb, gb, ab = block
        for j in range(nb):
            keep = pbit_bits(ab[j], cell_key) < threshold
            acc = acc + jnp.where(keep, xb[j][:, None] * gb[j][None, :], 0.0)
        return acc, None

    dw, _ = lax.scan(step, jnp.zeros((n, m), jnp.float32), (xs, gs, As))
    return dw


def _backward_xla(x, w, threshold, sample_key, cell_key, g, block_sizes):
    """dx = g @ (w * K)^T per sample and dw = sum_b x_b^T g_b * K_b, masks regenerated.

    dx is the forward read of g through the transposed crossbar: K[b, n, m] is a function
    of (sample_key[b], cell_key[n, m]) only, so transposing the cell arrays gives the same
    masks. Memory O(B*N + B*M + N*M); each pass hashes every draw once.
    """
    dx = _forward_xla(g, w.T, threshold.T, sample_key, cell_key.T, block_sizes)
    dw = _dw_samples(x, g, threshold, sample_key, cell_key, min(block_sizes.block_rows, x.shape[0]))
    return dx, dw


# ----------------------------------------------------------------------------- public function


@functools.partial(jax.custom_vjp, nondiff_argnums=(5, 6, 7))
def _pbit_matmul(x, w, threshold, sample_key, cell_key, block_sizes, backend, interpret):
    if backend == "pallas":
        from cimjax.kernels._pbit_matmul_pallas import pbit_matmul_pallas

        return pbit_matmul_pallas(x, w, threshold, sample_key, cell_key, block_sizes=block_sizes, interpret=interpret)
    return _forward_xla(x, w, threshold, sample_key, cell_key, block_sizes)


def _pbit_matmul_fwd(x, w, threshold, sample_key, cell_key, block_sizes, backend, interpret):
    y = _pbit_matmul(x, w, threshold, sample_key, cell_key, block_sizes, backend, interpret)
    # Residuals are the inputs and counters only: the masks are regenerated in the backward pass.
    return y, (x, w, threshold, sample_key, cell_key)


def _pbit_matmul_bwd(block_sizes, backend, interpret, residuals, g):
    x, w, threshold, sample_key, cell_key = residuals
    # The backward pass runs on the XLA path for every backend: same hash, same masks.
    dx, dw = _backward_xla(x, w, threshold, sample_key, cell_key, g.astype(x.dtype), block_sizes)
    return dx, dw, None, None, None


_pbit_matmul.defvjp(_pbit_matmul_fwd, _pbit_matmul_bwd)


def pbit_matmul(x: jax.Array, w: jax.Array, threshold: jax.Array, sample_key: jax.Array, cell_key: jax.Array, *,
                block_sizes: BlockSizes | None = None, backend: str = "auto", interpret: bool = False) -> jax.Array:
    """Fused read y (B, M) = x @ (w * K) with K[b,n,m] = draw(sample_key[b], cell_key[n,m]) < threshold[n,m].

    Args:
      x: (B, N) float32 inputs (one row per input vector / sample).
      w: (N, M) float32 signed cell weights.
      threshold: (N, M) uint32 keep thresholds round(p * 2^31) (see `_hash.keep_threshold`).
      sample_key: (B,) uint32 per-sample keys (`_hash.sample_words`).
      cell_key: (N, M) uint32 per-cell keys (`_hash.cell_keys`).
      block_sizes: tiling; `BlockSizes.get_default()` when None.
      backend: "auto" (Pallas on GPU, XLA elsewhere), "xla" or "pallas".
      interpret: run the Pallas kernel in interpret mode (any platform; for tests).

    Returns:
      (B, M) float32. Differentiable w.r.t. x and w (custom VJP, masks regenerated).

    Raises:
      ConfigError: shapes or dtypes that do not match, unknown backend, Pallas on CPU
        without interpret.
    """
    backend = resolve_backend(backend, interpret)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ConfigError(f"x.shape={x.shape} and w.shape={w.shape} must be (B, N) and (N, M)")
    for name, arr, shape in (("threshold", threshold, w.shape), ("cell_key", cell_key, w.shape),
                             ("sample_key", sample_key, x.shape[:1])):
        if arr.shape != shape or arr.dtype != jnp.uint32:
            raise ConfigError(f"{name}.shape={arr.shape} dtype={arr.dtype} must be {shape} uint32")
    if x.dtype != jnp.float32 or w.dtype != jnp.float32:
        raise ConfigError(f"x.dtype={x.dtype} and w.dtype={w.dtype} must be float32")
    block_sizes = BlockSizes.get_default() if block_sizes is None else block_sizes
    return _pbit_matmul(x, w, threshold, sample_key, cell_key, block_sizes, backend, bool(interpret))
