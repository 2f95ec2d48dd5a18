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

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import ScenarioError
from sim.model.outcome import OUTCOMES, UNRESOLVED
from sim.running.montecarlo import simulate
from sim.scenario.loading import load_scenario
from sim.scenario.schema import Scenario

DEFAULT_RUNS = 2_000
SMOOTHING = 0.5  # Jeffreys: half a count added to each of the four outcomes
ALL = "all"  # the group of every case, beside the kinds


# --- scoring (pure functions, tested against hand-computed values) ----------------------

def forecast(counts: Sequence[float] | np.ndarray, smoothing: float = SMOOTHING) -> np.ndarray:
    """Probabilities of the outcomes (``OUTCOMES`` order) from counts of each:
    ``(count + smoothing) / (total + smoothing × outcomes)``."""
    c = np.asarray(counts, dtype=float)
    return (c + smoothing) / (c.sum() + smoothing * len(c))


def brier(p: Sequence[float] | np.ndarray, outcome: int) -> float:
    """Multi-class Brier score: sum over outcomes of (p - y)^2; 0 best, 2 worst."""
    y = np.zeros(len(p))
    y[outcome] = 1.0
    return float(np.sum((np.asarray(p, dtype=float) - y) ** 2))


def log_score(p: Sequence[float] | np.ndarray, outcome: int) -> float:
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

    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files += sorted(p.rglob("*.yaml"))
        elif p.exists():
            files.append(p)
        else:
            raise ScenarioError(f"{p}: no such file or folder")
    cases: list[Path] = []
    others: list[Path] = []
    for f in files:
        (cases if _has_actual(f) else others).append(f)
    return cases, others


def _has_actual(path: Path) -> bool:
    """Whether a file (or what it extends) records an outcome; bad files count as cases,
    so that loading them reports their error instead of skipping them silently."""

    try:
        return load_scenario(path).actual is not None
    except ScenarioError:
        return True


def load_cases(files: Sequence[Path]) -> list[Case]:

    cases = []
    for f in files:
        s = load_scenario(f)
        assert s.actual is not None
        cases.append(Case(f, s, s.actual.case or f.stem))
    return cases


def run_cases(cases: Sequence[Case], runs: int, seed: int, workers: int,
              log: Any = None) -> list[Scored]:
    """Simulate every case and score it and its leave-one-out base rate."""

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


def measures(s: Scored) -> dict[str, float]:
    """One forecast's scores, and per outcome its forecast and whether it happened (1/0)."""
    happened = np.eye(len(OUTCOMES))[s.case.scored]
    return {**s.scores(),
            **{f"forecast_{o}": float(p) for o, p in zip(OUTCOMES, s.model, strict=True)},
            **{f"observed_{o}": float(y) for o, y in zip(OUTCOMES, happened, strict=True)}}


def overall(scored: Sequence[Scored]) -> dict[str, dict[str, float]]:
    """Mean scores, mean forecast and observed frequency of each outcome (and their
    difference), over all forecasts and over cases (each case's variants averaged first,
    so a case seen on four dates weighs as much as one seen once); ``n`` counts them."""
    rows = [measures(s) for s in scored]
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


@dataclass(frozen=True)
class Backtest:
    """Every case's scored forecast, and the means by kind (``by_kind``)."""

    scored: list[Scored]
    runs: int
    seed: int
    workers: int
    skipped: list[Path]  # files found that are not cases (no actual: block)

    @property
    def groups(self) -> dict[str, dict[str, dict[str, float]]]:
        return by_kind(self.scored)

    def to_pandas(self) -> Any:
        """One row per forecast: the case, what happened, the model's and both base
        rates' probabilities and scores (needs pandas)."""
        import pandas as pd

        return pd.DataFrame([{
            "case": s.case.case_id, "file": s.case.path.as_posix(), "kind": s.case.kind,
            "scored_outcome": OUTCOMES[s.case.scored],
            **{f"p_{o}": p for o, p in zip(OUTCOMES, s.model, strict=True)},
            **{f"base_{o}": p for o, p in zip(OUTCOMES, s.base, strict=True)},
            **{f"kind_{o}": (math.nan if s.kind_base is None else p)
               for o, p in zip(OUTCOMES, s.kind_base if s.kind_base is not None
                               else s.base, strict=True)},
            **s.scores()} for s in self.scored])
