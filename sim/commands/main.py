"""Command line: argument parsing and error reporting only; the work is elsewhere.

``run.py SCENARIO [options]`` runs a scenario; ``run.py COMMAND ...`` runs one of
``COMMANDS``, each a module's ``main(argv) -> int``. Heavy libraries (scipy, matplotlib)
are imported after the arguments are parsed, so ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError, Terminated
from sim.limits import MAX_RUNS, MAX_WORKERS
from sim.running.cluster import dask_executor

DEFAULT_RUNS = 10_000
DEFAULT_SEED = 20200914


if TYPE_CHECKING:
    from sim.scenario.schema import Scenario


def _bounded(kind: type[int] | type[float], low: float, high: float,
             allowed: str) -> Callable[[str], Any]:
    """An argparse type: a number of ``kind`` in [low, high], else one clear message."""

    def parse(text: str) -> Any:
        try:
            value = kind(text.replace("_", "").replace(",", ""))
        except ValueError:
            word = "whole number" if kind is int else "number"
            raise argparse.ArgumentTypeError(f"not a {word}: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {allowed}")
        return value

    return parse


_count = _bounded(int, 1, MAX_RUNS, f"between 1 and {MAX_RUNS:,}")
_seed = _bounded(int, 0, 2**63 - 1, "between 0 and 2**63 - 1")
_half_width = _bounded(float, 0.0005, 0.25, "between 0.0005 and 0.25")
_workers = _bounded(int, 1, MAX_WORKERS, f"between 1 and {MAX_WORKERS}")
_replication = _bounded(int, 0, math.inf, "0 or more (replications count from 0)")


def add_run_options(p: argparse.ArgumentParser, runs: int | None, runs_help: str,
                    out_help: str, out: Path | None = None) -> None:
    """The options every command that runs replications shares."""
    p.add_argument("--runs", type=_count, default=runs, help=runs_help)
    p.add_argument("--seed", type=_seed, default=DEFAULT_SEED,
                   help=f"random seed: same seed, same results (default {DEFAULT_SEED})")
    p.add_argument("--workers", type=_workers, default=None,
                   help="processes (default: all cores); results do not depend on it")
    p.add_argument("--out", type=Path, default=out, help=out_help)
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="no summary or progress bar")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run.py",
        description="Simulate how a forced sale ends — sale, shutdown, abandoned or "
                    "unresolved — and when, to whom, at what price.",
        epilog="Example: python run.py scenarios/oracle.yaml --runs 20000 --seed 7")
    p.add_argument("scenario", type=Path, help="scenario file (YAML), e.g. scenarios/oracle.yaml")
    add_run_options(p, runs=None, runs_help=f"replications (default {DEFAULT_RUNS:,}; in a "
                    "sweep, per point: the sweep file's runs)",
                    out_help="output folder (default: results/<scenario file stem>/)")
    p.add_argument("--trace", action="store_true",
                   help="then tell one replication of each outcome as a dated story")
    p.add_argument("--trace-run", type=_replication, default=None, metavar="K",
                   help="then tell replication K (0-based, the row of replications.csv)")
    p.add_argument("--precision", type=_half_width, default=None, metavar="H",
                   help="add runs until every outcome's 95%% interval is within ±H "
                        "(e.g. 0.005), up to --max-runs")
    p.add_argument("--max-runs", type=_count, default=1_000_000,
                   help="cap on runs with --precision (default 1,000,000)")
    p.add_argument("--resume", action="store_true",
                   help="reuse the finished blocks of an interrupted run in the same --out")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run on an existing dask.distributed cluster")
    p.add_argument("--dask-local", type=_workers, default=None, metavar="N",
                   help="start a local Dask cluster of N worker processes and run on it")
    p.add_argument("--sweep", type=Path, default=None, metavar="SWEEP.yaml",
                   help="run a parameter sweep over the scenario (see scenarios/sweeps/)")
    p.add_argument("--vary", action="append", default=None, metavar="PATH=LOW:HIGH:N",
                   help="quick grid sweep of one number (twice for a 2-D grid), e.g. "
                        "committee.clear_threshold=0.5:0.9:5")
    return p


COMMANDS: dict[str, str] = {  # name -> "module:function"
    "compare": "sim.analysis.compare:main",
    "backtest": "sim.analysis.backtest:main",
    "replay": "sim.commands.replay:main",
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        module, function = COMMANDS[argv[0]].split(":")
        command: Callable[[list[str]], int] = getattr(import_module(module), function)
        return guarded(command, argv[1:])
    return guarded(run_scenario, argv)


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def guarded(command: Callable[[list[str]], int], argv: list[str]) -> int:
    """Turn a bad scenario into one line and exit code 2, and Ctrl-C or SIGTERM into an
    orderly stop (finished work saved by the command's own clean-up) with exit code 130
    or 143, as a shell reports a process ended by those signals."""
    main_thread = threading.current_thread() is threading.main_thread()  # signal.signal's rule
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return command(argv)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        print("terminated" if terminated else "interrupted", file=sys.stderr)
        return 143 if terminated else 130
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def run_scenario(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from sim.running.montecarlo import default_workers
    from sim.scenario.loading import load_scenario

    scenario = load_scenario(args.scenario)
    workers = args.workers or default_workers()
    with dask_executor(args.scheduler, args.dask_local) as executor:
        return _run(args, argv, scenario, workers, executor)


def _run(args: argparse.Namespace, argv: list[str], scenario: Scenario, workers: int,
         executor: Executor | None) -> int:
    from sim.files import atomic_write_json
    from sim.outputs.run_folder import print_summary, write_outputs
    from sim.running.blockstore import BlockStore
    from sim.running.montecarlo import simulate
    from sim.running.results import Run

    if args.sweep or args.vary:
        return sweep_scenario(args, scenario, workers, argv, executor)
    out = args.out or Path("results") / args.scenario.stem
    runs = args.runs or DEFAULT_RUNS
    if args.precision is not None:
        runs = args.max_runs
    if args.trace_run is not None and args.trace_run >= runs:
        parser().error(f"--trace-run: replication {args.trace_run} is not among the "
                       f"{runs:,} runs (0 to {runs - 1:,})")
    store = BlockStore(out / ".blocks", scenario, args.seed)
    if not args.resume:
        store.clear()
    command = ["run.py", *argv]
    try:  # until every output is written, an interrupted run keeps its blocks for --resume
        results = simulate(scenario, runs, args.seed, workers, progress=not args.quiet,
                           precision=args.precision, store=store, executor=executor)
        run = Run(scenario, args.scenario, results, args.seed, workers)
        data = write_outputs(run, out, figures=not args.no_figures, command=command)
    except KeyboardInterrupt:
        atomic_write_json(out / "partial.json", {
            "partial": True, "blocks_saved": store.count(), "runs_requested": runs,
            "seed": args.seed, "scenario": str(args.scenario), "command": ["run.py", *argv],
            "resume": "run the same command with --resume to finish it"})
        print(f"interrupted: {store.count()} finished blocks of replications kept in "
              f"{store.folder}; rerun with --resume to finish", file=sys.stderr)
        raise
    store.clear()
    (out / "partial.json").unlink(missing_ok=True)
    if not args.quiet:
        print_summary(run, data, out)
    if args.trace or args.trace_run is not None:
        from sim.outputs.narration import traces

        print(traces(run, examples=args.trace, replication=args.trace_run))
    return 0


def sweep_scenario(args: argparse.Namespace, scenario: Scenario, workers: int,
                   argv: list[str], executor: Executor | None = None) -> int:
    from sim.analysis.sweep import Sweep, load_sweep, parse_vary, run_sweep
    from sim.errors import ScenarioError

    if args.sweep and args.vary:
        raise ScenarioError("use either --sweep or --vary, not both")
    sweep: Sweep = load_sweep(args.sweep) if args.sweep else parse_vary(args.vary, args.runs,
                                                                         args.seed)
    if args.sweep:
        changes = {k: v for k, v in (("runs", args.runs),
                                     ("seed", args.seed if "--seed" in argv else None))
                   if v is not None}
        sweep = sweep.model_copy(update=changes)
        named = sweep.scenario and (args.sweep.parent / sweep.scenario).resolve()
        if named and named != args.scenario.resolve():
            print(f"note: {args.sweep} was written for {sweep.scenario}; "
                  f"running it on {args.scenario}", file=sys.stderr)
    out = args.out or Path("results") / args.scenario.stem / sweep.name
    run_sweep(sweep, scenario, args.scenario, out, workers, figures=not args.no_figures,
              quiet=args.quiet, command=["run.py", *argv], executor=executor)
    return 0
