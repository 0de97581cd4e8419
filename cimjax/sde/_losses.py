"""Training losses for score and stochastic networks: denoising score matching, energy score."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from cimjax.sde._sde import AbstractSDE
from cimjax.errors import ConfigError

__all__ = ["dsm_loss", "energy_score"]


def dsm_loss(eps_fn: Callable, params, sde: AbstractSDE, x0: jax.Array, key: jax.Array) -> jax.Array:
    """Denoising score matching in the noise-prediction form (Ho et al. 2020; Song et al. 2021).

    x_t = a(t) x0 + sigma(t) z with t ~ U(eps, T); the network predicts z, and the score
    is -z_hat / sigma(t). Equals DSM with weighting lambda(t) = sigma(t)^2.

    Args:
      eps_fn: (params, x [B, D], t [B]) -> z_hat [B, D].
      x0: data [B, D].
    Returns: scalar mean squared error.
    """
    k_t, k_z = jax.random.split(key)
    t = jax.random.uniform(k_t, (x0.shape[0],), minval=sde.eps, maxval=sde.T)
    z = jax.random.normal(k_z, x0.shape)
    mean, std = jax.vmap(sde.marginal)(x0, t)
    xt = mean + std[:, None] * z
    return jnp.mean(jnp.sum(jnp.square(eps_fn(params, xt, t) - z), axis=-1))


def energy_score(samples: jax.Array, target: jax.Array) -> jax.Array:
    """Energy score of an ensemble against one observation (Gneiting & Raftery 2007, eq. 22).

    ES = mean_m ||X_m - y|| - 1/(2 M (M - 1)) sum_{m != m'} ||X_m - X_m'||, a strictly
    proper scoring rule: its expectation over y ~ Q is minimised only by the forecast
    distribution P = Q, so it trains spread as well as mean.

    Args:
      samples: [M, D], M >= 2 stochastic passes.
      target: [D].
    """
    m = samples.shape[0]
    if m < 2:
        raise ConfigError(f"energy score needs >= 2 samples, got {m=}")
    to_target = jnp.sqrt(jnp.sum(jnp.square(samples - target[None, :]), axis=-1) + 1e-12)
    diffs = samples[:, None, :] - samples[None, :, :]
    pair = jnp.sqrt(jnp.sum(jnp.square(diffs), axis=-1) + 1e-12)
    pair = pair * (1.0 - jnp.eye(m, dtype=pair.dtype))
    return jnp.mean(to_target) - jnp.sum(pair) / (2.0 * m * (m - 1))
