"""Training loops for the demo's networks: one jitted `lax.scan` per chunk of optax steps."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from cimjax.demo.nets import VAE, Classifier, ScoreMLP, StandInDropconnectMLP
from cimjax.sde import AbstractSDE, ExSituStep, dsm_loss, energy_score

__all__ = ["fit", "train_vae", "train_classifier", "train_score", "train_insitu",
           "EpsScore", "InSituNet", "latent_stats",
           "init_insitu_from_score", "transition_targets"]


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
    """`ScoreFn` from a noise-prediction network: s(x, t) = -z_hat(x, t) / sigma(t)."""

    model: ScoreMLP
    sde: AbstractSDE

    def __call__(self, params, x, t):
        return -self.model.apply(params, x, t) / self.sde.std(t)


def train_score(model: ScoreMLP, sde: AbstractSDE, latents: np.ndarray, *, steps: int, batch: int,
                lr: float, key: jax.Array, progress: bool = True):
    """Denoising score matching on standardised VAE latents."""
    k_init, k_fit = jax.random.split(key)
    params = model.init(k_init, jnp.zeros((1, model.dim)), jnp.zeros((1,)))
    loss = lambda p, x0, k: dsm_loss(model.apply, p, sde, x0, k)  # noqa: E731
    return fit(loss, params, latents, steps=steps, batch=batch, lr=lr, key=k_fit, desc="score net",
               progress=progress)


@dataclasses.dataclass(frozen=True)
class InSituNet:
    """`StochasticNetFn`: dx = f(x, t) dt + (g(t)^2 dt / sigma(t)) * h(x, t; P-bits).

    h is one pass of the MC-dropconnect network (here the stand-in MLP). The two
    deterministic terms are the parametrisation the ex-situ score net also uses
    (score = -z_hat / sigma), so with P-bits held fixed and h = z_hat this is exactly the
    ex-situ drift; the pass's P-bit spread must supply the diffusion term g sqrt|dt| z.
    """

    model: nn.Module
    sde: AbstractSDE

    def __call__(self, params, x, t, dt, key, keep_prob):
        h = self.model.apply(params, x, t, key, keep_prob)
        return self.sde.drift(x, t) * dt + (jnp.square(self.sde.diffusion(t)) * dt / self.sde.std(t)) * h


def init_insitu_from_score(score_params):
    """In-situ weights copied from the ex-situ score net (same architecture, layer by layer).

    The comparison then uses the same network weights as far as it allows; with its
    P-bits held fixed the in-situ network is the ex-situ drift network.
    """
    src = score_params["params"]
    return {f"DropconnectDense_{i}": dict(src[f"Dense_{i}"]) for i in range(len(src))}


def transition_targets(teacher: ExSituStep, teacher_params, x: jax.Array, t: jax.Array, dt: jax.Array):
    """The ex-situ transition of states x [B, D] at times t [B]: (mean increment [B, D], std [B])."""
    mean, std = jax.vmap(teacher.mean_and_std, in_axes=(None, 0, 0, 0))(teacher_params, x, t, dt)
    return mean - x, std


def train_insitu(model: StandInDropconnectMLP, teacher: ExSituStep, teacher_params, latents: np.ndarray,
                 *, n_steps: int, passes: int, keep_prob: float, steps: int, batch: int, lr: float,
                 key: jax.Array, freeze_weights: bool = True, progress: bool = True):
    """Trains one stochastic pass to reproduce the ex-situ transition x_t -> x_{t+dt} (mean and spread).

    Starts from the score net's weights (`init_insitu_from_score`). States x_t ~ p_t at
    the sampler's grid times; in units of the teacher's noise scale c = g sqrt|dt| its
    transition is N(m, I). Loss: the energy score of `passes` (>= 2) P-bit passes
    against antithetic targets m +- z, which cancels the target's sampling noise in the
    gradient of the mean to first order.

    With `freeze_weights` (default) the weights copied from the score net stay fixed and
    only the noise rows (level r(t), pairs A) train: the mean pass is then the ex-situ
    drift by construction and training sets the spread. Otherwise every weight trains.

    Returns: (params, loss history).
    """
    sde = teacher.sde
    grid = sde.time_grid(n_steps)
    net = InSituNet(model, sde)
    k_init, k_fit = jax.random.split(key)
    init = model.init(k_init, jnp.zeros((model.dim,)), jnp.zeros(()), None, keep_prob)["params"]
    frozen = init_insitu_from_score(teacher_params)
    trainable = {k: v for k, v in init.items() if k not in frozen} if freeze_weights else dict(init, **frozen)
    frozen = frozen if freeze_weights else {}
    schedule = lambda t: keep_prob  # noqa: E731
    passes_fn = jax.vmap(jax.vmap(net, in_axes=(None, None, None, None, 0, None)),
                         in_axes=(None, 0, 0, 0, 0, None))

    def loss(p, x0, k):
        k_i, k_x, k_z, k_p = jax.random.split(k, 4)
        i = jax.random.randint(k_i, (x0.shape[0],), 0, n_steps)
        t, dt = grid[i], grid[i + 1] - grid[i]
        mean, std = jax.vmap(sde.marginal)(x0, t)
        xt = mean + std[:, None] * jax.random.normal(k_x, x0.shape)
        dm, c = jax.lax.stop_gradient(transition_targets(teacher, teacher_params, xt, t, dt))
        keys = jax.random.split(k_p, x0.shape[0] * passes).reshape(x0.shape[0], passes)
        u = passes_fn({"params": {**frozen, **p}}, xt, t, dt, keys, schedule(t)) / c[:, None, None]
        m = dm / c[:, None]
        z = jax.random.normal(k_z, x0.shape)
        es = jax.vmap(energy_score)(u, m + z) + jax.vmap(energy_score)(u, m - z)
        return 0.5 * jnp.mean(es)

    trained, history = fit(loss, trainable, latents, steps=steps, batch=batch, lr=lr, key=k_fit,
                           desc="in-situ net", progress=progress)
    return {"params": {**frozen, **trained}}, history
