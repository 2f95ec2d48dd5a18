"""A bidder: arrives, concedes toward its valuation as the deadline nears, may walk away.

Concession follows the time-dependent tactics of negotiation research (Faratin, Sierra &
Jennings 1998): the offer moves from ``opening × valuation`` to the valuation along
``tau ** (1 / exponent)``, tau being the share of time to the deadline used up. An exponent
below 1 holds out and concedes late (Boulware), above 1 concedes early (conceder).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import simpy

from sim.actors.deal import Deal


@dataclass(slots=True, frozen=True)
class BidderTerms:
    index: int
    name: str
    key: str  # "bidders.<name>": prefix of its inputs and of the decisions about it
    arrives_day: float
    withdraws_day: float  # inf: never
    valuation_bn: float
    opening: float
    exponent: float
    structure: int
    us_share: float
    assurance: float
    mitigation_acceptance: float
    needs_licence: bool
    agreed_price_bn: float  # NaN unless the deal was already agreed on day 0

    def offer(self, tau: float) -> float:
        """USD bn offered when a share ``tau`` of the time to the deadline has passed."""
        return self.valuation_bn * (self.opening + (1 - self.opening)
                                    * tau ** (1 / self.exponent))


def bidder(deal: Deal, terms: BidderTerms) -> Generator[simpy.Event, object, None]:
    """Enter the bidding on the arrival day; walk away on the withdrawal day if not signed."""
    if terms.withdraws_day <= terms.arrives_day:
        return  # gone before it would have come
    if terms.arrives_day > 0:
        yield deal.env.timeout(terms.arrives_day)
    deal.present[terms.index] = True
    deal.log("bidder_arrives", bidder=terms.index, valuation_bn=terms.valuation_bn)
    deal.poke()
    if terms.withdraws_day == float("inf"):
        return
    yield deal.env.timeout(terms.withdraws_day - terms.arrives_day)
    signed_with_us = deal.signed is not None and deal.signed.bidder == terms.index
    if deal.present[terms.index] and not signed_with_us:
        deal.present[terms.index] = False
        deal.log("bidder_withdraws", bidder=terms.index)
        deal.poke()
