"""The `cimjax trng` reports: quality extras, a Table I-like text table, JSON, and a run's write cycles."""

from __future__ import annotations

import math

import numpy as np

from cimjax.trng import autocorrelation, fair_entropy, mcv_min_entropy, shannon_entropy
from cimjax.trng import proportion_flag_probability, proportion_interval
from cimjax.trng import second_level, second_level_json, uniformity_note
from cimjax.trng import NistResult, PbitStreams

PASS_RULE = ("a test passes when each of its P p-values is >= alpha / P (Bonferroni over the "
             "test's own p-values; P = 1 for most tests, 148 for the m = 9 templates)")


def stream_extra(bits: np.ndarray, result: NistResult, max_lag: int = 16) -> dict:
    """Beyond-NIST measures of one (n,) stream plus the run's notes, for the JSON "extra"."""
    n = bits.size
    lags = min(max_lag, n - 1)
    acf = autocorrelation(bits, lags)[0]
    fair = fair_entropy(n)
    return {
        "alpha": result.config.alpha,
        "pass_rule": PASS_RULE,
        "ones_fraction": float(bits.mean()),
        "shannon_entropy": float(shannon_entropy(bits)[0]),
        "shannon_entropy_fair": {"mean": fair.mean, "low95": fair.low95,
                                 "meaning": f"a fair i.i.d. stream of {n} bits: mean entropy, and 95% of such "
                                            "streams at or above low95 (exact, from Binomial(n, 1/2))"},
        "mcv_min_entropy": float(mcv_min_entropy(bits)[0]) if n >= 2 else None,
        "autocorrelation": {"lags": list(range(1, lags + 1)),
                            "values": [None if math.isnan(v) else float(v) for v in acf[1:]],
                            "bound_3sigma": 3.0 / math.sqrt(n)},
        "parameters": {k: v for k, v in vars(result.config).items() if k != "tests"},
        "warnings": result.warnings(),
    }


def result_json(bits: np.ndarray, result: NistResult) -> dict:
    """The CLI's --json object: the per-stream schema for one stream; for k > 1 streams,
    {"n_bits", "n_streams", "streams": [per-stream objects], "second_level": {...}}."""
    k = bits.shape[0]
    streams = [result.to_json(s, stream_extra(bits[s], result)) for s in range(k)]
    if k == 1:
        return streams[0]
    return {"n_bits": result.n_bits, "n_streams": k, "streams": streams,
            "second_level": second_level_json(second_level(result))}


def _fmt_row(name: str, out, stream: int, alpha: float) -> tuple[str, str, str]:
    reason = out.skipped[stream]
    if reason is not None:
        return name, "-", f"Skipped: {reason}"
    p = out.p_values[stream]
    verdict = "Pass" if out.passed(alpha)[stream] else "Fail"
    if p.size == 1:
        return name, f"{p[0]:.6f}", verdict
    n_ok = int(np.count_nonzero(p >= alpha))
    return name, f"min {p.min():.6f}", f"{verdict} ({n_ok}/{p.size} p >= {alpha:g})"


def text_table(bits: np.ndarray, result: NistResult) -> str:
    """Table I of the paper, one block per stream, then the second level when k > 1."""
    lines = []
    alpha = result.config.alpha
    k = bits.shape[0]
    for s in range(k if k <= 4 else 1):
        lines.append(f"NIST SP800-22 rev1a, stream {s} of {k}, n = {result.n_bits} bits, alpha = {alpha:g}")
        rows = [_fmt_row(name, out, s, alpha) for name, out in result.outcomes.items()]
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        lines.append(f"{'Test':<{w0}}  {'P-value':<{w1}}  Result")
        lines += [f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows]
        ex = stream_extra(bits[s], result)
        fair = ex["shannon_entropy_fair"]
        lines.append(f"Shannon entropy = {ex['shannon_entropy']:.8f}, 1 - H = {1 - ex['shannon_entropy']:.2g} (a fair "
                     f"stream of {bits.shape[1]} bits: mean {1 - fair['mean']:.2g}, 95% of streams below "
                     f"{1 - fair['low95']:.2g}), MCV min-entropy = {ex['mcv_min_entropy']:.6f}, "
                     f"ones = {ex['ones_fraction']:.6f}")
        for name, warns in ex["warnings"].items():
            lines += [f"note: {w}" for w in warns]
        lines.append("")
    if k > 4:
        lines.append(f"(per-stream tables of streams 1..{k - 1} omitted; use --json)")
    if k > 1:
        low_bound = proportion_interval(k, alpha)[0]
        lines.append(f"Second level over {k} streams: the proportion of streams passing each p-value (NIST accepts "
                     f">= {low_bound:.4f} for {k} streams; the lowest over a test's p-values shown), and the "
                     "uniformity of the p-values:")
        note = uniformity_note(k)
        if note:
            lines.append(f"  (uniformity {note})")
        worst: dict[str, list] = {}
        for row in second_level(result, alpha):
            worst.setdefault(row.test, []).append(row)
        for name, rows in worst.items():
            bad = [r for r in rows if not (r.proportion_ok and r.uniformity_ok)]
            low = min(rows, key=lambda r: r.n_passed / r.n_streams)
            u = [r.uniformity_p for r in rows if not math.isnan(r.uniformity_p)]
            unif = f"  min uniformity p {min(u):.6f}" if u else ""
            chance = sum(proportion_flag_probability(r.n_streams, alpha) for r in rows)
            lines.append(f"  {name:<26} rows={len(rows):<4} lowest proportion {low.n_passed / low.n_streams:.4f} "
                         f"({low.n_passed}/{low.n_streams} passed){unif}  "
                         + (f"FLAGGED ({len(bad)} of {len(rows)} rows; a perfect source flags {chance:.2g} by chance)"
                            if bad else "ok"))
    return "\n".join(lines)



def endurance_lines(streams: PbitStreams, rated_cycles: float) -> list[str]:
    """The write cycles a `generate_streams` run put on each P-bit against the rated endurance
    (Fig. 19), and P_sw along the stream where the device drifts."""
    w = int(streams.write_cycles[0] // streams.raw_bits[0])
    what = "a reset and a write per raw bit" if streams.mode == "reset" else "one write per raw bit"
    per, after = streams.write_cycles, streams.cycles_before + streams.write_cycles.max()
    lines = [f"write cycles per P-bit this run: {per.min()}..{per.max()} ({what}, {w} x raw bits "
             f"{streams.raw_bits.min()}..{streams.raw_bits.max()}); {after:.12g} after the run, from {streams.cycles_before:.12g}",
             f"endurance: {per.max() / rated_cycles:.3g} of the rated {rated_cycles:.3g} cycles (Fig. 19) per run, "
             f"{rated_cycles / per.max():.3g} such runs per P-bit lifetime"]
    if after > rated_cycles:
        lines.append(f"warning: {after:.12g} cycles is beyond the rated {rated_cycles:.3g} (Fig. 19 shows no more)")
    if streams.drift is not None:
        d = streams.drift
        lines.append(f"endurance drift: P_sw mean {d.p_sw[:, 0].mean():.4f} at {d.cycles[0]:.4g} cycles -> "
                     f"{d.p_sw[:, -1].mean():.4f} at {d.cycles[-1]:.4g} cycles ({d.cycles.size} chunks of the raw stream)")
    return lines
