"""P-bit streams as a researcher needs them (issue 13 item 4, issue 16 item 4): per-device
trimming, debiasing with its raw-bit cost, Shannon entropy against a fair stream's, and the
second-level report's wording.

Bounds come from the distributions: the frequency test's acceptance band, binomial and
negative-binomial CLT intervals, and exact enumeration of all 2^n strings.
"""

import itertools
import json
import math

import jax
import numpy as np
import pytest
from scipy import optimize, stats

from cimjax import trng
from cimjax.cli import main
from cimjax.errors import ConfigError

ALPHA = 0.01
Z = stats.norm.isf(ALPHA / 2)  # the frequency test passes iff |2 ones - n| / sqrt(n) <= Z
README_DEVICES, SMALL_N = 16, 2 ** 17  # the README's example at 1/8 of its 10^6 bits


def tolerated_bias(n: int) -> float:
    """The bias e at which the frequency test's failure rate doubles from alpha to 2 alpha.

    ones ~ N(n (1/2 + e), n / 4), so |2 ones - n| / sqrt(n) ~ |N(2 e sqrt(n), 1)| and the test
    fails with probability Phi(-Z - d) + Phi(-Z + d), d = 2 e sqrt(n).
    """
    fail = lambda d: stats.norm.cdf(-Z - d) + stats.norm.cdf(-Z + d) - 2 * ALPHA  # noqa: E731
    return optimize.brentq(fail, 0.0, 5.0) / (2 * math.sqrt(n))


