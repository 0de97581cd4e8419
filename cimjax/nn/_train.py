"""Hardware-aware training of crossbar networks with optax.

Every forward pass in training runs on the emulated crossbar (mapping, periphery,
P-bit dropconnect in the configured mode), so the network learns weights that
work on the hardware. Randomness descends from one seed:

- the P-bit key of step k is `fold_in(fold_in(key(seed), PBIT), k)`;
- the data order of epoch e is `permutation(fold_in(fold_in(key(seed), DATA), e))`;
- the initial parameters come from `fold_in(key(seed), INIT)`.

Step k therefore sees the same batch and the same masks however training is
chunked, interrupted or resumed, so a resumed run continues the same trajectory.
The whole chunk of steps runs as one jitted `lax.scan`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jax.sharding import Mesh

from cimjax.errors import ConfigError
from cimjax.nn._sharding import batch_sharded
from cimjax.nn._losses import dawid_sebastiani_score, energy_score, gaussian_nll, mse

__all__ = [
    "TrainConfig",
    "TrainState",
    "LOSSES",
    "check_dataset",
    "step_key",
    "batch_indices",
    "make_optimizer",
    "make_loss_fn",
    "init_train_state",
    "init_params",
    "make_train_chunk",
]

LOSSES = ("mse", "nll", "energy", "dss")
# stream tags folded into the seed key so the three uses never share a key
_INIT, _PBIT, _DATA = 0, 1, 2


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Training hyper-parameters (hashable; static under jit).

    loss: the loss of `fit` (ignored by `fit_loss`, which is given its loss):
      "mse" (one stochastic pass, or the deterministic ANN), "nll" (Gaussian NLL
      of the moment-matched output, `module.moments`), "energy" (energy score
      from `num_samples` stochastic passes) or "dss" (Dawid-Sebastiani score of
      the passes' sample mean and variance).
    num_samples: stochastic passes per example for "energy" (>= 2) and "dss" (>= 4).
    learning_rate, batch_size, seed: as named; `grad_clip` is the global-norm clip
      (None for none); `decay_steps` the length of a cosine learning-rate decay to
      `decay_floor` times the rate (None: constant rate).
    """

    loss: str = "energy"
    num_samples: int = 8  # assumption: 8 passes keep the energy-score gradient's variance low at small cost
    learning_rate: float = 3e-3  # assumption: Adam's usual step for small MLPs
    batch_size: int = 128
    seed: int = 0
    grad_clip: float | None = 1.0  # assumption: guards the early, noisy dropconnect steps
    decay_steps: int | None = None  # cosine decay of the learning rate over this many steps
    decay_floor: float = 0.1  # assumption: the decay ends at a tenth of learning_rate

    def __post_init__(self) -> None:
        for name in ("num_samples", "batch_size", "decay_steps"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
                raise ConfigError(f"{name}={value!r} must be an integer")
        for name in ("learning_rate", "grad_clip", "decay_floor"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float, np.number))
                                      or not np.isfinite(value)):
                raise ConfigError(f"{name}={value!r} must be a finite number")
        if self.loss not in LOSSES:
            raise ConfigError(f"loss={self.loss!r} is not one of {LOSSES}")
        if self.loss == "energy" and self.num_samples < 2:
            raise ConfigError(f"num_samples={self.num_samples} must be >= 2 for the energy score")
        if self.loss == "dss" and self.num_samples < 4:
            raise ConfigError(f"num_samples={self.num_samples} must be >= 4 for the Dawid-Sebastiani score")
        if self.num_samples < 1:
            raise ConfigError(f"num_samples={self.num_samples} must be >= 1")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate={self.learning_rate} must be > 0")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size={self.batch_size} must be >= 1")
        if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool):
            raise ConfigError(f"seed={self.seed!r} must be an int")
        if not -(2**63) <= self.seed < 2**63:  # jax.random.key takes a 64-bit seed
            raise ConfigError(f"seed={self.seed!r} must be in [-2**63, 2**63)")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise ConfigError(f"grad_clip={self.grad_clip} must be > 0 or None")
        if self.decay_steps is not None and self.decay_steps < 1:
            raise ConfigError(f"decay_steps={self.decay_steps} must be >= 1 or None")
        if not 0.0 <= self.decay_floor <= 1.0:
            raise ConfigError(f"decay_floor={self.decay_floor} must be in [0, 1]")


class TrainState(NamedTuple):
    """The PyTree a training run carries and checkpoints: step, params, opt_state."""

    step: jax.Array  # int32 scalar: steps taken so far
    params: Any
    opt_state: Any


def check_dataset(x: Any, y: Any, *, name: str = "data") -> tuple[np.ndarray, np.ndarray]:
    """Host-side validation of a training set before any compute.

    Args:
      x: (n, N) inputs; y: (n, D) targets.
    Returns:
      float32 numpy copies.
    Raises:
      ConfigError: wrong rank, mismatched lengths, or a NaN/inf (its index named).
    """
    arrays = []
    for label, arr in (("x", x), ("y", y)):
        try:
            arrays.append(np.asarray(arr, dtype=np.float32))
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{name} {label} must be an array of numbers: {err}") from None
    x, y = arrays
    for label, arr in (("x", x), ("y", y)):
        if arr.ndim != 2:
            raise ConfigError(f"{name} {label} must be 2-D (examples, features), got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
            raise ConfigError(f"{name} {label} holds a non-finite value {arr[bad]} at index {bad}")
    if x.shape[0] != y.shape[0]:
        raise ConfigError(f"{name}: x has {x.shape[0]} examples but y has {y.shape[0]}")
    if x.shape[0] == 0:
        raise ConfigError(f"{name} is empty")
    return x, y


def step_key(seed: int, step: jax.Array) -> jax.Array:
    """The P-bit key of training step `step` (independent of chunking)."""
    return jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), _PBIT), step)


