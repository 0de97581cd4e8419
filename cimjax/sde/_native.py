"""The native in-situ sampler: the score net's own weight cells' P-bits are the diffusion noise.

`NativeInSituNet` reads the score net (its architecture and, fine-tuned, its weights)
with the output layer's P-bits written at every step (mode "exact", MC dropconnect,
Fig. 22b): no added rows. One pass h [B, D] gives the whole step,

    dx = f(x, t) dt + (g(t)^2 dt / sigma(t)) * h,
    h = G(t) / p * read(a(x, t); W, P-bits) + b,

so E[h] must be the ex-situ z_hat(x, t) and Var[h] = sigma(t)^2 / (g(t)^2 |dt|), a
spread of 1-3 times the mean: the weights learn it by themselves, from the P-bit
variance p (1 - p) sum_n a_n^2 w_nm^2 of their own cells. The physical knobs:

* the stochastic layer: the output layer only (its moments then have a closed form,
  `cimjax.crossbar.crossbar_moments`, which the training uses); the hidden layers read
  with P-bits fixed;
* the keep probability p = P_sw(V, 700 ps) through the write voltage V (Fig. 12), one
  per segment of the reverse-time grid (`voltages`), each inside the device's window;
* the digital gain G(t) > 0 after the ADC (one number per step, like the 1/p gain);
* a digital offset b_k [D] per column and step k, calibrated after training in closed
  form (`calibrate_offsets`): the mean over states of the ex-situ target minus the pass's
  mean. Measured (demo defaults, seed 0): the trained weights left per-column offsets of
  0.03-0.07 (in units of z) at every t, the loss's gradient on the output bias far from
  zero; they, not the noise, spoiled the samples (Frechet 5.60 at n = 1000 against
  ex-situ's 2.37; the native mean with exact Gaussian noise 4.78, the ex-situ mean with
  the native pass's noise 2.64); calibrated, 1.83 against ex-situ's 2.00 at n = 4000;
* the pass's spread per state: its variance follows the hidden activations, the target's
  does not; the fine-tuning's variance weight (`train_native`'s `var_weight`) holds it to
  the target in every state (measured: most of the gap to ex-situ, see `train_native`);
* the pass's shape: a Bernoulli sum, skewed at P_sw 0.1; the fine-tuning's skewness term
  (`train_native`'s `skew_weight`) keeps it near a Gaussian's;
* width: the score net's, unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from cimjax.crossbar import CrossbarConfig, crossbar_cumulant, crossbar_matmul, crossbar_moments
from cimjax.device import device_preset
from cimjax.errors import ConfigError
from cimjax.kernels import check_prng_key
from cimjax.nn import TrainConfig, TrainState, fit_loss, sinusoidal_embedding
from cimjax.sde._crossbar_nets import CrossbarEpsNet, hidden_rngs, nominal_keep, pbit_only
from cimjax.sde._insitu_training import transition_targets
from cimjax.sde._sde import AbstractSDE
from cimjax.sde._steps import ExSituStep

__all__ = ["NativeInSituNet", "write_voltage_range", "check_write_voltages", "init_native_params", "train_native", "calibrate_offsets"]

# assumption: the device's usable write window is where the nominal P_sw lies in [1%, 99%]
# (Fig. 12's stochastic window); beyond it a P-bit is almost deterministic and the spread
# of Fig. 13 decides its keep probability
P_SW_WINDOW = (0.01, 0.99)


def write_voltage_range(device: str = "default") -> tuple[float, float]:
    """(lowest, highest) write voltage [V] of `device`'s P-bit window at its calibrated width."""
    preset = device_preset(device)
    lo, hi = (float(preset.pbit.voltage_for_probability(p, preset.calibrated_width)) for p in P_SW_WINDOW)
    return lo, hi


