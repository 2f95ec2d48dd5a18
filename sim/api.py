"""dealsim from Python: load a scenario, run it, sweep it, compare, backtest.

Every function takes what it can be handed — a scenario as a ``Scenario``, a path, YAML
text or a dict — and nothing needs a file on disk that it could be given instead. Results
are typed objects: a ``Run`` (``to_pandas()``, ``to_parquet()``), its ``RunSummary``, a
``Comparison``, a ``Backtest``. Writing a results folder is a separate, optional step
(``save``, or ``out=`` where a run should be resumable).

    >>> import sim
    >>> run = sim.run(sim.load("scenarios/oracle.yaml"), runs=2000, seed=7)
    >>> sim.summarise(run).outcomes["sale"].probability
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from sim import folders
from sim.analysis.backtest import DEFAULT_RUNS as BACKTEST_RUNS
from sim.analysis.backtest import Backtest, find_cases, load_cases, run_cases
from sim.analysis.compare import Comparison, compare_runs
from sim.analysis.summary import RunSummary, summarise
from sim.analysis.sweep import Sweep, SweepResult, load_sweep, run_and_analyse, sweep_from_dict
from sim.errors import ScenarioError
from sim.outputs.backtest_folder import write_backtest
from sim.outputs.compare_folder import write_comparison
from sim.outputs.narration import traces
from sim.outputs.run_folder import write_outputs
from sim.outputs.sweep_folder import write_sweep
from sim.running.blockstore import BlockStore
from sim.running.montecarlo import simulate
from sim.running.results import Run
from sim.running.runner import default_workers, keeping_partial
from sim.scenario import overrides
from sim.scenario.loading import load_scenario, parse_scenario, scenario_from_dict
from sim.scenario.schema import Scenario

DEFAULT_RUNS = 10_000
DEFAULT_SEED = 20200914
ScenarioLike = Scenario | str | Path | Mapping[str, Any]

__all__ = ["DEFAULT_RUNS", "DEFAULT_SEED", "Backtest", "Comparison", "Run", "RunSummary",
           "Scenario", "ScenarioError", "Sweep", "SweepResult", "backtest", "compare", "load",
           "run", "save", "summarise", "sweep", "tell", "vary", "written"]


def load(source: ScenarioLike) -> Scenario:
    """A validated scenario from a path, YAML text (anything with a line break), a dict or
    a ``Scenario``; a bad one raises ``ScenarioError`` with its one-line message."""
    if isinstance(source, Scenario):
        return source
    if isinstance(source, Mapping):
        return scenario_from_dict(dict(source))
    if isinstance(source, str) and "\n" in source:
        return parse_scenario(source)
    return load_scenario(Path(source))


def vary(scenario: ScenarioLike, values: Mapping[str, float]) -> Scenario:
    """A variant of a scenario: each dotted key path (as in a sweep file, e.g.
    ``committee.clear_threshold`` or ``instruments.eo13942_ban.date``) set to its value,
    a date shifted by that many days; validated like a file."""
    return overrides.apply(load(scenario), dict(values), "vary")


def _path_of(scenario: Scenario) -> Path:
    """The file a scenario was read from, or a name for one that has none (the label
    that figures and tables show)."""
    return Path(scenario.source.path or f"{scenario.name}.yaml")


def run(scenario: ScenarioLike, runs: int = DEFAULT_RUNS, seed: int = DEFAULT_SEED, *,
        workers: int | None = None, precision: float | None = None, progress: bool = False,
        executor: Executor | None = None, out: Path | str | None = None,
        resume: bool = False, fresh: bool = False, force: bool = False,
        figures: bool = True, command: list[str] | None = None) -> Run:
    """Run ``runs`` replications (with ``precision``: add blocks of 1,000 until every
    outcome's 95% interval is within ±precision, ``runs`` being the cap).

    With ``out``, finished blocks are kept in ``out/.blocks`` as they finish, so an
    interrupted run leaves ``out/partial.json`` and ``resume=True`` finishes it exactly as
    an uninterrupted run would (``fresh=True`` discards them instead; with neither, saved
    blocks are an error, never silently lost); when it ends, the folder's outputs are
    published as one set (``save``). ``out`` must be dealsim's folder, new or empty
    (``force=True`` writes into another). Same scenario and seed, same results, whatever
    ``workers`` or ``executor``.
    """
    scenario = load(scenario)
    workers = workers or default_workers()
    if out is None:
        results = simulate(scenario, runs, seed, workers, progress=progress,
                           precision=precision, executor=executor)
        return Run(scenario, _path_of(scenario), results, seed, workers)
    out = Path(out)
    folders.claim(out, "run", force=force)
    store = BlockStore(folders.work_folder(out, ".blocks"), scenario, seed)
    saved = store.count_all()
    if saved and not (resume or fresh):
        raise ScenarioError(f"--out {out} holds {saved:,} finished blocks of an interrupted "
                            "run: add --resume to finish it, or --fresh to discard them")
    if fresh:
        store.clear()
    elif resume and progress and saved > store.count():
        print(f"note: {saved - store.count():,} saved blocks in {out} were made by another "
              "scenario, seed or dealsim version and are not reused", file=sys.stderr)

    def kept() -> dict[str, Any]:
        return {"blocks_saved": store.count(), "runs_requested": runs, "seed": seed,
                "scenario": scenario.source.path, "command": command,
                "resume": "run the same command with --resume to finish it"}

    with keeping_partial(out, kept, lambda: f"{store.count()} finished blocks of "
                         f"replications kept in {store.folder}; rerun with --resume to finish"):
        try:
            results = simulate(scenario, runs, seed, workers, progress=progress,
                               precision=precision, store=store, executor=executor)
        except OSError as exc:  # a block could not be saved: a full disk, the folder gone
            raise folders.cannot_write(out, exc) from None
        finished = Run(scenario, _path_of(scenario), results, seed, workers)
        with folders.staged(out, "run") as stage:
            write_outputs(finished, stage, figures=figures, command=command)
    return finished


def save(run: Run, out: Path | str, figures: bool = True, command: list[str] | None = None,
         force: bool = False) -> dict[str, Any]:
    """Write a run's folder: ``replications.csv``, the figures, ``report.html`` and
    ``summary.json`` (returned as a dict), published as one set: a reader sees the earlier
    set or this one, never a mix."""
    out = Path(out)
    folders.claim(out, "run", force=force)
    with folders.staged(out, "run", discard=()) as stage:
        return write_outputs(run, stage, figures=figures, command=command)


def tell(run: Run, replication: int | None = None, examples: bool = False) -> str:
    """Replication ``replication`` told as a dated story (and, with ``examples``, the first
    replication of each outcome), re-run alone from its keyed streams."""
    return traces(run, examples=examples, replication=replication)


def sweep(scenario: ScenarioLike, design: Sweep | Path | str | Mapping[str, Any], *,
          runs: int | None = None, seed: int | None = None, workers: int | None = None,
          progress: bool = False, executor: Executor | None = None,
          out: Path | str | None = None, force: bool = False, figures: bool = True,
          command: list[str] | None = None) -> SweepResult:
    """A parameter sweep of ``scenario``: ``design`` is a sweep file, a ``Sweep`` or a dict
    as a sweep file would hold (``runs`` and ``seed`` override its own). Every point runs
    on the same seed (common random numbers). With ``out``, each point is saved in
    ``out/points/`` as it finishes (a rerun reuses them) and the folder's set is published
    whole; without, the points are kept in a temporary folder for the call."""
    base = load(scenario)
    plan = (load_sweep(Path(design)) if isinstance(design, str | Path)
            else design if isinstance(design, Sweep) else sweep_from_dict(dict(design)))
    plan = plan.model_copy(update={k: v for k, v in (("runs", runs), ("seed", seed))
                                   if v is not None})
    workers = workers or default_workers()
    if out is not None:
        folders.claim(Path(out), "sweep", force=force)
        folders.work_folder(Path(out), "points")
    with tempfile.TemporaryDirectory(prefix="dealsim-sweep-") as scratch:
        folder = Path(out) if out is not None else Path(scratch)
        run_, analysis = run_and_analyse(plan, base, _path_of(base), folder, workers,
                                         progress=progress, executor=executor)
        if out is not None:
            with folders.staged(folder, "sweep", discard=("partial.json",)) as stage:
                write_sweep(run_, analysis, stage, figures=figures, command=command)
    return SweepResult(run_, analysis)


def compare(scenarios: Sequence[ScenarioLike], runs: int = DEFAULT_RUNS,
            seed: int = DEFAULT_SEED, *, workers: int | None = None, progress: bool = False,
            executor: Executor | None = None, out: Path | str | None = None,
            force: bool = False, figures: bool = True,
            command: list[str] | None = None) -> Comparison:
    """Two or more scenarios run with the same seed (common random numbers), each
    outcome's probability side by side with its paired difference from the first."""
    loaded = [load(s) for s in scenarios]  # every scenario checked before any run
    if len(loaded) < 2:
        raise ScenarioError("compare needs at least two scenarios")
    workers = workers or default_workers()
    if out is not None:
        folders.claim(Path(out), "compare", force=force)
    runs_ = [Run(s, _path_of(s), simulate(s, runs, seed, workers, progress=progress,
                                          executor=executor), seed, workers)
             for s in loaded]
    found = compare_runs(runs_)
    if out is not None:
        with folders.staged(Path(out), "compare", discard=()) as stage:
            write_comparison(found, stage, figures=figures, command=command)
    return found


def backtest(paths: Sequence[Path | str], runs: int = BACKTEST_RUNS, seed: int = DEFAULT_SEED,
             *, workers: int | None = None, log: Any = None, out: Path | str | None = None,
             force: bool = False, figures: bool = True,
             command: list[str] | None = None) -> Backtest:
    """Run every case file under ``paths`` (a scenario with an ``actual:`` block) and score
    its forecast against the record, beside leave-one-out base rates; ``log`` (a file,
    e.g. ``sys.stderr``) hears of each case as it finishes."""
    files, skipped = find_cases([Path(p) for p in paths])
    if not files:
        raise ScenarioError("no case files (scenarios with an actual: block) in "
                            + ", ".join(map(str, paths)))
    cases = load_cases(files)  # every file checked before any run starts
    workers = workers or default_workers()
    if out is not None:
        folders.claim(Path(out), "backtest", force=force)
    if log is not None and skipped:
        print(f"  not cases (no actual: block): {', '.join(p.name for p in skipped)}", file=log)
    found = Backtest(run_cases(cases, runs, seed, workers, log), runs, seed, workers,
                     skipped)
    if out is not None:
        with folders.staged(Path(out), "backtest", discard=()) as stage:
            write_backtest(found.scored, runs, seed, workers, stage, figures=figures,
                           command=command)
    return found


def written(out: Path | str, record: str = "summary.json") -> list[str]:
    """The files a finished command wrote to its folder, as its record (``summary.json``,
    a sweep's ``sweep.json``) lists them."""
    return list(json.loads((Path(out) / record).read_text(encoding="utf-8"))["files"])
