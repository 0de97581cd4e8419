"""Per-step check that the in-situ transition reproduces the ex-situ one (mean and spread)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from cimjax.sde import StepRandomness, read_gain, repeat_passes

__all__ = ["transition_errors"]


def transition_errors(models, sampler: str = "in_situ", *, n_states: int = 64, passes: int = 1024, every: int = 1,
                      seed: int = 0, reads: int = 16) -> dict:
    """Relative error of an in-situ sampler's transition mean and std against the ex-situ one, per step.

    At grid step k, states x ~ p_t(x_t) (forward marginal of training latents). The ex-situ
    transition is x + m(x; read noise) + c z with std c = g sqrt|dt|: with read noise its
    drift is itself a random variable (measured ~8% of the mean increment per read at the
    device's read noise), so its mean m(x) is the average of `reads` ex-situ reads (fresh
    read noise each). The in-situ one is estimated from `passes` P-bit passes per state
    (one crossbar read of the batch of repeated states, distinct sample ids: independent
    P-bit and read-noise draws). Errors:
      mean: sqrt(max(0, mean (m_in - m)^2 - mean s_in^2 / passes - mean v_rn / reads) / mean (m - x)^2),
            the Monte Carlo variances of m_in and of m (v_rn: the ex-situ reads' variance)
            subtracted: an unbiased estimate of the squared bias;
      std:  mean over states and dims of |s_in / c - 1|.
    The reads are the sampler's own: P_sw spread, programming variation and read noise as configured.
    The Monte Carlo variance subtracted from the squared bias is ~c^2 / passes: 7-23x a 10%
    bias^2 (the increment is 0.13-0.23 c) at 256 passes, where the estimate often clamped to
    0; 2-6x at 1024.
    P-bit share: the weight cells' P-bit variance over the whole variance of the output read
    (closed form, `moments` of the net: P-bits, read noise and ADC rounding), mean over states,
    dims and steps; the hidden reads' read noise is left out of it.
    Returns {'steps', 'mean_rel_err', 'std_rel_err', 'pbit_variance_share'} (lists) and their
    averages over steps ('..._avg').
    """
    sde, cfg = models.sde, models.cfg
    grid = sde.time_grid(cfg.n_steps)
    mu = np.asarray(models.vae.apply(models.vae_params, jnp.asarray(models.data.x_train[:n_states]),
                                     method=type(models.vae).encode)[0])
    x0 = jnp.asarray((mu - models.latent_mean) / models.latent_std)
    ex = models.ex_situ
    ins, params = models.step(sampler)

    @jax.jit
    def at(k):
        t, dt = grid[k], grid[k + 1] - grid[k]
        kx, kp = jax.random.split(jax.random.fold_in(jax.random.key(seed), k))
        mean, std = sde.marginal(x0, t)
        x = mean + std * jax.random.normal(kx, x0.shape)
        ids = jnp.arange(n_states, dtype=jnp.uint32)
        # keys other than kp's own: independent of the in-situ reads
        m_reads = ex.mean_reads(models.score_params, x, t, dt, ids,
                                jax.vmap(lambda j: jax.random.fold_in(kp, j))(jnp.arange(2, reads + 2)))
        m_ex, c = jnp.mean(m_reads, 0), read_gain(sde, t, dt)
        _, var, pbit_var = ins.net_fn.moments(params, x, t, kp, ids)
        xr, idx = repeat_passes(x, passes)
        rand = StepRandomness(jnp.zeros((xr.shape[0],), jnp.uint32), kp, idx)  # in-situ draws no sample keys
        xn = ins(params, xr, t, dt, rand).reshape(n_states, passes, -1)
        m_in, s_in = jnp.mean(xn, 1), jnp.std(xn, 1, ddof=1)
        bias2 = (jnp.mean(jnp.square(m_in - m_ex)) - jnp.mean(jnp.square(s_in)) / passes
                 - jnp.mean(jnp.var(m_reads, 0, ddof=1)) / reads)
        mean_err = jnp.sqrt(jnp.maximum(bias2, 0.0) / jnp.mean(jnp.square(m_ex - x)))
        return mean_err, jnp.mean(jnp.abs(s_in / c - 1.0)), jnp.mean(pbit_var / var)

    steps = list(range(0, cfg.n_steps, every))
    errs = np.array([[float(v) for v in at(k)] for k in steps])
    out = {"steps": steps}
    for j, name in enumerate(("mean_rel_err", "std_rel_err", "pbit_variance_share")):
        out[name] = [float(v) for v in errs[:, j]]
        out[f"{name}_avg"] = float(np.mean(errs[:, j]))
    return out
