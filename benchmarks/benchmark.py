"""How fast is dealsim, measured as ratios in one run (so the machine's speed cancels out).

    .venv/bin/python benchmarks/benchmark.py [--runs 20000] [--million] [--json FILE]

Prints a table and writes a JSON (default results/benchmark.json):
- replications/s and simulated events/s of scenarios/oracle.yaml on one worker;
- a bare simpy skeleton (one environment and one process per replication, scheduling the
  same number of events) and the model's cost per event relative to it (target <= 1.5);
- speed-up from 1 worker to all cores (target >= 1.85 on 2 cores);
- memory of the results held per replication, and for 10^6 replications (target < 100 MB;
  measured on a 10^6 run with --million, else scaled from 10^5 — exact, as the columns are
  fixed-width arrays);
- start-up time of ``python run.py --help`` (target < 0.3 s);
- the default Oracle run, 10,000 replications with figures, on all cores (target < 10 s).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.model.replication import Model  # noqa: E402
from sim.running.montecarlo import simulate  # noqa: E402
from sim.running.runner import default_workers  # noqa: E402
from sim.running.sampling import sample_block  # noqa: E402
from sim.scenario.loading import load_scenario  # noqa: E402

ORACLE = ROOT / "scenarios" / "oracle.yaml"


def count_events(scenario_path: Path, runs: int) -> float:
    """Mean simpy events processed per replication (counted in a separate, untimed pass)."""
    scenario = load_scenario(scenario_path)
    model = Model(scenario)
    rows = sample_block(scenario, 1, 0, runs).rows()
    steps = 0
    original = simpy.Environment.step

    def counting_step(env: simpy.Environment) -> None:
        nonlocal steps
        steps += 1
        original(env)

    simpy.Environment.step = counting_step  # type: ignore[method-assign]
    try:
        for values, draws, row in rows:
            model.run(values, draws, row)
    finally:
        simpy.Environment.step = original  # type: ignore[method-assign]
    return steps / runs


def skeleton(replications: int, events: int) -> float:
    """Seconds for bare simpy: a fresh environment and one process per replication, with
    ``events`` events in all (the process start, timeouts, the process end)."""
    timeouts = max(events - 2, 1)

    def process(env: simpy.Environment):
        for _ in range(timeouts):
            yield env.timeout(1.0)

    start = time.perf_counter()
    for _ in range(replications):
        env = simpy.Environment()
        env.process(process(env))
        env.run()
    return time.perf_counter() - start


def timed(function, *args, repeat: int = 3, **kwargs) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best


def command_seconds(args: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--million", action="store_true", help="really hold 10^6 replications")
    parser.add_argument("--json", type=Path, default=ROOT / "results" / "benchmark.json")
    args = parser.parse_args()
    scenario = load_scenario(ORACLE)
    workers = default_workers()
    simulate(scenario, 2000, 1)  # warm up imports and caches

    events = count_events(ORACLE, 2000)
    one = timed(simulate, scenario, args.runs, 1, workers=1)
    bare = timed(skeleton, args.runs, round(events))
    many = timed(simulate, scenario, args.runs, 1, workers=workers)

    held = 1_000_000 if args.million else 100_000
    tracemalloc.start()
    results = simulate(scenario, held, 1, workers=workers)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    per_replication = sum(c.nbytes for c in results.columns.values()) / len(results)
    million_mb = per_replication * 1e6 / 2**20

    with tempfile.TemporaryDirectory() as out:
        help_s = command_seconds(["run.py", "--help"], repeat=5)
        default_s = command_seconds(["run.py", str(ORACLE), "--out", out, "--quiet"], repeat=1)

    model_event_us = one / (args.runs * events) * 1e6
    bare_event_us = bare / (args.runs * round(events)) * 1e6
    figures = {
        "machine": {"python": platform.python_version(), "cores": workers,
                    "processor": platform.processor() or platform.machine()},
        "runs": args.runs,
        "events_per_replication": events,
        "one_worker": {"replications_per_s": args.runs / one,
                       "events_per_s": args.runs * events / one,
                       "us_per_replication": one / args.runs * 1e6},
        "cost_per_event_us": {"model": model_event_us, "bare_simpy": bare_event_us,
                              "ratio": model_event_us / bare_event_us, "target": 1.5},
        "speedup": {"workers": workers, "ratio": one / many, "target": 1.85},
        "memory": {"bytes_per_replication": per_replication,
                   "mb_for_1e6_replications": million_mb, "target_mb": 100,
                   "measured_on": held, "tracemalloc_peak_mb": peak / 2**20},
        "startup_help_s": {"seconds": help_s, "target": 0.3},
        "default_oracle_run_s": {"seconds": default_s, "target": 10.0},
    }
    rows = [
        ("replications/s, 1 worker", f"{args.runs / one:,.0f}", ""),
        ("simulated events/s, 1 worker", f"{args.runs * events / one:,.0f}",
         f"{events:.1f} events/replication"),
        ("cost per event: model / bare simpy", f"{model_event_us / bare_event_us:.2f}×",
         f"{model_event_us:.2f} vs {bare_event_us:.2f} µs; target ≤ 1.5×"),
        (f"speed-up, 1 → {workers} workers", f"{one / many:.2f}×", "target ≥ 1.85×"),
        ("memory, 10^6 replications held", f"{million_mb:.0f} MB",
         f"{per_replication:.0f} B/replication; target < 100 MB"),
        ("start-up, run.py --help", f"{help_s:.2f} s", "target < 0.3 s"),
        ("default Oracle run (10,000, figures)", f"{default_s:.1f} s",
         f"{workers} cores; target < 10 s"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"dealsim benchmark — {args.runs:,} runs of {ORACLE.name}, {workers} cores")
    for name, value, note in rows:
        print(f"  {name:<{width}}  {value:>12}  {note}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"  wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
