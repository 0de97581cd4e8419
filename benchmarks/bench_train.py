"""Training steps per second: MC-dropconnect CrossbarMLP (exact, moment) vs a plain flax MLP.

All at the Fig. 22 demo's size (1 -> 64 -> 64 -> 1, batch 128, Adam, one stochastic
pass per step with every layer's P-bits written), measured in one run, on the ideal
crossbar (analog mapping, ideal periphery) and on the demo's crossbar (4-bit
bit-sliced, 8-bit DAC/ADC, 64x64 tiles, ADC ranges fitted to each layer's fan-in); ratios are against the plain flax step.
Targets (issue 5): exact <= 25x, moment <= 3x.

    python3 -m benchmarks.bench_train [--quick] [--out DIR]
"""

from __future__ import annotations

import argparse
import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from benchmarks._timing import Report, add_common_args, peak_rss_bytes, time_interleaved
from cimjax.crossbar import CrossbarConfig
from cimjax.nn import CrossbarMLP, TrainConfig, make_loss_fn, make_optimizer
from cimjax.apps.regression import demo_crossbar, layer_configs


class PlainMLP(nn.Module):
    features: tuple[int, ...]

    @nn.compact
    def __call__(self, x, *, sample_index=None):
        for i, f in enumerate(self.features):
            x = nn.Dense(f)(x)
            if i < len(self.features) - 1:
                x = nn.relu(x)
        return x


def _step_fn(model, x, y, config):
    tx = make_optimizer(config)
    loss_fn = make_loss_fn(model, config)
    params = model.init({"params": jax.random.key(0), "pbit": jax.random.key(1)}, x)["params"]
    opt_state = tx.init(params)
    ids = jnp.arange(x.shape[0], dtype=jnp.uint32)

    @jax.jit
    def step(params, opt_state, key):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y, ids, key)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    carry = {"p": params, "o": opt_state, "k": 0}

    def run():
        carry["k"] += 1
        carry["p"], carry["o"], loss = step(carry["p"], carry["o"], jax.random.key(carry["k"]))
        return loss

    return run


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    args = parser.parse_args(argv)
    batch, features = 128, (64, 64, 1)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(-1, 1, (batch, 1)), jnp.float32)
    y = jnp.asarray(rng.standard_normal((batch, 1)), jnp.float32)
    config = TrainConfig(loss="mse", batch_size=batch)
    report = Report("bench_train", ["model", "mode", "step_ms", "min_ms", "steps_per_s", "ratio_vs_plain", "target"])
    base = demo_crossbar()
    rows = [("flax nn.Dense MLP", "-", PlainMLP(features), None)]
    for label, crossbar in (("ideal crossbar", CrossbarConfig.ideal(keep_prob=0.5)), ("demo crossbar", base)):
        for mode, target in (("exact", 25.0), ("moment", 3.0)):
            cfg = dataclasses.replace(crossbar, pbit=dataclasses.replace(crossbar.pbit, mode=mode))
            cfgs = layer_configs(cfg, x.shape[1], features[:-1])  # ADC ranges fitted per layer, as the demo
            rows.append((f"CrossbarMLP, {label}", mode, CrossbarMLP(features, config=cfgs), target))
    steps = {f"{name} | {mode}": _step_fn(model, x, y, config) for name, mode, model, _ in rows}
    baseline = next(iter(steps))
    rounds, calls = (3, 10) if args.quick else (15, 100)
    times = time_interleaved(steps, baseline=baseline, rounds=rounds, calls=calls)
    for (name, mode, _, target), t in zip(rows, times.values()):
        report.add(model=name, mode=mode, step_ms=t["median_s"] * 1e3, min_ms=t["min_s"] * 1e3,
                   steps_per_s=1.0 / t["median_s"], ratio_vs_plain=t["ratio"],
                   target=f"<= {target:g}x" if target else "baseline")
    report.notes.append(f"interleaved: {rounds} rounds of {calls} steps per model; step_ms is the median over rounds, "
                        "ratio_vs_plain the median of the per-round ratios")
    report.notes.append("ideal crossbar: analog mapping, ideal periphery, keep_prob 0.5")
    report.notes.append(f"batch {batch}, MSE, Adam; demo crossbar: {base.mapping.scheme} {base.mapping.bits}-bit, "
                        f"DAC/ADC {base.periphery.dac_bits}/{base.periphery.adc_bits} bits, tile "
                        f"{base.tile.rows}x{base.tile.cols}, ADC ranges fitted to each layer's fan-in, P-bits at the preset "
                        f"pulse with device spread")
    report.notes.append(f"peak RSS {peak_rss_bytes() / 2**20:.0f} MiB")
    report.write(args.out, quick=args.quick)


if __name__ == "__main__":
    main()
