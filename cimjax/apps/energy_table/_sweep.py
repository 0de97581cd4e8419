"""Sensitivity of throughput and efficiency to array size, parallelism and pulse width.

Each axis changes one knob of every design of a preset and recomputes its figures:

* ``array_size`` n: an n x n tile whose in-situ P-bits are written a row at a time
  (parallelism = n); longer column lines cost more write energy. Ex-situ generators sit
  outside the array, so their figures do not move (and they have no design point here).
* ``parallelism`` p: in-situ P-bits written and read per cycle (at most a whole tile);
  ex-situ, p generators with the bus widened in the design's ratio of lanes to
  generators; on the board, p channels.
* ``write_width`` t_w: the P-bit pulse width for every design, voltage held (a real
  design would recalibrate the voltage for 50% switching, Figs. 11-12).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from cimjax._io import save_figure_atomic
from cimjax.errors import ConfigError
from cimjax.energy import Design, Preset
from cimjax.energy import figures

AXES: dict[str, dict[str, Any]] = {
    "array_size": {"unit": "rows = cols", "values": [16, 32, 64, 128, 256, 512, 1024]},
    "parallelism": {"unit": "P-bits per cycle", "values": [4, 8, 16, 32, 64, 128, 256, 512,
                                                           1024, 2048, 4096]},
    "write_width": {"unit": "ns", "values": [0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0]},
}


def _array_size(d: Design, n: float) -> Design:
    if d.scheme != "in_situ":
        return d  # the array geometry is the in-situ design's own
    return d.replace(array_rows=n, array_cols=n, pbit_write_parallelism=n)


def _parallelism(d: Design, p: float) -> Design:
    if d.scheme == "in_situ":
        if p > d["array_rows"] * d["array_cols"]:
            raise ConfigError(f"parallelism {p:g} exceeds the {d['array_rows']:g} x "
                             f"{d['array_cols']:g} tile of design {d.name!r}")
        return d.replace(pbit_write_parallelism=p)
    if d.scheme == "ex_situ_pcb":
        return d.replace(channels=p)
    lanes = max(1.0, round(p * d["bus_width"] / d["n_pbits"]))
    return d.replace(n_pbits=p, bus_width=lanes)


def _write_width(d: Design, t_ns: float) -> Design:
    return d.replace(write_width=t_ns * 1e-9)


_APPLY: dict[str, Callable[[Design, float], Design]] = {
    "array_size": _array_size, "parallelism": _parallelism, "write_width": _write_width}


def _parallelism_of(d: Design) -> float:
    if d.scheme == "in_situ":
        return d["pbit_write_parallelism"]
    return d["channels"] if d.scheme == "ex_situ_pcb" else d["n_pbits"]


# each design's own value on each axis: where the preset's design sits on the sweep
_DESIGN_POINT: dict[str, Callable[[Design], float]] = {
    "array_size": lambda d: d.params.get("array_rows"), "parallelism": _parallelism_of,
    "write_width": lambda d: d["write_width"] * 1e9}


def sweep(preset: Preset, axis: str, values: list[float] | None = None) -> dict[str, Any]:
    """Figures of every design of `preset` along one axis.

    Returns:
      {"axis", "unit", "values", "designs": {name: {"label", "throughput_bit_per_ns": [...],
       "energy_pJ_per_bit": [...], "added_area_um2": [...], "design_point": {"value", the three
       figures at the preset's own value of this axis}}}}
    """
    if axis not in AXES:
        raise ConfigError(f"{axis=} is not one of {tuple(AXES)}")
    values = list(AXES[axis]["values"] if values is None else values)
    designs = {}
    for name, d in preset.designs.items():
        rows = [figures(_APPLY[axis](d, v)) for v in values]
        own = _DESIGN_POINT[axis](d)
        at = None if own is None else figures(_APPLY[axis](d, own))
        designs[name] = {"label": d.label, "scheme": d.scheme,
                         "throughput_bit_per_ns": [f.throughput_bit_per_ns for f in rows],
                         "energy_pJ_per_bit": [f.energy_pJ_per_bit for f in rows],
                         "added_area_um2": [f.added_area_um2 for f in rows],
                         "design_point": None if at is None else {
                             "value": own, "throughput_bit_per_ns": at.throughput_bit_per_ns,
                             "energy_pJ_per_bit": at.energy_pJ_per_bit, "added_area_um2": at.added_area_um2}}
    return {"axis": axis, "unit": AXES[axis]["unit"], "values": values, "designs": designs}


def sweep_all(preset: Preset) -> dict[str, Any]:
    """Every axis of `AXES`, keyed by axis name."""
    return {"preset": preset.name, "axes": {axis: sweep(preset, axis) for axis in AXES}}


def _log_axis(axis, values=None, limits=None) -> None:
    """Plain-number tick labels on a log axis: every other swept value, or 1-2-5 steps (1-2-3-4-6 within a decade)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    if values is not None:
        axis.set_major_locator(FixedLocator(values[:: 2 if len(values) > 7 else 1]))
    else:
        decades = math.log10(limits[1] / limits[0])
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 4.0, 6.0) if decades < 1.2 else (1.0, 2.0, 5.0)))
    axis.set_minor_locator(LogLocator(base=10, subs="all"))
    axis.set_minor_formatter(NullFormatter())


def sweep_figure(data: dict[str, Any], *, on_chip_only: bool = True):
    """Throughput, efficiency and added area against each axis; a star marks each design's own point.

    In-situ adds no area, so it has no point on the (log) area row; the label says so.
    Returns a matplotlib Figure on an Agg canvas.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    axes = data["axes"]
    keys = [("throughput_bit_per_ns", "throughput (bit/ns)\nhigher is better"),
            ("energy_pJ_per_bit", "energy (pJ/bit)\nlower is better"),
            ("added_area_um2", "added area (µm²)\nin-situ: none")]
    fig = Figure(figsize=(4.0 * len(axes) + 0.6, 8.6), layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.subplots(len(keys), len(axes), squeeze=False, sharex="col")
    for j, (axis, s) in enumerate(axes.items()):
        for c, (name, series) in enumerate(s["designs"].items()):
            if on_chip_only and series["scheme"] == "ex_situ_pcb":
                continue
            style = "-" if series["scheme"] == "in_situ" else "--"
            point = series.get("design_point")
            for i, (key, _) in enumerate(keys):
                ys = [float("nan") if not y else y for y in series[key]]  # 0 / None: no point
                grid[i, j].plot(s["values"], ys, style, marker="o", ms=3, color=f"C{c}", label=name)
                if point and point[key]:
                    grid[i, j].plot([point["value"]], [point[key]], "*", ms=13, color=f"C{c}", mec="k", mew=0.7,
                                    zorder=5)
        grid[0, j].set_title(axis.replace("_", " "))
        grid[-1, j].set_xlabel(f"{axis.replace('_', ' ')} ({s['unit']})")
        for i in range(len(keys)):
            ax = grid[i, j]
            if axis != "write_width":
                ax.set_xscale("log", base=2)
                _log_axis(ax.xaxis, s["values"])
            ax.set_yscale("log")
            ax.autoscale_view()
            _log_axis(ax.yaxis, limits=ax.get_ylim())
            ax.grid(True, which="major", alpha=0.35, lw=0.6)
            ax.grid(True, which="minor", alpha=0.12, lw=0.4)
    for i, (_, label) in enumerate(keys):
        grid[i, 0].set_ylabel(label)
    handles, labels = grid[0, 0].get_legend_handles_labels()
    handles.append(Line2D([], [], ls="", marker="*", ms=13, mfc="w", mec="k", mew=0.7))
    labels.append("the preset's own design (star in its colour)")
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), frameon=False)
    fig.suptitle(f"P-bit scheme sensitivity (preset {data['preset']})")
    return fig


def plot_sweep(data: dict[str, Any], path, *, on_chip_only: bool = True) -> None:
    """Saves `sweep_figure(data)` as a PNG (atomic)."""
    save_figure_atomic(sweep_figure(data, on_chip_only=on_chip_only), path, dpi=130)
