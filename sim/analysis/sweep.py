"""Parameter sweeps: many variants of one scenario on common random numbers.

A sweep file names a base scenario, the numbers to vary by dotted key path
(``sim.scenario.overrides``) and a design: a full grid (1-D or 2-D), Latin hypercube or Sobol'
points (``scipy.stats.qmc``), one-at-a-time ranges (a tornado) or a Saltelli design for
Sobol' indices (SALib). Every point runs the same seed, so the same replication streams:
the difference between two points is the parameter's effect, not noise. Each finished
point is saved under a key of (scenario, values, runs, seed), so an interrupted sweep
picks up where it stopped and ends with the same table as an uninterrupted one.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import math
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy.stats import qmc
from tqdm import tqdm
from yaml.constructor import SafeConstructor

from sim.analysis import discovery, sensitivity, stats
from sim.errors import ScenarioError
from sim.files import atomic_write_json, atomic_write_text
from sim.limits import MAX_RUNS, MAX_SWEEP_POINTS
from sim.model.outcome import OUTCOMES
from sim.provenance import git_commit, scenario_record, versions
from sim.running.montecarlo import ignore_interrupts, simulate
from sim.running.results import Results
from sim.running.sampling import varying_inputs
from sim.scenario import overrides
from sim.scenario.locate import locate
from sim.scenario.schema import Scenario
from sim.scenario.yaml_tree import compose, read_text

Design = Literal["grid", "lhs", "sobol_points", "oat", "sobol"]
ENDINGS = tuple(f"p_{name}" for _, name in stats.RESOLVED)  # p_sale, p_shutdown, p_abandoned
OUTPUTS = (*ENDINGS, "days_median")  # what Sobol' indices are computed for


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    low: Annotated[float, Field(allow_inf_nan=False)]
    high: Annotated[float, Field(allow_inf_nan=False)]
    points: Annotated[int, Field(ge=2, le=1000)] | None = None  # grid designs only

    @model_validator(mode="after")
    def _order(self) -> Range:
        if not self.low < self.high:
            raise ValueError("needs low < high")
        return self


class Sweep(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=80)]
    description: str = ""
    scenario: str | None = None  # base scenario, relative to the sweep file
    design: Design
    parameters: Annotated[dict[str, Range], Field(min_length=1, max_length=30)]
    samples: Annotated[int, Field(ge=2, le=MAX_SWEEP_POINTS)] = 64
    runs: Annotated[int, Field(ge=100, le=MAX_RUNS)] = 2000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 20200914

    @model_validator(mode="after")
    def _fits_design(self) -> Sweep:
        if self.design == "grid":
            if len(self.parameters) > 2:
                raise ValueError("a grid takes one or two parameters (use lhs or sobol)")
            missing = [k for k, r in self.parameters.items() if r.points is None]
            if missing:
                raise ValueError(f"a grid needs 'points' for {', '.join(missing)}")
        if self.design == "sobol" and self.samples & (self.samples - 1):
            raise ValueError("sobol needs samples to be a power of 2 (e.g. 16, 32, 64)")
        if self.point_count > MAX_SWEEP_POINTS:  # refused before the design is even built
            raise ValueError(f"{self.point_count:,} points is over the cap of "
                             f"{MAX_SWEEP_POINTS:,} (fewer points or samples)")
        return self

    @property
    def point_count(self) -> int:
        """How many points the design has, without building it."""
        if self.design == "grid":
            return math.prod(r.points or 2 for r in self.parameters.values())
        if self.design == "oat":
            return 1 + 2 * len(self.parameters)
        if self.design == "sobol":
            return self.samples * (len(self.parameters) + 2)
        return self.samples

    @property
    def names(self) -> list[str]:
        return list(self.parameters)

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return [(r.low, r.high) for r in self.parameters.values()]


def load_sweep(path: Path) -> Sweep:
    source = str(path)
    # The scenario loader's reading and checks: bounded read, safe YAML, no duplicate keys,
    # alias bombs, deep nesting or control characters, each one line with its place.
    root = compose(read_text(path, source), source, "sweep")
    data = SafeConstructor().construct_document(root)
    data.setdefault("name", path.stem)
    try:
        return Sweep.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        line, dotted = locate(root, tuple(error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            model = Range if len(error["loc"]) > 2 else Sweep
            message = f"unknown key (allowed: {', '.join(model.model_fields)})"
        raise ScenarioError(f"{source}:{line}: {dotted}: {message}") from None


def parse_vary(texts: list[str], runs: int | None, seed: int) -> Sweep:
    """``--vary path=low:high:points`` (once or twice) as a grid sweep."""
    parameters = {}
    for text in texts:
        path, _, spec = text.partition("=")
        parts = spec.split(":")
        try:
            low, high, points = float(parts[0]), float(parts[1]), int(parts[2])
            parameters[path.strip()] = Range(low=low, high=high, points=points)
        except (ValueError, IndexError, ValidationError):
            raise ScenarioError(f"--vary {text}: expected PATH=LOW:HIGH:POINTS with "
                                "LOW < HIGH and 2 <= POINTS <= 1000") from None
    name = "vary-" + "-".join(p.replace(".", "_") for p in parameters)
    try:
        return Sweep(name=name[:80], design="grid", parameters=parameters,
                     runs=runs or 2000, seed=seed)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ScenarioError(f"--vary: {message}") from None


def design_points(sweep: Sweep) -> list[dict[str, float]]:
    """The parameter values of every point, in the design's order."""
    names, bounds = sweep.names, sweep.bounds
    low, high = np.array(bounds).T
    if sweep.design == "grid":
        axes = [np.linspace(r.low, r.high, r.points or 2) for r in sweep.parameters.values()]
        rows: Any = list(itertools.product(*axes))
    elif sweep.design == "oat":
        points: list[dict[str, float]] = [{}]  # the base scenario, then each end of each range
        for name, (lo, hi) in zip(names, bounds, strict=True):
            points += [{name: lo}, {name: hi}]
        return points
    elif sweep.design == "lhs":
        unit = qmc.LatinHypercube(d=len(names), seed=sweep.seed).random(sweep.samples)
        rows = qmc.scale(unit, low, high)
    elif sweep.design == "sobol_points":
        unit = qmc.Sobol(d=len(names), scramble=True, seed=sweep.seed).random(sweep.samples)
        rows = qmc.scale(unit, low, high)
    else:
        rows = sensitivity.sobol_design(names, bounds, sweep.samples)
    return [{n: float(v) for n, v in zip(names, row, strict=True)} for row in rows]


