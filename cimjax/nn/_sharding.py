"""One batch over every device: the mesh and the global arrays that training and sampling share.

A 1-D mesh named "batch" spans every device of every process (`jax.distributed`).
Host values every process holds in full become global arrays with `global_array`;
the batch axis is sharded and everything else replicated, so the compiler inserts
the reductions (a gradient's all-reduce) itself.
"""

from __future__ import annotations

from typing import Any, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["batch_mesh", "global_array", "replicated", "batch_sharded"]


def batch_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named 'batch' over `devices` (default: every device of every process)."""
    devices = list(jax.devices() if devices is None else devices)
    return Mesh(np.array(devices), ("batch",))


def replicated(mesh: Mesh) -> NamedSharding:
    """Every device holds the whole value."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharded(mesh: Mesh) -> NamedSharding:
    """The leading (batch) axis split over the mesh."""
    return NamedSharding(mesh, PartitionSpec("batch"))


def global_array(tree: Any, sharding: NamedSharding) -> Any:
    """A pytree of host values, which every process holds in full, as global arrays."""
    def one(value):
        value = np.asarray(value)
        return jax.make_array_from_callback(value.shape, sharding, lambda idx: value[idx])

    return jax.tree.map(one, tree)
