"""P-bit stochastic bitstreams in the two write modes: reset-then-write and toggle (Figs. 14-16)."""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from cimjax.errors import ConfigError
from cimjax.device._table import _check_probability

MODES = ("reset", "toggle")


@partial(jax.jit, static_argnames=("n_pulses", "mode"))
def _bitstream(key, p_sw, initial_state, n_pulses: int, mode: str):
    # One 24-bit uniform integer per pulse and device (the resolution of a float32 uniform):
    # a pulse switches the free layer when it falls below p_sw * 2^24, exact for p = 0 and 1.
    u24 = (jax.random.bits(key, (*p_sw.shape, n_pulses), jnp.uint32) >> 8).astype(jnp.int32)
    threshold = jnp.round(p_sw * 2.0**24).astype(jnp.int32)
    flips = (u24 < threshold[..., None]).astype(jnp.uint8)
    if mode == "toggle":
        # State after pulse k is the parity of the flips so far: a cumulative XOR (parallel scan).
        flips = jax.lax.associative_scan(jnp.bitwise_xor, flips, axis=-1)
    return flips ^ initial_state[..., None]


def pbit_bitstream(key: jax.Array, p_sw, n_pulses: int, mode: str = "reset", initial_state=0) -> jax.Array:
    """States read after each of `n_pulses` write pulses on P-bits of switching probability `p_sw`.

    Modes (both symmetric in P->AP and AP->P, as precessional VCMA switching toggles either way):

    * ``"reset"``: before each pulse the P-bit is reset to `initial_state` (in the
      probabilistic differential pair, the data-bit's state); bit k is
      initial_state XOR Bernoulli(p_sw), independent over k (Fig. 14, 16).
    * ``"toggle"``: no reset; each pulse flips the state with probability p_sw, a two-state
      Markov chain with lag-1 autocorrelation 1 - 2 p_sw.

    Args:
      key: PRNG key; the same key gives the same stream.
      p_sw: switching probability per device, shape S, values in [0, 1].
      n_pulses: number of pulses (static).
      mode: "reset" or "toggle".
      initial_state: 0 (P) or 1 (AP), scalar or shape S.

    Returns:
      uint8 array of shape (*S, n_pulses) with values 0 / 1.

    Raises:
      ConfigError: unknown mode, p_sw outside [0, 1] or NaN, bad n_pulses or initial_state.
    """
    if mode not in MODES:
        raise ConfigError(f"pbit_bitstream: {mode=} must be one of {MODES}")
    if int(n_pulses) != n_pulses or n_pulses < 1:
        raise ConfigError(f"pbit_bitstream: {n_pulses=} must be a positive integer")
    _check_probability(p_sw, "p_sw")
    p_sw = jnp.asarray(p_sw, dtype=jnp.float32)
    if not isinstance(initial_state, jax.core.Tracer):
        state = jnp.asarray(initial_state)
        if not bool(jnp.all((state == 0) | (state == 1))):
            raise ConfigError(f"pbit_bitstream: {initial_state=} must be 0 or 1")
    initial_state = jnp.broadcast_to(jnp.asarray(initial_state, jnp.uint8), p_sw.shape)
    return _bitstream(key, p_sw, initial_state, int(n_pulses), mode)
