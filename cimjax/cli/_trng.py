"""`cimjax trng generate` (emulated P-bit streams) and `cimjax trng test` (SP800-22 and more)."""

from __future__ import annotations

import sys
from pathlib import Path


def register(subparsers) -> None:
    parser = subparsers.add_parser("trng", help="P-bit true random numbers: generate streams, test them (NIST SP800-22)")
    sub = parser.add_subparsers(dest="trng_command", metavar="ACTION", help="what to do (ACTION --help for more)")

    gen = sub.add_parser("generate", help="bit streams from an emulated P-bit array (Figs. 14-15)")
    gen.add_argument("--devices", type=int, default=1, help="P-bits read in parallel (default 1)")
    gen.add_argument("--bits", type=int, required=True, help="write pulses (bits) per device")
    gen.add_argument("--voltage", default=None,
                     help="pulse amplitude: 1.5 or 1.5V (plain numbers are volts; default: the preset's calibrated)")
    gen.add_argument("--width", default=None,
                     help="pulse width: 700ps, 0.7ns or 700e-12 (plain numbers are seconds; default: the preset's "
                          "calibrated)")
    gen.add_argument("--mode", choices=("reset", "toggle"), default="reset",
                     help="reset: reset to P before each pulse (independent bits); toggle: no reset, so each bit "
                          "depends on the last (lag-1 autocorrelation 1 - 2 P_sw) (default: %(default)s)")
    gen.add_argument("--p-sw", type=float, default=None, help="force this P_sw for every device (ignores the pulse)")
    gen.add_argument("--no-spread", action="store_true", help="every device on the nominal curve (no Fig. 13 spread)")
    gen.add_argument("--trim", action="store_true",
                     help="write each device at its own 50%% voltage, solved from its own curve at the width")
    gen.add_argument("--debias", choices=("xor", "von-neumann"), default=None,
                     help="extract --bits output bits per device from pairs of raw bits; reports the raw-bit cost")
    gen.add_argument("--cycles-before", type=float, default=0.0, metavar="N",
                     help="write cycles each P-bit had before this run (endurance, Fig. 19; where the preset's "
                          "endurance drifts, P_sw starts from there) (default 0)")
    gen.add_argument("--preset", default="default",
                     help="P-bit device: a preset name, a preset JSON or a calibration JSON (cimjax device calibrate)")
    gen.add_argument("--seed", type=int, default=0,
                     help="seed of the device spread, the bits and the read noise (default 0)")
    gen.add_argument("--out", required=True, help="output file: .txt (ASCII), .bin (bytes, one device), .npy")
    gen.add_argument("--format", choices=("ascii", "bytes", "npy"), default=None,
                     help="file format (default: from the --out extension)")
    gen.add_argument("--conductance-out", default=None, help="also save the read-out conductance of each bit (.npy)")
    gen.add_argument("--plot", default=None, metavar="FILE.png", help="also save the quality figure (Figs. 14-18)")
    gen.set_defaults(func=_generate)

    test = sub.add_parser("test", help="NIST SP800-22 rev1a (all 15 tests) plus entropy and autocorrelation")
    test.add_argument("file", help="bit stream file")
    test.add_argument("--format", choices=("ascii", "bytes", "npy"), default=None,
                      help="ascii: 0/1 and whitespace; bytes: packed, MSB first; npy: (n,) or (k, n) array")
    test.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    test.add_argument("--streams", type=int, default=None,
                      help="split a single stream into this many equal streams (second-level analysis)")
    test.add_argument("--alpha", type=float, default=0.01,
                      help="significance level: a test fails when its p-value is below it (default 0.01)")
    test.add_argument("--tests", default=None, help="comma-separated subset of tests to run")
    for flag, default, what in (("block-frequency-m", 128, "block frequency M"), ("template-m", 9, "template length"),
                                ("template-blocks", 8, "non-overlapping N"), ("overlapping-m", 9, "overlapping m"),
                                ("linear-complexity-m", 500, "linear complexity M"), ("serial-m", 16, "serial m"),
                                ("approximate-entropy-m", 10, "approximate entropy m")):
        test.add_argument(f"--{flag}", type=int, default=default, help=f"{what} (default {default})")
    test.add_argument("--universal-l", type=int, default=None, help="universal L (default from n)")
    test.add_argument("--universal-q", type=int, default=None, help="universal Q (default 10 * 2^L)")
    test.add_argument("--plot", default=None, metavar="FILE.png",
                      help="also save the quality figure (Figs. 14-18 and Table I's p-values)")
    test.add_argument("--conductance", default=None, metavar="FILE.npy",
                      help="read-out conductance of each bit, same shape as the bits, drawn in the --plot figure")
    test.set_defaults(func=_test)


