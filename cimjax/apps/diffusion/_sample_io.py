"""`cimjax sample`: stream a large sampling run to disk in shards, resumable.

Layout of the results folder: `images_NNNNN.npy` ([b, side, side] float32 in [0, 1]) and
`latents_NNNNN.npy` ([b, L]) per shard of `batch` samples, each written atomically,
and `manifest.json` listing the run's parameters and the completed shards. Sample i is
the same whatever the batch (its randomness comes from (seed, i)), so a resumed run
equals an uninterrupted one.

In a run of several processes (`jax.distributed`) a shard is one global batch over every
process's devices; each process writes only its own rows, as `images_NNNNN.pP.npy` and
`latents_NNNNN.pP.npy`, and process 0 records in the manifest which process wrote which
global indices once every part of the shard is on disk. The union of the parts equals
the single-process shard (`load_samples` reads either layout). A killed run resumes at
the first shard the manifest does not list, with any number of processes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import jax
import numpy as np

from cimjax.errors import ConfigError, DataFileError
from cimjax._io import atomic_path, read_json, write_json_atomic
from cimjax.apps.diffusion._config import config_hash, stage_config
from cimjax.apps.diffusion._pipeline import sampler_step
from cimjax.apps.diffusion._plots import save_grid
from cimjax.sde import sample_reverse_local

__all__ = ["run_sample", "MANIFEST", "save_sample_grid", "load_samples"]

MANIFEST = "manifest.json"


def _save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_path(path, suffix=".npy") as tmp:
        np.save(tmp, array)


def _parts(k: int, parts: dict) -> list[dict]:
    """The files of shard k: the manifest's parts of it, or the whole-shard pair."""
    return parts.get(str(k)) or [{"images": f"images_{k:05d}.npy", "latents": f"latents_{k:05d}.npy"}]


def _open_run(out: Path, run: dict[str, Any], force: bool) -> tuple[list[int], dict]:
    """Checks `out` against `run`; returns the shards already completed and their parts (resume)."""
    manifest = out / MANIFEST
    if manifest.exists():
        stored = read_json(manifest, "sampling manifest")
        if not isinstance(stored, dict):
            raise DataFileError(f"{manifest}: expected a JSON object, got {type(stored).__name__}")
        diff = [f"{k}: {stored.get(k)!r} -> {v!r}" for k, v in run.items() if stored.get(k) != v]
        if not diff:
            parts = stored.get("parts", {})
            done = [k for k in stored.get("completed", [])
                    if all((out / f[name]).exists() for f in _parts(k, parts) for name in ("images", "latents"))]
            return done, {str(k): parts[str(k)] for k in done if str(k) in parts}
        if not force:
            raise ConfigError(f"{out} holds a sampling run with other parameters ({'; '.join(diff)}); "
                             "pass --force to replace it or choose another --out")
    elif out.exists() and any(out.iterdir()) and not force:
        raise ConfigError(f"{out} exists, is not empty and is not a cimjax sample run; pass --force or another --out")
    if force and out.exists():
        for f in out.glob("*.npy"):
            f.unlink()
        manifest.unlink(missing_ok=True)
    return [], {}


