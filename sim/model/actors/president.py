"""The head of state: decides within the statutory window, with discretion.

One draw against the shares for the recommendation (``on_clear`` or ``on_block``, per
structure where ``by_structure`` names it): block, decide nothing, approve in concept, or
approve (the rest). The schema requires each cumulative share for a cleared deal to be at
most the blocked deal's, so with the same draw a worse recommendation never turns a block
into an approval: a stricter committee never raises the chance of a sale. An approval in
concept must be finalised within a window; a blocked pending transaction is abandoned
within days.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.model import events as ev
from sim.model.actors.bidder import BidderTerms
from sim.model.actors.deal import NONE, Deal, Signed
from sim.model.draws import Draws, draw
from sim.model.outcome import (
    ABANDONED,
    APPROVE,
    CLEAR,
    IN_CONCEPT,
    NOTHING,
    REFUSE,
    Decision,
    Recommendation,
)
from sim.scenario.schema import STRUCTURES

# The streams read here: the days of each step, for every filing, and the decisions about
# the bidder's deal at each signing of it (the choice, and whether it is finalised).
DECISION_DAYS, WINDOW_DAYS, ABANDON_DAYS = (
    "president.decision_days", "president.in_concept.window_days", "president.abandon_days")
CHOICE, FINALISE = "president", "finalise"
DRAWS = Draws(filing_days=(DECISION_DAYS, WINDOW_DAYS, ABANDON_DAYS),
              bidder_signing=(CHOICE, FINALISE))


def decide(deal: Deal, bidder: BidderTerms,
           recommendation: Recommendation) -> Generator[simpy.Event, object, Decision]:
    v = deal.values
    yield deal.env.timeout(deal.take(DECISION_DAYS))
    structure = f"president.by_structure.{STRUCTURES[deal.packages[bidder.index].structure]}"
    base = structure if f"{structure}.on_clear.block" in v else "president"
    shares = f"{base}.{'on_clear' if recommendation == CLEAR else 'on_block'}"
    u = deal.take(draw(bidder.key, CHOICE))
    block = v[f"{shares}.block"]
    nothing = block + v[f"{shares}.nothing"]
    concept = nothing + v[f"{shares}.in_concept"]
    decision = (REFUSE if u < block else NOTHING if u < nothing
                else IN_CONCEPT if u < concept else APPROVE)
    deal.log(ev.PresidentDecides, bidder=bidder.index, decision=decision,
             recommendation=recommendation)
    return decision


def finalised(deal: Deal, bidder: BidderTerms) -> Generator[simpy.Event, object, bool]:
    """An approval in concept: is the deal finalised when its window closes?"""
    yield deal.env.timeout(deal.take(WINDOW_DAYS))
    done = (deal.take(draw(bidder.key, FINALISE))
            < deal.values["president.in_concept.finalise_probability"])
    deal.log(ev.InConceptWindowEnds, bidder=bidder.index, finalised=done)
    return done


def abandonment(deal: Deal, bidder: BidderTerms,
                signed: Signed) -> Generator[simpy.Event, object, None]:
    """A blocked pending transaction is abandoned within ``president.abandon_days`` (a
    fresh review on the way may revive it)."""
    deal.log(ev.AbandonmentPending, bidder=bidder.index)
    deal.set_stage(signed, NONE)  # blocked: nothing left in progress for the authorities
    yield deal.env.timeout(deal.take(ABANDON_DAYS))
    deal.end(ABANDONED, bidder=bidder.index)
