"""Shared helpers for the test suite: scenarios from YAML text or dicts, Monte Carlo
intervals, traced replications, and the realistic and rich sample scenarios.

Tests import the helpers with ``from conftest import ...`` (pytest puts ``tests/`` on
``sys.path``); the repository root is added too, so ``import sim`` works however pytest is
started.

Two tiers: ``pytest`` runs everything; ``pytest -m "not slow"`` is the fast tier (well under
a minute on 2 cores, at least one test of every module). A test is marked
``@pytest.mark.slow`` when it costs more than about half a second of CPU: thousands of
replications, a sweep, a subprocess of ``run.py`` (each imports the whole model), or a
browser. Count a module-scoped fixture's set-up too: every test that uses an expensive
fixture is slow, else the fast tier pays for the fixture.
"""

from __future__ import annotations

import copy
import datetime as dt
import sys
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import yaml
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim.model.outcome import ABANDONED, OUTCOMES, SALE, SHUTDOWN, UNRESOLVED, Outcome  # noqa: E402
from sim.model.replication import Model  # noqa: E402
from sim.running.montecarlo import simulate  # noqa: E402
from sim.running.results import Results  # noqa: E402
from sim.running.sampling import sample_block  # noqa: E402
from sim.scenario.loading import parse_scenario  # noqa: E402
from sim.scenario.schema import Scenario  # noqa: E402

START = dt.date(2021, 1, 1)

# A realistic case (model v2): an agreed deal that needs an export licence, a late bidder
# who bargains, a ban whose enforcement extends while a deal is in progress, and a court
# where the parent may win an injunction. Line numbers are used by test_fuzz.py.
REALISTIC_YAML = """\
name: test
start: 2020-09-14
horizon_days: 365
instruments:
  - id: ban
    kind: service_ban
    date: 2020-09-20
    enforcement:
      extend: {otherwise: 0.1, signed: 0.7, under_review: 0.7, approved_in_concept: 0.7}
      extension_days: {dist: triangular, low: 7, mode: 7, high: 30}
      max_extensions: 2
    court:
      plaintiffs: [{name: ByteDance, sue_probability: 0.9}]
      injunction_probability: 0.6
      ruling_days: {dist: uniform, low: 3, high: 20}
parent:
  name: ByteDance
  reservation_bn: {dist: lognormal, median: 30, sigma: 0.25}
  concession_exponent: 0.4
  accepts: {full_acquisition: 0.2}
bidders:
  - name: Oracle
    structure: minority_partnership
    terms: {parent_stake: 0.8}
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
"""

