"""The authority behind an instrument: at each due date it extends, forbears, lets it lapse
or enforces, looking at the deal's stage; enforcement does what the instrument does.

One process per tier (a ban's app-store and hosting dates are decided separately). While
the instrument is enjoined the authority waits; while an approved deal is closing it
holds (``hold_for_approved_deal``); politics make it look again at an instrument in force.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import simpy

from sim.model import events as ev
from sim.model.actors.deal import (
    BITING,
    ENDED,
    ENFORCED,
    FORBORNE,
    HELD,
    PENALTIES,
    PENDING,
    TRUSTEE,
    Deal,
    Tier,
)
from sim.model.draws import Draws, draw, key
from sim.model.outcome import ABANDONED

# The streams read here: the authority's disposition and its remedy, once a run for each
# tier, and the days of each extension, forbearance and trustee, for each instrument.
DECIDE, REMEDY = "decide", "remedy"
EXTENSION_DAYS, FORBEARANCE_DAYS, TRUSTEE_DAYS = (
    "extension_days", "forbearance_days", "trustee_days")
DRAWS = Draws(tier_once=(DECIDE, REMEDY), extension_days=(EXTENSION_DAYS,),
              forbearance_days=(FORBEARANCE_DAYS,), look_days=(TRUSTEE_DAYS,))


def chance(v: dict[str, float], prefix: str, stage: str) -> float:
    """A stage map's chance: the stage's own entry, else ``otherwise``."""
    return v.get(f"{prefix}.{stage}", v[f"{prefix}.otherwise"])


def _sleep(deal: Deal, tier: Tier, until: float = math.inf) -> simpy.Event:
    """Wait until ``until`` or until something wakes the tier, whichever is first (the
    timeout triggers the wake event itself: cheaper than a condition on both)."""
    wake = tier.wake = deal.env.event()
    if not math.isinf(until):
        def ring(_: simpy.Event) -> None:
            if not wake.triggered:
                wake.succeed()

        deal.env.timeout(max(until - deal.env.now, 0.0)).callbacks.append(ring)
    return wake


def authority(deal: Deal, tier: Tier, max_extensions: int, max_total: float,
              max_forbearances: int) -> Generator[simpy.Event, object, None]:
    env, v = deal.env, deal.values
    p = tier.enforcement
    granted, total, forborne = 0, 0.0, 0
    regime = 0
    # The authority's disposition toward this tier: one uniform for the run, read at every
    # look against the chances then in force. An authority that forbears goes on forbearing
    # (to its cap), and a regime change, a lifted injunction or a failed deal is a new
    # reading of the same disposition, never a second throw: so a lenient regime counts
    # the same whether it comes before the due date or after it.
    u = deal.once(draw(tier.key, DECIDE))

    def decide(in_force: bool) -> None:
        """One look: extend, forbear, lapse, or enforce (``in_force``: leave it in force)."""
        nonlocal granted, total, forborne
        stage = deal.stage
        extend = 0.0
        if granted < max_extensions and total < max_total:
            extend = chance(v, f"{p}.extend", stage) * v[f"{p}.extension_decay"] ** granted
        forbear = chance(v, f"{p}.forbear", stage) if forborne < max_forbearances else 0.0
        lapse = chance(v, f"{p}.lapse", stage)
        if u < extend:
            days = min(deal.take(key(p, EXTENSION_DAYS)), max_total - total)
            granted, total = granted + 1, total + days
            tier.granted = granted if granted < max_extensions and total < max_total else -1
            deal.extensions += 1
            tier.status, tier.due = PENDING, env.now + days
            deal.log(ev.DeadlineExtended, tier=tier.index, days=days, stage=stage,
                     until_day=tier.due, extensions=granted, lifted=in_force,
                     fails=deal.fails(tier.instrument))
            deal.update_service()
            deal.poke()
        elif u < extend + forbear:
            forborne += 1
            tier.can_forbear = forborne < max_forbearances
            _forbear(deal, tier, forborne, lifted=in_force)
        elif u < extend + forbear + lapse:
            _lapse(deal, tier, lifted=in_force)
        elif not in_force:
            _enforce(deal, tier, stage)

    while tier.status not in ENDED and not deal.is_over:
        if deal.enjoined[tier.instrument]:
            yield _sleep(deal, tier)
            continue
        if regime != deal.regimes:  # a new regime keeps its own count of forbearances
            regime, forborne = deal.regimes, 0
            tier.can_forbear = max_forbearances > 0
        if tier.status in BITING:
            if tier.hold and deal.held_for(tier.instrument):
                tier.status = HELD  # not enforced against an approved deal: suspended
                deal.log(ev.EnforcementSuspended, tier=tier.index, stage=deal.stage)
                deal.update_service()
                deal.poke()
                continue
            if tier.recheck:  # the politics changed: the authority looks again
                tier.recheck = False
                decide(in_force=True)
                continue
            if tier.status == TRUSTEE and not tier.selling:
                if env.now < tier.ready:
                    yield _sleep(deal, tier, tier.ready)
                    continue
                tier.selling = True
                deal.log(ev.TrusteeSells, tier=tier.index)
                if deal.signed is not None and deal.signed.stalled:
                    deal.fail_signed("set aside by the trustee: it had stalled", deal.signed)
                deal.poke()
            yield _sleep(deal, tier)
            continue
        if tier.status == HELD:
            if deal.held_for(tier.instrument):
                yield _sleep(deal, tier)
                continue
            tier.status, tier.due = PENDING, env.now  # the deal it waited for failed
        if env.now < tier.due:
            tier.recheck = False
            yield _sleep(deal, tier, tier.due)
            continue
        if tier.hold and deal.held_for(tier.instrument):
            tier.status = HELD
            deal.log(ev.EnforcementHeld, tier=tier.index, stage=deal.stage)
            continue
        decide(in_force=False)


def _forbear(deal: Deal, tier: Tier, count: int, lifted: bool = False) -> None:
    days = deal.take(key(tier.enforcement, FORBEARANCE_DAYS))
    deal.forbearances += 1
    tier.status, tier.due = FORBORNE, deal.env.now + days
    deal.log(ev.Forbearance, tier=tier.index, days=days, until_day=tier.due, count=count,
             lifted=lifted, stage=deal.stage, fails=deal.fails(tier.instrument))
    deal.update_service()
    deal.poke()


def _lapse(deal: Deal, tier: Tier, lifted: bool = False) -> None:
    tier.status = "lapsed"
    deal.log(ev.DeadlineLapses, tier=tier.index, lifted=lifted, stage=deal.stage,
             fails=deal.fails(tier.instrument))
    deal.update_service()
    deal.poke()


def _enforce(deal: Deal, tier: Tier, stage: str) -> None:
    """The instrument's own remedy."""
    if tier.kind == "lapse":
        _lapse(deal, tier)
        return
    deal.log(ev.Enforcement, tier=tier.index, stage=stage, remedy=tier.kind,
             fails=deal.fails(tier.instrument))
    if tier.kind == "transaction_termination":
        deal.end(ABANDONED, tier=tier.index)
        return
    if tier.kind == "service_ban":
        tier.status = ENFORCED
        deal.update_service()
        deal.poke()
        return
    # A divestiture order: a trustee sells, or penalties run while the business operates.
    p = tier.enforcement
    if deal.once(draw(tier.key, REMEDY)) >= deal.values[f"{p}.trustee_probability"]:
        tier.status = PENALTIES
        deal.log(ev.Penalties, tier=tier.index)
    else:
        tier.status, tier.selling = TRUSTEE, False
        days = deal.take(key(p, TRUSTEE_DAYS))
        tier.ready = deal.env.now + days
        deal.log(ev.TrusteeAppointed, tier=tier.index, days=days, ready_day=tier.ready)
    deal.poke()
