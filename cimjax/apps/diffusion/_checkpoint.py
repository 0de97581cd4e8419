"""Checkpoints of the demo's networks: parameters plus the configuration that made them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax
import numpy as np
from flax import serialization

from cimjax.errors import CheckpointError
from cimjax._io import write_bytes_atomic
from cimjax.apps.diffusion._config import config_diff

__all__ = ["save_checkpoint", "load_checkpoint"]


def save_checkpoint(path: str | os.PathLike, params: Any, config: dict[str, Any], extra: dict | None = None) -> None:
    """Writes params (a pytree of arrays), `config` and `extra` arrays atomically as msgpack."""
    payload = {"config": dict(config), "params": jax.tree_util.tree_map(np.asarray, params),
               "extra": {k: np.asarray(v) for k, v in (extra or {}).items()}}
    write_bytes_atomic(path, serialization.msgpack_serialize(payload))


def load_checkpoint(path: str | os.PathLike, expected_config: dict[str, Any]) -> tuple[Any, dict]:
    """(params, extra) from `path`, after checking it was made with `expected_config`.

    Raises:
      CheckpointError: the file is unreadable, or was written for another configuration
        (the message lists each differing key, stored -> wanted).
    """
    path = Path(path)
    try:
        payload = serialization.msgpack_restore(path.read_bytes())
        stored = payload["config"]
    except Exception as err:  # corrupt or foreign file
        raise CheckpointError(f"{path}: not a cimjax demo checkpoint ({err})") from None
    diff = config_diff(stored, dict(expected_config))
    if diff:
        raise CheckpointError(f"{path}: checkpoint of another configuration; differs in " + "; ".join(diff)
                         + ". Delete it or use another --cache folder to retrain.")
    return payload["params"], payload.get("extra", {})
