"""The options every command that runs replications shares, each checked as it is parsed,
and the parser every command uses: an argument error is one line, like every other error."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from sim.limits import MAX_RUNS, MAX_WORKERS
from sim.running.cluster import check_address

DEFAULT_RUNS = 10_000
DEFAULT_SEED = 20200914


def program() -> str:
    """The name this program was started by, for usage lines: ``run.py``, ``dealsim`` or
    ``python -m sim``."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "run.py"
    return "python -m sim" if name == "__main__.py" else name if name == "dealsim" else "run.py"


def printable(text: str) -> str:
    """``text`` with control characters (a newline, a terminal escape) shown escaped, as
    ``ScenarioError`` shows them: what a user typed or a file holds stays one inert line."""
    return text if text.isprintable() else "".join(
        c if c.isprintable() else repr(c)[1:-1] for c in text)


class Parser(argparse.ArgumentParser):
    """argparse's parser, but an argument error is one line and exit code 2, as a bad
    scenario is: ``error: --runs: not a whole number: 'abc' (see run.py --help)`` instead
    of the usage block, which buries the problem. ``--help`` is argparse's own."""

    def error(self, message: str) -> NoReturn:
        line = printable(message.removeprefix("argument "))
        self.exit(2, f"error: {line} (see {self.prog} --help)\n")


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


def input_path(text: str) -> Path:
    """An argparse type: a file to read (or a folder of them, for backtest). An empty name
    is refused: as a Path it is ".", the current folder, which backtest would search whole
    and the others would report as a folder nobody named. What a name points to (a folder,
    a pipe, a device) is the loader's to check as it reads (it never blocks)."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path")
    return Path(text)


def scheduler(text: str) -> str:
    """An argparse type: a Dask scheduler's address, its form checked before connecting."""
    try:
        return check_address(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    """--scheduler or --dask-local (one cluster or the other): where the replications run."""
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", type=scheduler, default=None, metavar="tcp://HOST:PORT",
                       help="run on an existing dask.distributed cluster")
    where.add_argument("--dask-local", type=workers, default=None, metavar="N",
                       help="start a local Dask cluster of N worker processes and run on it")
