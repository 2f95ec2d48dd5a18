"""Many replications: fixed blocks of keyed streams, run serially or on a process pool.

A block's replications depend only on (seed, block index), never on which worker runs
it, so any number of workers gives bit-identical results. Blocks of 1,000 keep each task
large enough for the pool's overhead to vanish.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Iterator
from concurrent.futures import Executor

from tqdm import tqdm

from sim.errors import printable
from sim.limits import MAX_RUNS
from sim.model.replication import Model
from sim.running.blockstore import BlockStore
from sim.running.precision import max_half_width
from sim.running.results import Gathering, Results
from sim.running.runner import execute
from sim.running.sampling import sample_block, varying_inputs
from sim.running.streams import BLOCK_SIZE
from sim.scenario.schema import Scenario


def run_block(scenario: Scenario, model: Model, keep: list[str], seed: int, block: int,
              n: int) -> Results:
    drawn = sample_block(scenario, seed, block, n)
    rows = [model.run(values, draws, row) for values, draws, row in drawn.rows()]
    index = {k: i for i, k in enumerate(drawn.keys)}
    return Results.from_rows(rows, {k: drawn.values[:, index[k]] for k in keep})


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


def iter_blocks(scenario: Scenario, seed: int, todo: list[tuple[int, int]], workers: int = 1,
                executor: Executor | None = None) -> Iterator[Results]:
    """Each block's results, in block order, from a process pool, an executor (e.g. Dask's)
    or this process. Results depend only on (seed, block), never on who computed them."""
    tasks = [(scenario.model_dump_json(), seed, b, n) for b, n in todo]
    for _, part in execute(run_task, tasks, workers, executor):
        yield part


def simulate(scenario: Scenario, runs: int, seed: int, workers: int = 1,
             progress: bool = False, executor: Executor | None = None,
             precision: float | None = None, store: BlockStore | None = None) -> Results:
    """Run ``runs`` replications of ``scenario`` from ``seed``.

    With ``precision``, ``runs`` is a cap: blocks are added until every outcome's 95%
    interval is at most ``precision`` wide on each side. The stop is checked block by
    block in order, so the answer is the same whatever the number of workers. With a
    ``store``, each finished block is saved and saved blocks are reused.
    """
    if not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"runs must be between 1 and {MAX_RUNS:,}")
    plan = blocks(runs)
    # the columns filled block by block (each block dropped once copied in): the run is
    # held once, not once in blocks and again joined
    gathered = Gathering(runs) if precision is None else \
        Gathering(min(runs, 8 * BLOCK_SIZE), most=runs)
    done = 0
    batch = len(plan) if precision is None else max(2, 2 * max(workers, 1))
    with tqdm(total=None if precision else runs, unit="run", file=sys.stderr, delay=2.0,
              disable=not progress, desc=printable(scenario.name[:40])) as bar:
        while done < len(plan):
            todo = plan[done:done + batch]
            saved = [store.load(b, n) if store else None for b, n in todo]
            missing = [t for t, part in zip(todo, saved, strict=True) if part is None]
            fresh = iter_blocks(scenario, seed, missing, workers, executor)
            for i, ((b, _), part) in enumerate(zip(todo, saved, strict=True)):
                if part is None:
                    part = next(fresh)
                    if store:
                        store.save(b, part)
                gathered.add(part)
                saved[i] = part = None  # copied in: the block itself is not kept
                done += 1
                bar.update(todo[i][1])
                if precision is not None:
                    width = max_half_width(gathered.results())
                    bar.set_postfix_str(f"±{width:.4f} (target ±{precision})")
                    if width <= precision:
                        return gathered.finished()
    return gathered.finished()
