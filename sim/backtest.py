"""Backtest: run every case of a library and score its forecast against what happened.

``python run.py backtest scenarios/cases/`` loads each case file (a scenario with an
``actual:`` block), simulates it, and scores the forecast — the share of runs ending in
sale, shutdown and unresolved — against the outcome on record at the scenario's horizon,
with two proper scoring rules: the multi-class Brier score (Brier 1950: the sum over the
three outcomes of (p - y)^2, 0 best, 2 worst) and the log score (-ln p of what happened,
0 best). The bar to beat is a base-rate forecast: the outcome frequencies of the other
cases of the library (leave-one-out by case, so a case never predicts itself, and dated
variants of one case count once between them).

Both forecasts are counts turned into probabilities with the same add-one-half (Jeffreys)
rule, ``(count + 0.5) / (total + 1.5)``, so that no outcome gets probability 0 and an
infinite log score from a finite sample (a few thousand runs, or nine other cases).

A second, stronger bar: where every case names its ``kind`` (its reference class within
the library: an ordered unwind, a pending deal under review, a ban), the same leave-one-out
frequencies among the other cases of the same kind. The pooled base rate knows nothing of
a case; the kind base rate knows what sort of case it is, which is much of what an analyst
knows — the model has to beat it to show that its mechanics add something.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from sim.files import atomic_write_json, atomic_write_text
from sim.outcome import OUTCOMES, UNRESOLVED

if TYPE_CHECKING:  # the schema pulls in scipy: imported when needed, so --help is instant
    from sim.scenario import Scenario

DEFAULT_RUNS = 2_000
DEFAULT_SEED = 20200914
DEFAULT_OUT = Path("results/backtest")
SMOOTHING = 0.5  # Jeffreys: half a count added to each of the three outcomes
SUMMARY_FORMAT = 1


# --- scoring (pure functions, tested against hand-computed values) ----------------------

def forecast(counts: Sequence[float], smoothing: float = SMOOTHING) -> np.ndarray:
    """Probabilities of (sale, shutdown, unresolved) from counts of each."""
    c = np.asarray(counts, dtype=float)
    return (c + smoothing) / (c.sum() + smoothing * len(c))


def brier(p: Sequence[float], outcome: int) -> float:
    """Multi-class Brier score: sum over outcomes of (p - y)^2; 0 best, 2 worst."""
    y = np.zeros(len(p))
    y[outcome] = 1.0
    return float(np.sum((np.asarray(p, dtype=float) - y) ** 2))


def log_score(p: Sequence[float], outcome: int) -> float:
    """-ln p(what happened): 0 for certainty and right; ln 3 = 1.10 for a uniform guess."""
    return float(-math.log(p[outcome]))


def base_rate_counts(case_ids: Sequence[str], outcomes: Sequence[int], leave_out: str,
                     among: set[str] | None = None) -> np.ndarray:
    """Outcome counts of every case but ``leave_out`` (only those in ``among``, if given),
    each case weighing one in all (its dated variants share that weight), so a case never
    predicts itself."""
    counts = np.zeros(len(OUTCOMES))
    members: dict[str, list[int]] = {}
    for case, outcome in zip(case_ids, outcomes, strict=True):
        members.setdefault(case, []).append(outcome)
    for case, found in members.items():
        if case != leave_out and (among is None or case in among):
            counts += np.bincount(found, minlength=len(OUTCOMES)) / len(found)
    return counts


def outcome_at_horizon(scenario: Scenario) -> int:
    """What the forecast is scored against: the recorded outcome if it came by the
    horizon, else unresolved (the model's own reading of a case still open there)."""
    actual = scenario.actual
    if actual is None:
        raise ValueError(f"{scenario.name}: no actual block")
    code = OUTCOMES.index(actual.outcome)
    if code != UNRESOLVED and actual.date > horizon_date(scenario):
        return UNRESOLVED
    return code


def horizon_date(scenario: Scenario) -> dt.date:
    return scenario.start + dt.timedelta(days=int(scenario.horizon_days))


# --- one case, the library -------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    path: Path
    scenario: Scenario
    case_id: str  # actual.case, or the file name: dated variants share one

    @property
    def kind(self) -> str | None:
        return self.scenario.actual.kind if self.scenario.actual else None

    @property
    def scored(self) -> int:
        return outcome_at_horizon(self.scenario)


@dataclass(frozen=True)
class Scored:
    case: Case
    counts: np.ndarray  # runs ending in each outcome
    model: np.ndarray  # smoothed forecast
    base: np.ndarray  # leave-one-out base-rate forecast
    kind_base: np.ndarray | None  # the same among cases of its kind; None: kinds not given
    seconds: float

    def scores(self) -> dict[str, float]:
        k, kb = self.case.scored, self.kind_base
        return {"brier_model": brier(self.model, k), "brier_base": brier(self.base, k),
                "brier_kind": math.nan if kb is None else brier(kb, k),
                "log_model": log_score(self.model, k), "log_base": log_score(self.base, k),
                "log_kind": math.nan if kb is None else log_score(kb, k)}


def find_cases(paths: Sequence[Path]) -> tuple[list[Path], list[Path]]:
    """Scenario files under ``paths`` (directories searched recursively, sorted), split
    into cases (with an ``actual:`` block) and the rest (bases for ``extends``)."""
    from sim.scenario import ScenarioError

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(p.rglob("*.yaml"))
        elif p.exists():
            files.append(p)
        else:
            raise ScenarioError(f"{p}: no such file or folder")
    cases, others = [], []
    for f in files:
        (cases if _has_actual(f) else others).append(f)
    return cases, others


def _has_actual(path: Path) -> bool:
    """Whether a file (or what it extends) records an outcome; bad files count as cases,
    so that loading them reports their error instead of skipping them silently."""
    from sim.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path).actual is not None
    except ScenarioError:
        return True


