"""A run's folder: ``summary.json``, the per-replication table, the figures, the page.

Everything a figure or a number needs to be traced back is recorded beside it: the
scenario (name, path, sha256, text), seed, runs, command line, package versions, git
commit. Every file is written atomically, ``summary.json`` last, listing the others.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sim.analysis.summary import RunSummary, summarise
from sim.files import atomic_write_json
from sim.outputs.report_page import write_report
from sim.outputs.tables import write_replications
from sim.provenance import git_commit, scenario_record, versions
from sim.running.results import Run

SUMMARY_FORMAT = 2  # 2: model v2's four outcomes, unresolved states, dark days, suits


def record(run: Run, summary: RunSummary, command: list[str] | None = None) -> dict[str, Any]:
    """``summary.json``: the run's numbers and what made them."""
    s = run.scenario
    return {
        "format": SUMMARY_FORMAT,
        "scenario": {"name": s.name, "start": s.start.isoformat(),
                     "horizon_days": s.horizon_days, "horizon_date": summary.horizon_date,
                     **scenario_record(s)},  # path, sha256, content, resolved
        "runs": summary.runs,
        "seed": run.seed,
        "workers": run.workers,
        "command": command,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **summary.numbers(),
        "due_dates": [{"key": d.key, "label": d.label, "date": d.date.isoformat(),
                       "day": d.day, "kind": d.kind, "dark": d.dark} for d in s.due_dates],
        "versions": versions(),
        "git_commit": git_commit(),
    }


def write_outputs(run: Run, out: Path, figures: bool = True,
                  command: list[str] | None = None,
                  summary: RunSummary | None = None) -> dict[str, Any]:
    """Write the table, the figures, the page and, last, ``summary.json`` listing them all;
    return what ``summary.json`` holds."""
    out.mkdir(parents=True, exist_ok=True)
    summary = summary or summarise(run)
    data = record(run, summary, command)
    write_replications(run, out / "replications.csv")
    written = ["replications.csv"]
    if figures:
        from sim.outputs.figures import run as run_figures  # matplotlib only when wanted

        written += [p.name for p in run_figures.draw_all(run, summary, out)]
    written.append(write_report(run, summary, out, data, written).name)
    data["files"] = written
    atomic_write_json(out / "summary.json", data)
    return data