# Everything model v2 has, in one business: a tiered ban (app stores, then hosting) with
# extensions, forbearance and lapse by stage; a divestiture order enforced by a trustee or
# penalties; a lapse date; plaintiffs filing before and after the ban, settlement, appeal,
# reversal, vacatur with remand; dated politics (an election that changes the chances, an
# inauguration that revokes the ban and orders a fresh review); a home-government stance
# with per-structure licences; a president with block / nothing / in-concept shares.
RICH_YAML = """\
name: rich
start: 2020-09-14
horizon_days: 400
instruments:
  - id: ban
    kind: service_ban
    issued: 2020-08-06
    date: 2020-09-20
    tiers:
      - {id: app_store, date: 2020-09-20, dark: false}
      - {id: hosting, date: 2020-11-12, dark: true}
    enforcement:
      extend: {otherwise: 0.15, under_review: 0.6, approved_in_concept: 0.8}
      forbear: {otherwise: 0.1}
      lapse: {otherwise: 0.05, approved_in_concept: 0}
      extension_days: {dist: triangular, low: 7, mode: 7, high: 30}
      max_extensions: 3
      forbearance_days: {dist: uniform, low: 20, high: 90}
      max_forbearances: 2
    court:
      plaintiffs:
        - {name: ByteDance, sue_probability: 0.9, files_day: -27}
        - {name: Users, sue_probability: 0.6, files_day: {dist: uniform, low: -10, high: 40}, injunction_probability: 0.6}
      ruling_days: {dist: uniform, low: 5, high: 40}
      injunction_probability: 0.4
      settlement_probability: 0.05
      appeal_probability: 0.7
      appeal_days: {dist: uniform, low: 40, high: 150}
      reversal_probability: 0.4
      vacatur_probability: 0.5
      remand_days: {dist: uniform, low: 20, high: 60}
  - id: s721
    kind: divestiture_order
    issued: 2020-08-14
    date: 2020-11-12
    enforcement:
      extend: {otherwise: 0.3, under_review: 0.4}
      extension_days: {dist: uniform, low: 7, high: 30}
      max_extensions: 3
      max_total_extension_days: 45
      forbear: {otherwise: 0.1}
      forbearance_days: 60
      max_forbearances: 1
      lapse: {otherwise: 0.1}
      trustee_probability: 0.6
      trustee_days: {dist: uniform, low: 20, high: 90}
      trustee_floor: 0.6
    qualifying: {max_parent_stake: 0, technology: [transferred, rebuilt]}
    court:
      plaintiffs: [{name: ByteDance, sue_probability: 0.5, files_day: 10}]
      ruling_days: 30
      injunction_probability: 0.3
  - id: talks
    kind: lapse
    date: 2020-10-15
politics:
  - id: election
    label: the election
    date: 2020-11-03
    probability: 0.6
    set: {instruments.ban.enforcement.lapse.otherwise: 0.3, instruments.s721.enforcement.forbear.otherwise: 0.5}
  - {id: inauguration, date: 2021-01-20, requires: election, revoke: [ban], fresh_review: true}
parent:
  name: ByteDance
  reservation_bn: {dist: lognormal, median: 22, sigma: 0.25}
  concession_exponent: 0.4
  accepts: {full_acquisition: 0.4, majority: 0.7}
  accepts_technology: {transferred: 0.6}
  follows_home_government: 0.6
  threat_discount: 0.2
  delay_cost_per_year: 0.1
bidders:
  - name: Oracle
    agreed_at_start: true
    agreed_price_bn: 20
    structure: minority_partnership
    terms: {parent_stake: 0.8, technology: retained, trusted_partner: true}
    security_assurance: {dist: beta, mean: 0.5, sd: 0.15}
    mitigation_acceptance_probability: 0.5
    mitigation_counter_share: 0.6
    refile: {probability: 0.5, max: 2, days: {dist: uniform, low: 10, high: 30}, improvement: 0.1}
    needs_export_licence: true
  - name: Microsoft
    arrives_day: {dist: uniform, low: 7, high: 60}
    withdraws_day: {dist: uniform, low: 60, high: 400}
    structure: full_acquisition
    valuation_bn: {dist: uniform, low: 15, high: 32}
    security_assurance: {dist: beta, mean: 0.8, sd: 0.1}
    needs_export_licence: true
  - name: Walmart
    arrives_day: {dist: uniform, low: 30, high: 200}
    structure: majority
    terms: {parent_stake: 0.4, technology: licensed}
    valuation_bn: {dist: uniform, low: 12, high: 28}
    minority_value: 0.8
    technology_value: {licensed: 0.9}
    joins: {bidder: Oracle, probability: 0.4, day: {dist: uniform, low: 5, high: 40}, stake: 0.075, assurance: 0.05}
home_government:
  name: China
  approval_probability: 0.5
  approval_by_structure: {full_acquisition: 0.25}
  approval_by_technology: {retained: 0.8}
  decision_days: {dist: triangular, low: 14, mode: 42, high: 90}
committee:
  review_days: {dist: uniform, low: 3, high: 10}
  investigation_probability: 0.5
  investigation_days: {dist: uniform, low: 10, high: 45}
  extension_probability: 0.3
  max_mitigation_rounds: 3
  assessment: {data_localisation: 0.05, source_code_review: 0.05, trusted_partner: 0.05, parent_stake: 0.1}
president:
  decision_days: {dist: uniform, low: 1, high: 15}
  on_clear: {block: 0.05, nothing: 0.05, in_concept: 0.3}
  on_block: {block: 0.7, nothing: 0.1, in_concept: 0.1}
  in_concept: {window_days: {dist: uniform, low: 14, high: 60}, finalise_probability: 0.6}
closing:
  days: {dist: triangular, low: 7, mode: 21, high: 60}
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


def rich() -> dict[str, Any]:
    """A fresh, editable mapping of the rich scenario."""
    return copy.deepcopy(_RICH)


_REALISTIC: dict[str, Any] = yaml.safe_load(REALISTIC_YAML)
_RICH: dict[str, Any] = yaml.safe_load(RICH_YAML)


def day(n: float, start: dt.date = START) -> str:
    """The ISO date ``n`` days after ``start`` (instruments are written with dates)."""
    return (start + dt.timedelta(days=int(n))).isoformat()


def run(s: Scenario, runs: int, seed: int, workers: int = 1) -> Results:
    return simulate(s, runs, seed, workers)


def shares(results: Results) -> np.ndarray:
    """P(sale), P(shutdown), P(abandoned), P(unresolved) as observed."""
    return np.bincount(results["outcome"], minlength=len(OUTCOMES)) / len(results)


def count(results: Results, code: int) -> int:
    return int(np.sum(results["outcome"] == code))


def interval(k: int, n: int, level: float = 0.999) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval for a binomial proportion."""
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def assert_proportion(k: int, n: int, exact: float, what: str, level: float = 0.999) -> None:
    """The simulated count ``k`` of ``n`` is consistent with the exact probability
    (exactly equal when the probability is 0 or 1)."""
    if exact in (0.0, 1.0):
        assert k == round(exact * n), f"{what} must be exactly {exact}, got {k}/{n}"
        return
    low, high = interval(k, n, level)
    assert low <= exact <= high, (
        f"{what}: exact {exact:.5f} outside the {level:.1%} interval [{low:.5f}, {high:.5f}] "
        f"of the simulated {k}/{n} = {k / n:.5f}")


