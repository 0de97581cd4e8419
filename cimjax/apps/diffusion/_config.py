"""Configuration of the diffusion demo, and what keys and fingerprints its cached checkpoints."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import numbers
from typing import Any

from cimjax.errors import ConfigError

__all__ = ["DemoConfig", "stage_config", "config_hash", "STAGES"]


@dataclasses.dataclass(frozen=True)
class DemoConfig:
    """Every knob of `cimjax demo`; defaults finish in a few minutes on 2 CPU cores."""

    dataset: str = "digits"  # scikit-learn's 8x8 digits, shipped with the package
    mnist_path: str | None = None
    data_seed: int = 0
    seed: int = 0
    # VAE (Fig. 21's decoder); a small KL weight keeps the latents clustered, non-Gaussian
    latent_dim: int = 6  # assumption: enough for 8x8 digits, small for the score nets
    vae_hidden: int = 256
    kl_weight: float = 0.03  # assumption: beta-VAE weight
    vae_steps: int = 3000
    # digit classifier for the Frechet distance and label histogram
    clf_steps: int = 2000
    # SDE and the ex-situ score network
    sde: str = "vp"
    n_steps: int = 100  # reverse Euler-Maruyama steps
    score_hidden: int = 256
    score_depth: int = 3
    score_steps: int = 4000
    # crossbar periphery of both networks (cimjax.sde._crossbar_nets): analog pairs, DAC and ADC
    dac_bits: int = 8  # assumption: 8-bit input DAC (cimjax.crossbar default)
    adc_bits: int = 8  # assumption: 8-bit column ADC (cimjax.crossbar default)
    dac_range: float = 4.0  # assumption: standardised latents and swish activations mostly within +-4
    # the crossbar as it is (cimjax.sde.Hardware): pairs of binary MTJs, bit-sliced weights,
    # the device preset's non-idealities; ideal=True is the float reference (analog, none of them)
    ideal: bool = False
    mapping: str = "bitslice"  # Fig. 9: 3-state pairs, 4 pairs per weight, shift-and-add
    weight_bits: int = 4  # assumption: 4 magnitude bits per weight
    # None: the device's values, as every crossbar's default (cimjax.crossbar: the spread of a
    # pair's dG from the data-bits' Figs. 7-8 variation, and read noise from Fig. 15)
    programming_sigma: float | None = None
    read_noise: float | None = None
    pbit_spread: bool = True  # Fig. 13: P_sw spread of the device preset
    # native in-situ: the score net's own output-layer P-bits, fine-tuned (cimjax.sde.NativeInSituNet)
    # one 1.05 V pulse, P_sw 0.122 (Fig. 12 curve). Measured: a schedule rising to 1.3 V near t = eps was
    # worse (mean error 0.18 against 0.14, seed 0): the spread's shift moves with V. The weight cells'
    # share of the read's variance grows with P_sw (1 - P_sw) against the read noise, which does not depend
    # on the weights: at seed 2 (9600 steps, batch 128) 1.0 V gave share 0.899, mean error 0.087, std error
    # 0.023; 1.05 V 0.919, 0.089, 0.025; 1.1 V 0.947, 0.091, 0.030. At seed 0: 1.0 V 0.933, 0.081, 0.024;
    # 1.05 V 0.934, 0.087, 0.026; 1.1 V 0.953, 0.095, 0.074 (Frechet 2.71 against 1.77 at 1.0 V)
    native_voltages: tuple[float, ...] = (1.05,)
    # measured (seed 0, offsets calibrated, 1024 passes per state): 1200 steps left a mean error of 0.107 and
    # std error 0.075; 2400 steps 0.084 and 0.059 (a mean weight of 400 instead: 0.090, std 0.101); with
    # the variance weight 10, at seed 1: 2400 steps mean error 0.120, 4800 steps 0.084 (std 0.036, 0.032).
    # Still limited by the steps: at seed 0, batch 256, 4800 steps 0.103 (std 0.031), 9600 steps 0.082
    # (0.025); learning rate 3e-3 instead, 4800 steps: 0.099 (0.039); batch 128, 9600 steps (the
    # examples of 4800 at 256): 0.081 (0.024), the demo's choice
    native_steps: int = 9600
    native_mean_weight: float = 200.0  # assumption: the mean's share of the loss (its tolerance is ~3% of c)
    # the variance term's weight (1: its KL share, cimjax.sde.train_native); measured (seed 1, n = 4000, 3
    # sampling seeds, ex-situ Frechet 1.02, MMD^2 0.585e-3; 2400 steps): 1 -> Frechet 1.91, MMD^2 0.73e-3,
    # std error 0.073; 10 -> 1.16, 0.59e-3, 0.036; 30 -> 1.27, 0.58e-3, 0.033 (mean error 0.147)
    native_var_weight: float = 10.0
    # the pass's skewness term (1: its KL share, cimjax.sde.train_native); measured (seed 0, n = 4000,
    # 3 sampling seeds, ex-situ MMD^2 0.71e-3, Frechet 1.84): weight 0 -> MMD^2 0.98e-3, Frechet 2.36,
    # mean error 0.084, std error 0.067; 1 -> 0.90, 2.08, 0.091, 0.053; 10 -> 0.86, 1.98, 0.089,
    # 0.055; 30 -> 0.85, 1.90, 0.095, 0.060 (the mean error nearer its bound). Across seeds 0-2 (one sampling
    # seed, n = 4000) it lowered MMD^2 at two seeds and raised Frechet at two: within the metrics' noise
    native_skew_weight: float = 10.0
    # noise-row in-situ variants: the score net's output read with P-bits in exact mode plus noise rows
    keep_prob: float | None = None  # None: P_sw of the calibrated 1.5 V, 700 ps pulse = 0.5 (Fig. 12)
    noise_rows: int = 16
    insitu_passes: int = 4  # stochastic passes per state in the energy score (>= 2)
    insitu_steps: int = 1500
    # evaluation: images per set. Measured (seed 0, the same models): the native Frechet distance 2.76 at
    # n = 1000, 2.55 at 2000, 1.89 at 4000 (ex-situ 2.37, 2.04, 2.00): its small-n bias and spread at
    # 1000 were larger than the differences under test; 4000 keeps the demo under 10 minutes
    n_eval: int = 4000

    def __post_init__(self):
        if self.dataset not in ("digits", "mnist"):
            raise ConfigError(f"dataset={self.dataset!r} must be 'digits' or 'mnist'")
        if self.sde not in ("vp", "subvp", "ve"):
            raise ConfigError(f"sde={self.sde!r} must be 'vp', 'subvp' or 've'")
        if self.keep_prob is not None and not 0.0 < self.keep_prob <= 1.0:
            raise ConfigError(f"keep_prob={self.keep_prob} must be in (0, 1]")
        for name in ("native_mean_weight", "native_var_weight", "native_skew_weight"):
            if not float(getattr(self, name)) >= 0.0:  # NaN too
                raise ConfigError(f"{name}={getattr(self, name)!r} must be a number >= 0")
        if isinstance(self.seed, bool) or not isinstance(self.seed, numbers.Integral) or not 0 <= self.seed < 2**32:
            raise ConfigError(f"seed={self.seed!r} must be an integer in [0, 2**32 - 1] (it seeds the samples' uint32 keys)")
        object.__setattr__(self, "seed", int(self.seed))  # a numpy integer too: the checkpoints' keys are JSON
        if self.insitu_passes < 2:
            raise ConfigError(f"insitu_passes={self.insitu_passes} must be >= 2 (energy score)")
        from cimjax.sde import check_write_voltages

        if not self.native_voltages:
            raise ConfigError("native_voltages=() must name at least one write voltage [V]")
        object.__setattr__(self, "native_voltages", check_write_voltages(self.native_voltages, "native_voltages"))
        if self.ideal:
            ref = DemoConfig.__dataclass_fields__
            set_ = [f"{k}={getattr(self, k)!r}" for k in HARDWARE_FIELDS if getattr(self, k) != ref[k].default]
            if set_:
                raise ConfigError(f"ideal=True is the float reference; it cannot be combined with {', '.join(set_)}")
        self.hardware  # validates the non-idealities
        for name in ("latent_dim", "n_steps", "vae_steps", "clf_steps", "score_steps", "insitu_steps", "native_steps",
                     "n_eval"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be >= 1")

    @property
    def hardware(self):
        """The networks' crossbar non-idealities (`cimjax.sde.Hardware`)."""
        from cimjax.sde import Hardware

        if self.ideal:
            return Hardware.ideal()
        return Hardware(scheme=self.mapping, bits=self.weight_bits, programming_sigma=self.programming_sigma,
                        read_noise=self.read_noise, pbit_spread=self.pbit_spread)

    @classmethod
    def quick(cls, **overrides) -> "DemoConfig":
        """A reduced configuration for tests and `--quick` (about a quarter of the training)."""
        base = dict(vae_steps=1500, clf_steps=800, score_steps=2000, insitu_steps=600, native_steps=600, n_eval=500,
                    n_steps=50)
        return cls(**{**base, **overrides})


