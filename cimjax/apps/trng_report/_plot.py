"""The TRNG quality figure (Figs. 14-18, Table I): bit stream, read-out conductance,
autocorrelation, inter-sample Hamming distance, Shannon entropy and NIST p-values."""

from __future__ import annotations

import math
import os
import textwrap
from pathlib import Path

import numpy as np

from cimjax.errors import ConfigError
from cimjax._io import FIGURE_SUFFIXES as PLOT_SUFFIXES
from cimjax._io import place_legends, save_figure_atomic
from cimjax.trng import as_bit_matrix
from cimjax.trng import autocorrelation, fair_entropy, hamming_distance, second_level, shannon_entropy
from cimjax.trng import proportion_flag_probability, uniformity_note

N_SHOW = 300  # Fig. 14: a stochastic bit stream of length 300
MAX_LAG = 100  # assumption: lags shown in Fig. 16's autocorrelation panel
Z95 = 1.959963984540054  # two-sided 95% normal quantile: r(tau) ~ N(0, 1/n) for an i.i.d. stream
MAX_HAMMING_STREAMS = 256  # assumption: caps the k (k - 1) / 2 pairs of Fig. 17 (32640 pairs)
_PASS, _FAIL, _C0, _C1 = "#2a9d8f", "#d62828", "#1d3557", "#e76f51"


def check_plot_path(path: str | os.PathLike) -> None:
    """Raises ConfigError unless `path` ends in a figure format we write (.png, .pdf, .svg)."""
    if Path(path).suffix.lower() not in PLOT_SUFFIXES:
        raise ConfigError(f"plot file {str(path)!r} must end in one of {PLOT_SUFFIXES}")


def check_conductance(conductance, shape: tuple, source: str = "conductance") -> np.ndarray:
    """(k, n) float64 conductances matching the bits' `shape`, all finite; else ConfigError naming `source`."""
    g = np.asarray(conductance)
    given = g.shape
    if g.ndim == 1:
        g = g[None, :]
    if g.shape != tuple(shape):
        raise ConfigError(f"{source} has shape {given}, the bits have {tuple(shape)}")
    if not np.issubdtype(g.dtype, np.number) or not np.all(np.isfinite(g)):
        raise ConfigError(f"{source} must hold finite numbers (siemens)")
    return g.astype(np.float64)


def load_conductance(path: str | os.PathLike, shape: tuple) -> np.ndarray:
    """Loads a (k, n) or (n,) .npy of read-out conductances [S] matching bits of `shape`; else ConfigError."""
    if Path(path).suffix.lower() != ".npy":
        raise ConfigError(f"conductance file {str(path)!r} must be a .npy array")
    try:
        g = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ConfigError(f"conductance file {str(path)!r}: no such file") from None
    except (OSError, ValueError) as e:
        raise ConfigError(f"conductance file {str(path)!r} is not a readable .npy array: {e}") from None
    return check_conductance(g, shape, source=f"conductance file {str(path)!r}")


def hamming_counts(x: np.ndarray, chunk: int = 1 << 16) -> np.ndarray:
    """Differing-bit counts of every stream pair (upper triangle), in column chunks to bound memory."""
    k, n = x.shape
    total = np.zeros((k, k))
    for start in range(0, n, chunk):
        part = x[:, start:start + chunk]
        total += hamming_distance(part) * part.shape[1]  # fractions of the chunk -> counts
    return np.rint(total[np.triu_indices(k, k=1)]).astype(np.int64)


