"""Pallas GPU kernel of the fused P-bit read: same counters, same hash, bit-identical masks.

Each program owns a (block_b samples x block_m columns) output tile and walks the
crossbar's row pairs in steps of block_n // 2, regenerating its slice of the mask on
the fly, one draw per (sample, pair, column) for both cells of the pair::

    acc[b, m] += sum_j xe[b, j] * where(u_even < te[j, m], we[j, m], 0)
               + xo[b, j] * where(u_odd < to[j, m], wo[j, m], 0)

where e / o are the even and odd rows. A program's live data is
O(block_b * block_n * block_m) and no mask reaches HBM. Tested on CPU with
`interpret=True`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import pallas as pl

from cimjax.kernels._args import check_read_args, resolve_backend
from cimjax.kernels._hash import align_pairs, pair_uniforms, pair_word, split_pairs


def pbit_matmul_kernel(a_ref, xe_ref, xo_ref, p_ref, te_ref, to_ref, we_ref, wo_ref, o_ref, *, block_pairs: int,
                       n_steps: int):
    """One output tile: a_ref (bb,), xe/xo_ref (bb, P), p/te/to/we/wo_ref (P, bm), o_ref (bb, bm)."""
    a = a_ref[...]

    def body(i, acc):
        pairs = pl.ds(pl.multiple_of(i * block_pairs, block_pairs), block_pairs)
        even, odd = pair_uniforms(pair_word(a[:, None, None], p_ref[pairs, :][None, :, :]))
        contrib = (jnp.where(even < te_ref[pairs, :][None], xe_ref[:, pairs][:, :, None] * we_ref[pairs, :][None], 0.0)
                   + jnp.where(odd < to_ref[pairs, :][None], xo_ref[:, pairs][:, :, None] * wo_ref[pairs, :][None],
                               0.0))
        return acc + jnp.sum(contrib, axis=1)

    acc = lax.fori_loop(0, n_steps, body, jnp.zeros(o_ref.shape, jnp.float32))
    o_ref[...] = acc.astype(o_ref.dtype)


def _pad_to(arr, axis, multiple):
    size = arr.shape[axis]
    pad = -size % multiple
    if pad == 0:
        return arr
    widths = [(0, 0)] * arr.ndim
    widths[axis] = (0, pad)
    return jnp.pad(arr, widths)


def pbit_matmul_pallas(x, w, threshold, sample_key, pair_key, *, block_sizes=None, interpret: bool = False,
                       row_offset: int = 0):
    """Forward read on the Pallas kernel; arguments as `pbit_matmul`. Returns (B, M) float32.

    Raises:
      ConfigError: as `pbit_matmul` (shapes, dtypes, block sizes), or a CPU without `interpret`.
    """
    resolve_backend("pallas", interpret)
    block_sizes = check_read_args(x, w, threshold, sample_key, pair_key, row_offset, block_sizes)
    return pallas_forward(x, w, threshold, sample_key, pair_key, block_sizes=block_sizes, interpret=bool(interpret),
                          row_offset=row_offset)


@functools.partial(jax.jit, static_argnames=("block_sizes", "interpret", "row_offset"))
def pallas_forward(x, w, threshold, sample_key, pair_key, *, block_sizes, interpret: bool = False,
                   row_offset: int = 0):
    """`pbit_matmul_pallas` without the checks (the internal call, after `pbit_matmul`'s)."""
    batch = x.shape[0]
    m = w.shape[1]
    bb, bm = block_sizes.block_b, block_sizes.block_m
    bp = max(1, block_sizes.block_n // 2)
    x, w, threshold = align_pairs(x, w, threshold, row_offset)
    # Padding pairs carry x = 0 and threshold 0, padding columns are sliced off: they never change y.
    xe, xo = (_pad_to(_pad_to(half.T, 0, bb), 1, bp) for half in split_pairs(x.T))
    a = _pad_to(sample_key, 0, bb)
    cells = (pair_key, *split_pairs(threshold), *split_pairs(w))
    cells = [_pad_to(_pad_to(arr, 0, bp), 1, bm) for arr in cells]
    bpad, pairs = xe.shape
    mp = cells[0].shape[1]
    kernel = functools.partial(pbit_matmul_kernel, block_pairs=bp, n_steps=pairs // bp)
    samples = pl.BlockSpec((bb, pairs), lambda i, j: (i, 0))
    columns = pl.BlockSpec((pairs, bm), lambda i, j: (0, j))
    out = pl.pallas_call(
        kernel,
        out_shape=jax.ShapeDtypeStruct((bpad, mp), jnp.float32),
        grid=(bpad // bb, mp // bm),
        in_specs=[pl.BlockSpec((bb,), lambda i, j: (i,)), samples, samples] + [columns] * 5,
        out_specs=pl.BlockSpec((bb, bm), lambda i, j: (i, j)),
        interpret=interpret,
    )(a, xe, xo, *cells)
    return out[:batch, :m]
