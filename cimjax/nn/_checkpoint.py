"""Checkpoints of a training run: params, optimiser state, step and configuration.

One msgpack file (flax.serialization) written atomically through cimjax._io. It
stores the `TrainState` and a JSON description of everything that defines the
run (the network, its crossbar and device configuration, the training
configuration) with its SHA-256 fingerprint. Loading under another
configuration raises an `CheckpointError` that names each field that differs, so a
checkpoint is never silently reused for a different network or crossbar.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import flax.linen as nn
import flax.serialization as serialization
import jax
import numpy as np

from cimjax.errors import CheckpointError
from cimjax._io import write_bytes_atomic
from cimjax.nn._train import TrainState

__all__ = ["describe", "config_fingerprint", "save_checkpoint", "load_checkpoint", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "cimjax-train-checkpoint"
CHECKPOINT_VERSION = 1


def describe(obj: Any) -> Any:
    """A JSON-able description of a configuration object.

    Frozen dataclasses (crossbar, device, training configs) and flax modules become
    dicts of their fields (a module's `parent` and `name` are skipped); tuples
    become lists; numpy scalars and arrays become numbers and lists; callables
    (activations) become their qualified names.
    """
    if isinstance(obj, nn.Module):
        return {"__class__": type(obj).__name__, **{
            f.name: describe(getattr(obj, f.name))
            for f in dataclasses.fields(obj) if f.name not in ("parent", "name")
        }}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__class__": type(obj).__name__,
                **{f.name: describe(getattr(obj, f.name)) for f in dataclasses.fields(obj)}}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Mapping):
        return {str(k): describe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [describe(v) for v in obj]
    if isinstance(obj, (np.generic,)):
        return obj.item()
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
        return np.asarray(obj).tolist()
    if isinstance(obj, float) and not np.isfinite(obj):
        return repr(obj)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if callable(obj):
        return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"
    return repr(obj)


def config_fingerprint(config: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `describe(config)`."""
    text = json.dumps(describe(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(d, dict):
        out: dict[str, Any] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: d}


def _differences(saved: Any, current: Any) -> list[str]:
    a, b = _flatten(saved), _flatten(current)
    missing = object()
    return [f"{k}: checkpoint has {a.get(k, '<absent>')!r}, this run has {b.get(k, '<absent>')!r}"
            for k in sorted(set(a) | set(b)) if a.get(k, missing) != b.get(k, missing)]


def save_checkpoint(path: str | os.PathLike, state: TrainState, config: Any) -> str:
    """Writes `state` and `config`'s description atomically; returns the fingerprint."""
    if Path(path).is_dir():
        raise CheckpointError(f"checkpoint {str(path)!r} is a folder; give a file path")
    described = describe(config)
    fingerprint = config_fingerprint(config)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "fingerprint": fingerprint,
        "config": json.dumps(described, sort_keys=True),
        "state": serialization.to_state_dict(state),
    }
    write_bytes_atomic(path, serialization.msgpack_serialize(payload))
    return fingerprint


def load_checkpoint(path: str | os.PathLike, template: TrainState, config: Any) -> TrainState:
    """Restores a `TrainState` saved under the same configuration.

    Args:
      path: the checkpoint file.
      template: a `TrainState` of the right structure (e.g. `init_train_state`).
      config: the current run's configuration, as given to `save_checkpoint`.
    Raises:
      CheckpointError: missing or malformed file, another format or version, or a
        configuration that differs (every differing field named).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"checkpoint {str(path)!r} cannot be read: {err.strerror}") from None
    try:
        payload = serialization.msgpack_restore(raw)
    except Exception as err:  # msgpack raises several unrelated types on garbage
        raise CheckpointError(f"checkpoint {str(path)!r} is not a cimjax checkpoint ({type(err).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"checkpoint {str(path)!r} is not a cimjax checkpoint (format field missing)")
    if payload.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"checkpoint {str(path)!r} has version={payload.get('version')!r}, expected {CHECKPOINT_VERSION}")
    if payload.get("fingerprint") != config_fingerprint(config):
        diffs = _differences(json.loads(payload["config"]), describe(config))
        raise CheckpointError(f"checkpoint {str(path)!r} was saved with another configuration: "
                         + "; ".join(diffs or ["fingerprints differ"]))
    try:
        state = serialization.from_state_dict(template, payload["state"])
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"checkpoint {str(path)!r} does not match the network's structure: {err}") from None
    # from_state_dict takes any array at a matching path: check every leaf's shape against the template
    wrong = [f"{jax.tree_util.keystr(p)}: checkpoint has {np.shape(a)}, this run has {np.shape(b)}"
             for (p, a), b in zip(jax.tree_util.tree_flatten_with_path(state)[0], jax.tree.leaves(template))
             if np.shape(a) != np.shape(b)]
    if wrong:
        raise CheckpointError(f"checkpoint {str(path)!r} does not match the network's shapes: " + "; ".join(wrong))
    return state
