"""`cimjax energy`: Table II from a preset, the sensitivity sweep, and a preset to copy.

    cimjax energy table [--preset FILE] [--device] [--json]
    cimjax energy sweep [--preset FILE] [--device] [--out sweep.png] [--data sweep.json]
    cimjax energy preset [--out my_preset.json]
"""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    """Adds `energy` and its subcommands to the `cimjax` parser."""
    parser = subparsers.add_parser(
        "energy", help="energy, latency and area of in-situ vs ex-situ P-bits (Table II)",
        description="Energy, latency and area model comparing in-situ with ex-situ P-bits.")
    sub = parser.add_subparsers(dest="energy_command", metavar="SUBCOMMAND",
                                help="what to compute (SUBCOMMAND --help for more)")

    def add_preset_args(p):
        p.add_argument("--preset", default="default",
                       help="preset JSON file or shipped name (default: %(default)s)")
        p.add_argument("--device", action="store_true",
                       help="take the write pulse and read resistances from "
                            "cimjax.device.default_preset()")

    table = sub.add_parser("table", help="print the paper's Table II computed from a preset")
    add_preset_args(table)
    table.add_argument("--json", action="store_true", help="print JSON instead of text")
    table.set_defaults(func=_table)

    sweep = sub.add_parser("sweep", help="sweep array size, parallelism and pulse width; "
                                         "plot throughput and efficiency")
    add_preset_args(sweep)
    sweep.add_argument("--out", default="sweep.png", help="plot path (default: %(default)s)")
    sweep.add_argument("--data", default=None,
                       help="JSON path for the numbers (default: the plot path with .json)")
    sweep.set_defaults(func=_sweep)

    preset = sub.add_parser("preset", help="print or save the default preset to copy and edit")
    preset.add_argument("--out", default=None, help="write it here instead of printing")
    preset.set_defaults(func=_preset)


def _load(args):
    from cimjax.cli._checks import file_or_name

    file_or_name(args.preset, "--preset")
    from cimjax.energy import load_energy_preset, with_device

    preset = load_energy_preset(args.preset)
    return with_device(preset) if args.device else preset


def _table(args) -> int:
    from cimjax.apps.energy_table import format_table, ratios, table_rows

    preset = _load(args)
    rows, ratio_rows = table_rows(preset), ratios(preset)
    if args.json:
        from cimjax._io import json_text

        print(json_text({"preset": preset.name, "rows": rows, "ratios": ratio_rows}))
    else:
        print(f"preset: {preset.name}")
        print(format_table(rows, ratio_rows))
    return 0


def _sweep(args) -> int:
    from cimjax.errors import CimjaxError
    from cimjax._io import write_json_atomic
    from cimjax.cli._checks import output_file

    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise CimjaxError(f"--out {args.out!r}: the plot is a PNG; give a path ending in .png")
    output_file(args.out, "--out")
    data_path = output_file(args.data or str(out.with_suffix(".json")), "--data")
    preset = _load(args)
    from cimjax.apps.energy_table import plot_sweep, sweep_all

    data = sweep_all(preset)
    write_json_atomic(data_path, data)
    plot_sweep(data, out)
    print(f"wrote {out} and {data_path}", file=sys.stderr)
    return 0


def _preset(args) -> int:
    from cimjax.cli._checks import output_file

    if args.out:
        output_file(args.out, "--out")
    from cimjax._io import write_text_atomic
    from cimjax.energy import PRESET_DIR

    text = (PRESET_DIR / "default.json").read_text()
    if args.out:
        write_text_atomic(args.out, text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        print(text, end="")
    return 0
