"""Energy and delay per image of each sampling scheme, from crossbar op counts (Table II).

The seam to the cost model: `image_counts` describes what one image's reverse diffusion
does on the hardware (`cimjax.crossbar.OpCounts` from `cimjax.crossbar.count_read`, i.e.
from the very configurations the networks are read through: tiles, slices, P-bit mode)
and `cost_table` prices it with `cimjax.energy._cost`.

* ex-situ: per step, one read of every layer of the score net with P-bits held fixed
  (mode "off": no P-bit writes), plus the explicitly injected noise, D Gaussians of
  `bits_per_gaussian` random bits each, generated off-array and transferred to it.
* in-situ: per step, the same hidden-layer reads (mode "off"), and the output read in
  exact mode over H + 2R rows (score-net weights plus the +A/-A noise rows): one P-bit
  write per cell of that read, used where it is generated (no transfer), nothing else.
If the cost model is not importable the table says so.
"""

from __future__ import annotations

from typing import Any

from cimjax.crossbar import count_random_bits, count_read
from cimjax.energy import cost, default_energy_preset
from cimjax.errors import ConfigError

__all__ = ["image_counts", "cost_table"]


def image_counts(scheme: str, reads, *, n_steps: int, latent_dim: int, bits_per_gaussian: int = 32):
    """OpCounts of one image: n_steps passes of `reads` [(rows, cols, CrossbarConfig)] (+ explicit noise).

    `reads` are the score net's reads for 'ex_situ' and the in-situ net's for 'in_situ'
    (`cimjax.sde.crossbar_layer_shapes`).
    """
    if scheme == "ex_situ":
        per_step = sum(count_read(cfg, 1, n, m, scheme="ex_situ_periphery") for n, m, cfg in reads)
        per_step = per_step + count_random_bits(latent_dim * bits_per_gaussian, scheme="ex_situ_periphery")
    elif scheme == "in_situ":
        per_step = sum(count_read(cfg, 1, n, m, scheme="in_situ") for n, m, cfg in reads)
    else:
        raise ConfigError(f"{scheme=} must be 'ex_situ' or 'in_situ'")
    return per_step * n_steps


def cost_table(ex_reads, in_reads, *, n_steps: int, latent_dim: int, bits_per_gaussian: int) -> dict[str, Any]:
    """{'rows': [...], ...}: energy (J) and delay (s) per image for every design."""
    preset = default_energy_preset()
    counts = {"ex_situ": image_counts("ex_situ", ex_reads, n_steps=n_steps, latent_dim=latent_dim,
                                      bits_per_gaussian=bits_per_gaussian),
              "in_situ": image_counts("in_situ", in_reads, n_steps=n_steps, latent_dim=latent_dim)}
    rows = []
    for name, design in preset.designs.items():
        sampler = "in_situ" if design.scheme == "in_situ" else "ex_situ"
        c = cost(counts[sampler], design)
        rows.append({"design": name, "label": design.label, "scheme": design.scheme, "sampler": sampler,
                     "energy_per_image_J": c.energy_J, "delay_per_image_s": c.latency_s,
                     "added_area_um2": c.area_um2, "pbit_writes": counts[sampler].pbit_writes,
                     "tile_reads": counts[sampler].tile_reads,
                     "random_bits_transferred": counts[sampler].random_bits_transferred
                     if design.scheme != "in_situ" else 0})
    tile = ex_reads[0][2].tile
    return {"preset": getattr(preset, "name", "default"), "tile": f"{tile.rows}x{tile.cols}",
            "counts": {k: v._asdict() for k, v in counts.items()}, "rows": rows}
