"""SP800-22 random excursions tests (2.14) and their variant (2.15), on the +-1 random walk.

A stream applies only when its walk has J >= max(0.005 sqrt(n), 500) cycles (returns
to zero, plus a final incomplete one), as in the reference; other streams are
reported skipped with their J.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erfc, gammaincc

from cimjax.trng._result import TestOutcome, outcome

EXCURSION_STATES = (-4, -3, -2, -1, 1, 2, 3, 4)
VARIANT_STATES = tuple(x for x in range(-9, 10) if x != 0)


def excursion_probabilities(x: int) -> np.ndarray:
    """pi_0..pi_5(x): P(a cycle visits state x exactly k times), k = 5 meaning >= 5 (SP800-22 3.14)."""
    a = 1.0 / (2.0 * abs(x))
    pi = [1.0 - a] + [a * a * (1.0 - a) ** (k - 1) for k in range(1, 5)] + [a * (1.0 - a) ** 4]
    return np.asarray(pi)


def _walk(bits: np.ndarray):
    walk = np.cumsum(2 * bits.astype(np.int32) - 1, axis=1, dtype=np.int32)
    zeros = walk == 0
    cycles = zeros.sum(axis=1) + (walk[:, -1] != 0)
    return walk, zeros, cycles


def _applicable(cycles: np.ndarray, n: int) -> tuple[np.ndarray, tuple]:
    need = max(0.005 * math.sqrt(n), 500)
    ok = cycles >= need
    reasons = tuple(None if good else f"J={int(j)} cycles, fewer than the {need:g} required"
                    for good, j in zip(ok, cycles))
    return ok, reasons


def random_excursions(bits: np.ndarray) -> TestOutcome:
    """Random excursions test, SP800-22 2.14: one p-value per state x in -4..-1, 1..4."""
    k, n = bits.shape
    walk, zeros, cycles = _walk(bits)
    ok, reasons = _applicable(cycles, n)
    labels = tuple(f"x={x:+d}" for x in EXCURSION_STATES)
    p = np.full((k, 8), np.nan)
    for s in np.flatnonzero(ok):
        w = walk[s]
        cycle_id = np.cumsum(zeros[s])  # positions after the j-th zero belong to cycle j
        sel = (np.abs(w) >= 1) & (np.abs(w) <= 4)
        state = np.where(w[sel] < 0, w[sel] + 4, w[sel] + 3)  # -4..-1 -> 0..3, 1..4 -> 4..7
        visits = np.bincount(cycle_id[sel] * 8 + state, minlength=int(cycles[s]) * 8)
        visits = np.minimum(visits[: int(cycles[s]) * 8].reshape(-1, 8), 5)
        nu = np.stack([np.count_nonzero(visits == j, axis=0) for j in range(6)], axis=0)  # (6, 8)
        j_cycles = float(cycles[s])
        for i, x in enumerate(EXCURSION_STATES):
            expected = j_cycles * excursion_probabilities(x)
            chi2 = np.sum((nu[:, i] - expected) ** 2 / expected)
            p[s, i] = gammaincc(2.5, chi2 / 2.0)
    return outcome("random_excursions", p, labels=labels, skipped=reasons)


def random_excursions_variant(bits: np.ndarray) -> TestOutcome:
    """Random excursions variant, SP800-22 2.15: one p-value per state x in -9..-1, 1..9."""
    k, n = bits.shape
    walk, _, cycles = _walk(bits)
    ok, reasons = _applicable(cycles, n)
    labels = tuple(f"x={x:+d}" for x in VARIANT_STATES)
    idx = np.clip(walk, -10, 10) + 10 + (21 * np.arange(k, dtype=np.int64))[:, None]
    visits = np.bincount(idx.ravel(), minlength=21 * k).reshape(k, 21)
    states = np.asarray(VARIANT_STATES)
    xi = visits[:, states + 10]
    j = cycles[:, None].astype(np.float64)
    p = erfc(np.abs(xi - j) / np.sqrt(2.0 * j * (4.0 * np.abs(states) - 2.0)))
    p = np.where(ok[:, None], p, np.nan)
    return outcome("random_excursions_variant", p, labels=labels, skipped=reasons)
