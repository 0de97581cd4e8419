"""Checks of the files and folders named on the command line, made before any work.

Every subcommand checks its paths here, so that a missing file, a folder where a file
belongs (or the reverse) or a folder it may not write into ends in one line naming the
path, and so that every command writing a results folder follows one overwrite rule:
an existing, non-empty folder is refused unless `--force`. Nothing here creates anything.
Reading a file as text (and refusing binary content) is `cimjax._io.read_text`, used by
every loader.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
from pathlib import Path
from typing import Callable, Iterator

from cimjax.errors import ConfigError


def input_file(path: str, what: str, *, folder_ok: bool = False) -> Path:
    """`path` as an existing, readable file (or folder, if `folder_ok`); else a ConfigError naming it."""
    if not str(path).strip():
        raise ConfigError(f"{what} {path!r} is empty; name a file{' or folder' if folder_ok else ''}")
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{what} {path!r}: no such file{' or folder' if folder_ok else ''}")
    if p.is_dir() and not folder_ok:
        raise ConfigError(f"{what} {path!r} is a folder; give a file")
    if not os.access(p, os.R_OK | (os.X_OK if p.is_dir() else 0)):
        raise ConfigError(f"{what} {path!r}: permission denied")
    return p


def file_or_name(value: str, what: str) -> str:
    """A preset name, or a path: an existing path must be a readable file (names are checked by the loader)."""
    if Path(value).exists():
        input_file(value, what)
    return value


def _check_writable_parent(p: Path, what: str) -> None:
    """The nearest existing folder above `p` must be a folder we may write into."""
    parent = next(a for a in p.absolute().parents if a.exists())
    if not parent.is_dir():
        raise ConfigError(f"{what} {str(p)!r}: {str(parent)!r} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {str(p)!r}: cannot write into {str(parent)!r} (permission denied)")


def output_file(path: str, what: str, suffixes: tuple[str, ...] = ()) -> Path:
    """`path` as a file this command may write (its folders are created); else a ConfigError naming it.

    With `suffixes`, the file name must end in one of them (e.g. the figure formats).
    """
    if not str(path).strip():
        raise ConfigError(f"{what} {path!r} is empty; name a file")
    p = Path(path)
    if suffixes and p.suffix.lower() not in suffixes:
        raise ConfigError(f"{what} {path!r} must end in one of {suffixes}")
    if p.is_dir():
        raise ConfigError(f"{what} {path!r} is a folder; give a file name")
    if p.exists() and not os.access(p, os.W_OK):
        raise ConfigError(f"{what} {path!r}: permission denied")
    _check_writable_parent(p, what)
    return p


def output_folder(path: str, what: str, *, force: bool | None = None) -> Path:
    """`path` as a folder this command may fill; else a ConfigError naming it.

    The overwrite rule: an existing non-empty folder is refused unless `force` (pass None
    for a folder that is only added to, such as a cache). A file is always refused.
    """
    if not str(path).strip():
        raise ConfigError(f"{what} {path!r} is empty; name a folder")
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"{what} {path!r} is a file, not a folder")
    if force and p.is_dir() and any(p.iterdir()):
        from cimjax._io import check_replaceable

        check_replaceable(p, what)
    if force is False and p.is_dir() and any(p.iterdir()):
        raise ConfigError(f"{what} {path!r} exists and is not empty; pass --force to overwrite it "
                          "or choose another folder")
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise ConfigError(f"{what} {path!r}: cannot write into it (permission denied)")
    else:
        _check_writable_parent(p, what)
    return p


def add_run_options(p: argparse.ArgumentParser, *, out: str, seed: str, steps: str, mc_samples: str) -> None:
    """--out, --force, --seed, --device, --steps, --mc-samples and the hardware switches (--ideal,
    --programming-sigma, --read-noise) of a model comparison, with its default folder and what each seeds
    or sizes; `output_folder`, `run_sizes` and `on_hardware` check them."""
    p.add_argument("--out", default=out, help="output folder (default: %(default)s)")
    p.add_argument("--force", action="store_true", help="overwrite an existing, non-empty --out folder")
    p.add_argument("--seed", type=int, default=0, help=f"seed of {seed} (default: 0)")
    p.add_argument("--device", default="default",
                   help="P-bit device: a preset name, or a preset or calibration JSON of your own (default: %(default)s)")
    p.add_argument("--steps", type=int, default=None, help=f"training steps of each model (default: {steps})")
    p.add_argument("--mc-samples", type=int, default=None, help=mc_samples)
    p.add_argument("--ideal", action="store_true",
                   help="the float reference crossbar (CrossbarConfig.ideal(): float conductances, ideal converters, "
                        "no programming variation, read noise or P_sw spread) instead of the hardware as it is")
    p.add_argument("--programming-sigma", type=float, default=None, metavar="S",
                   help="relative spread of each pair's programmed output (default: the device's, Figs. 7-8)")
    p.add_argument("--read-noise", type=float, default=None, metavar="S",
                   help="per-read noise of each cell relative to its full output (default: the device's, Fig. 15)")


SEED_MAX = 2**63 - 1  # jax.random.key takes an int64 seed; a larger one is an OverflowError inside the run


def check_seed(seed: int, flag: str = "--seed") -> None:
    """`seed` in 0 .. SEED_MAX, else a ConfigError naming `flag`."""
    if seed < 0:
        raise ConfigError(f"{flag}={seed} must be >= 0")
    if seed > SEED_MAX:
        raise ConfigError(f"{flag}={seed} must be <= 2**63 - 1 ({SEED_MAX}), the largest seed jax takes")


def run_sizes(args: argparse.Namespace) -> None:
    """`--seed` in 0 .. 2**63 - 1, and `--steps` >= 1 and `--mc-samples` >= 2 where given: the sizes of a model comparison."""
    check_seed(args.seed)
    if args.steps is not None and args.steps < 1:
        raise ConfigError(f"--steps={args.steps} must be >= 1")
    if args.mc_samples is not None and args.mc_samples < 2:
        raise ConfigError(f"--mc-samples={args.mc_samples} must be >= 2 (a spread needs two passes)")
    explicit = [flag for flag, value in (("--programming-sigma", args.programming_sigma),
                                         ("--read-noise", args.read_noise)) if value is not None]
    if args.ideal and explicit:
        raise ConfigError(f"--ideal is the crossbar without non-idealities; it cannot take {', '.join(explicit)}")


def on_hardware(crossbar, args: argparse.Namespace):
    """`crossbar` as the flags ask: `CrossbarConfig.ideal()` with --ideal (keeping its P-bit mode), the
    non-idealities given, and its P-bits on --device (a preset name or JSON file, loaded here so that a bad
    name or file fails before any training). CrossbarConfig checks the values (finite, >= 0)."""
    from cimjax.crossbar import CrossbarConfig
    from cimjax.device import device_preset

    device_preset(args.device)
    if args.ideal:
        crossbar = CrossbarConfig.ideal(mode=crossbar.pbit.mode)
    if args.programming_sigma is not None:
        crossbar = dataclasses.replace(crossbar, programming_sigma=args.programming_sigma)
    if args.read_noise is not None:
        crossbar = dataclasses.replace(crossbar, periphery=dataclasses.replace(crossbar.periphery,
                                                                               read_noise=args.read_noise))
    return dataclasses.replace(crossbar, pbit=dataclasses.replace(crossbar.pbit, device=args.device))


def pulse(voltage: str | None, width: str | None) -> tuple[float | None, float | None]:
    """`--voltage` [V] and `--width` [s] as written (`1.5`, `1.5V`; `700e-12`, `700ps`); None where not given.

    A plain number implausible for its quantity (a width in picoseconds without the unit) is refused.
    """
    from cimjax.device import parse_quantity

    v = None if voltage is None else parse_quantity(voltage, "voltage", "--voltage")
    w = None if width is None else parse_quantity(width, "time", "--width")
    if w is not None and w <= 0:
        raise ConfigError(f"--width: {width!r} must be > 0")
    return v, w


@contextlib.contextmanager
def removed_if_unfinished(folder: str | os.PathLike) -> Iterator[None]:
    """On Ctrl-C or an error, removes what the body added to `folder` (the folder too, if the body
    created it): no half-written results, and the same command runs again without `--force`."""
    folder = Path(folder)

    def entries() -> dict[Path, tuple[int, int]]:  # an entry rewritten (or emptied and made anew) differs
        return {p: (p.lstat().st_ino, p.lstat().st_mtime_ns) for p in folder.iterdir()}

    before = entries() if folder.is_dir() else None
    try:
        yield
    except BaseException:
        if before is None:
            shutil.rmtree(folder, ignore_errors=True)
        elif folder.is_dir():
            for p, stamp in entries().items():
                if before.get(p) != stamp:
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() and not p.is_symlink() else p.unlink(missing_ok=True)
        raise


def write_and_show(out: Path, write: Callable[[], dict[str, str]]) -> int:
    """Runs `write()`, which fills `out` and returns {what: path} with a "markdown" table, removing what
    it wrote on Ctrl-C or an error (`removed_if_unfinished`); then prints the table and the paths. Returns 0."""
    with removed_if_unfinished(out):
        paths = write()
    print(Path(paths["markdown"]).read_text())
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0
