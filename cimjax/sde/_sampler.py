"""The reverse diffusion loop: one jitted `lax.scan`, the batch sharded over every device.

In a multi-process run (`jax.distributed`) the batch is one global array over every
process's devices; each process computes, and gets back, only the samples on its own
devices (`sample_reverse_local`).

Every random draw descends from the seed through `jax.random.fold_in`, in two
separate streams of root = key(seed):
* per sample: key_i = fold_in(fold_in(root, 0), i); sample i's prior draw uses
  fold_in(key_i, 0) and its step-k explicit noise fold_in(key_i, k + 1);
* per step: the crossbar read key of step k is fold_in(fold_in(root, 1), k), shared by
  the batch; the P-bit hash mixes in each sample's global index (`sample_index`).
So a sample does not depend on the batch it is drawn in, nor on how many devices share it.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from cimjax.errors import ConfigError
from cimjax.nn import batch_mesh, batch_sharded, global_array
from cimjax.nn import replicated as replicated_sharding
from cimjax.sde._sde import AbstractSDE
from cimjax.sde._steps import ReverseStep, StepRandomness

__all__ = ["sample_reverse", "sample_reverse_local", "sample_keys", "read_key", "prior_keys"]


def sample_keys(seed: jax.Array, indices: jax.Array) -> jax.Array:
    """Per-sample keys fold_in(fold_in(key(seed), 0), i) for global indices [B] -> key array [B]."""
    base = jax.random.fold_in(jax.random.key(seed), 0)
    return jax.vmap(lambda i: jax.random.fold_in(base, i))(indices)


def prior_keys(seed: jax.Array, indices: jax.Array) -> jax.Array:
    """Keys of the prior draws x_T of global indices [B]: fold_in(key_i, 0)."""
    return jax.vmap(lambda k: jax.random.fold_in(k, 0))(sample_keys(seed, indices))


def read_key(seed: jax.Array, step: jax.Array) -> jax.Array:
    """The crossbar read key of reverse step `step`: fold_in(fold_in(key(seed), 1), step)."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), 1), step)


INDEX_LIMIT = 2**32  # seeds and sample indices are uint32 (the keys' counter space)


