"""``run.py compare A.yaml B.yaml [...]``: scenarios side by side, with paired differences.

Every scenario runs with the same seed, so replication k of each sees the same uniforms
for every stream key the scenarios share (``parent.reservation_bn``, ``court.…``, the
decisions of a bidder or deadline of the same name): common random numbers. The difference
of an outcome's probability is then estimated from the pairs (replication k in A, in B),
whose positive correlation removes most of the Monte Carlo noise an independent comparison
would carry.

The interval of a paired difference is Newcombe's (1998) hybrid score interval for paired
proportions (his method 10, with the corrected correlation estimate used by Fagerland,
Lydersen & Laake 2017, ch. 8): built from the two Wilson intervals the single
probabilities already use, it stays inside [−1, 1], keeps its coverage near 0 and 1, and
does not collapse to a zero-width interval when the scenarios rarely disagree, all of
which the Wald interval mean ± 1.96·sd/√n of the per-replication differences fails at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import stats
from sim.model.outcome import OUTCOMES
from sim.running.precision import wilson
from sim.running.results import Run

SUMMARY_FORMAT = 1
INTERVAL_METHOD = ("Newcombe (1998) hybrid score interval for paired proportions "
                   "(method 10), pairs = same replication index")


# -- statistics -------------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    """P(outcome in B) − P(outcome in A), from paired replications."""

    difference: float
    low: float
    high: float
    low_independent: float  # the same interval had the runs been independent (φ = 0)
    high_independent: float
    discordant: tuple[int, int]  # replications in B only, in A only

    def as_dict(self) -> dict[str, Any]:
        return {"difference": self.difference, "ci95": [self.low, self.high],
                "ci95_if_independent": [self.low_independent, self.high_independent],
                "only_in_b": self.discordant[0], "only_in_a": self.discordant[1]}


def paired_difference(in_a: np.ndarray, in_b: np.ndarray) -> Difference:
    """Newcombe's interval for P(B) − P(A) from paired indicators of one outcome."""
    in_a, in_b = np.asarray(in_a, bool), np.asarray(in_b, bool)
    n = in_a.size
    both = int(np.sum(in_a & in_b))
    b_only = int(np.sum(in_b & ~in_a))
    a_only = int(np.sum(in_a & ~in_b))
    neither = n - both - b_only - a_only
    p_b, p_a = (both + b_only) / n, (both + a_only) / n
    (l_b, l_a), (u_b, u_a) = wilson(np.array([both + b_only, both + a_only]), n)
    product = float(both + b_only) * (a_only + neither) * (both + a_only) * (b_only + neither)
    cross = float(both) * neither - float(b_only) * a_only
    if product == 0:
        phi = 0.0
    elif cross > n / 2:
        phi = (cross - n / 2) / math.sqrt(product)
    elif cross >= 0:
        phi = 0.0
    else:
        phi = cross / math.sqrt(product)

    def interval(phi: float) -> tuple[float, float]:
        down = (p_b - l_b) ** 2 - 2 * phi * (p_b - l_b) * (u_a - p_a) + (u_a - p_a) ** 2
        up = (u_b - p_b) ** 2 - 2 * phi * (u_b - p_b) * (p_a - l_a) + (p_a - l_a) ** 2
        d = p_b - p_a
        return max(-1.0, d - math.sqrt(max(down, 0.0))), min(1.0, d + math.sqrt(max(up, 0.0)))

    low, high = interval(phi)
    low_i, high_i = interval(0.0)
    return Difference(p_b - p_a, low, high, low_i, high_i, (b_only, a_only))


def incidence_band(days_ended: np.ndarray, runs: int,
                   grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of all runs ended by each day of ``grid``, with its pointwise Wilson band.

    Every run is followed to the horizon, so by any day before it the share is a plain
    binomial proportion (no censoring inside the horizon)."""
    count = np.searchsorted(np.sort(days_ended), grid, side="right")
    low, high = wilson(count, runs)
    return count / runs, low, high


# -- comparing ---------------------------------------------------------------------------

def labels(paths: list[Path]) -> list[str]:
    """Short names for the scenarios: file stems, numbered when two stems coincide."""
    stems = [p.stem for p in paths]
    return [s if stems.count(s) == 1 else f"{s}-{stems[:i + 1].count(s)}"
            for i, s in enumerate(stems)]


def comparison(runs: list[Run], names: list[str]) -> dict[str, Any]:
    """Each scenario's outcome probabilities, and each later one's paired differences
    from the first (the baseline)."""
    base = runs[0].results
    scenarios = []
    for name, run in zip(names, runs, strict=True):
        r, s = run.results, run.scenario
        resolved = stats.curve_quantiles(stats.resolution_curve(r))
        scenarios.append({
            "label": name, "name": s.name, "path": str(run.path),
            "sha256": s.source.sha256, "start": s.start.isoformat(),
            "horizon_days": s.horizon_days,
            "outcomes": {k: v.as_dict() for k, v in stats.outcome_probabilities(r).items()},
            "resolved_by_day": dict(zip(("p10", "p50", "p90"), resolved, strict=True)),
            "due_dates": [{"key": d.key, "day": d.day, "date": d.date.isoformat()}
                          for d in s.due_dates]})
    differences = []
    for name, run in zip(names[1:], runs[1:], strict=True):
        r = run.results
        transitions = np.zeros((len(OUTCOMES), len(OUTCOMES)), dtype=int)
        np.add.at(transitions, (base["outcome"], r["outcome"]), 1)
        differences.append({
            "scenario": name, "baseline": names[0],
            "outcomes": {o: paired_difference(base["outcome"] == code,
                                              r["outcome"] == code).as_dict()
                         for code, o in enumerate(OUTCOMES)},
            "same_outcome_share": float(np.mean(base["outcome"] == r["outcome"])),
            "transitions": {a: {b: int(transitions[i, j]) for j, b in enumerate(OUTCOMES)}
                            for i, a in enumerate(OUTCOMES)}})
    return {"scenarios": scenarios, "differences": differences}


@dataclass(frozen=True)
class Comparison:
    """Runs of two or more scenarios with one seed, and what differs between them."""

    runs: list[Run]
    labels: list[str]
    scenarios: list[dict[str, Any]]  # each one's outcomes and timing (``comparison``)
    differences: list[dict[str, Any]]  # each later one's paired differences from the first

    def to_dict(self) -> dict[str, Any]:
        return {"scenarios": self.scenarios, "differences": self.differences}

    def to_pandas(self) -> Any:
        """One row per scenario and outcome: probability, interval, and the paired
        difference from the first scenario with its interval (needs pandas)."""
        import pandas as pd

        rows = []
        for i, s in enumerate(self.scenarios):
            for o, p in s["outcomes"].items():
                d = self.differences[i - 1]["outcomes"][o] if i else None
                rows.append({"scenario": s["label"], "outcome": o,
                             "probability": p["probability"], "low": p["ci95"][0],
                             "high": p["ci95"][1],
                             "difference": d["difference"] if d else 0.0,
                             "difference_low": d["ci95"][0] if d else 0.0,
                             "difference_high": d["ci95"][1] if d else 0.0})
        frame = pd.DataFrame(rows)
        frame["outcome"] = pd.Categorical(frame["outcome"], categories=OUTCOMES)
        return frame


def compare_runs(runs: list[Run]) -> Comparison:
    """The comparison of finished runs, the first being the baseline."""
    names = labels([r.path for r in runs])
    found = comparison(runs, names)
    return Comparison(runs, names, found["scenarios"], found["differences"])
