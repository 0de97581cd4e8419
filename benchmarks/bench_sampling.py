"""Images per second of reverse-diffusion sampling: ex-situ, in-situ, and a plain flax loop.

All three run the same 100-step reverse loop over the demo's latent space with the same
MLP size. "plain flax" is the baseline: the same score MLP in one jitted `lax.scan`
with batched `jax.random.normal` noise (no per-sample keys, no sharding); ratios are
against it. Untrained (randomly initialised) weights: speed does not depend on them.
Usage: python3 -m benchmarks.bench_sampling [--quick]
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp

from benchmarks._timing import Report, time_fn
from cimjax.demo.nets import ScoreMLP, StandInDropconnectMLP
from cimjax.demo.training import EpsScore, InSituNet
from cimjax.sde import VPSDE, ExSituStep, InSituStep, sample_reverse


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="batches 64/256, 10 steps: checks the script runs")
    args = ap.parse_args()
    batches, n_steps = ((64, 256), 10) if args.quick else ((1024, 8192), 100)
    dim, hidden, depth = 6, 256, 3  # the demo's defaults (DemoConfig)
    sde = VPSDE()
    score = ScoreMLP(dim, hidden, depth)
    sp = score.init(jax.random.key(0), jnp.zeros((1, dim)), jnp.zeros((1,)))
    stoch = StandInDropconnectMLP(dim, hidden, depth)
    ip = stoch.init(jax.random.key(1), jnp.zeros((dim,)), jnp.zeros(()), None, 0.5)
    ex = ExSituStep(sde, EpsScore(score, sde))
    ins = InSituStep(sde, InSituNet(stoch, sde), 0.5)
    grid = sde.time_grid(n_steps)

    def plain(batch):
        @jax.jit
        def run(params, key):
            x = jax.random.normal(jax.random.fold_in(key, 0), (batch, dim))

            def body(x, k):
                t, dt = grid[k], grid[k + 1] - grid[k]
                s = -score.apply(params, x, jnp.full((batch,), t)) / sde.std(t)
                drift = -0.5 * sde.beta(t) * x - sde.beta(t) * s
                z = jax.random.normal(jax.random.fold_in(key, k + 1), x.shape)
                return x + drift * dt + jnp.sqrt(sde.beta(t) * -dt) * z, None

            return jax.lax.scan(body, x, jnp.arange(n_steps))[0]

        return lambda: run(sp, jax.random.key(0))

    report = Report("bench_sampling", ["sampler", "batch", "steps", "median_s", "images_per_s", "vs_plain"])
    repeats = 2 if args.quick else 3
    for batch in batches:
        base = time_fn(plain(batch), warmup=1, repeats=repeats)["median_s"]
        report.add(sampler="plain flax", batch=batch, steps=n_steps, median_s=base, images_per_s=batch / base,
                   vs_plain=1.0)
        for name, step, params in (("ex_situ", ex, sp), ("in_situ", ins, ip)):
            fn = lambda: sample_reverse(step, params, sde, n_steps=n_steps, dim=dim, seed=0, count=batch)  # noqa: E731
            t = time_fn(fn, warmup=1, repeats=repeats)["median_s"]
            report.add(sampler=name, batch=batch, steps=n_steps, median_s=t, images_per_s=batch / t,
                       vs_plain=t / base)
    report.notes.append(f"latent dim {dim}, MLP {hidden}x{depth}, VP SDE; ex-situ noise jax.random.normal "
                        "per sample key; in-situ: stand-in dropconnect output layer + 16 noise-row pairs, "
                        "P-bits at keep 0.5 (packed bits). vs_plain = time / plain time (lower is faster).")
    if args.quick:
        report.notes.append("--quick: reduced batches and steps; not the benchmark's numbers")
    report.write(tag="quick" if args.quick else None)


if __name__ == "__main__":
    main()
