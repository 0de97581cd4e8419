"""`cimjax classify`: digits classification with uncertainty on the emulated crossbar."""

from __future__ import annotations

import argparse

from cimjax.cli._checks import add_run_options


_ABOUT = ("Trains a float ANN, the crossbar ANN (P-bits fixed) and the MC-dropconnect network (in-situ P-bits) on "
          "the bundled 8x8 digits and writes a table (markdown + JSON) of accuracy, NLL, expected calibration "
          "error (15 equal-width bins) and the AUROC of out-of-distribution detection by predictive entropy, and "
          "a reliability diagram (reliability.png).")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("classify", description=_ABOUT, help="digits classification: float ANN vs MC "
                              "dropconnect on the crossbar (accuracy, NLL, ECE, OOD AUROC)")
    p.add_argument("--ood", choices=("heldout", "corrupt"), default="corrupt",
                   help="out-of-distribution inputs: 'heldout' learns digits 0-4 and treats every 5-9 as OOD; "
                        "'corrupt' learns all ten and treats the test images with shuffled pixels as OOD "
                        "(default: %(default)s)")
    add_run_options(p, out="classify-results", seed="the split, initialisation and P-bits", steps="2000",
                    mc_samples="stochastic reads averaged per test image (default: 200)")
    p.set_defaults(func=_handler)


def _handler(args: argparse.Namespace) -> int:
    from cimjax.cli._checks import file_or_name, on_hardware, output_folder, run_sizes, write_and_show

    run_sizes(args)
    out = output_folder(args.out, "--out", force=args.force)  # before any training
    file_or_name(args.device, "--device")
    from cimjax.apps.classification import ClassifySetup, classify_crossbar, run_classification
    from cimjax.apps.classification import write_classify_report

    crossbar = on_hardware(classify_crossbar(), args)
    overrides = {k: v for k, v in {"steps": args.steps, "mc_samples": args.mc_samples}.items() if v is not None}
    setup = ClassifySetup(ood=args.ood, **overrides)
    result = run_classification(args.seed, setup, config=crossbar, progress=True)
    return write_and_show(out, lambda: write_classify_report(result, out))
