"""Peak memory per replication of a whole run (simulate, summarise, replications.csv, the
figures, report.html), as the command line does it: what ``MAX_RUNS`` in sim/limits.py
is sized by.

    .venv/bin/python benchmarks/memory.py [SCENARIO] [--runs 100000 200000] [--figures]
                                          [--root DIR]

Each size runs in a fresh process (``run.py SCENARIO --runs N --workers 1 --quiet``, the
main process being the one that holds every replication), which prints its own peak
resident set size on exit. The growth from the smaller run to the larger, divided by the
extra replications, is the memory each replication costs; the fixed cost (Python, numpy,
scipy, matplotlib) cancels out. ``--root`` measures another checkout (e.g. an older
commit unpacked with ``git archive``) with this same script.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_BYTES = 8 * 1024**3  # the peak a run of MAX_RUNS replications should fit in

CHILD = """\
import resource, sys
sys.path.insert(0, sys.argv[1])
from sim.commands.main import main
code = main(sys.argv[2:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(peak * (1 if sys.platform == "darwin" else 1024))  # bytes (Linux gives KiB)
sys.exit(code)
"""


def peak_bytes(root: Path, scenario: Path, runs: int, figures: bool) -> int:
    """Peak RSS of one run of ``runs`` replications, in a process of its own."""
    with tempfile.TemporaryDirectory(prefix="dealsim-memory-") as out:
        command = [sys.executable, "-c", CHILD, str(root), str(scenario), "--runs", str(runs),
                   "--workers", "1", "--quiet", "--out", str(Path(out) / "run")]
        if not figures:
            command.append("--no-figures")
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"run of {runs:,} failed:\n{done.stderr}")
        return int(done.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", nargs="?", type=Path,
                        default=ROOT / "scenarios" / "example.yaml")
    parser.add_argument("--runs", type=int, nargs=2, default=[100_000, 200_000],
                        metavar=("SMALL", "LARGE"))
    parser.add_argument("--figures", action="store_true", help="draw the figures too")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args()
    small, large = sorted(args.runs)
    peaks = {n: peak_bytes(args.root.resolve(), args.scenario.resolve(), n, args.figures)
             for n in (small, large)}
    per_run = (peaks[large] - peaks[small]) / (large - small)
    fixed = peaks[small] - per_run * small
    print(f"{args.scenario.name}{' with figures' if args.figures else ''} ({args.root}):")
    for n, peak in peaks.items():
        print(f"  {n:>11,} replications: peak RSS {peak / 1024**2:8.1f} MiB")
    print(f"  per replication: {per_run:,.0f} bytes; fixed: {fixed / 1024**2:,.0f} MiB")
    if per_run > 0:
        fits = (BUDGET_BYTES - fixed) / per_run
        print(f"  replications that fit in {BUDGET_BYTES / 1024**3:g} GiB: {fits:,.0f}")


if __name__ == "__main__":
    main()