def check_write_voltages(voltages, name: str = "voltages") -> tuple[float, ...]:
    """`voltages` as floats [V], each inside the device's write window, else a ConfigError naming `name`[i]."""
    if isinstance(voltages, (str, bytes)) or not hasattr(voltages, "__len__"):
        raise ConfigError(f"{name}={voltages!r} must be a sequence of write voltages [V]")
    lo, hi = write_voltage_range()
    for i, v in enumerate(voltages):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:  # NaN too
            raise ConfigError(f"{name}[{i}]={v!r} V is outside the device's write window "
                              f"[{lo:.3f}, {hi:.3f}] V (P_sw from {P_SW_WINDOW[0]} to {P_SW_WINDOW[1]}, Fig. 12)")
    return tuple(float(v) for v in voltages)


@dataclasses.dataclass(frozen=True)
class NativeInSituNet:
    """`StochasticNetFn` whose noise is the score net's own output-layer P-bits (see the module doc).

    Attributes:
      score_net: the architecture and crossbar of the score net (hidden layers P-bits fixed).
      sde: the forward SDE.
      voltages: write voltage [V] of the output layer's P-bits per equal segment of the
        reverse grid, the first from t = T; () is one segment at the device's calibrated
        1.5 V (P_sw = 0.5, Fig. 12).

    params: {"score": the score net's params (fine-tuned), "gain": {"w": [t_dim], "b": []}} and, after
      `calibrate_offsets`, "offset": [K, D], the digital offset of each of the K steps of the
      reverse grid it was calibrated on (step k at t = T - k (T - eps) / K).
    Raises:
      ConfigError: a voltage outside the device's window (`write_voltage_range`).
    """

    score_net: CrossbarEpsNet
    sde: AbstractSDE
    voltages: tuple[float, ...] = ()

    def __post_init__(self):
        check_write_voltages(self.voltages)

    @property
    def out_configs(self) -> tuple[CrossbarConfig, ...]:
        """The output read's crossbar per voltage segment (exact mode, the hardware's P_sw spread)."""
        net = self.score_net
        return tuple(net.config(net.hidden, net.depth, mode="exact", voltage=v) for v in (self.voltages or (None,)))

    @property
    def keep_probs(self) -> tuple[float, ...]:
        """Nominal P_sw of each segment's write pulse."""
        return tuple(nominal_keep(c) for c in self.out_configs)

    def segment(self, t: jax.Array) -> jax.Array:
        """Index of the voltage segment of time t (0 at t = T)."""
        k = len(self.out_configs)
        frac = (self.sde.T - t) / (self.sde.T - self.sde.eps)
        return jnp.clip(jnp.floor(frac * k).astype(jnp.int32), 0, k - 1)

    def gain(self, params, t: jax.Array) -> jax.Array:
        """G(t) > 0: the digital gain after the ADC at time t (one number per step)."""
        temb = sinusoidal_embedding(jnp.reshape(t, (1,)), self.score_net.t_dim)[0]
        return jnp.exp(jnp.dot(temb, params["gain"]["w"]) + params["gain"]["b"])

    def offset(self, params, t: jax.Array) -> jax.Array:
        """[D] digital offset after the ADC at time t: the calibrated step's (0 before `calibrate_offsets`)."""
        table = params.get("offset")
        if table is None:
            return jnp.zeros((self.score_net.dim,), jnp.float32)
        k = table.shape[0]
        step = jnp.round((self.sde.T - t) / (self.sde.T - self.sde.eps) * k).astype(jnp.int32)
        return table[jnp.clip(step, 0, k - 1)]

    def _last(self, params):
        last = params["score"]["params"][f"layer_{self.score_net.depth}"]
        return last["kernel"], last["bias"]

    def hidden(self, params, x, t, read_key, sample_index) -> jax.Array:
        """[B, H] activations of the hidden reads (P-bits fixed, fresh read noise per step)."""
        tb = jnp.broadcast_to(t, (x.shape[0],))
        return self.score_net.apply(params["score"], x, tb, sample_index=sample_index, return_hidden=True,
                                    rngs=hidden_rngs(read_key))

    def _by_segment(self, t, fn):
        branches = [lambda c=c, p=p: fn(c, p) for c, p in zip(self.out_configs, self.keep_probs)]
        return branches[0]() if len(branches) == 1 else jax.lax.switch(self.segment(t), branches)

    def eps(self, params, x, t, read_key, sample_index) -> jax.Array:
        """One stochastic pass h [B, D]."""
        a = self.hidden(params, x, t, read_key, sample_index)
        kernel, bias = self._last(params)
        key = jax.random.fold_in(read_key, 1)
        y = self._by_segment(t, lambda c, p: crossbar_matmul(a, kernel, key, c, sample_index=sample_index) / p)
        return self.gain(params, t) * y + (bias + self.offset(params, t))[None, :]

    def moments(self, params, x, t, read_key, sample_index) -> tuple[jax.Array, jax.Array, jax.Array]:
        """Closed form over the output read: (mean of h, var of h, its weight cells' P-bit var), each [B, D].

        var adds the read noise and ADC rounding of the output read to the P-bits'.
        """
        return self.cumulants(params, x, t, read_key, sample_index)[:3]

    def cumulants(self, params, x, t, read_key, sample_index) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
        """`moments` and the P-bits' third cumulant of h [B, D] (`crossbar_cumulant`; the periphery's noise is symmetric)."""
        a = self.hidden(params, x, t, read_key, sample_index)
        kernel, bias = self._last(params)

        def per_segment(c, p):
            mean, var = crossbar_moments(a, kernel, c)
            return (mean / p, var / p**2, crossbar_moments(a, kernel, pbit_only(c))[1] / p**2,
                    crossbar_cumulant(a, kernel, c, order=3) / p**3)

        mean, var, pbit_var, k3 = self._by_segment(t, per_segment)
        g = self.gain(params, t)
        return g * mean + (bias + self.offset(params, t))[None, :], g * g * var, g * g * pbit_var, g**3 * k3

    def __call__(self, params, x, t, dt, read_key, sample_index):
        h = self.eps(params, x, t, read_key, sample_index)
        return self.sde.drift(x, t) * dt + (jnp.square(self.sde.diffusion(t)) * dt / self.sde.std(t)) * h


