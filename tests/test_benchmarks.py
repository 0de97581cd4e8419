"""Every benchmark still runs: a --quick run writes its results, tagged so that they never
replace the committed full results in benchmarks/results/."""

import importlib
import json

import pytest

BENCHMARKS = ["bench_cli", "bench_energy", "bench_mvm", "bench_sampling", "bench_train", "bench_trng"]


@pytest.mark.slow
@pytest.mark.parametrize("name", BENCHMARKS)
def test_quick_run_writes_results_tagged_quick(name, tmp_path):
    module = importlib.import_module(f"benchmarks.{name}")
    module.main(["--quick", "--out", str(tmp_path)])
    (md,) = tmp_path.glob(f"{name}-*-quick.md")
    payload = json.loads(md.with_suffix(".json").read_text())
    assert payload["benchmark"] == name and payload["rows"]
    assert any("--quick" in note for note in payload["notes"])
