"""A signed deal's path to closing: review, mitigation, the president, the licence, closing.

Any refusal on the way kills the deal (``Deal.fail_signed``) and sends the parent back to
the other bidders; a deal that closes before enforcement shuts the business is a sale.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.actors import committee, home_government, president
from sim.actors.bidder import BidderTerms
from sim.actors.deal import Deal, Signed
from sim.outcome import CLEAR, MITIGATE, SALE


def approval(deal: Deal, bidder: BidderTerms,
             signed: Signed) -> Generator[simpy.Event, object, None]:
    env, v = deal.env, deal.values
    licence = (env.process(home_government.licence(deal, bidder, signed))
               if bidder.needs_licence else None)
    try:
        recommendation = yield from committee.review(deal, bidder)
        if recommendation == MITIGATE:
            yield env.timeout(v["committee.mitigation_days"])
            if v[f"{bidder.key}.draw.mitigation"] >= bidder.mitigation_acceptance:
                deal.fail_signed("mitigation terms refused")
                return
            deal.log("mitigation_agreed", bidder=bidder.index)
            recommendation = CLEAR
        approved = yield from president.decide(deal, bidder, recommendation)
        if not approved:
            deal.fail_signed("blocked by the president")
            return
        if licence is not None:
            yield licence  # a refusal interrupts this process through fail_signed
        deal.log("closing_starts", bidder=bidder.index)
        yield env.timeout(v["closing.days"])
        deal.end(SALE)
    except simpy.Interrupt:
        return
