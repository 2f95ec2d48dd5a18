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
from typing import Any

import simpy
from scipy.special import ndtr, ndtri

from sim.model.actors.approval import approval, fresh_review
from sim.model.actors.authority import authority
from sim.model.actors.bidder import BidderTerms, bidder, join
from sim.model.actors.court import RULING_TRIES, SuitTerms, suit
from sim.model.actors.deal import Deal, Package, Tier
from sim.model.actors.parent import ParentTerms, negotiate, sign
from sim.model.actors.politics import EventTerms, event
from sim.model.outcome import SALE, Outcome
from sim.scenario.inputs import uncertain_inputs
from sim.scenario.schema import STRUCTURES, TECHNOLOGIES, Instrument, Scenario, instrument_key

# Decisions about a bidder's deal, drawn per filing (a review cycle) and per signing.
CYCLE_DECISIONS = ("investigation", "review_extension", "refile")
SIGNING_DECISIONS = ("president", "finalise", "licence")
SUIT_DECISIONS = ("sue", "ruling", "appeal", "reversal", "vacatur")
# Durations drawn afresh for every occurrence, by the input key they are drawn from.
FILING_DURATIONS = ("committee.review_days", "committee.investigation_days",
                    "committee.extension_days", "committee.mitigation_days",
                    "president.decision_days", "president.in_concept.window_days",
                    "president.abandon_days", "home_government.decision_days", "closing.days")
LATENT = ("home_government.draw.stance", *(f"parent.draw.accepts.{s}" for s in STRUCTURES),
          *(f"parent.draw.technology.{t}" for t in TECHNOLOGIES))


ENTRANT = "entrants.template."


def bidder_key(name: str) -> str:
    return f"bidders.{name}"


def has_court(instrument: Instrument) -> bool:
    return instrument.kind in ("service_ban", "divestiture_order")


def court_prefix(instrument: Instrument) -> str:
    return f"instruments.{instrument.id}.court" if instrument.court else "court"


def decision_keys(scenario: Scenario) -> list[str]:
    """The uniforms drawn once per replication (kept with ``values``)."""
    return list(LATENT)


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
    found = {key: signings * cycles for key in FILING_DURATIONS}
    found["committee.mitigation_days"] = signings * cycles * rounds
    if scenario.entrants is not None:  # each entrant draws its own terms and gap
        found.update({key: scenario.entrants.max for key in uncertain_inputs(scenario)
                      if key.startswith(ENTRANT)})
        found["entrants.gap_days"] = scenario.entrants.max
    for b in suitors:
        k = bidder_key(b.name)
        mine = (1 + fresh) * (1 + b.refile.max)
        found.update({f"{k}.draw.{d}": mine for d in CYCLE_DECISIONS})
        found.update({f"{k}.draw.{d}": 1 + fresh for d in SIGNING_DECISIONS})
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
        regimes = 1 + len(scenario.politics)  # each regime has its own forbearance count
        forbearances = e.max_forbearances * regimes
        looks = (e.max_extensions + forbearances + 2 + filings + len(scenario.politics)
                 + 2 * len(court.plaintiffs))
        for tier in ins.tiers or [None]:
            key = instrument_key(ins.id, tier.id if tier else None)
            found[f"{key}.draw.decide"] = found[f"{key}.draw.remedy"] = 1  # once a run
        p = f"instruments.{ins.id}.enforcement"
        found[f"{p}.extension_days"] = max(e.max_extensions, 1) * tiers
        found[f"{p}.forbearance_days"] = max(forbearances, 1) * tiers
        found[f"{p}.trustee_days"] = looks * tiers
        if has_court(ins):
            prefix = court_prefix(ins)
            suits_per_court[prefix] = suits_per_court.get(prefix, 0) + len(court.plaintiffs)
            found[f"instruments.{ins.id}.draw.settlement"] = 1
            for pl in court.plaintiffs:
                found.update({f"instruments.{ins.id}.plaintiffs.{pl.name}.draw.{d}": 1
                              for d in SUIT_DECISIONS})
    for prefix, count in suits_per_court.items():
        found[f"{prefix}.ruling_days"] = max(count, 1) * RULING_TRIES
        found[f"{prefix}.appeal_days"] = max(count, 1)
    for ev in scenario.politics:
        found[f"politics.{ev.id}.draw.happens"] = 1
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
            for tier in ins.tiers or [None]:
                date = tier.date if tier else ins.date
                self.tiers.append(TierSpec(
                    i, instrument_key(ins.id, tier.id if tier else None),
                    f"instruments.{ins.id}.enforcement", ins.kind,
                    tier.dark if tier else ins.kind == "service_ban", issued,
                    scenario.day_of(date), e.hold_for_approved_deal,
                    e.max_extensions, e.max_total_extension_days or math.inf,
                    e.max_forbearances,
                    min(inputs[f"instruments.{ins.id}.enforcement.extension_days"].average(),
                        e.max_total_extension_days or math.inf),
                    inputs[f"instruments.{ins.id}.enforcement.forbearance_days"].average()))
            if has_court(ins):
                prefix = court_prefix(ins)
                first = min([scenario.day_of(ins.date), *(scenario.day_of(t.date)
                                                          for t in ins.tiers)])
                self.suits += [SuitTerms(
                    instrument=i, name=p.name,
                    key=f"instruments.{ins.id}.plaintiffs.{p.name}", court=prefix,
                    plaintiff=f"{prefix}.plaintiffs.{p.name}",
                    settlement=f"instruments.{ins.id}", first_day=first)
                    for p in (ins.court or scenario.court).plaintiffs]
        ids = [e.id for e in scenario.politics]
        self.events = [EventTerms(
            index=k, key=f"politics.{e.id}", day=scenario.day_of(e.date),
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

    @staticmethod
    def _parent(v: dict[str, float]) -> ParentTerms:
        """The parent's structure and technology draws, tied to the home government's
        stance by a Gaussian copula: ``follows_home_government`` is the correlation of
        their normal scores."""
        rho = v["parent.follows_home_government"]
        stance = float(ndtri(v["home_government.draw.stance"]))

        def tied(key: str) -> float:
            return float(ndtr(rho * stance + math.sqrt(1 - rho * rho) * float(ndtri(v[key]))))

        return ParentTerms(
            reservation_bn=v["parent.reservation_bn"],
            aspiration_multiple=v["parent.aspiration_multiple"],
            exponent=v["parent.concession_exponent"],
            latent=tuple(tied(f"parent.draw.accepts.{s}") for s in STRUCTURES),
            technology_latent=tuple(tied(f"parent.draw.technology.{t}") for t in TECHNOLOGIES),
            threat_discount=v["parent.threat_discount"],
            delay_cost=v["parent.delay_cost_per_year"])

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
            trace: list[tuple[float, str, dict[str, Any]]] | None = None) -> Outcome:
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
        parent = self._parent(values)

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
            k = bidders[i].key
            if deal.once(f"{k}.draw.join") < values[f"{k}.joins.probability"]:
                env.process(join(deal, bidders[i], bidders[lead], values[f"{k}.joins.day"],
                                 values[f"{k}.joins.stake"], values[f"{k}.joins.assurance"]))
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
