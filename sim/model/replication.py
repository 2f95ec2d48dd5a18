"""One replication: build the simpy environment and the actors, run, return an ``Outcome``.

``Model`` is built once per scenario and holds only what does not vary between
replications (keys, structure, stream sizes); ``Model.run(values, draws)`` plays one
replication from its sampled values. Two kinds of draws feed it, both drawn by the
sampler in vectorised blocks, so that no random number is generated inside simpy:

- ``values``: every scenario input, once per replication, and the few latent uniforms
  drawn once (the home government's stance, the parent's structure draws);
- ``draws``: per-occurrence streams, ``occurrences(scenario)`` sized from the scenario's
  own caps: each duration (a review, an extension, a ruling ...) and each decision's
  uniform, the k-th occurrence always from the k-th stream of its key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import simpy

from sim.model.actors.approval import DRAWS as APPROVAL
from sim.model.actors.approval import approval, fresh_review
from sim.model.actors.authority import DRAWS as AUTHORITY
from sim.model.actors.authority import authority
from sim.model.actors.bidder import DRAWS as BIDDER
from sim.model.actors.bidder import BidderTerms, bidder, may_join
from sim.model.actors.committee import DRAWS as COMMITTEE
from sim.model.actors.court import DRAWS as COURT
from sim.model.actors.court import RULING_TRIES, SuitTerms, suit
from sim.model.actors.deal import Deal, Package, Tier
from sim.model.actors.home_government import DRAWS as HOME_GOVERNMENT
from sim.model.actors.parent import DRAWS as PARENT
from sim.model.actors.parent import negotiate, parent_terms, sign
from sim.model.actors.politics import DRAWS as POLITICS
from sim.model.actors.politics import EventTerms, event
from sim.model.actors.president import DRAWS as PRESIDENT
from sim.model.draws import (
    Draws,
    bidder_key,
    court_prefix,
    draw,
    enforcement_key,
    event_key,
    has_court,
    instrument_prefix,
    key,
    plaintiff_key,
)
from sim.model.events import Event
from sim.model.outcome import SALE, Outcome
from sim.scenario.inputs import uncertain_inputs
from sim.scenario.schema import TECHNOLOGIES, Scenario, instrument_key

# Every stream the model reads, as each actor declares it beside the code that reads it,
# in this order of the actors (which keeps each group's keys in their historical order).
DRAWS = Draws.merge(COMMITTEE, PRESIDENT, HOME_GOVERNMENT, PARENT, APPROVAL, BIDDER,
                    AUTHORITY, COURT, POLITICS)

ENTRANT = "entrants.template."


def decision_keys(scenario: Scenario) -> list[str]:
    """The uniforms drawn once per replication (kept with ``values``)."""
    return list(DRAWS.latent)


def occurrences(scenario: Scenario) -> dict[str, int]:
    """Every per-occurrence stream and how many occurrences one replication may use.

    Each count is a bound the model cannot exceed: deals signed are at most the bidders
    plus the fresh reviews; an authority enforces at most once per look: once per
    extension, forbearance (each regime has its own count) and end, plus once per thing
    that can make it look again (a failed deal, a lifted injunction or remand, a political
    event). The authority's disposition and remedy are one draw each per run.
    """
    fresh = sum(e.fresh_review for e in scenario.politics)
    suitors = scenario.suitors
    signings = len(suitors) + fresh + 1
    cycles = 1 + max((b.refile.max for b in suitors), default=0)
    rounds = scenario.committee.max_mitigation_rounds
    found = dict.fromkeys(DRAWS.filing_days, signings * cycles)
    found.update(dict.fromkeys(DRAWS.round_days, signings * cycles * rounds))
    if scenario.entrants is not None:  # each entrant draws its own terms and gap
        found.update({k: scenario.entrants.max for k in uncertain_inputs(scenario)
                      if k.startswith(ENTRANT)})
        found["entrants.gap_days"] = scenario.entrants.max
    for b in suitors:
        k = bidder_key(b.name)
        mine = (1 + fresh) * (1 + b.refile.max)
        found.update({draw(k, d): mine for d in DRAWS.bidder_filing})
        found.update({draw(k, d): 1 + fresh for d in DRAWS.bidder_signing})
        found.update({draw(k, d): mine * rounds for d in DRAWS.bidder_round})
        found.update({key(k, d): max((1 + fresh) * b.refile.max, 1)
                      for d in DRAWS.bidder_refiling_days})
        if b.joins is not None:
            found.update({draw(k, d): 1 for d in DRAWS.partner_once})
    filings = signings * cycles
    suits_per_court: dict[str, int] = {}
    for ins in scenario.instruments:
        e = ins.enforcement
        tiers = max(len(ins.tiers), 1)
        court = ins.court or scenario.court
        regimes = 1 + len(scenario.politics)  # each regime has its own forbearance count
        forbearances = e.max_forbearances * regimes
        looks = (e.max_extensions + forbearances + 2 + filings + len(scenario.politics)
                 + 2 * len(court.plaintiffs))
        for tier in ins.dates:
            t = instrument_key(ins.id, tier.id if tier else None)
            found.update({draw(t, d): 1 for d in DRAWS.tier_once})  # once a run
        p = enforcement_key(ins.id)
        found.update({key(p, d): max(e.max_extensions, 1) * tiers for d in DRAWS.extension_days})
        found.update({key(p, d): max(forbearances, 1) * tiers for d in DRAWS.forbearance_days})
        found.update({key(p, d): looks * tiers for d in DRAWS.look_days})
        if has_court(ins):
            prefix = court_prefix(ins)
            suits_per_court[prefix] = suits_per_court.get(prefix, 0) + len(court.plaintiffs)
            found.update({draw(instrument_prefix(ins.id), d): 1 for d in DRAWS.court_once})
            for pl in court.plaintiffs:
                found.update({draw(plaintiff_key(ins.id, pl.name), d): 1
                              for d in DRAWS.plaintiff_once})
    for prefix, count in suits_per_court.items():
        found.update({key(prefix, d): max(count, 1) * RULING_TRIES for d in DRAWS.ruling_days})
        found.update({key(prefix, d): max(count, 1) for d in DRAWS.suit_days})
    for ev in scenario.politics:
        found.update({draw(event_key(ev.id), d): 1 for d in DRAWS.event_once})
    return found


@dataclass(frozen=True, slots=True)
class TierSpec:
    """What one tier's authority process needs that does not vary between replications."""

    instrument: int
    key: str
    enforcement: str
    kind: str
    dark: bool
    issued: float
    day: float
    hold: bool
    max_extensions: int
    max_total: float
    max_forbearances: int
    extension_mean: float
    forbearance_mean: float


