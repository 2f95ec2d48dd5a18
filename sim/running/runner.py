"""One way to run many tasks: on an executor (Dask's), a process pool or here; and one way
to stop — a Ctrl-C or SIGTERM keeps what is finished and says how to finish it.

The Monte Carlo blocks of a run and the points of a sweep both go through ``execute``
(tasks are plain data, so any executor can take them) and both keep their partial work
with ``keeping_partial``.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sim.files import atomic_write_json
from sim.signals import deferred

Task = TypeVar("Task")
Result = TypeVar("Result")
PARTIAL = "partial.json"


def default_workers() -> int:
    """The cores this process may use (its CPU affinity, where the OS has one)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def ignore_interrupts() -> None:
    """Pool workers leave Ctrl-C to the main process, which saves what is finished and
    stops them; otherwise each worker prints its own KeyboardInterrupt traceback. SIGTERM
    (from the main process stopping them, or sent to the group) ends a worker at once,
    not through the handler a forked worker inherits."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def execute(function: Callable[[Task], Result], tasks: Sequence[Task], workers: int = 1,
            executor: Executor | None = None, ordered: bool = True
            ) -> Iterator[tuple[int, Result]]:
    """(index, result) of each task: in task order when ``ordered`` (a Monte Carlo run
    checks its precision block by block), else as each finishes (a sweep saves each point
    at once). Results depend on the task alone, never on who computed it."""
    if executor is not None:  # e.g. Dask's: results arrive in order
        yield from enumerate(executor.map(function, tasks))
    elif workers <= 1 or len(tasks) <= 1:
        yield from enumerate(map(function, tasks))
    else:
        pool = ProcessPoolExecutor(min(workers, len(tasks)), initializer=ignore_interrupts)
        try:
            if ordered:
                yield from enumerate(pool.map(function, tasks))
            else:
                futures = {pool.submit(function, t): i for i, t in enumerate(tasks)}
                for future in as_completed(futures):
                    yield futures[future], future.result()
        except BaseException:
            with deferred(reraise=False):  # a second Ctrl-C must not cut the stop short
                stop_pool(pool)
            raise
        pool.shutdown(wait=True)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now: drop the tasks not started and end the workers mid-task (their
    blocks are lost, the finished ones are saved), so a stop takes a moment, not as long
    as the slowest running block. ``ProcessPoolExecutor`` has no public way to end its
    workers before Python 3.14 (``terminate_workers``); its ``_processes`` is the one."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=2)
        if process.is_alive():
            process.kill()


@contextmanager
def keeping_partial(out: Path, record: Callable[[], dict[str, Any]],
                    message: Callable[[], str]) -> Iterator[None]:
    """Around work whose finished parts are saved as they finish: when it is interrupted,
    write ``out/partial.json`` (what ``record()`` says was kept and how to finish) and
    print ``message()``. A normal end leaves ``partial.json`` to the caller, which removes
    it when it publishes the finished set (``sim.folders.staged``)."""
    try:
        yield
    except KeyboardInterrupt:
        with deferred(reraise=False):  # a second Ctrl-C must not leave it half-written
            try:
                atomic_write_json(out / PARTIAL, {"partial": True, **record()})
                print(f"interrupted: {message()}", file=sys.stderr)
            except OSError as exc:  # a full disk: the blocks saved so far still count
                print(f"interrupted: could not write {out / PARTIAL} ({exc.strerror}); "
                      f"{message()}", file=sys.stderr)
        raise
