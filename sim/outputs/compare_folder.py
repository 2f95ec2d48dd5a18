"""A comparison's folder: ``summary.json`` (probabilities, paired differences, which
outcome each replication had in each scenario) and the figures."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sim.analysis.compare import INTERVAL_METHOD, SUMMARY_FORMAT, Comparison
from sim.files import atomic_write_json
from sim.provenance import git_commit, versions


def write_comparison(found: Comparison, out: Path, figures: bool = True,
                     command: list[str] | None = None) -> dict[str, Any]:
    """Write the figures and, last, ``summary.json``; return what it holds."""
    first = found.runs[0]
    data = {"format": SUMMARY_FORMAT, "kind": "compare", "runs": len(first.results),
            "seed": first.seed, "workers": first.workers, "command": command,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "common_random_numbers": True, "interval_method": INTERVAL_METHOD,
            **found.to_dict()}
    out.mkdir(parents=True, exist_ok=True)
    files = []
    if figures:
        from sim.outputs.figures import compare as compare_figures  # matplotlib when wanted

        files = [compare_figures.outcomes_figure(found.runs, found.labels, data,
                                                 out / "outcomes.png").name,
                 compare_figures.resolution_figure(found.runs, found.labels,
                                                   out / "time_to_resolution.png").name]
    data.update(files=files, versions=versions(), git_commit=git_commit())
    atomic_write_json(out / "summary.json", data)
    return data
