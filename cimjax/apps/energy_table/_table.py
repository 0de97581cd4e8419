"""The paper's Table II: this model's rows computed from a preset, the literature cited.

The computed rows come from `schemes.figures`; the values the paper prints (its own
rows and the literature's) live in `citations.json`, a data file, and are shown beside
the computed ones, marked as reported or cited, never used to compute anything.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cimjax.energy import Preset
from cimjax.energy import Figures, figures, full_rate_wear

CITATIONS_PATH = Path(__file__).resolve().parent / "citations.json"


def load_citations() -> dict[str, Any]:
    """The printed Table II values (this work and literature) and the abstract's ratios."""
    return json.loads(CITATIONS_PATH.read_text())


def computed(preset: Preset) -> list[Figures]:
    """Figures of every design of the preset, in file order."""
    return [figures(d) for d in preset.designs.values()]


def ratios(preset: Preset) -> list[dict[str, Any]]:
    """In-situ over each ex-situ design: throughput ratio (x faster) and efficiency ratio.

    efficiency_ratio = (pJ/bit ex-situ) / (pJ/bit in-situ): how many times less energy a
    random bit costs in-situ.
    """
    base = figures(preset.for_scheme("in_situ"))
    out = []
    for f in computed(preset):
        if f.scheme == "in_situ":
            continue
        out.append({"in_situ": base.design, "versus": f.design,
                    "throughput_ratio": base.throughput_bit_per_ns / f.throughput_bit_per_ns,
                    "efficiency_ratio": f.energy_pJ_per_bit / base.energy_pJ_per_bit})
    return out


def table_rows(preset: Preset) -> list[dict[str, Any]]:
    """JSON-ready rows: computed designs (with the paper's printed value where it has one),
    then the literature rows, marked `"kind": "cited"`."""
    cites = load_citations()
    reported = {r["design"]: r for r in cites["this_work"]}
    rows = []
    for f, d in zip(computed(preset), preset.designs.values()):
        row = {"kind": "computed", "work": "This work (model)", "design": f.design,
               "label": f.label, "device": "VCMA-MTJ", "location": f.location,
               "added_area_um2": f.added_area_um2 if f.added_area_um2 is not None else f.location,
               "throughput_bit_per_ns": f.throughput_bit_per_ns,
               "energy_pJ_per_bit": f.energy_pJ_per_bit,
               "energy_breakdown_pJ": {k: v * 1e12 for k, v in
                                       {**f.generation_J, **f.transfer_J}.items()},
               "area_breakdown_um2": dict(f.area_um2),
               "endurance_at_full_rate": full_rate_wear(d)}
        if f.design in reported:
            r = reported[f.design]
            row["reported"] = {k: r[k] for k in
                               ("added_area_um2", "throughput_bit_per_ns", "energy_pJ_per_bit")}
        rows.append(row)
    for r in cites["literature"]:
        rows.append({"kind": "cited", **r})
    return rows


def _num(v: Any) -> str:
    if isinstance(v, str):
        return v
    if v == 0:
        return "0"
    return f"{v:.4g}" if 1e-2 <= abs(v) < 1e5 else f"{v:.3g}"


def format_table(rows: list[dict[str, Any]], ratio_rows: list[dict[str, Any]]) -> str:
    """Table II as aligned text, computed rows with the paper's values in brackets."""
    head = ["Work", "Device", "Location", "Added area (um^2)", "Throughput (bit/ns)",
            "Efficiency (pJ/bit)"]
    body = []
    for r in rows:
        if r["kind"] == "computed":
            rep = r.get("reported", {})

            def cell(key, r=r, rep=rep):
                return _num(r[key]) + (f" [{_num(rep[key])}]" if key in rep else "")

            body.append([f"{r['design']} (computed)", r["device"], r["location"],
                         cell("added_area_um2"), cell("throughput_bit_per_ns"),
                         cell("energy_pJ_per_bit")])
        else:
            body.append([f"{r['work']} (cited)", r["device"], r["location"],
                         _num(r["added_area_um2"]), _num(r["throughput_bit_per_ns"]),
                         _num(r["energy_pJ_per_bit"])])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = ["Table II: P-bit/TRNG throughput, efficiency and added area",
             fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in body]
    lines += ["", "[bracketed]: the paper's printed value; (cited): literature values as printed "
              "in the paper, not computed.", ""]
    for q in ratio_rows:
        lines.append(f"in-situ vs {q['versus']}: {q['throughput_ratio']:.3g}x throughput, "
                     f"{q['efficiency_ratio']:.3g}x efficiency")
    wear = [r for r in rows if r["kind"] == "computed"]
    if wear:
        lines += ["", f"Endurance at full throughput (rated {wear[0]['endurance_at_full_rate']['rated_cycles']:.3g} "
                      "write cycles per P-bit, Fig. 19; assumption: the rated count is the limit):"]
    for r in wear:
        w = r["endurance_at_full_rate"]
        lines.append(f"  {r['design']}: {w['pbits']} P-bits, each written {w['writes_per_s_per_pbit']:.3g}/s: "
                     f"{w['lifetime_s']:.3g} s ({w['lifetime_s'] / 3600:.3g} h) to the rated count")
    return "\n".join(lines)
