"""Narrated runs: one replication's own event log told as a dated story in plain words.

A probability is not an explanation; a story of one replication shows *how* a sale or a
shutdown happens in the model. Nothing here re-implements the model: ``replay`` re-runs
exactly one replication of a Monte Carlo run from its keyed random streams with tracing
on (same seed, same block, same row → the same history as in the results table), and
``narrate`` turns the events the actors logged (``Deal.log``, ``sim.model.events``) into
sentences, each by its type.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from sim.model import events as ev
from sim.model.events import Event
from sim.model.outcome import (
    ABANDONED,
    APPROVE,
    BLOCK,
    CLEAR,
    IN_CONCEPT,
    NOTHING,
    OUTCOMES,
    REFUSE,
    SALE,
    SHUTDOWN,
    STATE_WORDS,
    STATES,
    UNRESOLVED,
    Outcome,
)
from sim.model.replication import Model
from sim.outputs.safe import calendar_date, date_text, printable
from sim.running.results import Run
from sim.running.sampling import sample_block
from sim.running.streams import BLOCK_SIZE
from sim.scenario.schema import STRUCTURES, TECHNOLOGIES, Scenario, structure_of

STRUCTURE_WORDS = {"full_acquisition": "full acquisition", "majority": "majority stake",
                   "minority_partnership": "minority partnership"}
TECHNOLOGY_WORDS = {"transferred": "the algorithm sold with it",
                    "licensed": "the algorithm licensed to the buyers",
                    "rebuilt": "the buyers rebuilding the algorithm",
                    "retained": "the algorithm retained and run by the parent"}
TERM_WORDS = {"data_localisation": "US data kept in the US",
              "source_code_review": "source-code review",
              "trusted_partner": "a trusted technology partner"}


@dataclass(frozen=True)
class Line:
    """One sentence of a story, at the moment of the event it tells."""

    day: float
    date: dt.date | None  # None: past 9999-12-31, the last date there is
    text: str


@dataclass(frozen=True)
class Story:
    replication: int
    seed: int
    outcome: Outcome
    headline: str
    lines: tuple[Line, ...]

    @property
    def outcome_name(self) -> str:
        return OUTCOMES[self.outcome.outcome]


def replay(scenario: Scenario, seed: int, replication: int, runs: int | None = None,
           model: Model | None = None) -> tuple[Outcome, list[Event]]:
    """Re-run replication ``replication`` of a run of ``runs`` with tracing on.

    Replication K lives in stream block K // BLOCK_SIZE at row K % BLOCK_SIZE. The block is
    sampled at the size the run used (its last block may be short), so every draw is the
    very value the run used, not merely an equal one by the prefix property.
    """
    if replication < 0 or (runs is not None and replication >= runs):
        raise ValueError(f"replication must be between 0 and {(runs or 1) - 1}")
    block, row = divmod(replication, BLOCK_SIZE)
    size = BLOCK_SIZE if runs is None else min(BLOCK_SIZE, runs - block * BLOCK_SIZE)
    values, draws, i = sample_block(scenario, seed, block, size).row(row)
    trace: list[Event] = []
    outcome = (model or Model(scenario)).run(values, draws, i, trace=trace)
    return outcome, trace


def example_runs(outcomes: np.ndarray) -> dict[int, int]:
    """The first replication ending in each outcome that occurs: a draw from each outcome's
    own histories, and reproducible (``--trace-run`` tells any other)."""
    found = {}
    for code in range(len(OUTCOMES)):
        hits = np.flatnonzero(outcomes == code)
        if hits.size:
            found[code] = int(hits[0])
    return found


def story(scenario: Scenario, seed: int, replication: int, runs: int | None = None,
          model: Model | None = None) -> Story:
    outcome, trace = replay(scenario, seed, replication, runs, model)
    return Story(replication, seed, outcome, headline(scenario, outcome, replication, seed),
                 tuple(narrate(scenario, trace)))


def stories(scenario: Scenario, seed: int, runs: int, replications: Sequence[int]) -> list[Story]:
    model = Model(scenario)
    return [story(scenario, seed, k, runs, model) for k in replications]


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plural(count: float, word: str) -> str:
    if not math.isfinite(count):
        return f"{count} {word}s"
    n = round(count)
    return f"{n} {word}" + ("" if n == 1 else "s")


def _money(bn: float) -> str:
    """USD in bn, or in m below a tenth of a bn (a small business is not 'USD 0.0 bn')."""
    return f"USD {bn:.1f} bn" if bn >= 0.095 else f"USD {bn * 1000:.3g} m"


def _date(scenario: Scenario, day: float) -> str:
    """The day's date, "Fri 12 Jul 2024"; past the last date there is, the day itself."""
    return date_text(scenario.start, day, "%a %d %b %Y")


