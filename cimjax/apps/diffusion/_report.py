"""`cimjax demo`: train or load, sample with both schemes, measure quality, cost and write results."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from cimjax.errors import ConfigError
from cimjax._io import check_replaceable, write_json_atomic, write_text_atomic
import cimjax.apps.diffusion._metrics as M
from cimjax.apps.diffusion._config import DemoConfig
from cimjax.apps.diffusion._costs import cost_table
from cimjax.crossbar import resolved_programming_sigma, resolved_read_noise
from cimjax.sde import crossbar_layer_shapes
from cimjax.apps.diffusion._pipeline import IN_SITU, SAMPLERS, Models, generate, prepare_models
from cimjax.apps.diffusion._plots import save_embedding, save_grid, save_pareto
from cimjax.apps.diffusion._transitions import transition_errors

__all__ = ["quality_row", "evaluate", "run_demo", "prepare_out_dir", "real_floor"]


def prepare_out_dir(out: str | os.PathLike, force: bool) -> Path:
    """Creates `out`; an existing non-empty folder is an error unless `force` (then it is emptied)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not force:
            raise ConfigError(f"results folder {out} exists and is not empty; pass --force to overwrite it")
        check_replaceable(out, "results folder")
        shutil.rmtree(out) if out.is_dir() else out.unlink()
    out.mkdir(parents=True, exist_ok=True)
    return out


N_BOOT = 300  # bootstrap resamples per set: the 2.5% and 97.5% percentiles rest on ~8 resamples each


def quality_row(models: Models, images: np.ndarray, ref: np.ndarray, ref_features: np.ndarray,
                bandwidth: float, seed: int = 0) -> dict[str, Any]:
    """Every quality metric of one image set against a reference set, with bootstrap 95% intervals."""
    hist = M.label_histogram(models.predict(images))
    features = models.features(images)
    # the estimates come with their intervals (one kernel matrix per set, not two)
    metrics = M.bootstrap_intervals(images, ref, features, ref_features, bandwidth, n_boot=N_BOOT, seed=seed)
    return {"n": int(len(images)), **metrics,
            "nn_distance": M.nn_distance(images, ref),
            "classes_present": int(np.sum(hist > 0)),
            "max_class_fraction": float(hist.max()),
            "label_histogram": [round(float(h), 4) for h in hist]}


