"""A three-level pattern stored in differential pairs and read back (issue 13 item 5, Figs. 9-10).

The closed form a read is checked against is written here from the data-bit's physics
(lognormal device and TMR spread, multiplicative read noise, Gaussian tails), not taken
from the code under test; counts of misread pixels are held to the central 99.9% binomial
range of that rate (pixels are independent given their array's factor).
"""

import json
import math

import jax
import numpy as np
import pytest
from scipy import stats

from cimjax.apps.stored_pattern import default_logo, load_pattern_png, run_stored_pattern
from cimjax.cli import main
from cimjax.device import default_preset, level_margins, program_pattern, read_pattern
from cimjax.errors import ConfigError, DataFileError


def _levels(preset, factor):
    """(mean, sd) [S] of one read of -1 (AP, P), 0 (AP, AP) and +1 (P, AP) in an array of `factor`.

    A device's read is g exp(-s z)(1 + r e): mean g exp(s^2/2), second moment g^2 exp(2 s^2)(1 + r^2),
    with s^2 = sigma_device^2 (+ sigma_tmr^2 for AP); the pair's two devices are independent.
    """
    d = preset.data_bit
    v = float(preset.read_voltage) / float(d.tmr_half_voltage)
    g_p = float(d.area) / float(d.ra_product)
    g_ap = g_p / (1 + float(d.tmr_zero_bias) / (1 + v * v))
    r2 = float(d.sigma_read) ** 2

    def device(g, s2):
        mean = factor * g * math.exp(s2 / 2)
        return mean, (factor * g) ** 2 * math.exp(2 * s2) * (1 + r2) - mean**2

    (m_p, v_p), (m_ap, v_ap) = device(g_p, float(d.sigma_device) ** 2), device(g_ap, float(d.sigma_device) ** 2 + float(d.sigma_tmr) ** 2)
    return [(m_ap - m_p, math.sqrt(v_ap + v_p)), (0.0, math.sqrt(2 * v_ap)), (m_p - m_ap, math.sqrt(v_p + v_ap))]


def _closed_form(report):
    """Per-level misread probability Q(margin below) + Q(margin above), from the report's own numbers."""
    t_lo, t_hi = report["thresholds_S"]
    out = []
    for name, lv in report["levels"].items():
        m, s = lv["mean_S"], lv["sd_S"]
        below = math.inf if name == "-1" else (m - t_lo if name == "0" else m - t_hi) / s
        above = math.inf if name == "+1" else (t_lo - m if name == "-1" else t_hi - m) / s
        assert lv["margin_below_sigma"] == (None if math.isinf(below) else pytest.approx(below, rel=1e-9))
        assert lv["margin_above_sigma"] == (None if math.isinf(above) else pytest.approx(above, rel=1e-9))
        out.append(stats.norm.sf(below) + stats.norm.sf(above))
    return np.array(out)


def _check_counts(report):
    """Each level's and the total count of misread pixels inside the 99.9% binomial range of the closed form."""
    p = _closed_form(report)
    counts = np.array([lv["pixels"] for lv in report["levels"].values()])
    errors = np.array([lv["errors"] for lv in report["levels"].values()])
    for n, k, q in zip(counts, errors, p):
        lo, hi = stats.binom.interval(0.999, n, q)
        assert lo <= k <= hi, (n, k, q, report)
    rate = float(counts @ p / counts.sum())
    lo, hi = stats.binom.interval(0.999, counts.sum(), rate)
    assert lo <= errors.sum() <= hi, (errors.sum(), rate, report)
    assert report["predicted_error_rate"] == pytest.approx(rate, rel=1e-6)
    return rate


def _enlarged(sigma_read=0.08):
    """The default device with 8x its read noise: margins near 2 sigma, so reads do fail.

    Read noise keeps each read Gaussian given its devices, which is where the Gaussian closed
    form holds to well inside the binomial range (a wide lognormal device spread skews it)."""
    preset = default_preset()
    return preset.replace(data_bit=preset.data_bit.replace(sigma_read=np.float32(sigma_read)))


def test_level_moments_and_thresholds_follow_the_physics():
    preset = default_preset()
    lm = level_margins(preset.differential_pair, array_factor=1.1)
    # float32 moments: the variance is a second moment less a squared mean, ~1e-5 relative rounding
    for (mean, sd), m, s in zip(_levels(preset, 1.1), lm.means, lm.sds):
        assert m == pytest.approx(mean, rel=1e-5, abs=1e-12) and s == pytest.approx(sd, rel=1e-4)
    nominal = level_margins(preset.differential_pair)
    # each threshold of the nominal array leaves its two levels the same number of sigmas away
    np.testing.assert_allclose(nominal.margin_above[:2], nominal.margin_below[1:], rtol=1e-9)
    assert nominal.margin_sigma == pytest.approx((nominal.means[2] - nominal.means[1]) / (nominal.sds[1] + nominal.sds[2]))


