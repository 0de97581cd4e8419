"""Training loops for the demo's networks: one jitted `lax.scan` per chunk of optax steps."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from cimjax.sde import CrossbarEpsNet, InSituCrossbarNet, init_noise_params
from cimjax.apps.diffusion._nets import VAE, Classifier
from cimjax.sde import AbstractSDE, ExSituStep, dsm_loss, energy_score

__all__ = ["fit", "train_vae", "train_classifier", "train_score", "train_insitu", "EpsScore", "latent_stats",
           "transition_targets", "repeat_passes"]


def fit(loss_fn: Callable[[Any, Any, jax.Array], jax.Array], params: Any, data: Any, *, steps: int,
        batch: int, lr: float, key: jax.Array, desc: str = "train", chunk: int = 100,
        progress: bool = True) -> tuple[Any, list[float]]:
    """Adam with cosine decay on minibatches drawn with replacement from `data` (a pytree of [N, ...]).

    Returns the trained params and the mean loss of each chunk of `chunk` steps.
    """
    n = jax.tree_util.tree_leaves(data)[0].shape[0]
    n_chunks = max(1, -(-steps // chunk))
    opt = optax.adam(optax.cosine_decay_schedule(lr, n_chunks * chunk, alpha=0.05))
    state = opt.init(params)
    data = jax.tree_util.tree_map(jnp.asarray, data)

    @jax.jit
    def run_chunk(params, state, c):
        def body(carry, i):
            p, s = carry
            kb, kl = jax.random.split(jax.random.fold_in(key, i))
            idx = jax.random.randint(kb, (batch,), 0, n)
            loss, grads = jax.value_and_grad(loss_fn)(p, jax.tree_util.tree_map(lambda a: a[idx], data), kl)
            updates, s = opt.update(grads, s, p)
            return (optax.apply_updates(p, updates), s), loss

        (params, state), losses = jax.lax.scan(body, (params, state), c * chunk + jnp.arange(chunk))
        return params, state, jnp.mean(losses)

    history = []
    bar = tqdm(range(n_chunks), desc=desc, disable=not progress, leave=False)
    for c in bar:
        params, state, loss = run_chunk(params, state, c)
        history.append(float(loss))
        bar.set_postfix(loss=f"{history[-1]:.4g}")
    return params, history


def train_vae(model: VAE, x: np.ndarray, *, kl_weight: float, steps: int, batch: int, lr: float,
              key: jax.Array, progress: bool = True):
    """Maximises the beta-weighted ELBO: Bernoulli log-likelihood - kl_weight * KL(q(z|x) || N(0, I))."""
    k_init, k_fit = jax.random.split(key)
    params = model.init(k_init, jnp.zeros((1, model.n_pixels)), k_init)

    def loss(p, xb, k):
        logits, mu, logvar = model.apply(p, xb, k)
        nll = jnp.sum(optax.sigmoid_binary_cross_entropy(logits, xb), axis=-1)
        kl = 0.5 * jnp.sum(jnp.exp(logvar) + jnp.square(mu) - 1.0 - logvar, axis=-1)
        return jnp.mean(nll + kl_weight * kl)

    return fit(loss, params, x, steps=steps, batch=batch, lr=lr, key=k_fit, desc="VAE", progress=progress)


def latent_stats(model: VAE, params, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior means of `x` and their per-dimension mean and std (the standardisation)."""
    mu, _ = model.apply(params, jnp.asarray(x), method=VAE.encode)
    mu = np.asarray(mu)
    return mu, mu.mean(axis=0), mu.std(axis=0) + 1e-6


def train_classifier(model: Classifier, x: np.ndarray, y: np.ndarray, *, steps: int, batch: int,
                     lr: float, key: jax.Array, progress: bool = True):
    """Cross-entropy training of the digit classifier used by the quality metrics."""
    k_init, k_fit = jax.random.split(key)
    params = model.init(k_init, jnp.zeros((1, x.shape[1])))

    def loss(p, b, k):
        xb, yb = b
        xb = jnp.clip(xb + 0.05 * jax.random.normal(k, xb.shape), 0.0, 1.0)  # mild noise: robust features
        return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(model.apply(p, xb), yb))

    return fit(loss, params, (x, y), steps=steps, batch=batch, lr=lr, key=k_fit, desc="classifier",
               progress=progress)


