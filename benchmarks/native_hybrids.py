"""Which part of the native in-situ step costs sample quality: its mean, its spread per state or its shape.

On each seed's cached demo models (from `python3 -m benchmarks.demo_seeds`, DIR/cache_<s>) it
draws n images with the ex-situ and native samplers and with three hybrids of the two steps:

* `native_mean+exact_noise`: the native pass's closed-form mean, Gaussian noise of the exact
  transition spread c = g sqrt|dt| (what a perfect native spread would give);
* `native_mean+own_variance`: the same mean, Gaussian noise of the pass's own closed-form
  variance in that state (the spread's state-to-state error, without the pass's shape);
* `ex_mean+native_noise`: the ex-situ drift read plus the native pass minus its mean (the
  native noise, shape included, on the ex-situ mean).

Scored as the demo scores (Frechet distance in the classifier's features, MMD^2) against the
training images. Accuracy, not speed; the machine is named all the same.

    python3 -m benchmarks.native_hybrids [--seeds 0 1 2] [--runs DIR] [--n 4000] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from benchmarks._timing import machine_info
from benchmarks.demo_seeds import scorer

SETS = ("ex_situ", "in_situ", "native_mean+exact_noise", "native_mean+own_variance", "ex_mean+native_noise", "prior")


@dataclasses.dataclass(frozen=True)
class Hybrid:
    """A reverse step (`sample_reverse`'s step) mixing the ex-situ and native steps' parts."""

    ex: object  # ExSituStep
    native: object  # NativeInSituNet
    mean_from: str  # "ex" | "native"
    noise_from: str  # "exact" | "own_variance" | "native"

    def __call__(self, params, x, t, dt, rand):
        import jax
        import jax.numpy as jnp

        from cimjax.sde import read_gain

        sde, net = self.ex.sde, self.native
        k_h = jnp.square(sde.diffusion(t)) * dt / sde.std(t)  # dx per unit of the pass h
        mu, var, _ = net.moments(params["native"], x, t, rand.read_key, rand.sample_index)
        if self.mean_from == "ex":
            mean = self.ex.mean_and_std(params["ex"], x, t, dt, rand.sample_index, rand.read_key)[0]
        else:
            mean = x + sde.drift(x, t) * dt + k_h * mu
        if self.noise_from == "native":
            return mean + k_h * (net.eps(params["native"], x, t, rand.read_key, rand.sample_index) - mu)
        z = jax.vmap(lambda k: jax.random.normal(k, x.shape[1:]))(rand.sample_keys)
        spread = read_gain(sde, t, dt) if self.noise_from == "exact" else jnp.abs(k_h) * jnp.sqrt(var)
        return mean + spread * z


def run_seed(seed: int, runs: Path, n: int) -> dict:
    import cimjax.apps.diffusion as D
    from cimjax.sde import sample_reverse

    cfg = D.DemoConfig(seed=seed)
    models = D.prepare_models(cfg, runs / f"cache_{seed}", progress=False)
    score = scorer(models)
    native_step, native_params = models.in_situ["in_situ"]
    params = {"ex": models.score_params, "native": native_params}
    parts = {"native_mean+exact_noise": ("native", "exact"), "native_mean+own_variance": ("native", "own_variance"),
             "ex_mean+native_noise": ("ex", "native")}
    out = {}
    for name in SETS:
        if name in parts:
            step = Hybrid(models.ex_situ, native_step.net_fn, *parts[name])
            latents = sample_reverse(step, params, models.sde, n_steps=cfg.n_steps, dim=cfg.latent_dim, seed=seed,
                                     start=0, count=n)
        else:
            latents = D.generate(models, name, n, seed=seed, progress=False)
        out[name] = score(np.asarray(latents))
        print(f"seed {seed} {name}: Frechet {out[name]['frechet']:.3f}, MMD^2 {out[name]['mmd2'] * 1e3:.3f}e-3",
              flush=True)
    return out


def markdown(results: dict, machine: dict, n: int) -> str:
    seeds = list(results)
    lines = ["# What the native in-situ step's parts cost (issue 12)", "",
             f"Machine: {machine.get('cpu_model', machine['processor'])}, {machine['cpu_count']} cores, "
             f"jax {machine.get('jax')} on {machine.get('backend')}.", "",
             f"Each seed's cached `cimjax demo` models; n = {n} images per set, sampling seed = the seed; "
             "Frechet distance / MMD^2 (1e-3) against the training images.", "",
             "| set | " + " | ".join(f"seed {s}" for s in seeds) + " |", "|---|" + "---|" * len(seeds)]
    for name in SETS:
        cells = [f"{results[s][name]['frechet']:.3f} / {results[s][name]['mmd2'] * 1e3:.3f}" for s in seeds]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--runs", default="demo-seeds", help="folder of benchmarks.demo_seeds' runs (cache_<s>/)")
    p.add_argument("--n", type=int, default=4000)
    p.add_argument("--out", default="benchmarks/results")
    args = p.parse_args(argv)
    runs = Path(args.runs)
    missing = [s for s in args.seeds if not (runs / f"cache_{s}").is_dir()]
    if missing:
        p.error(f"--runs {runs}: no cache_<s>/ for seeds {missing}; run `python3 -m benchmarks.demo_seeds` first")
    if args.n < 2:
        p.error(f"--n={args.n} must be >= 2")
    machine = machine_info()
    results = {s: run_seed(s, runs, args.n) for s in args.seeds}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": "native_hybrids", "machine": machine, "n": args.n, "seeds": args.seeds,
               "results": {str(s): r for s, r in results.items()}}
    (out / "native_hybrids.json").write_text(json.dumps(payload, indent=1))
    (out / "native_hybrids.md").write_text(markdown(results, machine, args.n))
    print(markdown(results, machine, args.n))


if __name__ == "__main__":
    main()