def real_floor(x_train: np.ndarray, x_test: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(real [n', P], its reference [M', P]): n' images drawn without replacement from
    train + test, and the rest of the pool as their own reference.

    The floor at the samplers' n (the Frechet distance and sliced W2 are biased upward at
    small n, so a smaller real set would score worse than the samplers), and disjoint from
    its reference (an image compared with itself would pull MMD^2 below zero). n' is n, or
    three quarters of the pool when n is larger: the reference keeps a quarter, enough for
    a full-rank feature covariance (the digits: 1797 images, so n' <= 1348).
    """
    pool = np.concatenate([x_train, x_test])
    order = np.random.default_rng(seed).permutation(len(pool))
    n = min(n, len(pool) - len(pool) // 4)
    return pool[order[:n]], pool[order[n:]]


def evaluate(models: Models, n: int, seed: int, progress: bool = True) -> tuple[dict, dict]:
    """Quality of real images, every sampler and decoded prior noise at n each; returns (rows, images).

    Samplers are scored against the training images; the real floor (`real_floor`) against
    the rest of train + test. Every row carries bootstrap 95% intervals (seeded by `seed`).
    """
    data = models.data
    ref = data.x_train
    ref_features = models.features(ref)
    bandwidth = M.median_bandwidth(data.x_test, ref)  # one bandwidth for every row, from real data
    real, real_ref = real_floor(data.x_train, data.x_test, n, seed)
    images = {"real": real}
    for name in (*SAMPLERS, "prior"):
        images[name] = models.decode(generate(models, name, n, seed=seed, progress=progress))
    rows = {name: quality_row(models, x, ref, ref_features, bandwidth, seed=seed)
            for name, x in images.items() if name != "real"}
    rows = {"real": quality_row(models, real, real_ref, models.features(real_ref), bandwidth, seed=seed), **rows}
    rows["_bandwidth"] = bandwidth
    return rows, images


def _markdown(rows: dict, costs: dict, cfg: DemoConfig, timings: dict, embedding: str, trans: dict, hardware: dict,
              noise: str, bits: int) -> str:
    names = [k for k in rows if not k.startswith("_")]
    lines = ["# cimjax demo: latent diffusion with ex-situ and in-situ P-bits", "",
             f"Data: {cfg.dataset}; VAE latent dim {cfg.latent_dim}; {cfg.sde.upper()} SDE, "
             f"{cfg.n_steps} reverse Euler-Maruyama steps.", "",
             "## Hardware", "",
             f"Every network read is one `crossbar_matmul` of the same crossbar: weights as "
             f"{hardware['mapping']}, programming variation sigma {hardware['programming_sigma']} (Fig. 8), read "
             f"noise {hardware['read_noise']} (Fig. 15), P_sw spread {'on' if hardware['pbit_spread'] else 'off'} "
             f"(Fig. 13){' (the float reference, --ideal)' if hardware['ideal'] else ''}; "
             f"{cfg.dac_bits}-bit input DAC over +-{cfg.dac_range}, {cfg.adc_bits}-bit ADC per 256-row tile column. "
             f"The score net [x, t-embedding] -> {cfg.score_depth} x {cfg.score_hidden} (swish) -> {cfg.latent_dim} "
             "is trained on it with denoising score matching (straight-through quantisers).", "",
             "## What each sampler does", "",
             f"- **ex_situ**: every read with P-bits held fixed; the diffusion term g sqrt|dt| z is injected from "
             f"outside the array, z from {noise} ({bits} random bits per Gaussian, generated off-array and "
             "transferred).",
             "- **in_situ** (native): the score net's own output layer read in exact mode, its weight cells' "
             f"P-bits written at {hardware['native_voltages_V']} V over equal segments of the reverse grid (keep "
             f"probability {[round(p, 3) for p in hardware['native_keep_probs']]}, Fig. 12), a digital gain G(t) "
             "after the ADC; every weight fine-tuned from the ex-situ net so that one pass's closed-form mean "
             f"and variance match the ex-situ transition in every state (mean weight {cfg.native_mean_weight}, "
             f"variance weight {cfg.native_var_weight}) and its skewness stays near a Gaussian's 0 (skew weight "
             f"{cfg.native_skew_weight}); a digital offset per column and step calibrated in closed form "
             "(cimjax.sde.NativeInSituNet). No added rows.",
             f"- **in_situ_noise_rows**: the ex-situ weights unchanged plus {2 * cfg.noise_rows} added noise rows "
             "(+A / -A at a learned level r(t)); every P-bit of the read written.",
             "- **in_situ_rows_only**: the same, but only the noise rows' P-bits are written; the weight cells "
             "read deterministically.", "",
             "## Quality (against the training images; lower is better)", "",
             f"MMD^2: RBF kernel, median-heuristic bandwidth h = {rows['_bandwidth']:.4g} (test vs train pixels). "
             "Frechet distance and KID (cubic kernel, unbiased) in the digit classifier's penultimate "
             "features; the Frechet distance is biased upward at small n (more so for a smaller set), KID and "
             "MMD^2 are not. 'prior' decodes x_T itself (the ceiling); 'real' is the floor: as many real "
             "images as each sampler draws (at most three quarters of train + test), scored against the rest "
             "of train + test (no image against itself). Brackets: "
             f"bootstrap 95% intervals ({N_BOOT} seeded resamples of the set, reference fixed; centred "
             "on the estimate).", "",
             "| set | n | Frechet | MMD^2 | KID | sliced W2 | NN dist | classes | max class |",
             "|---|---|---|---|---|---|---|---|---|"]
    for k in names:
        r = rows[k]
        f_ci, m_ci, k_ci, s_ci = r["frechet_ci"], r["mmd2_ci"], r["kid_ci"], r["sliced_w2_ci"]
        lines.append(f"| {k} | {r['n']} | {r['frechet']:.4g} [{f_ci[0]:.4g}, {f_ci[1]:.4g}] | "
                     f"{r['mmd2']:.3e} [{m_ci[0]:.2e}, {m_ci[1]:.2e}] | "
                     f"{r['kid']:.3e} [{k_ci[0]:.2e}, {k_ci[1]:.2e}] | "
                     f"{r['sliced_w2']:.4g} [{s_ci[0]:.4g}, {s_ci[1]:.4g}] | "
                     f"{r['nn_distance']:.4g} | {r['classes_present']} | {r['max_class_fraction']:.3f} |")
    lines += ["", "## In-situ transitions against ex-situ, per step", "",
              "Relative errors of the transition's mean and std, and the share of the output read's variance "
              "that the weight cells' own P-bits supply (closed form; the rest: added noise rows, read noise, "
              "ADC rounding), averaged over steps (cimjax.apps.diffusion.transition_errors; spread on as "
              "configured).", "", "| sampler | mean error | std error | weight-cell P-bit share |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['mean_rel_err_avg']:.3f} | {v['std_rel_err_avg']:.3f} | {v['pbit_variance_share_avg']:.3f} |"
              for k, v in trans.items()]
    lines += ["", "## Energy and delay per image", ""]
    lines += [f"From cimjax.energy (preset {costs['preset']}) priced on op counts from "
              f"cimjax.crossbar.count_read of the networks' own crossbar configurations ({costs['tile']} "
              "tiles): ex-situ = every layer read with P-bits off + the injected Gaussians' random bits "
              "(generated and transferred); in-situ = hidden reads with P-bits off + one P-bit write per "
              "written cell of the output read, no transfer (native: the weights' cells; noise_rows: weights "
              "and noise rows; rows_only: the noise rows only). Each read is priced with its own tile, a reset "
              "before each write where P_sw != 0.5; write energy at the preset's 1.5 V pulse. Ex-situ "
              "generation overlaps compute where the design allows (overlap). An in-situ sampler on an ex-situ "
              "design: the same P-bits generated off-array and transferred. pareto.png: Frechet distance "
              "against energy and delay per image.", "",
              "| design | sampler | energy / image (nJ) | delay / image (us) | added area (um^2) | P-bit writes "
              "| resets | random bits | bits transferred | overlap |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in costs["rows"]:
        lines.append(f"| {r['label']} | {r['sampler']}{'' if r['native'] else ' (non-native)'} | "
                     f"{r['energy_per_image_J'] * 1e9:.4g} | {r['delay_per_image_s'] * 1e6:.4g} | "
                     f"{r['added_area_um2']} | {r['pbit_writes']} | {r['pbit_resets']} | {r['random_bits']} | "
                     f"{r['random_bits_transferred']} | {r['overlap']} |")
    lines += ["", "## Pictures", "", f"grid_<set>.png for {', '.join(names)}: the first 100 images of each set. "
              f"embedding.png: a 2-D {embedding} fitted on the training images; contours enclose 50% and 90% of "
              "them (Gaussian KDE), and each set's images are coloured by their pixel distance to the nearest "
              "training image, one scale for all panels.", "", "## Timings (s)", ""]
    lines += [f"- {k}: {v:.1f}" for k, v in timings.items()]
    return "\n".join(lines) + "\n"


def run_demo(cfg: DemoConfig, out: str | os.PathLike, *, force: bool = False, cache_dir=None,
             progress: bool = True) -> dict:
    """The main job: writes metrics.json, metrics.md and PNGs to `out`; returns the JSON payload.

    In a run of several processes (`jax.distributed`) every process samples its share of each
    global batch and gets every sample back; process 0 alone writes `out`.
    """
    import jax

    writer = jax.process_index() == 0
    out = prepare_out_dir(out, force) if writer else None
    t0 = time.perf_counter()
    models = prepare_models(cfg, cache_dir, progress=progress)
    t1 = time.perf_counter()
    rows, images = evaluate(models, cfg.n_eval, cfg.seed, progress=progress)
    every = max(1, cfg.n_steps // 20)
    trans = {name: transition_errors(models, name, every=every) for name in IN_SITU}
    t2 = time.perf_counter()
    net = models.ex_situ.score_fn.model
    noise = models.ex_situ.noise
    native = models.in_situ["in_situ"][0].net_fn
    in_reads = {"in_situ": crossbar_layer_shapes(net, out_config=native.out_configs[0]),
                "in_situ_noise_rows": crossbar_layer_shapes(net, cfg.noise_rows),
                "in_situ_rows_only": crossbar_layer_shapes(net, cfg.noise_rows, variant="rows_only")}
    costs = cost_table(crossbar_layer_shapes(net), in_reads, n_steps=cfg.n_steps, latent_dim=cfg.latent_dim,
                       bits_per_gaussian=noise.bits_per_gaussian)
    hw = cfg.hardware
    hardware = {"mapping": hw.scheme if hw.scheme != "bitslice" else f"bitslice ({hw.bits} bits, 3-state pairs)",
                "programming_sigma": resolved_programming_sigma(net.config(net.hidden, 0)),
                "read_noise": resolved_read_noise(net.config(net.hidden, 0)),
                "pbit_spread": hw.pbit_spread, "ideal": hw.is_ideal,
                "native_voltages_V": list(native.voltages), "native_keep_probs": list(native.keep_probs)}
    timings = {"train_or_load": t1 - t0, "sample_and_metrics": t2 - t1}
    payload = {"config": {k: getattr(cfg, k) for k in cfg.__dataclass_fields__}, "trained": list(models.trained),
               "hardware": hardware, "quality": rows, "transitions": trans, "costs": costs, "timings_s": timings,
               "processes": jax.process_count(),
               "noise_source": {"ex_situ": type(noise).__name__, "bits_per_gaussian": noise.bits_per_gaussian,
                                "in_situ": "the output layer's own P-bits (exact mode)",
                                "in_situ_noise_rows": "the output read's P-bits, mostly its added noise rows'",
                                "in_situ_rows_only": "the added noise rows' P-bits only"}}
    if not writer:
        return {**payload, "timings_s": {**timings, "total": time.perf_counter() - t0}}
    side = models.data.side
    for name in ("real", *SAMPLERS, "prior"):
        save_grid(images[name], side, out / f"grid_{name}.png", title=name)
    method = save_embedding(models.data.x_train[:1000],
                            {"real (test)": models.data.x_test[:1000],  # held out: disjoint from train
                             **{k: images[k][:1000] for k in ("ex_situ", "in_situ", "prior")}},
                            out / "embedding.png")
    save_pareto(rows, costs["rows"], out / "pareto.png")
    timings["total"] = time.perf_counter() - t0
    payload["embedding"] = method
    write_json_atomic(out / "metrics.json", payload)
    write_text_atomic(out / "metrics.md", _markdown(rows, costs, cfg, timings, method, trans, hardware,
                                                    type(noise).__name__, noise.bits_per_gaussian))
    return payload
