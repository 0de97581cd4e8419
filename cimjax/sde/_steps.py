"""One reverse-SDE step over a batch: the seam between the sampler and the networks.

A `ReverseStep` maps a batch of states to the next, x_{t+dt} (dt < 0), given the
step's `StepRandomness`: per-sample keys (for noise drawn outside the array) and one
read key per step plus the global sample ids (for the crossbar's P-bits, whose mask
depends only on (read key, sample id, row, column)). Either way a sample's draws depend
on the seed, its global index and the step only, so batch size and sharding never
change a sample.

* `ExSituStep` (Fig. 21, ex-situ P-bit): a deterministic network (P-bits held fixed)
  gives the score, the reverse drift is computed from it, and the diffusion noise is
  injected from an explicit `NoiseSource`:  x' = x + [f - g^2 s] dt + g sqrt(|dt|) z.
* `InSituStep` (Fig. 21, in-situ P-bit): one stochastic crossbar pass of an
  MC-dropconnect network gives the whole differential:  x' = x + net(x, t, dt; P-bits);
  no noise is drawn outside the array (the crossbar's P-bits are the only randomness).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp

from cimjax.errors import ConfigError
from cimjax.sde._noise import NoiseSource, StandardNormal
from cimjax.sde._sde import AbstractSDE, reverse_drift

__all__ = ["StepRandomness", "ReverseStep", "ScoreFn", "StochasticNetFn", "ExSituStep", "InSituStep", "read_gain"]


class StepRandomness(NamedTuple):
    """Where one step's random draws come from.

    Attributes:
      sample_keys: [B] per-sample keys of this step (explicit noise, one key per sample).
      read_key: [] one key for every crossbar read of this step (P-bits).
      sample_index: [B] uint32 global sample ids (the P-bit hash's sample counter).
    """

    sample_keys: jax.Array
    read_key: jax.Array
    sample_index: jax.Array


class ScoreFn(Protocol):
    """Deterministic score network: (params, x [B, D], t [], sample_index [B], read_key) -> score [B, D].

    `read_key` (None: a fixed one) draws the reads' periphery noise; the P-bits stay fixed.
    """

    def __call__(self, params: Any, x: jax.Array, t: jax.Array, sample_index: jax.Array,
                 read_key: jax.Array | None = None) -> jax.Array: ...


class StochasticNetFn(Protocol):
    """Stochastic (MC-dropconnect) crossbar network, one pass over a batch.

    (params, x [B, D], t [], dt [] < 0, read_key, sample_index [B]) -> dx [B, D], the
    step's whole differential, drift and noise. `read_key` and `sample_index` drive every
    P-bit of the pass. Deterministic scaling inside the function is allowed (the
    periphery's gain); random draws other than the crossbar's P-bits are not.
    """

    def __call__(self, params: Any, x: jax.Array, t: jax.Array, dt: jax.Array, read_key: jax.Array,
                 sample_index: jax.Array) -> jax.Array: ...


class ReverseStep(Protocol):
    """One reverse step: (params, x [B, D], t [], dt [] < 0, StepRandomness) -> x_next [B, D]."""

    def __call__(self, params: Any, x: jax.Array, t: jax.Array, dt: jax.Array, rand: StepRandomness) -> jax.Array: ...


def _check_like(where: str, out: jax.Array, x: jax.Array) -> jax.Array:
    """`out` must have x's shape: a (B, 1) or (D,) result would broadcast silently into x."""
    if jnp.shape(out) != x.shape:
        raise ConfigError(f"{where} returned shape {jnp.shape(out)}; it must be the state's {x.shape}")
    return out


def _check_parts(owner: str, sde: Any, fn: Any, fn_name: str) -> None:
    if not isinstance(sde, AbstractSDE):
        raise ConfigError(f"{owner}: sde={sde!r} must be an AbstractSDE (VPSDE, SubVPSDE, VESDE)")
    if not callable(fn):
        raise ConfigError(f"{owner}: {fn_name}={fn!r} must be callable")


def read_gain(sde: AbstractSDE, t: jax.Array, dt: jax.Array) -> jax.Array:
    """c(t) = g(t) sqrt(|dt|): the reverse step's noise scale (std of the ex-situ transition)."""
    return sde.diffusion(t) * jnp.sqrt(jnp.abs(dt))


@dataclasses.dataclass(frozen=True)
class ExSituStep:
    """Euler-Maruyama step with explicitly injected noise (the ex-situ P-bit scheme)."""

    sde: AbstractSDE
    score_fn: ScoreFn
    noise: NoiseSource = StandardNormal()

    def __post_init__(self):
        _check_parts("ExSituStep", self.sde, self.score_fn, "score_fn")
        if not callable(getattr(self.noise, "sample", None)) or not hasattr(self.noise, "bits_per_gaussian"):
            raise ConfigError(f"ExSituStep: noise={self.noise!r} must be a NoiseSource (StandardNormal, "
                              "PbitBitstreamNormal)")

    def mean_and_std(self, params, x, t, dt, sample_index, read_key=None):
        """Moments of the Gaussian transition: (mean [B, D], std []), exact given the reads' periphery noise."""
        score = _check_like("ExSituStep: score_fn", self.score_fn(params, x, t, sample_index, read_key), x)
        mean = x + reverse_drift(self.sde, x, t, score) * dt
        return mean, read_gain(self.sde, t, dt)

    def mean_reads(self, params, x, t, dt, sample_index, read_keys: jax.Array) -> jax.Array:
        """The transition mean of one read per key of `read_keys` [R]: [R, B, D].

        With read noise the mean is itself random; their average is the mean the sampler
        sees on average, and their spread its read-to-read variance.
        """
        return jax.vmap(lambda k: self.mean_and_std(params, x, t, dt, sample_index, k)[0])(read_keys)

    def __call__(self, params, x, t, dt, rand: StepRandomness):
        mean, std = self.mean_and_std(params, x, t, dt, rand.sample_index, rand.read_key)
        z = jax.vmap(lambda k: self.noise.sample(k, x.shape[1:]))(rand.sample_keys)
        return mean + std * z

    def random_bits_per_step(self, dim: int) -> int:
        """Random bits drawn (and transferred to the array) per sample per step."""
        return dim * self.noise.bits_per_gaussian


@dataclasses.dataclass(frozen=True)
class InSituStep:
    """x' = x + net(x, t, dt; P-bits): drift and noise from one stochastic crossbar pass.

    The network holds its crossbar configuration (P-bit mode and write pulse, hence the
    keep probability); it must be trained for the sampler's step size.
    """

    sde: AbstractSDE
    net_fn: StochasticNetFn

    def __post_init__(self):
        _check_parts("InSituStep", self.sde, self.net_fn, "net_fn")

    def __call__(self, params, x, t, dt, rand: StepRandomness):
        return x + _check_like("InSituStep: net_fn", self.net_fn(params, x, t, dt, rand.read_key, rand.sample_index), x)
