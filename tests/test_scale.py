"""Scale: adaptive precision, saved blocks, and Dask giving the process pool's exact results."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.analysis import stats
from sim.running.blockstore import BlockStore
from sim.running.montecarlo import simulate
from sim.running.precision import max_half_width
from sim.running.results import Results
from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example.yaml"


@pytest.fixture(scope="module")
def example():
    return load_scenario(EXAMPLE)


def same(a: Results, b: Results) -> bool:
    return a.columns.keys() == b.columns.keys() and all(
        np.array_equal(a[c], b[c], equal_nan=True) for c in a.columns)


@pytest.mark.slow
def test_half_width_is_half_the_wilson_interval(example):
    results = simulate(example, 3000, 2)
    widths = [(p.high - p.low) / 2 for p in stats.outcome_probabilities(results).values()]
    assert max_half_width(results) == pytest.approx(max(widths), rel=1e-9)


@pytest.mark.slow
def test_adaptive_precision_stops_at_the_first_block_that_is_precise_enough(example):
    target = 0.012
    one = simulate(example, 100_000, 3, workers=1, precision=target)
    two = simulate(example, 100_000, 3, workers=2, precision=target)
    assert same(one, two)  # reproducible whatever the number of workers
    assert len(one) % 1000 == 0 and max_half_width(one) <= target
    shorter = Results({k: v[:len(one) - 1000] for k, v in one.columns.items()})
    assert max_half_width(shorter) > target
    assert same(one, simulate(example, len(one), 3))  # a prefix of the plain run


def test_adaptive_precision_respects_the_cap(example):
    results = simulate(example, 2500, 3, precision=0.001)
    assert len(results) == 2500


@pytest.mark.slow
def test_saved_blocks_resume_to_the_same_results(example, tmp_path):
    store = BlockStore(tmp_path, example, 8)
    whole = simulate(example, 4200, 8)
    simulate(example, 4200, 8, store=store)
    assert store.count() == 5
    for path in sorted(store.folder.glob("*.npz"))[1:3]:
        path.unlink()  # as if interrupted: blocks 1 and 2 were never finished
    assert same(whole, simulate(example, 4200, 8, workers=2, store=store))
    assert store.count() == 5


@pytest.mark.slow
def test_a_local_dask_cluster_gives_the_process_pools_table(tmp_path):
    tables = {}
    for name, extra in (("pool", ["--workers", "2"]), ("dask", ["--dask-local", "2"])):
        done = subprocess.run(
            [sys.executable, str(ROOT / "run.py"), str(EXAMPLE), "--runs", "2500", "--seed",
             "4", "--no-figures", "--quiet", "--out", str(tmp_path / name), *extra],
            capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        tables[name] = (tmp_path / name / "replications.csv").read_bytes()
    assert tables["pool"] == tables["dask"]


@pytest.mark.slow
def test_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), str(EXAMPLE), "--runs", "100", "--quiet",
         "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert "cannot reach the Dask scheduler" in done.stderr
    assert "Traceback" not in done.stderr