def headline(scenario: Scenario, outcome: Outcome, replication: int, seed: int) -> str:
    when = (f"{_date(scenario, outcome.day)} (day {outcome.day:.0f})"
            if calendar_date(scenario.start, outcome.day) else _date(scenario, outcome.day))
    state = STATE_WORDS.get(STATES[outcome.state], "")
    words: dict[int, str] = {
        SALE: f"SALE on {when}",
        SHUTDOWN: f"SHUTDOWN, dark since {when}, {outcome.days_dark:.0f} days dark in all",
        ABANDONED: f"ABANDONED on {when}",
        UNRESOLVED: f"UNRESOLVED at the horizon, {when}: {state}"}
    what = words[outcome.outcome]
    if outcome.outcome == SALE:
        b = scenario.suitors[outcome.winner]
        kept = (f" ({scenario.parent.name} keeps {outcome.parent_stake:.1%})"
                .replace(".0%", "%") if outcome.parent_stake > 0 else "")
        what += (f": {b.name}, {STRUCTURE_WORDS[STRUCTURES[outcome.structure]]}{kept}, "
                 f"valuing the business at {_money(outcome.price_bn)}")
    return f"Replication {replication} (seed {seed}) ends in {what}"


STAGE_WORDS = {"none": "no bidder the parent would deal with",
               "negotiating": "talks with a bidder, nothing signed",
               "signed": "a deal signed", "under_review": "a deal under review",
               "approved_in_concept": "a deal approved in concept",
               "approved": "an approved deal", "closing": "a deal closing"}
KIND_WORDS = {"service_ban": "ban", "divestiture_order": "divestiture order",
              "transaction_termination": "termination date", "lapse": "deadline"}


E = TypeVar("E", bound=Event)
Handler = Callable[["Narrator", Any], list[str]]
# The sentence for each event type, registered by ``tells`` beside its method: dispatch is
# on the event's type, and tests check this table against ``events.EVENTS``.
HANDLERS: dict[type[Event], Handler] = {}


def tells(kind: type[E]) -> Callable[[Callable[[Narrator, E], list[str]]],
                                     Callable[[Narrator, E], list[str]]]:
    """Make the decorated method the narration of events of type ``kind``."""
    def register(handler: Callable[[Narrator, E], list[str]]
                 ) -> Callable[[Narrator, E], list[str]]:
        if kind in HANDLERS:
            raise TypeError(f"two narrations for {kind.__name__}")
        HANDLERS[kind] = handler
        return handler
    return register


