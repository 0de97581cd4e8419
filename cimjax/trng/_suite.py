"""The whole SP800-22 rev1a battery over a batch of streams, and its JSON form."""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Mapping, NamedTuple

import numpy as np

from cimjax.errors import ConfigError
from cimjax.trng._bits import as_bit_matrix
from cimjax.trng._nist_complexity import linear_complexity, universal
from cimjax.trng._nist_excursions import random_excursions, random_excursions_variant
from cimjax.trng._nist_serial import (MAX_PATTERN_BITS, approximate_entropy, serial,
                                      wrapped_pattern_counts)
from cimjax.trng._nist_simple import block_frequency, cumulative_sums, frequency, longest_run, runs
from cimjax.trng._nist_spectral import dft, rank
from cimjax.trng._nist_template import non_overlapping_template, overlapping_template
from cimjax.trng._result import ALPHA, TEST_NAMES, TestOutcome


@dataclasses.dataclass(frozen=True)
class NistConfig:
    """Parameters of the battery; defaults are those of NIST STS 2.1.2.

    Attributes:
      block_frequency_m: M of the block frequency test (reference: 128).
      template_m: template length of the non-overlapping test (reference: 9, i.e. 148 templates).
      template_blocks: N, blocks of the non-overlapping test (reference: 8).
      overlapping_m: template length of the overlapping test (reference: 9).
      overlapping_block: M of the overlapping test (reference: 1032).
      universal_l, universal_q: L and Q of the universal test (None: from n, as the reference).
      linear_complexity_m: M of the linear complexity test (reference: 500).
      serial_m: m of the serial test (reference: 16).
      approximate_entropy_m: m of the approximate entropy test (reference: 10).
      alpha: significance level (reference: 0.01).
      tests: which tests to run, a subset of TEST_NAMES.
    """

    block_frequency_m: int = 128
    template_m: int = 9
    template_blocks: int = 8
    overlapping_m: int = 9
    overlapping_block: int = 1032
    universal_l: int | None = None
    universal_q: int | None = None
    linear_complexity_m: int = 500
    serial_m: int = 16
    approximate_entropy_m: int = 10
    alpha: float = ALPHA
    tests: tuple = TEST_NAMES

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("alpha", "tests") or (value is None and f.name.startswith("universal")):
                continue
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{f.name}={value!r} must be a positive integer")
        if not 0.0 < self.alpha < 1.0:
            raise ConfigError(f"alpha={self.alpha!r} must be in (0, 1)")
        unknown = [t for t in self.tests if t not in TEST_NAMES]
        if unknown:
            raise ConfigError(f"unknown test(s) {unknown}; choose from {list(TEST_NAMES)}")
        object.__setattr__(self, "tests", tuple(self.tests))


class NistResult(NamedTuple):
    """Outcomes of the battery: `outcomes[name]` is a TestOutcome over the k streams."""

    n_bits: int
    outcomes: Mapping[str, TestOutcome]
    config: NistConfig

    @property
    def n_streams(self) -> int:
        return next(iter(self.outcomes.values())).p_values.shape[0]

    def to_json(self, stream: int = 0, extra: dict | None = None) -> dict:
        """One stream's result in the CLI's schema:
        {"n_bits", "tests": {NAME: {"p_values": [...], "passed": bool} | {"skipped": reason}}, "extra"}.
        """
        tests = {}
        for name, out in self.outcomes.items():
            reason = out.skipped[stream]
            if reason is not None:
                tests[name] = {"skipped": reason}
            else:
                tests[name] = {"p_values": [float(p) for p in out.p_values[stream]],
                               "passed": bool(out.passed(self.config.alpha)[stream])}
        return {"n_bits": self.n_bits, "tests": tests, "extra": dict(extra or {})}

    def warnings(self) -> dict:
        return {name: list(out.warnings) for name, out in self.outcomes.items() if out.warnings}


def _runners(cfg: NistConfig, counts: np.ndarray | None) -> dict[str, Callable[[np.ndarray], TestOutcome]]:
    return {
        "frequency": frequency,
        "block_frequency": lambda b: block_frequency(b, cfg.block_frequency_m),
        "runs": runs,
        "longest_run": longest_run,
        "rank": rank,
        "dft": dft,
        "non_overlapping_template": lambda b: non_overlapping_template(b, cfg.template_m, cfg.template_blocks),
        "overlapping_template": lambda b: overlapping_template(b, cfg.overlapping_m, cfg.overlapping_block),
        "universal": lambda b: universal(b, cfg.universal_l, cfg.universal_q),
        "linear_complexity": lambda b: linear_complexity(b, cfg.linear_complexity_m),
        "serial": lambda b: serial(b, cfg.serial_m, counts),
        "approximate_entropy": lambda b: approximate_entropy(b, cfg.approximate_entropy_m, counts),
        "cumulative_sums": cumulative_sums,
        "random_excursions": random_excursions,
        "random_excursions_variant": random_excursions_variant,
    }


def _shared_counts(bits: np.ndarray, cfg: NistConfig) -> np.ndarray | None:
    """One wrapped pattern histogram serving both serial and approximate entropy, when both apply."""
    n = bits.shape[1]
    width = max(cfg.serial_m if "serial" in cfg.tests else 0,
                cfg.approximate_entropy_m + 1 if "approximate_entropy" in cfg.tests else 0)
    if width == 0 or width > min(int(np.log2(n)), MAX_PATTERN_BITS):
        return None  # the tests skip themselves with a reason
    return wrapped_pattern_counts(bits, width)


def _merge(parts: list[TestOutcome]) -> TestOutcome:
    first = parts[0]
    return first._replace(p_values=np.concatenate([p.p_values for p in parts], axis=0),
                          skipped=sum((p.skipped for p in parts), ()))


def run_nist(bits, config: NistConfig | None = None, *, chunk_bits: int = 8_000_000,
             progress: Iterable | Callable | None = None) -> NistResult:
    """Runs the SP800-22 rev1a battery on every stream of `bits`.

    Args:
      bits: (n,) or (k, n) 0/1 (uint8/bool/int), first bit first.
      config: NistConfig; defaults are the reference's.
      chunk_bits: streams are tested in groups of about this many bits, to bound memory.
      progress: optional callable `f(n_done_streams)` called after each group (e.g. tqdm.update).
    Returns:
      NistResult with one TestOutcome per test in `config.tests`.
    """
    cfg = config or NistConfig()
    bits = as_bit_matrix(bits)
    k, n = bits.shape
    group = max(1, chunk_bits // n)
    parts: dict[str, list[TestOutcome]] = {name: [] for name in cfg.tests}
    for start in range(0, k, group):
        chunk = np.ascontiguousarray(bits[start:start + group])
        runners = _runners(cfg, _shared_counts(chunk, cfg))
        for name in cfg.tests:
            parts[name].append(runners[name](chunk))
        if progress is not None:
            progress(chunk.shape[0])
    return NistResult(n, {name: _merge(p) for name, p in parts.items()}, cfg)
