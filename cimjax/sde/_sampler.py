"""The reverse diffusion loop: one jitted `lax.scan`, batch sharded over local devices.

Every random draw descends from the seed through `jax.random.fold_in`, in two
separate streams of root = key(seed):
* per sample: key_i = fold_in(fold_in(root, 0), i); sample i's prior draw uses
  fold_in(key_i, 0) and its step-k explicit noise fold_in(key_i, k + 1);
* per step: the crossbar read key of step k is fold_in(fold_in(root, 1), k), shared by
  the batch; the P-bit hash mixes in each sample's global index (`sample_index`).
So a sample does not depend on the batch it is drawn in, nor on how many devices share it.
"""

from __future__ import annotations

import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from cimjax.errors import ConfigError
from cimjax.sde._sde import AbstractSDE
from cimjax.sde._steps import ReverseStep, StepRandomness

__all__ = ["sample_reverse", "sample_keys", "read_key", "prior_keys", "batch_mesh"]


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


def batch_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named 'batch' over `devices` (default: all local devices)."""
    devices = list(jax.local_devices() if devices is None else devices)
    return Mesh(np.array(devices), ("batch",))


@functools.lru_cache(maxsize=32)
def _compiled(step: ReverseStep, sde: AbstractSDE, n_steps: int, dim: int, mesh: Mesh):
    grid = sde.time_grid(n_steps)
    batch = NamedSharding(mesh, PartitionSpec("batch"))
    replicated = NamedSharding(mesh, PartitionSpec())

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


def sample_reverse(step: ReverseStep, params: Any, sde: AbstractSDE, *, n_steps: int, dim: int,
                   seed: int, start: int = 0, count: int, mesh: Mesh | None = None) -> np.ndarray:
    """Samples x_eps for global indices start .. start + count - 1 by reverse Euler-Maruyama.

    The batch is sharded over `mesh` (default: all local devices); a count not divisible
    by the device count is padded with the following indices and trimmed.

    Args:
      step: a `ReverseStep` (e.g. `ExSituStep`, `InSituStep`); hashable.
      params: the network parameters the step needs (replicated on every device).
      sde: the forward SDE; its prior gives x_T.
      n_steps: number of reverse steps from T to eps (>= 1).
      dim: dimension D of the state.
    Returns:
      float32 array [count, dim].
    Raises:
      ConfigError: `n_steps` < 1, `count` < 1, `start` < 0 or `dim` < 1.
    """
    sde.time_grid(n_steps)  # validates n_steps before compiling anything
    for name, value, low in (("count", count, 1), ("start", start, 0), ("dim", dim, 1)):
        if int(value) != value or value < low:
            raise ConfigError(f"{name}={value!r} must be an integer >= {low}")
    mesh = batch_mesh() if mesh is None else mesh
    fn, batch, replicated = _compiled(step, sde, int(n_steps), int(dim), mesh)
    n_dev = mesh.devices.size
    padded = -(-count // n_dev) * n_dev
    indices = jax.device_put(np.arange(start, start + padded, dtype=np.uint32), batch)
    params = jax.device_put(params, replicated)
    out = fn(params, jnp.uint32(seed), indices)
    return np.asarray(out)[:count]