class Model:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.horizon = float(scenario.horizon_days)
        self.pending = scenario.subject == "pending_transaction"
        self.tiers: list[TierSpec] = []
        self.suits: list[SuitTerms] = []
        inputs = uncertain_inputs(scenario)
        index = {ins.id: i for i, ins in enumerate(scenario.instruments)}
        for i, ins in enumerate(scenario.instruments):
            e = ins.enforcement
            issued = scenario.day_of(ins.issued) if ins.issued else 0.0
            p = enforcement_key(ins.id)
            for tier in ins.dates:
                date = tier.date if tier else ins.date
                self.tiers.append(TierSpec(
                    i, instrument_key(ins.id, tier.id if tier else None), p, ins.kind,
                    tier.dark if tier else ins.kind == "service_ban", issued,
                    scenario.day_of(date), e.hold_for_approved_deal,
                    e.max_extensions, e.max_total_extension_days or math.inf,
                    e.max_forbearances,
                    min(inputs[f"{p}.extension_days"].average(),
                        e.max_total_extension_days or math.inf),
                    inputs[f"{p}.forbearance_days"].average()))
            if has_court(ins):
                prefix = court_prefix(ins)
                first = min([scenario.day_of(ins.date), *(scenario.day_of(t.date)
                                                          for t in ins.tiers)])
                self.suits += [SuitTerms(
                    instrument=i, name=pl.name,
                    key=plaintiff_key(ins.id, pl.name), court=prefix,
                    plaintiff=f"{prefix}.plaintiffs.{pl.name}",
                    settlement=instrument_prefix(ins.id), first_day=first)
                    for pl in (ins.court or scenario.court).plaintiffs]
        ids = [e.id for e in scenario.politics]
        self.events = [EventTerms(
            index=k, key=event_key(e.id), day=scenario.day_of(e.date),
            requires=ids.index(e.requires) if e.requires else -1,
            sets=tuple((path, f"politics.{e.id}.set.{path}") for path in e.set),
            revokes=tuple(index[r] for r in e.revoke), fresh_review=e.fresh_review)
            for k, e in enumerate(scenario.politics)]
        self.suitors = scenario.suitors
        self.agreed = next((i for i, b in enumerate(self.suitors) if b.agreed_at_start), -1)
        names = [b.name for b in self.suitors]
        self.joins = [(i, names.index(b.joins.bidder)) for i, b in enumerate(self.suitors)
                      if b.joins is not None]
        self.entrant_inputs = [key.removeprefix(ENTRANT) for key in inputs
                               if key.startswith(ENTRANT)]
        self.entrant_names = scenario.entrants.names() if scenario.entrants else []
        self.tests = [ins.qualifying for ins in scenario.instruments]

    def _bidders(self, v: dict[str, float]) -> list[BidderTerms]:
        terms = []
        for i, b in enumerate(self.suitors):
            k = bidder_key(b.name)
            terms.append(BidderTerms(
                index=i, name=b.name, key=k,
                arrives_day=v[f"{k}.arrives_day"],
                withdraws_day=v.get(f"{k}.withdraws_day", math.inf),
                valuation_bn=v.get(f"{k}.valuation_bn", math.nan),
                minority_value=v[f"{k}.minority_value"],
                technology_value=tuple(v.get(f"{k}.technology_value.{t}", 1.0)
                                       for t in TECHNOLOGIES),
                opening=v[f"{k}.opening_fraction"],
                exponent=v[f"{k}.concession_exponent"],
                assurance=v[f"{k}.security_assurance"],
                mitigation_acceptance=v[f"{k}.mitigation_acceptance_probability"],
                mitigation_counter=(1 - v[f"{k}.mitigation_acceptance_probability"])
                * v[f"{k}.mitigation_counter_share"],
                refile_probability=v[f"{k}.refile.probability"],
                max_refilings=b.refile.max,
                needs_licence=b.needs_export_licence,
                agreed_price_bn=v.get(f"{k}.agreed_price_bn", math.nan)))
        return terms

    def _packages(self, v: dict[str, float]) -> list[Package]:
        found = []
        for b in self.suitors:
            k, t = f"{bidder_key(b.name)}.terms", b.terms
            stake = v.get(f"{k}.parent_stake", 0.0)
            found.append(Package(
                parent_stake=stake, technology=TECHNOLOGIES.index(t.technology),
                board_seats=v.get(f"{k}.board_seats", 1.0 - stake),
                data_localisation=t.data_localisation,
                source_code_review=t.source_code_review, trusted_partner=t.trusted_partner))
        return found

    def _entrants(self, v: dict[str, float], draws: dict[str, list[list[float]]],
                  row: int) -> None:
        """Give each entrant its own inputs, the j-th occurrence of each template input, and
        its arrival: the sum of the first j + 1 gaps."""
        arrival = 0.0
        for j, name in enumerate(self.entrant_names):
            k = bidder_key(name)
            for field in self.entrant_inputs:
                v[f"{k}.{field}"] = draws[ENTRANT + field][row][j]
            arrival += draws["entrants.gap_days"][row][j]
            v[f"{k}.arrives_day"] = arrival
            if f"{k}.withdraws_day" in v:
                v[f"{k}.withdraws_day"] += arrival

    def run(self, values: dict[str, float], draws: dict[str, list[list[float]]], row: int = 0,
            trace: list[Event] | None = None) -> Outcome:
        """Play one replication from its sampled ``values`` and row ``row`` of its block's
        per-occurrence ``draws``; ``trace`` collects its events."""
        env = simpy.Environment()
        values = dict(values)
        self._entrants(values, draws, row)
        deal = Deal(env=env, values=values, draws=draws, row=row, horizon=self.horizon,
                    pending=self.pending, trace=trace,
                    present=[False] * len(self.suitors),
                    enjoined=[0] * len(self.scenario.instruments),
                    events=[False] * len(self.events), ended=env.event(),
                    packages=self._packages(values), tests=self.tests,
                    mitigation_cap=self.scenario.committee.max_mitigation_rounds)
        deal.tiers = [Tier(k, t.instrument, t.key, t.enforcement, t.kind, t.dark, t.issued,
                           t.day, t.hold, extension_mean=t.extension_mean,
                           forbearance_mean=t.forbearance_mean,
                           granted=0 if t.max_extensions else -1,
                           can_forbear=t.max_forbearances > 0)
                      for k, t in enumerate(self.tiers)]
        bidders = self._bidders(values)
        parent = parent_terms(values)

        def resign(b: BidderTerms, price: float) -> None:
            sign(deal, b, price, approval, bargained=False)

        if self.agreed >= 0:
            b = bidders[self.agreed]
            deal.present[b.index] = True
            resign(b, b.agreed_price_bn)
        for b in bidders:
            if b.index != self.agreed and not math.isnan(b.valuation_bn):
                env.process(bidder(deal, b))  # one with no valuation only ever joins
        for i, lead in self.joins:
            may_join(deal, bidders[i], bidders[lead])
        for tier, t in zip(deal.tiers, self.tiers, strict=True):
            env.process(authority(deal, tier, t.max_extensions, t.max_total, t.max_forbearances))
        for s in self.suits:
            env.process(suit(deal, s))
        for e in self.events:
            env.process(event(deal, e, lambda d: fresh_review(d, bidders, resign)))
        deal.negotiator = env.process(negotiate(deal, parent, bidders, approval))
        env.timeout(self.horizon).callbacks.append(lambda _: deal.at_horizon())
        env.run(until=deal.ended)
        return self._row(deal, bidders)

    @staticmethod
    def _row(deal: Deal, bidders: list[BidderTerms]) -> Outcome:
        sale = deal.outcome == SALE
        package = deal.packages[deal.winner] if sale else None
        return Outcome(
            outcome=deal.outcome, day=deal.end_day, winner=deal.winner if sale else -1,
            price_bn=deal.price_bn if sale else math.nan,
            stake_price_bn=deal.price_bn * (1 - package.parent_stake) if package else math.nan,
            structure=package.structure if package else -1,
            parent_stake=package.parent_stake if package else math.nan,
            technology=package.technology if package else -1, state=deal.state,
            days_dark=deal.days_dark, extensions=deal.extensions,
            forbearances=deal.forbearances, injunction=deal.injunction, suits=deal.suits,
            regime_change=deal.regime_change, phases=deal.phases,
            home_approved=deal.home_approved, agreement_day=deal.agreement_day,
            agreement_vs_deadline=deal.agreement_vs_deadline, deals_signed=deal.deals_signed,
            refilings=deal.refilings, mitigation_rounds=deal.mitigation_rounds)
