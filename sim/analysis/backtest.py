"""Backtest: run every case of a library and score its forecast against what happened.

``python run.py backtest scenarios/cases/`` loads each case file (a scenario with an
``actual:`` block), simulates it, and scores the forecast — the share of runs ending in
each of model v2's four outcomes, sale, shutdown, abandoned and unresolved — against the
outcome on record at the scenario's horizon, with two proper scoring rules: the
multi-class Brier score (Brier 1950: the sum over the four outcomes of (p - y)^2, 0 best,
2 worst, 0.75 for the uniform forecast) and the log score (-ln p of what happened, 0 best,
ln 4 = 1.39 for the uniform forecast). A record's ``outcome`` counts as it is if it came
by the horizon; a sale, shutdown or abandonment dated after the horizon counts as
unresolved, which is what the model forecasts for a case still open there. The ``state``
of an unresolved record (where it stood) is written beside the scores but not scored.

The bar to beat is a base-rate forecast: the outcome frequencies of the other cases of
the library (leave-one-out by case, so a case never predicts itself, and dated variants
of one case count once between them). Every forecast, the model's and the bars', is
counts turned into probabilities with the same add-one-half (Jeffreys) rule over the four
outcomes, ``(count + 0.5) / (total + 2)``, so that no outcome gets probability 0 and an
infinite log score from a finite sample (a few thousand runs, or nine other cases).

A second, stronger bar: where every case names its ``kind`` (its reference class within
the library: an ordered unwind, a pending deal under review, an app ban), the same
leave-one-out frequencies among the other cases of the same kind. The pooled base rate
knows nothing of a case; the kind base rate knows what sort of case it is, which is much
of what an analyst knows — the model has to beat it to show that its mechanics add
something. Scores are reported per kind as well as overall (``by_kind``): each group's
mean Brier and log score of the model and of both bars, and for each outcome the model's
mean forecast against the observed frequency, so a group the model gets wrong is not
hidden in the total.

Records of the v1 three-way taxonomy (sale, shutdown, unresolved) map onto v2's four as
follows: a v1 "shutdown" of a ``pending_deal`` case (the transaction was blocked or
terminated, nothing was switched off) is v2 ``abandoned``; every other v1 record — the app
bans and the ordered unwinds — keeps its outcome (a v1 "shutdown" of a running business
is v2 ``shutdown``).
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
from sim.model.outcome import OUTCOMES, UNRESOLVED

if TYPE_CHECKING:  # the schema pulls in scipy: imported when needed, so --help is instant
    from sim.scenario.schema import Scenario

DEFAULT_RUNS = 2_000
DEFAULT_SEED = 20200914
DEFAULT_OUT = Path("results/backtest")
SMOOTHING = 0.5  # Jeffreys: half a count added to each of the four outcomes
SUMMARY_FORMAT = 2  # 2: four outcomes, scores by kind
ALL = "all"  # the group of every case, beside the kinds


# --- scoring (pure functions, tested against hand-computed values) ----------------------

def forecast(counts: Sequence[float], smoothing: float = SMOOTHING) -> np.ndarray:
    """Probabilities of the outcomes (``OUTCOMES`` order) from counts of each:
    ``(count + smoothing) / (total + smoothing × outcomes)``."""
    c = np.asarray(counts, dtype=float)
    return (c + smoothing) / (c.sum() + smoothing * len(c))


def brier(p: Sequence[float], outcome: int) -> float:
    """Multi-class Brier score: sum over outcomes of (p - y)^2; 0 best, 2 worst."""
    y = np.zeros(len(p))
    y[outcome] = 1.0
    return float(np.sum((np.asarray(p, dtype=float) - y) ** 2))


def log_score(p: Sequence[float], outcome: int) -> float:
    """-ln p(what happened): 0 for certainty and right; ln 4 = 1.39 for a uniform guess."""
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
    from sim.errors import ScenarioError

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
    from sim.errors import ScenarioError
    from sim.scenario.loading import load_scenario

    try:
        return load_scenario(path).actual is not None
    except ScenarioError:
        return True


def load_cases(files: Sequence[Path]) -> list[Case]:
    from sim.scenario.loading import load_scenario

    cases = []
    for f in files:
        s = load_scenario(f)
        assert s.actual is not None
        cases.append(Case(f, s, s.actual.case or f.stem))
    return cases


def run_cases(cases: Sequence[Case], runs: int, seed: int, workers: int,
              log: Any = None) -> list[Scored]:
    """Simulate every case and score it and its leave-one-out base rate."""
    from sim.running.montecarlo import simulate

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


def _measures(s: Scored) -> dict[str, float]:
    """One forecast's scores, and per outcome its forecast and whether it happened (1/0)."""
    happened = np.eye(len(OUTCOMES))[s.case.scored]
    return {**s.scores(),
            **{f"forecast_{o}": float(p) for o, p in zip(OUTCOMES, s.model, strict=True)},
            **{f"observed_{o}": float(y) for o, y in zip(OUTCOMES, happened, strict=True)}}


