"""``run.py backtest PATH ...``: score the case library's forecasts against the record."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.commands import options
from sim.commands.options import add_run_options, program

DEFAULT_RUNS = 2_000
DEFAULT_OUT = Path("results/backtest")


def parser() -> argparse.ArgumentParser:
    p = options.Parser(
        prog=f"{program()} backtest",
        description="Run every case file (a scenario with an actual: block) and score the "
                    "forecasts against what happened, beside a leave-one-out base rate.",
        epilog="Example: python run.py backtest scenarios/cases/ --runs 5000")
    p.add_argument("paths", type=options.input_path, nargs="+", metavar="PATH",
                   help="case files or folders (searched for *.yaml)")
    add_run_options(p, runs=DEFAULT_RUNS,
                    runs_help=f"replications per case (default {DEFAULT_RUNS:,})",
                    out=DEFAULT_OUT, out_help=f"output folder (default {DEFAULT_OUT}/)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from sim import api
    from sim.outputs.text.backtest import format_table

    log = None if args.quiet else sys.stderr
    found = api.backtest(args.paths, args.runs, args.seed, workers=args.workers, log=log,
                         out=args.out, force=args.force, figures=not args.no_figures,
                         command=["run.py", "backtest", *argv])
    if not args.quiet:
        written = ["backtest.csv", "backtest_by_kind.csv"]
        if not args.no_figures:
            written += ["reliability.png", "forecasts.png", "by_kind.png"]
        print(format_table(found.scored, args.runs, args.seed))
        print(f"\n  wrote {args.out}/: summary.json, {', '.join(written)}")
    return 0
