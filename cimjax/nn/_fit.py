"""The training driver: chunks of jitted steps, progress, checkpoints and resume."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from cimjax.errors import ConfigError
from cimjax.nn._checkpoint import load_checkpoint, save_checkpoint
from cimjax.nn._train import (
    TrainConfig,
    TrainState,
    check_dataset,
    init_train_state,
    make_optimizer,
    make_train_chunk,
)

__all__ = ["fit", "run_config"]


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
) -> tuple[TrainState, np.ndarray]:
    """Trains `model` on (x, y) until `num_steps` total steps have been taken.

    Args:
      model: a flax module called as `model(x, sample_index=...)` (and with
        `method="moments"` for the "nll" loss).
      x, y: (n, N) and (n, D) training data, validated on the host first.
      config: `TrainConfig` (loss, batch size, learning rate, seed).
      num_steps: total optimiser steps; a state already at or past it is returned.
      state: start from this state instead of initialising (or resuming).
      tx: the optax optimiser (default `make_optimizer(config)`).
      chunk_steps: steps per jitted `lax.scan` (and between checkpoints).
      checkpoint: file to save to after every chunk; with `resume`, an existing
        file there is loaded first (it must come from the same configuration).
      progress: show a tqdm bar.
    Returns:
      (final state, losses of the steps taken in this call, as numpy).
    """
    x, y = check_dataset(x, y)
    if config.batch_size > x.shape[0]:
        raise ConfigError(f"batch_size={config.batch_size} must be <= the number of examples {x.shape[0]}")
    if int(num_steps) < 0 or int(chunk_steps) < 1:
        raise ConfigError(f"{num_steps=} must be >= 0 and {chunk_steps=} >= 1")
    tx_default = tx is None
    tx = tx or make_optimizer(config)
    described = run_config(model, config)
    if state is None:
        state = init_train_state(model, tx, x[:1], config.seed)
        if checkpoint is not None and resume and Path(checkpoint).exists():
            state = load_checkpoint(checkpoint, state, described)
            state = jax.tree.map(jnp.asarray, state)
    step_fn = _chunk_fn(model, tx, config, tx_default)
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    losses: list[np.ndarray] = []
    start = int(state.step)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=max(int(num_steps) - start, 0), desc=desc, unit="step", leave=False)
    while int(state.step) < num_steps:
        n = min(int(chunk_steps), int(num_steps) - int(state.step))
        state, chunk_losses = step_fn(state, xj, yj, n)
        losses.append(np.asarray(chunk_losses))
        if checkpoint is not None:
            save_checkpoint(checkpoint, state, described)
        if bar is not None:
            bar.update(n)
            bar.set_postfix(loss=f"{float(chunk_losses[-1]):.4g}")
    if bar is not None:
        bar.close()
    return state, (np.concatenate(losses) if losses else np.zeros((0,), np.float32))


def _chunk_fn(model: nn.Module, tx: optax.GradientTransformation, config: TrainConfig, tx_default: bool) -> Callable:
    if tx_default:
        try:
            return _default_chunk(model, config)
        except TypeError:  # an unhashable module attribute: build it afresh
            pass
    return make_train_chunk(model, tx, config)


@functools.lru_cache(maxsize=16)
def _default_chunk(model: nn.Module, config: TrainConfig) -> Callable:
    """The jitted chunk of `make_train_chunk` with the default optimiser, built once per
    (model, config): repeated or resumed `fit` calls reuse its compilations."""
    return make_train_chunk(model, make_optimizer(config), config)
