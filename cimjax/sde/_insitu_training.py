"""Training the in-situ network: one crossbar read learns the whole ex-situ SDE transition.

The weights copied from the trained ex-situ score net stay fixed, so the read's mean
is the ex-situ drift by construction; only the noise rows of `InSituCrossbarNet`
train (their level map r(t) and pair cells A), so that the spread of the read's
P-bits reproduces the transition's Gaussian noise (Fig. 21, in-situ).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from cimjax.errors import ConfigError
from cimjax.nn import TrainConfig, TrainState, energy_score, fit_loss
from cimjax.sde._crossbar_nets import InSituCrossbarNet, init_noise_params
from cimjax.sde._steps import ExSituStep

__all__ = ["transition_targets", "repeat_passes", "train_insitu"]


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


def train_insitu(net: InSituCrossbarNet, teacher: ExSituStep, teacher_params: Any, latents: np.ndarray,
                 config: TrainConfig, num_steps: int, *, n_steps: int, passes: int, key: jax.Array,
                 **fit_kwargs: Any) -> tuple[TrainState, np.ndarray]:
    """Trains the noise rows so one crossbar pass reproduces the ex-situ transition x_t -> x_{t+dt}.

    States x_t ~ p_t (the forward marginal of `latents`) at one grid time per
    minibatch, as in sampling. In units of the teacher's noise scale c = g sqrt|dt|
    the transition is N(m, I). Loss: the energy score of `passes` P-bit passes per
    state (one crossbar read, distinct sample ids) against antithetic targets m +- z,
    which cancels the target's sampling noise in the gradient of the mean to first order.

    Args:
      net: the in-situ network over the teacher's score net.
      teacher, teacher_params: the trained ex-situ step and its score net's params.
      latents: [N, D] data the states are diffused from.
      config, num_steps: the `fit_loss` run (batch size, learning rate, seed).
      n_steps: the sampler's step count: the time grid the transitions are taught on.
      passes: P-bit passes per state (>= 2).
      key: initialises the noise rows (`init_noise_params`).
      fit_kwargs: checkpoint, run_config, resume, progress, desc, chunk_steps of `fit_loss`.
    Returns:
      (state, losses) of `fit_loss`; the in-situ params are
      {"score": teacher_params, "noise": state.params}.
    """
    if passes < 2:
        raise ConfigError(f"{passes=} must be >= 2 (energy score)")
    # trained without the reads' per-read noise (1% of a cell, Fig. 15; present when sampling): its
    # normal draws can be infinite (uniform rounded to 1), and a clipped infinite read has a NaN gradient
    hardware = dataclasses.replace(net.score_net.hardware, read_noise=0.0)
    net = dataclasses.replace(net, score_net=net.score_net.clone(hardware=hardware))
    sde = teacher.sde
    grid = sde.time_grid(n_steps)
    noise0 = init_noise_params(key, net.noise_rows, net.score_net.dim, net.score_net.t_dim)

    def loss(noise, x0, sample_index, k):
        k_i, k_x, k_z, k_p = jax.random.split(k, 4)
        i = jax.random.randint(k_i, (), 0, n_steps)
        t, dt = grid[i], grid[i + 1] - grid[i]
        mean, std = sde.marginal(x0, t)
        xt = mean + std * jax.random.normal(k_x, x0.shape)
        dm, c = jax.lax.stop_gradient(transition_targets(teacher, teacher_params, xt, t, dt))
        xr, idx = repeat_passes(xt, passes)
        dx = net({"score": teacher_params, "noise": noise}, xr, t, dt, k_p, idx)
        u = jnp.swapaxes(dx.reshape(x0.shape[0], passes, -1), 0, 1) / c  # (passes, B, D)
        m, z = dm / c, jax.random.normal(k_z, x0.shape)
        return 0.5 * (energy_score(u, m + z) + energy_score(u, m - z))

    return fit_loss(loss, noise0, latents, config, num_steps, **{"desc": "in-situ noise rows", **fit_kwargs})
