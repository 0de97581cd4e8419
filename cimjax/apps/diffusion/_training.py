"""The demo's training glue: the VAE, the classifier and the crossbar score net, each through `cimjax.nn.fit_loss`.

The in-situ noise rows train with `cimjax.sde.train_insitu`, on the same loop.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from cimjax.apps.diffusion._nets import VAE, Classifier
from cimjax.nn import TrainConfig, TrainState, fit_loss
from cimjax.sde import AbstractSDE, CrossbarEpsNet, dsm_loss

__all__ = ["train_vae", "train_classifier", "train_score", "latent_stats"]

Trained = tuple[TrainState, np.ndarray]


def train_vae(model: VAE, x: np.ndarray, config: TrainConfig, num_steps: int, *, kl_weight: float,
              key: jax.Array, **fit_kwargs: Any) -> Trained:
    """Maximises the beta-weighted ELBO: Bernoulli log-likelihood - kl_weight * KL(q(z|x) || N(0, I)).

    `key` initialises the parameters; `fit_kwargs` go to `fit_loss`.
    """
    params = jax.jit(model.init)(key, jnp.zeros((1, model.n_pixels)), key)  # jitted: one compile, not one per op

    def loss(p, xb, sample_index, k):
        logits, mu, logvar = model.apply(p, xb, k)
        nll = jnp.sum(optax.sigmoid_binary_cross_entropy(logits, xb), axis=-1)
        kl = 0.5 * jnp.sum(jnp.exp(logvar) + jnp.square(mu) - 1.0 - logvar, axis=-1)
        return jnp.mean(nll + kl_weight * kl)

    return fit_loss(loss, params, x, config, num_steps, **{"desc": "VAE", **fit_kwargs})


def latent_stats(model: VAE, params, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior means of `x` and their per-dimension mean and std (the standardisation)."""
    mu, _ = jax.jit(functools.partial(model.apply, method=VAE.encode))(params, jnp.asarray(x))
    mu = np.asarray(mu)
    return mu, mu.mean(axis=0), mu.std(axis=0) + 1e-6


def train_classifier(model: Classifier, x: np.ndarray, y: np.ndarray, config: TrainConfig, num_steps: int, *,
                     key: jax.Array, **fit_kwargs: Any) -> Trained:
    """Cross-entropy training of the digit classifier used by the quality metrics."""
    params = jax.jit(model.init)(key, jnp.zeros((1, x.shape[1])))

    def loss(p, b, sample_index, k):
        xb, yb = b
        xb = jnp.clip(xb + 0.05 * jax.random.normal(k, xb.shape), 0.0, 1.0)  # mild noise: robust features
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(model.apply(p, xb), yb))

    return fit_loss(loss, params, (x, y), config, num_steps, **{"desc": "classifier", **fit_kwargs})


def train_score(model: CrossbarEpsNet, sde: AbstractSDE, latents: np.ndarray, config: TrainConfig,
                num_steps: int, *, key: jax.Array, **fit_kwargs: Any) -> Trained:
    """Denoising score matching on standardised VAE latents, every forward pass on the crossbar.

    The DAC and ADC quantisers pass gradients straight through (cimjax.crossbar's periphery),
    so the weights learn to live with the periphery they are read through.
    """
    params = jax.jit(model.init)(key, jnp.zeros((1, model.dim)), jnp.zeros((1,)))

    def loss(p, x0, sample_index, k):
        return dsm_loss(model.apply, p, sde, x0, k)

    return fit_loss(loss, params, latents, config, num_steps, **{"desc": "score net (crossbar)", **fit_kwargs})
