"""Courts as processes: each plaintiff may sue against an instrument, before or after its
date; a preliminary ruling takes time; the loser may appeal; a plaintiff who wins on
appeal may get the instrument vacated (for good, or remanded and re-imposed later).

An injunction pauses the instrument (a dark service comes back) and takes it out of the
threat the parties bargain against; when it is lifted the authority looks again.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass

import simpy

from sim.model import events as ev
from sim.model.actors.deal import BITING, ENDED, PENDING, Deal
from sim.model.draws import Draws, draw, key

RULING_TRIES = 8  # draws of a pending suit's time to ruling (model.occurrences sizes them)

# The streams read here: whether the government settles, once a run for each instrument
# fought in court; each plaintiff's decisions in its suit, once; and the court's days:
# up to RULING_TRIES draws of each suit's time to ruling, and one appeal per suit.
SETTLEMENT = "settlement"
SUE, RULING, APPEAL, REVERSAL, VACATUR = "sue", "ruling", "appeal", "reversal", "vacatur"
RULING_DAYS, APPEAL_DAYS = "ruling_days", "appeal_days"
DRAWS = Draws(court_once=(SETTLEMENT,), plaintiff_once=(SUE, RULING, APPEAL, REVERSAL, VACATUR),
              ruling_days=(RULING_DAYS,), suit_days=(APPEAL_DAYS,))


@dataclass(slots=True, frozen=True)
class SuitTerms:
    instrument: int
    name: str  # the plaintiff
    key: str  # "instruments.<id>.plaintiffs.<name>": prefix of its decision draws
    court: str  # prefix of the court's parameters ("court" or "instruments.<id>.court")
    plaintiff: str  # prefix of the plaintiff's own parameters
    settlement: str  # "instruments.<id>": the prefix of the instrument's settlement draw
    first_day: float  # the instrument's first date: filing is relative to it


def _live(deal: Deal, instrument: int) -> bool:
    return not deal.is_over and any(t.status not in ENDED for t in deal.tiers
                                    if t.instrument == instrument)


def _enjoin(deal: Deal, s: SuitTerms, how: str) -> None:
    deal.enjoined[s.instrument] += 1
    deal.injunction = True
    deal.log(ev.Injunction, instrument=s.instrument, plaintiff=s.name, how=how)
    deal.update_service()
    deal.wake_instrument(s.instrument)
    deal.poke()


def _lift(deal: Deal, s: SuitTerms) -> None:
    """The last injunction gone, an instrument that was in force is due again at once:
    the authority decides afresh (it may hold for an approved deal, forbear, or enforce)."""
    deal.enjoined[s.instrument] -= 1
    deal.log(ev.InjunctionLifted, instrument=s.instrument, plaintiff=s.name,
             still=deal.enjoined[s.instrument])
    if not deal.enjoined[s.instrument]:
        for t in deal.tiers:
            if t.instrument == s.instrument and t.status in BITING:
                t.status, t.due = PENDING, deal.env.now
    deal.update_service()
    deal.wake_instrument(s.instrument)
    deal.poke()


def _end_instrument(deal: Deal, instrument: int, status: str) -> None:
    for t in deal.tiers:
        if t.instrument == instrument and t.status not in ENDED:
            t.status = status
    deal.update_service()
    deal.wake_instrument(instrument)
    deal.poke()


def _held(deal: Deal, instrument: int) -> bool:
    """Every live tier is held (or would be) for an approved deal: nothing to sue against."""
    live = [t for t in deal.tiers if t.instrument == instrument and t.status not in ENDED]
    return bool(live) and deal.held_for(instrument) and all(t.hold for t in live)


def _ruling_day(deal: Deal, s: SuitTerms, filed: float) -> float:
    """The preliminary ruling's day. A suit filed before day 0 had no ruling by then (or
    the scenario would say so), so its time to ruling is drawn given that: the first of
    its per-occurrence draws that falls after day 0 (rejection sampling, exact)."""
    day = filed + deal.take(key(s.court, RULING_DAYS))
    for _ in range(RULING_TRIES - 1):
        if day > deal.env.now:
            break
        day = filed + deal.take(key(s.court, RULING_DAYS))
    return day


def suit(deal: Deal, s: SuitTerms) -> Generator[simpy.Event, object, None]:
    env, v = deal.env, deal.values
    filed = s.first_day + v[f"{s.plaintiff}.files_day"]  # before day 0: already pending
    if filed > env.now:
        yield env.timeout(filed - env.now)
    if deal.take(draw(s.key, SUE)) >= v[f"{s.plaintiff}.sue_probability"]:
        return
    while _live(deal, s.instrument) and _held(deal, s.instrument):
        yield deal.moved()  # held for an approved deal: sue only if it comes back
        filed = env.now
    if not _live(deal, s.instrument):
        return
    deal.suits += 1
    deal.log(ev.Lawsuit, instrument=s.instrument, plaintiff=s.name, filed_day=filed)
    yield env.timeout(max(_ruling_day(deal, s, filed) - env.now, 0.0))
    if not _live(deal, s.instrument):
        return
    # Settling is the government's choice about the instrument, not each suit's: one draw
    # per instrument, so several plaintiffs do not multiply the chance it is withdrawn.
    if deal.once(draw(s.settlement, SETTLEMENT)) < v[f"{s.court}.settlement_probability"]:
        deal.log(ev.Settlement, instrument=s.instrument, plaintiff=s.name)
        _end_instrument(deal, s.instrument, "settled")
        return
    granting = v.get(f"{s.plaintiff}.injunction_probability",
                     v[f"{s.court}.injunction_probability"])
    granted = deal.take(draw(s.key, RULING)) < granting
    if granted:
        _enjoin(deal, s, "preliminary")
    else:
        deal.log(ev.InjunctionDenied, instrument=s.instrument, plaintiff=s.name)
    if deal.take(draw(s.key, APPEAL)) >= v[f"{s.court}.appeal_probability"]:
        return
    deal.log(ev.Appeal, instrument=s.instrument, plaintiff=s.name, by_government=granted)
    yield env.timeout(deal.take(key(s.court, APPEAL_DAYS)))
    if not _live(deal, s.instrument):
        return
    reversed_ = deal.take(draw(s.key, REVERSAL)) < v[f"{s.court}.reversal_probability"]
    deal.log(ev.AppealDecided, instrument=s.instrument, plaintiff=s.name, reversed=reversed_,
             by_government=granted)
    if granted and reversed_:
        _lift(deal, s)
        return
    if not granted and not reversed_:
        return
    if not granted:
        _enjoin(deal, s, "on appeal")
    if deal.take(draw(s.key, VACATUR)) >= v[f"{s.court}.vacatur_probability"]:
        return
    remand = v.get(f"{s.court}.remand_days", math.inf)
    deal.enjoined[s.instrument] -= 1  # the order itself is gone: no injunction needed
    deal.log(ev.Vacated, instrument=s.instrument, plaintiff=s.name, remand_days=remand)
    if math.isinf(remand):
        _end_instrument(deal, s.instrument, "vacated")
        return
    for t in deal.tiers:  # remanded: re-imposed after a fresh look, with a new date
        if t.instrument == s.instrument and t.status not in ENDED:
            t.status, t.due = PENDING, env.now + remand
    deal.update_service()
    deal.wake_instrument(s.instrument)
    deal.poke()