def test_programmed_pairs_have_the_closed_form_moments():
    """Sample mean and sd of the reads of each level against the exact moments (CLT bounds)."""
    preset = _enlarged()
    pair = preset.differential_pair
    levels = np.tile(np.array([[-1, 0, 1]], np.int8), (200, 100))  # 20000 pixels of each level
    stored = program_pattern(jax.random.key(3), pair, levels)
    thresholds = level_margins(pair).thresholds
    g, decoded = read_pattern(jax.random.key(4), pair, stored, thresholds)
    g = np.asarray(g, np.float64)
    for v, (mean, sd) in zip((-1, 0, 1), _levels(preset, float(stored.array_factor))):
        x = g[levels == v]
        assert abs(x.mean() - mean) < 4 * sd / math.sqrt(x.size)
        kurtosis = stats.kurtosis(x, fisher=False)
        assert abs(x.std() / sd - 1) < 4 * math.sqrt((kurtosis - 1) / (4 * x.size))  # CLT sd of a sample sd
    assert set(np.unique(decoded)) <= {-1, 0, 1}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_enlarged_variation_error_rate_matches_the_margin(seed):
    """Errors occur, and their rate is the Gaussian tail of the margin in sigma (65536 pixels)."""
    logo = np.tile(default_logo(), (6, 3))[:256, :256]
    report = run_stored_pattern(logo, _enlarged(), seed=seed)["report"]
    rate = _check_counts(report)
    assert 5e-3 < rate < 0.2 and report["errors"] > 100
    assert report["margin_sigma"] < 3


def test_default_pattern_reads_back(tmp_path, capsys):
    """Acceptance: `cimjax device pairs` reads the built-in logo back; the closed form predicts ~0 errors."""
    assert main(["device", "pairs", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "pairs.json").read_text())
    rate = _check_counts(report)
    assert rate < 1e-3 and report["margin_sigma"] > 3.5
    assert report["error_rate"] <= report["error_count_range"][1] / report["pixels"]
    assert f"margin {report['margin_sigma']:.2f} sigma" in out and "read error rate" in out
    # the nominal array of the default preset: 4.13 sigma = dG / (sd(+dG) + sd(0 AP,AP))
    (m_lo, s_lo), (m0, s0), _ = _levels(default_preset(), 1.0)
    assert report["margin_sigma_nominal_array"] == pytest.approx((m0 - m_lo) / (s_lo + s0), rel=1e-4)


def test_a_preset_file_with_enlarged_variation(tmp_path, capsys):
    """The same command on a user's preset JSON: errors occur, at the closed-form rate."""
    preset = tmp_path / "noisy.json"
    preset.write_text(_enlarged().to_json())
    out = tmp_path / "out"
    assert main(["device", "pairs", "--preset", str(preset), "--out", str(out), "--seed", "5"]) == 0
    report = json.loads((out / "pairs.json").read_text())
    _check_counts(report)
    assert report["errors"] > 10 and report["preset"] == str(preset)
    assert sorted(p.name for p in out.iterdir()) == ["pairs.json", "pairs.png"]
    assert main(["device", "pairs", "--preset", str(preset), "--out", str(out)]) == 2  # not empty: needs --force
    assert "pass --force" in capsys.readouterr().err


def test_png_grey_levels_map_by_thirds(tmp_path):
    from PIL import Image

    grey = np.array([[0.1, 0.5, 0.9], [0.3, 0.4, 0.7]])
    Image.fromarray((grey * 255).round().astype(np.uint8), "L").save(tmp_path / "g.png")
    np.testing.assert_array_equal(load_pattern_png(tmp_path / "g.png"), [[-1, 0, 1], [-1, 0, 1]])
    rgba = np.zeros((1, 3, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # red: luma 0.299 -> -1
    rgba[0, 1] = (0, 255, 0, 255)  # green: luma 0.587 -> 0
    rgba[0, 2] = (0, 0, 0, 0)  # transparent: white -> +1
    Image.fromarray(rgba, "RGBA").save(tmp_path / "c.png")
    np.testing.assert_array_equal(load_pattern_png(tmp_path / "c.png"), [[-1, 0, 1]])


def test_bad_images_and_levels(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image\n")
    (tmp_path / "x.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(DataFileError, match="the file is empty"):
        load_pattern_png(tmp_path / "empty.png")
    with pytest.raises(DataFileError, match="text.png: cannot read image: not a PNG image"):
        load_pattern_png(tmp_path / "text.png")
    with pytest.raises(ConfigError, match="must be a .png file"):
        load_pattern_png(tmp_path / "x.jpg")
    pair = default_preset().differential_pair
    with pytest.raises(ConfigError, match="-1, 0 or \\+1, found \\[2\\]"):
        program_pattern(jax.random.key(0), pair, [[0, 1, 2]])
    with pytest.raises(ConfigError, match="non-empty 2-D"):
        program_pattern(jax.random.key(0), pair, np.zeros((0, 4)))
    with pytest.raises(ConfigError, match="zero_state"):
        level_margins(pair, zero_state="AP")
