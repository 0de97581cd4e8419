"""Images per second of reverse-diffusion sampling: crossbar ex-situ, crossbar in-situ, and a plain flax loop.

All three run the same reverse loop over the demo's latent space with the same MLP size.
* plain flax (the baseline): flax `nn.Dense` layers, float weights, no periphery, in one
  jitted `lax.scan` with batched `jax.random.normal` noise (no per-sample keys, no sharding);
* ex_situ: the demo's `CrossbarEpsNet` (every layer a `crossbar_matmul` read, P-bits off,
  8-bit DAC/ADC, analog pairs) with explicit per-sample Gaussian noise, via `sample_reverse`;
* in_situ: the demo's `InSituCrossbarNet` (same weights; the output read in exact mode with
  16 +A/-A noise-row pairs, fused counter-hash P-bits), via `sample_reverse`.
Ratios are time / plain time. Untrained weights: speed does not depend on them.
Usage: python3 -m benchmarks.bench_sampling [--quick]
"""

from __future__ import annotations

import argparse

import flax.linen as nn
import jax
import jax.numpy as jnp

from benchmarks._timing import Report, add_common_args, time_fn
from cimjax.nn import sinusoidal_embedding
from cimjax.sde import CrossbarEpsNet, EpsScore, InSituCrossbarNet, init_noise_params
from cimjax.sde import VPSDE, ExSituStep, InSituStep, sample_reverse


class PlainMLP(nn.Module):
    """The same noise-prediction MLP in plain flax (float Dense layers): the baseline."""

    dim: int
    hidden: int
    depth: int
    t_dim: int = 32

    @nn.compact
    def __call__(self, x, t):
        h = jnp.concatenate([x, sinusoidal_embedding(t, self.t_dim)], axis=-1)
        for _ in range(self.depth):
            h = nn.swish(nn.Dense(self.hidden)(h))
        return nn.Dense(self.dim)(h)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(ap)
    args = ap.parse_args(argv)
    batches, n_steps = ((64, 256), 10) if args.quick else ((1024, 8192), 100)
    dim, hidden, depth, noise_rows = 6, 256, 3, 16  # the demo's defaults (DemoConfig)
    sde = VPSDE()
    plain_net = PlainMLP(dim, hidden, depth)
    pp = plain_net.init(jax.random.key(0), jnp.zeros((1, dim)), jnp.zeros((1,)))
    net = CrossbarEpsNet(dim, hidden, depth)
    sp = net.init(jax.random.key(0), jnp.zeros((1, dim)), jnp.zeros((1,)))
    ip = {"score": sp, "noise": init_noise_params(jax.random.key(1), noise_rows, dim, net.t_dim)}
    ex = ExSituStep(sde, EpsScore(net, sde))
    ins = InSituStep(sde, InSituCrossbarNet(net, sde, noise_rows))
    grid = sde.time_grid(n_steps)

    def plain(batch):
        @jax.jit
        def run(params, key):
            x = jax.random.normal(jax.random.fold_in(key, 0), (batch, dim))

            def body(x, k):
                t, dt = grid[k], grid[k + 1] - grid[k]
                s = -plain_net.apply(params, x, jnp.full((batch,), t)) / sde.std(t)
                drift = -0.5 * sde.beta(t) * x - sde.beta(t) * s
                z = jax.random.normal(jax.random.fold_in(key, k + 1), x.shape)
                return x + drift * dt + jnp.sqrt(sde.beta(t) * -dt) * z, None

            return jax.lax.scan(body, x, jnp.arange(n_steps))[0]

        return lambda: run(pp, jax.random.key(0))

    report = Report("bench_sampling", ["sampler", "batch", "steps", "median_s", "images_per_s", "vs_plain"])
    repeats = 2 if args.quick else 3
    for batch in batches:
        base = time_fn(plain(batch), warmup=1, repeats=repeats)["median_s"]
        report.add(sampler="plain flax", batch=batch, steps=n_steps, median_s=base, images_per_s=batch / base,
                   vs_plain=1.0)
        for name, step, params in (("ex_situ (crossbar)", ex, sp), ("in_situ (crossbar)", ins, ip)):
            fn = lambda: sample_reverse(step, params, sde, n_steps=n_steps, dim=dim, seed=0, count=batch)  # noqa: E731
            t = time_fn(fn, warmup=1, repeats=repeats)["median_s"]
            report.add(sampler=name, batch=batch, steps=n_steps, median_s=t, images_per_s=batch / t,
                       vs_plain=t / base)
    report.notes.append(f"latent dim {dim}, MLP {hidden}x{depth}, VP SDE. ex-situ: CrossbarEpsNet reads (P-bits "
                        "off, 8-bit DAC/ADC, analog pairs) + jax.random.normal per sample key; in-situ: same "
                        f"weights, output read in exact P-bit mode over {hidden}+{2 * noise_rows} rows (keep 0.5, "
                        "calibrated pulse), no explicit noise. vs_plain = time / plain flax time (lower is faster).")
    report.write(args.out, quick=args.quick)


if __name__ == "__main__":
    main()