def load_cases(files: Sequence[Path]) -> list[Case]:
    from sim.scenario import load_scenario

    cases = []
    for f in files:
        s = load_scenario(f)
        assert s.actual is not None
        cases.append(Case(f, s, s.actual.case or f.stem))
    return cases


def run_cases(cases: Sequence[Case], runs: int, seed: int, workers: int,
              log: Any = None) -> list[Scored]:
    """Simulate every case and score it and its leave-one-out base rate."""
    from sim.montecarlo import simulate

    ids = [c.case_id for c in cases]
    outcomes = [c.scored for c in cases]
    kinds = [c.kind for c in cases]
    done = []
    for i, case in enumerate(cases, 1):
        began = time.perf_counter()
        results = simulate(case.scenario, runs, seed, workers)
        counts = np.bincount(results["outcome"], minlength=len(OUTCOMES)).astype(float)
        seconds = time.perf_counter() - began
        if log is not None:
            print(f"  [{i}/{len(cases)}] {case.path.name}: {seconds:.1f} s", file=log)
        kind_base = None
        if None not in kinds:  # a kind base rate only when every case has its kind
            same = {c for c, k in zip(ids, kinds, strict=True) if k == case.kind}
            kind_base = forecast(base_rate_counts(ids, outcomes, case.case_id, same))
        done.append(Scored(case, counts, forecast(counts),
                           forecast(base_rate_counts(ids, outcomes, case.case_id)),
                           kind_base, seconds))
    return done


def overall(scored: Sequence[Scored]) -> dict[str, dict[str, float]]:
    """Mean scores over all forecasts, and over cases (each case's variants averaged
    first, so a case seen on four dates weighs as much as one seen once)."""
    rows = [s.scores() for s in scored]
    keys = list(rows[0])
    by_forecast = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    groups: dict[str, list[dict[str, float]]] = {}
    for s, r in zip(scored, rows, strict=True):
        groups.setdefault(s.case.case_id, []).append(r)
    per_case = [{k: float(np.mean([r[k] for r in g])) for k in keys} for g in groups.values()]
    by_case = {k: float(np.mean([r[k] for r in per_case])) for k in keys}
    return {"forecasts": by_forecast, "cases": by_case}


def skill(model: float, base: float) -> float:
    """Skill score 1 - model / base: above 0 the model beats the base rate."""
    return 1.0 - model / base if base > 0 else math.nan  # NaN > 0 is False: NaN too