HARDWARE_FIELDS = ("mapping", "weight_bits", "programming_sigma", "read_noise", "pbit_spread")

# which fields each cached stage depends on (a stage also depends on the stages before it)
STAGES: dict[str, tuple[str, ...]] = {
    "data": ("dataset", "mnist_path", "data_seed"),
    "vae": ("latent_dim", "vae_hidden", "kl_weight", "vae_steps", "seed"),
    "classifier": ("clf_steps", "seed"),
    "score": ("sde", "score_hidden", "score_depth", "score_steps", "dac_bits", "adc_bits", "dac_range", "ideal",
              *HARDWARE_FIELDS),
    "insitu": ("n_steps", "keep_prob", "noise_rows", "insitu_passes", "insitu_steps"),
    "rows_only": ("n_steps", "keep_prob", "noise_rows", "insitu_passes", "insitu_steps"),
    "native": ("n_steps", "native_voltages", "native_steps", "native_mean_weight", "native_var_weight",
               "native_skew_weight"),
}
_DEPENDS = {"vae": ("data", "vae"), "classifier": ("data", "classifier"),
            "score": ("data", "vae", "score"), "insitu": ("data", "vae", "score", "insitu"),
            "rows_only": ("data", "vae", "score", "rows_only"), "native": ("data", "vae", "score", "native")}


# the training of every stage (cimjax.nn.fit_loss, its batches and optimiser): a new value
# retrains cached stages rather than loading models trained another way
TRAINING = 3
# a stage's own loss, versioned on its own so that a change retrains only that stage
# (native 2: the mean and variance matched by separate terms, cimjax.sde.train_native; 3: the skewness term;
# 4: batch 128)
STAGE_LOSS = {"native": 4}


def stage_config(cfg: DemoConfig, stage: str) -> dict[str, Any]:
    """The fields of `cfg` (and the training version) that determine the checkpoint of `stage`."""
    fields = [f for s in _DEPENDS[stage] for f in STAGES[s]]
    conf = {f: getattr(cfg, f) for f in dict.fromkeys(fields)}
    loss = {"loss": STAGE_LOSS[stage]} if stage in STAGE_LOSS else {}
    return {"stage": stage, "training": TRAINING, **loss, **{k: list(v) if isinstance(v, tuple) else v for k, v in conf.items()}}


def config_hash(config: dict[str, Any]) -> str:
    """12 hex digits of the SHA-256 of the canonical JSON of `config`."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:12]
