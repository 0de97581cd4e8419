"""Crossbar read throughput: fused in-situ P-bit kernels vs a naive mask and a plain matmul.

One run measures, per shape (B, N, M):
  matmul   deterministic x @ W (the floor; ratios are against it)
  naive    jax.random.bernoulli mask (B, N, M) materialised, then einsum (skipped where the
           mask would not fit in memory)
  exact    fused counter-hash read, fresh mask per sample (`crossbar_matmul`, ideal periphery)
  refresh  P-bits rewritten every 16 samples (matrix products)
  moment   Gaussian moment matching (approximation)
  exact, 512-bit vectors   the exact read compiled for AVX-512 registers (CPU only)
and P-bit draws per nanosecond (the chip: 29.8 bit/ns, Table II) with the resolution (bits) of
the keep probabilities the draws implement. The matmul and the modes are timed in interleaved
rounds, each call blocked on, and their ratio is taken round by round, so a shared machine's
drift hits them alike. The largest exact case runs in a subprocess so that its own peak RSS
is measured. An aihwkit row (AnalogLinear with
TorchInferenceRPUConfig vs our noisy tile forward, P-bits fixed) runs when aihwkit imports.

    python3 benchmarks/bench_mvm.py --quick     # small shapes, a smoke run
    python3 benchmarks/bench_mvm.py             # the issue's shapes
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._timing import Report, add_common_args, peak_rss_bytes, time_fn, time_interleaved  # noqa: E402

FULL_SHAPES = [(256, 512, 512), (1024, 1024, 1024)]
FULL_BIG = (4096, 1024, 1024)
QUICK_SHAPES = [(64, 256, 256)]
QUICK_BIG = (512, 512, 512)
NAIVE_MASK_LIMIT = 2 << 30  # bytes: float mask + bool mask of the naive baseline
REFRESH = 16
KEEP = 0.5  # the calibrated 50% point (Figs. 11-12)
# The exact read compiled for 512-bit vectors (XLA:CPU prefers 256): same bits, a per-program option.
WIDE = {"xla_cpu_prefer_vector_width": 512}
WIDE_MODE = "exact, 512-bit vectors"
COLUMNS = ["mode", "B", "N", "M", "median_ms", "x_matmul_time", "speedup_vs_naive", "bit_per_ns", "p_bits",
           "peak_rss_MiB"]


def _configs():
    from cimjax.crossbar import CrossbarConfig, PbitConfig, Periphery

    ideal = CrossbarConfig.ideal
    return {
        "exact": ideal("exact", keep_prob=KEEP),
        "refresh": CrossbarConfig(periphery=Periphery.ideal(), pbit=PbitConfig(mode="refresh", refresh=REFRESH,
                                                                               keep_prob=KEEP)),
        "moment": ideal("moment", keep_prob=KEEP),
    }


def _inputs(b, n, m):
    import jax

    kx, kw = jax.random.split(jax.random.PRNGKey(0))
    return jax.random.uniform(kx, (b, n), minval=-1, maxval=1), jax.random.normal(kw, (n, m))


def _exact_fn(b, n, m):
    import jax

    from cimjax.crossbar import crossbar_matmul

    x, w = _inputs(b, n, m)
    cfg = _configs()["exact"]
    read = jax.jit(lambda x, w, key: crossbar_matmul(x, w, key, cfg))
    return lambda: read(x, w, jax.random.PRNGKey(1))


def child(b, n, m, repeats):
    """Runs only the exact fused read in this process and prints its time and peak RSS as JSON."""
    from cimjax.kernels import PROBABILITY_BITS

    t = time_fn(_exact_fn(b, n, m), warmup=1, repeats=repeats)
    print(json.dumps({"median_s": t["median_s"], "peak_rss": peak_rss_bytes(), "p_bits": PROBABILITY_BITS}))


def bench_shape(report, b, n, m, rounds):
    import jax
    import jax.numpy as jnp

    from cimjax.crossbar import crossbar_matmul
    from cimjax.kernels import PROBABILITY_BITS

    x, w = _inputs(b, n, m)
    key = jax.random.PRNGKey(1)
    draws = b * n * m
    matmul = jax.jit(jnp.matmul)
    fns = {"matmul": lambda: matmul(x, w)}
    for mode, cfg in _configs().items():
        read = jax.jit(lambda x, w, key, cfg=cfg: crossbar_matmul(x, w, key, cfg))
        fns[mode] = lambda read=read: read(x, w, key)
    if jax.default_backend() == "cpu":
        wide = jax.jit(lambda x, w, key: crossbar_matmul(x, w, key, _configs()["exact"]), compiler_options=WIDE)
        fns[WIDE_MODE] = lambda: wide(x, w, key)
    # calls=1: every call is blocked on, as the committed results before this were timed.
    times = time_interleaved(fns, baseline="matmul", rounds=rounds, calls=1, warmup=2)
    report.add(mode="matmul", B=b, N=n, M=m, median_ms=1e3 * times["matmul"]["median_s"], x_matmul_time=1.0)
    naive_s = None
    if draws * 5 <= NAIVE_MASK_LIMIT:
        @jax.jit
        def naive(x, w, key):
            mask = jax.random.bernoulli(key, KEEP, (b, n, m))
            return jnp.einsum("bn,bnm->bm", x, jnp.where(mask, w[None], 0.0))

        naive_s = time_fn(lambda: naive(x, w, key), repeats=3)["median_s"]
        report.add(mode="naive", B=b, N=n, M=m, median_ms=1e3 * naive_s,
                   x_matmul_time=naive_s / times["matmul"]["median_s"], speedup_vs_naive=1.0,
                   bit_per_ns=draws / naive_s / 1e9)
    else:
        report.notes.append(f"naive baseline skipped at {(b, n, m)}: its mask would need {draws * 5 / 2**30:.1f} GiB")
    for mode in (*_configs(), WIDE_MODE):
        if mode not in times:
            continue
        s = times[mode]["median_s"]
        bits = {"exact": draws, WIDE_MODE: draws, "refresh": -(-b // REFRESH) * n * m, "moment": None}[mode]
        report.add(mode=mode, B=b, N=n, M=m, median_ms=1e3 * s, x_matmul_time=times[mode]["ratio"],
                   speedup_vs_naive=(naive_s / s) if naive_s else None,
                   bit_per_ns=(bits / s / 1e9) if bits else None, p_bits=PROBABILITY_BITS if bits else None)


def bench_big(report, b, n, m, repeats):
    cmd = [sys.executable, __file__, "--child", str(b), str(n), str(m), "--repeats", str(repeats)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    report.add(mode="exact (own process)", B=b, N=n, M=m, median_ms=1e3 * res["median_s"],
               bit_per_ns=b * n * m / res["median_s"] / 1e9, p_bits=res["p_bits"], peak_rss_MiB=res["peak_rss"] / 2**20)
    report.notes.append(f"exact at {(b, n, m)}: peak RSS {res['peak_rss'] / 2**30:.2f} GiB in its own process; "
                        f"a materialised float32 mask alone would need {b * n * m * 4 / 2**30:.2f} GiB")


def bench_aihwkit(report, repeats):
    """AnalogLinear + TorchInferenceRPUConfig vs our noisy tile forward at (256, 512, 512)."""
    b, n, m = 256, 512, 512
    try:
        import torch
        from aihwkit.nn import AnalogLinear
        from aihwkit.simulator.configs import TorchInferenceRPUConfig
    except Exception as err:  # aihwkit is optional; CI never needs it
        report.notes.append(f"aihwkit row skipped: aihwkit not importable ({type(err).__name__}: {err})")
        return
    import jax

    from cimjax.crossbar import CrossbarConfig, Mapping, PbitConfig, Periphery, Tile, crossbar_matmul

    layer = AnalogLinear(n, m, bias=False, rpu_config=TorchInferenceRPUConfig())
    layer.eval()
    xt = torch.rand(b, n) * 2 - 1
    with torch.no_grad():
        t_ai = time_fn(lambda: layer(xt), repeats=repeats)["median_s"]
    x, w = _inputs(b, n, m)
    # aihwkit's inference defaults: 7-bit input, 9-bit output quantisation, output noise on.
    cfg = CrossbarConfig(mapping=Mapping("analog"), periphery=Periphery(dac_bits=7, adc_bits=9, read_noise=0.02),
                         pbit=PbitConfig(mode="off"), tile=Tile(512, 512))
    read = jax.jit(lambda x, w, key: crossbar_matmul(x, w, key, cfg))
    t_us = time_fn(lambda: read(x, w, jax.random.PRNGKey(0)), repeats=repeats)["median_s"]
    report.add(mode="aihwkit AnalogLinear", B=b, N=n, M=m, median_ms=1e3 * t_ai)
    report.add(mode="cimjax noisy tile (P-bits off)", B=b, N=n, M=m, median_ms=1e3 * t_us)
    report.notes.append(f"cimjax noisy tile forward is {t_ai / t_us:.2f}x the speed of aihwkit's")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--shape", type=int, nargs=3, action="append", metavar=("B", "N", "M"),
                        help="measure this shape instead of the defaults (repeatable)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of the large case; interleaved rounds are 3x")
    parser.add_argument("--no-big", action="store_true", help="skip the large exact case in a subprocess")
    parser.add_argument("--child", type=int, nargs=3, metavar=("B", "N", "M"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child, repeats=args.repeats)
        return 0
    shapes = [tuple(s) for s in args.shape] if args.shape else (QUICK_SHAPES if args.quick else FULL_SHAPES)
    report = Report("bench_mvm", COLUMNS)
    rounds = 3 * args.repeats
    report.notes.append(f"keep probability {KEEP}; refresh={REFRESH}; the matmul and the modes are medians "
                        f"of {rounds} interleaved rounds of one blocked call each, after compile and warm-up; "
                        f"x_matmul_time is the median of the per-round ratios; naive is a median of 3 runs; bit/ns "
                        f"counts P-bit draws (chip: 29.8 bit/ns, Table II); p_bits: keep probabilities are "
                        f"multiples of 2^-p_bits (error at most 2^-(p_bits+1))")
    report.notes.append(f"'{WIDE_MODE}': the exact read under jax.jit(..., compiler_options={WIDE}) (or XLA_FLAGS="
                        f"--xla_cpu_prefer_vector_width=512), a choice of the user's program; same outputs bit for bit")
    load_start = os.getloadavg()
    for b, n, m in shapes:
        bench_shape(report, b, n, m, rounds)
    if not args.no_big:
        bench_big(report, *(QUICK_BIG if args.quick else FULL_BIG), repeats=max(2, args.repeats // 2))
    bench_aihwkit(report, args.repeats)
    # Other processes share the CPUs: absolute times (bit/ns) suffer first, ratios less (interleaved).
    report.notes.append(f"machine load (1-min load average) {load_start[0]:.1f} at the start, "
                        f"{os.getloadavg()[0]:.1f} at the end, on {os.cpu_count()} CPUs")
    report.write(args.out, quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
