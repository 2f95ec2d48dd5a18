"""Parameter sweeps: many variants of one scenario on common random numbers.

A sweep file names a base scenario, the numbers to vary by dotted key path
(``sim.scenario.overrides``) and a design (``sim.analysis.designs``, one module each): a
full grid (1-D or 2-D), Latin hypercube or Sobol' points (``scipy.stats.qmc``),
one-at-a-time ranges (a tornado) or a Saltelli design for Sobol' indices (SALib). Every
point runs the same seed, so the same replication streams: the difference between two
points is the parameter's effect, not noise. Each finished point is saved under a key of
(scenario, values, runs, seed), so an interrupted sweep picks up where it stopped and
ends with the same table as an uninterrupted one.

The result is a ``SweepRun`` and a typed ``SweepAnalysis``; writing them to a folder and
printing them is ``sim.outputs``' part.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from tqdm import tqdm
from yaml.constructor import SafeConstructor

from sim.analysis import discovery, stats
from sim.analysis.designs import DESIGNS
from sim.analysis.designs.common import OUTPUTS as OUTPUTS  # what Sobol' indices are for
from sim.analysis.designs.common import DiscoverySample, Space, SweepAnalysis
from sim.errors import ScenarioError, printable
from sim.files import atomic_write_text
from sim.limits import MAX_RUNS, MAX_SWEEP_POINTS
from sim.model.outcome import OUTCOMES
from sim.provenance import model_hash
from sim.running.montecarlo import simulate
from sim.running.results import Results
from sim.running.runner import execute, keeping_partial
from sim.running.sampling import varying_inputs
from sim.scenario import overrides
from sim.scenario.locate import locate
from sim.scenario.schema import Scenario
from sim.scenario.yaml_tree import compose, read_text

Design = Literal["grid", "lhs", "sobol_points", "oat", "sobol"]  # the names in DESIGNS
DISCOVERY_RUNS = 4000  # at least this many runs of the base scenario for discovery


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
        problem = DESIGNS[self.design].check(self.space)
        if problem is not None:
            raise ValueError(problem)
        if self.point_count > MAX_SWEEP_POINTS:  # refused before the design is even built
            raise ValueError(f"{self.point_count:,} points is over the cap of "
                             f"{MAX_SWEEP_POINTS:,} (fewer points or samples)")
        return self

    @property
    def point_count(self) -> int:
        """How many points the design has, without building it."""
        return DESIGNS[self.design].count(self.space)

    @property
    def space(self) -> Space:
        """What the design reads of this sweep."""
        return Space(tuple(self.parameters), tuple(self.bounds),
                     tuple(r.points for r in self.parameters.values()), self.samples,
                     self.seed)

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


def sweep_from_dict(data: dict[str, Any]) -> Sweep:
    """A sweep from a dict shaped as a sweep file (the Python API), its errors one line."""
    try:
        return Sweep.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(map(str, error["loc"])) or "sweep"
        raise ScenarioError(f"sweep: {where}: "
                            f"{error['msg'].removeprefix('Value error, ')}") from None


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
    return DESIGNS[sweep.design].points(sweep.space)


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


def saved_point(path: Path) -> dict[str, Any] | None:
    """A point saved by an earlier run, or None when there is none or it cannot be read
    back (a damaged file is only lost time: the point is run again)."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) else None


def point_key(base: Scenario, values: dict[str, float], runs: int, seed: int) -> str:
    text = json.dumps({"scenario": base.model_dump_json(), "values": sorted(values.items()),
                       "runs": runs, "seed": seed, "code": model_hash()}, sort_keys=True)
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
    done = {k: row for k in set(keys) if (row := saved_point(store / f"{k}.json"))}
    reused = sum(k in done for k in keys)
    todo = {k: p for k, p in zip(keys, points, strict=True) if k not in done}
    bar = tqdm(total=len(todo), unit="point", file=sys.stderr, delay=2.0, disable=not progress,
               desc=printable(sweep.name[:30]))

    def save(key: str, row: dict[str, Any]) -> None:
        atomic_write_text(store / f"{key}.json", json.dumps(row))
        done[key] = row
        bar.update(1)

    tasks = [(base, p, sweep.runs, sweep.seed, source) for p in todo.values()]
    todo_keys = list(todo)

    def kept() -> dict[str, Any]:
        return {"sweep": sweep.name, "points_saved": sum(k in done for k in keys),
                "points_total": len(points), "runs": sweep.runs, "seed": sweep.seed,
                "resume": "run the same command again (--resume or not): saved points "
                          "are reused"}

    with keeping_partial(out, kept, lambda: f"{sum(k in done for k in keys)} of "
                         f"{len(points)} points saved in {store}; run the same command "
                         "again to finish"), bar:
        for i, row in execute(_run_point, tasks, workers, executor, ordered=False):
            save(todo_keys[i], row)
    rows = [{**p, **done[k]} for k, p in zip(keys, points, strict=True)]
    return SweepRun(sweep, base, base_path, points, rows, reused)


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


def analyse(run: SweepRun, discovery_runs: int, workers: int) -> SweepAnalysis:
    """The design's own analysis (Sobol' indices, tornado swings) and scenario discovery."""
    sweep = run.sweep
    found = DESIGNS[sweep.design].analyse(sweep.space, run.rows)
    keep = varying_inputs(run.base)
    if keep and discovery.available():
        results = simulate(run.base, discovery_runs, sweep.seed, workers)
        inputs = {k: results[f"input.{k}"] for k in keep}
        boxes = {name: tuple(discovery.discover(inputs, results["outcome"] == code, name))
                 for code, name in stats.RESOLVED}
        return replace(found, discovery=boxes,
                       discovery_sample=DiscoverySample(inputs, results["outcome"]))
    if keep:
        return replace(found, discovery_missing="install scikit-learn: pip install -e '.[sweep]'")
    return found


def run_and_analyse(sweep: Sweep, base: Scenario, base_path: Path, out: Path, workers: int,
                    progress: bool = False, executor: Executor | None = None,
                    ) -> tuple[SweepRun, SweepAnalysis]:
    """Run a sweep's points (saved in ``out/points/`` as they finish) and analyse them,
    writing nothing else."""
    run = run_points(sweep, base, base_path, out, workers, progress, executor)
    return run, analyse(run, max(sweep.runs, DISCOVERY_RUNS), workers)


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: its points (``run.rows``: the values and each point's statistics)
    and the design's analysis."""

    run: SweepRun
    analysis: SweepAnalysis

    def to_pandas(self) -> Any:
        """One row per point: the parameter values, each outcome's probability with its
        95% interval, time quantiles and the median price (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.run.rows).rename_axis("point")

