"""`cimjax device`: calibrate P_sw from measurements, query a curve, export a preset."""

from __future__ import annotations

import json
import math
import sys


def register(subparsers) -> None:
    """Adds `cimjax device {calibrate,curve,preset}`."""
    parser = subparsers.add_parser("device", help="VCMA-MTJ device models: calibrate and query P_sw(V, t)",
                                   description="VCMA-MTJ device models: calibrate and query the P-bit switching probability.")
    sub = parser.add_subparsers(dest="device_command", metavar="ACTION", required=True)

    cal = sub.add_parser("calibrate", help="maximum-likelihood fit of P_sw(V, t) to a switching CSV")
    cal.add_argument("csv", metavar="FILE.csv",
                     help="columns voltage,width,switched,trials[,device] (SI: V, s); 'example' for the shipped synthetic data")
    cal.add_argument("--out", required=True, metavar="PARAMS.json", help="where to write the fitted parameters")
    cal.add_argument("--confidence", type=float, default=0.95, help="coverage of each reported interval (default 0.95)")
    cal.add_argument("--plot", metavar="PNG", help="also draw data and fit, with Pearson residuals against V and t")
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
    cur.add_argument("--voltage", type=float, metavar="V", help="pulse amplitude [V]")
    cur.add_argument("--width", type=float, metavar="T", help="pulse width [s] (default: the calibrated width)")
    cur.add_argument("--probability", type=float, metavar="P",
                     help="inverse query: the amplitude giving P at --width (or the width at --voltage)")
    cur.add_argument("--json", action="store_true", help="print JSON instead of text")
    cur.add_argument("--plot", metavar="PNG", help="draw the curve (with --data points if given)")
    cur.add_argument("--data", metavar="FILE.csv", help="measurements to draw with --plot")
    cur.set_defaults(func=_curve)

    pre = sub.add_parser("preset", help="write a named preset as JSON (to edit and load back)")
    pre.add_argument("name", help="preset name (e.g. default)")
    pre.add_argument("--out", required=True, metavar="PRESET.json")
    pre.set_defaults(func=_preset)


def _finite(name, value, positive=False):
    from cimjax.errors import CimjaxError

    if value is not None and (not math.isfinite(value) or (positive and value <= 0)):
        raise CimjaxError(f"{name}={value} must be finite{' and > 0' if positive else ''}")


def _calibrate(args) -> int:
    from cimjax.errors import CimjaxError
    from cimjax.device import check_population, fit_devices, fit_population, select_switching_model
    from cimjax.device import save_fit_json
    from pathlib import Path

    from cimjax.device import EXAMPLE_CSV, load_switching_csv

    if not 0 < args.confidence < 1:
        raise CimjaxError(f"--confidence={args.confidence} must be in (0, 1)")
    if args.csv == "example" and not Path(args.csv).exists():
        args.csv = str(EXAMPLE_CSV)
    data = load_switching_csv(args.csv)  # validates every cell before any fit
    check_population(data, args.model)  # model name and per-device identifiability, before any fit
    selection = select_switching_model(data, model=args.model, likelihood=args.likelihood,
                                       confidence=args.confidence, seed=args.seed)
    pooled = selection.fit
    devices, population = {}, None
    if len(data.devices) >= 3:
        population = fit_population(data, pooled.model, confidence=args.confidence, progress=not args.json)
        devices = population.fits
    elif len(data.devices) == 2:
        devices = fit_devices(data, model=pooled.model.binomial, confidence=args.confidence)
    obj = save_fit_json(args.out, pooled, devices, source=str(args.csv), selection=selection, population=population)
    for message in selection.warnings:
        print(f"warning: {message}", file=sys.stderr)
    if args.plot:
        from cimjax.device import pearson_residuals
        from cimjax.apps.calibration import plot_switching

        plot_switching(args.plot, pooled.curve, data, title=f"{args.csv}: {pooled.model.name}",
                       residuals=pearson_residuals(pooled, data))
    if args.json:
        print(json.dumps({**obj["selection"], "out": args.out, "plot": args.plot,
                          "population": obj.get("population")}, indent=2))
        return 0
    _print_selection(selection, args, devices, population)
    return 0


def _print_selection(selection, args, devices, population) -> None:
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
        print(f"  {name:18s} {value:.6g}  ({args.confidence:.0%} interval {lo:.6g} .. {hi:.6g})")
    if population is not None:
        print(f"population ({len(population.devices)} devices, {population.model.name}; random effects): "
              "typical device and device-to-device sd (fit space; plain sd of per-device fits in brackets)")
        for name in population.parameters:
            lo, hi = population.sd_intervals[name]
            print(f"  {name:18s} {population.mean_si[name]:.6g}  sd {population.sd[name]:.4g} "
                  f"({lo:.4g} .. {hi:.4g}) [plain {population.plain_sd[name]:.4g}]")
    if args.plot:
        print(f"plot -> {args.plot}")


def _curve(args) -> int:
    from cimjax.errors import CimjaxError
    from cimjax.device import load_curve
    from cimjax.device import pulse_for_probability

    _finite("--voltage", args.voltage)
    _finite("--width", args.width, positive=True)
    if args.probability is not None and not 0 <= args.probability <= 1:
        raise CimjaxError(f"--probability={args.probability} must be a probability in [0, 1]")
    curve, preset = load_curve(args.params)
    default_width = float(preset.calibrated_width) if preset is not None else float(curve.first_peak_width)
    out = {"params": args.params}
    if args.probability is not None:
        if args.voltage is not None and args.width is not None:
            raise CimjaxError("--probability takes --width (solve amplitude) or --voltage (solve width), not both")
        out["probability"] = args.probability
        if args.voltage is not None:
            out["voltage"] = args.voltage
            out["width"] = float(pulse_for_probability(curve, args.probability, voltage=args.voltage))
        else:
            out["width"] = args.width if args.width is not None else default_width
            out["voltage"] = float(pulse_for_probability(curve, args.probability, out["width"]))
        reachable = not (math.isnan(out["width"]) or math.isnan(out["voltage"]))
        out["reachable"] = reachable
        text = (f"P_sw = {args.probability:g} at V = {out['voltage']:.6g} V, t = {out['width']:.6g} s" if reachable
                else f"P_sw = {args.probability:g} is not reachable with the given pulse")
    elif args.voltage is not None:
        out["voltage"] = args.voltage
        out["width"] = args.width if args.width is not None else default_width
        out["switching_probability"] = float(curve.switching_probability(args.voltage, out["width"]))
        text = f"P_sw(V = {args.voltage:g} V, t = {out['width']:.6g} s) = {out['switching_probability']:.6f}"
    elif not args.plot:
        raise CimjaxError("give --voltage V (with optional --width T), --probability P, or --plot PNG")
    else:
        text = ""
    if args.plot:
        from cimjax.device import load_switching_csv
        from cimjax.apps.calibration import plot_switching

        data = load_switching_csv(args.data) if args.data else None
        plot_switching(args.plot, curve, data, voltage=args.voltage, title=str(args.params))
        out["plot"] = args.plot
        text += ("\n" if text else "") + f"plot -> {args.plot}"
    print(json.dumps(out) if args.json else text)
    return 0


def _preset(args) -> int:
    from cimjax.device import load_preset, save_preset

    save_preset(load_preset(args.name), args.out)
    print(f"preset {args.name!r} -> {args.out}")
    return 0
