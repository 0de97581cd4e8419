"""`cimjax device`: calibrate P_sw from measurements, query a curve, export a preset, store a pattern in pairs."""

from __future__ import annotations

import math
import sys
from pathlib import Path


def register(subparsers) -> None:
    """Adds `cimjax device {calibrate,curve,preset,pairs}`."""
    parser = subparsers.add_parser("device", help="VCMA-MTJ device models: calibrate and query P_sw(V, t)",
                                   description="VCMA-MTJ device models: calibrate and query the P-bit switching probability.")
    sub = parser.add_subparsers(dest="device_command", metavar="ACTION", help="what to do (ACTION --help for more)")

    cal = sub.add_parser("calibrate", help="maximum-likelihood fit of P_sw(V, t) to a switching CSV")
    cal.add_argument("csv", metavar="FILE.csv",
                     help="columns voltage,width,switched,trials[,device][,direction] (SI numbers, or with units: "
                          "1.5V, 700ps; direction P->AP or AP->P: each direction is fitted on its own); 'example' "
                          "for the shipped synthetic data")
    cal.add_argument("--out", required=True, metavar="PARAMS.json", help="where to write the fitted parameters")
    cal.add_argument("--confidence", type=float, default=0.95, help="coverage of each reported interval (default 0.95)")
    cal.add_argument("--plot", metavar="PNG",
                     help="also draw data and fit, with Pearson residuals against V and t (.png, .pdf or .svg)")
    cal.add_argument("--model", default="auto", metavar="auto|NAME",
                     help="switching form: 'auto' (default: choose by BIC) or a name such as normalised (the "
                          "peak-normalised SwitchingCurve), precession, precession+amplitude+vcma; modifiers: "
                          "probit, amplitude, floor, dephasing, vcma")
    cal.add_argument("--likelihood", default="auto", choices=("auto", "binomial", "beta-binomial"),
                     help="count likelihood; auto: beta-binomial when replicate rows are over-dispersed (default auto)")
    cal.add_argument("--json", action="store_true", help="print the model selection as JSON instead of text")
    cal.add_argument("--seed", type=int, default=0, help="seed of the goodness-of-fit bootstrap (default 0)")
    cal.set_defaults(func=_calibrate)

    cur = sub.add_parser("curve", help="evaluate or invert P_sw(V, t) of a fit, preset file or preset name")
    cur.add_argument("params", metavar="PARAMS", help="calibration JSON, preset JSON, or preset name (e.g. default)")
    cur.add_argument("--voltage", metavar="V", help="pulse amplitude: 1.5 or 1.5V (plain numbers are volts)")
    cur.add_argument("--width", metavar="T",
                     help="pulse width: 700ps, 0.7ns or 700e-12 (plain numbers are seconds; default: the "
                          "calibrated width)")
    cur.add_argument("--probability", type=float, metavar="P",
                     help="inverse query: the amplitude giving P at --width (or the width at --voltage)")
    cur.add_argument("--json", action="store_true", help="print JSON instead of text")
    cur.add_argument("--plot", metavar="PNG", help="draw the curve (with --data points if given)")
    cur.add_argument("--data", metavar="FILE.csv", help="measurements to draw with --plot")
    cur.set_defaults(func=_curve)

    pre = sub.add_parser("preset", help="write a named preset as JSON (to edit and load back)")
    pre.add_argument("name", help="preset name (e.g. default) or a preset JSON to rewrite")
    pre.add_argument("--out", required=True, metavar="PRESET.json", help="where to write the preset JSON")
    pre.set_defaults(func=_preset)

    pairs = sub.add_parser("pairs", help="store a three-level image in differential pairs and read it back (Figs. 9-10)",
                           description="Programs a three-level image (-1, 0, +1 as the pair states -dG, 0, +dG of "
                                       "Fig. 9) into one array of differential pairs with the preset's device, TMR "
                                       "and array variation, reads it once with read noise, decodes it, and writes "
                                       "the conductance map beside the decoded image (pairs.png) and a report "
                                       "(pairs.json): read error rate and margin in sigma.")
    pairs.add_argument("--image", metavar="FILE.png",
                       help="the pattern: grey < 1/3 -> -1, 1/3..2/3 -> 0, >= 2/3 -> +1 (colour by luma, "
                            "transparent as white); default: a built-in logo (48 x 96)")
    pairs.add_argument("--preset", default="default",
                       help="device: a preset name, a preset JSON or a calibration JSON; a calibration fits only "
                            "the P-bit, so its pairs are the default preset's data-bits (default: %(default)s)")
    pairs.add_argument("--out", default="pairs-results", help="output folder (default: %(default)s)")
    pairs.add_argument("--seed", type=int, default=0, help="seed of the device draw and the read noise (default 0)")
    pairs.add_argument("--force", action="store_true", help="overwrite an existing, non-empty --out folder")
    pairs.set_defaults(func=_pairs)


