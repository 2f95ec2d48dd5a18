"""Command line: which command, and errors as one line; each command parses its own
arguments and prints, the work is done by ``sim.api``.

``run.py SCENARIO [options]`` runs a scenario; ``run.py COMMAND ...`` runs one of
``COMMANDS``. Heavy libraries (scipy, matplotlib) are imported after the arguments are
parsed, so ``--help`` answers at once. The same entry serves ``python -m sim`` and the
``dealsim`` console script.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from contextlib import suppress

from sim.commands import backtest, compare, replay, run
from sim.errors import ScenarioError, Terminated

COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "compare": compare.main,
    "backtest": backtest.main,
    "replay": replay.main,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return guarded(COMMANDS[argv[0]], argv[1:])
    return guarded(run.main, argv)


def entry() -> None:
    """The program's entry (``run.py``, ``python -m sim``, ``dealsim``): ``main`` and exit.
    Once ``main`` has answered, Ctrl-C and SIGTERM are ignored: a signal in the last
    moments must not turn a finished answer (exit 0 or 2) into a traceback or another
    code. After a stop the work is saved and the workers are ended, so the process leaves at
    once, without Python's exit handlers: a library's (Dask's closing its clusters, the
    process pool's joining its threads) can wait for ever on what the stop cut short, and
    a further Ctrl-C in them would print a traceback."""
    try:
        code = main()
    except KeyboardInterrupt as exc:  # in the instant between main's answer and below
        code = 143 if isinstance(exc, Terminated) else 130
    for s in (signal.SIGINT, signal.SIGTERM):  # the answer is given: a late signal changes
        signal.signal(s, signal.SIG_IGN)         # nothing and must not turn it into another
    if code in (130, 143):
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    raise SystemExit(code)


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


if __name__ == "__main__":
    entry()
