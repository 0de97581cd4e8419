"""Writes the table (markdown + JSON) and the reliability diagram (PNG) of `cimjax classify`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from cimjax._io import place_legends, save_figure_atomic, write_json_atomic, write_text_atomic
from cimjax.nn import describe
from cimjax.apps.classification._metrics import ECE_BINS, reliability_bins

__all__ = ["reliability_figure", "write_classify_report"]

TITLES = {"float_ann": "float ANN", "crossbar_ann": "crossbar ANN (P-bits fixed)",
          "mc": "MC dropconnect (in-situ P-bits)"}
_COLORS = {"float_ann": "C3", "crossbar_ann": "C2", "mc": "C0"}
_OOD = {"heldout": "digits 0-4 learnt; OOD = every image of the held-out digits 5-9",
        "corrupt": "all ten digits learnt; OOD = the test images with their pixels shuffled (own seeded permutation each)"}


def reliability_figure(result: dict[str, Any]):
    """Reliability diagram: per confidence bin, accuracy against mean confidence of each model,
    with the bin counts below. Returns a matplotlib Figure on an Agg canvas (1100 px wide at 100 dpi)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 6.2), layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    y = result["data"].y_test
    names = list(result["scores"])
    width = 1.0 / ECE_BINS / (len(names) + 1)
    top.plot([0, 1], [0, 1], "k--", lw=0.8, label="perfect calibration")
    for j, name in enumerate(names):
        r = reliability_bins(result["probs"][name][0], y)
        used = r["count"] > 0
        s = result["scores"][name]
        top.plot(r["confidence"][used], r["accuracy"][used], "o-", color=_COLORS[name], ms=5,
                 label=f"{TITLES[name]}: ECE {s['ece']:.4f}, acc. {s['accuracy']:.3f}")
        left = r["edges"][:-1] + (j + 0.5) * width
        bottom.bar(left, r["count"], width=width, align="edge", color=_COLORS[name], label=TITLES[name])
    top.set_ylabel("accuracy in bin")
    top.set_xlim(0.0, 1.0)
    top.set_ylim(0.0, 1.02)
    bottom.set_yscale("symlog", linthresh=1.0)
    bottom.set_ylabel("test images")
    bottom.set_xlabel(f"confidence (top-class probability), {ECE_BINS} equal-width bins")
    top.set_title(f"Reliability on held-out digits ({result['setup'].ood} OOD setting, seed {result['seed']})")
    place_legends(fig, [(top, {"fontsize": 9}), (bottom, {"fontsize": 8})])
    return fig


def _markdown(result: dict[str, Any]) -> str:
    setup, data = result["setup"], result["data"]
    names = list(result["scores"])
    rows = (("accuracy", "accuracy", "{:.4f}"), ("NLL (nats)", "nll", "{:.4f}"),
            (f"ECE ({ECE_BINS} bins)", "ece", "{:.4f}"), ("OOD AUROC (entropy)", "ood_auroc", "{:.4f}"),
            ("mean entropy, test", "mean_entropy_in", "{:.3f}"), ("mean entropy, OOD", "mean_entropy_ood", "{:.3f}"))
    lines = ["# Digits classification with uncertainty on the emulated crossbar", "",
             f"Setting: {_OOD[setup.ood]}. seed {result['seed']}; {len(data.y_train)} training, "
             f"{len(data.y_test)} test and {len(data.x_ood)} OOD images; {setup.steps} steps; "
             f"MC predictive = mean softmax of {setup.mc_samples} reads.", "",
             "| score | " + " | ".join(TITLES[n] for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, key, fmt in rows:
        lines.append(f"| {label} | " + " | ".join(fmt.format(result["scores"][n][key]) for n in names) + " |")
    return "\n".join(lines) + "\n"


def write_classify_report(result: dict[str, Any], out: str | Path) -> dict[str, str]:
    """Writes reliability.png, metrics.md and metrics.json into `out`; returns their paths."""
    out = Path(out)
    data = result["data"]
    payload = {"seed": result["seed"], "setup": dataclasses.asdict(result["setup"]),
               "ood": _OOD[result["setup"].ood], "ece_bins": ECE_BINS,
               "data": {"n_train": len(data.y_train), "n_test": len(data.y_test), "n_ood": len(data.x_ood),
                        "classes": data.classes},
               "crossbar": describe(result["config"]), "final_loss": result["final_loss"],
               "reliability": {n: {k: np.where(np.isnan(v), None, v).tolist() if v.dtype.kind == "f" else v.tolist()
                                   for k, v in reliability_bins(result["probs"][n][0], data.y_test).items()}
                               for n in result["scores"]},
               **result["scores"]}
    paths = {"figure": str(out / "reliability.png"), "markdown": str(out / "metrics.md"),
             "json": str(out / "metrics.json")}
    save_figure_atomic(reliability_figure(result), paths["figure"], dpi=100)
    write_text_atomic(paths["markdown"], _markdown(result))
    write_json_atomic(paths["json"], payload)
    return paths
