"""Store a three-level pattern in differential pairs, read it back and report the errors (Figs. 9-10)."""

from __future__ import annotations

import math

import jax
import numpy as np
from scipy import stats

from cimjax.device import DEFAULT_ZERO_STATE, PATTERN_LEVELS, DevicePreset, level_margins, program_pattern, read_pattern

# coverage of the binomial range the measured error count is reported against
ERROR_COUNT_COVERAGE = 0.999


def run_stored_pattern(levels: np.ndarray, preset: DevicePreset, seed: int = 0,
                       zero_state: str = DEFAULT_ZERO_STATE) -> dict:
    """Programs `levels` into one array of the preset's differential pairs and reads it once.

    The thresholds are the nominal array's (`level_margins`); the predicted error rate is the
    Gaussian closed form at the programmed array's factor, averaged over the pattern's pixels,
    and the reported range is the central `ERROR_COUNT_COVERAGE` binomial range of the error count at
    that rate (pixels are independent given the array factor; their rates differ by level,
    which only narrows the spread, so the binomial range is conservative).

    Args:
      levels: (H, W) of -1, 0, +1.
      preset: the device (its data-bit and read voltage).
      seed: seed of the device and array draw and of the read noise.
      zero_state: how 0 is stored ("AP,AP" or "P,P").

    Returns:
      dict with the arrays "levels", "conductance", "decoded" (H, W) and the JSON-ready
      "report" (see `pattern_report_json`).
    """
    pair = preset.differential_pair
    k_program, k_read = jax.random.split(jax.random.key(seed))
    nominal = level_margins(pair, zero_state)
    stored = program_pattern(k_program, pair, levels, zero_state)
    here = level_margins(pair, zero_state, float(stored.array_factor), nominal.thresholds)
    conductance, decoded = read_pattern(k_read, pair, stored, nominal.thresholds)
    levels, decoded = np.asarray(stored.levels), np.asarray(decoded)
    counts = np.array([(levels == v).sum() for v in PATTERN_LEVELS])
    errors = np.array([((levels == v) & (decoded != v)).sum() for v in PATTERN_LEVELS])
    n = int(levels.size)
    predicted = float(counts @ here.error_probability / n)
    lo, hi = stats.binom.interval(ERROR_COUNT_COVERAGE, n, predicted)
    finite = lambda x: None if math.isinf(x) else float(x)  # noqa: E731 - JSON has no inf
    report = {
        "shape": list(levels.shape),
        "pixels": n,
        "seed": seed,
        "zero_state": zero_state,
        "array_factor": float(stored.array_factor),
        "sigma_array": float(str(np.float32(pair.data_bit.sigma_array))),  # the float32 leaf as written
        "thresholds_S": [float(t) for t in nominal.thresholds],
        "levels": {
            f"{v:+d}" if v else "0": {
                "pixels": int(counts[i]), "mean_S": float(here.means[i]), "sd_S": float(here.sds[i]),
                "margin_below_sigma": finite(here.margin_below[i]), "margin_above_sigma": finite(here.margin_above[i]),
                "predicted_error_rate": float(here.error_probability[i]), "errors": int(errors[i]),
            }
            for i, v in enumerate(PATTERN_LEVELS)
        },
        "margin_sigma": here.margin_sigma,
        "margin_sigma_nominal_array": nominal.margin_sigma,
        "errors": int(errors.sum()),
        "error_rate": float(errors.sum() / n),
        "predicted_error_rate": predicted,
        "error_count_range": [int(lo), int(hi)],
        "error_count_range_coverage": ERROR_COUNT_COVERAGE,
    }
    return {"levels": levels, "conductance": np.asarray(conductance), "decoded": decoded, "report": report}


def pattern_text(report: dict, image: str, preset: str) -> str:
    """The report as a few lines of text (stdout of `cimjax device pairs`)."""
    h, w = report["shape"]
    lines = [f"stored {image} ({h} x {w} = {report['pixels']} pixels) in differential pairs of preset {preset}, "
             f"seed {report['seed']}, zero stored as ({report['zero_state']})",
             f"array factor {report['array_factor']:.4f} (sigma_array {report['sigma_array']:.3g}, Fig. 8); "
             f"thresholds {report['thresholds_S'][0] * 1e6:+.3f} / {report['thresholds_S'][1] * 1e6:+.3f} uS",
             f"  {'level':>5s} {'pixels':>7s} {'mean uS':>9s} {'sd uS':>7s} {'margin below/above (sigma)':>27s} "
             f"{'predicted':>10s} {'errors':>6s}"]
    fmt = lambda m: "-" if m is None else f"{m:.2f}"  # noqa: E731
    for name, lv in report["levels"].items():
        margins = f"{fmt(lv['margin_below_sigma'])} / {fmt(lv['margin_above_sigma'])}"
        lines.append(f"  {name:>5s} {lv['pixels']:7d} {lv['mean_S'] * 1e6:9.3f} {lv['sd_S'] * 1e6:7.3f} "
                     f"{margins:>27s} {lv['predicted_error_rate']:10.3g} {lv['errors']:6d}")
    lo, hi = report["error_count_range"]
    lines.append(f"read error rate {report['errors']} / {report['pixels']} = {report['error_rate']:.3g} "
                 f"(closed form {report['predicted_error_rate']:.3g}: {report['error_count_range_coverage']:.1%} "
                 f"binomial range {lo}..{hi} errors)")
    lines.append(f"margin {report['margin_sigma']:.2f} sigma in this array "
                 f"({report['margin_sigma_nominal_array']:.2f} sigma in the nominal array)")
    return "\n".join(lines)