def binomial_bins(n: int, q: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """P(count in each bin) for Binomial(n, q), averaged over the q's (a mixture); edges at half-integers."""
    from scipy.stats import binom

    cdf = binom.cdf(np.floor(edges)[None, :], n, np.asarray(q, dtype=np.float64)[:, None])
    return np.diff(cdf, axis=1).mean(axis=0)


def _bit_stream(ax, x, n_show):
    m = min(n_show, x.shape[1])
    b = x[0, :m]
    ax.fill_between(np.arange(m + 1), np.r_[b, b[-1]], step="post", color=_C0, alpha=0.25, lw=0)
    ax.step(np.arange(m + 1), np.r_[b, b[-1]], where="post", color=_C0, lw=0.8)
    ax.set(xlim=(0, m), ylim=(-0.15, 1.3), yticks=(0, 1), xlabel="bit index", ylabel="bit")
    ax.set_title(f"Stochastic bit stream, first {m} bits (Fig. 14)", loc="left")
    ax.text(0.995, 0.97, f"ones {int(b.sum())}/{m}", transform=ax.transAxes, ha="right", va="top")


def _conductance(ax, x, g, n_max=2000):
    m = min(n_max, x.shape[1])
    b, gs = x[0], g[0] * 1e6
    idx = np.arange(m)
    means = [gs[b == v].mean() if np.any(b == v) else math.nan for v in (0, 1)]
    # the parallel (P) state conducts more: name each bit's state from the data, not a convention
    state = ("P", "AP") if not means[1] > means[0] else ("AP", "P")
    for v, c in ((0, _C0), (1, _C1)):
        sel = b[:m] == v
        mean = "" if math.isnan(means[v]) else f", mean {means[v]:.2f} µS"
        ax.plot(idx[sel], gs[:m][sel], "o", ms=1.8, color=c, label=f"bit {v} ({state[v]}){mean}", rasterized=True)
    text = None
    if not any(math.isnan(mu) for mu in means):
        thr = 0.5 * (means[0] + means[1])  # midpoint read threshold
        read = (gs > thr) if means[1] > means[0] else (gs < thr)
        misread = int(np.count_nonzero(read != (b == 1)))
        text = f"misread at the midpoint: {misread}/{b.size}"
        ax.axhline(thr, color="grey", lw=0.7, ls=":")
    lo, hi = float(gs[:m].min()), float(gs[:m].max())
    span = max(hi - lo, 1e-3 * max(abs(hi), 1.0))
    ax.set(xlabel=f"bit index (stream 0, first {m} bits)", ylabel="conductance (µS)", xlim=(0, m),
           ylim=(lo - 0.08 * span, hi + 0.55 * span))  # headroom above the data for the legend
    ax.set_title("Read-out conductance (Fig. 15)", loc="left")
    return dict(markerscale=3, title=text, title_fontsize=7.5, alignment="left")


def _autocorr(ax, x, max_lag):
    n = x.shape[1]
    lags = min(max_lag, n - 1)
    ax.set(xlabel="lag τ (bits)", ylabel="autocorrelation r(τ)")
    ax.set_title("Autocorrelation (Fig. 16)", loc="left")
    if lags < 1:
        ax.text(0.5, 0.5, "stream too short", transform=ax.transAxes, ha="center")
        return None
    r = autocorrelation(x[:1], lags)[0, 1:]
    band = Z95 / math.sqrt(n)
    tau = np.arange(1, lags + 1)
    ax.axhspan(-band, band, color=_PASS, alpha=0.18, lw=0, label=r"$\pm1.96/\sqrt{n}$ (95%, i.i.d.)")
    ax.vlines(tau, 0, r, color=_C0, lw=0.8)
    ax.plot(tau, r, "o", ms=2.2, color=_C0, label="stream 0")
    ax.axhline(0, color="k", lw=0.5)
    lim = max(3 * band, float(np.nanmax(np.abs(r), initial=0.0)) * 1.15)
    ax.set(xlim=(0, lags + 1), ylim=(-lim, lim))
    if np.all(np.isnan(r)):
        ax.text(0.5, 0.5, "constant stream: r undefined", transform=ax.transAxes, ha="center")
        return dict(fontsize=7.5)
    out = int(np.count_nonzero(np.abs(r) > band))
    return dict(fontsize=7.5, title=f"{out}/{lags} lags outside the band (expect ≈{0.05 * lags:.1f})",
                title_fontsize=7.5)


def _hamming(ax, x):
    xs = x[:MAX_HAMMING_STREAMS]
    k, n = xs.shape
    counts = hamming_counts(xs)
    sd = math.sqrt(n) / 2
    lo = math.floor(min(counts.min(), n / 2 - 4 * sd))
    hi = math.ceil(max(counts.max(), n / 2 + 4 * sd))
    w = max(1, math.ceil((hi - lo + 1) / 40))  # bins aligned to whole counts: no aliasing
    edges = np.arange(lo - 0.5, hi + 0.5 + w, w)
    hist = np.histogram(counts, edges)[0] / counts.size
    centers = 0.5 * (edges[1:] + edges[:-1]) / n
    ax.bar(centers, hist, width=w / n, color=_C0, alpha=0.55, label=f"{counts.size} pairs of {k} streams")
    ax.plot(centers, binomial_bins(n, np.array([0.5]), edges), "-", color=_C1, lw=1.4, label="Binomial(n, 1/2)/n (ideal)")
    p = xs.mean(axis=1)
    q = (p[:, None] * (1 - p[None, :]) + p[None, :] * (1 - p[:, None]))[np.triu_indices(k, k=1)]
    if q.size > 2000:  # the mixture over sorted q quantiles
        q = np.sort(q)[np.linspace(0, q.size - 1, 2000).round().astype(int)]
    ax.plot(centers, binomial_bins(n, q, edges), "--", color="k", lw=0.9, label="independent, observed bias")
    ax.axvline(0.5, color="grey", lw=0.6, ls=":")
    ax.set(xlabel="inter-sample Hamming distance (fraction of n)", ylabel="fraction of pairs")
    ax.set_title("Inter-sample Hamming distance (Fig. 17)", loc="left")
    ax.ticklabel_format(axis="x", useOffset=False)
    return dict(fontsize=7.5, title=f"mean {counts.mean() / n:.4f}, n = {n}", title_fontsize=7.5)


def _entropy(ax, x):
    k, n = x.shape
    lengths = np.unique(np.geomspace(min(16, n), n, 48).astype(np.int64))
    drawn = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in range(min(k, 8)):  # a few streams: more would hide the expectation lines
            p = np.cumsum(x[s], dtype=np.int64)[lengths - 1] / lengths
            h = -np.nan_to_num(p * np.log2(p)) - np.nan_to_num((1 - p) * np.log2(1 - p))
            deficit = np.where(1 - h > 1e-15, 1 - h, np.nan)  # p = 1/2 exactly: no point on a log axis
            style = (dict(color=_C0, lw=1.0, ms=2.5, label="stream 0", zorder=3) if s == 0
                     else dict(color="grey", lw=0.5, ms=1.5, alpha=0.45, label=f"streams 1-{min(k, 8) - 1}" if s == 1 else None))
            ax.plot(lengths, deficit, "o-", **style)
            drawn.append(deficit)
    # a fair stream of each length: exact mean and 95% deficit from Binomial(L, 1/2)
    fair = [fair_entropy(int(L)) for L in lengths]
    ax.plot(lengths, [1 - f.mean for f in fair], color=_PASS, lw=1.2, label="fair stream, mean")
    ax.plot(lengths, [1 - f.low95 for f in fair], color=_PASS, lw=1.0, ls="--", label="fair stream, 95% below")
    ax.set(xscale="log", yscale="log", xlabel="stream length L (bits)", ylabel="entropy deficit 1 − H (bit)")
    values = np.concatenate(drawn + [[1 - fair[-1].mean, 1 - fair[0].low95]])
    lo, hi = np.nanmin(values[values > 0]), np.nanmax(values)
    ax.set_ylim(lo / 2, min(1.0, hi * 2))
    h_all = np.array([shannon_entropy(x[s])[0] for s in range(k)]) + 0.0  # -0.0 -> 0.0 for a constant stream
    label = f"H = {h_all[0]:.6f}" if k == 1 else f"H = {h_all.min():.6f} … {h_all.max():.6f} ({k} streams)"
    ax.set_title(f"Shannon entropy (Fig. 18)\n{label}, n = {n}\nfair stream of n bits: mean {fair[-1].mean:.6f}, "
                 f"95% ≥ {fair[-1].low95:.6f}", loc="left")
    return dict(fontsize=7.5)


def _fmt_p(p: float) -> str:
    return f"{p:.3f}" if p >= 1e-3 else f"{p:.1e}"


def _wrap(reason: str, width: int = 46) -> str:
    return "\n".join(textwrap.wrap(reason, width))


def _nist_single(ax, result):
    alpha, floor = result.config.alpha, 1e-6
    names = list(result.outcomes)
    ax.axvline(alpha, color="k", ls="--", lw=0.9, label=f"α = {alpha:g}")
    ticked = False
    for y, name in enumerate(names):
        out = result.outcomes[name]
        if out.skipped[0] is not None:
            ax.text(floor * 1.5, y, "not applicable", va="center", fontsize=7.5, color="grey")
            verdict = _wrap(f"skipped: {out.skipped[0]}")
        else:
            p = out.p_values[0]
            ok = bool(out.passed(alpha)[0])
            ax.barh(y, max(p.min(), floor) - floor, left=floor, height=0.62, color=_PASS if ok else _FAIL)
            if p.min() < floor:  # off the axis: say so, or the worst failures would be invisible
                ax.text(floor * 1.3, y, f"◀ p < {floor:g}", va="center", fontsize=7.5, color=_FAIL)
            if p.size > 1:
                ax.plot([alpha / p.size], [y], "|", ms=11, mew=1.6, color="k",
                        label=None if ticked else "α/P (Bonferroni over P p-values)")
                ticked = True
                verdict = f"min {_fmt_p(p.min())} of {p.size}; {int(np.sum(p >= alpha))}/{p.size} ≥ α  {'Pass' if ok else 'Fail'}"
            else:
                verdict = f"{_fmt_p(p[0])}  {'Pass' if ok else 'Fail'}"
        ax.text(1.02, y, verdict, va="center", fontsize=7.5, transform=ax.get_yaxis_transform())
    ax.set(xscale="log", xlim=(floor, 1.0), xlabel="p-value (stream 0; the minimum for multi-p tests)")
    ax.set_title(f"NIST SP800-22 rev1a, n = {result.n_bits} bits (Table I)", loc="left")
    return names


def _nist_multi(ax, result):
    alpha, k = result.config.alpha, result.n_streams
    rows: dict[str, list] = {}
    for r in second_level(result, alpha):
        rows.setdefault(r.test, []).append(r)
    names = list(result.outcomes)
    low_all = min(r.proportion_interval[0] for rs in rows.values() for r in rs) if rows else 1 - alpha
    left = max(0.0, min([low_all - 0.03] + [min(r.n_passed / r.n_streams for r in rs) - 0.01 for rs in rows.values()]))
    ax.axvline(1 - alpha, color="k", ls="--", lw=0.9, label=f"expected 1 − α = {1 - alpha:g}")
    ticked = False
    for y, name in enumerate(names):
        if name not in rows:
            verdict = "skipped on every stream"
        else:
            rs = rows[name]
            prop = min(r.n_passed / r.n_streams for r in rs)
            ok = all(r.proportion_ok and r.uniformity_ok for r in rs)
            ax.barh(y, prop - left, left=left, height=0.62, color=_PASS if ok else _FAIL)
            if prop == 0:
                ax.text(left, y, "  none passed", va="center", fontsize=7.5, color=_FAIL)
            ax.plot([min(r.proportion_interval[0] for r in rs)], [y], "|", ms=11, mew=1.6, color="k",
                    label=None if ticked else "NIST lower bound 1−α − 3σ")
            ticked = True
            u = [r.uniformity_p for r in rs if not math.isnan(r.uniformity_p)]
            worst = min(rs, key=lambda r: r.n_passed / r.n_streams)
            bad = sum(not (r.proportion_ok and r.uniformity_ok) for r in rs)
            chance = sum(proportion_flag_probability(r.n_streams, alpha) for r in rs)
            verdict = (f"{'lowest of ' + str(len(rs)) + ' rows: ' if len(rs) > 1 else ''}"
                       f"{worst.n_passed}/{worst.n_streams} passed ({prop:.3f})"
                       + (f", uniformity p {min(u):.3g}" if u else "")
                       + (f"  FLAGGED {bad} of {len(rs)} ({chance:.2g} by chance)" if bad and len(rs) > 1
                          else "  FLAGGED" if bad else "  ok"))
        ax.text(1.02, y, verdict, va="center", fontsize=7.5, transform=ax.get_yaxis_transform())
    ax.set(xlim=(left, 1.0), xlabel="proportion of streams passing (the lowest over each test's p-values)")
    note = uniformity_note(k)
    ax.set_title(f"NIST SP800-22 rev1a second level, {k} streams of {result.n_bits} bits (Table I)"
                 + (f"\nuniformity of the p-values {note}" if note else ""), loc="left")
    return names


def trng_figure(bits, *, conductance=None, result=None, max_lag: int = MAX_LAG, n_show: int = N_SHOW,
                title: str = ""):
    """The multi-panel quality figure of (k, n) bit streams (Figs. 14-18; Table I with `result`).

    Panels: the first `n_show` bits of stream 0 (Fig. 14); its read-out conductance, with
    `conductance` (k, n) in siemens (Fig. 15); autocorrelation to `max_lag` with the
    +-1.96/sqrt(n) band (Fig. 16); with k >= 2 the inter-sample Hamming distance histogram
    against the binomial expectation (Fig. 17); the Shannon entropy deficit against length
    (Fig. 18); with a `NistResult`, its p-values (k = 1) or second-level proportions (k > 1).

    Returns:
      a matplotlib Figure on an Agg canvas (no pyplot state).

    Raises:
      ConfigError: bits not 0/1, conductance of another shape or not finite, a result of other
        streams, or max_lag / n_show not positive integers.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if int(max_lag) != max_lag or max_lag < 1 or int(n_show) != n_show or n_show < 1:
        raise ConfigError(f"{max_lag=} and {n_show=} must be positive integers")
    x = as_bit_matrix(bits)
    k, n = x.shape
    g = None if conductance is None else check_conductance(conductance, x.shape)
    if result is not None and (result.n_streams != k or result.n_bits != n):
        raise ConfigError(f"result covers {result.n_streams} x {result.n_bits} bits, the streams are {k} x {n}")
    small = [lambda ax: _conductance(ax, x, g)] if g is not None else []
    small.append(lambda ax: _autocorr(ax, x, max_lag))
    if k >= 2:
        small.append(lambda ax: _hamming(ax, x))
    small.append(lambda ax: _entropy(ax, x))
    n_small = (len(small) + 1) // 2
    heights = [1.7 + 3.0 * n_small] + ([0.3 * len(result.outcomes) + 1.0] if result is not None else [])
    fig = Figure(figsize=(11.5, sum(heights) + 0.4 * bool(title)), layout="constrained")
    FigureCanvasAgg(fig)
    # separate subfigures: the NIST panel's verdict column must not narrow the panels above it
    subs = fig.subfigures(len(heights), 1, height_ratios=heights) if len(heights) > 1 else [fig]
    grid = subs[0].add_gridspec(1 + n_small, 2, height_ratios=[1.7] + [3.0] * n_small)
    panels = [(subs[0].add_subplot(grid[0, :]), lambda ax: _bit_stream(ax, x, n_show))]
    for i, draw in enumerate(small):
        last_alone = i == len(small) - 1 and i % 2 == 0
        panels.append((subs[0].add_subplot(grid[1 + i // 2, :] if last_alone else grid[1 + i // 2, i % 2]), draw))
    if result is not None:
        panels.append((subs[1].add_subplot(), lambda ax: _nist_table(ax, result)))
    legends = []
    for letter, (ax, draw) in zip("abcdefgh", panels):
        legends.append((ax, draw(ax)))
        ax.set_title(f"({letter}) {ax.get_title(loc='left')}", loc="left", fontweight="bold")
        ax.grid(alpha=0.25, lw=0.5)
    if title:
        fig.suptitle(title)
    place_legends(fig, [(ax, kwargs) for ax, kwargs in legends if kwargs is not None])
    return fig


def _nist_table(ax, result):
    names = (_nist_single if result.n_streams == 1 else _nist_multi)(ax, result)
    ax.set(yticks=range(len(names)), ylim=(len(names) - 0.4, -0.6))
    ax.set_yticklabels(names)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, -0.01), fontsize=7.5, frameon=False)


def plot_trng(path: str | os.PathLike, bits, *, conductance=None, result=None, max_lag: int = MAX_LAG,
              n_show: int = N_SHOW, title: str = "", dpi: int = 150) -> None:
    """Saves `trng_figure(...)` to `path` (.png, .pdf or .svg) atomically: no half-written file on error."""
    import matplotlib

    check_plot_path(path)
    with matplotlib.rc_context({"font.size": 8.5, "axes.titlesize": 9.5, "axes.labelsize": 8.5,
                                "legend.fontsize": 7.5, "axes.spines.top": False, "axes.spines.right": False}):
        fig = trng_figure(bits, conductance=conductance, result=result, max_lag=max_lag, n_show=n_show, title=title)
        save_figure_atomic(fig, path, dpi=dpi)
