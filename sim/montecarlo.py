"""Many replications: fixed blocks of keyed streams, run serially or on a process pool.

A block's replications depend only on (seed, block index), never on which worker runs
it, so any number of workers gives bit-identical results. Blocks of 1,000 keep each task
large enough for the pool's overhead to vanish.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from tqdm import tqdm

from sim.limits import MAX_RUNS
from sim.model import Model
from sim.results import Results
from sim.rng import BLOCK_SIZE
from sim.sampling import sample_block, varying_inputs
from sim.scenario import Scenario

_worker: tuple[Scenario, Model, list[str]] | None = None


def run_block(scenario: Scenario, model: Model, keep: list[str], seed: int, block: int,
              n: int) -> Results:
    keys, values = sample_block(scenario, seed, block, n)
    rows = [model.run(dict(zip(keys, row, strict=True))) for row in values.tolist()]
    index = {k: i for i, k in enumerate(keys)}
    return Results.from_rows(rows, {k: values[:, index[k]] for k in keep})


def _init_worker(scenario: Scenario) -> None:
    global _worker
    _worker = (scenario, Model(scenario), varying_inputs(scenario))


def _run_in_worker(task: tuple[int, int, int]) -> Results:
    assert _worker is not None
    return run_block(*_worker, *task)


def blocks(runs: int) -> list[tuple[int, int]]:
    """(block index, size) for a run: full blocks, then the remainder as a prefix block."""
    count = math.ceil(runs / BLOCK_SIZE)
    return [(b, min(BLOCK_SIZE, runs - b * BLOCK_SIZE)) for b in range(count)]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def simulate(scenario: Scenario, runs: int, seed: int, workers: int = 1,
             progress: bool = False) -> Results:
    """Run ``runs`` replications of ``scenario`` from ``seed`` on ``workers`` processes."""
    if not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"runs must be between 1 and {MAX_RUNS:,}")
    tasks = [(seed, b, n) for b, n in blocks(runs)]
    workers = max(1, min(workers, len(tasks)))
    bar = tqdm(total=runs, unit="run", file=sys.stderr, delay=2.0, disable=not progress,
               desc=scenario.name[:40])
    parts: list[Results] = []

    def collect(done: Iterator[Results]) -> None:
        for part in done:
            parts.append(part)
            bar.update(len(part))

    if workers == 1:
        _init_worker(scenario)
        collect(_run_in_worker(t) for t in tasks)
    else:
        with ProcessPoolExecutor(workers, initializer=_init_worker,
                                 initargs=(scenario,)) as pool:
            collect(pool.map(_run_in_worker, tasks))
    bar.close()
    return Results.concat(parts)
