"""Many replications: fixed blocks of keyed streams, run serially or on a process pool.

A block's replications depend only on (seed, block index), never on which worker runs
it, so any number of workers gives bit-identical results. Blocks of 1,000 keep each task
large enough for the pool's overhead to vanish.
"""

from __future__ import annotations

import functools
import math
import os
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor

from tqdm import tqdm

from sim.limits import MAX_RUNS
from sim.model import Model
from sim.results import Results
from sim.rng import BLOCK_SIZE
from sim.sampling import sample_block, varying_inputs
from sim.scenario import Scenario


def run_block(scenario: Scenario, model: Model, keep: list[str], seed: int, block: int,
              n: int) -> Results:
    keys, values = sample_block(scenario, seed, block, n)
    rows = [model.run(dict(zip(keys, row, strict=True))) for row in values.tolist()]
    index = {k: i for i, k in enumerate(keys)}
    return Results.from_rows(rows, {k: values[:, index[k]] for k in keep})


@functools.lru_cache(maxsize=8)
def _prepared(scenario_json: str) -> tuple[Scenario, Model, list[str]]:
    """A worker builds each scenario's model once, whatever executor sends it blocks."""
    scenario = Scenario.model_validate_json(scenario_json)
    return scenario, Model(scenario), varying_inputs(scenario)


def run_task(task: tuple[str, int, int, int]) -> Results:
    """One block, from plain data (scenario JSON, seed, block, size): any executor can run it."""
    scenario_json, seed, block, n = task
    return run_block(*_prepared(scenario_json), seed, block, n)


def blocks(runs: int, first: int = 0) -> list[tuple[int, int]]:
    """(block index, size) for replications ``first`` to ``runs``: full blocks, then the
    remainder as a prefix of the next block. ``first`` must be a multiple of the block size."""
    count = math.ceil(runs / BLOCK_SIZE)
    return [(b, min(BLOCK_SIZE, runs - b * BLOCK_SIZE))
            for b in range(first // BLOCK_SIZE, count)]


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def iter_blocks(scenario: Scenario, seed: int, todo: list[tuple[int, int]], workers: int = 1,
                executor: Executor | None = None) -> Iterator[Results]:
    """Each block's results, in block order, from a process pool, an executor (e.g. Dask's)
    or this process. Results depend only on (seed, block), never on who computed them."""
    tasks = [(scenario.model_dump_json(), seed, b, n) for b, n in todo]
    if executor is not None:
        yield from executor.map(run_task, tasks)
    elif workers <= 1 or len(tasks) <= 1:
        yield from map(run_task, tasks)
    else:
        pool = ProcessPoolExecutor(min(workers, len(tasks)))
        try:
            yield from pool.map(run_task, tasks)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def simulate(scenario: Scenario, runs: int, seed: int, workers: int = 1,
             progress: bool = False, executor: Executor | None = None) -> Results:
    """Run ``runs`` replications of ``scenario`` from ``seed``."""
    if not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"runs must be between 1 and {MAX_RUNS:,}")
    parts: list[Results] = []
    with tqdm(total=runs, unit="run", file=sys.stderr, delay=2.0, disable=not progress,
              desc=scenario.name[:40]) as bar:
        for part in iter_blocks(scenario, seed, blocks(runs), workers, executor):
            parts.append(part)
            bar.update(len(part))
    return Results.concat(parts)
