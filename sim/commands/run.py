"""``run.py SCENARIO [options]``: run a scenario (or sweep it) and print its summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sim.commands import options
from sim.commands.options import DEFAULT_RUNS, add_cluster_options, add_run_options, program
from sim.errors import ScenarioError

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from sim.scenario.schema import Scenario

COMMANDS_HELP = """commands:
  SCENARIO.yaml [options]     run a scenario (this help)
  compare A.yaml B.yaml ...   scenarios side by side, common random numbers
  backtest PATH ...           score the case library's forecasts against the record
  replay SUMMARY.json         run a finished run again and check every number
each command has its own --help, e.g. "%(prog)s compare --help"."""


def parser(seed: int | None = options.DEFAULT_SEED) -> argparse.ArgumentParser:
    """The command's arguments; ``seed=None`` leaves ``--seed`` None when it is not given
    (a sweep then keeps its file's seed)."""
    p = options.Parser(
        prog=program(), formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate how a forced sale ends — sale, shutdown, abandoned or "
                    "unresolved —\nand when, to whom, at what price.\n\n" + COMMANDS_HELP,
        epilog="Example: python run.py scenarios/oracle.yaml --runs 20000 --seed 7")
    p.add_argument("scenario", type=options.input_path,
                   help="scenario file (YAML), e.g. scenarios/oracle.yaml")
    add_run_options(p, runs=None, runs_help=f"replications (default {DEFAULT_RUNS:,}; in a "
                    "sweep, per point: the sweep file's runs)",
                    out_help="output folder (default: results/<scenario file stem>/)")
    p.set_defaults(seed=seed)
    p.add_argument("--trace", action="store_true",
                   help="then tell one replication of each outcome as a dated story")
    p.add_argument("--trace-run", type=options.replication, default=None, metavar="K",
                   help="then tell replication K (0-based, the row of replications.csv)")
    p.add_argument("--precision", type=options.half_width, default=None, metavar="H",
                   help="add runs until every outcome's 95%% interval is within ±H "
                        "(e.g. 0.005), up to --max-runs")
    p.add_argument("--max-runs", type=options.count, default=1_000_000,
                   help="cap on runs with --precision (default 1,000,000)")
    p.add_argument("--resume", action="store_true",
                   help="reuse the finished blocks of an interrupted run in the same --out")
    p.add_argument("--fresh", action="store_true",
                   help="discard the finished blocks of an interrupted run and start again")
    add_cluster_options(p)
    p.add_argument("--sweep", type=options.input_path, default=None, metavar="SWEEP.yaml",
                   help="run a parameter sweep over the scenario (see scenarios/sweeps/)")
    p.add_argument("--vary", action="append", default=None, metavar="PATH=LOW:HIGH:N",
                   help="quick grid sweep of one number (twice for a 2-D grid), e.g. "
                        "committee.clear_threshold=0.5:0.9:5")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from sim import api
    from sim.running.cluster import dask_executor
    from sim.running.runner import default_workers

    scenario = api.load(args.scenario)
    workers = args.workers or default_workers()
    with dask_executor(args.scheduler, args.dask_local) as executor:
        if args.sweep or args.vary:
            return sweep_scenario(args, scenario, workers, argv, executor)
        return run_scenario(args, argv, scenario, workers, executor)


def run_scenario(args: argparse.Namespace, argv: list[str], scenario: Scenario, workers: int,
                 executor: Executor | None) -> int:
    from sim import api
    from sim.outputs.text.run import format_summary

    out = args.out or Path("results") / args.scenario.stem
    runs = args.max_runs if args.precision is not None else args.runs or DEFAULT_RUNS
    if args.trace_run is not None and args.trace_run >= runs:
        parser().error(f"--trace-run: replication {args.trace_run} is not among the "
                       f"{runs:,} runs (0 to {runs - 1:,})")
    run = api.run(scenario, runs, args.seed, workers=workers, precision=args.precision,
                  progress=not args.quiet, executor=executor, out=out, resume=args.resume,
                  fresh=args.fresh, force=args.force, figures=not args.no_figures,
                  command=["run.py", *argv])
    if not args.quiet:
        files = ", ".join(api.written(out))
        print(format_summary(run, api.summarise(run)))
        print(f"\n  wrote {out}/: summary.json, {files}")
    if args.trace or args.trace_run is not None:
        print(api.tell(run, replication=args.trace_run, examples=args.trace))
    return 0


def sweep_scenario(args: argparse.Namespace, scenario: Scenario, workers: int,
                   argv: list[str], executor: Executor | None = None) -> int:
    from sim import api
    from sim.analysis.sweep import Sweep, load_sweep, parse_vary
    from sim.outputs.text.sweep import summary_lines

    if args.sweep and args.vary:
        raise ScenarioError("use either --sweep or --vary, not both")
    sweep: Sweep = load_sweep(args.sweep) if args.sweep else parse_vary(args.vary, args.runs,
                                                                         args.seed)
    if args.sweep:
        # The file's seed stands unless --seed is given, however spelled (--seed 7, --seed=7,
        # --see 7): the same arguments parsed with no default for it tell.
        given_seed = parser(seed=None).parse_args(argv).seed
        changes = {k: v for k, v in (("runs", args.runs), ("seed", given_seed))
                   if v is not None}
        sweep = sweep.model_copy(update=changes)
        named = sweep.scenario and (args.sweep.parent / sweep.scenario).resolve()
        if named and named != args.scenario.resolve():
            print(f"note: {args.sweep} was written for {sweep.scenario}; "
                  f"running it on {args.scenario}", file=sys.stderr)
    out = args.out or Path("results") / args.scenario.stem / sweep.name
    found = api.sweep(scenario, sweep, workers=workers, progress=not args.quiet,
                      executor=executor, out=out, force=args.force,
                      figures=not args.no_figures,
                      command=["run.py", *argv])
    if not args.quiet:
        print("\n".join(summary_lines(found.run, found.analysis)))
        print(f"\n  wrote {out}/: sweep.json, " + ", ".join(api.written(out, "sweep.json")))
    return 0
