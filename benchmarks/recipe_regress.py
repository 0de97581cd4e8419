"""Measures the MC-dropconnect training recipe on three heteroscedastic tasks (1, 2 and 8 inputs).

Each task (`multi_input_task`) runs the ANN against the MC model on the demo crossbar (4-bit
bit-sliced pairs, 8-bit converters, per-layer `fit_adc_range`) at `RegressionSetup.quick()`
sizes, with the MC model as `cimjax regress` trains it (`RegressionSetup`: the Dawid-Sebastiani
score of exact reads, the last two arrays stochastic) and predicted with exact reads. Two
crossbars: "default" (the device's programming variation, Figs. 7-8, and read noise, Fig. 15,
on: `demo_crossbar()` as the CLI runs it) and "ideal" (both off). Per fifth of the true noise
level it reports the coverage, the predictive spread (band half-width / 1.645) over the true
noise std (median) and the band centre's rms error over the noise std: the diagnosis of
where a band is too wide or too narrow. Writes JSON and markdown (accuracy, not speed: no
machine dependence beyond float rounding; the machine is named all the same). Rows of earlier
runs of other (inputs, config, seed) are kept, so the table can be filled by several processes
in turn.

    python3 -m benchmarks.recipe_regress [--inputs 1 2 8] [--config default ideal] [--seeds 0 1 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from cimjax.apps.regression import RegressionSetup, coverage_by_noise, demo_crossbar, multi_input_task, run_regression
from benchmarks._timing import machine_info
from cimjax.crossbar import CrossbarConfig



def crossbar(kind: str) -> CrossbarConfig:
    """"default": the demo crossbar as `cimjax regress` runs it, with the device's programming variation
    (Figs. 7-8) and read noise (Fig. 15) on; "ideal": the same with both off."""
    config = demo_crossbar()
    if kind == "default":
        return config
    return dataclasses.replace(config, programming_sigma=0.0,
                               periphery=dataclasses.replace(config.periphery, read_noise=0.0))


def measure(inputs: int, kind: str, setup: RegressionSetup, seed: int = 0) -> dict:
    train, _ = multi_input_task(seed, setup.n_train, inputs)
    test, noise = multi_input_task(seed + 10_007, setup.n_test, inputs)
    r = run_regression(seed, setup, config=crossbar(kind), data=(train, test))
    x = test.x.astype(np.float64)
    true_mean = x[:, 0] * np.sin(x[:, 0]) + 0.5 * np.sin(x[:, 1:]).sum(1)
    lo, hi = r["mc"]["band"]
    spread, centre = (hi - lo) / (2 * 1.6448536269514722), (hi + lo) / 2
    fifths = np.array_split(np.argsort(noise, kind="stable"), 5)
    return {"inputs": inputs, "config": kind, "seed": seed, "mc_loss": setup.mc_loss,
            "mc_nll": r["mc"]["nll"], "ann_nll": r["ann"]["nll"], "coverage_90": r["mc"]["coverage_90"],
            "coverage_by_noise_fifth": coverage_by_noise(r, noise),
            "spread_over_noise_fifth": [float(np.median(spread[f] / noise[f])) for f in fifths],
            "bias_over_noise_fifth": [float(np.sqrt(np.mean(((centre[f] - true_mean[f]) / noise[f]) ** 2)))
                                      for f in fifths],
            "zero_spread_fraction": r["mc"]["zero_spread_fraction"],
            "narrow_spread_fraction": r["mc"]["narrow_spread_fraction"],
            "calibration_std": r["mc"]["calibration_std"]}


def _markdown(setup: dict, rows: list[dict], machine: dict, note: str = "") -> str:
    lines = [f"Sizes: {setup}", "",
             f"Machine: {machine.get('cpu_model', machine.get('processor'))}, {machine.get('cpu_count')} cores, "
             f"jax {machine.get('jax')} on {machine.get('backend')}. {note}".rstrip(), "",
             "| inputs | crossbar | seed | coverage 90% | per fifth of noise (low to high) | spread / noise per fifth "
             "| rms bias / noise per fifth | added std | zero-spread | MC NLL | ANN NLL |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["config"], r["inputs"], r["seed"])):
        cells = [", ".join(f"{c:.{d}f}" for c in r[k])  # coverage to 3 places: 0.7775 is below 0.78
                 for k, d in (("coverage_by_noise_fifth", 3), ("spread_over_noise_fifth", 2),
                              ("bias_over_noise_fifth", 2))]
        lines.append(f"| {r['inputs']} | {r['config']} | {r['seed']} | {r['coverage_90']:.3f} | {' | '.join(cells)} | "
                     f"{r.get('calibration_std', 0.0):.3f} | {r['zero_spread_fraction']:.2%} | {r['mc_nll']:.3f} | {r['ann_nll']:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--inputs", type=int, nargs="+", default=[1, 2, 8])
    p.add_argument("--config", nargs="+", default=["default", "ideal"], choices=["default", "ideal"])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--note", default="", help="a line for the table, e.g. how loaded the machine was")
    args = p.parse_args()
    setup = RegressionSetup.quick()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "recipe_regress.json"
    for kind, seed, inputs in ((k, s, i) for k in args.config for s in args.seeds for i in args.inputs):
        row = measure(inputs, kind, setup, seed)
        print(json.dumps(row), flush=True)
        old = json.loads(path.read_text()) if path.exists() else {}
        same = old.get("setup") == json.loads(json.dumps(dataclasses.asdict(setup)))
        rows = [r for r in (old.get("rows", []) if same else [])
                if (r.get("inputs"), r.get("config"), r.get("seed")) != (inputs, kind, seed)]
        rows.append(row)
        machine = machine_info()
        path.write_text(json.dumps({"setup": dataclasses.asdict(setup), "machine": machine, "note": args.note,
                                    "rows": rows}, indent=1))
        (out / "recipe_regress.md").write_text(_markdown(dataclasses.asdict(setup), rows, machine, args.note))
    print((out / "recipe_regress.md").read_text())


if __name__ == "__main__":
    main()
