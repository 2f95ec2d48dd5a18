"""The shared state of one replication: who is in, the signed deal, the instruments, the
service, the event log.

Actors read and write it; none of them knows about Monte Carlo, files or figures.
``values`` holds this replication's sampled inputs (once per replication) and ``draws``
its per-occurrence values (each review, extension, ruling ... takes the next one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Concatenate, ParamSpec

import simpy

from sim.model import events as ev
from sim.model.outcome import ABANDONED, SALE, SHUTDOWN, STATES, UNRESOLVED, Ending
from sim.scenario.schema import Qualifying, structure_of

P = ParamSpec("P")  # an event's fields, after its day (``Deal.log``)

# A tier's status; the last group are for good.
PENDING, FORBORNE, HELD, ENFORCED, TRUSTEE, PENALTIES = (
    "pending", "forborne", "held", "enforced", "trustee", "penalties")
ENDED = frozenset({"lapsed", "revoked", "vacated", "settled"})
BITING = frozenset({ENFORCED, TRUSTEE, PENALTIES})

# The deal's stage, as the enforcing authority sees it (scenario.STAGES).
NONE, NEGOTIATING, SIGNED, UNDER_REVIEW, IN_CONCEPT, APPROVED, CLOSING = (
    "none", "negotiating", "signed", "under_review", "approved_in_concept", "approved",
    "closing")


@dataclass(slots=True)
class Package:
    """The terms on the table with one bidder; mitigation, refiling and a partner joining
    change them during a run."""

    parent_stake: float
    technology: int  # index into scenario.TECHNOLOGIES
    board_seats: float
    data_localisation: bool
    source_code_review: bool
    trusted_partner: bool
    extra: float = 0.0  # assurance added on the way (mitigation, refiling, partners)
    partners: list[int] = field(default_factory=list)

    @property
    def structure(self) -> int:
        return structure_of(self.parent_stake)


@dataclass(slots=True)
class Signed:
    """A signed agreement on its way through the approvals."""

    bidder: int
    price_bn: float
    day: float
    stage: str = SIGNED
    stalled: bool = False  # no decision, or approved in concept and never finalised
    process: simpy.Process | None = None


@dataclass(slots=True)
class Tier:
    """One dated stage of an instrument (the whole instrument when it has no tiers)."""

    index: int
    instrument: int  # index of its instrument
    key: str  # stream prefix: "instruments.<id>" or "instruments.<id>.tiers.<tier>"
    enforcement: str  # "instruments.<id>.enforcement": prefix of its parameters
    kind: str
    dark: bool
    issued: float  # day the instrument was made: pressure counts from here
    due: float
    hold: bool  # the authority waits for an approved deal to close
    status: str = PENDING
    wake: simpy.Event | None = None
    recheck: bool = False  # woken to look again at a biting instrument (politics)
    ready: float = math.inf  # a trustee sells from this day
    selling: bool = False  # the trustee is selling
    extension_mean: float = 0.0  # mean days of an extension, for the parties' expectation
    forbearance_mean: float = 0.0
    granted: int = 0  # extensions granted so far (-1: no more can be)
    can_forbear: bool = True


@dataclass(slots=True)
class Deal:
    env: simpy.Environment
    values: dict[str, float]
    draws: dict[str, list[list[float]]]  # key -> the block's rows -> occurrences
    row: int
    horizon: float
    pending: bool = False  # the subject is a pending transaction (a block abandons it)
    trace: list[ev.Event] | None = None  # the event log, when tracing
    present: list[bool] = field(default_factory=list)  # bidders in the running
    signed: Signed | None = None
    tiers: list[Tier] = field(default_factory=list)
    enjoined: list[int] = field(default_factory=list)  # injunctions in force, by instrument
    negotiator: simpy.Process | None = None
    ended: simpy.Event | None = None
    taken: dict[str, int] = field(default_factory=dict)  # occurrences used, by key
    refused_up_to: float = -1.0  # every licence this easy or harder has been refused
    packages: list[Package] = field(default_factory=list)  # by bidder
    tests: list[Qualifying] = field(default_factory=list)  # by instrument
    _instruments_moved: simpy.Event | None = None
    blocked: tuple[int, float] | None = None  # last deal blocked: (bidder, price)
    events: list[bool] = field(default_factory=list)  # political events that happened
    regimes: int = 0  # regime changes so far: each starts its own count of forbearances
    talks: bool = False  # a bidder the parent would deal with is in the running
    _moved: simpy.Event | None = None
    dark_since: float = math.nan  # the service is dark since this day (NaN: it is on)
    outcome: int = UNRESOLVED
    end_day: float = math.nan
    winner: int = -1
    price_bn: float = math.nan
    state: int = 0
    days_dark: float = 0.0
    extensions: int = 0
    forbearances: int = 0
    injunction: bool = False
    suits: int = 0
    regime_change: bool = False
    phases: int = 0
    home_approved: int = -1
    agreement_day: float = math.nan
    agreement_vs_deadline: float = math.nan
    deals_signed: int = 0
    refilings: int = 0
    mitigation_rounds: int = 0
    mitigation_cap: int = 1  # committee.max_mitigation_rounds

    def log(self, kind: Callable[Concatenate[float, P], ev.Event], /, *args: P.args,
            **data: P.kwargs) -> None:
        """Record an event of type ``kind``, dated now, for narration: a no-op unless
        tracing, and the event is built only then (a normal run pays one test)."""
        if self.trace is not None:
            self.trace.append(kind(self.env.now, *args, **data))

    def take(self, key: str) -> float:
        """The next occurrence of a per-occurrence value (a duration or a decision's uniform)."""
        i = self.taken.get(key, 0)
        self.taken[key] = i + 1
        try:
            return self.draws[key][self.row][i]
        except IndexError:  # the model sizes every stream from the scenario's own caps
            raise RuntimeError(f"{key}: more than {i} occurrences in one replication") from None

    def once(self, key: str) -> float:
        """A draw shared by every occurrence that reads it (one per replication)."""
        return self.draws[key][self.row][0]

    # -- the deal's stage ------------------------------------------------------------
    @property
    def stage(self) -> str:
        if self.signed is not None:
            return self.signed.stage
        return NEGOTIATING if self.talks else NONE

    def fails(self, instrument: int) -> bool:
        """Does the signed deal fail this instrument's test (so it cannot resolve it)?"""
        signed = self.signed
        return signed is not None and bool(self.failures(instrument, signed.bidder))

    def held_for(self, instrument: int) -> bool:
        """Is there an approved deal this instrument's authority holds for: approved or
        closing, and meeting the instrument's test (one that fails it resolves nothing)?"""
        return self.stage in (APPROVED, CLOSING) and not self.fails(instrument)

    def failures(self, instrument: int, bidder: int) -> list[str]:
        """Why the bidder's terms would not resolve this instrument (empty: they would)."""
        p = self.packages[bidder]
        return self.tests[instrument].failures(p.parent_stake, p.technology)

    def unmet(self, bidder: int) -> list[tuple[int, list[str]]]:
        """Every live instrument the bidder's terms would not resolve, with the reasons."""
        live = {t.instrument for t in self.tiers if t.status not in ENDED}
        return [(i, why) for i in sorted(live) if (why := self.failures(i, bidder))]

    def instruments_moved(self) -> simpy.Event:
        """An event that fires the next time an instrument changes (ends, bites, is enjoined)."""
        if self._instruments_moved is None or self._instruments_moved.triggered:
            self._instruments_moved = self.env.event()
        return self._instruments_moved

    def moved(self) -> simpy.Event:
        """An event that fires the next time the deal's stage changes (or it fails)."""
        if self._moved is None or self._moved.triggered:
            self._moved = self.env.event()
        return self._moved

    def _tell_moved(self) -> None:
        if self._moved is not None and not self._moved.triggered:
            self._moved.succeed()

    def set_stage(self, signed: Signed, stage: str) -> None:
        signed.stage = stage
        self._tell_moved()
        for tier in self.tiers:  # the deal moved: an authority with something in force, or
            if tier.status in BITING:  # holding for it, looks again at the new stage
                self.wake(tier, recheck=True)
            elif tier.status == HELD:
                self.wake(tier)

    # -- instruments -----------------------------------------------------------------
    def wake(self, tier: Tier, recheck: bool = False) -> None:
        """Make a tier's authority look again now (politics, a court, the deal moved)."""
        tier.recheck = tier.recheck or recheck
        if tier.wake is not None and not tier.wake.triggered:
            tier.wake.succeed()

    def wake_all(self, recheck: bool = False) -> None:
        for tier in self.tiers:
            self.wake(tier, recheck)

    def wake_held(self) -> None:
        """The deal moved: only an authority holding for an approved deal cares."""
        for tier in self.tiers:
            if tier.status == HELD:
                self.wake(tier)

    def wake_instrument(self, instrument: int) -> None:
        for tier in self.tiers:
            if tier.instrument == instrument:
                self.wake(tier)

    @property
    def trustee(self) -> bool:
        """A trustee is selling the business (an enforced divestiture order, not enjoined)."""
        return any(t.selling and t.status == TRUSTEE and not self.enjoined[t.instrument]
                   for t in self.tiers)

    def update_service(self) -> None:
        """Recompute whether the service is dark after any change to a ban or a court."""
        if self._instruments_moved is not None and not self._instruments_moved.triggered:
            self._instruments_moved.succeed()
        dark = any(t.dark and t.status == ENFORCED and not self.enjoined[t.instrument]
                   for t in self.tiers)
        was = not math.isnan(self.dark_since)
        if dark and not was:
            self.dark_since = self.env.now
            self.log(ev.ServiceDark)
        elif was and not dark:
            self.days_dark += self.env.now - self.dark_since
            self.dark_since = math.nan
            self.log(ev.ServiceRestored)

    def pressure(self, expect: bool = False) -> tuple[float, float]:
        """(origin, day) of the threat the parties bargain against: the nearest live one.

        A pending or forborne instrument threatens at its due day; one that bites (a ban
        in force, a trustee, penalties) at once. An enjoined, held or ended instrument is
        no threat; with none left the day is infinite: no pressure at all (``tau`` 0, both
        sides at their opening positions), as for a sale nobody forces. With ``expect``,
        a due day counts the days the parties expect the authority to add at its next look,
        given the deal's stage (an extension or a forbearance at their chances in force:
        Yildiz 2004, an uncertain deadline weakens the deadline effect).
        """
        best = (0.0, math.inf)
        for t in self.tiers:
            if self.enjoined[t.instrument] or t.status in ENDED or t.status == HELD:
                continue
            day = self.env.now if t.status in BITING else t.due
            if expect and t.status not in BITING:
                day += self._expected_delay(t)
            if day < best[1]:
                best = (t.issued, day)
        return best

    def _expected_delay(self, t: Tier) -> float:
        v, stage, p = self.values, self.stage, t.enforcement
        extend = forbear = 0.0
        if t.granted >= 0:
            extend = (v.get(f"{p}.extend.{stage}", v[f"{p}.extend.otherwise"])
                      * v[f"{p}.extension_decay"] ** t.granted)
        if t.can_forbear:
            forbear = v.get(f"{p}.forbear.{stage}", v[f"{p}.forbear.otherwise"])
        return extend * t.extension_mean + forbear * t.forbearance_mean

    @property
    def pressure_day(self) -> float:
        return self.pressure()[1]

    def expected_pressure(self) -> tuple[float, float]:
        """(origin, day) the parties bargain toward (``pressure(expect=True)``)."""
        return self.pressure(expect=True)

    # -- bargaining ------------------------------------------------------------------
    def poke(self) -> None:
        """Tell the parent something it bargains on changed (an arrival, a deadline, a failure).

        While a deal is signed the parent is not bargaining, so there is nothing to tell it
        (``fail_signed`` clears the deal before it pokes).
        """
        proc = self.negotiator
        if (self.signed is None and proc is not None and proc.is_alive
                and proc is not self.env.active_process):
            proc.interrupt()

    def fail_signed(self, reason: str, signed: Signed | None = None) -> None:
        """The signed deal (``signed``, if it is still the one) died: its bidder is out,
        the parent goes back to the others."""
        if signed is None:
            signed = self.signed
        if signed is None or signed is not self.signed or self.is_over:
            return
        self.log(ev.DealFailed, bidder=signed.bidder, reason=reason)
        if self.pending:  # the transaction itself is dead
            self.end(ABANDONED, bidder=signed.bidder)
            return
        self.present[signed.bidder] = False
        self.signed = None
        if signed.process is not None and signed.process.is_alive \
                and signed.process is not self.env.active_process:
            signed.process.interrupt(reason)
        self._tell_moved()
        self.wake_held()
        self.poke()

    # -- the end ---------------------------------------------------------------------
    @property
    def is_over(self) -> bool:
        return self.ended is not None and self.ended.triggered

    def end(self, outcome: Ending, bidder: int = -1, tier: int = -1, state: str = "") -> None:
        """A sale or an abandonment ends the run at once; the horizon ends every other.
        ``bidder`` or ``tier`` name what ended an abandoned transaction, ``state`` where
        an unresolved case stood (for the log)."""
        if self.is_over:
            return
        if not math.isnan(self.dark_since):  # a sale restores the service
            self.days_dark += self.env.now - self.dark_since
            if outcome == SALE:
                self.log(ev.ServiceRestored)
        self.outcome, self.end_day = outcome, self.env.now
        stake = 0.0
        if outcome == SALE and self.signed is not None:
            self.winner, self.price_bn = self.signed.bidder, self.signed.price_bn
            stake = self.packages[self.winner].parent_stake
        self.log(ev.End, outcome=outcome, state=state, bidder=bidder, tier=tier,
                 parent_stake=stake)
        assert self.ended is not None
        self.ended.succeed()

    def at_horizon(self) -> None:
        """Dark at the horizon is a shutdown (dated when it last went dark); else open."""
        if self.is_over:
            return
        if not math.isnan(self.dark_since):
            since = self.dark_since
            self.end(SHUTDOWN)
            self.end_day = since
            return
        self.state = STATES.index(self.open_state())
        self.end(UNRESOLVED, state=STATES[self.state])

    def open_state(self) -> str:
        """Where an unresolved case stands, the most specific first (outcome.STATES)."""
        stage = self.stage
        if stage in (SIGNED, UNDER_REVIEW):
            return "under_review"
        if stage == IN_CONCEPT:
            return "approved_in_concept"
        if stage in (APPROVED, CLOSING):
            return "deal_pending"
        live = [t for t in self.tiers if t.status not in ENDED]
        if any(self.enjoined[t.instrument] for t in live):
            return "enjoined"
        if any(t.status == FORBORNE for t in live):
            return "forborne"
        if any(t.status in BITING for t in live):
            return "enforcement_pending"
        if self.tiers and not live:
            return "lapsed"
        return "open"
