"""A dated deadline: at expiry without a closed deal the authority extends it or enforces.

The chance of an extension depends on whether a deal is in progress (signed and on its
way through approvals) and is capped by a number and total length of extensions. Without
one, a ``ban`` deadline is enforced with some probability (enforcement may also simply
lapse, as the 4 December 2020 divestiture deadline did) and goes to court.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import simpy

from sim.actors import court
from sim.actors.deal import Deal


@dataclass(slots=True, frozen=True)
class DeadlineTerms:
    index: int
    key: str  # "deadlines.<id>"
    court_key: str  # "court" or "deadlines.<id>.court"
    day: float
    bans: bool
    max_extensions: int
    max_total_days: float


def deadline(deal: Deal, terms: DeadlineTerms) -> Generator[simpy.Event, object, None]:
    env, v, key = deal.env, deal.values, terms.key
    granted, total = 0, 0.0
    while True:
        yield env.timeout(max(deal.pressure_days[terms.index] - env.now, 0.0))
        in_progress = deal.signed is not None
        if granted < terms.max_extensions and total < terms.max_total_days:
            which = "if_deal_in_progress" if in_progress else "otherwise"
            if v[f"{key}.draw.extend.{granted}"] < v[f"{key}.extension.probability_{which}"]:
                days = min(v[f"{key}.extension.days"], terms.max_total_days - total)
                granted, total = granted + 1, total + days
                deal.extensions += 1
                deal.pressure_days[terms.index] += days
                deal.log("deadline_extended", deadline=key, days=days, deal_in_progress=in_progress,
                         until_day=deal.pressure_days[terms.index], extensions=granted)
                deal.poke()
                continue
        deal.log("deadline_expires", deadline=key, extensions=granted,
                 deal_in_progress=in_progress)
        deal.pressure_days[terms.index] = float("inf")  # no longer pending
        deal.last_expired = env.now
        deal.poke()
        if terms.bans and v[f"{key}.draw.enforce"] < v[f"{key}.enforcement_probability"]:
            yield from court.enforce(deal, key, terms.court_key)
        else:
            deal.log("deadline_lapses", deadline=key)
        return
