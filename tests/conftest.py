"""Shared helpers for the test suite: scenarios from YAML text or dicts, Monte Carlo
intervals, and the realistic sample scenario.

Tests import the helpers with ``from conftest import ...`` (pytest puts ``tests/`` on
``sys.path``); the repository root is added too, so ``import sim`` works however pytest is
started.
"""

from __future__ import annotations

import copy
import datetime as dt
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.montecarlo import simulate  # noqa: E402
from sim.outcome import SALE, SHUTDOWN, UNRESOLVED  # noqa: E402
from sim.results import Results  # noqa: E402
from sim.scenario import Scenario, parse_scenario  # noqa: E402

START = dt.date(2021, 1, 1)

# A copy of the sample scenario (/tmp/t.yaml): a realistic case with an agreed deal that
# needs an export licence, a late bidder who bargains, a deadline with extensions and a
# court that may enjoin the ban.
REALISTIC_YAML = """\
name: test
start: 2020-09-14
horizon_days: 365
deadlines:
  - id: ban
    date: 2020-09-20
    extension: {probability_if_deal_in_progress: 0.7, probability_otherwise: 0.1, days: {dist: triangular, low: 7, mode: 7, high: 30}, max_extensions: 2}
    court: {sue_probability: 0.9, injunction_probability: 0.6}
parent:
  name: ByteDance
  reservation_bn: {dist: lognormal, median: 30, sigma: 0.25}
  concession_exponent: 0.4
  accepts: {full_acquisition: 0.2}
bidders:
  - name: Oracle
    structure: minority_partnership
    us_share: 0.2
    valuation_bn: {dist: triangular, low: 15, mode: 20, high: 30}
    agreed_at_start: true
    agreed_price_bn: 20
    security_assurance: {dist: beta, mean: 0.6, sd: 0.15}
    needs_export_licence: true
  - name: Microsoft
    arrives_day: {dist: exponential, mean: 20}
    valuation_bn: {dist: uniform, low: 20, high: 35}
    concession_exponent: 0.5
home_government: {approval_probability: 0.5, decision_days: {dist: uniform, low: 10, high: 60}}
committee:
  review_days: {dist: uniform, low: 3, high: 10}
"""  # noqa: E501


def scenario(text: str, source: str = "<test>") -> Scenario:
    """A scenario from YAML text (dedented, so tests can indent their documents)."""
    return parse_scenario(textwrap.dedent(text), source)


def scenario_from(data: dict[str, Any]) -> Scenario:
    """A scenario from a plain mapping, through the same YAML loader as a file."""
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), "<dict>")


def realistic() -> dict[str, Any]:
    """A fresh, editable mapping of the realistic scenario."""
    return copy.deepcopy(_REALISTIC)


_REALISTIC: dict[str, Any] = yaml.safe_load(REALISTIC_YAML)


def day(n: float, start: dt.date = START) -> str:
    """The ISO date ``n`` days after ``start`` (deadlines are written as dates)."""
    return (start + dt.timedelta(days=int(n))).isoformat()


def run(s: Scenario, runs: int, seed: int, workers: int = 1) -> Results:
    return simulate(s, runs, seed, workers)


def shares(results: Results) -> np.ndarray:
    """P(sale), P(shutdown), P(unresolved) as observed."""
    return np.bincount(results["outcome"], minlength=3)[:3] / len(results)


def count(results: Results, code: int) -> int:
    return int(np.sum(results["outcome"] == code))


def interval(k: int, n: int, level: float = 0.999) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a binomial proportion."""
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def assert_proportion(k: int, n: int, exact: float, what: str, level: float = 0.999) -> None:
    """The simulated count ``k`` of ``n`` is consistent with the exact probability."""
    low, high = interval(k, n, level)
    assert low <= exact <= high, (
        f"{what}: exact {exact:.5f} outside the {level:.1%} interval [{low:.5f}, {high:.5f}] "
        f"of the simulated {k}/{n} = {k / n:.5f}")


def assert_outcomes(results: Results, exact: dict[int, float], level: float = 0.999) -> None:
    """Each outcome's simulated share is consistent with its exact probability."""
    n = len(results)
    names = {SALE: "P(sale)", SHUTDOWN: "P(shutdown)", UNRESOLVED: "P(unresolved)"}
    for code, p in exact.items():
        k = count(results, code)
        if p in (0.0, 1.0):
            assert k == round(p * n), f"{names[code]} must be exactly {p}, got {k}/{n}"
        else:
            assert_proportion(k, n, p, names[code], level)


def deadline_effect_scenario(exponent: float) -> Scenario:
    """One bidder bargaining against a ban on day 120, both conceding with ``exponent``."""
    return scenario(f"""
        name: deadline effect
        start: {day(0)}
        horizon_days: 365
        deadlines:
          - id: ban
            date: {day(120)}
        court: {{sue_probability: 0}}
        parent:
          name: P
          reservation_bn: {{dist: lognormal, median: 30, sigma: 0.2}}
          aspiration_multiple: 1.5
          concession_exponent: {exponent}
        bidders:
          - name: B
            valuation_bn: {{dist: uniform, low: 30, high: 50}}
            opening_fraction: 0.6
            concession_exponent: {exponent}
    """)
