"""Sensitivity of throughput and efficiency to array size, parallelism and pulse width.

Each axis changes one knob of every design of a preset and recomputes its figures:

* ``array_size`` n: an n x n tile whose in-situ P-bits are written a row at a time
  (parallelism = n); longer column lines cost more write energy. Ex-situ generators sit
  outside the array, so their figures do not move.
* ``parallelism`` p: in-situ P-bits written and read per cycle (at most a whole tile);
  ex-situ, p generators with the bus widened in the design's ratio of lanes to
  generators; on the board, p channels.
* ``write_width`` t_w: the P-bit pulse width for every design, voltage held (a real
  design would recalibrate the voltage for 50% switching, Figs. 11-12).
"""

from __future__ import annotations

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
        return d.replace(array_rows=n, array_cols=n)
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


def sweep(preset: Preset, axis: str, values: list[float] | None = None) -> dict[str, Any]:
    """Figures of every design of `preset` along one axis.

    Returns:
      {"axis", "unit", "values", "designs": {name: {"label", "throughput_bit_per_ns": [...],
       "energy_pJ_per_bit": [...], "added_area_um2": [...]}}}
    """
    if axis not in AXES:
        raise ConfigError(f"{axis=} is not one of {tuple(AXES)}")
    values = list(AXES[axis]["values"] if values is None else values)
    designs = {}
    for name, d in preset.designs.items():
        rows = [figures(_APPLY[axis](d, v)) for v in values]
        designs[name] = {"label": d.label, "scheme": d.scheme,
                         "throughput_bit_per_ns": [f.throughput_bit_per_ns for f in rows],
                         "energy_pJ_per_bit": [f.energy_pJ_per_bit for f in rows],
                         "added_area_um2": [f.added_area_um2 for f in rows]}
    return {"axis": axis, "unit": AXES[axis]["unit"], "values": values, "designs": designs}


def sweep_all(preset: Preset) -> dict[str, Any]:
    """Every axis of `AXES`, keyed by axis name."""
    return {"preset": preset.name, "axes": {axis: sweep(preset, axis) for axis in AXES}}


def plot_sweep(data: dict[str, Any], path, *, on_chip_only: bool = True) -> None:
    """Throughput, efficiency and added area against each axis, saved as a PNG (atomic).

    In-situ adds no area, so it has no point on the (log) area row; the legend says so.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    axes = data["axes"]
    keys = [("throughput_bit_per_ns", "throughput (bit/ns), higher is better"),
            ("energy_pJ_per_bit", "efficiency (pJ/bit), lower is better"),
            ("added_area_um2", "added area (um^2); in-situ: 0")]
    fig, grid = plt.subplots(len(keys), len(axes), figsize=(4.4 * len(axes), 10), squeeze=False)
    for j, (axis, s) in enumerate(axes.items()):
        for name, series in s["designs"].items():
            if on_chip_only and series["scheme"] == "ex_situ_pcb":
                continue
            style = "-" if series["scheme"] == "in_situ" else "--"
            for i, (key, _) in enumerate(keys):
                ys = [float("nan") if not y else y for y in series[key]]  # 0 / None: no point
                grid[i, j].plot(s["values"], ys, style, marker="o", ms=3, label=name)
        grid[0, j].set_title(axis.replace("_", " "))
        grid[-1, j].set_xlabel(f"{axis.replace('_', ' ')} ({s['unit']})")
        for i in range(len(keys)):
            grid[i, j].set_xscale("linear" if axis == "write_width" else "log")
            grid[i, j].set_yscale("log")
            grid[i, j].grid(True, which="both", alpha=0.3)
    for i, (_, label) in enumerate(keys):
        grid[i, 0].set_ylabel(label)
    grid[0, 0].legend(fontsize=8)
    fig.suptitle(f"P-bit scheme sensitivity (preset {data['preset']})")
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=110)
    plt.close(fig)
