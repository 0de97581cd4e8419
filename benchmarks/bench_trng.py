"""Benchmark of the SP800-22 battery: whole suite and each test on 1, 10 and 100 streams of 10^6 bits.

Also times `cimjax trng test` end to end (process start included) on a 10^6-bit file.
Ratios are against the single-stream time measured in the same run (per-stream cost).
Targets (issue 4): CLI < 10 s for all 15 tests; batched suite < 3 s per stream.

    python -m benchmarks.bench_trng            # full: 1, 10, 100 streams
    python -m benchmarks.bench_trng --quick    # 1 and 2 streams of 2^18 bits, fewer repeats
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks._timing import Report, add_common_args, peak_rss_bytes, time_fn


def _bits(k: int, n: int) -> np.ndarray:
    return np.random.default_rng(2024).integers(0, 2, (k, n), dtype=np.uint8)


def _cli_seconds(n: int) -> float:
    """Wall time of `python -m cimjax trng test FILE --json` on an n-bit ASCII file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "stream.txt")
        np.savetxt(path, _bits(1, n).reshape(-1, 1000), fmt="%d", delimiter="")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cimjax", "trng", "test", path, "--json"], check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    parser.add_argument("--streams", default=None, help="comma-separated stream counts (default 1,10,100)")
    parser.add_argument("--per-test", action="store_true", help="also time each test separately (default in full mode)")
    args = parser.parse_args(argv)

    from cimjax.trng import TEST_NAMES, NistConfig, run_nist

    n = 2 ** 18 if args.quick else 10 ** 6
    counts = [int(c) for c in args.streams.split(",")] if args.streams else ([1, 2] if args.quick else [1, 10, 100])
    repeats = 1 if args.quick else 3
    per_test = args.per_test or not args.quick
    report = Report("bench_trng", ["case", "streams", "n_bits", "median_s", "per_stream_s", "streams_per_s",
                                   "ratio_vs_1_stream"])
    report.notes.append("per_stream_s = median_s / streams; ratio_vs_1_stream = per-stream time over the "
                        "single-stream time of the same case in this run")
    report.notes.append("reference point (issue 4): a pure-Python implementation matching the reference takes "
                        "~54 s for one 10^6-bit stream on this CPU")
    base: dict[str, float] = {}
    for k in counts:
        bits = _bits(k, n)
        cases = [("suite", NistConfig())]
        if per_test:
            cases += [(name, NistConfig(tests=(name,))) for name in TEST_NAMES]
        for case, cfg in cases:
            t = time_fn(lambda: run_nist(bits, cfg), warmup=0 if k > 10 else 1, repeats=repeats)["median_s"]
            base.setdefault(case, t / k)
            report.add(case=case, streams=k, n_bits=n, median_s=t, per_stream_s=t / k, streams_per_s=k / t,
                       ratio_vs_1_stream=(t / k) / base[case])
    cli = _cli_seconds(10 ** 6)
    report.add(case="cli `cimjax trng test` (process start included)", streams=1, n_bits=10 ** 6, median_s=cli,
               per_stream_s=cli, streams_per_s=1 / cli)
    report.extra["peak_rss_bytes"] = peak_rss_bytes()
    report.write(args.out, quick=args.quick)


if __name__ == "__main__":
    main()