# --- outputs --------------------------------------------------------------------------

CSV_COLUMNS = [
    "file", "case", "name", "start", "horizon_date", "actual", "actual_date",
    "scored_outcome", "kind", "runs", "seed", "runs_sale", "runs_shutdown", "runs_unresolved",
    "p_sale", "p_shutdown", "p_unresolved", "base_sale", "base_shutdown", "base_unresolved",
    "kind_sale", "kind_shutdown", "kind_unresolved",
    "brier_model", "brier_base", "brier_kind", "log_model", "log_base", "log_kind"]


def csv_rows(scored: Sequence[Scored], runs: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for s in scored:
        sc, a = s.case.scenario, s.case.scenario.actual
        assert a is not None
        row: dict[str, Any] = {
            "file": s.case.path.as_posix(), "case": s.case.case_id, "name": sc.name,
            "start": sc.start.isoformat(), "horizon_date": horizon_date(sc).isoformat(),
            "actual": a.outcome, "actual_date": a.date.isoformat(),
            "scored_outcome": OUTCOMES[s.case.scored], "kind": s.case.kind or "",
            "runs": runs, "seed": seed}
        row.update({f"runs_{o}": int(c) for o, c in zip(OUTCOMES, s.counts, strict=True)})
        row.update({f"p_{o}": round(float(p), 6) for o, p in zip(OUTCOMES, s.model, strict=True)})
        row.update({f"base_{o}": round(float(p), 6)
                    for o, p in zip(OUTCOMES, s.base, strict=True)})
        row.update({f"kind_{o}": "" if s.kind_base is None else round(float(p), 6)
                    for o, p in zip(OUTCOMES, s.kind_base if s.kind_base is not None
                                    else [math.nan] * 3, strict=True)})
        row.update({k: "" if math.isnan(v) else round(v, 6) for k, v in s.scores().items()})
        rows.append(row)
    return rows


def write_csv(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def _num(value: float, width: int) -> str:
    return f"{'—':>{width}}" if math.isnan(value) else f"{value:{width}.3f}"


def format_table(scored: Sequence[Scored], runs: int, seed: int) -> str:
    cases = {s.case.case_id for s in scored}
    lines = [f"dealsim backtest — {len(scored)} forecasts of {len(cases)} cases · "
             f"{runs:,} runs each · seed {seed}", "",
             f"  {'case file':<30} {'model forecast %':>17}   {'what happened':<13}"
             f"{'Brier':>15}{'log score':>21}",
             f"  {'':<30} {'sale':>5} {'shut':>5} {'unres':>5}   {'(at horizon)':<13}"
             f"{'model':>7}{'base':>6}{'kind':>6}{'model':>9}{'base':>6}{'kind':>6}"]

    def scores(m: dict[str, float]) -> str:
        return (f"{_num(m['brier_model'], 7)}{_num(m['brier_base'], 6)}"
                f"{_num(m['brier_kind'], 6)}{_num(m['log_model'], 9)}"
                f"{_num(m['log_base'], 6)}{_num(m['log_kind'], 6)}")

    for s in scored:
        p = s.model * 100
        lines.append(f"  {s.case.path.stem[:30]:<30} {p[0]:5.1f} {p[1]:5.1f} {p[2]:5.1f}   "
                     f"{OUTCOMES[s.case.scored]:<13}{scores(s.scores())}")
    means = overall(scored)
    lines.append("")
    for key, label in (("forecasts", f"mean over {len(scored)} forecasts"),
                       ("cases", f"mean over {len(cases)} cases (variants averaged)")):
        lines.append(f"  {label:<64}{scores(means[key])}")
    m = means["cases"]
    lines += ["", "  skill (1 − model/bar, by case; above 0: the model is better): "
              f"against the base rate Brier {skill(m['brier_model'], m['brier_base']):+.0%}, "
              f"log {skill(m['log_model'], m['log_base']):+.0%}"]
    if not math.isnan(m["brier_kind"]):
        lines.append(f"{'':<64}against the kind base rate Brier "
                     f"{skill(m['brier_model'], m['brier_kind']):+.0%}, "
                     f"log {skill(m['log_model'], m['log_kind']):+.0%}")
    lines += ["  Brier: sum over the 3 outcomes of (p − y)², 0 best, 2 worst; "
              "log score: −ln p(what happened), 0 best.",
              "  base: outcome frequencies of the other cases (leave-one-out); kind: the same "
              "among cases of the same kind;",
              "  every forecast smoothed (count + ½)/(n + 1½)."]
    return "\n".join(lines)


def _extends_chain(path: Path) -> list[Path]:
    """The file and every file it extends (already validated by the loader)."""
    from sim.scenario import EXTENDS

    chain = [path]
    while True:
        data = yaml.safe_load(chain[-1].read_text(encoding="utf-8"))
        parent = data.get(EXTENDS) if isinstance(data, dict) else None
        if not parent or len(chain) > 20:
            return chain
        chain.append(chain[-1].parent / parent)


def summary(scored: Sequence[Scored], rows: Sequence[dict[str, Any]], runs: int, seed: int,
            workers: int, command: list[str], files: list[str]) -> dict[str, Any]:
    from sim.provenance import file_sha256, git_commit, versions

    used = sorted({p.resolve() for s in scored for p in _extends_chain(s.case.path)})
    means = overall(scored)
    return {
        "format": SUMMARY_FORMAT,
        "runs": runs, "seed": seed, "workers": workers, "command": command,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "smoothing": SMOOTHING,
        "overall": means,
        "skill_by_case": {
            "brier": skill(means["cases"]["brier_model"], means["cases"]["brier_base"]),
            "log": skill(means["cases"]["log_model"], means["cases"]["log_base"]),
            "brier_vs_kind": skill(means["cases"]["brier_model"], means["cases"]["brier_kind"]),
            "log_vs_kind": skill(means["cases"]["log_model"], means["cases"]["log_kind"])},
        "forecasts": list(rows),
        "scenario_files": {str(p): file_sha256(p) for p in used},
        "files": files,
        "versions": versions(),
        "git_commit": git_commit(),
    }


# --- command --------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    from sim.cli import add_run_options

    p = argparse.ArgumentParser(
        prog="run.py backtest",
        description="Run every case file (a scenario with an actual: block) and score the "
                    "forecasts against what happened, beside a leave-one-out base rate.",
        epilog="Example: python run.py backtest scenarios/cases/ --runs 5000")
    p.add_argument("paths", type=Path, nargs="+", metavar="PATH",
                   help="case files or folders (searched for *.yaml)")
    add_run_options(p, runs=DEFAULT_RUNS,
                    runs_help=f"replications per case (default {DEFAULT_RUNS:,})",
                    out=DEFAULT_OUT, out_help=f"output folder (default {DEFAULT_OUT}/)")
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    from sim.montecarlo import default_workers

    files, skipped = find_cases(args.paths)
    if not files:
        print("error: no case files (scenarios with an actual: block) in "
              + ", ".join(map(str, args.paths)), file=sys.stderr)
        return 2
    cases = load_cases(files)  # every file checked before any run starts
    workers = args.workers or default_workers()
    log = None if args.quiet else sys.stderr
    if log is not None and skipped:
        print(f"  not cases (no actual: block): {', '.join(p.name for p in skipped)}", file=log)
    scored = run_cases(cases, args.runs, args.seed, workers, log)
    rows = csv_rows(scored, args.runs, args.seed)
    write_csv(args.out / "backtest.csv", rows)
    written = ["backtest.csv"]
    if not args.no_figures:
        from sim import backtest_plots

        written += [p.name for p in backtest_plots.draw_all(scored, args.runs, args.seed,
                                                            args.out)]
    data = summary(scored, rows, args.runs, args.seed, workers, ["run.py", "backtest", *argv],
                   written)
    atomic_write_json(args.out / "summary.json", data)
    if not args.quiet:
        print(format_table(scored, args.runs, args.seed))
        print(f"\n  wrote {args.out}/: summary.json, {', '.join(written)}")
    return 0
