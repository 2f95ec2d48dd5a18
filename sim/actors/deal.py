"""The shared state of one replication: who is in, the signed deal, the event log.

Actors read and write it; none of them knows about Monte Carlo, files or figures.
``values`` holds this replication's sampled inputs and decision draws by key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import simpy

from sim.outcome import SALE, UNRESOLVED


@dataclass(slots=True)
class Signed:
    """A signed agreement on its way through the approvals."""

    bidder: int
    price_bn: float
    day: float
    process: simpy.Process | None = None


@dataclass(slots=True)
class Deal:
    env: simpy.Environment
    values: dict[str, float]
    horizon: float
    trace: list[tuple[float, str, dict[str, Any]]] | None = None
    present: list[bool] = field(default_factory=list)  # bidders in the running
    signed: Signed | None = None
    pressure_days: list[float] = field(default_factory=list)  # pending deadlines' days
    last_expired: float = math.nan  # day the latest deadline expired
    negotiator: simpy.Process | None = None
    ended: simpy.Event | None = None
    outcome: int = UNRESOLVED
    end_day: float = math.nan
    winner: int = -1
    price_bn: float = math.nan
    extensions: int = 0
    injunction: bool = False
    phases: int = 0
    home_approved: int = -1
    agreement_day: float = math.nan
    agreement_vs_deadline: float = math.nan
    deals_signed: int = 0

    def log(self, kind: str, **data: Any) -> None:
        """Record an event for narration; a no-op unless tracing (costs one test)."""
        if self.trace is not None:
            self.trace.append((self.env.now, kind, data))

    @property
    def pressure_day(self) -> float:
        """The deadline the parties bargain against: the next pending one.

        Once every deadline has passed, the last one: both sides have conceded all the way
        to their walk-away values and stay there. With no deadlines at all, the horizon.
        """
        day = min(self.pressure_days, default=math.inf)
        if not math.isinf(day):
            return day
        return self.horizon if math.isnan(self.last_expired) else self.last_expired

    def poke(self) -> None:
        """Tell the parent something it bargains on changed (an arrival, a deadline, a failure).

        While a deal is signed the parent is not bargaining, so there is nothing to tell it
        (``fail_signed`` clears the deal before it pokes).
        """
        proc = self.negotiator
        if (self.signed is None and proc is not None and proc.is_alive
                and proc is not self.env.active_process):
            proc.interrupt()

    def fail_signed(self, reason: str) -> None:
        """The signed deal died: its bidder is out, the parent goes back to the others."""
        signed = self.signed
        if signed is None or self.is_over:
            return
        self.log("deal_failed", bidder=signed.bidder, reason=reason)
        self.present[signed.bidder] = False
        self.signed = None
        if signed.process is not None and signed.process.is_alive \
                and signed.process is not self.env.active_process:
            signed.process.interrupt(reason)
        self.poke()

    @property
    def is_over(self) -> bool:
        return self.ended is not None and self.ended.triggered

    def end(self, outcome: int, **data: Any) -> None:
        if self.is_over:
            return
        self.outcome, self.end_day = outcome, self.env.now
        if outcome == SALE and self.signed is not None:
            self.winner, self.price_bn = self.signed.bidder, self.signed.price_bn
        self.log("end", outcome=outcome, **data)
        assert self.ended is not None
        self.ended.succeed()
