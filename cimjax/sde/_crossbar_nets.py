"""Score networks on the emulated crossbar: ex-situ drift net and in-situ MC-dropconnect net.

Both run every matrix product as a `cimjax.nn.CrossbarDense` read (`cimjax.crossbar`'s
`crossbar_matmul`) through one periphery (`periphery_config`): analog weight mapping
(one differential pair per weight, conductance w / max|w|), an 8-bit input DAC over
[-dac_range, dac_range], 256 x 256 tiles and an 8-bit ADC per tile column.

* `CrossbarEpsNet`: the noise-prediction MLP z_hat(x_t, t) with P-bits held fixed
  (mode "off", the paper's ANN, Fig. 22a); the ex-situ sampler's drift network
  through `EpsScore`.
* `InSituCrossbarNet`: the SAME weights (the score net's parameters, unchanged) with
  the output layer read stochastically (mode "exact", the fused P-bit kernel, at the
  calibrated write pulse 1.5 V / 700 ps, P_sw = 0.5, Fig. 12) plus 2R extra rows of the
  same read: R rows driven through the DAC at a level r(t) >= 0 holding cells +A and R
  rows at the same level holding -A. Their mean is exactly zero (p r A - p r A), their
  P-bits add variance 2 (1 - p) / p sum_r r_r^2 A_rj^2 to output j, so the spread can
  follow the SDE's noise level while the weights that carry the mean stay the ex-situ
  drift's. One such read is the whole SDE differential (Fig. 21, in-situ).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from cimjax.crossbar import CrossbarConfig, Mapping, PbitConfig, Periphery, Tile
from cimjax.nn import CrossbarDense, sinusoidal_embedding
from cimjax.sde._sde import AbstractSDE

__all__ = [
    "periphery_config", "CrossbarEpsNet", "EpsScore", "InSituCrossbarNet", "init_noise_params", "crossbar_layer_shapes",
]

TILE_ROWS = 256  # assumption: 256 x 256 arrays (cimjax.crossbar's default tile)
ADC_HEADROOM = 0.5  # assumption: ADC full scale = 0.5 dac_range sqrt(rows), ~10x a trained layer's column-sum std


def periphery_config(rows: int, *, dac_bits: int | None, adc_bits: int | None, dac_range: float,
                     mode: str = "off", keep_prob: float | None = None) -> CrossbarConfig:
    """The crossbar of one layer with `rows` inputs: analog pairs, DAC/ADC, P-bit mode.

    The ADC full scale follows the rows one tile sums, sqrt-law: a column of R cells of
    random sign and inputs up to dac_range sums to about dac_range sqrt(R) at most
    (times ADC_HEADROOM), not the never-reached worst case dac_range R, so the ADC's
    levels cover the signal. keep_prob None: the calibrated pulse's P_sw (nominal curve;
    device spread off so the copied weights keep their mean, see the module doc).
    """
    tile_rows = min(rows, TILE_ROWS)
    periphery = Periphery(dac_bits=dac_bits, dac_range=float(dac_range), adc_bits=adc_bits,
                          adc_range=ADC_HEADROOM * float(dac_range) * math.sqrt(tile_rows), read_noise=0.0)
    return CrossbarConfig(mapping=Mapping(scheme="analog"), periphery=periphery, programming_sigma=0.0,
                          tile=Tile(rows=TILE_ROWS, cols=TILE_ROWS),
                          pbit=PbitConfig(mode=mode, keep_prob=keep_prob, spread=False))


class CrossbarEpsNet(nn.Module):
    """Noise-prediction MLP z_hat(x [B, D], t [B]) -> [B, D], every layer a crossbar read, P-bits fixed.

    Layers layer_0 .. layer_depth: [x, time embedding] -> hidden (swish, digital) x depth -> D.
    """

    dim: int
    hidden: int = 256
    depth: int = 3
    t_dim: int = 32
    dac_bits: int | None = 8  # assumption: 8-bit input DAC (cimjax.crossbar default)
    adc_bits: int | None = 8  # assumption: 8-bit column ADC (cimjax.crossbar default)
    dac_range: float = 4.0  # assumption: standardised latents and swish activations lie mostly in +-4

    def config(self, rows: int, **pbit) -> CrossbarConfig:
        return periphery_config(rows, dac_bits=self.dac_bits, adc_bits=self.adc_bits, dac_range=self.dac_range,
                                **pbit)

    @nn.compact
    def __call__(self, x, t, *, sample_index=None, return_hidden: bool = False):
        h = jnp.concatenate([x, sinusoidal_embedding(t, self.t_dim)], axis=-1)
        for i in range(self.depth):
            layer = CrossbarDense(self.hidden, config=self.config(h.shape[-1]), deterministic=True, name=f"layer_{i}")
            h = nn.swish(layer(h, sample_index=sample_index))
        if return_hidden:
            return h
        out = CrossbarDense(self.dim, config=self.config(self.hidden), deterministic=True, name=f"layer_{self.depth}")
        return out(h, sample_index=sample_index)


@dataclasses.dataclass(frozen=True)
class EpsScore:
    """`ScoreFn` from the crossbar noise-prediction net (P-bits fixed): s(x, t) = -z_hat(x, t) / sigma(t)."""

    model: CrossbarEpsNet
    sde: AbstractSDE

    def __call__(self, params, x, t, sample_index):
        tb = jnp.broadcast_to(t, (x.shape[0],))
        return -self.model.apply(params, x, tb, sample_index=sample_index) / self.sde.std(t)


def init_noise_params(key: jax.Array, noise_rows: int, dim: int, t_dim: int) -> dict:
    """Initial noise-row parameters: the level map t -> r(t) and the pair cells A [R, D]."""
    k_level, k_pairs = jax.random.split(key)
    level = nn.Dense(noise_rows).init(k_level, jnp.zeros((1, t_dim)))["params"]
    return {"level": level, "pairs": 0.1 * jax.random.normal(k_pairs, (noise_rows, dim))}


@dataclasses.dataclass(frozen=True)
class InSituCrossbarNet:
    """`StochasticNetFn`: dx = f(x, t) dt + (g(t)^2 dt / sigma(t)) * h(x, t; P-bits), one crossbar pass.

    h is the score net's output layer read in exact mode over [hidden activations, r(t),
    r(t)] with cells [W; +A; -A]. With the P-bits held fixed and A = 0 it is exactly the
    ex-situ drift (score = -z_hat / sigma); the read's P-bit spread supplies g sqrt|dt| z.

    params: {"score": the ex-situ net's params (copied, unchanged), "noise": init_noise_params(...)}.
    """

    score_net: CrossbarEpsNet
    sde: AbstractSDE
    noise_rows: int = 16
    keep_prob: float | None = None  # None: P_sw of the calibrated pulse (1.5 V, 700 ps; Fig. 12) = 0.5

    @property
    def out_config(self) -> CrossbarConfig:
        rows = self.score_net.hidden + 2 * self.noise_rows
        return self.score_net.config(rows, mode="exact", keep_prob=self.keep_prob)

    def noise_level(self, noise_params, t: jax.Array) -> jax.Array:
        """r(t) [R] >= 0: the DAC drive of the noise rows (digital periphery, one per step)."""
        temb = sinusoidal_embedding(jnp.reshape(t, (1,)), self.score_net.t_dim)
        return nn.softplus(nn.Dense(self.noise_rows).apply({"params": noise_params["level"]}, temb))[0]

    def out_kernel(self, params) -> tuple[jax.Array, jax.Array]:
        """Cells [H + 2R, D] of the output read, [W; +A; -A], and the digital bias [D]."""
        last = params["score"]["params"][f"layer_{self.score_net.depth}"]
        a = params["noise"]["pairs"]
        return jnp.concatenate([last["kernel"], a, -a], axis=0), last["bias"]

    def eps(self, params, x, t, read_key, sample_index) -> jax.Array:
        """One stochastic pass h [B, D] of the MC-dropconnect output read."""
        batch = x.shape[0]
        tb = jnp.broadcast_to(t, (batch,))
        hidden = self.score_net.apply(params["score"], x, tb, sample_index=sample_index, return_hidden=True)
        r = jnp.broadcast_to(self.noise_level(params["noise"], t)[None, :], (batch, self.noise_rows))
        kernel, bias = self.out_kernel(params)
        layer = CrossbarDense(self.score_net.dim, config=self.out_config, deterministic=False)
        return layer.apply({"params": {"kernel": kernel, "bias": bias}}, jnp.concatenate([hidden, r, r], axis=-1),
                           rngs={"pbit": read_key}, sample_index=sample_index)

    def __call__(self, params, x, t, dt, read_key, sample_index):
        h = self.eps(params, x, t, read_key, sample_index)
        return self.sde.drift(x, t) * dt + (jnp.square(self.sde.diffusion(t)) * dt / self.sde.std(t)) * h


def crossbar_layer_shapes(net: CrossbarEpsNet, noise_rows: int = 0) -> list[tuple[int, int, Any]]:
    """(rows, cols, config) of every read of one pass: the score net, or the in-situ net if noise_rows."""
    rows = [net.dim + net.t_dim] + [net.hidden] * net.depth
    cols = [net.hidden] * net.depth + [net.dim]
    shapes = [(n, m, net.config(n)) for n, m in zip(rows, cols)]
    if noise_rows:
        insitu = InSituCrossbarNet(net, None, noise_rows)  # sde unused for the configuration
        shapes[-1] = (net.hidden + 2 * noise_rows, net.dim, insitu.out_config)
    return shapes
