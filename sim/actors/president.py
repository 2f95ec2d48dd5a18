"""The head of state: decides within the statutory window, usually as recommended.

Approval is a draw below ``follows`` for a cleared deal and below ``1 - follows`` for a
blocked one; with ``follows >= 0.5`` (the schema requires it) a worse recommendation can
never turn the same draw from a block into an approval, so a stricter committee never
raises the chance of a sale.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.actors.bidder import BidderTerms
from sim.actors.deal import Deal
from sim.outcome import CLEAR


def decide(deal: Deal, bidder: BidderTerms,
           recommendation: int) -> Generator[simpy.Event, object, bool]:
    v = deal.values
    yield deal.env.timeout(v["president.decision_days"])
    follows = v["president.follows_recommendation_probability"]
    approve_below = follows if recommendation == CLEAR else 1.0 - follows
    approved = v[f"{bidder.key}.draw.president"] < approve_below
    deal.log("president_decides", bidder=bidder.index, approved=approved,
             recommendation=recommendation)
    return approved
