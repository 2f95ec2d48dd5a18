"""Courts: when a ban is enforced the parent may sue and a judge may enjoin it.

An injunction that outlasts the horizon leaves the case unresolved; one that is lifted
lets the ban bite and the business shuts down, unless a sale closed meanwhile.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import simpy

from sim.actors.deal import Deal
from sim.outcome import SHUTDOWN


def enforce(deal: Deal, deadline_key: str,
            court_key: str) -> Generator[simpy.Event, object, None]:
    v = deal.values
    deal.log("enforcement", deadline=deadline_key)
    sued = v[f"{deadline_key}.draw.sue"] < v[f"{court_key}.sue_probability"]
    if sued:
        deal.log("lawsuit", deadline=deadline_key)
        if v[f"{deadline_key}.draw.injunction"] < v[f"{court_key}.injunction_probability"]:
            deal.injunction = True
            duration = v.get(f"{court_key}.injunction_days", math.inf)
            deal.log("injunction", deadline=deadline_key, days=duration)
            if math.isinf(duration):
                return
            yield deal.env.timeout(duration)
            if deal.is_over:
                return
            deal.log("injunction_lifted", deadline=deadline_key)
    deal.end(SHUTDOWN, deadline=deadline_key)
