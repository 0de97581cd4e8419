"""`cimjax sample` and `cimjax demo`: latent diffusion with ex-situ and in-situ P-bits (Figs. 21-24)."""

from __future__ import annotations

import argparse
from pathlib import Path

from cimjax.cli._distributed import add_arguments as add_distributed_arguments

__all__ = ["register"]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--quick", action="store_true", help="reduced training and evaluation (tests, smoke runs)")
    p.add_argument("--cache", default=None, help="checkpoint folder (default $CIMJAX_CACHE or ~/.cache/cimjax/demo)")
    p.add_argument("--mnist", default=None, help="local MNIST .npz or folder of IDX files instead of the digits")
    p.add_argument("--ideal", action="store_true",
                   help="the float reference crossbar: analog weights, no programming variation, read noise or "
                        "P_sw spread (cannot be combined with the flags below)")
    p.add_argument("--mapping", choices=("bitslice", "binary", "analog"), default=None,
                   help="weights as pairs: bit-sliced 3-state pairs (default), one binary pair, or analog")
    p.add_argument("--programming-sigma", type=float, default=None,
                   help="relative spread of each pair's programmed output (default: the device's, Figs. 7-8)")
    p.add_argument("--read-noise", type=float, default=None,
                   help="per-read noise of each cell relative to its full output (default: the device's, Fig. 15)")
    p.add_argument("--pbit-spread", choices=("on", "off"), default=None,
                   help="device-to-device P_sw spread (default on, Fig. 13)")
    p.add_argument("--native-voltage", type=float, nargs="+", default=None, metavar="V",
                   help="write voltage [V] of the native in-situ net's P-bits, one per equal segment of the "
                        "reverse grid from t = T (default 1.05, P_sw 0.12 on Fig. 12's curve); a new value "
                        "fine-tunes the native stage again")


def register(subparsers) -> None:
    s = subparsers.add_parser("sample", help="generate images by reverse diffusion, streamed to disk in shards")
    s.add_argument("--n", type=int, required=True, help="number of images")
    s.add_argument("--batch", type=int, default=1000, help="images per shard (and per device batch)")
    s.add_argument("--out", required=True,
                   help="results folder; rerunning the same command resumes an interrupted run")
    s.add_argument("--sampler", choices=("ex_situ", "in_situ", "in_situ_noise_rows", "in_situ_rows_only"),
                   default="ex_situ",
                   help="ex_situ: P-bits fixed plus explicit noise; in_situ: the noise is the weight cells' own "
                        "P-bits; in_situ_noise_rows / in_situ_rows_only: added noise rows (default: %(default)s)")
    s.add_argument("--seed", type=int, default=0, help="seed of the samples; sample i depends only on (seed, i)")
    s.add_argument("--steps", type=int, default=None, help="reverse steps (default: the configuration's)")
    s.add_argument("--force", action="store_true",
                   help="replace a non-empty --out folder that is not a resumable run with these parameters")
    s.add_argument("--plot", default=None, metavar="FILE.png", help="also draw the first 100 samples as a grid")
    _common(s)
    add_distributed_arguments(s)
    s.set_defaults(func=_sample, resumable=True)

    d = subparsers.add_parser("demo", help="the main job: train or load, sample ex-situ and in-situ, "
                                           "measure quality, energy and delay, draw pictures")
    d.add_argument("--out", default="cimjax-demo", help="results folder (default ./cimjax-demo)")
    d.add_argument("--force", action="store_true", help="overwrite an existing, non-empty --out folder")
    d.add_argument("--seed", type=int, default=0, dest="demo_seed",
                   help="seed of every model's training and of the samples (default: 0; each seed its own checkpoints)")
    _common(d)
    add_distributed_arguments(d)
    d.set_defaults(func=_demo, resumable=True)  # trained models are cached: a rerun picks them up


_HARDWARE_FLAGS = (("mapping", "--mapping"), ("programming_sigma", "--programming-sigma"),
                   ("read_noise", "--read-noise"), ("pbit_spread", "--pbit-spread"))