def _calibrate(args) -> int:
    from cimjax.errors import CimjaxError
    from cimjax._io import FIGURE_SUFFIXES
    from cimjax.cli._checks import input_file, output_file

    if not 0 < args.confidence < 1:
        raise CimjaxError(f"--confidence={args.confidence} must be in (0, 1)")
    example = args.csv == "example" and not Path(args.csv).exists()
    if not example:
        input_file(args.csv, "switching CSV")
    output_file(args.out, "--out")
    if args.plot:
        output_file(args.plot, "--plot", FIGURE_SUFFIXES)
    from cimjax.device import EXAMPLE_CSV, check_population, load_switching_csv, save_fit_json

    source = str(EXAMPLE_CSV) if example else args.csv
    data = load_switching_csv(source)  # validates every cell before any fit
    # One calibration per switching direction (a `direction` column), each with its own model selection.
    parts = {d: data.select_direction(d) for d in data.directions} or {"": data}
    for part in parts.values():
        check_population(part, args.model)  # model name and per-device identifiability, before any fit
    results = {d: _calibrate_one(part, args) for d, part in parts.items()}
    first = next(iter(results.values()))
    obj = save_fit_json(args.out, **first, source=source, directions=results if data.directions else None)
    for d, r in results.items():
        for message in r["selection"].warnings:
            print(f"warning: {_LABELS.get(d, '')}{message}", file=sys.stderr)
    plots = {d: _plot_path(args.plot, d) for d in results} if args.plot else {}
    for d, path in plots.items():
        from cimjax.apps.calibration import plot_switching
        from cimjax.device import pearson_residuals

        pooled = results[d]["pooled"]
        plot_switching(path, pooled.curve, parts[d], title=f"{Path(source).name}: {_LABELS.get(d, '')}{pooled.model.name}",
                       residuals=pearson_residuals(pooled, parts[d]))
    if args.json:
        out = {**obj["selection"], "out": args.out, "plot": args.plot, "population": obj.get("population")}
        if data.directions:
            out["plots"] = plots
            out["directions"] = {d: {**e["selection"], "population": e.get("population")}
                                 for d, e in obj["directions"].items()}
        from cimjax._io import json_text

        print(json_text(out))
        return 0
    for d, r in results.items():
        if d:
            print(f"direction {_LABELS[d].rstrip(': ')} ({len(parts[d].voltage)} rows):")
        _print_selection(r["selection"], args, r["devices"], r["population"], plots.get(d))
    return 0


_LABELS = {"p_to_ap": "P->AP: ", "ap_to_p": "AP->P: "}


def _plot_path(plot: str, direction: str) -> str:
    """`plot`, or for one of two directions `plot` with the direction before the suffix."""
    return str(Path(plot).with_name(f"{Path(plot).stem}_{direction}{Path(plot).suffix}")) if direction else plot


def _calibrate_one(data, args) -> dict:
    """Model selection, then per-device or population fits, of one data set (one direction)."""
    from cimjax.device import fit_devices, fit_population, select_switching_model

    selection = select_switching_model(data, model=args.model, likelihood=args.likelihood,
                                       confidence=args.confidence, seed=args.seed)
    pooled = selection.fit
    devices, population = {}, None
    if len(data.devices) >= 3:
        population = fit_population(data, pooled.model, confidence=args.confidence, progress=not args.json)
        devices = population.fits
    elif len(data.devices) == 2:
        devices = fit_devices(data, model=pooled.model.binomial, confidence=args.confidence)
    return {"pooled": pooled, "devices": devices, "selection": selection, "population": population}