NAMES = {SALE: "P(sale)", SHUTDOWN: "P(shutdown)", ABANDONED: "P(abandoned)",
         UNRESOLVED: "P(unresolved)"}


def assert_outcomes(results: Results, exact: dict[int, float], level: float = 0.999) -> None:
    """Each outcome's simulated share is consistent with its exact probability."""
    n = len(results)
    for code, p in exact.items():
        assert_proportion(count(results, code), n, p, NAMES[code], level)


class Played(NamedTuple):
    """One replication played with tracing on: its draws, its row and its event log."""

    values: dict[str, float]
    draws: dict[str, list[float]]
    outcome: Outcome
    trace: list[tuple[float, str, dict[str, Any]]]

    def kinds(self) -> list[str]:
        return [kind for _, kind, _ in self.trace]

    def events(self, kind: str) -> list[tuple[float, dict[str, Any]]]:
        return [(t, d) for t, k, d in self.trace if k == kind]


def play(s: Scenario, n: int, seed: int, block: int = 0) -> list[Played]:
    """The first ``n`` replications of stream block ``block``, each traced: the very
    replications ``simulate`` runs (block 0 holds replications 0 to 999)."""
    model = Model(s)
    played = []
    for values, draws, row in sample_block(s, seed, block, n).rows():
        trace: list[tuple[float, str, dict[str, Any]]] = []
        outcome = model.run(values, draws, row, trace=trace)
        played.append(Played(values, {k: rows[row] for k, rows in draws.items()}, outcome,
                             trace))
    return played


def deadline_effect_scenario(exponent: float) -> Scenario:
    """One bidder bargaining against a ban on day 120, both conceding with ``exponent``."""
    return scenario(f"""
        name: deadline effect
        start: {day(0)}
        horizon_days: 365
        instruments:
          - id: ban
            kind: service_ban
            date: {day(120)}
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
