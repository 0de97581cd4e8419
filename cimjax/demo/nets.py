"""The demo's flax networks: VAE, digit classifier, score MLP and the in-situ stand-in.

`StandInDropconnectMLP` is a clearly named placeholder for the crossbar MC-dropconnect
MLP of `cimjax.nn`: same role (one stochastic pass = one P-bit read of every
dropconnect layer), explicit Bernoulli masks from `jax.random` instead of the emulated
arrays. It will be replaced by cimjax.nn's network behind the same `StochasticNetFn`.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from cimjax.sde import pbit_mask, quantised_keep_prob

__all__ = ["time_embedding", "VAE", "Classifier", "ScoreMLP", "DropconnectDense", "StandInDropconnectMLP"]


def time_embedding(t: jax.Array, dim: int = 32, max_freq: float = 100.0) -> jax.Array:
    """Sinusoidal features of diffusion time t in [0, 1]: [..., dim], log-spaced frequencies."""
    freqs = jnp.exp(jnp.linspace(0.0, jnp.log(max_freq), dim // 2))
    angles = t[..., None] * freqs.reshape((1,) * t.ndim + (-1,))
    return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)


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


class ScoreMLP(nn.Module):
    """Noise-prediction network z_hat(x_t, t) for the deterministic (ex-situ) score."""

    dim: int
    hidden: int = 256
    depth: int = 3
    t_dim: int = 32

    @nn.compact
    def __call__(self, x, t):
        h = jnp.concatenate([x, time_embedding(t, self.t_dim)], axis=-1)
        for _ in range(self.depth):
            h = nn.swish(nn.Dense(self.hidden)(h))
        return nn.Dense(self.dim)(h)


class DropconnectDense(nn.Module):
    """y = x @ (W * M) / p + b with M ~ Bernoulli(p) per weight: one P-bit per cell.

    Stand-in for the crossbar layer. The 1/p read-out gain keeps the mean at x @ W + b
    for any keep probability p, so p (the write voltage) only sets the spread,
    Var y_j = (1 - p) / p * sum_i x_i^2 W_ij^2. `key=None` holds the P-bits fixed
    (deterministic mode, y = x @ W + b). Single sample: x is [D_in]; batch by vmap so
    each sample has its own P-bit draws.
    """

    features: int
    kernel_scale: float = 1.0

    @nn.compact
    def __call__(self, x, key, keep_prob):
        init = nn.initializers.variance_scaling(self.kernel_scale, "fan_in", "normal")
        w = self.param("kernel", init, (x.shape[-1], self.features))
        b = self.param("bias", nn.initializers.zeros, (self.features,))
        if key is None:
            return x @ w + b
        return (x @ (w * pbit_mask(key, w.shape, keep_prob))) / quantised_keep_prob(keep_prob) + b


class StandInDropconnectMLP(nn.Module):
    """STAND-IN for cimjax.nn's crossbar MC-dropconnect MLP: h(x, t; P-bits) for one sample.

    Hidden layers are dense with P-bits held fixed unless `stochastic_hidden`; the output
    layer is MC-dropconnect. With `noise_rows` = R > 0 the output crossbar has R extra
    rows driven at a learned level r(t) >= 0 whose cells form +A/-A differential pairs:
    their mean contribution is exactly zero and their P-bits add a variance
    2 (1 - p) / p sum_r r_r^2 A_rj^2 to output j, so the spread can follow the SDE's
    noise level without bending the weights that carry the mean.
    """

    dim: int
    hidden: int = 256
    depth: int = 3
    t_dim: int = 32
    stochastic_hidden: bool = False
    noise_rows: int = 16

    @nn.compact
    def __call__(self, x, t, key, keep_prob):
        temb = time_embedding(t, self.t_dim)
        h = jnp.concatenate([x, temb], axis=-1)
        keys = [None] * (self.depth + 3) if key is None else list(jax.random.split(key, self.depth + 3))
        for i in range(self.depth):
            k = keys[i] if self.stochastic_hidden else None
            h = nn.swish(DropconnectDense(self.hidden)(h, k, keep_prob))
        out = DropconnectDense(self.dim)(h, keys[self.depth], keep_prob)
        if self.noise_rows:
            r = nn.softplus(nn.Dense(self.noise_rows, name="noise_level")(temb))
            a = self.param("noise_pairs", nn.initializers.normal(0.1), (self.noise_rows, self.dim))
            if key is not None:
                p = quantised_keep_prob(keep_prob)
                m_plus = pbit_mask(keys[-2], a.shape, keep_prob)
                m_minus = pbit_mask(keys[-1], a.shape, keep_prob)
                out = out + (r @ (a * (m_plus - m_minus))) / p
        return out