def _test(args) -> int:
    from cimjax.errors import CimjaxError
    from cimjax._io import FIGURE_SUFFIXES
    from cimjax.cli._checks import input_file, output_file

    input_file(args.file, "bit stream file")
    if args.plot is not None:
        output_file(args.plot, "--plot", FIGURE_SUFFIXES)
    elif args.conductance is not None:
        raise CimjaxError(f"--conductance={args.conductance!r} is drawn only in the figure; add --plot FILE.png")
    if args.conductance is not None:
        input_file(args.conductance, "--conductance")
    from cimjax.apps.trng_report import load_conductance, result_json, text_table
    from cimjax.trng import TEST_NAMES, NistConfig, load_bits, run_nist

    tests = TEST_NAMES if args.tests is None else tuple(t.strip() for t in args.tests.split(",") if t.strip())
    config = NistConfig(block_frequency_m=args.block_frequency_m, template_m=args.template_m,
                        template_blocks=args.template_blocks, overlapping_m=args.overlapping_m,
                        universal_l=args.universal_l, universal_q=args.universal_q,
                        linear_complexity_m=args.linear_complexity_m, serial_m=args.serial_m,
                        approximate_entropy_m=args.approximate_entropy_m, alpha=args.alpha, tests=tests)
    bits = load_bits(args.file, args.format)
    conductance = None if args.conductance is None else load_conductance(args.conductance, bits.shape)
    if args.streams is not None:
        if bits.shape[0] != 1 or not 1 <= args.streams <= bits.shape[1]:
            raise CimjaxError(f"--streams={args.streams} needs one stream of at least that many bits "
                             f"(file has {bits.shape[0]} stream(s) of {bits.shape[1]} bits)")
        n = bits.shape[1] // args.streams
        bits = bits[:, : n * args.streams].reshape(args.streams, n)
        if conductance is not None:
            conductance = conductance[:, : n * args.streams].reshape(args.streams, n)
    progress = None
    if bits.shape[0] > 1 and not args.json:
        from tqdm import tqdm
        bar = tqdm(total=bits.shape[0], unit="stream", file=sys.stderr, leave=False)
        progress = bar.update
    result = run_nist(bits, config, progress=progress)
    if progress is not None:
        bar.close()
    if args.json:
        from cimjax._io import json_text

        print(json_text(result_json(bits, result), indent=None))
    else:
        print(text_table(bits, result))
    if args.plot is not None:
        from cimjax.apps.trng_report import plot_trng

        plot_trng(args.plot, bits, conductance=conductance, result=result, title=Path(args.file).name)
        print(f"wrote figure {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _generate(args) -> int:
    from cimjax.errors import CimjaxError
    from cimjax._io import FIGURE_SUFFIXES
    from cimjax.cli._checks import file_or_name, output_file, pulse

    for flag, value in (("--devices", args.devices), ("--bits", args.bits)):
        if value < 1:
            raise CimjaxError(f"{flag}={value} must be >= 1")
    if not 0.0 <= args.cycles_before < float("inf"):
        raise CimjaxError(f"--cycles-before={args.cycles_before:g} must be a finite count >= 0")
    if args.p_sw is not None and not 0.0 <= args.p_sw <= 1.0:
        raise CimjaxError(f"--p-sw={args.p_sw} must be in [0, 1]")
    voltage, width = pulse(args.voltage, args.width)
    file_or_name(args.preset, "--preset")
    output_file(args.out, "--out")
    if args.conductance_out is not None:
        output_file(args.conductance_out, "--conductance-out", (".npy",))
    if args.plot is not None:
        output_file(args.plot, "--plot", FIGURE_SUFFIXES)
    from cimjax.trng import infer_format, save_bits

    fmt = infer_format(args.out, args.format)  # bad format: fail before compute
    if fmt == "bytes" and args.devices != 1:
        raise CimjaxError(f"the bytes format holds one stream; --devices={args.devices} (use .npy or .txt)")
    if args.trim and (args.p_sw is not None or args.voltage is not None or args.no_spread):
        raise CimjaxError("--trim solves each device's voltage from its own curve: drop --voltage, --p-sw and --no-spread")
    if args.debias and args.conductance_out is not None:
        raise CimjaxError(f"--conductance-out: a --debias {args.debias} bit is not one read; drop one of the two")
    import jax
    import numpy as np

    from cimjax._io import atomic_path
    from cimjax.device import device_preset
    from cimjax.trng import generate_streams
    from cimjax.trng import fair_entropy, shannon_entropy

    preset = device_preset(args.preset)
    streams = generate_streams(jax.random.key(args.seed), args.devices, args.bits, voltage=voltage,
                               width=width, mode=args.mode, preset=preset, spread=not args.no_spread,
                               p_sw=args.p_sw, trim=args.trim, debias=args.debias, cycles_before=args.cycles_before)
    save_bits(args.out, streams.bits, fmt)
    if args.conductance_out:
        with atomic_path(args.conductance_out, suffix=".npy") as tmp:
            np.save(tmp, streams.conductance)
    h, fair = shannon_entropy(streams.bits), fair_entropy(args.bits)
    print(f"wrote {args.devices} x {args.bits} bits ({args.mode} mode) to {args.out}; "
          f"P_sw mean {streams.p_sw.mean():.4f} sd {streams.p_sw.std():.4f}; "
          f"ones {streams.bits.mean():.4f}; Shannon entropy {h.min():.8f}..{h.max():.8f}")
    print(f"a fair stream of {args.bits} bits: Shannon entropy mean {fair.mean:.8f}, 95% of streams >= "
          f"{fair.low95:.8f}; {int(np.sum(h < fair.low95))}/{args.devices} devices below")
    if args.trim:
        print(f"trimmed: each device at its own 50% voltage, {streams.voltage.min():.4f}..{streams.voltage.max():.4f} V; "
              f"max |P_sw - 1/2| = {np.abs(streams.p_sw - 0.5).max():.2e}")
    if args.debias:
        rate = streams.raw_bits_per_output_bit
        expected = "2" if args.debias == "xor" else f"{np.mean(1 / (streams.p_sw * (1 - streams.p_sw))):.4f}"
        print(f"debias {args.debias}: {int(streams.raw_bits.sum())} raw bits written for {streams.bits.size} output "
              f"bits: {rate.mean():.4f} raw bits per output bit (devices {rate.min():.4f}..{rate.max():.4f}; "
              f"expected {expected} for i.i.d. bits)")
    from cimjax.apps.trng_report import endurance_lines

    print("\n".join(endurance_lines(streams, float(preset.endurance.rated_cycles))))
    if args.p_sw is not None and preset.endurance.drifts:
        print("note: --p-sw bypasses the device curve, so the preset's endurance drift is not applied")
    if args.plot is not None:
        from cimjax.apps.trng_report import plot_trng

        plot_trng(args.plot, streams.bits, conductance=streams.conductance,
                  title=f"{args.devices} x {args.bits} bits, {args.mode} mode, P_sw mean {streams.p_sw.mean():.4f}"
                        + (", trimmed" if args.trim else "") + (f", {args.debias} debiased" if args.debias else ""))
        print(f"wrote figure {args.plot}")
    return 0
