"""Plots of a switching curve with measured points: P_sw against amplitude and against width (Figs. 11-12)."""

from __future__ import annotations

import os

import numpy as np

from cimjax._io import place_legends, save_figure_atomic
from cimjax.device import SwitchingData
from cimjax.device import SwitchingCurve


def plot_switching(path: str | os.PathLike, curve: SwitchingCurve, data: SwitchingData | None = None,
                   voltage: float | None = None, title: str = "", residuals: np.ndarray | None = None) -> None:
    """Saves `switching_figure(...)` as a PNG (atomic)."""
    save_figure_atomic(switching_figure(curve, data, voltage, title, residuals), path, dpi=120)


def switching_figure(curve: SwitchingCurve, data: SwitchingData | None = None, voltage: float | None = None,
                     title: str = "", residuals: np.ndarray | None = None):
    """P_sw vs voltage at each width and P_sw vs width at each voltage; residuals below.

    Measured fractions (switched / trials) are drawn as points in the colour of their fit line.
    Without data, widths around the first peak and voltages around v50 are drawn. With
    `residuals` (one per data row, e.g. `cimjax.device.pearson_residuals`), a second row of
    panels draws them against voltage and against width, with the +-2 band a fitting form keeps
    about 95% of them in. Each legend sits where it hides no curve or point (outside the panel
    when no place inside is clear). Returns a matplotlib Figure on an Agg canvas.
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t_peak = float(curve.first_peak_width)
    v50 = float(curve.v50)
    if data is not None:
        widths = np.unique(data.width)
        voltages = np.unique(data.voltage)
    else:
        widths = t_peak * np.array([0.5, 1.0, 1.5, 2.0])
        voltages = v50 + float(curve.window_10_90) * np.array([-0.5, 0.0, 0.5])
    if len(widths) > 8:
        widths = widths[np.linspace(0, len(widths) - 1, 8).round().astype(int)]
    if len(voltages) > 6:
        voltages = voltages[np.linspace(0, len(voltages) - 1, 6).round().astype(int)]
    if voltage is not None and data is None:
        voltages = np.array([voltage])

    panel_rows = 2 if residuals is not None and data is not None else 1
    fig = Figure(figsize=(11, 4.4 * panel_rows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(panel_rows, 2, squeeze=False)
    ax_v, ax_t = axes[0]
    v_lo = min(voltages.min(), v50 - float(curve.window_10_90)) - 0.2
    v_hi = max(voltages.max(), v50 + float(curve.window_10_90)) + 0.2
    v_grid = np.linspace(v_lo, v_hi, 300)
    t_grid = np.linspace(0.0, max(widths.max(), 3 * t_peak) * 1.05, 400)
    colors = colormaps["viridis"](np.linspace(0, 0.9, max(len(widths), len(voltages))))
    for c, w in zip(colors, widths):
        ax_v.plot(v_grid, np.asarray(curve.switching_probability(v_grid, w)), color=c, label=f"{w * 1e12:.0f} ps")
        if data is not None:
            rows = data.width == w
            ax_v.plot(data.voltage[rows], data.switched[rows] / np.maximum(data.trials[rows], 1), "o", color=c, ms=3)
    for c, v in zip(colors, voltages):
        ax_t.plot(t_grid * 1e9, np.asarray(curve.switching_probability(v, t_grid)), color=c, label=f"{v:.2f} V")
        if data is not None:
            rows = data.voltage == v
            ax_t.plot(data.width[rows] * 1e9, data.switched[rows] / np.maximum(data.trials[rows], 1), "o", color=c, ms=3)
    ax_v.set(xlabel="pulse amplitude (V)", ylabel="switching probability", ylim=(-0.02, 1.02), title="P_sw vs amplitude (Fig. 12)")
    ax_t.set(xlabel="pulse width (ns)", ylabel="switching probability", ylim=(-0.02, 1.02), title="P_sw vs width (Fig. 11)")
    ax_t.axvline(t_peak * 1e9, color="grey", lw=0.8, ls="--")
    if panel_rows == 2:
        for ax, x, label in ((axes[1][0], data.voltage, "pulse amplitude (V)"),
                             (axes[1][1], data.width * 1e9, "pulse width (ns)")):
            ax.plot(x, residuals, "o", ms=3, color="C0")
            for level in (-2.0, 0.0, 2.0):
                ax.axhline(level, color="grey", lw=0.8, ls="--" if level else "-")
            ax.set(xlabel=label, ylabel="Pearson residual", title=f"residuals vs {label.split(' (')[0].split()[-1]}")
    if title:
        fig.suptitle(title)
    place_legends(fig, [(ax_v, dict(fontsize=7, title="width", title_fontsize=8)),
                        (ax_t, dict(fontsize=7, title="amplitude", title_fontsize=8))])
    return fig
