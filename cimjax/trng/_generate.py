"""Stochastic bit streams from emulated P-bit arrays (Figs. 14-15).

Each device of the array gets its own switching curve (device-to-device spread of
P_sw, Fig. 13), is written `n_bits` times at one pulse (voltage, width) in reset or
toggle mode, and each resulting state is read out as a noisy conductance (Fig. 15).
Two remedies for the spread: trimming (each device written at its own 50% voltage)
and debiasing (XOR or von Neumann over pairs of raw bits, `cimjax.trng.debias`).

Endurance (Fig. 19): a run counts the write cycles it puts on each P-bit, a reset and a
write per bit in reset mode (the reset pulse counted on every bit, as the energy model
prices it: an upper bound where a verify read skips unswitched cells), one write per bit
in toggle mode, times the raw bits behind each output bit when debiased. Where the
preset's `Endurance` drifts, P_sw follows the cycles along the stream, piecewise constant
over chunks.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from cimjax.device import check_cycles, curve_after_cycles, default_preset, pbit_bitstream, pulse_for_probability
from cimjax.device import sample_pbit_curves
from cimjax.errors import ConfigError
from cimjax.trng._debias import check_debias_method, debias as debias_bits, debias_rate

MODES = ("reset", "toggle")
WRITES_PER_BIT = {"reset": 2, "toggle": 1}  # reset mode: a reset pulse, then the stochastic write
MAX_RAW_PER_OUTPUT = 64  # assumption: refuse debiasing that needs more raw bits per output bit (P_sw far from 1/2)


class PbitStreams(NamedTuple):
    """Bit streams of an emulated P-bit array.

    Attributes:
      bits: (devices, n_bits) uint8; 1 = the P-bit switched away from its initial (P) state
        (after debiasing: the extractor's output bits).
      p_sw: (devices,) switching probability of each device at the pulse used.
      conductance: (devices, n_bits) float32 read-out conductance of each bit [S] (Fig. 15);
        None for debiased streams, whose bits are not single reads.
      mode: "reset" or "toggle".
      voltage: (devices,) write amplitude of each device [V] (NaN where p_sw was forced).
      raw_bits: (devices,) int64 raw bits behind each stream (n_bits unless debiased).
      write_cycles: (devices,) int64 write pulses the run put on each P-bit: raw_bits times
        2 (reset mode: reset + write) or 1 (toggle mode).
      cycles_before: write cycles each P-bit had before the run.
      drift: the P_sw each chunk of the raw stream was drawn at, where the preset's
        endurance drifts; None otherwise (p_sw is then the P_sw of every bit; with drift,
        p_sw is the P_sw at `cycles_before`).
    """

    bits: np.ndarray
    p_sw: np.ndarray
    conductance: np.ndarray | None
    mode: str
    voltage: np.ndarray | None = None
    raw_bits: np.ndarray | None = None
    write_cycles: np.ndarray | None = None
    cycles_before: float = 0.0
    drift: "StreamDrift | None" = None

    @property
    def raw_bits_per_output_bit(self) -> np.ndarray:
        """(devices,) P-bit writes per delivered bit: 1, 2 (xor), about 1 / (p (1 - p)) (von Neumann)."""
        return self.raw_bits / self.bits.shape[1]


class StreamDrift(NamedTuple):
    """P_sw along a stream whose device drifts with write cycles (piecewise constant).

    Attributes:
      edges: (chunks + 1,) int64 raw-bit index where each chunk starts (and the end).
      cycles: (chunks,) write cycles on each P-bit before the chunk's middle write.
      p_sw: (devices, chunks) switching probability each chunk was drawn at.
    """

    edges: np.ndarray
    cycles: np.ndarray
    p_sw: np.ndarray


def has_spread(preset) -> bool:
    """Whether the preset's P-bit curves vary from device to device (any spread sigma above 0)."""
    import jax

    return any(float(np.max(s)) > 0 for s in jax.tree_util.tree_leaves(preset.pbit_spread))


def _check(n_devices, n_bits, mode, trim, voltage, spread, p_sw, preset, debias):
    if int(n_devices) != n_devices or n_devices < 1:
        raise ConfigError(f"{n_devices=} must be a positive integer")
    if int(n_bits) != n_bits or n_bits < 1:
        raise ConfigError(f"{n_bits=} must be a positive integer")
    if mode not in MODES:
        raise ConfigError(f"{mode=} must be one of {MODES}")
    if debias is not None:
        check_debias_method(debias)
    if not trim:
        return
    if p_sw is not None or voltage is not None or not spread:
        raise ConfigError("trim=True solves each device's voltage from its own curve: it takes no "
                          f"voltage (got {voltage=}), no forced p_sw (got {p_sw=}) and needs spread=True")
    if not has_spread(preset):
        raise ConfigError(f"trim=True: device preset {preset.name!r} has no device-to-device spread "
                          "(every pbit_spread sigma is 0), so there is nothing to trim; drop the trim")


def _probabilities(k_curve, n_devices, voltage, width, preset, spread, p_sw, trim, cycles_before):
    """(p_at, voltage): p_at(cycles) gives each device's P_sw after that many write cycles,
    (devices,) float64; voltage (devices,) float64. A forced p_sw does not drift."""
    import jax.numpy as jnp

    shape = (int(n_devices),)
    if p_sw is not None:
        p = np.asarray(p_sw, dtype=np.float64)
        if p.ndim > 1 or (p.ndim == 1 and p.shape[0] != n_devices) or np.any(~((p >= 0) & (p <= 1))):
            raise ConfigError(f"p_sw must be a scalar or ({n_devices},) array of probabilities in [0, 1]")
        return (lambda cycles: np.broadcast_to(p, shape).astype(np.float64)), np.full(shape, np.nan)
    width = preset.calibrated_width if width is None else width
    if trim:
        voltage = 0.0  # placeholder for the finiteness check; solved per device below
    voltage = preset.calibrated_voltage if voltage is None else voltage
    if not (np.isfinite(voltage) and np.isfinite(width) and width > 0):
        raise ConfigError(f"pulse {voltage=} and {width=} must be finite, width > 0")
    curve = sample_pbit_curves(k_curve, preset, shape) if spread else preset.pbit
    if trim:  # trimmed once, at the cycles the run starts from: the drift then moves P_sw off 1/2
        volts = np.asarray(pulse_for_probability(curve_after_cycles(curve, preset.endurance, cycles_before), 0.5,
                                                 width), dtype=np.float64)
        if np.any(np.isnan(volts)):
            bad = np.flatnonzero(np.isnan(volts))
            raise ConfigError(f"trim: device(s) {bad[:8].tolist()} cannot reach P_sw = 0.5 at width={float(width):g} s "
                              "at any voltage (the width factor is below 1/2); choose a width near the first "
                              "precession peak")
        voltage = jnp.asarray(volts, jnp.float32)

    def p_at(cycles):
        aged = curve_after_cycles(curve, preset.endurance, cycles)
        return np.asarray(jnp.broadcast_to(aged.switching_probability(voltage, width), shape), dtype=np.float64)

    volts = np.broadcast_to(np.asarray(voltage, dtype=np.float64), shape)
    return p_at, volts.copy()


def _drifting_bits(key, p_at, n_raw: int, mode: str, cycles_before: float, chunks: int):
    """(bits (devices, n_raw) uint8, StreamDrift): each chunk drawn at the P_sw of its middle write."""
    import jax
    import jax.numpy as jnp

    w = WRITES_PER_BIT[mode]
    edges = np.round(np.linspace(0, n_raw, min(int(chunks), n_raw) + 1)).astype(np.int64)
    parts, cycles, probs, state = [], [], [], 0
    for c, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        # bit k's write follows cycles_before + w k earlier pulses and, in reset mode, its own reset
        cycles.append(cycles_before + w * 0.5 * (lo + hi - 1) + (w - 1))
        probs.append(p_at(cycles[-1]))
        part = np.asarray(pbit_bitstream(jax.random.fold_in(key, c), jnp.asarray(probs[-1], jnp.float32), int(hi - lo),
                                         mode=mode, initial_state=state), dtype=np.uint8)
        state = jnp.asarray(part[:, -1]) if mode == "toggle" else 0
        parts.append(part)
    return np.concatenate(parts, axis=1), StreamDrift(edges, np.asarray(cycles), np.stack(probs, axis=1))


def _raw_length(n_bits: int, p: np.ndarray, debias: str) -> int:
    """Raw bits per device that give `n_bits` output bits to every device but with probability ~1e-9."""
    if debias == "xor":
        return 2 * n_bits
    q = 2.0 * float(np.min(debias_rate(p, debias)))  # output bits per raw pair of the worst device
    if q * MAX_RAW_PER_OUTPUT < 2.0:
        raise ConfigError(f"von Neumann debiasing at P_sw = {p[np.argmin(p * (1 - p))]:.4g} needs more than "
                          f"{MAX_RAW_PER_OUTPUT} raw bits per output bit; bring P_sw nearer 1/2 (trim)")
    # pairs to collect n_bits successes: mean n / q, sd sqrt(n (1 - q)) / q; 6.1 sd leaves ~1e-9
    pairs = (n_bits + 6.1 * math.sqrt(n_bits * (1.0 - q)) + 8.0) / q
    return 2 * math.ceil(pairs)


def generate_streams(key, n_devices: int, n_bits: int, *, voltage=None, width=None, mode: str = "reset",
                     preset=None, spread: bool = True, p_sw=None, trim: bool = False,
                     debias: str | None = None, cycles_before: float = 0.0, drift_chunks: int = 16) -> PbitStreams:
    """Bit streams of `n_devices` P-bits read in parallel, `n_bits` bits each.

    Args:
      key: jax PRNG key; without debiasing, device i's stream depends only on (key, i, n_bits),
        not on n_devices.
      n_devices, n_bits: array size and bits per device (output bits when debiased).
      voltage, width: write pulse [V], [s]; default the preset's calibrated P-bit pulse (Figs. 11-12).
      mode: "reset" (reset to P before each pulse: i.i.d. Bernoulli(P_sw)) or "toggle"
        (no reset: a Markov chain with lag-1 autocorrelation 1 - 2 P_sw).
      preset: a cimjax.device DevicePreset; default `default_preset()`.
      spread: draw each device's curve with the preset's spread (Fig. 13); False uses the nominal curve.
      p_sw: optional (devices,) or scalar switching probability overriding the curve (then
        voltage/width are ignored), for controlled experiments.
      trim: write each device at its own 50% amplitude, solved from its own curve at `width`
        (per-device trimming, as after a calibration of every P-bit); needs a preset with spread.
      debias: None, "xor" or "von-neumann": raw streams long enough for `n_bits` output bits
        each, debiased (`cimjax.trng.debias`); `raw_bits` counts the writes. The raw length
        then depends on the array's worst P_sw, so on n_devices.
      cycles_before: write cycles each P-bit had before this run (endurance, Fig. 19).
      drift_chunks: where the preset's endurance drifts, the raw stream is drawn in this many
        equal chunks, each at the P_sw after the cycles before its middle write (no drift:
        one draw, the streams of a preset without endurance bit for bit).

    Returns:
      PbitStreams. The read-out uses the preset's data-bit conductance model, as the P-bit
      is the same MTJ stack (assumption): per-device (G_P, G_AP) and cycle-to-cycle read noise.

    Raises:
      ConfigError: non-positive sizes, unknown mode or debias method, p_sw outside [0, 1],
        trim with a forced voltage or p_sw or on a preset without spread, a width at which
        a trimmed device cannot reach 1/2, debiasing that would need over 64 raw bits per bit,
        negative cycles_before, drift_chunks < 1, a drift law leaving its domain (`curve_after_cycles`).
    """
    import jax
    import jax.numpy as jnp

    preset = default_preset() if preset is None else preset
    _check(n_devices, n_bits, mode, trim, voltage, spread, p_sw, preset, debias)
    cycles_before = float(check_cycles(cycles_before, "cycles_before"))
    if int(drift_chunks) != drift_chunks or drift_chunks < 1:
        raise ConfigError(f"{drift_chunks=} must be a positive integer")
    k_curve, k_bits, k_g, k_read = jax.random.split(key, 4)
    p_at, volts = _probabilities(k_curve, n_devices, voltage, width, preset, spread, p_sw, trim, cycles_before)
    prob = p_at(cycles_before)
    w = WRITES_PER_BIT[mode]
    drifting = p_sw is None and preset.endurance.drifts
    n_raw = int(n_bits) if debias is None else _raw_length(int(n_bits), prob, debias)
    if drifting and debias == "von-neumann":  # the rate at the run's far end too (2x margin on its length)
        n_raw = _raw_length(int(n_bits), np.concatenate([prob, p_at(cycles_before + 2 * w * n_raw)]), debias)
    drift = None
    if drifting:
        p_at(cycles_before + w * n_raw)  # a drift law that leaves its domain within the run fails before any draw
        bits, drift = _drifting_bits(k_bits, p_at, n_raw, mode, cycles_before, drift_chunks)
    else:
        bits = np.asarray(pbit_bitstream(k_bits, jnp.asarray(prob, jnp.float32), n_raw, mode=mode, initial_state=0),
                          dtype=np.uint8)
    wear = dict(cycles_before=cycles_before, drift=drift)
    if debias is not None:
        out = debias_bits(bits, debias, int(n_bits))
        return PbitStreams(out.bits, prob, None, mode, volts, out.raw_bits, w * out.raw_bits, **wear)
    shape = (int(n_devices),)
    g_p, g_ap = preset.data_bit.sample_conductances(k_g, preset.read_voltage, shape)
    g = jnp.where(bits == 1, g_ap[:, None], g_p[:, None])
    g = preset.data_bit.read(k_read, g)
    raw = np.full(shape, int(n_bits), dtype=np.int64)
    return PbitStreams(bits, prob, np.asarray(g, dtype=np.float32), mode, volts, raw, w * raw, **wear)