@dataclasses.dataclass(frozen=True)
class EpsScore:
    """`ScoreFn` from the crossbar noise-prediction net (P-bits fixed): s(x, t) = -z_hat(x, t) / sigma(t)."""

    model: CrossbarEpsNet
    sde: AbstractSDE

    def __call__(self, params, x, t, sample_index):
        tb = jnp.broadcast_to(t, (x.shape[0],))
        return -self.model.apply(params, x, tb, sample_index=sample_index) / self.sde.std(t)


def train_score(model: CrossbarEpsNet, sde: AbstractSDE, latents: np.ndarray, *, steps: int, batch: int,
                lr: float, key: jax.Array, progress: bool = True):
    """Denoising score matching on standardised VAE latents, every forward pass on the crossbar.

    The DAC and ADC quantisers pass gradients straight through (cimjax.crossbar._periphery),
    so the weights learn to live with the periphery they are read through.
    """
    k_init, k_fit = jax.random.split(key)
    params = model.init(k_init, jnp.zeros((1, model.dim)), jnp.zeros((1,)))
    loss = lambda p, x0, k: dsm_loss(model.apply, p, sde, x0, k)  # noqa: E731
    return fit(loss, params, latents, steps=steps, batch=batch, lr=lr, key=k_fit, desc="score net (crossbar)",
               progress=progress)


def transition_targets(teacher: ExSituStep, teacher_params, x: jax.Array, t: jax.Array, dt: jax.Array):
    """The ex-situ transition of states x [B, D] at one time t: (mean increment [B, D], std [])."""
    idx = jnp.arange(x.shape[0], dtype=jnp.uint32)  # P-bits fixed: the ids change nothing
    mean, std = teacher.mean_and_std(teacher_params, x, t, dt, idx)
    return mean - x, std


def repeat_passes(x: jax.Array, passes: int) -> tuple[jax.Array, jax.Array]:
    """x [B, D] -> ([B * passes, D] with each state repeated `passes` times, sample ids 0 .. B*passes - 1).

    One read with distinct sample ids gives `passes` independent P-bit draws per state.
    """
    xr = jnp.repeat(x, passes, axis=0)
    return xr, jnp.arange(xr.shape[0], dtype=jnp.uint32)


def train_insitu(net: InSituCrossbarNet, teacher: ExSituStep, teacher_params, latents: np.ndarray,
                 *, n_steps: int, passes: int, steps: int, batch: int, lr: float, key: jax.Array,
                 progress: bool = True):
    """Trains the noise rows so one crossbar pass reproduces the ex-situ transition x_t -> x_{t+dt}.

    The weights copied from the score net stay fixed (the mean pass is the ex-situ drift
    by construction); only the noise rows train: their level map r(t) and pair cells A.
    States x_t ~ p_t at grid times (one time per minibatch, as in sampling); in units of
    the teacher's noise scale c = g sqrt|dt| its transition is N(m, I). Loss: the energy
    score of `passes` (>= 2) P-bit passes per state (one crossbar read, distinct sample
    ids) against antithetic targets m +- z, which cancels the target's sampling noise in
    the gradient of the mean to first order.

    Returns: ({"score": teacher_params, "noise": trained noise params}, loss history).
    """
    sde = teacher.sde
    grid = sde.time_grid(n_steps)
    k_init, k_fit = jax.random.split(key)
    noise0 = init_noise_params(k_init, net.noise_rows, net.score_net.dim, net.score_net.t_dim)

    def loss(noise, x0, k):
        k_i, k_x, k_z, k_p = jax.random.split(k, 4)
        i = jax.random.randint(k_i, (), 0, n_steps)
        t, dt = grid[i], grid[i + 1] - grid[i]
        mean, std = sde.marginal(x0, t)
        xt = mean + std * jax.random.normal(k_x, x0.shape)
        dm, c = jax.lax.stop_gradient(transition_targets(teacher, teacher_params, xt, t, dt))
        xr, idx = repeat_passes(xt, passes)
        dx = net({"score": teacher_params, "noise": noise}, xr, t, dt, k_p, idx)
        u = dx.reshape(x0.shape[0], passes, -1) / c
        m = dm / c
        z = jax.random.normal(k_z, x0.shape)
        es = jax.vmap(energy_score)(u, m + z) + jax.vmap(energy_score)(u, m - z)
        return 0.5 * jnp.mean(es)

    trained, history = fit(loss, noise0, latents, steps=steps, batch=batch, lr=lr, key=k_fit,
                           desc="in-situ noise rows", progress=progress)
    return {"score": teacher_params, "noise": trained}, history