def check_sample_range(seed: int, start: int = 0, count: int = 1) -> None:
    """`seed` and the indices start .. start + count - 1 within uint32, else a ConfigError naming them."""
    for name, value, low in (("seed", seed, 0), ("count", count, 1), ("start", start, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value < INDEX_LIMIT:
            raise ConfigError(f"{name}={value!r} must be an integer in [{low}, 2**32 - 1]")
    if start + count > INDEX_LIMIT:
        raise ConfigError(f"start + count = {start + count} exceeds 2**32 sample indices (uint32)")


@functools.lru_cache(maxsize=32)
def _compiled(step: ReverseStep, sde: AbstractSDE, n_steps: int, dim: int, mesh: Mesh):
    grid = sde.time_grid(n_steps)
    batch, replicated = batch_sharded(mesh), replicated_sharding(mesh)

    def run(params, seed, indices):
        keys = sample_keys(seed, indices)
        x = jax.vmap(lambda k: sde.prior_sample(jax.random.fold_in(k, 0), (dim,)))(keys)

        def body(x, k):
            t, dt = grid[k], grid[k + 1] - grid[k]
            step_keys = jax.vmap(lambda key: jax.random.fold_in(key, k + 1))(keys)
            rand = StepRandomness(step_keys, read_key(seed, k), indices)
            return step(params, x, t, dt, rand), None

        x, _ = jax.lax.scan(body, x, jnp.arange(n_steps))
        return x

    return jax.jit(run, in_shardings=(replicated, replicated, batch), out_shardings=batch), batch, replicated


def _check_step(step: Any, params: Any, sde: AbstractSDE, dim: int) -> None:
    """Traces one step on a 1-sample state (no compute): it must keep the state's shape and dtype,
    and a step built on an SDE must be built on `sde`. Traced once per step, SDE, dim and params' shapes."""
    leaves, treedef = jax.tree_util.tree_flatten(params)
    shapes = tuple((np.shape(a), str(jnp.result_type(a))) for a in leaves)
    _check_step_once(step, sde, dim, treedef, shapes)  # step and SDE are hashable: `_compiled` keys on them too


@functools.lru_cache(maxsize=64)
def _check_step_once(step, sde, dim, treedef, shapes) -> None:
    abstract = jax.tree_util.tree_unflatten(treedef, [jax.ShapeDtypeStruct(s, d) for s, d in shapes])
    _check_step_traced(step, abstract, sde, dim)


def _check_step_traced(step: Any, params: Any, sde: AbstractSDE, dim: int) -> None:
    if not isinstance(sde, AbstractSDE):
        raise ConfigError(f"sde={sde!r} must be an AbstractSDE (VPSDE, SubVPSDE, VESDE)")
    if not callable(step):
        raise ConfigError(f"step={step!r} must be a ReverseStep (ExSituStep, InSituStep)")
    own = getattr(step, "sde", None)
    # a subclass with the same parameters (e.g. another prior) counts as the same SDE
    if isinstance(own, AbstractSDE) and not (
            (isinstance(sde, type(own)) or isinstance(own, type(sde)))
            and all(getattr(own, f.name) == getattr(sde, f.name, None) for f in dataclasses.fields(own))):
        raise ConfigError(f"the step was built on {own!r} but sde={sde!r}: sample with the step's own SDE")
    x = jax.ShapeDtypeStruct((1, dim), jnp.float32)
    key = jax.random.key(0)
    rand = StepRandomness(jax.random.split(key, 1), key, jnp.zeros((1,), jnp.uint32))
    out = jax.eval_shape(lambda p, x: step(p, x, jnp.float32(sde.T), jnp.float32(-0.1), rand), params, x)
    if getattr(out, "shape", None) != x.shape or getattr(out, "dtype", None) != x.dtype:
        raise ConfigError(f"the step returned {getattr(out, 'shape', out)} {getattr(out, 'dtype', '')} for a state "
                          f"float32{list(x.shape)} (dim={dim}); it must return the next state, of the same shape "
                          "and dtype")


def sample_reverse_local(step: ReverseStep, params: Any, sde: AbstractSDE, *, n_steps: int, dim: int,
                         seed: int, start: int = 0, count: int,
                         mesh: Mesh | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The samples of global indices start .. start + count - 1 that this process computes.

    Every process of the run calls it with the same arguments (the batch is one global
    array); each gets back its own rows, so the processes together return every index
    once. In a single-process run that is all of them.

    Returns:
      (indices [k] int64, x_eps [k, dim] float32), sorted by index.
    Raises:
      ConfigError: `n_steps` < 1, `count` < 1, `start` < 0, `dim` < 1, or a seed or index
        outside uint32 (`check_sample_range`).
    """
    sde.time_grid(n_steps)  # validates n_steps before compiling anything
    check_sample_range(seed, start, count)
    if int(dim) != dim or dim < 1:
        raise ConfigError(f"dim={dim!r} must be an integer >= 1")
    _check_step(step, params, sde, int(dim))
    mesh = batch_mesh() if mesh is None else mesh
    n_dev = mesh.devices.size
    padded = -(-count // n_dev) * n_dev  # padded with the following indices, dropped below
    check_sample_range(seed, start, padded)
    fn, batch, replicated = _compiled(step, sde, int(n_steps), int(dim), mesh)
    indices = global_array(np.arange(start, start + padded, dtype=np.uint32), batch)
    params = global_array(params, replicated)
    out = fn(params, jnp.uint32(seed), indices)
    rows = sorted(((shard.index[0].start or 0, np.asarray(shard.data)) for shard in out.addressable_shards),
                  key=lambda r: r[0])
    local_idx = np.concatenate([start + lo + np.arange(len(x)) for lo, x in rows])
    local_x = np.concatenate([x for _, x in rows])
    keep = local_idx < start + count
    return local_idx[keep].astype(np.int64), local_x[keep]


def sample_reverse(step: ReverseStep, params: Any, sde: AbstractSDE, *, n_steps: int, dim: int,
                   seed: int, start: int = 0, count: int, mesh: Mesh | None = None) -> np.ndarray:
    """Samples x_eps for global indices start .. start + count - 1 by reverse Euler-Maruyama.

    The batch is sharded over `mesh` (default: every device); a count not divisible by
    the device count is padded with the following indices and trimmed. In a run of
    several processes use `sample_reverse_local`.

    Args:
      step: a `ReverseStep` (e.g. `ExSituStep`, `InSituStep`); hashable.
      params: the network parameters the step needs (replicated on every device).
      sde: the forward SDE; its prior gives x_T.
      n_steps: number of reverse steps from T to eps (>= 1).
      dim: dimension D of the state.
    Returns:
      float32 array [count, dim].
    Raises:
      ConfigError: `n_steps` < 1, `count` < 1, `start` < 0, `dim` < 1, a seed or index outside
        uint32 (`check_sample_range`); devices of other processes in `mesh`.
    """
    indices, x = sample_reverse_local(step, params, sde, n_steps=n_steps, dim=dim, seed=seed, start=start,
                                      count=count, mesh=mesh)
    if len(indices) != count:
        raise ConfigError(f"this process holds {len(indices)} of the {count} samples (a multi-process run); "
                          "use sample_reverse_local, which returns each process's own samples")
    return x
