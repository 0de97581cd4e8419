"""`cimjax demo` at several seeds: issue 12's acceptance per seed and the README's table across seeds.

Each seed trains every model of the demo itself (`DemoConfig(seed=s)`, checkpoints cached per
seed) and samples with that seed; the metrics are the demo's own metrics.json. Per seed it checks
the native in-situ sampler against the bounds: weight-cell P-bit share >= 0.9, mean and std error
< 0.10, Frechet distance and MMD^2 below a third of the decoded prior's, Frechet within 1.5x
ex-situ's. Accuracy, not speed; the machine is named all the same.

    python3 -m benchmarks.demo_seeds [--seeds 0 1 2] [--runs DIR] [--reuse] [--out benchmarks/results]

--reuse takes DIR/seed_<s>/metrics.json where it exists (e.g. from `cimjax demo --seed s --out DIR/seed_s`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from benchmarks._timing import machine_info

SETS = ("real", "ex_situ", "in_situ", "in_situ_noise_rows", "in_situ_rows_only", "prior")
SAMPLERS = ("in_situ", "in_situ_noise_rows", "in_situ_rows_only")


def run_seed(seed: int, runs: Path, reuse: bool) -> dict:
    path = runs / f"seed_{seed}" / "metrics.json"
    if not (reuse and path.exists()):
        from cimjax.apps.diffusion import DemoConfig, run_demo

        run_demo(DemoConfig(seed=seed), path.parent, force=True, cache_dir=runs / f"cache_{seed}")
    return json.loads(path.read_text())


def scorer(models):
    """latents [n, D] -> {frechet, mmd2, n} of their decoded images against the training images, as the demo scores."""
    import cimjax.apps.diffusion as D

    ref = models.data.x_train
    ref_features = models.features(ref)
    bandwidth = D.median_bandwidth(models.data.x_test, ref)

    def score(latents) -> dict:
        images = models.decode(latents)
        return {"frechet": D.frechet_distance(models.features(images), ref_features),
                "mmd2": D.mmd_rbf(images, ref, bandwidth), "n": int(len(images))}

    return score


def acceptance(m: dict) -> dict[str, bool]:
    """Issue 12's bounds for the native sampler in one run's metrics."""
    q, tr = m["quality"], m["transitions"]["in_situ"]
    return {"share >= 0.9": tr["pbit_variance_share_avg"] >= 0.9,
            "mean err < 0.10": tr["mean_rel_err_avg"] < 0.10,
            "std err < 0.10": tr["std_rel_err_avg"] < 0.10,
            "Frechet < prior / 3": q["in_situ"]["frechet"] < q["prior"]["frechet"] / 3,
            "MMD^2 < prior / 3": q["in_situ"]["mmd2"] < q["prior"]["mmd2"] / 3,
            "Frechet < 1.5 ex-situ": q["in_situ"]["frechet"] < 1.5 * q["ex_situ"]["frechet"]}


def _spread(values: list[float], fmt: str) -> str:
    return f"{format(float(np.mean(values)), fmt)} ({', '.join(format(v, fmt) for v in values)})"


def markdown(seeds: list[int], runs: dict[int, dict], machine: dict, note: str) -> str:
    lines = ["# cimjax demo across seeds (issue 12)", "",
             f"Machine: {machine.get('cpu_model', machine['processor'])}, {machine['cpu_count']} cores, "
             f"jax {machine.get('jax')} on {machine.get('backend')}. {note}".rstrip(), "",
             f"Seeds {seeds}; every model trained per seed with `cimjax demo` defaults; n = "
             f"{runs[seeds[0]]['quality']['in_situ']['n']} images per set. Mean over seeds (each seed's value).", "",
             "| set | Frechet | MMD^2 | KID | mean err | std err | weight-cell P-bit share |",
             "|---|---|---|---|---|---|---|"]
    for name in SETS:
        fd, mmd, kid = ([runs[s]["quality"][name][k] for s in seeds] for k in ("frechet", "mmd2", "kid"))
        row = (f"| {name} | {_spread(fd, '.3f')} | {_spread([v * 1e3 for v in mmd], '.2f')} e-3 | "
               f"{_spread([v * 1e3 for v in kid], '.2f')} e-3 |")
        if name in SAMPLERS:
            tr = [runs[s]["transitions"][name] for s in seeds]
            row += "".join(f" {_spread([t[k] for t in tr], '.3f')} |"
                           for k in ("mean_rel_err_avg", "std_rel_err_avg", "pbit_variance_share_avg"))
        else:
            row += " | | |"
        lines.append(row)
    lines += ["", "Frechet 95% bootstrap intervals per seed:", ""]
    lines += [f"- seed {s}: " + "; ".join(f"{n} [{runs[s]['quality'][n]['frechet_ci'][0]:.2f}, "
                                         f"{runs[s]['quality'][n]['frechet_ci'][1]:.2f}]" for n in SETS) for s in seeds]
    checks = {s: acceptance(runs[s]) for s in seeds}
    lines += ["", "Native in-situ against issue 12's bounds:", "", "| bound | " + " | ".join(f"seed {s}" for s in seeds)
              + " |", "|---|" + "---|" * len(seeds)]
    lines += [f"| {k} | " + " | ".join("yes" if checks[s][k] else "**no**" for s in seeds) + " |" for k in checks[seeds[0]]]
    lines += ["", "Demo wall time per seed (its own timings_s; models trained or loaded as `trained` says):", ""]
    lines += [f"- seed {s}: {runs[s]['timings_s']['total']:.0f} s (train or load {runs[s]['timings_s']['train_or_load']:.0f} s, "
              f"sample and metrics {runs[s]['timings_s']['sample_and_metrics']:.0f} s); trained: "
              f"{', '.join(runs[s]['trained']) or 'none'}" for s in seeds]
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--runs", default="demo-seeds", help="folder of the runs (seed_<s>/) and their checkpoints")
    p.add_argument("--reuse", action="store_true", help="take an existing seed_<s>/metrics.json instead of running")
    p.add_argument("--out", default="benchmarks/results")
    p.add_argument("--note", default="", help="a line for the table, e.g. how loaded the machine was")
    args = p.parse_args()
    runs = {s: run_seed(s, Path(args.runs), args.reuse) for s in args.seeds}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    summary = {"seeds": args.seeds, "machine": machine, "note": args.note,
               "acceptance": {str(s): acceptance(runs[s]) for s in args.seeds},
               "quality": {str(s): {n: {k: runs[s]["quality"][n][k] for k in ("frechet", "frechet_ci", "mmd2", "mmd2_ci", "kid", "kid_ci", "n")}
                                    for n in SETS} for s in args.seeds},
               "transitions": {str(s): {n: {k: v for k, v in runs[s]["transitions"][n].items() if k.endswith("_avg")}
                                        for n in SAMPLERS} for s in args.seeds},
               "timings_s": {str(s): runs[s]["timings_s"] for s in args.seeds}}
    (out / "demo_seeds.json").write_text(json.dumps(summary, indent=1))
    (out / "demo_seeds.md").write_text(markdown(args.seeds, runs, machine, args.note))
    print((out / "demo_seeds.md").read_text())


if __name__ == "__main__":
    main()
