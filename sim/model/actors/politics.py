"""Dated political events: an election, an inauguration, a law taking effect.

Each happens with its probability (or only if the event it requires happened). When it
happens it sets named chances from that day on, may revoke instruments, may order a fresh
review of a blocked or stalled deal, and makes every authority look again at an
instrument already in force.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass

import simpy

from sim.model import events as ev
from sim.model.actors.deal import ENDED, Deal
from sim.model.draws import Draws, draw

# The streams read here: whether each event happens, once a run.
HAPPENS = "happens"
DRAWS = Draws(event_once=(HAPPENS,))


@dataclass(slots=True, frozen=True)
class EventTerms:
    index: int
    key: str  # "politics.<id>"
    day: float
    requires: int  # index of the event it requires, -1 for none
    sets: tuple[tuple[str, str], ...]  # (parameter key, key of the value it takes)
    revokes: tuple[int, ...]  # instrument indices
    fresh_review: bool


def event(deal: Deal, e: EventTerms,
          review: Callable[[Deal], None]) -> Generator[simpy.Event, object, None]:
    yield deal.env.timeout(e.day)
    if deal.is_over or (e.requires >= 0 and not deal.events[e.requires]):
        return
    if deal.take(draw(e.key, HAPPENS)) >= deal.values[f"{e.key}.probability"]:
        deal.log(ev.PoliticalEvent, event=e.index, happened=False)
        return
    deal.events[e.index] = True
    deal.regime_change = True
    deal.regimes += 1
    for target, source in e.sets:
        deal.values[target] = deal.values[source]
    deal.log(ev.PoliticalEvent, event=e.index, happened=True, sets=len(e.sets))
    for instrument in e.revokes:
        tiers = [t for t in deal.tiers if t.instrument == instrument and t.status not in ENDED]
        for t in tiers:
            t.status = "revoked"
        if tiers:
            deal.log(ev.Revoked, instrument=instrument)
    deal.update_service()
    if e.fresh_review:
        review(deal)
    deal.wake_all(recheck=True)
    deal.poke()
