"""``run.py compare A.yaml B.yaml ...``: scenarios side by side, common random numbers."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.commands import options
from sim.commands.options import DEFAULT_RUNS, add_run_options, program


def parser() -> argparse.ArgumentParser:
    p = options.Parser(
        prog=f"{program()} compare",
        description="Run scenarios with the same seed (common random numbers) and compare "
                    "their outcomes side by side, with paired differences from the first.",
        epilog="Example: python run.py compare scenarios/oracle.yaml scenarios/microsoft.yaml")
    p.add_argument("scenarios", type=options.input_path, nargs="+", metavar="SCENARIO",
                   help="two or more scenario files; the first is the baseline")
    add_run_options(p, runs=DEFAULT_RUNS,
                    runs_help=f"replications per scenario (default {DEFAULT_RUNS:,})",
                    out_help="output folder (default: results/compare/<stem>-vs-<stem>/)")
    return p


def main(argv: list[str]) -> int:
    p = parser()
    args = p.parse_args(argv)
    if len(args.scenarios) < 2:
        p.error("compare needs at least two scenario files")
    from sim import api
    from sim.analysis.compare import labels
    from sim.outputs.text.compare import format_comparison

    loaded = [api.load(path) for path in args.scenarios]  # every file checked first
    out = args.out or Path("results") / "compare" / "-vs-".join(labels(args.scenarios))
    found = api.compare(loaded, args.runs, args.seed, workers=args.workers,
                        progress=not args.quiet, out=out, force=args.force,
                        figures=not args.no_figures,
                        command=["run.py", "compare", *argv])
    if not args.quiet:
        files = ["outcomes.png", "time_to_resolution.png"] if not args.no_figures else []
        print(format_comparison({"runs": args.runs, "seed": args.seed, "files": files,
                                 **found.to_dict()}, out))
    return 0