def run(capsys, *argv):
    code = main(["trng", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _flag_bound(rows) -> int:
    """0.999 quantile of the number of rows a perfect source flags: a Poisson-binomial over the rows,
    each flagged when Binomial(k, 1 - alpha) passes fall below NIST's 1 - alpha - 3 sd (SP800-22 4.2.1)."""
    dist = np.array([1.0])
    for r in rows:
        k = r["streams"]
        low = (1 - ALPHA) - 3 * math.sqrt(ALPHA * (1 - ALPHA) / k)
        high = (1 - ALPHA) + 3 * math.sqrt(ALPHA * (1 - ALPHA) / k)
        passes = np.arange(k + 1)
        p = stats.binom.pmf(passes[(passes < low * k) | (passes > high * k)], k, 1 - ALPHA).sum()
        dist = np.convolve(dist, [1 - p, p])
    return int(np.searchsorted(np.cumsum(dist), 0.999))


def test_readme_example_trimmed_passes_at_reduced_size(tmp_path, capsys):
    """The README's command with --trim, at 2^17 bits: each device's P_sw within the bias the
    frequency test tolerates, every device passes it, and the second level flags no more rows
    than a perfect source would (0.999 bound). Seed 0 is the README's default, not a choice."""
    out = tmp_path / "bits.npy"
    code, text, err = run(capsys, "generate", "--devices", str(README_DEVICES), "--bits", str(SMALL_N), "--mode",
                          "reset", "--trim", "--out", str(out))
    assert code == 0, err
    assert "trimmed: each device at its own 50% voltage" in text
    streams = trng.generate_streams(jax.random.key(0), README_DEVICES, SMALL_N, trim=True)  # what the CLI wrote
    np.testing.assert_array_equal(streams.bits, np.load(out))
    assert np.all(np.abs(streams.p_sw - 0.5) <= tolerated_bias(SMALL_N)), streams.p_sw
    assert len(np.unique(streams.voltage)) == README_DEVICES  # each device at its own voltage
    code, text, err = run(capsys, "test", str(out), "--json")
    obj = json.loads(text)
    assert code == 0
    assert all(s["tests"]["frequency"]["passed"] for s in obj["streams"])
    rows = [r for test in obj["second_level"].values() for r in test]
    flagged = sum(not (r["proportion_ok"] and r["uniformity_ok"]) for r in rows)
    assert flagged <= _flag_bound(rows)


def test_readme_example_untrimmed_fails_frequency(tmp_path, capsys):
    """The README's untrimmed command: the P_sw spread (sd ~0.05, Fig. 13) is far beyond the
    tolerated bias, and every device whose P_sw misses 1/2 by the test's band plus 4.4 sd of the
    ones fraction fails (each passes by chance with probability < 1e-5); most devices do."""
    out = tmp_path / "bits.npy"
    code, _, err = run(capsys, "generate", "--devices", str(README_DEVICES), "--bits", str(SMALL_N), "--mode",
                       "reset", "--out", str(out))
    assert code == 0, err
    p_sw = trng.generate_streams(jax.random.key(0), README_DEVICES, SMALL_N).p_sw
    assert p_sw.std() > 10 * tolerated_bias(SMALL_N)
    passed = trng.frequency(np.load(out)).passed()
    surely_biased = np.abs(p_sw - 0.5) > (Z + 4.4) / (2 * math.sqrt(SMALL_N))
    assert not passed[surely_biased].any()
    assert surely_biased.sum() > README_DEVICES / 2


def test_trim_needs_spread_and_its_own_voltage(tmp_path, capsys, monkeypatch):
    def no_compute(*args, **kwargs):
        raise AssertionError("compute started before the error")

    monkeypatch.setattr("cimjax.trng._generate.sample_pbit_curves", no_compute)
    monkeypatch.setattr("cimjax.trng._generate.pbit_bitstream", no_compute)
    preset = tmp_path / "flat.json"
    assert main(["device", "preset", "default", "--out", str(preset)]) == 0
    obj = json.loads(preset.read_text())
    obj["pbit_spread"] = {k: 0.0 for k in obj["pbit_spread"]}
    preset.write_text(json.dumps(obj))
    capsys.readouterr()
    out = tmp_path / "b.npy"
    code, text, err = run(capsys, "generate", "--bits", "64", "--trim", "--preset", str(preset), "--out", str(out))
    assert code == 2 and "no device-to-device spread" in err and "Traceback" not in err
    for extra in (["--p-sw", "0.5"], ["--voltage", "1.5"], ["--no-spread"]):
        code, _, err = run(capsys, "generate", "--bits", "64", "--trim", *extra, "--out", str(out))
        assert code == 2 and "--trim" in err
    code, _, err = run(capsys, "generate", "--bits", "64", "--debias", "xor", "--out", str(out),
                       "--conductance-out", str(tmp_path / "g.npy"))
    assert code == 2 and "--conductance-out" in err
    assert not out.exists()


def test_trim_at_an_unreachable_width_names_it():
    with pytest.raises(ConfigError, match="width=2e-10"):
        trng.generate_streams(jax.random.key(0), 4, 8, trim=True, width=2e-10)


def test_debias_counts_are_exact():
    raw = np.array([[0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0]])
    vn = trng.debias(raw, "von-neumann", 2)  # pairs 01 11 10 00 01 10 -> 0 . 1 . 0 1
    assert vn.bits.tolist() == [[0, 1]] and vn.raw_bits.tolist() == [6]
    assert trng.debias(raw, "von-neumann").bits.tolist() == [[0, 1, 0, 1]]
    x = trng.debias(raw, "xor")
    assert x.bits.tolist() == [[1, 0, 1, 0, 1, 1]] and x.raw_bits.tolist() == [12]
    assert x.raw_bits_per_output_bit.tolist() == [2.0]
    with pytest.raises(ConfigError, match="give more raw bits"):
        trng.debias(raw, "von-neumann", 5)
    np.testing.assert_allclose(trng.debias_rate([0.5, 0.3], "von-neumann"), [0.25, 0.21])


@pytest.mark.parametrize("p", [0.3, 0.55])
def test_debiased_streams_match_closed_forms(p):
    """P_sw forced to p, 20000 output bits on 4 devices. von Neumann: output unbiased, and the pairs
    consumed per device are negative binomial, mean m / q, sd sqrt(m (1 - q)) / q, q = 2 p (1 - p).
    XOR: P(1) = 2 p (1 - p). Bounds at 4.5 sd (two-sided 7e-6 each; 16 checks)."""
    m, k = 20000, 4
    vn = trng.generate_streams(jax.random.key(3), k, m, p_sw=p, debias="von-neumann")
    q = 2 * p * (1 - p)
    pairs = vn.raw_bits / 2
    assert np.all(np.abs(pairs - m / q) < 4.5 * math.sqrt(m * (1 - q)) / q)
    assert np.all(np.abs(vn.bits.mean(1) - 0.5) < 4.5 * 0.5 / math.sqrt(m))
    xor = trng.generate_streams(jax.random.key(4), k, m, p_sw=p, debias="xor")
    assert np.all(xor.raw_bits == 2 * m) and xor.conductance is None
    assert np.all(np.abs(xor.bits.mean(1) - q) < 4.5 * math.sqrt(q * (1 - q) / m))


def test_cli_reports_the_raw_bit_cost(tmp_path, capsys):
    code, text, err = run(capsys, "generate", "--devices", "2", "--bits", "4000", "--debias", "von-neumann",
                          "--out", str(tmp_path / "v.npy"))
    assert code == 0, err
    assert "raw bits per output bit" in text and np.load(tmp_path / "v.npy").shape == (2, 4000)


def _entropy(k, n):
    p = np.asarray(k) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nan_to_num(p * np.log2(p)) - np.nan_to_num((1 - p) * np.log2(1 - p))


@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_fair_entropy_by_enumerating_every_string(n):
    strings = np.array(list(itertools.product((0, 1), repeat=n)))
    h = _entropy(strings.sum(1), n)  # every string equally likely
    fair = trng.fair_entropy(n)
    assert fair.mean == pytest.approx(h.mean(), abs=1e-12)
    assert np.mean(h >= fair.low95 - 1e-12) >= 0.95  # a 95% lower bound ...
    assert np.mean(h >= np.min(h[h > fair.low95 + 1e-12], initial=2.0)) < 0.95  # ... and the largest one


def test_fair_entropy_asymptotics_and_the_papers_value():
    # 1 - H ~ chi2_1 / (2 n ln 2) for large n: mean 1 / (2 n ln 2), 95% point 3.841 / (2 n ln 2)
    n = 10 ** 6
    fair = trng.fair_entropy(n)
    assert 1 - fair.mean == pytest.approx(1 / (2 * n * math.log(2)), rel=1e-3)
    assert 1 - fair.low95 == pytest.approx(stats.chi2.ppf(0.95, 1) / (2 * n * math.log(2)), rel=0.01)
    # Fig. 18: H = 0.999986 at 4096 bits. A fair stream gets there when |K - 2048| <= 9: 23% of the time
    k = np.arange(4097)
    reach = stats.binom.pmf(k, 4096, 0.5)[_entropy(k, 4096) >= 0.9999855].sum()
    assert 0.22 < reach < 0.24
    fair = trng.fair_entropy(4096)
    assert fair.low95 < 0.999986 and 1 - fair.mean == pytest.approx(1.76e-4, abs=1e-6)


def test_second_level_labels_proportions_and_explains_uniformity():
    from cimjax.apps.trng_report import result_json, text_table

    bits = np.random.default_rng(0).integers(0, 2, (16, 4000), dtype=np.uint8)
    result = trng.run_nist(bits, trng.NistConfig(tests=("frequency", "runs")))
    text = text_table(bits, result)
    second = text[text.index("Second level"):]
    assert "nan" not in second and " of 16" not in second
    assert "(16/16 passed)" in text or "(15/16 passed)" in text
    assert "uniformity not computed: 16 streams, SP800-22 4.2.2 needs >= 55" in text
    assert "(a fair stream of 4000 bits: mean 0.00018, 95% of streams below 0.00069)" in text
    row = result_json(bits, result)["second_level"]["frequency"][0]
    assert row["uniformity_p"] is None and "needs >= 55" in row["uniformity_note"]
    assert row["proportion"] == row["passed"] / row["streams"]
    assert trng.uniformity_note(55) is None
    # a perfect source flags a row of 16 streams when >= 2 fail: 1 - 0.99^16 - 16 * 0.01 * 0.99^15
    assert trng.proportion_flag_probability(16) == pytest.approx(1 - 0.99 ** 16 - 16 * 0.01 * 0.99 ** 15)
