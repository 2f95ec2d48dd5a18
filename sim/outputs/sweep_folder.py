"""A sweep's folder: ``points.csv``, the figures and, last, ``sweep.json`` (the sweep, its
analysis and provenance); the points themselves are saved under ``points/`` as they end."""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from sim.analysis.sweep import Sweep, SweepRun, run_and_analyse, table_text
from sim.files import atomic_write_json, atomic_write_text
from sim.outputs.text.sweep import summary_lines
from sim.provenance import git_commit, scenario_record, versions
from sim.scenario.schema import Scenario


def run_sweep(sweep: Sweep, base: Scenario, base_path: Path, out: Path, workers: int,
              figures: bool = True, quiet: bool = False, command: list[str] | None = None,
              executor: Executor | None = None) -> dict[str, Any]:
    """Run a sweep into ``out`` (reusing the points already saved there), print its
    summary unless ``quiet`` and return what ``sweep.json`` holds."""

    def save_table(run: SweepRun) -> None:  # before discovery: a stop there keeps the table
        atomic_write_text(out / "points.csv", table_text(run))

    run, analysis = run_and_analyse(sweep, base, base_path, out, workers, progress=not quiet,
                                    executor=executor, on_points=save_table)
    files = ["points.csv"]
    if figures:
        from sim.outputs.figures import sweep as sweep_figures  # matplotlib when wanted

        files += [p.name for p in sweep_figures.draw_all(run, analysis, out)]
    data = {
        "sweep": sweep.model_dump(),
        "scenario": {"name": base.name, **scenario_record(base)},
        "seed": sweep.seed, "runs_per_point": sweep.runs,
        "points": len(run.rows), "reused_points": run.reused,
        "analysis": analysis.to_dict(), "files": files,
        "command": command, "versions": versions(), "git_commit": git_commit(),
    }
    atomic_write_json(out / "sweep.json", data)
    (out / "partial.json").unlink(missing_ok=True)
    if not quiet:
        print("\n".join(summary_lines(run, analysis)))
        print(f"\n  wrote {out}/: sweep.json, " + ", ".join(files))
    return data
