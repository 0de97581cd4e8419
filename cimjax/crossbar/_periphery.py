"""Periphery of a crossbar read: input DAC, output ADC, per-read conductance noise.

Both converters are symmetric mid-tread quantisers with 2^(bits-1) - 1 levels each
side of zero and hard clipping at their range; their gradient is straight-through
inside the range and zero where they clip.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from cimjax.crossbar._config import Periphery


def quantize(v: jax.Array, bits: int, full_scale) -> jax.Array:
    """Round-to-nearest onto the grid step = full_scale / (2^(bits-1) - 1), clipped to +-full_scale.

    Gradient: 1 where |v| <= full_scale (straight through), 0 where the converter clips.
    """
    levels = 2 ** (bits - 1) - 1
    step = full_scale / levels
    hard = jnp.clip(jnp.round(v / step), -levels, levels) * step
    # Straight-through via a plain mask: forward is exactly `hard` (a - a == 0), the tangent
    # is a single select. Differentiating `jnp.clip` instead costs compare/select/divide chains
    # (its tie rule) on every element of every read, a large share of a small training step.
    passed = jnp.where(jnp.abs(v) <= full_scale, v, 0.0)
    return jax.lax.stop_gradient(hard) + (passed - jax.lax.stop_gradient(passed))


def dac(x: jax.Array, periphery: Periphery) -> jax.Array:
    """Input DAC: x (B, N) to the applied read voltages (in input units)."""
    if periphery.dac_bits is None:
        return x
    return quantize(x, periphery.dac_bits, periphery.dac_range)


def adc_full_scale(periphery: Periphery, tile_rows: int, gain: float = 1.0) -> float:
    """ADC range: `adc_range`, or the largest possible column sum dac_range * rows * gain."""
    if periphery.adc_range is not None:
        return float(periphery.adc_range)
    return float(periphery.dac_range) * tile_rows * gain


def adc(y: jax.Array, periphery: Periphery, full_scale: float) -> jax.Array:
    """Output ADC on one tile's column sums y (B, M')."""
    if periphery.adc_bits is None:
        return y
    return quantize(y, periphery.adc_bits, full_scale)


def read_noise_std(x_tile: jax.Array, periphery: Periphery) -> jax.Array:
    """Std (B, 1) of a column's read noise: sigma * ||x_b|| (independent normal per cell and read).

    An all-zero input row (a DAC-rounded zero, or hidden units all off) has no noise and a zero
    gradient, not the NaN of d sqrt(s) / ds at s = 0, which would poison a whole training step.
    """
    sq = jnp.sum(x_tile * x_tile, axis=1, keepdims=True)
    positive = sq > 0
    return periphery.read_noise * jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)
