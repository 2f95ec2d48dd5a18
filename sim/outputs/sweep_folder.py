"""A sweep's folder: ``points.csv``, the figures and, last, ``sweep.json`` (the sweep, its
analysis and provenance); the points themselves are saved under ``points/`` as they end."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sim.analysis.designs.common import SweepAnalysis
from sim.analysis.sweep import SweepRun, table_text
from sim.files import atomic_write_json, atomic_write_text
from sim.outputs.safe import csv_cell
from sim.provenance import git_commit, scenario_record, versions


def save_table(run: SweepRun, out: Path) -> None:
    """``points.csv``, written as soon as the points are done (before the discovery run,
    so a stop there keeps the table); a key path holds a bidder's name, so any cell a
    spreadsheet would run as a formula is neutralised."""
    atomic_write_text(out / "points.csv", _neutralised(table_text(run)))


def _neutralised(table: str) -> str:
    """A CSV text with every formula-like text cell prefixed ``'`` (numbers untouched)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([csv_cell(c) for c in row] for row in csv.reader(io.StringIO(table)))
    return buffer.getvalue()


def write_sweep(run: SweepRun, analysis: SweepAnalysis, out: Path, figures: bool = True,
                command: list[str] | None = None) -> dict[str, Any]:
    """The figures and, last, ``sweep.json``; return what it holds."""
    save_table(run, out)
    files = ["points.csv"]
    if figures:
        from sim.outputs.figures import sweep as sweep_figures  # matplotlib when wanted

        files += [p.name for p in sweep_figures.draw_all(run, analysis, out)]
    sweep, base = run.sweep, run.base
    data = {
        "sweep": sweep.model_dump(),
        "scenario": {"name": base.name, **scenario_record(base)},
        "seed": sweep.seed, "runs_per_point": sweep.runs,
        "points": len(run.rows), "reused_points": run.reused,
        "analysis": analysis.to_dict(), "files": files,
        "command": command, "versions": versions(), "git_commit": git_commit(),
    }
    atomic_write_json(out / "sweep.json", data)
    return data
