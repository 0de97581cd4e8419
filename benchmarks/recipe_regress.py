"""Measures the MC-dropconnect training recipe on three heteroscedastic tasks (1, 2 and 8 inputs).

Each task (`multi_input_task`) runs the ANN against the MC model on the demo crossbar (4-bit
bit-sliced pairs, 8-bit converters, per-layer `fit_adc_range`), with the MC model trained by
the Gaussian NLL of moment-matched reads ("nll") and by the energy score of exact reads
("energy"), both predicted with exact reads. Writes JSON and markdown (accuracy, not speed:
no machine dependence beyond float rounding).

    python3 -m benchmarks.recipe_regress [--steps N] [--out DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from cimjax.apps.regression import RegressionSetup, coverage_by_noise, multi_input_task, run_regression


def measure(inputs: int, loss: str, setup: RegressionSetup, seed: int = 0) -> dict:
    train, _ = multi_input_task(seed, setup.n_train, inputs)
    test, noise = multi_input_task(seed + 10_007, setup.n_test, inputs)
    r = run_regression(seed, dataclasses.replace(setup, mc_loss=loss), data=(train, test))
    return {"inputs": inputs, "loss": loss, "mc_nll": r["mc"]["nll"], "ann_nll": r["ann"]["nll"],
            "coverage_90": r["mc"]["coverage_90"], "coverage_by_noise_fifth": coverage_by_noise(r, noise),
            "zero_spread_fraction": r["mc"]["zero_spread_fraction"]}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args()
    setup = RegressionSetup(n_train=1000, n_test=2000, hidden=(32, 32), steps=args.steps, mc_samples=200)
    rows = []
    for inputs in (1, 2, 8):
        for loss in ("nll", "energy"):
            rows.append(measure(inputs, loss, setup))
            print(json.dumps(rows[-1]), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe_regress.json").write_text(json.dumps({"setup": dataclasses.asdict(setup), "rows": rows}, indent=1))
    lines = ["| inputs | MC loss | coverage 90% | per fifth of noise (low to high) | zero-spread | MC NLL | ANN NLL |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        fifths = ", ".join(f"{c:.2f}" for c in r["coverage_by_noise_fifth"])
        lines.append(f"| {r['inputs']} | {r['loss']} | {r['coverage_90']:.3f} | {fifths} | "
                     f"{r['zero_spread_fraction']:.2%} | {r['mc_nll']:.3f} | {r['ann_nll']:.3f} |")
    (out / "recipe_regress.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
