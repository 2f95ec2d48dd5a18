"""The parent company: concedes from its aspiration toward its walk-away as the deadline
nears, and signs the first acceptable offer that meets its demand.

Offer and demand both move with tau, the share of the time from the order that set the
threat in force to the day the parties expect it (its due day plus the extension or
forbearance they expect at the next look: ``Deal.expected_pressure``); with late
(Boulware) concession they cross just before it, the deadline effect of bargaining
experiments (Roth, Murnighan & Schoumaker 1988), weaker when an extension is likely
(Yildiz 2004). The walk-away itself moves with the threat: lower as it nears
(``threat_discount``) and the longer it has cost the business (``delay_cost_per_year``);
an extension, a forbearance or an injunction eases the pressure, so it rises again.
Time-dependent concession follows Faratin, Sierra & Jennings (1998).
Which structures the parent will sell is read at each look, from latent draws it shares
with its home government's stance (``Model``), and it will not sign a deal whose licence
its government has already refused. Under an enforced divestiture a trustee sells instead:
any structure that resolves the orders in force, at any offer above a floor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, replace

import simpy
from scipy.special import ndtr, ndtri

from sim.model import events as ev
from sim.model.actors.bidder import BidderTerms
from sim.model.actors.deal import TRUSTEE, Deal, Signed
from sim.model.actors.home_government import STANCE, already_refused
from sim.model.draws import Draws, draw
from sim.scenario.schema import STRUCTURES, TECHNOLOGIES

CROSSING_TOLERANCE_DAYS = 1e-6


def accepts_key(structure: str) -> str:
    return draw("parent", f"accepts.{structure}")


def technology_key(technology: str) -> str:
    return draw("parent", f"technology.{technology}")


# The streams read here: the latent draws of what it will sell, once a run.
DRAWS = Draws(latent=(*map(accepts_key, STRUCTURES), *map(technology_key, TECHNOLOGIES)))


@dataclass(slots=True, frozen=True)
class ParentTerms:
    reservation_bn: float  # walk-away per 100% with no threat in force
    aspiration_multiple: float
    exponent: float
    latent: tuple[float, ...]  # by structure: the draw its acceptance chance is compared with
    technology_latent: tuple[float, ...]  # the same, by technology
    threat_discount: float = 0.0  # share of the walk-away given up as the threat arrives
    delay_cost: float = 0.0  # share of the value lost per year under a live threat
    trustee_floor: float = 0.0  # a trustee's floor, as a share of the reservation (0: none)

    def walk_away(self, tau: float, years: float) -> float:
        """The least it takes per 100%: lower as the threat nears (``tau``) and the longer
        the threat has cost it (``years`` since the order)."""
        return (self.reservation_bn * (1 - self.threat_discount * tau)
                * max(1 - self.delay_cost * years, 0.0))

    def demand(self, tau: float, years: float = 0.0) -> float:
        """USD bn per 100% asked when a share ``tau`` of the time to the deadline it expects
        has passed: from its aspiration down to its walk-away."""
        if self.trustee_floor:
            return self.reservation_bn * self.trustee_floor
        m = self.aspiration_multiple
        return self.walk_away(tau, years) * (m - (m - 1) * tau ** (1 / self.exponent))


def parent_terms(v: dict[str, float]) -> ParentTerms:
    """The parent's terms for one replication. Its structure and technology draws are tied
    to the home government's stance by a Gaussian copula: ``follows_home_government`` is
    the correlation of their normal scores."""
    rho = v["parent.follows_home_government"]
    stance = float(ndtri(v[STANCE]))

    def tied(key: str) -> float:
        return float(ndtr(rho * stance + math.sqrt(1 - rho * rho) * float(ndtri(v[key]))))

    return ParentTerms(
        reservation_bn=v["parent.reservation_bn"],
        aspiration_multiple=v["parent.aspiration_multiple"],
        exponent=v["parent.concession_exponent"],
        latent=tuple(tied(accepts_key(s)) for s in STRUCTURES),
        technology_latent=tuple(tied(technology_key(t)) for t in TECHNOLOGIES),
        threat_discount=v["parent.threat_discount"],
        delay_cost=v["parent.delay_cost_per_year"])


def accepts(deal: Deal, parent: ParentTerms, bidder: BidderTerms) -> bool:
    """Would it sell to this bidder now: terms that resolve every instrument in force, a
    structure and technology it would sell, and no licence already refused."""
    package = deal.packages[bidder.index]
    if deal.unmet(bidder.index):
        return False  # the parties know the law: such a deal would resolve nothing
    if bidder.needs_licence and already_refused(deal, package.structure, package.technology):
        return False
    if parent.trustee_floor:
        return True
    v = deal.values
    return (parent.latent[package.structure]
            < v.get(f"parent.accepts.{STRUCTURES[package.structure]}", 1.0)
            and parent.technology_latent[package.technology]
            < v.get(f"parent.accepts_technology.{TECHNOLOGIES[package.technology]}", 1.0))


def tau_at(t: float, origin: float, deadline: float) -> float:
    """The share of the time from ``origin`` (the order) to ``deadline`` passed at ``t``;
    0 with no deadline at all (``inf``): nothing forces either side to move."""
    if math.isinf(deadline):
        return 0.0
    if deadline <= origin:
        return 1.0
    return min(max((t - origin) / (deadline - origin), 0.0), 1.0)


def crossing(now: float, origin: float, deadline: float, bidder: BidderTerms, value: float,
             parent: ParentTerms) -> tuple[float, float] | None:
    """The first day from ``now`` on which the bidder's offer meets the demand, and the price
    (both per 100%); ``deadline`` is the day the parties expect the threat.

    Offer rises and demand falls with time until the deadline, then the offer stays put
    and the demand falls only with the cost of delay, so the gap is monotone and a
    bisection finds the day.
    """
    def tau(t: float) -> float:
        return tau_at(t, origin, deadline)

    def years(t: float) -> float:
        return 0.0 if math.isinf(deadline) else max(t - origin, 0.0) / 365.0

    def gap(t: float) -> float:
        x = tau(t)
        return bidder.offer(x, value) - parent.demand(x, years(t))

    if gap(now) >= 0:
        x = tau(now)
        return now, 0.5 * (bidder.offer(x, value) + parent.demand(x, years(now)))
    if math.isinf(deadline):
        return None  # no pressure: positions never move, so they never meet
    low, high = now, max(deadline, now)
    if gap(high) < 0:
        if not parent.delay_cost or parent.trustee_floor:
            return None
        # From the deadline on the offer is the value and the demand the walk-away, which
        # falls only with the delay: it meets the value on this day.
        years_needed = (1 - value / parent.walk_away(1.0, 0.0)) / parent.delay_cost
        high = max(origin + 365.0 * years_needed, high) + CROSSING_TOLERANCE_DAYS
        if gap(high) < 0:
            return None  # rounding at the far end: treat as never
    while high - low > CROSSING_TOLERANCE_DAYS:
        mid = 0.5 * (low + high)
        if gap(mid) >= 0:
            high = mid
        else:
            low = mid
    return high, parent.demand(tau(high), years(high))


def best_agreement(deal: Deal, parent: ParentTerms,
                   bidders: Sequence[BidderTerms]) -> tuple[float, BidderTerms, float] | None:
    """The earliest agreement among the bidders in the running; the higher price on a tie."""
    best: tuple[float, BidderTerms, float] | None = None
    now, (origin, deadline) = deal.env.now, deal.expected_pressure()
    deal.talks = False
    for b in bidders:
        if not deal.present[b.index] or math.isnan(b.valuation_bn) \
                or not accepts(deal, parent, b):
            continue  # out, or an agreed bidder back after a fresh review: no bargaining
        deal.talks = True
        found = crossing(now, origin, deadline, b, b.value(deal.packages[b.index]), parent)
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
    package = deal.packages[bidder.index]
    deal.log(ev.DealSigned, bidder=bidder.index, price_bn=price_bn, bargained=bargained,
             by_trustee=bargained and deal.trustee, parent_stake=package.parent_stake,
             technology=package.technology)
    signed.process = deal.env.process(approval(deal, bidder, signed))


def _log_positions(deal: Deal, parent: ParentTerms, bidders: Sequence[BidderTerms]) -> None:
    """Log where each bidder in the running stands (tracing only: it costs a few crossings)."""
    now, (origin, deadline) = deal.env.now, deal.expected_pressure()
    x = tau_at(now, origin, deadline)
    years = 0.0 if math.isinf(deadline) else max(now - origin, 0.0) / 365.0
    positions = []
    for b in bidders:
        if not deal.present[b.index] or math.isnan(b.valuation_bn):
            continue
        accepted = accepts(deal, parent, b)
        value = b.value(deal.packages[b.index])
        meets = crossing(now, origin, deadline, b, value, parent) if accepted else None
        package = deal.packages[b.index]
        refused = b.needs_licence and already_refused(deal, package.structure,
                                                      package.technology)
        positions.append(ev.Position(
            bidder=b.index, accepted=accepted, licence_refused=refused,
            unmet=tuple((i, tuple(why)) for i, why in deal.unmet(b.index)),
            offer_bn=b.offer(x, value), demand_bn=parent.demand(x, years), valuation_bn=value,
            reservation_bn=parent.walk_away(x, years), meets_day=meets[0] if meets else None,
            meets_price_bn=meets[1] if meets else None))
    deal.log(ev.Positions, deadline_day=deal.pressure_day, expected_day=deadline,
             positions=tuple(positions))


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
                origin, expected = deal.expected_pressure()
                x = tau_at(env.now, origin, expected)
                years = 0.0 if math.isinf(expected) else max(env.now - origin, 0.0) / 365
                deal.log(ev.OffersCross, bidder=bidder.index,
                         offer_bn=bidder.offer(x, bidder.value(deal.packages[bidder.index])),
                         demand_bn=terms.demand(x, years), deadline_day=deal.pressure_day,
                         trustee=bool(terms.trustee_floor))
            sign(deal, bidder, price, approval)
        except simpy.Interrupt:
            continue
