"""`cimjax regress`: the heteroscedastic regression of Fig. 22 on the emulated crossbar."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "regress",
        help="Fig. 22: ANN vs MC-dropconnect model on the emulated crossbar (heteroscedastic regression)",
        description="Trains the ANN (P-bits fixed) and the MC-dropconnect network (in-situ P-bits) on "
                    "y = x sin x + 0.3 e1 + 0.3 x e2 (or on your table, --data) and writes a plot (PNG) and a "
                    "table (markdown + JSON) of test NLL, CRPS and 90%-interval coverage.",
    )
    p.add_argument("--out", default="regress-results", help="output folder (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of data, initialisation and P-bits (default: 0)")
    p.add_argument("--quick", action="store_true", help="smaller data and training, fewer MC passes")
    p.add_argument("--device", default="default",
                   help="P-bit device: a preset name, or a preset or calibration JSON of your own (default: %(default)s)")
    p.add_argument("--steps", type=int, default=None, help="training steps of each model (default: 6000, quick 1500)")
    p.add_argument("--mc-samples", type=int, default=None,
                   help="stochastic passes per held-out point (default: 1000, quick 200)")
    p.add_argument("--mc-loss", choices=("energy", "nll"), default="energy",
                   help="the MC model's training loss: the energy score of exact reads (the recipe that stays "
                        "calibrated when predicting with exact reads), or the Gaussian NLL of moment-matched reads "
                        "(default: %(default)s)")
    p.add_argument("--data", default=None,
                   help="your own table instead of the built-in task: a .csv with a header line, or an .npz of "
                        "named 1-D arrays (x standardised to [-1, 1] per column, y to zero mean and unit std)")
    p.add_argument("--x", default=None, help="with --data: input column(s), comma-separated; the figure and the "
                                             "per-bin table use the first")
    p.add_argument("--y", default=None, help="with --data: the target column")
    p.add_argument("--test-fraction", type=float, default=0.2,
                   help="with --data: held-out fraction of the rows, drawn with --seed (default: %(default)s)")
    p.add_argument("--split", default=None, metavar="COL",
                   help="with --data: a column of train/test labels that fixes the held-out rows "
                        "(instead of --test-fraction)")
    p.add_argument("--force", action="store_true", help="overwrite an existing, non-empty --out folder")
    p.set_defaults(func=_handler)


def _handler(args: argparse.Namespace) -> int:
    from cimjax.errors import CimjaxError

    if args.seed < 0:
        raise CimjaxError(f"--seed={args.seed} must be >= 0")
    if args.steps is not None and args.steps < 1:
        raise CimjaxError(f"--steps={args.steps} must be >= 1")
    if args.mc_samples is not None and args.mc_samples < 2:
        raise CimjaxError(f"--mc-samples={args.mc_samples} must be >= 2 (a spread needs two passes)")
    if args.data is None and (args.x or args.y or args.split):
        raise CimjaxError("--x, --y and --split need --data")
    if args.data is not None and not (args.x and args.y):
        raise CimjaxError("--data needs --x (input columns, comma-separated) and --y (the target column)")
    from cimjax.cli._checks import file_or_name, input_file, output_folder, removed_if_interrupted

    out = output_folder(args.out, "--out", force=args.force)  # before any training
    file_or_name(args.device, "--device")
    if args.data is not None:
        input_file(args.data, "--data")
    from cimjax.device import device_preset
    from cimjax.apps.regression import RegressionSetup, demo_crossbar, run_regression
    from cimjax.apps.regression import write_report

    device_preset(args.device)  # a bad name or file fails here, before any training
    crossbar = demo_crossbar()
    crossbar = dataclasses.replace(crossbar, pbit=dataclasses.replace(crossbar.pbit, device=args.device))

    setup = RegressionSetup.quick() if args.quick else RegressionSetup()
    overrides = {"steps": args.steps, "mc_samples": args.mc_samples, "mc_loss": args.mc_loss}
    setup = dataclasses.replace(setup, **{k: v for k, v in overrides.items() if v is not None})
    data = names = None
    if args.data is not None:  # every check of the table before any training
        from cimjax.apps.regression import Standardizer, load_table, split_table

        table = load_table(args.data, [c.strip() for c in args.x.split(",") if c.strip()], args.y.strip(),
                           split=args.split)
        data = split_table(table, args.test_fraction, args.seed)
        Standardizer.fit(data[0])  # a constant y or x column
        names = (table.x_names, table.y_name)
    result = run_regression(args.seed, setup, config=crossbar, data=data, names=names, progress=True)
    result["source"] = args.data
    with removed_if_interrupted(out):
        paths = write_report(result, out)
    print(Path(paths["markdown"]).read_text())
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
