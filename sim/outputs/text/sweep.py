"""The printed summary of a sweep: its points (when few), tornado swings, Sobol' indices
and the densest scenario-discovery boxes, from a ``SweepRun`` and its ``SweepAnalysis``."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from sim.analysis.sweep import SweepAnalysis, SweepRun
from sim.model.outcome import OUTCOMES
from sim.outputs.safe import printable

MOST_ROWS = 40  # a longer table of points is for points.csv, not the terminal


def summary_lines(run: SweepRun, analysis: SweepAnalysis) -> Iterator[str]:
    """The sweep's summary for the terminal, line by line, each printable (a key path
    holds a bidder's name, which may hold a terminal escape: shown escaped)."""
    return (printable(line) for line in _lines(run, analysis))


def _lines(run: SweepRun, analysis: SweepAnalysis) -> Iterator[str]:
    sweep = run.sweep
    yield (f"sweep {sweep.name} ({sweep.design}) on {run.base.name}: {len(run.rows)} points × "
           f"{sweep.runs:,} runs, seed {sweep.seed}; {run.reused} points reused")
    # a table only where every point sets every parameter (oat's points set one each)
    if len(run.rows) <= MOST_ROWS and all(n in p for p in run.points for n in sweep.names):
        head = "  ".join(f"{n[-28:]:>28}" for n in sweep.names)
        yield f"  {head}   " + "  ".join(f"P({name})" for name in OUTCOMES)
        for row in run.rows:
            values = "  ".join(f"{row[n]:>28.4g}" for n in sweep.names)
            yield f"  {values}   " + "  ".join(f"{row[f'p_{name}']:{len(name) + 3}.1%}"
                                               for name in OUTCOMES)
    for output, swings in analysis.tornado.items():
        yield f"  tornado, {output} (base {analysis.tornado_base[output]:.1%}):"
        for w in swings:
            yield (f"    {w.name:<55} {w.at_low:6.1%} → {w.at_high:6.1%}  "
                   f"(swing {w.width:.1%})")
    for s in analysis.sobol:
        yield f"  Sobol' indices of {s.output} (first order / total, ±95% half-width):"
        for i in np.argsort(-s.total):
            yield (f"    {s.names[i]:<55} S1 {s.first[i]:5.2f} ±{s.first_conf[i]:.2f}   "
                   f"ST {s.total[i]:5.2f} ±{s.total_conf[i]:.2f}")
    for outcome, boxes in analysis.discovery.items():
        for b in boxes[:2]:
            yield (f"  {outcome} is likeliest when {b.rule}: density {b.density:.0%} "
                   f"(base {b.base_rate:.0%}), coverage {b.coverage:.0%}")
    if analysis.discovery_missing is not None:
        yield f"  scenario discovery skipped: {analysis.discovery_missing}"
