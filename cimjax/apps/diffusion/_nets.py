"""The demo's digital flax networks: the VAE (Fig. 21's decoder) and the digit classifier.

The score and in-situ networks run on the emulated crossbar: see `cimjax.sde.CrossbarEpsNet`.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp


__all__ = ["VAE", "Classifier"]


class VAE(nn.Module):
    """MLP variational autoencoder with a Bernoulli pixel likelihood (Kingma & Welling 2014)."""

    latent_dim: int
    n_pixels: int
    hidden: int = 256

    def setup(self):
        self.enc = [nn.Dense(self.hidden), nn.Dense(self.hidden)]
        self.enc_out = nn.Dense(2 * self.latent_dim)
        self.dec = [nn.Dense(self.hidden), nn.Dense(self.hidden)]
        self.dec_out = nn.Dense(self.n_pixels)

    def encode(self, x):
        """[B, P] pixels -> (mu, logvar), each [B, L]."""
        for layer in self.enc:
            x = nn.swish(layer(x))
        mu, logvar = jnp.split(self.enc_out(x), 2, axis=-1)
        return mu, logvar

    def decode_logits(self, z):
        """[B, L] latents -> [B, P] pixel logits."""
        for layer in self.dec:
            z = nn.swish(layer(z))
        return self.dec_out(z)

    def decode(self, z):
        """[B, L] latents -> [B, P] pixel intensities in [0, 1] (Fig. 21's decoder)."""
        return nn.sigmoid(self.decode_logits(z))

    def __call__(self, x, key):
        mu, logvar = self.encode(x)
        z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(key, mu.shape)
        return self.decode_logits(z), mu, logvar


class Classifier(nn.Module):
    """MLP digit classifier; `features` (penultimate layer) feed the Frechet distance."""

    n_classes: int = 10
    hidden: Sequence[int] = (256, 128)

    def setup(self):
        self.layers = [nn.Dense(h) for h in self.hidden]
        self.head = nn.Dense(self.n_classes)

    def features(self, x):
        for layer in self.layers:
            x = nn.relu(layer(x))
        return x

    def __call__(self, x):
        return self.head(self.features(x))