def _config(args):
    """The DemoConfig of the flags; --ideal with an explicit non-ideality is refused before any training."""
    from cimjax.apps.diffusion import DemoConfig
    from cimjax.errors import ConfigError

    extra = {"dataset": "mnist", "mnist_path": args.mnist} if args.mnist else {}
    given = {field: getattr(args, field) for field, _ in _HARDWARE_FLAGS if getattr(args, field) is not None}
    if args.ideal and given:
        flags = ", ".join(flag for field, flag in _HARDWARE_FLAGS if field in given)
        raise ConfigError(f"--ideal is the float reference crossbar; it cannot be combined with {flags}")
    if "pbit_spread" in given:
        given["pbit_spread"] = given["pbit_spread"] == "on"
    extra.update(given, ideal=args.ideal)
    if args.native_voltage is not None:
        from cimjax.sde import check_write_voltages

        extra["native_voltages"] = check_write_voltages(args.native_voltage, "--native-voltage")
    if getattr(args, "demo_seed", None) is not None:
        from cimjax.cli._checks import check_seed

        check_seed(args.demo_seed)
        if args.demo_seed >= 2**32:
            raise ConfigError(f"--seed={args.demo_seed} must be <= 2**32 - 1: it also seeds the samples' uint32 keys")
        extra["seed"] = args.demo_seed
    try:
        return DemoConfig.quick(**extra) if args.quick else DemoConfig(**extra)
    except ConfigError as err:  # name the flag the user typed, not only the config field
        flag = next((flag for field, flag in _HARDWARE_FLAGS if f"{field}=" in str(err)), None)
        if flag is None:
            raise
        raise ConfigError(f"{flag}: {err}") from None


def _check_inputs(args, out_force: bool | None) -> None:
    """The paths both commands take, checked before any training."""
    from cimjax.cli._checks import input_file, output_folder

    output_folder(args.out, "--out", force=out_force)
    if args.cache is not None:
        output_folder(args.cache, "--cache")
    if args.mnist is not None:
        input_file(args.mnist, "--mnist", folder_ok=True)


def _sample(args) -> int:
    from cimjax.errors import CimjaxError

    if args.steps is not None and args.steps < 1:
        raise CimjaxError(f"--steps {args.steps} must be >= 1 (number of reverse SDE steps)")
    if args.n < 1 or args.batch < 1:
        raise CimjaxError(f"--n {args.n} and --batch {args.batch} must be >= 1")
    if not 0 <= args.seed < 2**32 or args.n > 2**32:
        raise CimjaxError(f"--seed {args.seed} must be in [0, 2**32 - 1] and --n {args.n} at most 2**32 "
                          "(seeds and sample indices are uint32)")
    if args.plot is not None:
        from cimjax.cli._checks import output_file

        output_file(args.plot, "--plot", (".png",))
    from cimjax.apps.diffusion import MANIFEST

    # a folder holding a sampling run is resumed (or, with other parameters, refused by run_sample)
    _check_inputs(args, args.force or (Path(args.out) / MANIFEST).is_file())
    from cimjax.cli._distributed import initialize

    # before anything touches a device: the run's settings must agree across processes
    initialize(args, {k: getattr(args, k) for k in ("n", "batch", "sampler", "seed", "steps", "quick", "mnist")})
    from cimjax.apps.diffusion import prepare_models, run_sample

    config = _config(args)
    models = prepare_models(config, args.cache)
    info = run_sample(models, sampler=args.sampler, n=args.n, batch=args.batch, out=args.out, seed=args.seed,
                      n_steps=args.steps, force=args.force)
    print(f"{len(info['completed'])}/{info['n_shards']} shards in {args.out}")
    if args.plot is not None and info.get("process", 0) == 0:
        from cimjax.apps.diffusion import save_sample_grid

        print(f"wrote figure {args.plot} (the first {save_sample_grid(args.out, args.plot)} samples)")
    return 0


def _demo(args) -> int:
    _check_inputs(args, args.force)  # the overwrite rule, before any training
    config = _config(args)  # --ideal conflicts and bad non-idealities, before any training
    from cimjax.cli._distributed import initialize

    # before anything touches a device: every process must run the same demo
    initialize(args, {"config": repr(config), "mnist": args.mnist})
    import jax

    from cimjax.apps.diffusion import prepare_out_dir, run_demo
    from cimjax.cli._checks import removed_if_unfinished

    if jax.process_index() != 0:  # process 0 writes the results; the others sample their share
        run_demo(config, args.out, force=True, cache_dir=args.cache)
        return 0
    with removed_if_unfinished(args.out):
        prepare_out_dir(args.out, args.force)
        payload = run_demo(config, args.out, force=True, cache_dir=args.cache)
    q = payload["quality"]
    for name in ("real", "ex_situ", "in_situ", "in_situ_noise_rows", "in_situ_rows_only", "prior"):
        print(f"{name:18s} Frechet {q[name]['frechet']:8.4g}  MMD^2 {q[name]['mmd2']:.3e}  "
              f"classes {q[name]['classes_present']}  max class {q[name]['max_class_fraction']:.3f}")
    print(f"results in {args.out}/ (metrics.md, metrics.json, PNGs); {payload['timings_s']['total']:.0f} s")
    return 0
