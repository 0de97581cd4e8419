"""`cimjax sample`: stream a large sampling run to disk in shards, resumable.

Layout of the results folder: `images_NNNNN.npy` ([b, side, side] float32 in [0, 1]) and
`latents_NNNNN.npy` ([b, L]) per shard of `batch` samples, each written atomically,
and `manifest.json` listing the run's parameters and the completed shards. Sample i is
the same whatever the batch (its randomness comes from (seed, i)), so a resumed run
equals an uninterrupted one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from cimjax.errors import ConfigError, DataFileError
from cimjax._io import atomic_path, read_json, write_json_atomic
from cimjax.apps.diffusion._config import config_hash, stage_config
from cimjax.apps.diffusion._pipeline import generate
from cimjax.apps.diffusion._plots import save_grid

__all__ = ["run_sample", "MANIFEST", "save_sample_grid"]

MANIFEST = "manifest.json"


def _save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)


def _open_run(out: Path, run: dict[str, Any], force: bool) -> list[int]:
    """Checks `out` against `run`; returns the shards already completed (resume)."""
    manifest = out / MANIFEST
    if manifest.exists():
        stored = read_json(manifest, "sampling manifest")
        if not isinstance(stored, dict):
            raise DataFileError(f"{manifest}: expected a JSON object, got {type(stored).__name__}")
        diff = [f"{k}: {stored.get(k)!r} -> {v!r}" for k, v in run.items() if stored.get(k) != v]
        if not diff:
            return [k for k in stored.get("completed", [])
                    if (out / f"images_{k:05d}.npy").exists() and (out / f"latents_{k:05d}.npy").exists()]
        if not force:
            raise ConfigError(f"{out} holds a sampling run with other parameters ({'; '.join(diff)}); "
                             "pass --force to replace it or choose another --out")
    elif out.exists() and any(out.iterdir()) and not force:
        raise ConfigError(f"{out} exists, is not empty and is not a cimjax sample run; pass --force or another --out")
    if force and out.exists():
        for f in out.glob("*.npy"):
            f.unlink()
        manifest.unlink(missing_ok=True)
    return []


def run_sample(models, *, sampler: str, n: int, batch: int, out: str | os.PathLike, seed: int,
               n_steps: int | None = None, force: bool = False, progress: bool = True) -> dict:
    """Samples n images in shards of `batch` into `out`; skips shards a previous run completed."""
    from tqdm.auto import tqdm

    n_steps = models.cfg.n_steps if n_steps is None else n_steps
    if n < 1 or batch < 1:
        raise ConfigError(f"--n {n} and --batch {batch} must be >= 1")
    if sampler not in ("ex_situ", "in_situ"):
        raise ConfigError(f"--sampler {sampler!r} must be 'ex_situ' or 'in_situ'")
    models.sde.time_grid(n_steps)  # a zero or negative step count fails here, before any compute
    out = Path(out)
    run = {"sampler": sampler, "n": n, "batch": batch, "seed": seed, "n_steps": n_steps,
           "models": config_hash(stage_config(models.cfg, "insitu"))}
    done = set(_open_run(out, run, force))
    out.mkdir(parents=True, exist_ok=True)
    n_shards = -(-n // batch)
    if done:  # say so: a resumed run skips the shards a previous one wrote
        print(f"resuming at shard {min(set(range(n_shards)) - done, default=n_shards - 1) + 1}/{n_shards}",
              file=sys.stderr)
    side = models.data.side
    for k in tqdm(range(n_shards), desc=f"cimjax sample ({sampler})", disable=not progress):
        if k in done:
            continue
        start = k * batch
        z = generate(models, sampler, min(batch, n - start), seed=seed, start=start, batch=batch,
                     n_steps=n_steps, progress=False)
        _save_npy(out / f"latents_{k:05d}.npy", z.astype(np.float32))
        _save_npy(out / f"images_{k:05d}.npy", models.decode(z).reshape(-1, side, side).astype(np.float32))
        done.add(k)
        write_json_atomic(out / MANIFEST, {**run, "n_shards": n_shards, "completed": sorted(done)})
    write_json_atomic(out / MANIFEST, {**run, "n_shards": n_shards, "completed": sorted(done)})
    return {**run, "n_shards": n_shards, "completed": sorted(done)}


def save_sample_grid(out: str | os.PathLike, path: str | os.PathLike, n: int = 100) -> int:
    """Draws the first `n` images of the sampling run in `out` (shards in order) as a grid PNG; returns how many.

    Raises:
      DataFileError: `out` holds no completed shard.
    """
    out = Path(out)
    info = read_json(out / MANIFEST, "sampling manifest")
    images = []
    for k in sorted(info.get("completed", [])):
        if sum(len(x) for x in images) >= n:
            break
        images.append(np.load(out / f"images_{k:05d}.npy"))
    if not images:
        raise DataFileError(f"{out}: no completed shard to draw")
    first = np.concatenate(images)[:n]
    side = first.shape[-1]
    save_grid(first.reshape(len(first), -1), side, path,
              title=f"{info['sampler']} sampler: first {len(first)} of {info['n']} samples (seed {info['seed']})", n=n)
    return len(first)
