"""Pallas GPU kernel of the fused P-bit read: same counters, same hash, bit-identical masks.

Each program owns a (block_b samples x block_m columns) output tile and walks the
crossbar rows in steps of block_n, regenerating its slice of the mask on the fly::

    acc[b, m] += sum_n x[b, n] * where(draw(a_b, c_nm) < t_nm, w[n, m], 0)

so a program's live data is O(block_b * block_n * block_m) and no mask reaches HBM.
Tested on CPU with `interpret=True`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import pallas as pl

from cimjax.kernels._hash import pbit_bits


def pbit_matmul_kernel(a_ref, x_ref, c_ref, t_ref, w_ref, o_ref, *, block_n: int, n_steps: int):
    """One output tile: a_ref (bb,), x_ref (bb, N), c/t/w_ref (N, bm), o_ref (bb, bm)."""
    a = a_ref[...]

    def body(i, acc):
        rows = pl.ds(pl.multiple_of(i * block_n, block_n), block_n)
        xs = x_ref[:, rows]
        keep = pbit_bits(a[:, None, None], c_ref[rows, :][None, :, :]) < t_ref[rows, :][None, :, :]
        contrib = jnp.where(keep, xs[:, :, None] * w_ref[rows, :][None, :, :], 0.0)
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


@functools.partial(jax.jit, static_argnames=("block_sizes", "interpret"))
def pbit_matmul_pallas(x, w, threshold, sample_key, cell_key, *, block_sizes, interpret: bool = False):
    """Forward read on the Pallas kernel; arguments as `pbit_matmul`. Returns (B, M) float32."""
    batch, n = x.shape
    m = w.shape[1]
    bb, bm, bn = block_sizes.block_b, block_sizes.block_m, block_sizes.block_n
    # Padding rows carry x = 0 and padding columns are sliced off, so they never change y.
    x = _pad_to(_pad_to(x, 0, bb), 1, bn)
    a = _pad_to(sample_key, 0, bb)
    c, t, w = (_pad_to(_pad_to(arr, 0, bn), 1, bm) for arr in (cell_key, threshold, w))
    bp, np_ = x.shape
    mp = w.shape[1]
    kernel = functools.partial(pbit_matmul_kernel, block_n=bn, n_steps=np_ // bn)
    out = pl.pallas_call(
        kernel,
        out_shape=jax.ShapeDtypeStruct((bp, mp), jnp.float32),
        grid=(bp // bb, mp // bm),
        in_specs=[
            pl.BlockSpec((bb,), lambda i, j: (i,)),
            pl.BlockSpec((bb, np_), lambda i, j: (i, 0)),
            pl.BlockSpec((np_, bm), lambda i, j: (0, j)),
            pl.BlockSpec((np_, bm), lambda i, j: (0, j)),
            pl.BlockSpec((np_, bm), lambda i, j: (0, j)),
        ],
        out_specs=pl.BlockSpec((bb, bm), lambda i, j: (i, j)),
        interpret=interpret,
    )(a, x, c, t, w)
    return out[:batch, :m]
