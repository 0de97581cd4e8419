"""Second-level analysis over many streams, as NIST STS's finalAnalysisReport (SP800-22 4.2).

For every p-value of every test (each template, each excursion state is its own row):
the proportion of streams with p >= alpha against p_hat +- 3 sqrt(p_hat (1 - p_hat) / k),
p_hat = 1 - alpha; and the uniformity of the p-values, a chi-square over 10 equal bins,
P-value_T = igamc(9/2, chi2/2), flagged below 0.0001.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.special import gammaincc

from cimjax.trng._result import ALPHA

UNIFORMITY_ALPHA = 1e-4  # SP800-22 4.2.2: uniformity fails below 0.0001
MIN_UNIFORMITY_STREAMS = 55  # SP800-22 4.2.2: at least 55 sequences for the uniformity test


class SecondLevelRow(NamedTuple):
    """One row of the final analysis report.

    Attributes:
      test, label: the test and which of its p-values ("p", "forward", "x=+1", a template).
      n_streams: streams where it applied (k; fewer for the random excursions tests).
      n_passed: streams with p >= alpha.
      proportion_interval: (low, high) bounds on the passing proportion.
      proportion_ok: n_passed / n_streams lies inside the interval.
      bins: (10,) counts of p-values in [0, 0.1), ..., [0.9, 1].
      uniformity_p: igamc(9/2, chi2/2); NaN with fewer than 55 streams.
      uniformity_ok: uniformity_p >= 0.0001 (True when not computed).
    """

    test: str
    label: str
    n_streams: int
    n_passed: int
    proportion_interval: tuple
    proportion_ok: bool
    bins: tuple
    uniformity_p: float
    uniformity_ok: bool


def proportion_interval(n_streams: int, alpha: float = ALPHA) -> tuple[float, float]:
    """NIST's acceptable range of the passing proportion: p_hat +- 3 sqrt(p_hat (1 - p_hat) / k)."""
    p_hat = 1.0 - alpha
    half = 3.0 * math.sqrt(p_hat * (1.0 - p_hat) / n_streams)
    return p_hat - half, p_hat + half


def proportion_flag_probability(n_streams: int, alpha: float = ALPHA) -> float:
    """Chance that a perfect source's row falls outside `proportion_interval`: passes ~ Binomial(k, 1 - alpha).

    With k = 16 streams this is 0.011 per row, so the 148 rows of the templates flag 1.6 rows
    on average by chance alone.
    """
    from scipy.stats import binom

    low, high = proportion_interval(n_streams, alpha)
    passes = np.arange(n_streams + 1)
    outside = (passes < low * n_streams - 1e-9) | (passes > high * n_streams + 1e-9)
    return float(binom.pmf(passes[outside], n_streams, 1.0 - alpha).sum())


def uniformity(p_values: np.ndarray) -> tuple[tuple, float]:
    """10-bin histogram of p-values and its chi-square P-value_T = igamc(9/2, chi2/2)."""
    pos = np.minimum(np.floor(p_values * 10).astype(np.int64), 9)  # p = 1 goes to the last bin
    bins = np.bincount(pos, minlength=10)
    expected = p_values.size / 10.0
    chi2 = np.sum((bins - expected) ** 2 / expected)
    return tuple(int(b) for b in bins), float(gammaincc(4.5, chi2 / 2.0))


def uniformity_note(n_streams: int) -> str | None:
    """Why a uniformity P-value is not computed for `n_streams` streams, or None when it is."""
    if n_streams >= MIN_UNIFORMITY_STREAMS:
        return None
    return (f"not computed: {n_streams} streams, SP800-22 4.2.2 needs >= {MIN_UNIFORMITY_STREAMS} "
            "for the chi-square over 10 bins")


def second_level(result, alpha: float | None = None) -> list[SecondLevelRow]:
    """The final analysis report of a `NistResult` over k streams.

    Returns:
      One SecondLevelRow per (test, p-value), in test order; rows where no stream
      applied are left out.
    """
    alpha = result.config.alpha if alpha is None else alpha
    rows = []
    for name, out in result.outcomes.items():
        for j, label in enumerate(out.labels):
            p = out.p_values[:, j]
            p = p[~np.isnan(p)]
            if p.size == 0:
                continue
            n_passed = int(np.count_nonzero(p >= alpha))
            low, high = proportion_interval(p.size, alpha)
            bins, u_p = uniformity(p)
            if p.size < MIN_UNIFORMITY_STREAMS:
                u_p = float("nan")
            rows.append(SecondLevelRow(name, label, int(p.size), n_passed, (low, high),
                                       bool(low <= n_passed / p.size <= high), bins, u_p,
                                       bool(not u_p < UNIFORMITY_ALPHA)))
    return rows


def second_level_json(rows: list[SecondLevelRow]) -> dict:
    """Rows grouped by test: {test: [{label, passed, streams, proportion, interval, uniformity_p, ok}, ...]}.

    `proportion` is passed / streams; `uniformity_p` is null with a `uniformity_note` saying why.
    """
    out: dict[str, list] = {}
    for r in rows:
        out.setdefault(r.test, []).append({
            "label": r.label, "passed": r.n_passed, "streams": r.n_streams,
            "proportion": r.n_passed / r.n_streams,
            "proportion_interval": [round(v, 6) for v in r.proportion_interval],
            "proportion_ok": r.proportion_ok, "bins": list(r.bins),
            "uniformity_p": None if math.isnan(r.uniformity_p) else r.uniformity_p,
            **({"uniformity_note": uniformity_note(r.n_streams)} if math.isnan(r.uniformity_p) else {}),
            "uniformity_ok": r.uniformity_ok})
    return out
