"""The head of state: decides within the statutory window, with discretion.

One draw against the shares for the recommendation (``on_clear`` or ``on_block``, per
structure where ``by_structure`` names it): block, decide nothing, approve in concept, or
approve (the rest). The schema requires each cumulative share for a cleared deal to be at
most the blocked deal's, so with the same draw a worse recommendation never turns a block
into an approval: a stricter committee never raises the chance of a sale.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.model.actors.bidder import BidderTerms
from sim.model.actors.deal import Deal
from sim.model.outcome import APPROVE, CLEAR, IN_CONCEPT, NOTHING, REFUSE
from sim.scenario.schema import STRUCTURES


def decide(deal: Deal, bidder: BidderTerms,
           recommendation: int) -> Generator[simpy.Event, object, int]:
    v = deal.values
    yield deal.env.timeout(deal.take("president.decision_days"))
    structure = f"president.by_structure.{STRUCTURES[deal.packages[bidder.index].structure]}"
    base = structure if f"{structure}.on_clear.block" in v else "president"
    shares = f"{base}.{'on_clear' if recommendation == CLEAR else 'on_block'}"
    u = deal.take(f"{bidder.key}.draw.president")
    block = v[f"{shares}.block"]
    nothing = block + v[f"{shares}.nothing"]
    concept = nothing + v[f"{shares}.in_concept"]
    decision = (REFUSE if u < block else NOTHING if u < nothing
                else IN_CONCEPT if u < concept else APPROVE)
    deal.log("president_decides", bidder=bidder.index, decision=decision,
             recommendation=recommendation)
    return decision
