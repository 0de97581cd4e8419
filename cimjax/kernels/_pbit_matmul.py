"""Fused crossbar read with in-situ P-bit dropconnect: y = x @ (W * K), K never stored.

Each cell (n, m) of the crossbar keeps its signed weight in read b with probability
p_nm (its P-bit switched, Fig. 3c) and outputs zero otherwise, so one read is an
MC-dropconnect matrix-vector product::

    y[b, m] = sum_n x[b, n] * w[n, m] * K[b, n, m],   K[b, n, m] ~ Bernoulli(p[n, m])

K is a pure function of counters (see `_hash`): it is regenerated inside the product
and again in the backward pass, so memory stays O(B*M + N*M) and no mask is stored.
The rows are taken in pairs, the two cells of a pair sharing one 32-bit draw.

On the XLA path the forward walks the row pairs in blocks; each pair adds two
elementwise terms x[:, n] * where(u < t[n], w[n], 0) to an accumulator, which XLA:CPU
compiles to one vectorised loop per block (draw, select and masked multiply-add in
registers). Both rows of a pair add into the same output element, so one draw feeds
both. From 16 samples up the accumulator is held transposed, (M, B): the loop then
runs along the samples, so a block's inputs x stay in L1 while its cell arrays are
broadcast. The backward pass uses the same accumulate-don't-reduce form: dx walks the
columns into an (N, B) total and dw walks the samples, adding x[b]^T g[b] * K_b to an
(N, M) total. There the two cells of a pair land in different output elements, which
an XLA loop computes independently, so each cell draws its pair's word itself.

Layout (as the Pallas ops files of jax): the XLA path below, the Pallas GPU kernel in
`pbit_matmul_pallas.py`, `BlockSizes`, and the plain-jnp `*_reference` functions.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax

from cimjax.kernels._args import BlockSizes, check_read_args, resolve_backend
from cimjax.kernels._hash import (align_pairs, cell_uniforms, pair_uniforms, pair_word, row_keys,
                                  split_pairs)

# ----------------------------------------------------------------------------- references


def pbit_mask_reference(sample_key: jax.Array, pair_key: jax.Array, threshold: jax.Array,
                        row_offset: int = 0) -> jax.Array:
    """Materialised P-bit mask K (B, N, M) bool: True where the cell keeps its weight.

    The definition the fused paths must reproduce: cell (n, m) of sample b is kept when
    its 16-bit half of the pair draw h(a_b, P[(n + row_offset % 2) // 2, m]) is below
    threshold[n, m] (see `_hash`). One draw per cell, no pair shared: an oracle, not fast.
    """
    keys, shifts = row_keys(pair_key, threshold.shape[0], row_offset)
    return cell_uniforms(sample_key[:, None, None], keys[None], shifts[None]) < threshold[None]


def pbit_matmul_reference(x, w, threshold, sample_key, pair_key, row_offset: int = 0) -> jax.Array:
    """Plain-jnp read with the mask materialised: einsum('bn,bnm->bm', x, w * K). O(B*N*M) memory."""
    mask = pbit_mask_reference(sample_key, pair_key, threshold, row_offset)
    return jnp.einsum("bn,bnm->bm", x, jnp.where(mask, w[None, :, :], 0.0))


# ----------------------------------------------------------------------------- XLA path


# Independent accumulation chains per step, so a step is not bound by the FMA latency.
_CHAINS = 4


def _accumulate(acc, terms):
    """acc + the sum of the kept values of (keep, value) terms, dropped ones skipped.

    Term i goes to chain i % _CHAINS as select(keep, s + value, s), which XLA:CPU emits as
    one masked FMA per term on AVX-512; the chains are summed pairwise at the end.
    """
    sums = [acc] + [None] * (_CHAINS - 1)
    for i, (keep, value) in enumerate(terms):
        s = sums[i % _CHAINS]
        sums[i % _CHAINS] = jnp.where(keep, value, 0.0) if s is None else jnp.where(keep, s + value, s)
    sums = [s for s in sums if s is not None]
    while len(sums) > 1:
        sums = [sums[i] + sums[i + 1] if i + 1 < len(sums) else sums[i] for i in range(0, len(sums), 2)]
    return sums[0]


def _walk(terms, acc, blocks):
    """A scan over blocks, adding each block's kept terms to the accumulator."""
    return lax.scan(lambda acc, block: (_accumulate(acc, terms(block)), None), acc, blocks)[0]


def _blocks(arr, size, steps):
    """(K, ...) -> (steps, size, ...), zero-padded along K."""
    pad = steps * size - arr.shape[0]
    return jnp.pad(arr, ((0, pad),) + ((0, 0),) * (arr.ndim - 1)).reshape(steps, size, *arr.shape[1:])


def _chunked(x, a, bc):
    """Pads the batch to a multiple of bc and splits it into (steps, bc, ...) chunks."""
    steps = -(-x.shape[0] // bc)
    return _blocks(x, bc, steps), _blocks(a, bc, steps)


# Batches from these sizes on accumulate transposed, (cells, samples): the loop then runs
# along the samples with the cell arrays broadcast, which keeps a block's inputs in L1.
# Measured on a 2-core Xeon: the forward 1.3-1.8x faster from 16 samples up, the dx pass
# 1.2x at 256 and even at 64; smaller batches run along the cells.
_FORWARD_TRANSPOSE_MIN_BATCH = 16
_DX_TRANSPOSE_MIN_BATCH = 64


def _orientation(batch, min_batch):
    """(cell, sample, transposed): how a cell vector and a sample vector broadcast into the accumulator."""
    column, row = (lambda v: v[:, None]), (lambda v: v[None, :])
    return (column, row, True) if batch >= min_batch else (row, column, False)


def _forward_pairs(x, w, threshold, sample_key, pair_key, npairs):
    """y (B, M) of one batch chunk: a scan over blocks of npairs row pairs into an (M, B) total (or (B, M)).

    A pair's two terms x[:, n] * where(u < t[n], w[n], 0) are elementwise over (M, B) and
    add into the same element, so one step is a single vectorised loop that draws once
    per pair, selects and accumulates in registers; a reduction over rows inside one
    fused kernel is not vectorised by XLA:CPU.
    """
    batch = x.shape[0]
    pairs, m = pair_key.shape
    steps = -(-pairs // npairs)
    # Padding pairs carry x = 0 and threshold 0 (never kept), so they never change y.
    # One packed array per step (x halves; keys, thresholds and weights as uint32 words)
    # gives each step's slice many users, so XLA keeps it out of the loop it feeds.
    xs = _blocks(jnp.stack(split_pairs(x.T), axis=1), npairs, steps)
    we, wo = (lax.bitcast_convert_type(half, jnp.uint32) for half in split_pairs(w))
    cs = _blocks(jnp.stack([pair_key, *split_pairs(threshold), we, wo], axis=1), npairs, steps)
    cell, sample, transposed = _orientation(batch, _FORWARD_TRANSPOSE_MIN_BATCH)
    a = sample(sample_key)

    def terms(block):
        xb, cb = block
        for j in range(npairs):
            pk, te, to, we, wo = (cell(cb[j, i]) for i in range(5))
            we, wo = (lax.bitcast_convert_type(v, jnp.float32) for v in (we, wo))
            even, odd = pair_uniforms(pair_word(a, pk))
            yield even < te, sample(xb[j, 0]) * we
            yield odd < to, sample(xb[j, 1]) * wo

    if transposed:
        return _walk(terms, jnp.zeros((m, batch), jnp.float32), (xs, cs)).T
    return _walk(terms, jnp.zeros((batch, m), jnp.float32), (xs, cs))


def _batch_chunks(fn, x, sample_key, batch_chunk):
    """fn(x, sample_key) -> (B, K), run on chunks of batch_chunk samples (all at once when None)."""
    batch = x.shape[0]
    if batch_chunk is None or batch_chunk >= batch:
        return fn(x, sample_key)
    xs, As = _chunked(x, sample_key, batch_chunk)
    y = lax.map(lambda args: fn(*args), (xs, As))
    return y.reshape(-1, y.shape[-1])[:batch]


def _forward_xla(x, w, threshold, sample_key, pair_key, block_sizes):
    npairs = max(1, min(block_sizes.block_rows // 2, pair_key.shape[0]))
    return _batch_chunks(lambda x, a: _forward_pairs(x, w, threshold, a, pair_key, npairs), x, sample_key,
                         block_sizes.batch_chunk)


def _dx_columns(g, w, threshold, sample_key, pair_key, nc):
    """dx (B, N) = g @ (w * K)^T: a scan over blocks of nc columns into an (N, B) total (or (B, N)).

    Column m's term g[:, m] * where(K[:, :, m], w[:, m], 0) is elementwise over (N, B);
    the two rows of a pair are different elements here, so each cell draws its own word.
    """
    batch, m = g.shape
    n = w.shape[0]
    keys, shifts = row_keys(pair_key, n)
    steps = -(-m // nc)
    # Padding columns carry g = 0 and threshold 0, so they add nothing.
    gs, ws, ts, ks = (_blocks(arr.T, nc, steps) for arr in (g, w, threshold, keys))
    cell, sample, transposed = _orientation(batch, _DX_TRANSPOSE_MIN_BATCH)
    a, shifts = sample(sample_key), cell(shifts[:, 0])

    def terms(block):
        gb, wb, tb, kb = block
        for j in range(nc):
            yield cell_uniforms(a, cell(kb[j]), shifts) < cell(tb[j]), sample(gb[j]) * cell(wb[j])

    if transposed:
        return _walk(terms, jnp.zeros((n, batch), jnp.float32), (gs, ws, ts, ks)).T
    return _walk(terms, jnp.zeros((batch, n), jnp.float32), (gs, ws, ts, ks))


def _dw_samples(x, g, threshold, sample_key, pair_key, nb):
    """dw (N, M) = sum_b x[b]^T g[b] * K_b: a scan over blocks of nb samples into an (N, M) total.

    Each sample's term where(K_b, x[b, :, None] * g[b, None, :], 0) is elementwise over
    (N, M), so, as in the forward, one step is one vectorised loop and no reduction op.
    """
    batch, n = x.shape
    keys, shifts = row_keys(pair_key, n)
    steps = -(-batch // nb)
    # Padding samples carry x = g = 0, so their terms are zero whatever their masks.
    xs, gs, As = (_blocks(arr, nb, steps) for arr in (x, g, sample_key))

    def terms(block):
        xb, gb, ab = block
        for j in range(nb):
            yield cell_uniforms(ab[j], keys, shifts) < threshold, xb[j][:, None] * gb[j][None, :]

    return _walk(terms, jnp.zeros(threshold.shape, jnp.float32), (xs, gs, As))


def _backward_xla(x, w, threshold, sample_key, pair_key, g, block_sizes):
    """dx = g @ (w * K)^T and dw = sum_b x_b^T g_b * K_b, masks regenerated.

    Memory O(B*N + B*M + N*M); each pass draws every cell's word once.
    """
    nr = block_sizes.block_rows
    nc = min(nr, w.shape[1])
    dx = _batch_chunks(lambda g, a: _dx_columns(g, w, threshold, a, pair_key, nc), g, sample_key,
                       block_sizes.batch_chunk)
    dw = _dw_samples(x, g, threshold, sample_key, pair_key, min(nr, x.shape[0]))
    return dx, dw


# ----------------------------------------------------------------------------- public function


@functools.partial(jax.custom_vjp, nondiff_argnums=(5, 6, 7))
def _pbit_matmul(x, w, threshold, sample_key, pair_key, block_sizes, backend, interpret):
    if backend == "pallas":
        from cimjax.kernels._pbit_matmul_pallas import pallas_forward as _pallas_forward

        return _pallas_forward(x, w, threshold, sample_key, pair_key, block_sizes=block_sizes, interpret=interpret)
    return _forward_xla(x, w, threshold, sample_key, pair_key, block_sizes)


def _pbit_matmul_fwd(x, w, threshold, sample_key, pair_key, block_sizes, backend, interpret):
    y = _pbit_matmul(x, w, threshold, sample_key, pair_key, block_sizes, backend, interpret)
    # Residuals are the inputs and counters only: the masks are regenerated in the backward pass.
    return y, (x, w, threshold, sample_key, pair_key)


def _pbit_matmul_bwd(block_sizes, backend, interpret, residuals, g):
    x, w, threshold, sample_key, pair_key = residuals
    # The backward pass runs on the XLA path for every backend: same hash, same masks.
    dx, dw = _backward_xla(x, w, threshold, sample_key, pair_key, g.astype(x.dtype), block_sizes)
    return dx, dw, None, None, None


_pbit_matmul.defvjp(_pbit_matmul_fwd, _pbit_matmul_bwd)


def pbit_matmul(x: jax.Array, w: jax.Array, threshold: jax.Array, sample_key: jax.Array, pair_key: jax.Array, *,
                row_offset: int = 0, block_sizes: BlockSizes | None = None, backend: str = "auto",
                interpret: bool = False) -> jax.Array:
    """Fused read y (B, M) = x @ (w * K), K[b,n,m] = (16-bit uniform of cell (n, m) in sample b) < threshold[n,m].

    Args:
      x: (B, N) float32 inputs (one row per input vector / sample).
      w: (N, M) float32 signed cell weights.
      threshold: (N, M) uint32 keep thresholds round(p * 2^16) (see `_hash.keep_threshold`).
      sample_key: (B,) uint32 per-sample keys (`_hash.sample_words`).
      pair_key: (P, M) uint32 keys of the row pairs the N rows belong to
        (`_hash.pair_keys(seed, N, M, row_offset)`, P = `_hash.pair_count(N, row_offset)`).
      row_offset: index of row 0 within the crossbar; only its parity matters (a row
        block that starts at an odd row starts with the second cell of a pair).
      block_sizes: tiling; `BlockSizes.get_default()` when None.
      backend: "auto" (Pallas on GPU, XLA elsewhere), "xla" or "pallas".
      interpret: run the Pallas kernel in interpret mode (any platform; for tests).

    Returns:
      (B, M) float32. Differentiable w.r.t. x and w (custom VJP, masks regenerated).

    Raises:
      ConfigError: shapes or dtypes that do not match, a negative row_offset, unknown
        backend, Pallas on CPU without interpret.
    """
    backend = resolve_backend(backend, interpret)
    block_sizes = check_read_args(x, w, threshold, sample_key, pair_key, row_offset, block_sizes)
    # Outside the custom VJP: the pad's transpose slices the padding rows off dx and dw.
    x, w, threshold = align_pairs(x, w, threshold, row_offset)
    return _pbit_matmul(x, w, threshold, sample_key, pair_key, block_sizes, backend, bool(interpret))