def point_stats(results: Results) -> dict[str, Any]:
    """What a sweep keeps of one point: probabilities with intervals, times, price."""
    probs = stats.outcome_probabilities(results)
    row: dict[str, Any] = {}
    for name, p in probs.items():
        row[f"p_{name}"] = p.probability
        row[f"p_{name}_low"], row[f"p_{name}_high"] = p.low, p.high
    for q, value in zip(("p10", "p50", "p90"),
                        stats.curve_quantiles(stats.resolution_curve(results)), strict=True):
        row[f"days_{q}"] = value
    row["days_median"] = float(np.median(results["day"]))  # open runs count at the horizon
    prices = stats.sale_prices(results)
    row["price_bn_median"] = float(np.median(prices)) if prices.size else None
    return row


def _run_point(task: tuple[Scenario, dict[str, float], int, int, str]) -> dict[str, Any]:
    base, values, runs, seed, source = task
    return point_stats(simulate(overrides.apply(base, values, source), runs, seed))


def point_key(base: Scenario, values: dict[str, float], runs: int, seed: int) -> str:
    text = json.dumps({"scenario": base.model_dump_json(), "values": sorted(values.items()),
                       "runs": runs, "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class SweepRun:
    sweep: Sweep
    base: Scenario
    base_path: Path
    points: list[dict[str, float]]
    rows: list[dict[str, Any]]
    reused: int


def run_points(sweep: Sweep, base: Scenario, base_path: Path, out: Path, workers: int,
               progress: bool, executor: Executor | None = None) -> SweepRun:
    """Run every point not already saved in ``out/points/``; save each as it finishes."""
    points = design_points(sweep)
    if len(points) > MAX_SWEEP_POINTS:
        raise ScenarioError(f"sweep {sweep.name}: {len(points):,} points is over the cap "
                            f"of {MAX_SWEEP_POINTS:,}")
    source = f"sweep {sweep.name}"
    for name in sweep.names:
        overrides.check_path(base, name, source)
    for values in {tuple(sorted(p.items())): p for p in points}.values():
        overrides.apply(base, values, source)  # every point valid before any work
    store = out / "points"
    keys = [point_key(base, p, sweep.runs, sweep.seed) for p in points]
    done = {k: json.loads((store / f"{k}.json").read_text())
            for k in set(keys) if (store / f"{k}.json").exists()}
    reused = sum(k in done for k in keys)
    todo = {k: p for k, p in zip(keys, points, strict=True) if k not in done}
    bar = tqdm(total=len(todo), unit="point", file=sys.stderr, delay=2.0, disable=not progress,
               desc=sweep.name[:30])

    def save(key: str, row: dict[str, Any]) -> None:
        atomic_write_text(store / f"{key}.json", json.dumps(row))
        done[key] = row
        bar.update(1)

    tasks = {k: (base, p, sweep.runs, sweep.seed, source) for k, p in todo.items()}
    try:
        _run_tasks(tasks, save, workers, executor)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the saved points are the partial result
        bar.close()
        saved = sum(k in done for k in keys)
        atomic_write_json(out / "partial.json", {
            "partial": True, "sweep": sweep.name, "points_saved": saved,
            "points_total": len(points), "runs": sweep.runs, "seed": sweep.seed,
            "resume": "run the same command again (--resume or not): saved points are reused"})
        print(f"interrupted: {saved} of {len(points)} points saved in {store}; run the same "
              "command again to finish", file=sys.stderr)
        raise
    bar.close()
    rows = [{**p, **done[k]} for k, p in zip(keys, points, strict=True)]
    return SweepRun(sweep, base, base_path, points, rows, reused)


def _run_tasks(tasks: dict[str, Any], save: Any, workers: int,
               executor: Executor | None) -> None:
    """Run point tasks on an executor, a process pool or here, saving each as it ends."""
    if executor is not None:  # e.g. Dask's: results arrive in order, each saved at once
        for key, row in zip(tasks, executor.map(_run_point, tasks.values()), strict=True):
            save(key, row)
    elif workers > 1 and len(tasks) > 1:
        pool = ProcessPoolExecutor(min(workers, len(tasks)), initializer=ignore_interrupts)
        try:
            futures = {pool.submit(_run_point, t): k for k, t in tasks.items()}
            for future in as_completed(futures):
                save(futures[future], future.result())
        finally:  # on an interrupt, drop the points not started instead of running them all
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for key, task in tasks.items():
            save(key, _run_point(task))


def table_text(run: SweepRun) -> str:
    columns = [*run.sweep.names]
    for name in OUTCOMES:
        columns += [f"p_{name}", f"p_{name}_low", f"p_{name}_high"]
    columns += ["days_p10", "days_p50", "days_p90", "days_median", "price_bn_median"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["point", *columns])
    for i, row in enumerate(run.rows):
        writer.writerow([i, *("" if row.get(c) is None else f"{row[c]:.10g}" for c in columns)])
    return buffer.getvalue()


def analyse(run: SweepRun, discovery_runs: int, workers: int) -> dict[str, Any]:
    """The design's own analysis (Sobol' indices, tornado swings) and scenario discovery."""
    sweep, rows = run.sweep, run.rows
    found: dict[str, Any] = {}
    if sweep.design == "sobol":
        found["sobol"] = [
            sensitivity.sobol_indices(sweep.names, sweep.bounds, output,
                                      np.array([r[output] for r in rows]))
            for output in OUTPUTS]
    if sweep.design == "oat":
        base = rows[0]
        found["tornado"] = {
            output: sensitivity.swings(
                sweep.names, sweep.bounds,
                np.array([rows[1 + 2 * i][output] for i in range(len(sweep.names))]),
                np.array([rows[2 + 2 * i][output] for i in range(len(sweep.names))]))
            for output in ENDINGS}
        found["tornado_base"] = {o: base[o] for o in ENDINGS}
    keep = varying_inputs(run.base)
    if keep and discovery.available():
        results = simulate(run.base, discovery_runs, sweep.seed, workers)
        inputs = {k: results[f"input.{k}"] for k in keep}
        found["discovery"] = {
            name: discovery.discover(inputs, results["outcome"] == code, name)
            for code, name in stats.RESOLVED}
        found["discovery_data"] = (inputs, results["outcome"])
    elif keep:
        found["discovery_missing"] = "install scikit-learn: pip install -e '.[sweep]'"
    return found


def _json_ready(analysis: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for s in analysis.get("sobol", []):
        out.setdefault("sobol", {})[s.output] = {
            n: {"first": float(f), "first_ci95_half": float(fc), "total": float(t),
                "total_ci95_half": float(tc)}
            for n, f, fc, t, tc in zip(s.names, s.first, s.first_conf, s.total, s.total_conf,
                                       strict=True)}
    for output, swings in analysis.get("tornado", {}).items():
        out.setdefault("tornado", {})[output] = [
            {"input": w.name, "low": w.low_value, "high": w.high_value, "at_low": w.at_low,
             "at_high": w.at_high, "swing": w.width} for w in swings]
    for outcome, boxes in analysis.get("discovery", {}).items():
        out.setdefault("discovery", {})[outcome] = [
            {"rule": b.rule, "coverage": b.coverage, "density": b.density, "runs": b.runs,
             "base_rate": b.base_rate} for b in boxes]
    if "discovery_missing" in analysis:
        out["discovery"] = analysis["discovery_missing"]
    return out


def summary_lines(run: SweepRun, analysis: dict[str, Any]) -> Iterator[str]:
    sweep = run.sweep
    yield (f"sweep {sweep.name} ({sweep.design}) on {run.base.name}: {len(run.rows)} points × "
           f"{sweep.runs:,} runs, seed {sweep.seed}; {run.reused} points reused")
    if len(run.rows) <= 40 and sweep.design != "oat":
        head = "  ".join(f"{n[-28:]:>28}" for n in sweep.names)
        yield f"  {head}   " + "  ".join(f"P({name})" for name in OUTCOMES)
        for row in run.rows:
            values = "  ".join(f"{row[n]:>28.4g}" for n in sweep.names)
            yield f"  {values}   " + "  ".join(f"{row[f'p_{name}']:{len(name) + 3}.1%}"
                                               for name in OUTCOMES)
    for output, swings in analysis.get("tornado", {}).items():
        yield f"  tornado, {output} (base {analysis['tornado_base'][output]:.1%}):"
        for w in swings:
            yield (f"    {w.name:<55} {w.at_low:6.1%} → {w.at_high:6.1%}  "
                   f"(swing {w.width:.1%})")
    for s in analysis.get("sobol", []):
        yield f"  Sobol' indices of {s.output} (first order / total, ±95% half-width):"
        for i in np.argsort(-s.total):
            yield (f"    {s.names[i]:<55} S1 {s.first[i]:5.2f} ±{s.first_conf[i]:.2f}   "
                   f"ST {s.total[i]:5.2f} ±{s.total_conf[i]:.2f}")
    for outcome, boxes in analysis.get("discovery", {}).items():
        for b in boxes[:2]:
            yield (f"  {outcome} is likeliest when {b.rule}: density {b.density:.0%} "
                   f"(base {b.base_rate:.0%}), coverage {b.coverage:.0%}")
    if "discovery_missing" in analysis:
        yield f"  scenario discovery skipped: {analysis['discovery_missing']}"


def run_sweep(sweep: Sweep, base: Scenario, base_path: Path, out: Path, workers: int,
              figures: bool = True, quiet: bool = False, command: list[str] | None = None,
              executor: Executor | None = None) -> dict[str, Any]:
    run = run_points(sweep, base, base_path, out, workers, not quiet, executor)
    atomic_write_text(out / "points.csv", table_text(run))
    analysis = analyse(run, max(sweep.runs, 4000), workers)
    files = ["points.csv"]
    if figures:
        from sim.outputs.figures import sweep as sweep_plots

        files += [p.name for p in sweep_plots.draw_all(run, analysis, out)]
    data = {
        "sweep": sweep.model_dump(),
        "scenario": {"name": base.name, **scenario_record(base)},
        "seed": sweep.seed, "runs_per_point": sweep.runs,
        "points": len(run.rows), "reused_points": run.reused,
        "analysis": _json_ready(analysis), "files": files,
        "command": command, "versions": versions(), "git_commit": git_commit(),
    }
    atomic_write_json(out / "sweep.json", data)
    (out / "partial.json").unlink(missing_ok=True)
    if not quiet:
        print("\n".join(summary_lines(run, analysis)))
        print(f"\n  wrote {out}/: sweep.json, " + ", ".join(files))
    return data