def overall(scored: Sequence[Scored]) -> dict[str, dict[str, float]]:
    """Mean scores, mean forecast and observed frequency of each outcome (and their
    difference), over all forecasts and over cases (each case's variants averaged first,
    so a case seen on four dates weighs as much as one seen once); ``n`` counts them."""
    rows = [_measures(s) for s in scored]
    keys = list(rows[0])
    groups: dict[str, list[dict[str, float]]] = {}
    for s, r in zip(scored, rows, strict=True):
        groups.setdefault(s.case.case_id, []).append(r)
    per_case = [{k: float(np.mean([r[k] for r in g])) for k in keys} for g in groups.values()]
    found = {}
    for weighting, items in (("forecasts", rows), ("cases", per_case)):
        means = {"n": len(items), **{k: float(np.mean([r[k] for r in items])) for k in keys}}
        means.update({f"difference_{o}": means[f"forecast_{o}"] - means[f"observed_{o}"]
                      for o in OUTCOMES})
        found[weighting] = means
    return found


def by_kind(scored: Sequence[Scored]) -> dict[str, dict[str, dict[str, float]]]:
    """``overall`` for the cases of each kind (``actual.kind``, in name order), then for
    all cases (``ALL``); a case without a kind counts in ``ALL`` only."""
    kinds = sorted({s.case.kind for s in scored if s.case.kind})
    return {**{k: overall([s for s in scored if s.case.kind == k]) for k in kinds},
            ALL: overall(scored)}


def skill(model: float, base: float) -> float:
    """Skill score 1 - model / base: above 0 the model beats the base rate."""
    return 1.0 - model / base if base > 0 else math.nan  # NaN > 0 is False: NaN too


# --- outputs --------------------------------------------------------------------------

SCORES = ["brier_model", "brier_base", "brier_kind", "log_model", "log_base", "log_kind"]
CSV_COLUMNS = [
    "file", "case", "name", "start", "horizon_date", "actual", "actual_state", "actual_date",
    "scored_outcome", "kind", "runs", "seed",
    *(f"{prefix}_{o}" for prefix in ("runs", "p", "base", "kind") for o in OUTCOMES),
    *SCORES]
KIND_COLUMNS = ["group", "weighting", "n", *SCORES,
                *(f"{m}_{o}" for o in OUTCOMES for m in ("forecast", "observed", "difference"))]