def _print_selection(selection, args, devices, population, plot=None) -> None:
    pooled, gof = selection.fit, selection.gof
    print(f"fitted {pooled.n_rows} rows, {pooled.n_trials} trials"
          + (f", {len(devices)} devices" if devices else "") + f" -> {args.out}")
    chosen = selection.chosen
    print(f"model {chosen.label}: log L = {pooled.log_likelihood:.2f}, AIC = {chosen.aic:.1f}, BIC = {chosen.bic:.1f}")
    print(f"goodness of fit: {gof.statistic} {gof.value:.1f} on {gof.df} df, p = {gof.p_value:.3g} ({gof.method}); "
          f"dispersion {gof.dispersion:.3f}")
    print(f"selection: {selection.reason}")
    print(f"  {'candidate':48s} {'P':>2s} {'log L':>11s} {'AIC':>10s} {'BIC':>10s}  LR test vs parent")
    for c in sorted(selection.candidates, key=lambda c: c.bic):
        test = f"LR {c.lr_statistic:.1f}, p = {c.lr_p_value:.2g}" if c.parent else ""
        print(f"  {c.label:48s} {len(c.fit.model.parameters):2d} {c.fit.log_likelihood:11.2f} {c.aic:10.1f} "
              f"{c.bic:10.1f}  {test}")
    for name, value in pooled.estimates.items():
        lo, hi = pooled.intervals[name]
        interval = (f"{args.confidence:.0%} interval {lo:.6g} .. {hi:.6g}" if math.isfinite(lo) and math.isfinite(hi)
                    else "no interval: the fit's curvature does not bound it")
        print(f"  {name:18s} {value:.6g}  ({interval})")
    if population is not None:
        print(f"population ({len(population.devices)} devices, {population.model.name}; random effects): "
              "typical device and device-to-device sd (fit space; plain sd of per-device fits in brackets)")
        for name in population.parameters:
            lo, hi = population.sd_intervals[name]
            print(f"  {name:18s} {population.mean_si[name]:.6g}  sd {population.sd[name]:.4g} "
                  f"({lo:.4g} .. {hi:.4g}) [plain {population.plain_sd[name]:.4g}]")
    if plot:
        print(f"plot -> {plot}")


def _curve(args) -> int:
    from cimjax.errors import CimjaxError
    from cimjax._io import FIGURE_SUFFIXES
    from cimjax.cli._checks import file_or_name, input_file, output_file, pulse

    voltage, width = pulse(args.voltage, args.width)
    p = args.probability
    if p is not None and not 0 <= p <= 1:
        raise CimjaxError(f"--probability={p} must be a probability in [0, 1]")
    if p is not None and voltage is not None and width is not None:
        raise CimjaxError("--probability takes --width (solve amplitude) or --voltage (solve width), not both")
    if p is None and voltage is None and not args.plot:
        raise CimjaxError("give --voltage V (with optional --width T), --probability P, or --plot PNG")
    if args.data and not args.plot:
        raise CimjaxError(f"--data {args.data!r} is only drawn; add --plot PNG")
    file_or_name(args.params, "PARAMS")
    if args.data:
        input_file(args.data, "--data")
    if args.plot:
        output_file(args.plot, "--plot", FIGURE_SUFFIXES)
    from cimjax.device import load_curve, load_switching_csv, pulse_for_probability

    curve, preset = load_curve(args.params)
    data = load_switching_csv(args.data) if args.data else None
    default_width = float(preset.calibrated_width) if preset is not None else float(curve.first_peak_width)
    out = {"params": args.params}
    if p is not None:
        out["probability"] = p
        if voltage is not None:
            out["voltage"] = voltage
            out["width"] = float(pulse_for_probability(curve, p, voltage=voltage))
        else:
            out["width"] = width if width is not None else default_width
            out["voltage"] = float(pulse_for_probability(curve, p, out["width"]))
        if math.isnan(out["width"]) or math.isnan(out["voltage"]):
            raise CimjaxError(_unreachable(curve, p, voltage, out["width"]))
        text = f"P_sw = {p:g} at V = {out['voltage']:.6g} V, t = {out['width']:.6g} s"
    elif voltage is not None:
        out["voltage"] = voltage
        out["width"] = width if width is not None else default_width
        out["switching_probability"] = float(curve.switching_probability(voltage, out["width"]))
        text = f"P_sw(V = {voltage:g} V, t = {out['width']:.6g} s) = {out['switching_probability']:.6f}"
    else:
        text = ""
    if args.plot:
        from cimjax.apps.calibration import plot_switching

        plot_switching(args.plot, curve, data, voltage=voltage, title=Path(args.params).name)
        out["plot"] = args.plot
        text += ("\n" if text else "") + f"plot -> {args.plot}"
    from cimjax._io import json_text

    print(json_text(out, indent=None) if args.json else text)
    return 0