def run_sample(models, *, sampler: str, n: int, batch: int, out: str | os.PathLike, seed: int,
               n_steps: int | None = None, force: bool = False, progress: bool = True) -> dict:
    """Samples n images in shards of `batch` into `out`; skips shards a previous run completed."""
    from tqdm.auto import tqdm

    n_steps = models.cfg.n_steps if n_steps is None else n_steps
    if n < 1 or batch < 1:
        raise ConfigError(f"--n {n} and --batch {batch} must be >= 1")
    if sampler not in ("ex_situ", "in_situ"):
        raise ConfigError(f"--sampler {sampler!r} must be 'ex_situ' or 'in_situ'")
    step, params = sampler_step(models, sampler, n_steps)  # checks n_steps before any compute
    rank, n_proc = jax.process_index(), jax.process_count()
    out = Path(out)
    run = {"sampler": sampler, "n": n, "batch": batch, "seed": seed, "n_steps": n_steps,
           "models": config_hash(stage_config(models.cfg, "insitu"))}
    done_list, parts = _open_run(out, run, force and rank == 0)
    done = set(done_list)
    out.mkdir(parents=True, exist_ok=True)
    if rank == 0:  # a killed run's half-written temporaries (no process writes before the first shard's collective)
        for stale in [*out.glob(".images_*"), *out.glob(".latents_*")]:
            stale.unlink(missing_ok=True)
    n_shards = -(-n // batch)
    if done:  # say so: a resumed run skips the shards a previous one wrote
        print(f"resuming at shard {min(set(range(n_shards)) - done, default=n_shards - 1) + 1}/{n_shards}",
              file=sys.stderr)
    side = models.data.side

    def record():
        if rank == 0:
            write_json_atomic(out / MANIFEST, {**run, "n_shards": n_shards, "completed": sorted(done),
                                               "parts": parts})

    for k in tqdm(range(n_shards), desc=f"cimjax sample ({sampler})", disable=not progress or rank != 0):
        if k in done:
            continue
        start = k * batch
        indices, z = sample_reverse_local(step, params, models.sde, n_steps=n_steps, dim=models.cfg.latent_dim,
                                          seed=seed, start=start, count=min(batch, n - start))
        suffix = f".p{rank}" if n_proc > 1 else ""
        _save_npy(out / f"latents_{k:05d}{suffix}.npy", z.astype(np.float32))
        _save_npy(out / f"images_{k:05d}{suffix}.npy", models.decode(z).reshape(-1, side, side).astype(np.float32))
        if n_proc > 1:
            parts[str(k)] = _gather_parts(k, indices)
        done.add(k)
        record()
    record()
    return {**run, "n_shards": n_shards, "completed": sorted(done), "parts": parts, "process": rank}


def _gather_parts(k: int, indices: np.ndarray) -> list[dict]:
    """Every process's part of shard k (after all are written): file names, process, global indices."""
    from jax.experimental import multihost_utils

    lo_hi = np.array([indices.min(), indices.max() + 1] if len(indices) else [0, 0], np.int64)
    every = np.asarray(multihost_utils.process_allgather(lo_hi)).reshape(-1, 2)  # also a barrier
    return [{"process": p, "indices": [int(lo), int(hi)], "images": f"images_{k:05d}.p{p}.npy",
             "latents": f"latents_{k:05d}.p{p}.npy"} for p, (lo, hi) in enumerate(every) if hi > lo]


def _load(out: Path, name: str) -> np.ndarray:
    info = read_json(out / MANIFEST, "sampling manifest")
    parts = info.get("parts", {})
    files = [f[name] for k in sorted(info.get("completed", [])) for f in _parts(k, parts)]
    if not files:
        raise DataFileError(f"{out}: no completed shard")
    return np.concatenate([np.load(out / f) for f in files])


def load_samples(out: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(latents [n_done, L], images [n_done, side, side]) of a sampling run's completed shards, in index order.

    Reads either layout: whole shards (one process) or each process's part of them.
    """
    return _load(Path(out), "latents"), _load(Path(out), "images")


def save_sample_grid(out: str | os.PathLike, path: str | os.PathLike, n: int = 100) -> int:
    """Draws the first `n` images of the sampling run in `out` (shards in order) as a grid PNG; returns how many.

    Raises:
      DataFileError: `out` holds no completed shard.
    """
    info = read_json(Path(out) / MANIFEST, "sampling manifest")
    first = _load(Path(out), "images")[:n]
    side = first.shape[-1]
    save_grid(first.reshape(len(first), -1), side, path,
              title=f"{info['sampler']} sampler: first {len(first)} of {info['n']} samples (seed {info['seed']})", n=n)
    return len(first)
