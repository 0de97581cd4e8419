"""The one timing helper every benchmark uses.

`time_fn` warms up (compiles), then takes the median of repeated runs, blocking
on JAX results; `time_interleaved` times several functions in alternating rounds,
for ratios that a busy machine's drift does not bias. `Report` collects rows, each optionally as a ratio against a
baseline measured in the same run, and writes JSON plus a markdown table with
the machine's description to `benchmarks/results/`.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

RESULTS_DIR = Path(__file__).resolve().parent / "results"
_QUICK_NOTE = "--quick: reduced sizes and repeats, to check the benchmark runs; not its numbers"


def _block(out: Any) -> Any:
    try:
        import jax

        return jax.block_until_ready(out)
    except ImportError:  # pragma: no cover - jax is a hard dependency
        return out


def time_fn(fn: Callable[[], Any], *, warmup: int = 1, repeats: int = 5, min_time: float = 0.0) -> dict:
    """Median wall time of `fn()` in seconds, after `warmup` calls.

    Runs at least `repeats` times and, if `min_time` > 0, until that many seconds
    have been spent measuring.
    """
    for _ in range(warmup):
        _block(fn())
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeats or (time.perf_counter() - start) < min_time:
        t0 = time.perf_counter()
        _block(fn())
        times.append(time.perf_counter() - t0)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "runs": len(times),
    }


def time_interleaved(fns: dict[str, Callable[[], Any]], *, baseline: str, rounds: int = 15,
                     calls: int = 100, warmup: int = 20) -> dict[str, dict]:
    """Per-call wall time of each function, measured in interleaved rounds.

    Each round runs every function `calls` times back to back (blocking once at the
    end, as a training loop dispatches), so slow drifts of a shared machine hit all of
    them alike. Returns, per name, the median and min per-call seconds over the rounds
    and `ratio`: the median over rounds of its time divided by the baseline's in the
    same round.
    """
    for fn in fns.values():
        out = None
        for _ in range(warmup):
            out = fn()
        _block(out)
    per_round: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            out = None
            for _ in range(calls):
                out = fn()
            _block(out)
            per_round[name].append((time.perf_counter() - t0) / calls)
    base = per_round[baseline]
    return {name: {"median_s": statistics.median(ts), "min_s": min(ts), "runs": rounds * calls,
                   "ratio": statistics.median(t / b for t, b in zip(ts, base))}
            for name, ts in per_round.items()}


def add_common_args(parser) -> None:
    """The options every benchmark takes: --quick and --out."""
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few repeats: checks the benchmark runs (results tagged -quick)")
    parser.add_argument("--out", default=None, help="results folder (default: benchmarks/results)")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far."""
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(kb) * (1 if sys.platform == "darwin" else 1024)


def machine_info() -> dict:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import jax

        info["jax"] = jax.__version__
        info["backend"] = jax.default_backend()
        info["devices"] = [str(d.device_kind) for d in jax.devices()]
    except Exception as err:  # pragma: no cover
        info["jax_error"] = repr(err)
    return info


def machine_tag() -> str:
    """Short file-name tag naming the machine: backend plus device kind."""
    try:
        import jax

        kind = jax.devices()[0].device_kind
        tag = f"{jax.default_backend()}-{kind}"
    except Exception:  # pragma: no cover
        tag = "unknown"
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in tag).strip("_")


@dataclass
class Report:
    """Rows of one benchmark run, written as JSON and a markdown table."""

    name: str
    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def add(self, **row: Any) -> None:
        self.rows.append(row)
        shown = ", ".join(f"{k}={_fmt(row.get(k))}" for k in self.columns if k in row)
        print(f"[{self.name}] {shown}", flush=True)

    def markdown(self, info: dict) -> str:
        lines = [f"# {self.name}", "", f"Machine: {info.get('cpu_model', info.get('processor'))}, "
                 f"{info.get('cpu_count')} CPUs, backend {info.get('backend')} {info.get('devices')}, "
                 f"jax {info.get('jax')}, Python {info.get('python')}", ""]
        lines.append("| " + " | ".join(self.columns) + " |")
        lines.append("|" + "---|" * len(self.columns))
        for row in self.rows:
            lines.append("| " + " | ".join(_fmt(row.get(c)) for c in self.columns) + " |")
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def write(self, out_dir: str | os.PathLike | None = None, quick: bool = False) -> tuple[Path, Path]:
        """Writes `<name>-<machine>.json` and `.md` (`-quick` added for a quick run, so a smoke
        run never replaces the committed results); returns both paths."""
        info = machine_info()
        out = Path(out_dir) if out_dir else RESULTS_DIR
        out.mkdir(parents=True, exist_ok=True)
        if quick and _QUICK_NOTE not in self.notes:
            self.notes.append(_QUICK_NOTE)
        stem = f"{self.name}-{machine_tag()}" + ("-quick" if quick else "")
        payload = {"benchmark": self.name, "machine": info, "columns": self.columns,
                   "rows": self.rows, "notes": self.notes, **self.extra,
                   "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
        for path, text in ((json_path, json.dumps(payload, indent=2, default=str) + "\n"),
                           (md_path, self.markdown(info))):
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_text(text)
            os.replace(tmp, path)
        print(self.markdown(info))
        return json_path, md_path


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v == 0 or 1e-3 <= abs(v) < 1e5:
            return f"{v:.4g}"
        return f"{v:.3e}"
    return str(v)
