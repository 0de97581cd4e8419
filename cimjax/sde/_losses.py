"""Training loss of score networks: denoising score matching.

Stochastic networks train with `cimjax.nn.energy_score`.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from cimjax.sde._sde import AbstractSDE

__all__ = ["dsm_loss"]


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
