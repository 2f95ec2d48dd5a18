"""The options every command that runs replications shares, each checked as it is parsed."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sim.limits import MAX_RUNS, MAX_WORKERS

DEFAULT_RUNS = 10_000
DEFAULT_SEED = 20200914


def program() -> str:
    """The name this program was started by, for usage lines: ``run.py``, ``dealsim`` or
    ``python -m sim``."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "run.py"
    return "python -m sim" if name == "__main__.py" else name if name == "dealsim" else "run.py"


def bounded(kind: type[int] | type[float], low: float, high: float,
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


count = bounded(int, 1, MAX_RUNS, f"between 1 and {MAX_RUNS:,}")
seed = bounded(int, 0, 2**63 - 1, "between 0 and 2**63 - 1")
half_width = bounded(float, 0.0005, 0.25, "between 0.0005 and 0.25")
workers = bounded(int, 1, MAX_WORKERS, f"between 1 and {MAX_WORKERS}")
replication = bounded(int, 0, math.inf, "0 or more (replications count from 0)")


def add_run_options(p: argparse.ArgumentParser, runs: int | None, runs_help: str,
                    out_help: str, out: Path | None = None) -> None:
    """--runs, --seed, --workers, --out, --force, --no-figures, --quiet."""
    p.add_argument("--runs", type=count, default=runs, help=runs_help)
    p.add_argument("--seed", type=seed, default=DEFAULT_SEED,
                   help=f"random seed: same seed, same results (default {DEFAULT_SEED})")
    p.add_argument("--workers", type=workers, default=None,
                   help="processes (default: all cores); results do not depend on it")
    p.add_argument("--out", type=Path, default=out, help=out_help)
    p.add_argument("--force", action="store_true",
                   help="write into an --out folder that is not dealsim's and not empty "
                        "(files named like dealsim's outputs are replaced, nothing else "
                        "is touched)")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help="no summary or progress bar")


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    """--scheduler and --dask-local: where the replications run."""
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="run on an existing dask.distributed cluster")
    p.add_argument("--dask-local", type=workers, default=None, metavar="N",
                   help="start a local Dask cluster of N worker processes and run on it")
