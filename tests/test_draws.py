"""The draws each actor declares (``DRAWS`` beside the code that reads them) add up to
exactly the streams the model always had: the same keys, counts and order, since the
streams are keyed by name and a key spelled differently would change every number; and
the model reads only streams so declared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import realistic, rich, scenario_from

from sim.model.draws import Draws
from sim.model.replication import DRAWS, Model, decision_keys, occurrences
from sim.running.sampling import sample_block
from sim.scenario.inputs import uncertain_inputs
from sim.scenario.loading import load_scenario
from sim.scenario.schema import STRUCTURES, TECHNOLOGIES, Scenario, instrument_key

ROOT = Path(__file__).resolve().parents[1]


def central_occurrences(scenario: Scenario) -> dict[str, int]:
    """The streams as ``replication.py`` listed them centrally before each actor declared
    its own (frozen here, verbatim but for names, as the reference)."""
    cycle = ("investigation", "review_extension", "refile")
    signing = ("president", "finalise", "licence")
    suit = ("sue", "ruling", "appeal", "reversal", "vacatur")
    filing = ("committee.review_days", "committee.investigation_days",
              "committee.extension_days", "committee.mitigation_days",
              "president.decision_days", "president.in_concept.window_days",
              "president.abandon_days", "home_government.decision_days", "closing.days")
    fresh = sum(e.fresh_review for e in scenario.politics)
    suitors = scenario.suitors
    signings = len(suitors) + fresh + 1
    cycles = 1 + max((b.refile.max for b in suitors), default=0)
    rounds = scenario.committee.max_mitigation_rounds
    found = {key: signings * cycles for key in filing}
    found["committee.mitigation_days"] = signings * cycles * rounds
    if scenario.entrants is not None:
        found.update({key: scenario.entrants.max for key in uncertain_inputs(scenario)
                      if key.startswith("entrants.template.")})
        found["entrants.gap_days"] = scenario.entrants.max
    for b in suitors:
        k = f"bidders.{b.name}"
        mine = (1 + fresh) * (1 + b.refile.max)
        found.update({f"{k}.draw.{d}": mine for d in cycle})
        found.update({f"{k}.draw.{d}": 1 + fresh for d in signing})
        found[f"{k}.draw.mitigation"] = mine * rounds
        found[f"{k}.refile.days"] = max((1 + fresh) * b.refile.max, 1)
        if b.joins is not None:
            found[f"{k}.draw.join"] = 1
    filings = signings * cycles
    suits_per_court: dict[str, int] = {}
    for ins in scenario.instruments:
        e = ins.enforcement
        tiers = max(len(ins.tiers), 1)
        court = ins.court or scenario.court
        regimes = 1 + len(scenario.politics)
        forbearances = e.max_forbearances * regimes
        looks = (e.max_extensions + forbearances + 2 + filings + len(scenario.politics)
                 + 2 * len(court.plaintiffs))
        for tier in ins.tiers or [None]:
            key = instrument_key(ins.id, tier.id if tier else None)
            found[f"{key}.draw.decide"] = found[f"{key}.draw.remedy"] = 1
        p = f"instruments.{ins.id}.enforcement"
        found[f"{p}.extension_days"] = max(e.max_extensions, 1) * tiers
        found[f"{p}.forbearance_days"] = max(forbearances, 1) * tiers
        found[f"{p}.trustee_days"] = looks * tiers
        if ins.kind in ("service_ban", "divestiture_order"):
            prefix = f"instruments.{ins.id}.court" if ins.court else "court"
            suits_per_court[prefix] = suits_per_court.get(prefix, 0) + len(court.plaintiffs)
            found[f"instruments.{ins.id}.draw.settlement"] = 1
            for pl in court.plaintiffs:
                found.update({f"instruments.{ins.id}.plaintiffs.{pl.name}.draw.{d}": 1
                              for d in suit})
    for prefix, count in suits_per_court.items():
        found[f"{prefix}.ruling_days"] = max(count, 1) * 8
        found[f"{prefix}.appeal_days"] = max(count, 1)
    for ev in scenario.politics:
        found[f"politics.{ev.id}.draw.happens"] = 1
    return found


CENTRAL_LATENT = ["home_government.draw.stance", *(f"parent.draw.accepts.{s}" for s in STRUCTURES),
                  *(f"parent.draw.technology.{t}" for t in TECHNOLOGIES)]


def pending_twin() -> dict[str, Any]:
    doc = rich()
    doc["subject"] = "pending_transaction"
    doc["instruments"][1] = {"id": "s721", "kind": "transaction_termination",
                             "date": "2020-11-12"}
    return doc


def with_entrants() -> dict[str, Any]:
    """The rich scenario with up to three entrants and two mitigation rounds."""
    doc = rich()
    doc["entrants"] = {"gap_days": {"dist": "exponential", "mean": 50}, "max": 3,
                       "template": {"name": "Newcomer", "valuation_bn": 12,
                                    "security_assurance": 0.6}}
    doc.setdefault("committee", {})["max_mitigation_rounds"] = 2
    return doc


def every_scenario() -> list[tuple[str, Scenario]]:
    files = sorted([*(ROOT / "scenarios").glob("*.yaml"),
                    *(ROOT / "scenarios" / "cases").glob("*.yaml")])
    return [("realistic", scenario_from(realistic())), ("rich", scenario_from(rich())),
            ("pending twin", scenario_from(pending_twin())),
            ("entrants", scenario_from(with_entrants())),
            *((path.name, load_scenario(path)) for path in files)]


@pytest.mark.parametrize(("name", "s"), every_scenario(), ids=lambda x: x
                         if isinstance(x, str) else "")
def test_declared_draws_are_the_streams_the_model_always_had(name: str, s: Scenario) -> None:
    """Same keys, same counts, same order, for every scenario the project ships."""
    assert list(occurrences(s).items()) == list(central_occurrences(s).items()), name
    assert decision_keys(s) == CENTRAL_LATENT


def test_merge_keeps_the_parts_in_order() -> None:
    a, b = Draws(latent=("x",), tier_once=("d",)), Draws(latent=("y", "z"))
    assert Draws.merge(a, b) == Draws(latent=("x", "y", "z"), tier_once=("d",))
    assert all(len(set(getattr(DRAWS, f))) == len(getattr(DRAWS, f))
               for f in Draws.__dataclass_fields__)  # no stream declared twice


class Reads(dict[str, list[list[float]]]):
    """The block's draws, noting every stream the model reads."""

    read: set[str]

    def __getitem__(self, key: str) -> list[list[float]]:
        self.read.add(key)
        return super().__getitem__(key)


@pytest.mark.slow
def test_the_model_reads_only_declared_streams_and_every_one_but_licence() -> None:
    """Every stream read is sized (else the run would fail), and between 600 replications
    each of the rich scenario and its twins, every declared stream is read by some bidder,
    instrument, plaintiff or event: all but ``licence``, sized but decided by the stance."""
    names = {name for f in Draws.__dataclass_fields__ if f != "latent"  # kept with values
             for name in getattr(DRAWS, f)}
    unread = set(names)
    for doc in (rich, pending_twin, with_entrants):
        s = scenario_from(doc())
        model, declared = Model(s), set(occurrences(s))
        read: set[str] = set()
        for values, draws, row in sample_block(s, 5, 0, 600).rows():
            seen = Reads(draws)
            seen.read = read
            model.run(values, seen, row)
        assert read <= declared
        unread -= {n for n in names for k in read if k == n or k.endswith("." + n)}
    assert unread == {"licence"}
