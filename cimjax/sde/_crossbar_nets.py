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
import functools
import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from cimjax.crossbar import (CrossbarConfig, Mapping, PbitConfig, Periphery, Tile, crossbar_matmul, crossbar_moments,
                             keep_probability, nominal_keep_probability)
from cimjax.errors import ConfigError
from cimjax.nn import CrossbarDense, sinusoidal_embedding
from cimjax.sde._sde import AbstractSDE

__all__ = [
    "periphery_config", "CrossbarEpsNet", "EpsScore", "InSituCrossbarNet", "init_noise_params", "crossbar_layer_shapes",
]

TILE_ROWS = 256  # assumption: 256 x 256 arrays (cimjax.crossbar's default tile)
ADC_HEADROOM = 0.5  # assumption: ADC full scale = 0.5 dac_range sqrt(rows), ~10x a trained layer's column-sum std


@dataclasses.dataclass(frozen=True)
class Hardware:
    """The non-idealities of the networks' crossbars: weight mapping, programming, read noise, P_sw spread.

    Attributes:
      scheme, bits: the weight mapping (`cimjax.crossbar.Mapping`): "bitslice" holds |w| in
        `bits` binary pairs of states {-1, 0, +1} (Fig. 9), recombined by shift-and-add;
        "analog" is the float reference.
      programming_sigma: relative spread of each pair's programmed output (Fig. 8); None: the device's.
      read_noise: per-read conductance noise of every cell (Fig. 15); None: the device's.
      pbit_spread: device-to-device spread of P_sw (Fig. 13) in the stochastic reads.
    """

    scheme: str = "bitslice"  # Fig. 9: pairs of binary MTJs, 3 states per pair
    bits: int = 4  # assumption: 4 magnitude bits per weight (4 pairs)
    programming_sigma: float | None = None  # None: the device's (cimjax.crossbar default; Figs. 7-8)
    read_noise: float | None = None  # None: the device's (cimjax.crossbar default; Fig. 15)
    pbit_spread: bool = True  # Fig. 13: P_sw spread of the device preset

    def __post_init__(self):
        Mapping(scheme=self.scheme, bits=self.bits)  # validates the mapping
        for name in ("programming_sigma", "read_noise"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                raise ConfigError(f"Hardware: {name}={value!r} must be a number in [0, 1)")

    @classmethod
    def ideal(cls) -> "Hardware":
        """Float conductances, no programming variation, no read noise, no P_sw spread."""
        return cls(scheme="analog", programming_sigma=0.0, read_noise=0.0, pbit_spread=False)

    @property
    def is_ideal(self) -> bool:
        return self == Hardware.ideal()


def periphery_config(rows: int, *, dac_bits: int | None, adc_bits: int | None, dac_range: float,
                     mode: str = "off", keep_prob: float | None = None, voltage: float | None = None,
                     hardware: Hardware | None = None, layer: int = 0) -> CrossbarConfig:
    """The crossbar of one layer with `rows` inputs: pair mapping, DAC/ADC, non-idealities, P-bit mode.

    The ADC full scale follows the rows one tile sums, sqrt-law: a column of R cells of
    random sign and inputs up to dac_range sums to about dac_range sqrt(R) at most
    (times ADC_HEADROOM), not the never-reached worst case dac_range R, so the ADC's
    levels cover the signal. keep_prob and voltage None: the calibrated pulse's P_sw.
    `hardware` None: `Hardware.ideal()`. `layer` is the programming seed: each layer's
    variation and P_sw spread are its own draws.
    """
    hw = Hardware.ideal() if hardware is None else hardware
    tile_rows = min(rows, TILE_ROWS)
    periphery = Periphery(dac_bits=dac_bits, dac_range=float(dac_range), adc_bits=adc_bits,
                          adc_range=ADC_HEADROOM * float(dac_range) * math.sqrt(tile_rows),
                          read_noise=None if hw.read_noise is None else float(hw.read_noise))
    pbit = PbitConfig(mode=mode, keep_prob=keep_prob, voltage=voltage, spread=hw.pbit_spread)
    return CrossbarConfig(mapping=Mapping(scheme=hw.scheme, bits=hw.bits), periphery=periphery,
                          tile=Tile(rows=TILE_ROWS, cols=TILE_ROWS), pbit=pbit,
                          programming_sigma=None if hw.programming_sigma is None else float(hw.programming_sigma),
                          programming_seed=int(layer))


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
    hardware: Hardware = Hardware.ideal()  # the demo passes its own (non-ideal by default)

    def config(self, rows: int, layer: int, **pbit) -> CrossbarConfig:
        """The crossbar of layer `layer` with `rows` inputs (`periphery_config`)."""
        return periphery_config(rows, dac_bits=self.dac_bits, adc_bits=self.adc_bits, dac_range=self.dac_range,
                                hardware=self.hardware, layer=layer, **pbit)

    @nn.compact
    def __call__(self, x, t, *, sample_index=None, return_hidden: bool = False):
        h = jnp.concatenate([x, sinusoidal_embedding(t, self.t_dim)], axis=-1)
        for i in range(self.depth):
            layer = CrossbarDense(self.hidden, config=self.config(h.shape[-1], i), deterministic=True,
                                  name=f"layer_{i}")
            h = nn.swish(layer(h, sample_index=sample_index))
        if return_hidden:
            return h
        out = CrossbarDense(self.dim, config=self.config(self.hidden, self.depth), deterministic=True,
                            name=f"layer_{self.depth}")
        return out(h, sample_index=sample_index)


def hidden_rngs(read_key: jax.Array | None) -> dict:
    """The `rngs` of the P-bit-fixed reads of one pass: fresh read noise per step, or none given."""
    return {} if read_key is None else {"pbit": jax.random.fold_in(read_key, 0)}


@dataclasses.dataclass(frozen=True)
class EpsScore:
    """`ScoreFn` from the crossbar noise-prediction net (P-bits fixed): s(x, t) = -z_hat(x, t) / sigma(t)."""

    model: CrossbarEpsNet
    sde: AbstractSDE

    def __call__(self, params, x, t, sample_index, read_key=None):
        tb = jnp.broadcast_to(t, (x.shape[0],))
        z_hat = self.model.apply(params, x, tb, sample_index=sample_index, rngs=hidden_rngs(read_key))
        return -z_hat / self.sde.std(t)


def init_noise_params(key: jax.Array, noise_rows: int, dim: int, t_dim: int) -> dict:
    """Initial noise-row parameters: the level map t -> r(t) and the pair cells A [R, D]."""
    k_level, k_pairs = jax.random.split(key)
    level = jax.jit(nn.Dense(noise_rows).init)(k_level, jnp.zeros((1, t_dim)))["params"]
    return {"level": level, "pairs": 0.1 * jax.random.normal(k_pairs, (noise_rows, dim))}


def pbit_only(config: CrossbarConfig) -> CrossbarConfig:
    """`config` without read noise and ADC rounding: its `crossbar_moments` variance is the P-bits' alone."""
    periphery = dataclasses.replace(config.periphery, read_noise=0.0, adc_bits=None)
    return dataclasses.replace(config, periphery=periphery)


def weight_keep_probability(config: CrossbarConfig, rows: int, cols: int) -> jax.Array:
    """[rows, cols] keep probability of every weight: its pairs' P_sw (with the config's spread), slice mean."""
    slices = config.mapping.slices
    return jnp.mean(keep_probability(config, (rows, cols * slices)).reshape(rows, cols, slices), axis=-1)


@functools.lru_cache(maxsize=64)
def nominal_keep(config: CrossbarConfig) -> float:
    """The nominal P_sw of `config`'s write pulse, a constant even while a jit traces."""
    with jax.ensure_compile_time_eval():
        return nominal_keep_probability(config.pbit)


VARIANTS = ("noise_rows", "rows_only")


@dataclasses.dataclass(frozen=True)
class InSituCrossbarNet:
    """`StochasticNetFn`: dx = f(x, t) dt + (g(t)^2 dt / sigma(t)) * h(x, t; P-bits), one crossbar pass.

    h is the score net's output layer read in exact mode over [hidden activations, r(t),
    r(t)] with cells [W; +A; -A]: the ex-situ drift's weights plus 2R noise rows. The +A
    and -A rows' mean cancels (up to the P_sw spread, Fig. 13), their P-bits spread the
    read by g sqrt|dt| z.

    Variants (which P-bits the read writes):
    * "noise_rows": every cell's; the weights' cells are read at keep probability p and
      the column gain 1/p restores their mean (the weight cells' P-bits add 1-2% of the
      variance, the noise rows the rest).
    * "rows_only": only the noise rows' P-bits; the weight cells' are held in the switched
      state (kept), so the weights read deterministically, no gain; the fewest writes.
    A weight's pairs share one keep probability here, their mean P_sw under the spread.

    params: {"score": the ex-situ net's params (copied, unchanged), "noise": init_noise_params(...)}.
    """

    score_net: CrossbarEpsNet
    sde: AbstractSDE
    noise_rows: int = 16
    keep_prob: float | None = None  # None: P_sw of the calibrated pulse (1.5 V, 700 ps; Fig. 12) = 0.5
    variant: str = "noise_rows"

    def __post_init__(self):
        if self.variant not in VARIANTS:
            raise ConfigError(f"InSituCrossbarNet: variant={self.variant!r} is not one of {VARIANTS}")

    @property
    def out_config(self) -> CrossbarConfig:
        rows = self.score_net.hidden + 2 * self.noise_rows
        return self.score_net.config(rows, self.score_net.depth, mode="exact", keep_prob=self.keep_prob)

    def keep(self, weight_cells: bool = True) -> jax.Array:
        """[H + 2R, D] keep probabilities of the output read; `weight_cells` False holds the weights' P-bits."""
        hidden, dim = self.score_net.hidden, self.score_net.dim
        p = weight_keep_probability(self.out_config, hidden + 2 * self.noise_rows, dim)
        held = (not weight_cells) or self.variant == "rows_only"
        return p.at[:hidden].set(1.0) if held else p

    @property
    def gain(self) -> float:
        """Digital column gain after the ADC: 1/p restores the weights' mean unless their P-bits are held."""
        return 1.0 if self.variant == "rows_only" else 1.0 / nominal_keep(self.out_config)

    def noise_level(self, noise_params, t: jax.Array) -> jax.Array:
        """r(t) [R] >= 0: the DAC drive of the noise rows (digital periphery, one per step)."""
        temb = sinusoidal_embedding(jnp.reshape(t, (1,)), self.score_net.t_dim)
        return nn.softplus(nn.Dense(self.noise_rows).apply({"params": noise_params["level"]}, temb))[0]

    def out_kernel(self, params) -> tuple[jax.Array, jax.Array]:
        """Cells [H + 2R, D] of the output read, [W; +A; -A], and the digital bias [D]."""
        last = params["score"]["params"][f"layer_{self.score_net.depth}"]
        a = params["noise"]["pairs"]
        return jnp.concatenate([last["kernel"], a, -a], axis=0), last["bias"]

    def read_inputs(self, params, x, t, read_key, sample_index) -> jax.Array:
        """[B, H + 2R]: the hidden activations (P-bits fixed) and the noise rows' drive r(t), twice."""
        tb = jnp.broadcast_to(t, (x.shape[0],))
        hidden = self.score_net.apply(params["score"], x, tb, sample_index=sample_index, return_hidden=True,
                                      rngs=hidden_rngs(read_key))
        r = jnp.broadcast_to(self.noise_level(params["noise"], t)[None, :], (x.shape[0], self.noise_rows))
        return jnp.concatenate([hidden, r, r], axis=-1)

    def eps(self, params, x, t, read_key, sample_index) -> jax.Array:
        """One stochastic pass h [B, D] of the MC-dropconnect output read."""
        kernel, bias = self.out_kernel(params)
        u = self.read_inputs(params, x, t, read_key, sample_index)
        y = crossbar_matmul(u, kernel, jax.random.fold_in(read_key, 1), self.out_config, keep_prob=self.keep(),
                            sample_index=sample_index)
        return self.gain * y + bias[None, :]

    def moments(self, params, x, t, read_key, sample_index) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Closed form over the output read's P-bits: (mean of h, var of h, the weight cells' P-bit var), [B, D]."""
        kernel, _ = self.out_kernel(params)
        u = self.read_inputs(params, x, t, read_key, sample_index)
        mean, var = crossbar_moments(u, kernel, self.out_config, keep_prob=self.keep())
        if self.variant == "rows_only":
            weights_var = jnp.zeros_like(var)
        else:  # the noise rows' P-bits held: what is left is the weight cells'
            hidden = self.score_net.hidden
            p = self.keep().at[hidden:].set(1.0)
            weights_var = crossbar_moments(u, kernel, pbit_only(self.out_config), keep_prob=p)[1]
        g2 = self.gain**2
        bias = params["score"]["params"][f"layer_{self.score_net.depth}"]["bias"]
        return self.gain * mean + bias[None, :], g2 * var, g2 * weights_var

    def __call__(self, params, x, t, dt, read_key, sample_index):
        h = self.eps(params, x, t, read_key, sample_index)
        return self.sde.drift(x, t) * dt + (jnp.square(self.sde.diffusion(t)) * dt / self.sde.std(t)) * h


def crossbar_layer_shapes(net: CrossbarEpsNet, noise_rows: int = 0, variant: str = "noise_rows",
                          out_config: CrossbarConfig | None = None) -> list[tuple[int, int, Any]]:
    """(rows, cols, config) of every read of one pass: the score net's, or an in-situ net's.

    noise_rows > 0: the noise-row in-situ net (`variant`); "rows_only" writes only the noise
    rows, priced as two reads of the output tile (the weight rows with P-bits fixed, the 2R
    noise rows written), which counts its ADC conversions twice. out_config: the native
    in-situ net's stochastic output read.
    """
    rows = [net.dim + net.t_dim] + [net.hidden] * net.depth
    cols = [net.hidden] * net.depth + [net.dim]
    shapes = [(n, m, net.config(n, i)) for i, (n, m) in enumerate(zip(rows, cols))]
    if noise_rows:
        insitu = InSituCrossbarNet(net, None, noise_rows, variant=variant)  # sde unused for the configuration
        shapes[-1] = (net.hidden + 2 * noise_rows, net.dim, insitu.out_config)
        if variant == "rows_only":
            shapes[-1:] = [(net.hidden, net.dim, net.config(net.hidden, net.depth)),
                           (2 * noise_rows, net.dim, insitu.out_config)]
    elif out_config is not None:
        shapes[-1] = (net.hidden, net.dim, out_config)
    return shapes