class Narrator:
    """Sentences for each event type; keeps the little context a story needs (who is
    signed, what was last said about each bidder's bargaining position)."""

    def __init__(self, scenario: Scenario) -> None:
        s = self.s = scenario
        self.parent = s.parent.name
        self.committee = s.committee.name
        self.president = "The " + s.president.name if s.president.name.islower() \
            else s.president.name
        self.home = s.home_government.name if s.home_government else "the home government"
        self.tiers = s.due_dates
        self.suitors = s.suitors
        self.said: dict[int, tuple[Any, ...]] = {}
        self.signed: int | None = None
        self.price = math.nan
        self.refused: list[str] = []  # why the last run of suits failed, for the end

    def bidder(self, index: int) -> str:
        return self.suitors[index].name

    def tier(self, index: int) -> str:
        due = self.tiers[index]
        ins = self.s.instruments[self._ins(index)]
        return self.instrument(self._ins(index)) + due.label.removeprefix(ins.name)

    def parties(self, tier: int) -> bool:
        """Is it the parties' own date (a contract's), not the government's?"""
        return self.tiers[tier].kind in ("transaction_termination", "lapse")

    def instrument(self, index: int) -> str:
        ins = self.s.instruments[index]
        return f"the {ins.label}" if ins.label else f"the {ins.id} {KIND_WORDS[ins.kind]}"

    def stage_words(self, stage: str, fails: bool = False) -> str:
        """The deal's stage as an authority saw it, and whether the deal fails that
        instrument's test."""
        words = STAGE_WORDS[stage]
        if fails and self.signed is not None:
            words += ", which does not meet this instrument's test"
        return words

    def date(self, day: float) -> str:
        return date_text(self.s.start, day)

    def tell(self, event: Event) -> list[str]:
        handler = HANDLERS.get(type(event))
        if handler is None:
            raise TypeError(f"no narration for event type {type(event).__name__}")
        return handler(self, event)

    # -- bidders and bargaining ------------------------------------------------------
    def terms(self, parent_stake: float, technology: int) -> str:
        """A deal's terms in words: "a minority partnership (ByteDance keeps 80%, the
        algorithm retained)"."""
        structure = STRUCTURES[structure_of(parent_stake)]
        parts = []
        if parent_stake > 0:
            parts.append(f"{self.parent} keeps {parent_stake:.1%}".replace(".0%", "%"))
        if technology:
            parts.append(TECHNOLOGY_WORDS[TECHNOLOGIES[technology]])
        return f"a {STRUCTURE_WORDS[structure]}" + (f" ({', '.join(parts)})" if parts else "")

    @tells(ev.BidderArrives)
    def _on_bidder_arrives(self, e: ev.BidderArrives) -> list[str]:
        b = self.suitors[e.bidder]
        worth = (f"(it values the business at up to {_money(e.valuation_bn)}"
                 + (" per 100%)" if e.parent_stake > 0 else ")"))
        terms = self.terms(e.parent_stake, e.technology)
        if self.signed is not None:
            return [f"{b.name} stands ready to bid for {terms} should the "
                    f"{self.bidder(self.signed)} deal fail {worth}."]
        return [f"{b.name} enters the bidding for {terms} {worth}."]

    @tells(ev.JoinsBid)
    def _on_joins_bid(self, e: ev.JoinsBid) -> list[str]:
        self.said.pop(e.bidder, None)
        return [f"{self.bidder(e.bidder)} joins {self.bidder(e.lead)}'s bid as a "
                f"partner: {self.parent} would now keep {e.parent_stake:.1%}."
                .replace(".0%", "%")]

    @tells(ev.BidderWithdraws)
    def _on_bidder_withdraws(self, e: ev.BidderWithdraws) -> list[str]:
        self.said.pop(e.bidder, None)
        return [f"{self.bidder(e.bidder)} walks away from the bidding."]

    @tells(ev.Positions)
    def _on_positions(self, e: ev.Positions) -> list[str]:
        out = []
        for p in e.positions:
            name, b = self.bidder(p.bidder), p.bidder
            if p.unmet:
                said: tuple[Any, ...] = ("unmet", p.unmet)
                why = "; ".join(f"{self.instrument(i)}: {'; '.join(r)}" for i, r in p.unmet)
                text = (f"{name}'s terms would not satisfy the law ({why}), so "
                        f"{self.parent} does not bargain with it.")
            elif not p.accepted:
                said = ("refused", p.licence_refused)
                text = (f"{self.home} has already refused a licence no harder than the one "
                        f"{name}'s deal needs, so {self.parent} does not bargain with it."
                        if p.licence_refused else
                        f"{self.parent} will not sell on {name}'s terms (its structure or "
                        f"what it asks for the algorithm), so it does not bargain with it.")
            elif p.meets_day is None or p.meets_price_bn is None:
                said = ("apart",)
                text = (f"{name} offers {_money(p.offer_bn)} against {self.parent}'s ask "
                        f"of {_money(p.demand_bn)}; its ceiling of "
                        f"{_money(p.valuation_bn)} is below {self.parent}'s floor: "
                        f"no deal in sight.")
            elif p.meets_day > e.day + 1e-9:
                said = ("meet", round(p.meets_day, 1), round(p.meets_price_bn, 1))
                toward = (f"the threat in force ({self.date(e.deadline_day)})"
                          if e.expected_day - e.deadline_day < 0.5 else
                          f"the threat due {self.date(e.deadline_day)}, which they expect "
                          f"to be pushed to about {self.date(e.expected_day)}")
                text = (f"{name} offers {_money(p.offer_bn)} against {self.parent}'s ask "
                        f"of {_money(p.demand_bn)}; conceding toward {toward}, they are "
                        f"on course to meet on {self.date(p.meets_day)} at "
                        f"{_money(p.meets_price_bn)}.")
            else:
                continue  # they meet at once: the crossing itself is told next
            if self.said.get(b) != said:
                self.said[b] = said
                out.append(text)
        return out

    @tells(ev.OffersCross)
    def _on_offers_cross(self, e: ev.OffersCross) -> list[str]:
        name, offer, ask = self.bidder(e.bidder), e.offer_bn, e.demand_bn
        if e.trustee:
            return [f"The trustee takes {name}'s bid of {_money(offer)}, above its floor of "
                    f"{_money(ask)}."]
        before = e.deadline_day - e.day
        when = ("with no threat in force" if math.isinf(before)
                else f"{_plural(before, 'day')} before the threat in force, "
                     f"{self.date(e.deadline_day)}" if before >= 0.5
                else "under a threat already in force")
        if offer - ask > 0.005:
            return [f"{name}'s offer of {_money(offer)} already exceeds {self.parent}'s ask "
                    f"of {_money(ask)}, {when}: they split the difference."]
        return [f"Offer and demand meet {when}: {name} offers {_money(offer)}, "
                f"{self.parent} asks {_money(ask)}."]

    @tells(ev.DealSigned)
    def _on_signed(self, e: ev.DealSigned) -> list[str]:
        b = self.suitors[e.bidder]
        self.signed, self.price = e.bidder, e.price_bn
        self.said.clear()
        stake = e.parent_stake
        deal = f"{self.terms(stake, e.technology)} at {_money(e.price_bn)}" + (
            f" per 100% ({_money(e.price_bn * (1 - stake))} for the stake sold)"
            if stake > 0 else "")
        if e.by_trustee:
            return [f"The trustee sells to {b.name}: {deal}; the deal goes to the approvals."]
        if not e.bargained:
            return [f"{self.parent} and {b.name} have agreed {deal}; the deal goes "
                    f"to the approvals."]
        return [f"{self.parent} and {b.name} sign {deal}; the deal goes to the approvals."]

    # -- approvals -------------------------------------------------------------------
    @tells(ev.ReviewStarts)
    def _on_review_starts(self, e: ev.ReviewStarts) -> list[str]:
        return [f"{self.committee} opens its review of the {self.bidder(e.bidder)} deal."]

    @tells(ev.InvestigationStarts)
    def _on_investigation_starts(self, e: ev.InvestigationStarts) -> list[str]:
        return [f"{self.committee} ends the review phase and opens a full investigation."]

    @tells(ev.ReviewExtended)
    def _on_review_extended(self, e: ev.ReviewExtended) -> list[str]:
        return [f"{self.committee} takes the extraordinary extension of its investigation."]

    @tells(ev.Recommended)
    def _on_recommendation(self, e: ev.Recommended) -> list[str]:
        r = e.recommendation
        if r == CLEAR:
            verdict = "recommends clearing the deal"
        elif r == BLOCK:
            verdict = "recommends blocking the deal"
        else:
            verdict = ("will clear the deal only with mitigation: the parties must negotiate "
                       "security terms")
        return [f"{self.committee} {verdict}."]

    @tells(ev.MitigationRound)
    def _on_mitigation_round(self, e: ev.MitigationRound) -> list[str]:
        wants = ", ".join(TERM_WORDS[t] for t in e.asks) or "further security commitments"
        return [f"Mitigation talks, round {e.round}: {self.committee} asks for {wants}."]

    @tells(ev.MitigationAgreed)
    def _on_mitigation_agreed(self, e: ev.MitigationAgreed) -> list[str]:
        got = ", ".join(TERM_WORDS[t] for t in e.terms) or "the commitments asked"
        return [f"The parties accept ({got}); the deal counts as cleared."]

    @tells(ev.MitigationCountered)
    def _on_mitigation_countered(self, e: ev.MitigationCountered) -> list[str]:
        if e.last:
            return ["The parties counter once more, but that was the last round: "
                    f"{self.committee} will recommend blocking."]
        return ["The parties make a counter-offer; the talks go to another round."]

    @tells(ev.MitigationRefused)
    def _on_mitigation_refused(self, e: ev.MitigationRefused) -> list[str]:
        return ["The parties refuse the committee's terms."]

    @tells(ev.Withdrawn)
    def _on_withdrawn(self, e: ev.Withdrawn) -> list[str]:
        why = "rather than accept its terms" if e.refused else "rather than face a block"
        return [f"The parties withdraw their filing {why} and prepare a new one with better "
                f"terms (refiling {e.count}, in {_days(e.days)})."]

    @tells(ev.Refiled)
    def _on_refiled(self, e: ev.Refiled) -> list[str]:
        return [f"The parties refile the {self.bidder(e.bidder)} deal with improved "
                f"terms: the review clock starts again."]

    @tells(ev.DoesNotQualify)
    def _on_does_not_qualify(self, e: ev.DoesNotQualify) -> list[str]:
        why = "; ".join(f"{self.instrument(i)} requires otherwise: {'; '.join(r)}"
                        for i, r in e.unmet)
        return [f"The approved {self.bidder(e.bidder)} deal cannot close as the "
                f"divestiture the law requires ({why}); it waits."]

    @tells(ev.PresidentDecides)
    def _on_president_decides(self, e: ev.PresidentDecides) -> list[str]:
        rec = "a clearing" if e.recommendation == CLEAR else "a blocking"
        deal = f"the {self.bidder(e.bidder)} deal"
        text = {APPROVE: f"approves {deal}", IN_CONCEPT: f"approves {deal} in concept: it "
                f"must now be finalised", NOTHING: f"takes no decision on {deal}: it sits "
                f"under review", REFUSE: f"blocks {deal}"}[e.decision]
        return [f"{self.president} {text} (on {rec} recommendation)."]

    @tells(ev.InConceptWindowEnds)
    def _on_in_concept_window_ends(self, e: ev.InConceptWindowEnds) -> list[str]:
        if e.finalised:
            return ["The deal is finalised within the window: it counts as approved."]
        return ["The window closes without the deal being finalised: it stalls, approved "
                "in concept only."]

    @tells(ev.AbandonmentPending)
    def _on_abandonment_pending(self, e: ev.AbandonmentPending) -> list[str]:
        return ["The parties prepare to terminate the blocked transaction."]

    @tells(ev.FreshReview)
    def _on_fresh_review(self, e: ev.FreshReview) -> list[str]:
        self.signed = e.bidder
        return [f"The new administration orders a fresh review of the "
                f"{self.bidder(e.bidder)} deal: it is back before the committee."]

    @tells(ev.LicenceRequested)
    def _on_licence_requested(self, e: ev.LicenceRequested) -> list[str]:
        return [f"The deal needs an export licence from {self.home} (decided in parallel "
                f"with the review)."]

    @tells(ev.LicenceDecided)
    def _on_licence_decided(self, e: ev.LicenceDecided) -> list[str]:
        verb = "grants" if e.granted else "refuses"
        return [f"{self.home} {verb} the export licence."]

    @tells(ev.DealFailed)
    def _on_deal_failed(self, e: ev.DealFailed) -> list[str]:
        self.signed = None
        others = [b.name for i, b in enumerate(self.suitors) if i != e.bidder]
        back = (f"; {self.parent} goes back to the other bidders" if others else "")
        return [f"The {self.bidder(e.bidder)} deal is dead ({e.reason}){back}."]

    @tells(ev.ClosingStarts)
    def _on_closing_starts(self, e: ev.ClosingStarts) -> list[str]:
        return [f"Every approval is in: the {self.bidder(e.bidder)} deal starts closing."]

    # -- instruments and enforcement -------------------------------------------------
    @tells(ev.DeadlineExtended)
    def _on_deadline_extended(self, e: ev.DeadlineExtended) -> list[str]:
        enf = self.s.instruments[self._ins(e.tier)].enforcement
        how = "is suspended and given a new date" if e.lifted else "due today, is extended"
        cap = (f"of at most {enf.max_total_extension_days:g} days in all"
               if enf.max_total_extension_days else f"of at most {enf.max_extensions}")
        return [f"{_upper(self.tier(e.tier))}, {how} by "
                f"{_days(e.days)} to {self.date(e.until_day)} (extension "
                f"{e.extensions}, {cap}; {self.stage_words(e.stage, e.fails)})."]

    def _ins(self, tier: int) -> int:
        ident = self.tiers[tier].key.split(".")[1]
        return next(i for i, ins in enumerate(self.s.instruments) if ins.id == ident)

    @tells(ev.Forbearance)
    def _on_forbearance(self, e: ev.Forbearance) -> list[str]:
        tier, until = self.tier(e.tier), self.date(e.until_day)
        why = f"{self.stage_words(e.stage, e.fails)}; forbearance {e.count}"
        if self.parties(e.tier):
            return [f"Neither party terminates at {tier}: they wait {_days(e.days)}, to "
                    f"{until}, and will look again ({why})."]
        how = "stops enforcing" if e.lifted else "declines to enforce"
        return [f"The government {how} {tier} for {_days(e.days)}, to {until}, and will "
                f"look again ({why})."]

    @tells(ev.DeadlineLapses)
    def _on_deadline_lapses(self, e: ev.DeadlineLapses) -> list[str]:
        if self.tiers[e.tier].kind == "lapse":
            return [f"{_upper(self.tier(e.tier))} passes: it was only a date to bargain "
                    "against."]
        if self.parties(e.tier):
            return [f"The parties let {self.tier(e.tier)} pass for good."]
        how = "stops enforcing" if e.lifted else "lets pass"
        return [f"The government {how} {self.tier(e.tier)}: it lapses, nothing enforced."]

    @tells(ev.EnforcementSuspended)
    def _on_enforcement_suspended(self, e: ev.EnforcementSuspended) -> list[str]:
        return [f"The government suspends {self.tier(e.tier)} while "
                f"{self.stage_words(e.stage)} completes."]

    @tells(ev.EnforcementHeld)
    def _on_enforcement_held(self, e: ev.EnforcementHeld) -> list[str]:
        who = "the parties hold" if self.parties(e.tier) else "the government holds"
        return [f"{_upper(self.tier(e.tier))} falls due, but {who} off while "
                f"{self.stage_words(e.stage)} completes."]

    @tells(ev.Enforcement)
    def _on_enforcement(self, e: ev.Enforcement) -> list[str]:
        due = self.tiers[e.tier]
        what = {"service_ban": "takes effect",
                "divestiture_order": "is enforced",
                "transaction_termination": "is reached: the transaction terminates",
                "lapse": "passes"}[e.remedy]
        after = ("; it restricts the service, which still runs" if e.remedy == "service_ban"
                 and not due.dark else "")
        return [f"{_upper(self.tier(e.tier))} {what} "
                f"({self.stage_words(e.stage, e.fails)}){after}."]

    @tells(ev.Penalties)
    def _on_penalties(self, e: ev.Penalties) -> list[str]:
        return [f"The government enforces {self.tier(e.tier)} with penalties; the "
                "business keeps running."]

    @tells(ev.TrusteeAppointed)
    def _on_trustee_appointed(self, e: ev.TrusteeAppointed) -> list[str]:
        return [f"The government moves to force the divestiture: a trustee will take over "
                f"the sale from {self.date(e.ready_day)}; the business keeps running."]

    @tells(ev.TrusteeSells)
    def _on_trustee_sells(self, e: ev.TrusteeSells) -> list[str]:
        return [f"The trustee takes over the sale from {self.parent}."]

    @tells(ev.ServiceDark)
    def _on_service_dark(self, e: ev.ServiceDark) -> list[str]:
        return ["The service goes dark in the country."]

    @tells(ev.ServiceRestored)
    def _on_service_restored(self, e: ev.ServiceRestored) -> list[str]:
        return ["The service comes back on."]

    # -- courts ----------------------------------------------------------------------
    @tells(ev.Lawsuit)
    def _on_lawsuit(self, e: ev.Lawsuit) -> list[str]:
        ins = self.instrument(e.instrument)
        if e.filed_day < e.day - 0.5:
            return [f"The suit by {_inline(e.plaintiff)} against {ins}, filed on "
                    f"{self.date(e.filed_day)}, is pending."]
        return [f"A suit by {_inline(e.plaintiff)} asks the court to stop {ins}."]

    @tells(ev.Settlement)
    def _on_settlement(self, e: ev.Settlement) -> list[str]:
        return [f"The government settles the suit by {_inline(e.plaintiff)} and withdraws "
                f"{self.instrument(e.instrument)}."]

    @tells(ev.Injunction)
    def _on_injunction(self, e: ev.Injunction) -> list[str]:
        how = "on appeal, " if e.how == "on appeal" else ""
        return [f"The court, {how}in the suit by {_inline(e.plaintiff)}, enjoins "
                f"{self.instrument(e.instrument)}: it cannot be enforced while the "
                "injunction stands."]

    @tells(ev.InjunctionDenied)
    def _on_injunction_denied(self, e: ev.InjunctionDenied) -> list[str]:
        return [f"The court refuses {_inline(e.plaintiff)} an injunction against "
                f"{self.instrument(e.instrument)}."]

    @tells(ev.Appeal)
    def _on_appeal(self, e: ev.Appeal) -> list[str]:
        who = "the government" if e.by_government else "the plaintiff"
        return [f"In the suit by {_inline(e.plaintiff)}, {who} appeals."]

    @tells(ev.AppealDecided)
    def _on_appeal_decided(self, e: ev.AppealDecided) -> list[str]:
        verdict = "reverses" if e.reversed else "upholds"
        return [f"In the suit by {_inline(e.plaintiff)}, the appeals court {verdict} the "
                "ruling."]

    @tells(ev.InjunctionLifted)
    def _on_injunction_lifted(self, e: ev.InjunctionLifted) -> list[str]:
        more = " (another injunction still stands)" if e.still else ""
        return [f"The injunction in the suit by {_inline(e.plaintiff)} is lifted{more}."]

    @tells(ev.Vacated)
    def _on_vacated(self, e: ev.Vacated) -> list[str]:
        ins = self.instrument(e.instrument)
        if math.isinf(e.remand_days):
            return [f"The court vacates {ins}: it is gone for good."]
        return [f"The court vacates {ins} and remands it: the government may re-impose it "
                f"in {_days(e.remand_days)}."]

    # -- politics --------------------------------------------------------------------
    @tells(ev.PoliticalEvent)
    def _on_political_event(self, e: ev.PoliticalEvent) -> list[str]:
        event = self.s.politics[e.event]
        if not e.happened:
            return [f"{_upper(event.name)}: no change of regime."]
        n = e.sets
        what = (f"; {n} of the government's chances {'changes' if n == 1 else 'change'} "
                "from today" if n else "")
        return [f"{_upper(event.name)}: the regime changes{what}."]

    @tells(ev.Revoked)
    def _on_revoked(self, e: ev.Revoked) -> list[str]:
        return [f"{_upper(self.instrument(e.instrument))} is revoked."]

    @tells(ev.End)
    def _on_end(self, e: ev.End) -> list[str]:
        if e.outcome == SALE:
            name = self.bidder(self.signed) if self.signed is not None else "the buyer"
            stake = e.parent_stake
            sold = (f", {_money(self.price * (1 - stake))} for the "
                    f"{1 - stake:.1%} sold".replace(".0%", "%") if stake > 0 else "")
            return [f"The {name} deal closes: a sale valuing the business at "
                    f"{_money(self.price)}{sold}."]
        if e.outcome == SHUTDOWN:
            return ["The horizon is reached with the service still dark: a shutdown."]
        if e.outcome == ABANDONED:
            return ["The transaction is abandoned."]
        return [f"The horizon is reached unresolved: {STATE_WORDS[e.state]}."]


