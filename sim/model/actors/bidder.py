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

from sim.model import events as ev
from sim.model.actors.deal import APPROVED, CLOSING, IN_CONCEPT, Deal, Package
from sim.model.draws import Draws, draw

MINORITY = 2  # scenario.STRUCTURES.index("minority_partnership")
DECIDED = (IN_CONCEPT, APPROVED, CLOSING)  # a deal whose terms the head of state approved

# The streams read here: whether a bidder that may join another's bid does, once a run.
JOIN = "join"
DRAWS = Draws(partner_once=(JOIN,))


@dataclass(slots=True, frozen=True)
class BidderTerms:
    index: int
    name: str
    key: str  # "bidders.<name>": prefix of its inputs and of the decisions about it
    arrives_day: float
    withdraws_day: float  # inf: never
    valuation_bn: float  # per 100%, with control and the algorithm
    minority_value: float  # share of it for a minority stake
    technology_value: tuple[float, ...]  # share of it kept, by technology
    opening: float
    exponent: float
    assurance: float
    mitigation_acceptance: float
    mitigation_counter: float  # chance per round of a counter-offer
    refile_probability: float
    max_refilings: int
    needs_licence: bool
    agreed_price_bn: float  # NaN unless the deal was already agreed on day 0

    def value(self, package: Package) -> float:
        """USD bn per 100% to this bidder of the deal on the table: less without control
        or without the algorithm."""
        minority = self.minority_value if package.structure == MINORITY else 1.0
        return self.valuation_bn * minority * self.technology_value[package.technology]

    def offer(self, tau: float, value: float) -> float:
        """USD bn per 100% offered when a share ``tau`` of the time to the deadline has
        passed, conceding toward ``value``."""
        return value * (self.opening + (1 - self.opening) * tau ** (1 / self.exponent))


def bidder(deal: Deal, terms: BidderTerms) -> Generator[simpy.Event, object, None]:
    """Enter the bidding on the arrival day; walk away on the withdrawal day if not signed."""
    if terms.withdraws_day <= terms.arrives_day:
        return  # gone before it would have come
    if terms.arrives_day > 0:
        yield deal.env.timeout(terms.arrives_day)
    deal.present[terms.index] = True
    package = deal.packages[terms.index]
    deal.log(ev.BidderArrives, bidder=terms.index, valuation_bn=terms.value(package),
             parent_stake=package.parent_stake, technology=package.technology)
    deal.poke()
    if terms.withdraws_day == float("inf"):
        return
    yield deal.env.timeout(terms.withdraws_day - terms.arrives_day)
    signed_with_us = deal.signed is not None and deal.signed.bidder == terms.index
    if deal.present[terms.index] and not signed_with_us:
        deal.present[terms.index] = False
        deal.log(ev.BidderWithdraws, bidder=terms.index)
        deal.poke()


def join(deal: Deal, joiner: BidderTerms, lead: BidderTerms, day: float, stake: float,
         assurance: float) -> Generator[simpy.Event, object, None]:
    """On ``day`` the joiner brings its money, its stake and its standing to the lead's bid
    (a consortium): the parent keeps ``stake`` less, the committee reads ``assurance``
    more, and the joiner stops bidding alone. It joins only a bid still alive and not yet
    approved (approved terms are not reopened), and not if its own deal is the one signed."""
    if day > 0:
        yield deal.env.timeout(day)
    signed = deal.signed
    if (not deal.present[lead.index] and (signed is None or signed.bidder != lead.index)) \
            or (signed is not None and signed.bidder == joiner.index) \
            or deal.stage in DECIDED or joiner.withdraws_day <= deal.env.now or deal.is_over:
        return
    package = deal.packages[lead.index]
    package.parent_stake = max(package.parent_stake - stake, 0.0)
    package.board_seats = min(package.board_seats + stake, 1.0)
    package.extra += assurance
    package.partners.append(joiner.index)
    deal.present[joiner.index] = False
    deal.log(ev.JoinsBid, bidder=joiner.index, lead=lead.index,
             parent_stake=package.parent_stake)
    deal.poke()


def may_join(deal: Deal, joiner: BidderTerms, lead: BidderTerms) -> None:
    """Does the joiner join the lead's bid this run (one draw)? If so, on its day."""
    v, k = deal.values, joiner.key
    if deal.once(draw(k, JOIN)) < v[f"{k}.joins.probability"]:
        deal.env.process(join(deal, joiner, lead, v[f"{k}.joins.day"], v[f"{k}.joins.stake"],
                              v[f"{k}.joins.assurance"]))
