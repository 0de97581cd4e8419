"""SDEs, noise sources, the energy score and the reverse sampler against closed forms."""

import numpy as np
import pytest
import jax
import jax.numpy as jnp
from scipy import stats

from cimjax.errors import CimjaxError
from cimjax.crossbar import CrossbarConfig, crossbar_matmul
from cimjax.nn import energy_score
from cimjax.sde import (VESDE, VPSDE, ExSituStep, InSituStep, PbitBitstreamNormal, StandardNormal, SubVPSDE,
                        sample_reverse)

SDES = [VPSDE(), SubVPSDE(), VESDE()]


@pytest.mark.parametrize("sde", SDES, ids=lambda s: type(s).__name__)
def test_marginal_variance_solves_its_ode(sde):
    # For linear drift f = k(t) x and x_0 fixed, Var x_t solves dV/dt = 2 k(t) V + g(t)^2 (Ito).
    t = jnp.linspace(0.05, 0.95, 19)
    h = 1e-3
    var = lambda s: jnp.square(sde.std(s))  # noqa: E731
    k = jax.vmap(lambda s: sde.drift(jnp.ones(()), s))(t)  # f(1, t) = k(t)
    lhs = (var(t + h) - var(t - h)) / (2 * h)
    rhs = 2 * k * var(t) + jnp.square(jax.vmap(sde.diffusion)(t))
    np.testing.assert_allclose(lhs, rhs, rtol=2e-3, atol=2e-3)
    # and the mean coefficient solves da/dt = k(t) a
    a = sde.mean_coeff
    np.testing.assert_allclose((a(t + h) - a(t - h)) / (2 * h), k * a(t), rtol=2e-3, atol=1e-4)


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_zero_steps_is_a_clear_error(bad):
    with pytest.raises(CimjaxError, match="n_steps"):
        VPSDE().time_grid(bad)
    step = ExSituStep(VPSDE(), lambda p, x, t, i, read_key=None: -x)
    with pytest.raises(CimjaxError, match="n_steps"):
        sample_reverse(step, {}, VPSDE(), n_steps=bad, dim=2, seed=0, count=4)


@pytest.mark.parametrize("kwargs, name", [({"seed": -1}, "seed=-1"), ({"seed": 2**32}, "seed=4294967296"),
                                          ({"seed": 1.5}, "seed=1.5"), ({"start": 2**32 - 2, "count": 4}, "start \\+ count"),
                                          ({"count": 0}, "count=0")])
def test_a_seed_or_index_outside_uint32_is_a_clear_error(kwargs, name):
    # the sample keys count in uint32: a wrapped seed or index would silently repeat samples
    step = ExSituStep(VPSDE(), lambda p, x, t, i, read_key=None: -x)
    with pytest.raises(CimjaxError, match=name):
        sample_reverse(step, {}, VPSDE(), n_steps=2, dim=2, **{"seed": 0, "count": 4, **kwargs})


def test_bad_sde_parameters():
    with pytest.raises(CimjaxError, match="beta"):
        VPSDE(beta_min=2.0, beta_max=1.0)
    with pytest.raises(CimjaxError, match="sigma"):
        VESDE(sigma_min=0.0)


def test_ex_situ_sampler_matches_exact_discrete_chain():
    # Gaussian data N(0, s0^2 I): exact score -x / v(t), v = a^2 s0^2 + sigma^2. Euler-Maruyama is then a
    # linear Gaussian chain whose variance follows V' = (1 + A dt)^2 V + g^2 |dt| exactly.
    sde, s0, n_steps, dim, n = VPSDE(), 0.5, 40, 4, 4000
    v = lambda t: jnp.square(sde.mean_coeff(t) * s0) + jnp.square(sde.std(t))  # noqa: E731
    step = ExSituStep(sde, lambda p, x, t, i, read_key=None: -x / v(t))
    x = sample_reverse(step, {}, sde, n_steps=n_steps, dim=dim, seed=3, count=n)
    grid = np.asarray(sde.time_grid(n_steps), np.float64)
    var = 1.0
    for k in range(n_steps):
        t, dt = grid[k], grid[k + 1] - grid[k]
        beta = float(sde.beta(t))
        growth = 1.0 + (-0.5 * beta + beta / float(v(t))) * dt
        var = growth**2 * var + beta * abs(dt)
    # chi-square interval for the sample variance of n*dim independent N(0, var) values, 99.9%
    dof = n * dim
    lo, hi = stats.chi2.ppf([0.0005, 0.9995], dof) / dof
    ratio = float(np.mean(np.square(x))) / var
    assert lo < ratio < hi, (ratio, lo, hi)


@pytest.mark.parametrize("source", [StandardNormal(), PbitBitstreamNormal(64)], ids=["jax", "pbit"])
def test_noise_sources_are_standard(source):
    z = np.asarray(source.sample(jax.random.key(0), (200_000,)), np.float64)
    n = z.size
    # CLT bounds (4 sigma): mean ~ N(0, 1/n), sample variance ~ N(1, 2/n)
    assert abs(z.mean()) < 4 / np.sqrt(n)
    assert abs(z.var() - 1.0) < 4 * np.sqrt(2 / n)


@pytest.mark.parametrize("keep", [0.5, 0.3])
def test_in_situ_step_noise_is_the_crossbar_pbits(keep):
    # One step whose differential is a single exact-mode crossbar read of +A/-A noise rows driven at r:
    # dx_j = (r A_j k1 - r A_j k2) / p with k1, k2 ~ Bernoulli(p) independent P-bits, so
    # E dx = 0 and Var dx_j = 2 p (1 - p) (r A_j / p)^2 (closed form, no Gaussian noise anywhere).
    cfg = CrossbarConfig.ideal(mode="exact", keep_prob=keep)
    a = jnp.array([[0.5, -1.0, 2.0]])
    r = 0.7

    def net(params, x, t, dt, key, idx):
        u = jnp.full((x.shape[0], 2), r, jnp.float32)
        return crossbar_matmul(u, jnp.concatenate([params, -params]), key, cfg, sample_index=idx) / keep

    n = 20_000
    x = sample_reverse(InSituStep(VPSDE(), net), a, _ZeroPrior(), n_steps=1, dim=3, seed=5, count=n)
    var = 2 * keep * (1 - keep) * np.square(r * np.asarray(a[0]) / keep)
    # CLT: mean ~ N(0, var/n); sample variance ~ N(var, (mu4 - var^2)/n), mu4 <= var^2 / (2 p (1 - p)) here
    assert np.all(np.abs(x.mean(0)) < 4 * np.sqrt(var / n))
    mu4 = 2 * keep * (1 - keep) * np.power(r * np.asarray(a[0]) / keep, 4)
    assert np.all(np.abs(x.var(0) - var) < 4 * np.sqrt((mu4 - var**2) / n))
    # values are the three pair states {-rA/p, 0, +rA/p}: the randomness is the P-bits'
    assert set(np.round(np.unique(x[:, 0]) / (r * 0.5 / keep), 4)) <= {-1.0, 0.0, 1.0}


class _ZeroPrior(VPSDE):
    """A VP SDE whose prior is the point 0 (so one step's output is the step's differential)."""

    def prior_sample(self, key, shape):
        return jnp.zeros(shape)


def test_energy_score_two_members_by_hand():
    x = jnp.array([[0.0, 0.0], [3.0, 4.0]])
    y = jnp.array([0.0, 4.0])
    # mean(|X_m - y|) - |X_1 - X_2| / 2 = (4 + 3) / 2 - 5 / 2
    assert float(energy_score(x[:, None, :], y[None, :])) == pytest.approx(1.0, abs=1e-5)
