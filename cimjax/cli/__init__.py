"""The `cimjax` command line: one subcommand per application.

Each application module exposes `register(subparsers)`, which adds its parser and
sets `func`; heavy imports happen inside the handlers so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from cimjax.errors import CimjaxError

# subcommand -> module providing `register(subparsers)`
_COMMANDS = {
    "device": "cimjax.cli._device",
    "trng": "cimjax.cli._trng",
    "energy": "cimjax.cli._energy",
    "regress": "cimjax.cli._regress",
    "sample": "cimjax.cli._diffusion",
    "demo": "cimjax.cli._diffusion",
    "launch": "cimjax.cli._launch",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command`, registers only that subcommand's module (fast start-up)."""
    parser = argparse.ArgumentParser(
        prog="cimjax",
        description="Emulate stochastic compute-in-memory hardware (VCMA-MTJ crossbars with in-situ P-bits).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = [_COMMANDS[command]] if command in _COMMANDS else list(dict.fromkeys(_COMMANDS.values()))
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CimjaxError as err:
        print(f"cimjax {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
