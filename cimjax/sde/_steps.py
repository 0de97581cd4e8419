"""One reverse-SDE step as a pluggable function: the seam between samplers and networks.

A `ReverseStep` maps one sample's state to the next, x_{t+dt} (dt < 0), given its own
PRNG key. The sampler vmaps it over the batch, so every random draw a step makes
belongs to one sample, and batch size or sharding never changes a sample.

* `ExSituStep` (Fig. 21, ex-situ P-bit): a deterministic network gives the score, the
  probability-flow drift is computed from it, and the diffusion noise is injected from
  an explicit `NoiseSource`:  x' = x + [f - g^2 s] dt + g sqrt(|dt|) z.
* `InSituStep` (Fig. 21, in-situ P-bit): one stochastic pass of an MC-dropconnect
  network gives the whole differential:  x' = x + net(params, x, t, dt, key, p); no noise
  is drawn outside the network (its P-bits are the only randomness).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Protocol

import jax
import jax.numpy as jnp

from cimjax.sde._noise import NoiseSource, StandardNormal
from cimjax.sde._sde import AbstractSDE, reverse_drift

__all__ = ["KeepProbSchedule", "ReverseStep", "ScoreFn", "StochasticNetFn", "ExSituStep", "InSituStep"]


class ScoreFn(Protocol):
    """Deterministic score network, one sample: (params, x [D], t []) -> score [D]."""

    def __call__(self, params: Any, x: jax.Array, t: jax.Array) -> jax.Array: ...


class StochasticNetFn(Protocol):
    """Stochastic (MC-dropconnect) network, one sample and one pass.

    (params, x [D], t [], dt [] < 0, key, keep_prob) -> dx [D], the step's whole
    differential, drift and noise. `key` drives every P-bit of this pass; `keep_prob`
    is the P-bits' conduction probability (set by the write pulse, P_sw(V), Fig. 12).
    Deterministic input/output scaling inside the function is allowed (it is the
    periphery's gain); random draws other than the P-bits are not.
    """

    def __call__(self, params: Any, x: jax.Array, t: jax.Array, dt: jax.Array, key: jax.Array,
                 keep_prob: Any) -> jax.Array: ...


class ReverseStep(Protocol):
    """One reverse step for one sample: (params, x [D], t [], dt [] < 0, key) -> x_next [D]."""

    def __call__(self, params: Any, x: jax.Array, t: jax.Array, dt: jax.Array, key: jax.Array) -> jax.Array: ...


@dataclasses.dataclass(frozen=True)
class ExSituStep:
    """Euler-Maruyama step with explicitly injected noise (the ex-situ P-bit scheme)."""

    sde: AbstractSDE
    score_fn: ScoreFn
    noise: NoiseSource = StandardNormal()

    def mean_and_std(self, params, x, t, dt):
        """Moments of the Gaussian transition: (mean [D], std []), both exact."""
        score = self.score_fn(params, x, t)
        mean = x + reverse_drift(self.sde, x, t, score) * dt
        return mean, self.sde.diffusion(t) * jnp.sqrt(jnp.abs(dt))

    def __call__(self, params, x, t, dt, key):
        mean, std = self.mean_and_std(params, x, t, dt)
        return mean + std * self.noise.sample(key, x.shape)

    def random_bits_per_step(self, dim: int) -> int:
        """Random bits drawn (and transferred to the array) per sample per step."""
        return dim * self.noise.bits_per_gaussian


def read_gain(sde: AbstractSDE, t: jax.Array, dt: jax.Array) -> jax.Array:
    """c(t) = g(t) sqrt(|dt|): the reverse step's noise scale (std of the ex-situ transition)."""
    return sde.diffusion(t) * jnp.sqrt(jnp.abs(dt))


@dataclasses.dataclass(frozen=True)
class KeepProbSchedule:
    """P-bit keep probability per reverse step, a write-voltage schedule: t -> p (linear interpolation).

    `times` increasing; hashable (tuples) so a step holding it can key a jit cache.
    """

    times: tuple[float, ...]
    probs: tuple[float, ...]

    def __post_init__(self):
        if len(self.times) != len(self.probs) or len(self.times) < 1:
            raise ValueError(f"{len(self.times)=} must equal {len(self.probs)=} and be >= 1")
        if any(not 0.0 < p <= 1.0 for p in self.probs):
            raise ValueError(f"keep probabilities must be in (0, 1], got {min(self.probs)=}, {max(self.probs)=}")

    def __call__(self, t):
        return jnp.interp(t, jnp.asarray(self.times, jnp.float32), jnp.asarray(self.probs, jnp.float32))


@dataclasses.dataclass(frozen=True)
class InSituStep:
    """x' = x + net(x, t, dt, key): drift and noise from one stochastic pass.

    `keep_prob` is a float (static; 0.5 is the 50% switching point of Fig. 12, the
    maximum-entropy P-bit) or a callable t -> keep probability, a write-voltage schedule.
    The network must be trained for this step size (see `cimjax.demo.insitu`).
    """

    sde: AbstractSDE
    net_fn: StochasticNetFn
    keep_prob: float | Callable[[jax.Array], jax.Array] = 0.5

    def __call__(self, params, x, t, dt, key):
        p = self.keep_prob(t) if callable(self.keep_prob) else self.keep_prob
        return x + self.net_fn(params, x, t, dt, key, p)
