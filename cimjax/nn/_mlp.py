"""`CrossbarMLP`: a multilayer perceptron whose every layer is a crossbar read.

The same module is the paper's ANN (`deterministic=True`, P-bits held fixed,
Fig. 22a) and its MC-dropconnect Bayesian network (P-bits written each read,
Fig. 22b), so the two can share weights for a fair comparison. Optional inputs
for the score network of the diffusion demo (Fig. 21): a diffusion time `t`,
embedded sinusoidally, and a condition vector `cond`, both concatenated to `x`
before the first layer (the first array simply has more rows).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from cimjax.errors import ConfigError
from cimjax.nn._layers import CrossbarDense, _check_finite, _check_keep_prob, sinusoidal_embedding

__all__ = ["CrossbarMLP"]


class CrossbarMLP(nn.Module):
    """An MLP of `CrossbarDense` layers with activations between them (none after the last).

    Attributes:
      features: widths of the layers, the last being the output width.
      config: `CrossbarConfig` shared by every layer (None: the engine default), or a
        tuple with one per layer (say, an ADC range fitted to each layer's fan-in).
      keep_prob, pulse: the P-bit keep probability or write pulse (V, t), as in
        `CrossbarDense`; None uses the configuration's.
      stochastic_layers: one bool per layer, True where the layer's P-bits are
        written each read (None: every layer stochastic).
      activation: the nonlinearity (digital periphery), default ReLU.
      deterministic: used when the call's `deterministic` is None (True: the ANN).
      rescale: digital 1/p gain on stochastic reads (see `CrossbarDense`).
      in_features: expected width of `x` (checked on every call; else inferred).
      time_embedding_dim: width of the sinusoidal embedding of `t` (0: no time input).
      cond_features: width of `cond` (0: no condition input).
    """

    features: Sequence[int]
    config: Any = None
    keep_prob: float | None = None
    pulse: tuple[float, float] | None = None
    stochastic_layers: Sequence[bool] | None = None
    activation: Callable[[jax.Array], jax.Array] = nn.relu
    deterministic: bool = False
    rescale: bool = True
    in_features: int | None = None
    time_embedding_dim: int = 0
    cond_features: int = 0

    def __post_init__(self) -> None:
        owner = f"CrossbarMLP(features={tuple(self.features)})"
        if len(self.features) == 0 or not all(isinstance(f, (int, np.integer)) and f >= 1 for f in self.features):
            raise ConfigError(f"{owner}: features={self.features!r} must be a non-empty sequence of positive ints")
        _check_keep_prob(self.keep_prob, owner)
        if isinstance(self.config, (tuple, list)) and len(self.config) != len(self.features):
            raise ConfigError(f"{owner}: config has {len(self.config)} entries; a per-layer config needs one per "
                             f"layer ({len(self.features)})")
        if self.stochastic_layers is not None and len(self.stochastic_layers) != len(self.features):
            raise ConfigError(f"{owner}: stochastic_layers={self.stochastic_layers!r} needs one bool per layer "
                             f"({len(self.features)})")
        if self.time_embedding_dim < 0 or self.time_embedding_dim % 2:
            raise ConfigError(f"{owner}: time_embedding_dim={self.time_embedding_dim} must be 0 or a positive even int")
        if self.cond_features < 0:
            raise ConfigError(f"{owner}: cond_features={self.cond_features} must be >= 0")
        super().__post_init__()

    def _inputs(self, x: jax.Array, t: jax.Array | None, cond: jax.Array | None) -> jax.Array:
        """Validates x, t and cond (widths named expected vs got) and concatenates them."""
        if x.ndim != 2:
            raise ConfigError(f"CrossbarMLP: x must be 2-D (batch, features), got shape {x.shape}")
        expected = self.in_features
        if expected is None and self.has_variable("params", "layer_0"):
            rows = self.get_variable("params", "layer_0")["kernel"].shape[0]
            expected = rows - self.time_embedding_dim - self.cond_features
        if expected is not None and x.shape[-1] != expected:
            raise ConfigError(f"CrossbarMLP: input width {x.shape[-1]} != expected {expected}")
        _check_finite(x, "CrossbarMLP input x")
        parts = [x]
        if self.time_embedding_dim:
            if t is None:
                raise ConfigError("CrossbarMLP: time_embedding_dim > 0 needs a time t of shape (batch,)")
            if jnp.size(t) != x.shape[0]:
                raise ConfigError(f"CrossbarMLP: t has {jnp.size(t)} entries, expected one per example ({x.shape[0]})")
            _check_finite(t, "CrossbarMLP time t")
            parts.append(sinusoidal_embedding(t, self.time_embedding_dim))
        elif t is not None:
            raise ConfigError("CrossbarMLP: got a time t but time_embedding_dim=0")
        if self.cond_features:
            if cond is None or cond.ndim != 2 or cond.shape != (x.shape[0], self.cond_features):
                got = None if cond is None else cond.shape
                raise ConfigError(f"CrossbarMLP: cond shape {got} != expected {(x.shape[0], self.cond_features)}")
            _check_finite(cond, "CrossbarMLP condition cond")
            parts.append(cond.astype(jnp.float32))
        elif cond is not None:
            raise ConfigError("CrossbarMLP: got a condition cond but cond_features=0")
        return jnp.concatenate(parts, axis=-1) if len(parts) > 1 else x

    @nn.compact
    def __call__(self, x: jax.Array, t: jax.Array | None = None, cond: jax.Array | None = None, *,
                 deterministic: bool | None = None, sample_index: jax.Array | None = None,
                 return_moments: bool = False) -> Any:
        """Forward pass. x: (B, N), t: (B,), cond: (B, C) -> (B, features[-1]).

        sample_index: (B,) uint32 global sample ids passed to every read. With
        `return_moments`, returns (mean, var) of the output over the last layer's
        P-bits (the hidden layers run one pass as usual); see `moments`.
        """
        det = self.deterministic if deterministic is None else bool(deterministic)
        h = self._inputs(x, t, cond)
        stochastic = self.stochastic_layers or (True,) * len(self.features)
        n = len(self.features)
        for i, (width, stoch) in enumerate(zip(self.features, stochastic)):
            config = self.config[i] if isinstance(self.config, (tuple, list)) else self.config
            layer = CrossbarDense(width, config=config, keep_prob=self.keep_prob, pulse=self.pulse,
                                  stochastic=bool(stoch), rescale=self.rescale, name=f"layer_{i}")
            if i == n - 1:
                return layer(h, deterministic=det, sample_index=sample_index, return_moments=return_moments)
            h = self.activation(layer(h, deterministic=det, sample_index=sample_index))
        raise AssertionError("unreachable: features is non-empty")

    def moments(self, x: jax.Array, t: jax.Array | None = None, cond: jax.Array | None = None, *,
                deterministic: bool | None = None, sample_index: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
        """Moment-matched output (mean, var), each (B, features[-1]).

        The last layer's mean and variance over its P-bits are computed in closed
        form (`CrossbarDense.moments`) given one stochastic pass through the hidden
        layers; the variance the hidden layers' P-bits add is not included, so this
        is exact when only the last layer is stochastic and an approximation
        otherwise (used by the Gaussian NLL loss).
        """
        return self(x, t, cond, deterministic=deterministic, sample_index=sample_index, return_moments=True)
