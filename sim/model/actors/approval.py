"""A signed deal's path to closing: review, mitigation talks, withdraw-and-refile, the
head of state, the licence, the instruments' test, closing.

A refusal on the way kills the deal (``Deal.fail_signed``) and sends the parent back to
the other bidders; for a pending transaction a block means it is abandoned within
``president.abandon_days``. A head of state who decides nothing, or approves in concept
a deal that is then not finalised, leaves it stalled until the horizon or a fresh review.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import simpy

from sim.model import events as ev
from sim.model.actors import committee, home_government, president
from sim.model.actors.bidder import BidderTerms
from sim.model.actors.deal import APPROVED, CLOSING, IN_CONCEPT, NONE, UNDER_REVIEW, Deal, Signed
from sim.model.draws import Draws, draw, key
from sim.model.outcome import BLOCK, CLEAR, MITIGATE, NOTHING, REFUSE, SALE, Recommendation
from sim.model.outcome import IN_CONCEPT as CONCEPT

# The streams read here: the closing's days, for every filing; whether the parties refile
# after each filing of the bidder's deal, and the days each refiling takes.
CLOSING_DAYS, REFILE, REFILE_DAYS = "closing.days", "refile", "refile.days"
DRAWS = Draws(filing_days=(CLOSING_DAYS,), bidder_filing=(REFILE,),
              bidder_refiling_days=(REFILE_DAYS,))


def approval(deal: Deal, bidder: BidderTerms,
             signed: Signed) -> Generator[simpy.Event, object, None]:
    env = deal.env
    licence = (env.process(home_government.licence(deal, bidder, signed))
               if bidder.needs_licence else None)
    try:
        deal.set_stage(signed, UNDER_REVIEW)
        recommendation = yield from _filings(deal, bidder, signed)
        if recommendation is None:
            return
        decision = yield from president.decide(deal, bidder, recommendation)
        if decision == REFUSE:
            yield from _blocked(deal, bidder, signed)
            return
        if decision == NOTHING:
            signed.stalled = True
            yield env.event()  # stalled: only a fresh review, a trustee or the horizon moves it
        if decision == CONCEPT:
            deal.set_stage(signed, IN_CONCEPT)
            if not (yield from president.finalised(deal, bidder)):
                signed.stalled = True
                yield env.event()  # stalled in concept
        deal.set_stage(signed, APPROVED)
        if licence is not None:
            yield licence  # a refusal interrupts this process through fail_signed
        yield from _until_it_qualifies(deal, bidder, signed)
        deal.set_stage(signed, CLOSING)
        deal.log(ev.ClosingStarts, bidder=bidder.index)
        yield env.timeout(deal.take(CLOSING_DAYS))
        deal.end(SALE)
    except simpy.Interrupt:
        return


def _filings(deal: Deal, bidder: BidderTerms,
             signed: Signed) -> Generator[simpy.Event, object, Recommendation | None]:
    """Review (and mitigation) until a recommendation goes to the head of state. Instead of
    taking a block, or after refusing the committee's terms, the parties may withdraw and
    refile with better terms (``refile``: a chance per cycle, a cap, the days between);
    a refusal they do not refile after kills the deal (None)."""
    env, v = deal.env, deal.values
    refiled = 0
    while True:
        recommendation = yield from committee.review(deal, bidder)
        answer = None
        if recommendation == MITIGATE:
            answer = yield from committee.mitigate(deal, bidder)
            recommendation = CLEAR if answer == committee.ACCEPTED else BLOCK
        if recommendation == CLEAR:
            return recommendation
        if refiled < bidder.max_refilings \
                and deal.take(draw(bidder.key, REFILE)) < bidder.refile_probability:
            refiled += 1
            deal.refilings += 1
            days = deal.take(key(bidder.key, REFILE_DAYS))
            deal.log(ev.Withdrawn, bidder=bidder.index, count=refiled, days=days,
                     refused=answer == committee.REFUSED)
            yield env.timeout(days)
            deal.packages[bidder.index].extra += v[f"{bidder.key}.refile.improvement"]
            deal.log(ev.Refiled, bidder=bidder.index, count=refiled)
            continue
        if answer == committee.REFUSED:
            deal.fail_signed("mitigation terms refused", signed)
            return None
        return recommendation


def _until_it_qualifies(deal: Deal, bidder: BidderTerms,
                        signed: Signed) -> Generator[simpy.Event, object, None]:
    """An approved deal closes only if it meets the test of every instrument still in
    force (``qualifying``): one that does not waits, stalled, until those lapse or go."""
    unmet = deal.unmet(bidder.index)
    while unmet:
        signed.stalled = True
        deal.log(ev.DoesNotQualify, bidder=bidder.index,
                 unmet=tuple((i, tuple(why)) for i, why in unmet))
        while deal.unmet(bidder.index) == unmet:
            yield deal.instruments_moved()
        unmet = deal.unmet(bidder.index)
    signed.stalled = False


def _blocked(deal: Deal, bidder: BidderTerms,
             signed: Signed) -> Generator[simpy.Event, object, None]:
    """A blocked deal: a pending transaction is abandoned within days; a forced sale's
    parent goes back to the other bidders. A fresh review (politics) may revive either."""
    deal.blocked = (bidder.index, signed.price_bn)
    if not deal.pending:
        deal.fail_signed("blocked by the head of state", signed)
        return
    yield from president.abandonment(deal, bidder, signed)


def fresh_review(deal: Deal, bidders: list[BidderTerms],
                 resign: Callable[[BidderTerms, float], None]) -> None:
    """A new regime reviews a blocked or stalled deal afresh, under its own parameters."""
    signed = deal.signed
    if signed is not None and signed.stage in (UNDER_REVIEW, IN_CONCEPT, NONE) \
            and signed.process is not None and signed.process.is_alive:
        deal.log(ev.FreshReview, bidder=signed.bidder)
        signed.process.interrupt("fresh review")
        deal.signed = None
        resign(bidders[signed.bidder], signed.price_bn)
    elif signed is None and deal.blocked is not None \
            and bidders[deal.blocked[0]].withdraws_day > deal.env.now:  # still interested
        index, price = deal.blocked
        deal.blocked = None
        deal.log(ev.FreshReview, bidder=index)
        deal.present[index] = True
        resign(bidders[index], price)