def init_native_params(score_params: Any, t_dim: int) -> dict:
    """The native net's starting point: a copy of the ex-situ score net's params (training may donate its buffers), gain 1."""
    return {"score": jax.tree_util.tree_map(jnp.array, score_params), "gain": {"w": jnp.zeros((t_dim,), jnp.float32), "b": jnp.zeros((), jnp.float32)}}


def _check_native_inputs(where: str, net: "NativeInSituNet", teacher: ExSituStep, latents: Any) -> np.ndarray:
    """latents (n, D) finite numbers of the score net's width, and teacher and net on one SDE."""
    if not isinstance(teacher, ExSituStep):
        raise ConfigError(f"{where}: teacher={teacher!r} must be an ExSituStep")
    if teacher.sde != net.sde:
        raise ConfigError(f"{where}: the teacher's sde {teacher.sde!r} differs from the net's {net.sde!r}")
    try:
        arr = np.asarray(latents, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: latents must be an array of numbers: {err}") from None
    dim = net.score_net.dim
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ConfigError(f"{where}: latents.shape={arr.shape} must be (n, {dim}), the score net's width")
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ConfigError(f"{where}: latents hold a non-finite value {arr[bad]} at index {bad}")
    return arr


def train_native(net: NativeInSituNet, teacher: ExSituStep, teacher_params: Any, latents: np.ndarray,
                 config: TrainConfig, num_steps: int, *, n_steps: int, times: int = 4, mean_weight: float = 1.0,
                 var_weight: float = 1.0, skew_weight: float = 0.0, key: jax.Array | None = None,
                 **fit_kwargs: Any) -> tuple[TrainState, np.ndarray]:
    """Fine-tunes every weight of the native net (and its gain) so one pass is the ex-situ transition.

    States x_t ~ p_t (the forward marginal of `latents`) at `times` grid times per
    minibatch. In units of the transition's noise c = g sqrt|dt| the target is N(m, 1)
    per coordinate; with the pass's closed-form moments (mean mu, variance v in those
    units) the loss matches each moment on its own:

        0.5 var_weight (log v + 1 / v) + 0.5 mean_weight (mu - m)^2,

    which is KL(target || pass) up to a constant for both weights 1 and v = 1. The
    target's spread c is the same for every state, the pass's variance is not: it is
    (1 - p) / p sum_n a_n^2 w_n^2 over the hidden activations a(x, t), so it moves with
    the state. Near v = 1 the variance term is ~ var_weight * (std error)^2 against
    mean_weight / 2 * u^2, so with var_weight 1 and mean_weight 200 the loss let the std
    drift ~7% from state to state, and that, not the mean, was most of the native
    sampler's gap to ex-situ (measured, demo defaults, seed 1, n = 4000: native mean with
    exact Gaussian noise Frechet 1.13, with Gaussian noise of the pass's own closed-form
    variance 1.56, the native pass itself 1.83, ex-situ 1.02). The
    variance term's optimum is v = 1 whatever the mean's residual (the NLL's
    (1 + w (mu - m)^2) / v would widen the pass by that residual: measured +10% std).
    The mean's residual is not the weight's to remove: weighing the mean error relative
    to the increment (3x more at 100 steps) left it at 14% and doubled the std error
    (measured, demo defaults, seed 0); with offsets calibrated and 2400 steps, the squared
    relative error of the increment as the mean term (weight 6, the same on average) gave a
    mean error of 0.078 against 0.084 and std error 0.069 against 0.059, but a Frechet
    distance of 2.27 against 1.84 (n = 4000, ex-situ 2.00).
    The pass is a sum of Bernoulli-kept cells, not a Gaussian: at P_sw 0.1 each cell's
    skewness is 2.67, and a few large cells left the trained pass with skewness -1.1 and
    excess kurtosis 1.8 in one coordinate at every step (measured, seed 0), always of one
    sign, so it does not average out along a trajectory. `skew_weight` adds the leading
    skewness term of the KL divergence between the pass's Edgeworth expansion and a
    Gaussian, skew_weight * skew^2 / 12, skew = k3 / var^1.5 from the closed-form third
    cumulant of the output read (`cimjax.crossbar.crossbar_cumulant`). The kurtosis term
    (kurt^2 / 48) as well was worse (seed 0, weight 10: mean error 0.100 against 0.089).
    Deterministic (no P-bit sampling in the loss). `key` is unused (the start is the
    teacher's params).

    Returns:
      (state, losses) of `fit_loss`; state.params are the native net's params.
    """
    del key
    for name, value in (("mean_weight", mean_weight), ("var_weight", var_weight), ("skew_weight", skew_weight)):
        if not float(value) >= 0.0:  # NaN too
            raise ConfigError(f"train_native: {name}={value!r} must be a number >= 0")
    latents = _check_native_inputs("train_native", net, teacher, latents)
    if isinstance(times, bool) or not isinstance(times, (int, np.integer)) or times < 1:
        raise ConfigError(f"train_native: times={times!r} must be an integer >= 1")
    sde = teacher.sde
    grid = sde.time_grid(n_steps)
    if latents.shape[0] < config.batch_size or config.batch_size % times:
        raise ConfigError(f"batch_size={config.batch_size} must be a multiple of {times=} and <= the data")
    params0 = init_native_params(teacher_params, net.score_net.t_dim)

    def one_time(params, x0, sample_index, k):
        k_i, k_x = jax.random.split(k)
        i = jax.random.randint(k_i, (), 0, n_steps)
        t, dt = grid[i], grid[i + 1] - grid[i]
        mean, std = sde.marginal(x0, t)
        xt = mean + std * jax.random.normal(k_x, x0.shape)
        dm, c = jax.lax.stop_gradient(transition_targets(teacher, teacher_params, xt, t, dt))
        k_h = jnp.square(sde.diffusion(t)) * dt / sde.std(t)  # dx per unit of h
        # read_key None: the hidden reads' noise from the fixed key, as in the score net's training
        # (a fresh key can draw an infinite read-noise normal, whose clipped read has a NaN gradient)
        mu, var, _, k3 = net.cumulants(params, xt, t, None, sample_index)
        u = (sde.drift(xt, t) * dt + k_h * mu - dm) / c
        v = jnp.maximum(var * jnp.square(k_h / c), 1e-3)  # floor: std >= 3% of the target
        skew = k3 / jnp.maximum(var, 1e-12) ** 1.5
        return jnp.mean(0.5 * (var_weight * (jnp.log(v) + 1.0 / v) + mean_weight * jnp.square(u))
                        + skew_weight * jnp.square(skew) / 12)

    def loss(params, x0, sample_index, k):
        groups = x0.reshape(times, -1, x0.shape[-1])
        ids = sample_index.reshape(times, -1)
        keys = jax.random.split(k, times)
        return jnp.mean(jax.vmap(lambda x, i, kk: one_time(params, x, i, kk))(groups, ids, keys))

    return fit_loss(loss, params0, latents, config, num_steps, **{"desc": "native in-situ net", **fit_kwargs})


def calibrate_offsets(net: NativeInSituNet, teacher: ExSituStep, teacher_params: Any, params: Any,
                      latents: np.ndarray, *, n_steps: int, key: jax.Array, states: int = 1024,
                      reads: int = 4) -> dict:
    """The native params with "offset" [n_steps, D]: each step's digital column offsets, in closed form.

    At grid step k, `states` states x ~ p_t (the forward marginal of random `latents`); the
    target is the ex-situ transition's mean in units of h (the mean of `reads` ex-situ reads,
    fresh read noise each, as when sampling) and the offset is its mean minus the pass's
    closed-form mean over the states (hidden reads with fresh read noise): the least-squares
    offset of the mean term of `train_native`'s loss at that step, the weights and gain held.
    Every draw descends from `key`.

    Raises:
      ConfigError: `n_steps`, `states` or `reads` below 1, or no latents.
    """
    sde = teacher.sde
    grid = sde.time_grid(n_steps)
    for name, value in (("states", states), ("reads", reads), ("len(latents)", len(latents))):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ConfigError(f"calibrate_offsets: {name}={value!r} must be an integer >= 1")
    latents = _check_native_inputs("calibrate_offsets", net, teacher, latents)
    check_prng_key(key, "calibrate_offsets: ")
    base = {k: v for k, v in params.items() if k != "offset"}
    data = jnp.asarray(latents, jnp.float32)
    ids = jnp.arange(states, dtype=jnp.uint32)

    @jax.jit
    def at(k):
        t, dt = grid[k], grid[k + 1] - grid[k]
        k_data, k_x, k_read = jax.random.split(jax.random.fold_in(key, k), 3)
        x0 = data[jax.random.randint(k_data, (states,), 0, data.shape[0])]
        mean, std = sde.marginal(x0, t)
        xt = mean + std * jax.random.normal(k_x, x0.shape)
        target = jnp.mean(teacher.mean_reads(teacher_params, xt, t, dt, ids, jax.random.split(k_read, reads)), 0)
        k_h = jnp.square(sde.diffusion(t)) * dt / sde.std(t)  # dx per unit of h
        h_target = (target - xt - sde.drift(xt, t) * dt) / k_h
        mu, _, _ = net.moments(base, xt, t, jax.random.fold_in(k_read, reads), ids)  # a key no teacher read has
        return jnp.mean(h_target - mu, axis=0)

    return {**base, "offset": jnp.stack([at(k) for k in range(n_steps)])}