def batch_indices(seed: int, step: jax.Array, n: int, batch_size: int) -> jax.Array:
    """Example indices of step `step`: epoch-wise permutations, last partial batch dropped.

    Returns (batch_size,) int32. `batch_size` must be <= n.
    """
    per_epoch = n // batch_size
    epoch, pos = step // per_epoch, step % per_epoch
    key = jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), _DATA), epoch)
    perm = jax.random.permutation(key, n)
    return jax.lax.dynamic_slice_in_dim(perm, pos * batch_size, batch_size)


def make_optimizer(config: TrainConfig) -> optax.GradientTransformation:
    """Adam (cosine-decayed rate if `decay_steps`), after an optional global-norm clip."""
    rate = config.learning_rate
    if config.decay_steps is not None:
        rate = optax.cosine_decay_schedule(rate, config.decay_steps, alpha=config.decay_floor)
    adam = optax.adam(rate)
    if config.grad_clip is None:
        return adam
    return optax.chain(optax.clip_by_global_norm(config.grad_clip), adam)


def make_loss_fn(model: nn.Module, config: TrainConfig) -> Callable[..., jax.Array]:
    """loss(params, x (B, N), y (B, D), sample_index (B,) uint32, key) -> scalar.

    `sample_index` is the examples' global ids, passed to every crossbar read so an
    example's masks do not depend on which batch it lands in.
    """

    def apply(params, x, idx, key):
        return model.apply({"params": params}, x, sample_index=idx, rngs={"pbit": key})

    if config.loss == "mse":
        def loss(params, x, y, idx, key):
            return mse(apply(params, x, idx, key), y)
    elif config.loss == "nll":
        def loss(params, x, y, idx, key):
            mean, var = model.apply(
                {"params": params}, x, sample_index=idx, rngs={"pbit": key}, method="moments"
            )
            return gaussian_nll(mean, var, y)
    else:
        score = energy_score if config.loss == "energy" else dawid_sebastiani_score

        def loss(params, x, y, idx, key):
            keys = jax.random.split(key, config.num_samples)
            samples = jax.vmap(lambda k: apply(params, x, idx, k))(keys)  # (S, B, D)
            return score(samples, y)
    return loss


def init_train_state(
    model: nn.Module, tx: optax.GradientTransformation, x_example: jax.Array, seed: int
) -> TrainState:
    """Initial parameters (from `fold_in(key(seed), INIT)`) and optimiser state."""
    params = init_params(model, x_example, seed)
    return TrainState(jnp.zeros((), jnp.int32), params, tx.init(params))


def init_params(model: nn.Module, x_example: jax.Array, seed: int) -> Any:
    """A network's initial parameters, from `fold_in(key(seed), INIT)`."""
    k = jax.random.fold_in(jax.random.key(seed), _INIT)
    k_params, k_pbit = jax.random.split(k)
    # jitted: one compilation instead of one per op (the values are bit-identical)
    return jax.jit(model.init)({"params": k_params, "pbit": k_pbit}, jnp.asarray(x_example))["params"]


def make_train_chunk(
    loss: Callable[..., jax.Array], tx: optax.GradientTransformation, config: TrainConfig,
    mesh: Mesh | None = None,
) -> Callable[[TrainState, Any, int], tuple[TrainState, jax.Array]]:
    """A jitted fn(state, data, num_steps) -> (state, losses (num_steps,)).

    `loss(params, batch, sample_index (B,) uint32, key) -> scalar`; `data` is a pytree
    of arrays with a leading example axis of length n, and `batch` the same pytree at
    the step's examples. Runs `num_steps` optimiser steps as one `lax.scan`; step k
    uses `batch_indices(seed, k, n, batch_size)` and `step_key(seed, k)`.

    With a `mesh`, each step's batch is split over its devices (data parallel): the
    parameters stay replicated and the compiler reduces the gradients. A step's
    examples and keys are the same as on one device, so only float rounding differs.
    """
    grad_fn = jax.value_and_grad(loss)
    split = (lambda tree: tree) if mesh is None else (
        lambda tree: jax.lax.with_sharding_constraint(tree, batch_sharded(mesh)))

    def one_step(state: TrainState, data: Any) -> tuple[TrainState, jax.Array]:
        n = jax.tree.leaves(data)[0].shape[0]
        idx = split(batch_indices(config.seed, state.step, n, config.batch_size))
        batch = split(jax.tree.map(lambda a: jnp.take(a, idx, axis=0), data))
        value, grads = grad_fn(state.params, batch, idx.astype(jnp.uint32), step_key(config.seed, state.step))
        updates, opt_state = tx.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        return TrainState(state.step + 1, params, opt_state), value

    def chunk(state: TrainState, data: Any, num_steps: int) -> tuple[TrainState, jax.Array]:
        return jax.lax.scan(lambda s, _: one_step(s, data), state, None, length=num_steps)

    return jax.jit(chunk, static_argnums=2)
