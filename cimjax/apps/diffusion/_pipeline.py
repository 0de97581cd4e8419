"""Trains or loads the demo's models (checkpoints cached by configuration hash) and builds both samplers."""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from cimjax._io import atomic_path
from cimjax.errors import CheckpointError, ConfigError
from cimjax.apps.diffusion._config import DemoConfig, config_hash, stage_config
from cimjax.apps.diffusion._data import ImageData, load_dataset
from cimjax.apps.diffusion._nets import VAE, Classifier
from cimjax.apps.diffusion._training import latent_stats, train_classifier, train_score, train_vae
from cimjax.nn import TrainConfig
from cimjax.sde import (VESDE, VPSDE, AbstractSDE, CrossbarEpsNet, EpsScore, ExSituStep, InSituCrossbarNet, InSituStep,
                        NativeInSituNet, SubVPSDE, calibrate_offsets, check_sample_range, prior_keys, sample_reverse, sample_reverse_local,
                        train_insitu, train_native)

__all__ = ["Models", "default_cache_dir", "make_sde", "prepare_models", "generate", "sampler_step", "SAMPLERS",
           "IN_SITU"]

# the in-situ samplers: the native net (its weight cells' P-bits), and the two noise-row variants
IN_SITU = ("in_situ", "in_situ_noise_rows", "in_situ_rows_only")
SAMPLERS = ("ex_situ", *IN_SITU)


def default_cache_dir() -> Path:
    """$CIMJAX_CACHE, else ~/.cache/cimjax/demo."""
    return Path(os.environ.get("CIMJAX_CACHE", Path.home() / ".cache" / "cimjax" / "demo"))


def make_sde(name: str) -> AbstractSDE:
    return {"vp": VPSDE, "subvp": SubVPSDE, "ve": VESDE}[name]()


