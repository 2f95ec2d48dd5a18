"""The printed comparison: each outcome side by side, and the paired differences."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from sim.model.outcome import OUTCOMES
from sim.outputs.safe import printable_lines


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _pts(d: float) -> str:
    return f"{100 * d:+.1f}"


def format_comparison(data: dict[str, Any], out: Path) -> str:
    """The comparison for the terminal, each line printable (names shown escaped)."""
    scenarios, diffs = data["scenarios"], data["differences"]
    lines = [f"dealsim compare — {data['runs']:,} runs each · seed {data['seed']} · "
             f"common random numbers (replication k of every scenario shares its draws)", ""]
    for s in scenarios:
        lines.append(f"  {s['label']}: {s['name']} (day 0 = {s['start']})")
    rows = [["outcome", *(s["label"] for s in scenarios),
             *(f"{d['scenario']} − {d['baseline']} (paired)" for d in diffs)]]
    for name in OUTCOMES:
        row = [name]
        for s in scenarios:
            o = s["outcomes"][name]
            row.append(f"{_pct(o['probability']):>6} [{_pct(o['ci95'][0])}, "
                       f"{_pct(o['ci95'][1])}]")
        for d in diffs:
            x = d["outcomes"][name]
            row.append(f"{_pts(x['difference']):>6} pts [{_pts(x['ci95'][0])}, "
                       f"{_pts(x['ci95'][1])}]")
        rows.append(row)
    half = ["half ended"]
    for s in scenarios:
        p50 = s["resolved_by_day"]["p50"]
        half.append("beyond the horizon" if p50 is None else f"  by day {p50:.0f} from start")
    rows.append(half + [""] * len(diffs))
    widths = [max(len(r[i]) for r in rows) + 3 for i in range(len(rows[0]))]
    lines.append("")
    lines += ["  " + "".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    lines += ["", "  differences in percentage points, paired by replication; 95% intervals: "
                  "Wilson for each probability, Newcombe's paired score for differences"]
    for d in diffs:
        widths_paired = [x["ci95"][1] - x["ci95"][0] for x in d["outcomes"].values()]
        widths_indep = [x["ci95_if_independent"][1] - x["ci95_if_independent"][0]
                        for x in d["outcomes"].values()]
        gain = (float(np.mean(widths_indep) / np.mean(widths_paired))
                if np.mean(widths_paired) > 0 else math.inf)
        lines.append(f"  {d['scenario']} vs {d['baseline']}: the same outcome in "
                     f"{_pct(d['same_outcome_share'])} of replications; intervals "
                     f"{gain:.1f}× narrower than independent runs would give")
    lines += ["", f"  wrote {out}/: summary.json" + "".join(f", {f}" for f in data["files"])]
    return printable_lines(lines)