def _inline(name: str) -> str:
    """A name inside a sentence: "A US state" reads "a US state" there."""
    first, _, rest = name.partition(" ")
    return (first.lower() + " " + rest) if first in ("A", "An", "The") and rest else name


def _days(days: float) -> str:
    """A duration as a reader says it: whole days, or hours when under two days."""
    if days < 2:
        return _plural(days * 24, "hour")
    return _plural(days, "day")


def narrate(scenario: Scenario, trace: Sequence[Event]) -> list[Line]:
    """The events of one replication as dated sentences, in the order they happened."""
    narrator = Narrator(scenario)
    lines = []
    for event in trace:
        for text in narrator.tell(event):
            lines.append(Line(event.day, calendar_date(scenario.start, event.day), text))
    return lines


def format_story(scenario: Scenario, story: Story, width: int = 110) -> str:
    """A story for the terminal: the headline, then dated sentences wrapped under a date
    column that is printed only when the moment changes. Every sentence is made
    printable before it is wrapped: a name cannot send the terminal an escape."""
    out = [printable(story.headline)]
    last = None
    for line in story.lines:
        stamp = f"{_date(scenario, line.day)}  day {math.floor(line.day * 10) / 10:5.1f}"
        first = f"  {stamp if stamp != last else ' ' * len(stamp)}  "
        out.append(textwrap.fill(printable(line.text), width, initial_indent=first,
                                 subsequent_indent=" " * len(first)))
        last = stamp
    return "\n".join(out)