def csv_rows(scored: Sequence[Scored], runs: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for s in scored:
        sc, a = s.case.scenario, s.case.scenario.actual
        assert a is not None
        row: dict[str, Any] = {
            "file": s.case.path.as_posix(), "case": s.case.case_id, "name": sc.name,
            "start": sc.start.isoformat(), "horizon_date": horizon_date(sc).isoformat(),
            "actual": a.outcome, "actual_state": a.state or "",
            "actual_date": a.date.isoformat(), "scored_outcome": OUTCOMES[s.case.scored],
            "kind": s.case.kind or "", "runs": runs, "seed": seed}
        kind = s.kind_base if s.kind_base is not None else [math.nan] * len(OUTCOMES)
        for prefix, values in (("runs", s.counts), ("p", s.model), ("base", s.base),
                               ("kind", kind)):
            row.update({f"{prefix}_{o}": _cell(v, integer=prefix == "runs")
                        for o, v in zip(OUTCOMES, values, strict=True)})
        row.update({k: _cell(v) for k, v in s.scores().items()})
        rows.append(row)
    return rows


def kind_rows(groups: dict[str, dict[str, dict[str, float]]]) -> list[dict[str, Any]]:
    """``by_kind`` as table rows: one per group and weighting (by case, by forecast)."""
    return [{"group": group, "weighting": weighting,
             **{k: _cell(v, integer=k == "n") for k, v in means.items()}}
            for group, found in groups.items() for weighting, means in found.items()]


def _cell(value: float, integer: bool = False) -> Any:
    if integer:
        return int(value)
    return "" if math.isnan(value) else round(float(value), 6)


def write_csv(path: Path, rows: Sequence[dict[str, Any]],
              columns: Sequence[str] = CSV_COLUMNS) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def _num(value: float, width: int) -> str:
    return f"{'—':>{width}}" if math.isnan(value) else f"{value:{width}.3f}"


SHORT = {"sale": "sale", "shutdown": "shut", "abandoned": "aband", "unresolved": "unres"}
LABEL = 36  # width of the label column, up to the forecast's


def _scores(m: dict[str, float]) -> str:
    return (f"{_num(m['brier_model'], 7)}{_num(m['brier_base'], 6)}"
            f"{_num(m['brier_kind'], 6)}{_num(m['log_model'], 9)}"
            f"{_num(m['log_base'], 6)}{_num(m['log_kind'], 6)}")


def format_table(scored: Sequence[Scored], runs: int, seed: int) -> str:
    cases = {s.case.case_id for s in scored}
    width = 6 * len(OUTCOMES)  # the forecast's columns
    lines = [f"dealsim backtest — {len(scored)} forecasts of {len(cases)} cases · "
             f"{runs:,} runs each · seed {seed}", "",
             f"  {'case file':<{LABEL}}{'model forecast %':>{width}}   {'what happened':<13}"
             f"{'Brier':>15}{'log score':>21}",
             f"  {'':<{LABEL}}" + "".join(f"{SHORT[o]:>6}" for o in OUTCOMES)
             + f"   {'(at horizon)':<13}"
             f"{'model':>7}{'base':>6}{'kind':>6}{'model':>9}{'base':>6}{'kind':>6}"]
    for s in scored:
        lines.append(f"  {s.case.path.stem[:LABEL]:<{LABEL}}"
                     + "".join(f"{100 * p:6.1f}" for p in s.model)
                     + f"   {OUTCOMES[s.case.scored]:<13}{_scores(s.scores())}")
    groups = by_kind(scored)
    means = groups[ALL]
    lines.append("")
    left = LABEL + width + 16  # the label columns up to the scores
    for key, label in (("forecasts", f"mean over {len(scored)} forecasts"),
                       ("cases", f"mean over {len(cases)} cases (variants averaged)")):
        lines.append(f"  {label:<{left}}{_scores(means[key])}")
    m = means["cases"]
    lines += ["", "  skill (1 − model/bar, by case; above 0: the model is better): "
              f"against the base rate Brier {skill(m['brier_model'], m['brier_base']):+.0%}, "
              f"log {skill(m['log_model'], m['log_base']):+.0%}"]
    if not math.isnan(m["brier_kind"]):
        lines.append(f"{'':<64}against the kind base rate Brier "
                     f"{skill(m['brier_model'], m['brier_kind']):+.0%}, "
                     f"log {skill(m['log_model'], m['log_kind']):+.0%}")
    lines += ["", *format_by_kind(groups)]
    lines += ["", f"  Brier: sum over the {len(OUTCOMES)} outcomes of (p − y)², 0 best, 2 worst; "
              "log score: −ln p(what happened), 0 best.",
              "  base: outcome frequencies of the other cases (leave-one-out); kind: the same "
              "among cases of the same kind;",
              f"  every forecast smoothed (count + ½)/(n + {len(OUTCOMES) / 2:g})."]
    return "\n".join(lines)


def format_by_kind(groups: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """The scores and the mean forecast against what happened, per kind and for all cases
    (by case: each case's dated variants averaged first)."""
    left = LABEL + 6 * len(OUTCOMES) + 16  # the scores stand under the table's
    lines = [f"  {'by kind, means by case':<{left}}{'Brier':>15}{'log score':>21}",
             f"  {'':<20}{'cases':>6}{'forecasts':>10}{'':<{left - 36}}"
             f"{'model':>7}{'base':>6}{'kind':>6}{'model':>9}{'base':>6}{'kind':>6}"]
    for group, found in groups.items():
        label = f"{group:<20}{found['cases']['n']:>6}{found['forecasts']['n']:>10}"
        lines.append(f"  {label:<{left}}{_scores(found['cases'])}")
    lines += ["", "  mean forecast against how often it happened, % of cases: "
                  "forecast, observed, difference",
              f"  {'':<20}" + "".join(f"{o:>19}" for o in OUTCOMES),
              f"  {'':<20}" + f"{'fcst':>6}{'obs':>6}{'diff':>7}" * len(OUTCOMES)]
    for group, found in groups.items():
        m = found["cases"]
        lines.append(f"  {group:<20}" + "".join(
            f"{100 * m[f'forecast_{o}']:6.1f}{100 * m[f'observed_{o}']:6.1f}"
            f"{round(100 * m[f'difference_{o}'], 1) + 0.0:+7.1f}"  # + 0.0: no "-0.0"
            for o in OUTCOMES))
    return lines


def _extends_chain(path: Path) -> list[Path]:
    """The file and every file it extends (already validated by the loader)."""
    from sim.scenario.yaml_tree import EXTENDS

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
    groups = by_kind(scored)
    means = groups[ALL]
    return {
        "format": SUMMARY_FORMAT,
        "runs": runs, "seed": seed, "workers": workers, "command": command,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "smoothing": SMOOTHING,
        "overall": means,
        "by_kind": groups,  # the same per kind of case, and for all cases ("all")
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
    from sim.commands.main import add_run_options

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
    from sim.running.montecarlo import default_workers

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
    write_csv(args.out / "backtest_by_kind.csv", kind_rows(by_kind(scored)), KIND_COLUMNS)
    written = ["backtest.csv", "backtest_by_kind.csv"]
    if not args.no_figures:
        from sim.outputs.figures import backtest as backtest_plots

        written += [p.name for p in backtest_plots.draw_all(scored, args.runs, args.seed,
                                                            args.out)]
    data = summary(scored, rows, args.runs, args.seed, workers, ["run.py", "backtest", *argv],
                   written)
    atomic_write_json(args.out / "summary.json", data)
    if not args.quiet:
        print(format_table(scored, args.runs, args.seed))
        print(f"\n  wrote {args.out}/: summary.json, {', '.join(written)}")
    return 0