def _unreachable(curve, p: float, voltage: float | None, width: float) -> str:
    """Why P_sw = p has no pulse: the highest probability the fixed half of the pulse allows."""
    from cimjax.device import SwitchingCurve

    if voltage is not None:  # width solve: P_sw peaks at the first precession peak (Fig. 11)
        peak = float(curve.first_peak_width)
        best = float(curve.switching_probability(voltage, peak))
        return (f"--probability {p:g} is not reachable at --voltage {voltage:g} V: widths give 0 < P_sw <= "
                f"{best:.6g}, the maximum at t = {peak:.4g} s (a higher --voltage reaches more)")
    # amplitude solve: P_sw rises with V towards the width factor (Fig. 12)
    if isinstance(curve, SwitchingCurve):
        best = float(curve.width_factor(width))
        hint = f" (a width nearer {float(curve.first_peak_width):.4g} s reaches more)"
    else:
        best, hint = float(curve.switching_probability(curve.voltages[-1], width)), ""
    return f"--probability {p:g} is not reachable at t = {width:.4g} s: amplitudes give P_sw < {best:.6g}{hint}"


def _preset(args) -> int:
    from cimjax.cli._checks import file_or_name, output_file

    file_or_name(args.name, "preset")
    output_file(args.out, "--out")
    from cimjax.device import load_preset, save_preset

    save_preset(load_preset(args.name), args.out)
    print(f"preset {args.name!r} -> {args.out}")
    return 0


def _pairs(args) -> int:
    from cimjax.cli._checks import check_seed, file_or_name, input_file, output_folder, removed_if_unfinished

    check_seed(args.seed)
    out = output_folder(args.out, "--out", force=args.force)
    file_or_name(args.preset, "--preset")
    if args.image is not None:
        input_file(args.image, "--image")
    from cimjax._io import write_json_atomic
    from cimjax.apps.stored_pattern import default_logo, load_pattern_png, pattern_text, plot_stored_pattern
    from cimjax.apps.stored_pattern import run_stored_pattern
    from cimjax.device import device_preset

    levels = default_logo() if args.image is None else load_pattern_png(args.image)
    preset = device_preset(args.preset)
    image = "the built-in logo" if args.image is None else Path(args.image).name
    result = run_stored_pattern(levels, preset, seed=args.seed)
    report = {"image": args.image, "preset": args.preset, **result["report"]}
    with removed_if_unfinished(out):
        plot_stored_pattern(out / "pairs.png", result,
                            title=f"{image} in differential pairs, preset {Path(args.preset).name}: read error rate "
                                  f"{report['error_rate']:.3g} (closed form {report['predicted_error_rate']:.3g})")
        write_json_atomic(out / "pairs.json", {**report, "figure": "pairs.png"})
    print(pattern_text(report, image, Path(args.preset).name))
    print(f"figure: {out / 'pairs.png'}\nreport: {out / 'pairs.json'}")
    return 0
