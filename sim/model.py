"""One replication: build the simpy environment and the actors, run, return an ``Outcome``.

``Model`` is built once per scenario and holds only what does not vary between
replications (keys, structure); ``Model.run(values)`` plays one replication from its
sampled values. ``decision_keys`` lists the uniform draws the actors consume, so the
sampler can draw them in vectorised blocks: no random number is generated inside simpy.
"""

from __future__ import annotations

import math
from typing import Any

import simpy

from sim.actors.approval import approval
from sim.actors.bidder import BidderTerms, bidder
from sim.actors.deadline import DeadlineTerms, deadline
from sim.actors.deal import Deal
from sim.actors.parent import ParentTerms, negotiate, sign
from sim.outcome import SALE, UNRESOLVED, Outcome
from sim.scenario import STRUCTURES, Scenario

BIDDER_DECISIONS = ("investigation", "review_extension", "mitigation", "president", "licence")


def bidder_key(name: str) -> str:
    return f"bidders.{name}"


def deadline_key(deadline_id: str) -> str:
    return f"deadlines.{deadline_id}"


def decision_keys(scenario: Scenario) -> list[str]:
    """Every uniform draw a replication may consume, keyed by the actor it decides for."""
    keys = [f"parent.draw.accepts.{s}" for s in STRUCTURES]
    for b in scenario.bidders:
        keys += [f"{bidder_key(b.name)}.draw.{d}" for d in BIDDER_DECISIONS]
    for d in scenario.deadlines:
        k = deadline_key(d.id)
        keys += [f"{k}.draw.extend.{i}" for i in range(d.extension.max_extensions)]
        keys += [f"{k}.draw.enforce", f"{k}.draw.sue", f"{k}.draw.injunction"]
    return keys


class Model:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.horizon = float(scenario.horizon_days)
        self.deadlines = [
            DeadlineTerms(
                index=i, key=deadline_key(d.id),
                court_key=f"{deadline_key(d.id)}.court" if d.court else "court",
                day=scenario.deadline_day(d), bans=d.on_expiry == "ban",
                max_extensions=d.extension.max_extensions,
                max_total_days=d.extension.max_total_days or math.inf)
            for i, d in enumerate(scenario.deadlines)]
        self.agreed = next((i for i, b in enumerate(scenario.bidders) if b.agreed_at_start), -1)

    def _bidders(self, v: dict[str, float]) -> list[BidderTerms]:
        terms = []
        for i, b in enumerate(self.scenario.bidders):
            k = bidder_key(b.name)
            terms.append(BidderTerms(
                index=i, name=b.name, key=k,
                arrives_day=v[f"{k}.arrives_day"],
                withdraws_day=v.get(f"{k}.withdraws_day", math.inf),
                valuation_bn=v.get(f"{k}.valuation_bn", math.nan),
                opening=v[f"{k}.opening_fraction"],
                exponent=v[f"{k}.concession_exponent"],
                structure=STRUCTURES.index(b.structure),
                us_share=v[f"{k}.us_share"],
                assurance=v[f"{k}.security_assurance"],
                mitigation_acceptance=v[f"{k}.mitigation_acceptance_probability"],
                needs_licence=b.needs_export_licence,
                agreed_price_bn=v.get(f"{k}.agreed_price_bn", math.nan)))
        return terms

    def _parent(self, v: dict[str, float]) -> ParentTerms:
        accepts = tuple(v[f"parent.draw.accepts.{s}"] < v.get(f"parent.accepts.{s}", 1.0)
                        for s in STRUCTURES)
        return ParentTerms(reservation_bn=v["parent.reservation_bn"],
                           aspiration_multiple=v["parent.aspiration_multiple"],
                           exponent=v["parent.concession_exponent"], accepts=accepts)

    def run(self, values: dict[str, float],
            trace: list[tuple[float, str, dict[str, Any]]] | None = None) -> Outcome:
        """Play one replication from its sampled ``values``; ``trace`` collects its events."""
        env = simpy.Environment()
        deal = Deal(env=env, values=values, horizon=self.horizon, trace=trace,
                    present=[False] * len(self.scenario.bidders),
                    pressure_days=[d.day for d in self.deadlines], ended=env.event())
        bidders = self._bidders(values)
        parent = self._parent(values)
        if self.agreed >= 0:
            b = bidders[self.agreed]
            deal.present[b.index] = True
            sign(deal, b, b.agreed_price_bn, approval, bargained=False)
        for b in bidders:
            if b.index != self.agreed:
                env.process(bidder(deal, b))
        for d in self.deadlines:
            env.process(deadline(deal, d))
        deal.negotiator = env.process(negotiate(deal, parent, bidders, approval))
        env.timeout(self.horizon).callbacks.append(lambda _: deal.end(UNRESOLVED))
        env.run(until=deal.ended)
        return self._row(deal, bidders)

    @staticmethod
    def _row(deal: Deal, bidders: list[BidderTerms]) -> Outcome:
        sale = deal.outcome == SALE
        won = bidders[deal.winner] if sale else None
        return Outcome(
            outcome=deal.outcome, day=deal.end_day, winner=deal.winner if sale else -1,
            price_bn=deal.price_bn if sale else math.nan,
            structure=won.structure if won else -1,
            us_share=won.us_share if won else math.nan,
            extensions=deal.extensions, injunction=deal.injunction, phases=deal.phases,
            home_approved=deal.home_approved, agreement_day=deal.agreement_day,
            agreement_vs_deadline=deal.agreement_vs_deadline, deals_signed=deal.deals_signed)

