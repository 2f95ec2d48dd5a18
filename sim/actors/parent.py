"""The parent company: concedes from its aspiration toward its reservation value as the
deadline nears, and signs the first acceptable offer that meets its demand.

Offer and demand both move with tau, the share of the time from the order that set the
deadline in force to that deadline which has passed; with late (Boulware) concession they
cross just before the deadline, which is the deadline effect of bargaining experiments.
An extension or an injunction eases the pressure: tau falls and the demand rises again.
Which structures the parent will sell is read at each look, from latent draws it shares
with its home government's stance (``Model``), and it will not sign a deal whose licence
its government has already refused. Under an enforced divestiture a trustee sells instead:
any structure, at any offer above a floor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace

import simpy

from sim.actors.bidder import BidderTerms
from sim.actors.deal import TRUSTEE, Deal, Signed
from sim.actors.home_government import already_refused
from sim.scenario import STRUCTURES

CROSSING_TOLERANCE_DAYS = 1e-6


@dataclass(slots=True, frozen=True)
class ParentTerms:
    reservation_bn: float
    aspiration_multiple: float
    exponent: float
    latent: tuple[float, ...]  # by structure: the draw its acceptance chance is compared with
    trustee_floor: float = 0.0  # a trustee's floor, as a share of the reservation (0: none)

    def demand(self, tau: float) -> float:
        """USD bn asked when a share ``tau`` of the time to the deadline has passed."""
        if self.trustee_floor:
            return self.reservation_bn * self.trustee_floor
        m = self.aspiration_multiple
        return self.reservation_bn * (m - (m - 1) * tau ** (1 / self.exponent))


def accepts(deal: Deal, parent: ParentTerms, bidder: BidderTerms) -> bool:
    """Would it sell to this bidder now: the structure, and no licence already refused."""
    if bidder.needs_licence and already_refused(deal, bidder.structure):
        return False
    if parent.trustee_floor:
        return True
    return parent.latent[bidder.structure] < deal.values.get(
        f"parent.accepts.{STRUCTURES[bidder.structure]}", 1.0)


def tau_at(t: float, origin: float, deadline: float) -> float:
    """The share of the time from ``origin`` (the order) to ``deadline`` passed at ``t``;
    0 with no deadline at all (``inf``): nothing forces either side to move."""
    if math.isinf(deadline):
        return 0.0
    if deadline <= origin:
        return 1.0
    return min(max((t - origin) / (deadline - origin), 0.0), 1.0)


def crossing(now: float, origin: float, deadline: float, bidder: BidderTerms,
             parent: ParentTerms) -> tuple[float, float] | None:
    """The first day from ``now`` on which the bidder's offer meets the demand, and the price.

    Offer rises and demand falls with time until the deadline, then both stay put, so the
    gap is monotone and a bisection finds the day.
    """
    def tau(t: float) -> float:
        return tau_at(t, origin, deadline)

    def gap(t: float) -> float:
        x = tau(t)
        return bidder.offer(x) - parent.demand(x)

    if gap(now) >= 0:
        x = tau(now)
        return now, 0.5 * (bidder.offer(x) + parent.demand(x))
    if math.isinf(deadline):
        return None  # no pressure: positions never move, so they never meet
    low, high = now, max(deadline, now)
    if gap(high) < 0:
        return None
    while high - low > CROSSING_TOLERANCE_DAYS:
        mid = 0.5 * (low + high)
        if gap(mid) >= 0:
            high = mid
        else:
            low = mid
    return high, parent.demand(tau(high))


def best_agreement(deal: Deal, parent: ParentTerms,
                   bidders: Sequence[BidderTerms]) -> tuple[float, BidderTerms, float] | None:
    """The earliest agreement among the bidders in the running; the higher price on a tie."""
    best: tuple[float, BidderTerms, float] | None = None
    now, (origin, deadline) = deal.env.now, deal.pressure()
    deal.talks = False
    for b in bidders:
        if not deal.present[b.index] or math.isnan(b.valuation_bn) \
                or not accepts(deal, parent, b):
            continue  # out, or an agreed bidder back after a fresh review: no bargaining
        deal.talks = True
        found = crossing(now, origin, deadline, b, parent)
        if found is None:
            continue
        day, price = found
        if best is None or day < best[0] or (day == best[0] and price > best[2]):
            best = (day, b, price)
    return best


def trustee_floor(deal: Deal) -> float:
    """The floor of the trustee now selling (the lowest, if several orders are enforced)."""
    return min(deal.values[f"{t.enforcement}.trustee_floor"] for t in deal.tiers
               if t.selling and t.status == TRUSTEE) or 1e-9


def sign(deal: Deal, bidder: BidderTerms, price_bn: float,
         approval: Callable[[Deal, BidderTerms, Signed], Generator],
         bargained: bool = True) -> None:
    """Sign and start the approvals; only a deal reached by bargaining here has a timing."""
    now = deal.env.now
    signed = Signed(bidder.index, price_bn, now)
    deal.signed = signed
    deal.deals_signed += 1
    if bargained:
        deal.agreement_day = now
        threat = deal.pressure_day
        deal.agreement_vs_deadline = now - threat if not math.isinf(threat) else math.nan
    deal.log("signed", bidder=bidder.index, price_bn=price_bn, bargained=bargained,
             by_trustee=bargained and deal.trustee)
    signed.process = deal.env.process(approval(deal, bidder, signed))


def _log_positions(deal: Deal, parent: ParentTerms, bidders: Sequence[BidderTerms]) -> None:
    """Log where each bidder in the running stands (tracing only: it costs a few crossings)."""
    now, (origin, deadline) = deal.env.now, deal.pressure()
    x = tau_at(now, origin, deadline)
    positions = []
    for b in bidders:
        if not deal.present[b.index]:
            continue
        accepted = accepts(deal, parent, b)
        meets = crossing(now, origin, deadline, b, parent) if accepted else None
        positions.append({"bidder": b.index, "accepted": accepted, "offer_bn": b.offer(x),
                          "demand_bn": parent.demand(x), "valuation_bn": b.valuation_bn,
                          "reservation_bn": parent.reservation_bn,
                          "meets_day": meets[0] if meets else None,
                          "meets_price_bn": meets[1] if meets else None})
    deal.log("positions", deadline_day=deadline, positions=positions)


def negotiate(deal: Deal, parent: ParentTerms, bidders: Sequence[BidderTerms],
              approval: Callable[[Deal, BidderTerms, Signed], Generator]
              ) -> Generator[simpy.Event, object, None]:
    """Wait for the next crossing and sign; any change (``Deal.poke``) makes it look again."""
    env = deal.env
    while not deal.is_over:
        try:
            terms = parent
            if deal.trustee:
                terms = replace(parent, trustee_floor=trustee_floor(deal))
            found = best_agreement(deal, terms, bidders) if deal.signed is None else None
            if deal.trace is not None and deal.signed is None:
                _log_positions(deal, terms, bidders)
            if found is None:
                yield env.event()  # nothing to do until poked
                continue
            day, bidder, price = found
            if day > env.now:
                yield env.timeout(day - env.now)
                if deal.signed is not None or not deal.present[bidder.index]:
                    continue  # a deal came another way meanwhile (a fresh review)
            if deal.trace is not None:
                x = tau_at(env.now, *deal.pressure())
                deal.log("offers_cross", bidder=bidder.index, offer_bn=bidder.offer(x),
                         demand_bn=terms.demand(x), deadline_day=deal.pressure_day,
                         trustee=bool(terms.trustee_floor))
            sign(deal, bidder, price, approval)
        except simpy.Interrupt:
            continue