@dataclasses.dataclass(frozen=True)
class Models:
    """Everything the samplers and metrics need; latents are standardised by (mean, std)."""

    cfg: DemoConfig
    data: ImageData
    sde: AbstractSDE
    vae: VAE
    vae_params: Any
    latent_mean: np.ndarray
    latent_std: np.ndarray
    classifier: Classifier
    clf_params: Any
    ex_situ: ExSituStep
    score_params: Any
    in_situ: dict[str, tuple[InSituStep, Any]]  # IN_SITU name -> (step, params)
    trained: tuple[str, ...]  # stages trained in this call (the rest were loaded)

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Standardised latents [N, L] -> images [N, P] in [0, 1]."""
        z = jnp.asarray(z) * jnp.asarray(self.latent_std)[None, :] + jnp.asarray(self.latent_mean)[None, :]
        return np.asarray(self.vae.apply(self.vae_params, z, method=VAE.decode))

    def features(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.classifier.apply(self.clf_params, jnp.asarray(x), method=Classifier.features))

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.classifier.apply(self.clf_params, jnp.asarray(x))).argmax(-1)

    def step(self, sampler: str):
        return (self.ex_situ, self.score_params) if sampler == "ex_situ" else self.in_situ[sampler]


# Adam's learning rate and the batch size of each stage, in training order
# (assumption: the rates and batches the demo was tuned with; the native stage's measured, see
# DemoConfig.native_steps)
_TRAINING = {"vae": (2e-3, 128), "classifier": (1e-3, 128), "score": (2e-3, 256), "insitu": (1e-3, 128),
             "rows_only": (1e-3, 128), "native": (1e-3, 128)}
# assumption: the cosine decay ends at 5% of the rate (measured: the demo's Frechet distances
# are about 0.1 lower than with nn's default tenth, 7 of 9 paired runs)
_DECAY_FLOOR = 0.05
_CHUNK_STEPS = 100  # divides every default and quick step count: one compilation per stage


_NAMES = {"vae": "VAE", "classifier": "classifier", "score": "score net", "insitu": "in-situ noise rows",
          "rows_only": "in-situ noise rows (rows only)", "native": "native in-situ net"}


def _stage(cache: Path, stage: str, cfg: DemoConfig, num_steps: int, train_fn: Callable, trained: list[str],
           progress: bool) -> Any:
    """The trained params of `stage`: trained, resumed or loaded from its checkpoint in `cache`.

    The checkpoint is `cimjax.nn`'s (the finished `TrainState`), fingerprinted with
    `stage_config`: a file of another configuration is refused, naming each field.
    `train_fn(config, num_steps, key=..., **fit_kwargs)` runs `fit_loss`.
    """
    conf = stage_config(cfg, stage)
    k_init, k_seed = jax.random.split(jax.random.fold_in(jax.random.key(cfg.seed), list(_TRAINING).index(stage)))
    lr, batch = _TRAINING[stage]
    config = TrainConfig(learning_rate=lr, batch_size=batch, grad_clip=None, decay_steps=num_steps,
                         decay_floor=_DECAY_FLOOR, seed=int(jax.random.randint(k_seed, (), 0, 2**31 - 1)))
    path = cache / f"{stage}-{config_hash(conf)}.msgpack"
    say = (lambda text: print(text, file=sys.stderr)) if progress else (lambda text: None)
    if not path.exists():
        say(f"training {_NAMES[stage]} ({num_steps} steps)")
    state, losses = train_fn(config, num_steps, key=k_init, checkpoint=path, run_config=conf, progress=progress,
                             chunk_steps=_CHUNK_STEPS)
    if losses.size:
        trained.append(stage)
        if losses.size < num_steps:
            say(f"resumed {_NAMES[stage]} at step {num_steps - losses.size}/{num_steps} from {path}")
    else:
        say(f"loaded cached {_NAMES[stage]} from {path}")
    return state.params


def _native_offsets(cache: Path, cfg: DemoConfig, calibrate: Callable[[], jax.Array], progress: bool) -> jax.Array:
    """The native net's per-step column offsets [n_steps, D]: calibrated once, then loaded.

    Cached beside the native checkpoint, under the same fingerprint (the offsets follow from
    the native stage's params and seed alone). An unreadable or misshapen file is refused.
    """
    path = cache / f"native_offset-{config_hash(stage_config(cfg, 'native'))}.npy"
    if path.exists():
        try:
            table = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise CheckpointError(f"offset table {str(path)!r} cannot be read ({err}); delete it to recalibrate") from None
        if table.shape != (cfg.n_steps, cfg.latent_dim) or not np.all(np.isfinite(table)):
            raise CheckpointError(f"offset table {str(path)!r} has shape {table.shape} or non-finite values; "
                                  f"expected finite [{cfg.n_steps}, {cfg.latent_dim}]: delete it to recalibrate")
        return jnp.asarray(table)
    if progress:
        print("calibrating the native net's column offsets", file=sys.stderr)
    table = calibrate()
    with atomic_path(path, ".npy") as tmp:
        np.save(tmp, np.asarray(table))
    return table


def prepare_models(cfg: DemoConfig, cache_dir: str | os.PathLike | None = None, progress: bool = True) -> Models:
    """Trains (or loads from `cache_dir`, or resumes there) the VAE, classifier, score net and in-situ net."""
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    data = load_dataset(cfg.dataset, mnist_path=cfg.mnist_path, seed=cfg.data_seed)
    trained: list[str] = []
    stage = functools.partial(_stage, cache, cfg=cfg, trained=trained, progress=progress)
    sde = make_sde(cfg.sde)

    vae = VAE(cfg.latent_dim, data.n_pixels, cfg.vae_hidden)
    vae_params = stage("vae", num_steps=cfg.vae_steps,
                       train_fn=functools.partial(train_vae, vae, data.x_train, kl_weight=cfg.kl_weight))
    mu, mean, std = latent_stats(vae, vae_params, data.x_train)
    latents = (mu - mean) / std

    clf = Classifier()
    clf_params = stage("classifier", num_steps=cfg.clf_steps,
                       train_fn=functools.partial(train_classifier, clf, data.x_train, data.y_train))

    score_net = CrossbarEpsNet(cfg.latent_dim, cfg.score_hidden, cfg.score_depth, dac_bits=cfg.dac_bits,
                               adc_bits=cfg.adc_bits, dac_range=cfg.dac_range, hardware=cfg.hardware)
    native_net = NativeInSituNet(score_net, sde, cfg.native_voltages)  # the voltages checked before any training
    score_params = stage("score", num_steps=cfg.score_steps,
                         train_fn=functools.partial(train_score, score_net, sde, latents))
    ex_situ = ExSituStep(sde, EpsScore(score_net, sde))

    in_situ = {}
    # the noise-row nets read the score net's weights unchanged; only their noise rows are stored
    for name, stage_name, variant in (("in_situ_noise_rows", "insitu", "noise_rows"),
                                      ("in_situ_rows_only", "rows_only", "rows_only")):
        in_net = InSituCrossbarNet(score_net, sde, cfg.noise_rows, cfg.keep_prob, variant=variant)
        noise_params = stage(stage_name, num_steps=cfg.insitu_steps, train_fn=functools.partial(
            train_insitu, in_net, ex_situ, score_params, latents, n_steps=cfg.n_steps, passes=cfg.insitu_passes))
        in_situ[name] = (InSituStep(sde, in_net), {"score": score_params, "noise": noise_params})
    native_params = stage("native", num_steps=cfg.native_steps, train_fn=functools.partial(
        train_native, native_net, ex_situ, score_params, latents, n_steps=cfg.n_steps,
        mean_weight=cfg.native_mean_weight, var_weight=cfg.native_var_weight,
        skew_weight=cfg.native_skew_weight))
    native_params = {**native_params, "offset": _native_offsets(cache, cfg, lambda: calibrate_offsets(
        native_net, ex_situ, score_params, native_params, latents, n_steps=cfg.n_steps,
        key=jax.random.fold_in(jax.random.key(cfg.seed), len(_TRAINING)))["offset"], progress)}
    in_situ = {"in_situ": (InSituStep(sde, native_net), native_params), **in_situ}
    return Models(cfg, data, sde, vae, vae_params, mean, std, clf, clf_params, ex_situ, score_params,
                  in_situ, tuple(trained))


def sampler_step(models: Models, sampler: str, n_steps: int):
    """(ReverseStep, params) of a sampler of SAMPLERS, after checking it can run `n_steps` steps."""
    if sampler not in SAMPLERS:
        raise ConfigError(f"{sampler=} must be one of {SAMPLERS} or 'prior'")
    if sampler in IN_SITU and n_steps != models.cfg.n_steps:
        raise ConfigError(f"{n_steps=}: the in-situ network was trained for n_steps={models.cfg.n_steps} "
                         "(its pass gives the whole step's differential); retrain with that step count")
    models.sde.time_grid(n_steps)  # n_steps >= 1, checked before any compute
    return models.step(sampler)


def generate(models: Models, sampler: str, n: int, *, seed: int, start: int = 0, batch: int = 1000,
             n_steps: int | None = None, progress: bool = True) -> np.ndarray:
    """Latents [n, L] from a sampler of SAMPLERS or 'prior' (x_T itself: the decoded-noise ceiling)."""
    from tqdm.auto import tqdm

    n_steps = models.cfg.n_steps if n_steps is None else n_steps
    dim = models.cfg.latent_dim
    check_sample_range(seed, start, n)
    if sampler == "prior":
        keys = prior_keys(jnp.uint32(seed), jnp.arange(start, start + n, dtype=jnp.uint32))
        return np.asarray(jax.vmap(lambda k: models.sde.prior_sample(k, (dim,)))(keys))
    step, params = sampler_step(models, sampler, n_steps)
    draw = sample_reverse if jax.process_count() == 1 else _sample_every_process
    out = []
    for s in tqdm(range(start, start + n, batch), desc=f"sampling {sampler}", disable=not progress, leave=False):
        out.append(draw(step, params, models.sde, n_steps=n_steps, dim=dim, seed=seed, start=s,
                        count=min(batch, start + n - s)))
    return np.concatenate(out)


def _sample_every_process(step, params, sde, *, count: int, **kwargs) -> np.ndarray:
    """`sample_reverse` in a run of several processes: one global batch over all of them, each
    computing its own rows (`sample_reverse_local`), then every row gathered to every process."""
    from jax.experimental import multihost_utils

    idx, z = sample_reverse_local(step, params, sde, count=count, **kwargs)
    per = -(-count // jax.device_count()) * jax.local_device_count()  # a process's rows before the trim
    idx_pad = np.full((per,), -1, np.int64)
    z_pad = np.zeros((per, z.shape[1]), np.float32)
    idx_pad[:len(idx)], z_pad[:len(z)] = idx, z
    every_idx = np.asarray(multihost_utils.process_allgather(idx_pad)).reshape(-1)
    every_z = np.asarray(multihost_utils.process_allgather(z_pad)).reshape(-1, z.shape[1])
    keep = every_idx >= 0
    return every_z[keep][np.argsort(every_idx[keep])]
