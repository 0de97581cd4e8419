"""The training loop: chunks of jitted steps, progress, checkpoints and resume.

`fit_loss` is cimjax's one loop: it minimises any loss of any parameters over
minibatches of a dataset. `fit` is that loop for a crossbar network trained with
one of `TrainConfig`'s losses. Step k sees the same batch and key however a run is
chunked, interrupted or resumed (`cimjax.nn._train`).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from cimjax.errors import CheckpointError, ConfigError
from jax.sharding import Mesh

from cimjax.nn._checkpoint import load_checkpoint, save_checkpoint
from cimjax.nn._sharding import batch_mesh, global_array, replicated
from cimjax.nn._train import (
    TrainConfig,
    TrainState,
    check_dataset,
    init_params,
    make_loss_fn,
    make_optimizer,
    make_train_chunk,
)

__all__ = ["fit", "fit_loss", "run_config"]


def run_config(model: nn.Module, config: TrainConfig) -> dict[str, Any]:
    """What a checkpoint's fingerprint covers: the network (with its crossbar and
    device configuration) and the training configuration."""
    return {"model": model, "train": config}


def fit(
    model: nn.Module,
    x: Any,
    y: Any,
    config: TrainConfig,
    num_steps: int,
    *,
    state: TrainState | None = None,
    tx: optax.GradientTransformation | None = None,
    chunk_steps: int = 250,
    checkpoint: str | Path | None = None,
    resume: bool = True,
    progress: bool = False,
    desc: str = "train",
    devices: Sequence[jax.Device] | None = None,
) -> tuple[TrainState, np.ndarray]:
    """Trains `model` on (x, y) with `config.loss` until `num_steps` total steps have been taken.

    `fit_loss` with the loss `make_loss_fn(model, config)`, the parameters of
    `init_params(model, x[:1], config.seed)` and the fingerprint `run_config(model, config)`.

    Args:
      model: a flax module called as `model(x, sample_index=...)` (and with
        `method="moments"` for the "nll" loss).
      x, y: (n, N) and (n, D) training data, validated on the host first.
      config, num_steps, state, tx, chunk_steps, progress, desc, devices: as in `fit_loss`.
      checkpoint: file to save to after every chunk; with `resume`, an existing
        file there is loaded first (it must come from the same model and config).
    Returns:
      (final state, losses of the steps taken in this call, as numpy).
    """
    x, y = check_dataset(x, y)
    params = state.params if state is not None else init_params(model, x[:1], config.seed)
    return fit_loss(_reuse(_batch_loss, model, config), params, (x, y), config, num_steps, state=state, tx=tx,
                    chunk_steps=chunk_steps, checkpoint=checkpoint, run_config=run_config(model, config),
                    resume=resume, progress=progress, desc=desc, devices=devices)


def fit_loss(
    loss: Callable[..., jax.Array],
    params: Any,
    data: Any,
    config: TrainConfig,
    num_steps: int,
    *,
    checkpoint: str | Path | None = None,
    run_config: Any = None,
    resume: bool = True,
    progress: bool = False,
    desc: str = "train",
    chunk_steps: int = 250,
    state: TrainState | None = None,
    tx: optax.GradientTransformation | None = None,
    devices: Sequence[jax.Device] | None = None,
) -> tuple[TrainState, np.ndarray]:
    """Minimises `loss` over minibatches of `data` until `num_steps` total steps have been taken.

    Step k trains on the examples `batch_indices(config.seed, k, n, batch_size)`
    (epoch-wise permutations) with the key `step_key(config.seed, k)`. Each batch is
    split over `devices` (default: every device of every process, in a
    `jax.distributed` run too), and the compiler reduces the gradients: the result is
    the one-device run's up to float rounding.

    Args:
      loss: loss(params, batch, sample_index (B,) uint32, key) -> scalar; `batch` is
        `data` at the step's examples, `sample_index` their indices in `data`.
      params: initial parameters (a pytree), unless `state` or a checkpoint is given.
      data: a pytree of arrays, each (n, ...) with the same n >= batch_size; checked
        on the host first (non-finite values named).
      config: `TrainConfig`: batch_size, learning_rate, seed, grad_clip, decay_steps.
      num_steps: total optimiser steps; a state already at or past it is returned.
      checkpoint: file to save the `TrainState` to after every chunk; with `resume`,
        an existing file there is loaded first and training continues from its step.
      run_config: what defines the run (required with `checkpoint`); its description
        and fingerprint are saved, and a checkpoint of another run is refused.
      progress: show a tqdm bar labelled `desc`.
      chunk_steps: steps per jitted `lax.scan` (and between checkpoints).
      state: start from this state instead of `params` (and no checkpoint is loaded).
      tx: the optax optimiser (default `make_optimizer(config)`).
      devices: the devices a batch is split over (default `jax.devices()`); one
        device trains without splitting.
    Returns:
      (final state, losses of the steps taken in this call, as numpy: empty when
      the state or checkpoint was already at `num_steps`).
    Raises:
      ConfigError: bad data or sizes, a batch size the devices do not divide, before
        any compute.
      CheckpointError: the checkpoint is unreadable or of another run (the differing
        fields named).
    """
    for name, value, low in (("num_steps", num_steps, 0), ("chunk_steps", chunk_steps, 1)):
        # a fractional count would never be reached: the loop would take 0-step chunks forever
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ConfigError(f"{name}={value!r} must be an integer >= {low}")
    data = _check_data(data, config.batch_size)
    if checkpoint is not None and Path(checkpoint).is_dir():
        raise CheckpointError(f"checkpoint={str(checkpoint)!r} is a folder; give a file path")
    if checkpoint is not None and run_config is None:
        raise ConfigError(f"checkpoint={str(checkpoint)!r} needs run_config, the description of what defines the run")
    tx = tx or _reuse(make_optimizer, config)
    if state is None:
        state = TrainState(jnp.zeros((), jnp.int32), params, tx.init(params))
        if checkpoint is not None and resume and Path(checkpoint).exists():
            state = jax.tree.map(jnp.asarray, load_checkpoint(checkpoint, state, run_config))
    mesh = _data_parallel_mesh(devices, config.batch_size)
    if mesh is not None:
        data = global_array(data, replicated(mesh))
        state = global_array(state, replicated(mesh))
    step_fn = _reuse(make_train_chunk, loss, tx, config, mesh)
    losses: list[np.ndarray] = []
    bar = None
    if progress and int(state.step) < num_steps:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(num_steps) - int(state.step), desc=desc, unit="step", leave=False)
    while int(state.step) < num_steps:
        n = min(int(chunk_steps), int(num_steps) - int(state.step))
        state, chunk_losses = step_fn(state, data, n)
        losses.append(np.asarray(chunk_losses))
        if checkpoint is not None:
            save_checkpoint(checkpoint, state, run_config)
        if bar is not None:
            bar.update(n)
            bar.set_postfix(loss=f"{float(chunk_losses[-1]):.4g}")
    if bar is not None:
        bar.close()
    return state, (np.concatenate(losses) if losses else np.zeros((0,), np.float32))


def _data_parallel_mesh(devices: Sequence[jax.Device] | None, batch_size: int) -> Mesh | None:
    """The batch mesh over `devices`, or None on one device."""
    devices = list(jax.devices() if devices is None else devices)
    if len(devices) == 1:
        return None
    if batch_size % len(devices):
        raise ConfigError(f"batch_size={batch_size} must be a multiple of the {len(devices)} devices a batch is "
                          "split over (or pass devices=...)")
    return batch_mesh(devices)


def _check_data(data: Any, batch_size: int) -> Any:
    """Host-side checks of a dataset pytree; returns it as jax arrays."""
    leaves = jax.tree_util.tree_flatten_with_path(data)[0]
    if not leaves:
        raise ConfigError("data holds no arrays")
    arrays = [(jax.tree_util.keystr(path), np.asarray(a)) for path, a in leaves]
    n = arrays[0][1].shape[0] if arrays[0][1].ndim else 0
    for name, a in arrays:
        if a.ndim == 0 or a.shape[0] != n:
            raise ConfigError(f"data{name} has shape {a.shape}: every array needs the leading example axis ({n})")
        if np.issubdtype(a.dtype, np.inexact) and not np.all(np.isfinite(a)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
            raise ConfigError(f"data{name} holds a non-finite value {a[bad]} at index {bad}")
    if batch_size > n:
        raise ConfigError(f"batch_size={batch_size} must be <= the number of examples {n}")
    return jax.tree.map(jnp.asarray, data)


def _batch_loss(model: nn.Module, config: TrainConfig) -> Callable[..., jax.Array]:
    """`make_loss_fn` in `fit_loss`'s form: the batch is (x, y)."""
    loss_fn = make_loss_fn(model, config)
    return lambda params, batch, sample_index, key: loss_fn(params, *batch, sample_index, key)


@functools.lru_cache(maxsize=32)
def _memoized(fn: Callable, *args: Any) -> Any:
    return fn(*args)


def _reuse(fn: Callable, *args: Any) -> Any:
    """fn(*args), built once per argument tuple, so that repeated or resumed calls
    reuse the jitted chunk's compilations (the jit cache keys on the function)."""
    try:
        return _memoized(fn, *args)
    except TypeError:  # an unhashable argument (a module attribute): build it afresh
        return fn(*args)
