"""Data-bit model of a VCMA-MTJ: resistances, bias-dependent TMR and variation (Figs. 6-8, 15, 19)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from cimjax.errors import ConfigError


@struct.dataclass
class DataBit:
    """A stable (high-barrier) VCMA-MTJ used as memory: its P and AP conductances.

    Resistances (RA product over area; TMR falls with read bias, Figs. 6-7)::

        R_P        = ra_product / area
        TMR(V, n)  = tmr_zero_bias / (1 + (V / tmr_half_voltage)^2) * (1 - drift_per_decade log10(1 + n))
        R_AP(V, n) = R_P (1 + TMR(V, n))

    The Lorentzian bias roll-off is the usual empirical form for MgO junctions; n is the number
    of write cycles (endurance, Fig. 19, no drift by default).

    Variation, all lognormal on resistance (Figs. 7-8, 15): a per-array factor
    exp(sigma_array z_a) shared by every device of one array, a per-device factor
    exp(sigma_device z_d) shared by the P and AP resistance of a device, a per-device TMR
    factor on the ratio (1 + TMR) exp(sigma_tmr z_t), and cycle-to-cycle read noise: each
    read multiplies a conductance by (1 + sigma_read e), e ~ N(0, 1).

    Attributes (all leaves; SI units except RA and area):
      ra_product: resistance-area product [ohm um^2].
      area: junction area [um^2].
      tmr_zero_bias: TMR at zero read bias (fraction, 1.1 = 110%).
      tmr_half_voltage: read bias at which TMR halves [V].
      sigma_device: lognormal sigma of device-to-device resistance within an array.
      sigma_array: lognormal sigma of the array-to-array resistance factor.
      sigma_tmr: lognormal sigma of (1 + TMR) from device to device.
      sigma_read: relative cycle-to-cycle read noise of a conductance.
      drift_per_decade: relative TMR loss per decade of write cycles (0: none).
    """

    ra_product: jax.Array
    area: jax.Array
    tmr_zero_bias: jax.Array
    tmr_half_voltage: jax.Array
    sigma_device: jax.Array
    sigma_array: jax.Array
    sigma_tmr: jax.Array
    sigma_read: jax.Array
    drift_per_decade: jax.Array

    @classmethod
    def create(cls, **fields) -> "DataBit":
        """Builds a data-bit after checking each field (finite; positive; sigmas and drift >= 0)."""
        names = [f for f in cls.__dataclass_fields__]
        missing = set(names) - set(fields)
        unknown = set(fields) - set(names)
        if missing or unknown:
            problems = ([f"missing fields {sorted(missing)}"] if missing else []) + (
                [f"unknown fields {sorted(unknown)}"] if unknown else [])
            raise ConfigError(f"DataBit: {', '.join(problems)}; expected {names}")
        for name in names:
            try:
                value = np.asarray(fields[name], dtype=float)
            except (TypeError, ValueError):
                raise ConfigError(f"DataBit: {name}={fields[name]!r} is not a number") from None
            positive = name in ("ra_product", "area", "tmr_zero_bias", "tmr_half_voltage")
            if not np.all(np.isfinite(value)) or not np.all(value > 0 if positive else value >= 0):
                raise ConfigError(f"DataBit: {name}={fields[name]!r} must be finite and {'> 0' if positive else '>= 0'}")
        return cls(**{n: jnp.asarray(fields[n], jnp.float32) for n in names})

    @classmethod
    def from_anchors(cls, *, tmr_zero_bias, tmr_at_read, read_voltage, **fields) -> "DataBit":
        """Builds a data-bit whose TMR is `tmr_at_read` at `read_voltage` (solves tmr_half_voltage)."""
        if not 0 < tmr_at_read < tmr_zero_bias:
            raise ConfigError(f"DataBit: need 0 < {tmr_at_read=} < {tmr_zero_bias=}")
        half = read_voltage / math.sqrt(tmr_zero_bias / tmr_at_read - 1.0)
        return cls.create(tmr_zero_bias=tmr_zero_bias, tmr_half_voltage=half, **fields)

    @property
    def resistance_p(self) -> jax.Array:
        """Nominal parallel resistance [ohm]."""
        return self.ra_product / self.area

    def tmr(self, read_voltage, cycles=0.0) -> jax.Array:
        """Tunnel magnetoresistance ratio at `read_voltage` [V] after `cycles` write cycles."""
        v = jnp.asarray(read_voltage, jnp.float32) / self.tmr_half_voltage
        wear = 1.0 - self.drift_per_decade * jnp.log10(1.0 + jnp.asarray(cycles, jnp.float32))
        return self.tmr_zero_bias / (1.0 + v * v) * wear

    def conductances(self, read_voltage, cycles=0.0) -> tuple[jax.Array, jax.Array]:
        """Nominal (G_P, G_AP) [S] at `read_voltage` [V] (no variation)."""
        g_p = 1.0 / self.resistance_p
        return g_p * jnp.ones_like(self.tmr(read_voltage, cycles)), g_p / (1.0 + self.tmr(read_voltage, cycles))

    def sample_conductances(self, key, read_voltage, shape, n_arrays: int | None = None, cycles=0.0):
        """Per-device (G_P, G_AP) [S] with device, TMR and array variation (no read noise).

        Args:
          key: PRNG key.
          read_voltage: read bias [V], scalar.
          shape: device shape of one array, e.g. (rows, cols).
          n_arrays: None draws one array of `shape`; an int draws that many arrays, each with
            its own array factor (Fig. 8), output shape (n_arrays, *shape).

        Returns:
          (G_P, G_AP), each of shape `shape` or (n_arrays, *shape).
        """
        shape = tuple(shape)
        full = shape if n_arrays is None else (int(n_arrays), *shape)
        k_arr, k_dev, k_tmr = jax.random.split(key, 3)
        z_arr = jax.random.normal(k_arr, full[: len(full) - len(shape)] + (1,) * len(shape))
        log_r = self.sigma_array * z_arr + self.sigma_device * jax.random.normal(k_dev, full)
        log_ratio = self.sigma_tmr * jax.random.normal(k_tmr, full)
        g_p, g_ap = self.conductances(read_voltage, cycles)
        scale = jnp.exp(-log_r)
        return g_p * scale, g_ap * scale * jnp.exp(-log_ratio)

    def read(self, key, conductance) -> jax.Array:
        """One noisy read of `conductance` [S]: cycle-to-cycle noise (Fig. 15), same shape."""
        noise = jax.random.normal(key, jnp.shape(conductance))
        return conductance * (1.0 + self.sigma_read * noise)

    def lognormal_moments(self, read_voltage, across_arrays: bool = False, cycles=0.0):
        """Exact mean and variance of one device's read conductance, for P and AP.

        Returns ((mean_P, var_P), (mean_AP, var_AP)). Within one array (default) the array
        factor is held at its median; `across_arrays=True` includes it.
        """
        g_p, g_ap = self.conductances(read_voltage, cycles)
        s_arr2 = self.sigma_array**2 if across_arrays else 0.0
        out = []
        for g, s2 in ((g_p, self.sigma_device**2 + s_arr2), (g_ap, self.sigma_device**2 + s_arr2 + self.sigma_tmr**2)):
            mean = g * jnp.exp(0.5 * s2)
            second = g * g * jnp.exp(2.0 * s2) * (1.0 + self.sigma_read**2)
            out.append((mean, second - mean * mean))
        return tuple(out)
