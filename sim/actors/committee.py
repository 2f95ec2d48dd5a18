"""The national-security review committee: statutory phases, then a recommendation.

Phases follow 31 CFR Part 800: review, then (with some probability) investigation, then
(rarely) an extraordinary extension, each drawn afresh for every filing. The
recommendation compares the deal's security assurance with the committee's thresholds; a
stricter committee has higher thresholds.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.actors.bidder import BidderTerms
from sim.actors.deal import Deal
from sim.outcome import BLOCK, CLEAR, MITIGATE


def review(deal: Deal, bidder: BidderTerms) -> Generator[simpy.Event, object, int]:
    v, env = deal.values, deal.env
    deal.phases = 1
    deal.log("review_starts", bidder=bidder.index)
    yield env.timeout(deal.take("committee.review_days"))
    if deal.take(f"{bidder.key}.draw.investigation") < v["committee.investigation_probability"]:
        deal.phases = 2
        deal.log("investigation_starts", bidder=bidder.index)
        yield env.timeout(deal.take("committee.investigation_days"))
        if deal.take(f"{bidder.key}.draw.review_extension") < v["committee.extension_probability"]:
            deal.phases = 3
            deal.log("review_extended", bidder=bidder.index)
            yield env.timeout(deal.take("committee.extension_days"))
    clear = v["committee.clear_threshold"]
    mitigate = min(v["committee.mitigation_threshold"], clear)
    if bidder.assurance >= clear:
        recommendation = CLEAR
    elif bidder.assurance >= mitigate:
        recommendation = MITIGATE
    else:
        recommendation = BLOCK
    deal.log("recommendation", bidder=bidder.index, recommendation=recommendation)
    return recommendation
