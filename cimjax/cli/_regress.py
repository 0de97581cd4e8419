"""`cimjax regress`: the heteroscedastic regression of Fig. 22 on the emulated crossbar."""

from __future__ import annotations

import argparse
import dataclasses

from cimjax.cli._checks import add_run_options


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "regress",
        help="Fig. 22: ANN vs MC-dropconnect model on the emulated crossbar (heteroscedastic regression)",
        description="Trains the ANN (P-bits fixed) and the MC-dropconnect network (in-situ P-bits) on "
                    "y = x sin x + 0.3 e1 + 0.3 x e2 (or on your table, --data) and writes a plot (PNG) and a "
                    "table (markdown + JSON) of test NLL, CRPS and 90%-interval coverage.",
    )
    p.add_argument("--quick", action="store_true", help="smaller data and training, fewer MC passes")
    add_run_options(p, out="regress-results", seed="data, initialisation and P-bits", steps="6000, quick 1500",
                    mc_samples="stochastic passes per held-out point (default: 1000, quick 200)")
    p.add_argument("--mc-loss", choices=("dss", "energy", "nll"), default="dss",
                   help="the MC model's training loss: the Dawid-Sebastiani score (log var + (y - mean)^2 / var) "
                        "of exact reads' sample moments (the recipe that stays calibrated when predicting with "
                        "exact reads), the energy score of exact reads, or the Gaussian NLL of moment-matched "
                        "reads (default: %(default)s)")
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
    p.set_defaults(func=_handler)


def _handler(args: argparse.Namespace) -> int:
    from cimjax.cli._checks import file_or_name, input_file, on_hardware, output_folder, run_sizes, write_and_show
    from cimjax.errors import CimjaxError

    run_sizes(args)
    if args.data is None and (args.x or args.y or args.split):
        raise CimjaxError("--x, --y and --split need --data")
    if args.data is not None and not (args.x and args.y):
        raise CimjaxError("--data needs --x (input columns, comma-separated) and --y (the target column)")
    out = output_folder(args.out, "--out", force=args.force)  # before any training
    file_or_name(args.device, "--device")
    if args.data is not None:
        input_file(args.data, "--data")
    from cimjax.apps.regression import RegressionSetup, demo_crossbar, run_regression
    from cimjax.apps.regression import write_report

    crossbar = on_hardware(demo_crossbar(), args)

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
    return write_and_show(out, lambda: write_report(result, out))
