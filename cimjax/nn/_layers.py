"""Flax layers whose matrix products run on the emulated stochastic crossbar.

`CrossbarDense` is one crossbar array (Fig. 20) used as a dense layer: the weights
are programmed into probabilistic differential pairs (data-bit + P-bit, Fig. 3b/c)
through the configured mapping and periphery, and each read writes every P-bit
with the configured pulse so that each cell is kept with probability
p = P_sw(V, t) (MC dropconnect, Fig. 22b). The bias is added digitally in the
periphery. With the P-bits held fixed (`deterministic=True`) the same layer and
weights form the paper's ANN (Fig. 22a).

Scale convention. The array itself does not rescale by 1/p: a stochastic read
has mean p x W. The layer multiplies the column outputs by a digital periphery
gain 1/p (`rescale=True`; a one-bit shift at p = 1/2), so the ANN (all cells
kept) and the MC-dropconnect model have the same expected output with the same
weights, and the two share weights fairly. p is the configuration's nominal keep
probability (P_sw(V, t) of the nominal device; with device-to-device spread,
Fig. 13, the cells scatter around it and training absorbs the difference).

`CrossbarMLP` stacks them, with optional sinusoidal time and condition inputs for
the score network of the diffusion demo and a per-layer choice of which layers
carry active P-bits.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from cimjax.errors import ConfigError
import cimjax.nn._engine as _engine

__all__ = ["CrossbarDense", "sinusoidal_embedding"]


def _check_finite(x: Any, name: str) -> None:
    """Host check for NaN/inf when `x` is concrete (skipped under jit/grad tracing)."""
    if isinstance(x, jax.core.Tracer):
        return
    arr = np.asarray(x)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ConfigError(f"{name} holds a non-finite value {arr[bad]} at index {bad}")


def _check_keep_prob(keep_prob: float | None, owner: str) -> None:
    if keep_prob is None:
        return
    try:
        kp = float(keep_prob)
    except (TypeError, ValueError):
        raise ConfigError(f"{owner}: {keep_prob=} must be one number in (0, 1]") from None
    if not (0.0 < kp <= 1.0):  # also rejects NaN
        raise ConfigError(f"{owner}: {keep_prob=} must be in (0, 1]")


def _is_pulse(pulse: Any) -> bool:
    """Whether `pulse` is a (voltage, width) pair of finite numbers > 0."""
    try:
        return len(pulse) == 2 and all(0 < float(v) < math.inf for v in pulse)
    except (TypeError, ValueError):
        return False


class CrossbarDense(nn.Module):
    """A dense layer computed by one read of a stochastic crossbar, plus a digital bias.

    Attributes:
      features: output width M.
      config: the `CrossbarConfig` (mapping, periphery, tile, P-bit mode); None
        for the engine's default.
      keep_prob: keep probability p of every cell's P-bit, in (0, 1]; overrides the
        configuration's. Give this or `pulse`, or neither to use the configuration.
      pulse: (voltage [V], width [s]) of the P-bit write pulse; p = P_sw(V, t) from
        the configuration's device curve (Figs. 11-12).
      stochastic: False holds this layer's P-bits fixed always.
      deterministic: used when the call's `deterministic` is None; True holds the
        P-bits fixed (the ANN). Periphery noise, if configured, still applies.
      rescale: apply the digital gain 1/p to stochastic reads (see module doc).
      use_bias: add a digital bias.
      in_features: expected input width N, checked on every call (else inferred
        at init and checked against the kernel afterwards).
    """

    features: int
    config: Any = None
    keep_prob: float | None = None
    pulse: tuple[float, float] | None = None
    stochastic: bool = True
    deterministic: bool = False
    rescale: bool = True
    use_bias: bool = True
    in_features: int | None = None
    kernel_init: Callable = nn.initializers.lecun_normal()
    bias_init: Callable = nn.initializers.zeros_init()

    def __post_init__(self) -> None:
        owner = f"CrossbarDense(features={self.features})"
        if not isinstance(self.features, (int, np.integer)) or self.features < 1:
            raise ConfigError(f"{owner}: features={self.features!r} must be a positive int")
        _check_keep_prob(self.keep_prob, owner)
        if self.keep_prob is not None and self.pulse is not None:
            raise ConfigError(f"{owner}: give keep_prob={self.keep_prob} or pulse={self.pulse}, not both")
        if self.pulse is not None and not _is_pulse(self.pulse):
            raise ConfigError(f"{owner}: pulse={self.pulse!r} must be (voltage > 0, width > 0), both finite")
        if self.in_features is not None and self.in_features < 1:
            raise ConfigError(f"{owner}: in_features={self.in_features!r} must be >= 1")
        super().__post_init__()

    # -- helpers -----------------------------------------------------------------

    def _pbit_config(self) -> Any:
        """The configuration with this layer's P-bit pulse or keep probability applied."""
        return _engine.with_pbit(_engine.resolve_config(self.config), keep_prob=self.keep_prob, pulse=self.pulse)

    def _kernel(self, x: jax.Array) -> jax.Array:
        if x.ndim != 2:
            raise ConfigError(f"CrossbarDense {self.name}: x must be 2-D (batch, features), got shape {x.shape}")
        got = x.shape[-1]
        expected = self.in_features
        if expected is None and self.has_variable("params", "kernel"):
            expected = self.get_variable("params", "kernel").shape[0]
        if expected is not None and got != expected:
            raise ConfigError(f"CrossbarDense {self.name}: input width {got} != expected {expected}")
        _check_finite(x, f"CrossbarDense {self.name} input x")
        return self.param("kernel", self.kernel_init, (got, self.features), jnp.float32)

    def _bias(self) -> jax.Array:
        if not self.use_bias:
            return jnp.zeros((self.features,), jnp.float32)
        return self.param("bias", self.bias_init, (self.features,), jnp.float32)

    def _key(self, deterministic: bool) -> jax.Array:
        if self.has_rng("pbit"):
            return self.make_rng("pbit")
        if deterministic:
            # P-bits fixed and no "pbit" stream given: any periphery noise repeats identically
            return jax.random.key(0)
        raise ConfigError(f"CrossbarDense {self.name}: a stochastic read needs rngs={{'pbit': key}} in apply")

    def _is_deterministic(self, deterministic: bool | None) -> bool:
        return (not self.stochastic) or bool(self.deterministic if deterministic is None else deterministic)

    # -- forward passes ------------------------------------------------------------

    @nn.compact
    def __call__(self, x: jax.Array, *, deterministic: bool | None = None,
                 sample_index: jax.Array | None = None, return_moments: bool = False) -> Any:
        """One read. x: (B, N) -> (B, M). sample_index: (B,) uint32 global sample ids.

        With `return_moments`, returns `moments(x)` instead: (mean, var), each (B, M).
        """
        kernel = self._kernel(x)
        bias = self._bias()
        det = self._is_deterministic(deterministic)
        config = self._pbit_config()
        key = self._key(det or return_moments)
        fixed_config = _engine.fixed_pbits(config)
        if return_moments:
            return self._moments(x, kernel, bias, key, config, fixed_config, det, sample_index)
        if det:
            y = _engine.read(x, kernel, key, fixed_config, sample_index=sample_index)
        else:
            if self.rescale:
                kernel = _engine.direction_compensated(kernel, config)
            y = _engine.read(x, kernel, key, config, sample_index=sample_index)
            if self.rescale:
                y = y / _engine.nominal_keep_prob(config)
        return y + bias[None, :]

    def moments(self, x: jax.Array, *, sample_index: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
        """Mean and variance of the output over this layer's P-bits, for a given input.

        Each cell is kept independently with its own keep probability, so the read's
        mean and variance have the closed form of `crossbar_moments` (mapping,
        programming, P_sw spread, DAC, read noise and ADC rounding included; ADC
        clipping left out), used by the Gaussian NLL loss. With gain g (1/p with
        `rescale`, else 1): mean = g E[read] + b, var = g^2 Var[read]. A
        deterministic layer returns one read with the P-bits fixed and zero variance.
        x: (B, N) -> two (B, M).
        """
        return self(x, sample_index=sample_index, return_moments=True)

    def _moments(self, x, kernel, bias, key, config, fixed_config, det, sample_index):
        if det:
            fixed = _engine.read(x, kernel, key, fixed_config, sample_index=sample_index)
            return fixed + bias[None, :], jnp.zeros_like(fixed)
        if self.rescale:
            kernel = _engine.direction_compensated(kernel, config)
        mean, var = _engine.read_moments(x, kernel, config)
        gain = 1.0 / _engine.nominal_keep_prob(config) if self.rescale else 1.0
        return gain * mean + bias[None, :], (gain * gain) * var


def sinusoidal_embedding(t: jax.Array, dim: int, *, max_freq: float = 100.0) -> jax.Array:
    """Sinusoidal features of a scalar time per example: [sin(w_k t), cos(w_k t)].

    The dim/2 angular frequencies w_k are log-spaced from 1 to `max_freq` (inclusive),
    so diffusion time t in [0, 1] is resolved from the slowest to the fastest feature
    (assumption: 100 resolves a 100-step reverse grid).

    Args:
      t: (B,) or (B, 1) times.  dim: even embedding width.
    Returns:
      (B, dim) float32.
    """
    if dim < 2 or dim % 2:
        raise ConfigError(f"time embedding {dim=} must be an even number >= 2")
    t = jnp.reshape(jnp.asarray(t, jnp.float32), (-1, 1))
    freqs = jnp.exp(jnp.linspace(0.0, math.log(max_freq), dim // 2))
    angles = t * freqs[None, :]
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)