def run_stories(run: Run, replications: Sequence[int]) -> list[Story]:
    """Stories of replications of a finished run, each checked against its row: a story
    that did not reproduce the results table would explain nothing."""
    told = stories(run.scenario, run.seed, len(run.results), replications)
    r = run.results
    for s in told:
        k = s.replication
        if s.outcome.outcome != r["outcome"][k] or s.outcome.day != r["day"][k]:
            raise RuntimeError(f"replication {k} did not reproduce its row of the results "
                               f"({OUTCOMES[s.outcome.outcome]} on day {s.outcome.day} vs "
                               f"{OUTCOMES[r['outcome'][k]]} on day {r['day'][k]})")
    return told


def traces(run: Run, examples: bool = True, replication: int | None = None) -> str:
    """The text ``--trace`` / ``--trace-run`` print: stories, one blank line apart."""
    wanted = list(example_runs(run.results["outcome"]).values()) if examples else []
    missing = replication is not None and replication >= len(run.results)
    if replication is not None and not missing and replication not in wanted:
        wanted.append(replication)
    scenario = run.scenario
    parts = [format_story(scenario, s) for s in run_stories(run, wanted)]
    if missing:  # an adaptive run (--precision) may stop before replication K
        parts.append(f"Replication {replication} was not run: this run has "
                     f"{len(run.results):,} replications (0 to {len(run.results) - 1:,}).")
    if examples:
        parts.insert(0, f"Narrated runs of {printable(scenario.name)}: the first replication "
                        f"ending in "
                        f"each outcome (tell any other with --trace-run K).")
    return "\n\n".join(parts)
