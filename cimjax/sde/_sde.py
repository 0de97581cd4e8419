"""Forward diffusion SDEs dx = f(x, t) dt + g(t) dw as immutable data (Song et al. 2021).

Three SDEs share one interface, `AbstractSDE`: variance preserving (VP), sub-VP and
variance exploding (VE). Each gives the drift f(x, t), the diffusion g(t), the
Gaussian marginal p_t(x_t | x_0) = N(mean_coeff(t) x_0, std(t)^2 I), the prior at
t = T and the reverse-time grid the samplers step along (Fig. 1, Fig. 21).
"""

from __future__ import annotations

import abc
import dataclasses
import math
import numbers

import jax
import jax.numpy as jnp

from cimjax.errors import ConfigError

__all__ = ["AbstractSDE", "VPSDE", "SubVPSDE", "VESDE", "reverse_drift"]


class AbstractSDE(abc.ABC):
    """An Ito SDE on R^D with an affine Gaussian forward marginal.

    Subclasses are frozen dataclasses of floats, so they are hashable and can be
    closed over or passed as static arguments to `jax.jit`.
    """

    T: float
    eps: float

    @abc.abstractmethod
    def drift(self, x: jax.Array, t: jax.Array) -> jax.Array:
        """f(x, t), shape of x; `t` is a scalar."""

    @abc.abstractmethod
    def diffusion(self, t: jax.Array) -> jax.Array:
        """g(t), a scalar."""

    @abc.abstractmethod
    def mean_coeff(self, t: jax.Array) -> jax.Array:
        """a(t) with E[x_t | x_0] = a(t) x_0."""

    @abc.abstractmethod
    def std(self, t: jax.Array) -> jax.Array:
        """sigma(t), the standard deviation of x_t given x_0."""

    @property
    @abc.abstractmethod
    def prior_std(self) -> float:
        """Standard deviation of the isotropic zero-mean Gaussian prior at t = T."""

    def marginal(self, x0: jax.Array, t: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(mean, std) of p_t(x_t | x_0); mean has the shape of x0, std is a scalar."""
        return self.mean_coeff(t) * x0, self.std(t)

    def prior_sample(self, key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
        """x_T ~ N(0, prior_std^2 I)."""
        return self.prior_std * jax.random.normal(key, shape)

    def time_grid(self, n_steps: int) -> jax.Array:
        """Reverse-time grid t_0 = T > t_1 > ... > t_n = eps, shape [n_steps + 1].

        Raises:
          ConfigError: `n_steps` is not a positive integer.
        """
        if not isinstance(n_steps, int) or isinstance(n_steps, bool) or n_steps < 1:
            raise ConfigError(f"{n_steps=} must be a positive integer (number of reverse SDE steps)")
        return jnp.linspace(self.T, self.eps, n_steps + 1, dtype=jnp.float32)

    def _check_times(self) -> None:
        for f in dataclasses.fields(self):  # every parameter a finite number: inf gave an inf grid or prior
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise ConfigError(f"{type(self).__name__}: {f.name}={value!r} must be a finite number")
        if not (0.0 < self.eps < self.T):
            raise ConfigError(f"need 0 < eps < T, got eps={self.eps}, T={self.T}")


def reverse_drift(sde: AbstractSDE, x: jax.Array, t: jax.Array, score: jax.Array) -> jax.Array:
    """Drift of the reverse-time SDE, f(x, t) - g(t)^2 * score (Anderson 1982)."""
    return sde.drift(x, t) - jnp.square(sde.diffusion(t)) * score


@dataclasses.dataclass(frozen=True)
class VPSDE(AbstractSDE):
    """Variance-preserving SDE: dx = -beta(t) x / 2 dt + sqrt(beta(t)) dw, beta linear in t.

    Defaults are DDPM's beta range as used by Song et al. 2021 (assumption: the
    paper does not state its schedule).
    """

    beta_min: float = 0.1  # Song et al. 2021, Table 5 (DDPM continuous limit)
    beta_max: float = 20.0  # Song et al. 2021
    T: float = 1.0
    eps: float = 1e-3  # Song et al. 2021: sampling stops at t = 1e-3 for stability

    def __post_init__(self):
        self._check_times()
        if not (0.0 < self.beta_min < self.beta_max):
            raise ConfigError(f"need 0 < beta_min < beta_max, got {self.beta_min=}, {self.beta_max=}")

    def beta(self, t):
        return self.beta_min + t * (self.beta_max - self.beta_min)

    def _log_mean_coeff(self, t):
        return -0.25 * jnp.square(t) * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min

    def drift(self, x, t):
        return -0.5 * self.beta(t) * x

    def diffusion(self, t):
        return jnp.sqrt(self.beta(t))

    def mean_coeff(self, t):
        return jnp.exp(self._log_mean_coeff(t))

    def std(self, t):
        return jnp.sqrt(-jnp.expm1(2.0 * self._log_mean_coeff(t)))

    @property
    def prior_std(self):
        return 1.0


@dataclasses.dataclass(frozen=True)
class SubVPSDE(VPSDE):
    """Sub-VP SDE: the VP drift with diffusion beta(t) (1 - exp(-2 int_0^t beta)); std <= VP's."""

    def diffusion(self, t):
        discount = -jnp.expm1(-2.0 * self.beta_min * t - (self.beta_max - self.beta_min) * jnp.square(t))
        return jnp.sqrt(self.beta(t) * discount)

    def std(self, t):
        return -jnp.expm1(2.0 * self._log_mean_coeff(t))


@dataclasses.dataclass(frozen=True)
class VESDE(AbstractSDE):
    """Variance-exploding SDE: dx = sigma(t) sqrt(2 log(sigma_max / sigma_min)) dw.

    sigma(t) = sigma_min (sigma_max / sigma_min)^t. sigma_max should exceed the
    largest distance between data points (Song & Ermon 2020, technique 1); for
    standardised latents of dimension <= 8 that is about 10 (assumption).
    """

    sigma_min: float = 0.01  # Song et al. 2021
    sigma_max: float = 10.0  # assumption: > max pairwise distance of standardised latents
    T: float = 1.0
    eps: float = 1e-5  # Song et al. 2021 (VE)

    def __post_init__(self):
        self._check_times()
        if not (0.0 < self.sigma_min < self.sigma_max):
            raise ConfigError(f"need 0 < sigma_min < sigma_max, got {self.sigma_min=}, {self.sigma_max=}")

    def sigma(self, t):
        return self.sigma_min * (self.sigma_max / self.sigma_min) ** t

    def drift(self, x, t):
        return jnp.zeros_like(x)

    def diffusion(self, t):
        return self.sigma(t) * math.sqrt(2.0 * math.log(self.sigma_max / self.sigma_min))

    def mean_coeff(self, t):
        return jnp.ones_like(t)

    def std(self, t):
        # exact marginal: int_0^t g^2 = sigma(t)^2 - sigma_min^2 (score_sde approximates it by sigma(t))
        return jnp.sqrt(jnp.square(self.sigma(t)) - self.sigma_min**2)

    @property
    def prior_std(self):
        return self.sigma_max
