"""The `cimjax` command line: one subcommand per application.

Each application module exposes `register(subparsers)`, which adds its parser and
sets `func`; heavy imports happen inside the handlers so `--help` stays fast.

Exit codes: 0 done; 2 a mistake of the user's (one line `cimjax <command>: error: ...`
on stderr, or argparse's usage of the subcommand); 130 interrupted (Ctrl-C). A file or
value error that no check caught still ends in one line; set CIMJAX_DEBUG=1 to see its
traceback instead (the test suite does, so that every such case gets a proper check).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from cimjax.errors import CimjaxError

# subcommand -> module providing `register(subparsers)`
_COMMANDS = {
    "device": "cimjax.cli._device",
    "trng": "cimjax.cli._trng",
    "energy": "cimjax.cli._energy",
    "regress": "cimjax.cli._regress",
    "classify": "cimjax.cli._classify",
    "sample": "cimjax.cli._diffusion",
    "demo": "cimjax.cli._diffusion",
    "launch": "cimjax.cli._launch",
}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that records in the namespace the deepest (sub)parser a parse reached,
    so that an unknown flag shows that subcommand's usage and a missing action its help."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extra = super().parse_known_args(args, namespace)
        if not hasattr(namespace, "cli_parser"):  # subparsers finish first: the deepest one wins
            namespace.cli_parser = self
        return namespace, extra


class _Version(argparse.Action):
    """`--version`: the installed distribution's version, looked up only when asked (fast `--help`)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"{parser.prog} {version('cimjax')}")
        except PackageNotFoundError:
            print(f"{parser.prog} (not installed: no version metadata)")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command`, registers only that subcommand's module (fast start-up)."""
    parser = _Parser(
        prog="cimjax",
        description="Emulate stochastic compute-in-memory hardware (VCMA-MTJ crossbars with in-situ P-bits).",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", help="what to run (COMMAND --help for more)")
    modules = [_COMMANDS[command]] if command in _COMMANDS else list(dict.fromkeys(_COMMANDS.values()))
    for module_name in modules:
        importlib.import_module(module_name).register(sub)
    return parser


def _one_line(err: BaseException) -> str:
    if isinstance(err, OSError) and err.filename is not None:
        return f"{err.filename}: {err.strerror or err}"
    return " ".join(str(err).split()) or type(err).__name__


def main(argv: list[str] | None = None) -> int:
    """Runs `cimjax ARGV`; returns the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    args, extra = parser.parse_known_args(argv)
    leaf = args.cli_parser
    if extra:
        leaf.error(f"unrecognized arguments: {' '.join(extra)}")  # that subcommand's usage, exit 2
    if not getattr(args, "func", None):  # no command or no action: nothing was done
        leaf.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except CimjaxError as err:
        print(f"{leaf.prog}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        again = "resume" if getattr(args, "resumable", False) else "start again"
        print(f"{leaf.prog}: interrupted: rerun the same command to {again}", file=sys.stderr)
        return 130
    except (OSError, ValueError) as err:  # last resort: a user's file or value that no check caught
        if os.environ.get("CIMJAX_DEBUG"):
            raise
        print(f"{leaf.prog}: error: {_one_line(err)} (CIMJAX_DEBUG=1 shows where)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
