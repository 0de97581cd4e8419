"""Energy and delay per image of each sampling scheme, from crossbar op counts (Table II).

The seam to the cost model: `image_counts` describes what one image's reverse diffusion
does on the hardware (`cimjax.crossbar.counts.OpCounts`, from layer shapes only) and
`cost_table` prices it with `cimjax.energy.cost`. Ex-situ: the network's reads with
P-bits held fixed plus the explicitly injected noise's random bits, generated and
transferred. In-situ: the same reads, plus one P-bit write per stochastic cell per read,
and no transfer. If the cost model is not importable the table says so and gives counts.
"""

from __future__ import annotations

from typing import Any

__all__ = ["layer_shapes", "image_counts", "cost_table"]

TILE = 64  # assumption: 64 x 64 crossbar tiles (cimjax.energy's worked example)


def layer_shapes(latent_dim: int, hidden: int, depth: int, t_dim: int = 32) -> list[tuple[int, int]]:
    """(in, out) of the score MLP's matrices: input [x, time embedding], `depth` hidden, output."""
    shapes = [(latent_dim + t_dim, hidden)] + [(hidden, hidden)] * (depth - 1)
    return shapes + [(hidden, latent_dim)]


def image_counts(scheme: str, shapes: list[tuple[int, int]], *, n_steps: int, latent_dim: int,
                 bits_per_gaussian: int = 32, noise_rows: int = 0):
    """OpCounts of one image: n_steps reads of every layer (+ noise) under 'ex_situ' or 'in_situ'."""
    from cimjax.crossbar.counts import count_crossbar_read, count_random_bits

    def read(n, m, mode, where):
        return count_crossbar_read(1, n, m, tile_rows=TILE, tile_cols=TILE, pbit_mode=mode, scheme=where)

    if scheme == "ex_situ":
        per_step = sum(read(n, m, "off", "ex_situ_periphery") for n, m in shapes)
        per_step = per_step + count_random_bits(latent_dim * bits_per_gaussian, scheme="ex_situ_periphery")
    elif scheme == "in_situ":
        per_step = sum(read(n, m, "off", "in_situ") for n, m in shapes[:-1])
        per_step = per_step + read(*shapes[-1], "exact", "in_situ")  # the MC-dropconnect output layer
        if noise_rows:
            per_step = per_step + read(2 * noise_rows, latent_dim, "exact", "in_situ")  # +A/-A noise pairs
    else:
        raise ValueError(f"{scheme=} must be 'ex_situ' or 'in_situ'")
    return per_step * n_steps


def cost_table(shapes, *, n_steps: int, latent_dim: int, bits_per_gaussian: int, noise_rows: int
               ) -> dict[str, Any]:
    """{'available': bool, 'rows': [...]} energy (J) and delay (s) per image for every design."""
    try:
        from cimjax.energy import default_preset
        from cimjax.energy.cost import cost
    except ImportError as err:  # the energy model is optional for the demo
        return {"available": False, "reason": f"cimjax.energy not importable ({err})", "rows": []}
    preset = default_preset()
    counts = {s: image_counts(s, shapes, n_steps=n_steps, latent_dim=latent_dim,
                              bits_per_gaussian=bits_per_gaussian, noise_rows=noise_rows)
              for s in ("ex_situ", "in_situ")}
    rows = []
    for name, design in preset.designs.items():
        sampler = "in_situ" if design.scheme == "in_situ" else "ex_situ"
        c = cost(counts[sampler], design)
        rows.append({"design": name, "label": design.label, "scheme": design.scheme, "sampler": sampler,
                     "energy_per_image_J": c.energy_J, "delay_per_image_s": c.latency_s,
                     "added_area_um2": c.area_um2, "pbit_writes": counts[sampler].pbit_writes,
                     "random_bits_transferred": counts[sampler].random_bits_transferred
                     if design.scheme != "in_situ" else 0})
    return {"available": True, "preset": getattr(preset, "name", "default"), "tile": TILE, "rows": rows}
