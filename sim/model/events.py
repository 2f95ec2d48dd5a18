"""What the actors log: one frozen dataclass per kind of event, with typed fields.

The log is for narration and tests only (``Deal.log``: off in normal runs, where an
event is never even built). A type per kind lets the narrator dispatch on the type and
lets a test check that every kind has a sentence (``EVENTS``), where a misspelt string
would have shown only when a story was told.

Indices are the model's: ``bidder`` and ``lead`` into ``scenario.suitors``, ``tier`` into
``scenario.due_dates``, ``instrument`` into ``scenario.instruments``, ``event`` into
``scenario.politics``; ``stage`` is the deal's stage as the authority saw it
(``deal.NONE`` ... ``deal.CLOSING``), ``fails`` whether the deal then signed failed that
instrument's test.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from sim.model.outcome import Decision, Ending, Recommendation

Unmet = tuple[tuple[int, tuple[str, ...]], ...]  # (instrument, why its test fails) pairs


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened on ``day`` of a replication."""

    day: float
    kind: ClassVar[str] = ""  # the event's old name in the log, for ``view``

    def view(self) -> tuple[float, str, dict[str, Any]]:
        """The event as the log's earlier ``(day, kind, data)`` triple: the tests that
        still read the log that way (tests/conftest.py ``Played``) keep working."""
        return self.day, self.kind, {f.name: getattr(self, f.name) for f in fields(self)
                                     if f.name != "day"}

    def __iter__(self) -> Iterator[Any]:
        return iter(self.view())

    def __getitem__(self, index: int) -> Any:
        return self.view()[index]


# -- bidders and bargaining ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class BidderArrives(Event):
    kind: ClassVar[str] = "bidder_arrives"
    bidder: int
    valuation_bn: float  # what the deal on the table is worth to it, per 100%
    parent_stake: float
    technology: int  # index into scenario.TECHNOLOGIES


@dataclass(frozen=True, slots=True)
class BidderWithdraws(Event):
    kind: ClassVar[str] = "bidder_withdraws"
    bidder: int


@dataclass(frozen=True, slots=True)
class JoinsBid(Event):
    kind: ClassVar[str] = "joins_bid"
    bidder: int  # the partner
    lead: int  # the bidder whose bid it joins
    parent_stake: float  # what the parent would keep now


@dataclass(frozen=True, slots=True)
class Position:
    """Where one bidder in the running stands with the parent (a row of ``Positions``)."""

    bidder: int
    accepted: bool  # the parent would sell on its terms
    licence_refused: bool  # a licence no harder than its deal needs was refused
    unmet: Unmet  # the instruments its terms would not resolve
    offer_bn: float
    demand_bn: float
    valuation_bn: float
    reservation_bn: float
    meets_day: float | None  # when offer and demand would meet (None: never)
    meets_price_bn: float | None


@dataclass(frozen=True, slots=True)
class Positions(Event):
    """The bargaining positions whenever the parent looks again (tracing only)."""

    kind: ClassVar[str] = "positions"
    deadline_day: float  # the threat in force
    expected_day: float  # the day the parties expect it (extensions, forbearance)
    positions: tuple[Position, ...]


@dataclass(frozen=True, slots=True)
class OffersCross(Event):
    kind: ClassVar[str] = "offers_cross"
    bidder: int
    offer_bn: float
    demand_bn: float
    deadline_day: float
    trustee: bool  # a trustee sells, at any offer above its floor


@dataclass(frozen=True, slots=True)
class DealSigned(Event):
    kind: ClassVar[str] = "signed"
    bidder: int
    price_bn: float  # per 100%
    bargained: bool  # reached by bargaining (not agreed before day 0, nor a fresh review's)
    by_trustee: bool
    parent_stake: float
    technology: int


# -- approvals -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReviewStarts(Event):
    kind: ClassVar[str] = "review_starts"
    bidder: int


@dataclass(frozen=True, slots=True)
class InvestigationStarts(Event):
    kind: ClassVar[str] = "investigation_starts"
    bidder: int


@dataclass(frozen=True, slots=True)
class ReviewExtended(Event):
    kind: ClassVar[str] = "review_extended"
    bidder: int


@dataclass(frozen=True, slots=True)
class Recommended(Event):
    kind: ClassVar[str] = "recommendation"
    bidder: int
    recommendation: Recommendation
    assessment: float  # the committee's reading of the deal, on the assurance scale


@dataclass(frozen=True, slots=True)
class MitigationRound(Event):
    kind: ClassVar[str] = "mitigation_round"
    bidder: int
    round: int
    asks: Sequence[str]  # the security terms asked for (committee.SECURITY_TERMS)


@dataclass(frozen=True, slots=True)
class MitigationAgreed(Event):
    kind: ClassVar[str] = "mitigation_agreed"
    bidder: int
    round: int
    terms: Sequence[str]  # the terms added to the deal


@dataclass(frozen=True, slots=True)
class MitigationRefused(Event):
    kind: ClassVar[str] = "mitigation_refused"
    bidder: int
    round: int


@dataclass(frozen=True, slots=True)
class MitigationCountered(Event):
    kind: ClassVar[str] = "mitigation_countered"
    bidder: int
    round: int
    last: bool  # that was the last round: the committee will recommend blocking


@dataclass(frozen=True, slots=True)
class Withdrawn(Event):
    kind: ClassVar[str] = "withdrawn"
    bidder: int
    count: int  # refilings so far
    days: float  # until it is refiled
    refused: bool  # after refusing the committee's terms (else rather than face a block)


@dataclass(frozen=True, slots=True)
class Refiled(Event):
    kind: ClassVar[str] = "refiled"
    bidder: int
    count: int


@dataclass(frozen=True, slots=True)
class DoesNotQualify(Event):
    kind: ClassVar[str] = "does_not_qualify"
    bidder: int
    unmet: Unmet


@dataclass(frozen=True, slots=True)
class PresidentDecides(Event):
    kind: ClassVar[str] = "president_decides"
    bidder: int
    decision: Decision
    recommendation: Recommendation


@dataclass(frozen=True, slots=True)
class InConceptWindowEnds(Event):
    kind: ClassVar[str] = "in_concept_window_ends"
    bidder: int
    finalised: bool


@dataclass(frozen=True, slots=True)
class AbandonmentPending(Event):
    kind: ClassVar[str] = "abandonment_pending"
    bidder: int


@dataclass(frozen=True, slots=True)
class FreshReview(Event):
    kind: ClassVar[str] = "fresh_review"
    bidder: int


@dataclass(frozen=True, slots=True)
class LicenceRequested(Event):
    kind: ClassVar[str] = "licence_requested"
    bidder: int


@dataclass(frozen=True, slots=True)
class LicenceDecided(Event):
    kind: ClassVar[str] = "licence_decided"
    bidder: int
    granted: bool


@dataclass(frozen=True, slots=True)
class DealFailed(Event):
    kind: ClassVar[str] = "deal_failed"
    bidder: int
    reason: str  # in words, for the story


@dataclass(frozen=True, slots=True)
class ClosingStarts(Event):
    kind: ClassVar[str] = "closing_starts"
    bidder: int


# -- instruments and enforcement -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DeadlineExtended(Event):
    kind: ClassVar[str] = "deadline_extended"
    tier: int
    days: float
    stage: str
    until_day: float
    extensions: int  # granted so far
    lifted: bool  # an instrument in force, suspended (else extended on its due day)
    fails: bool


@dataclass(frozen=True, slots=True)
class Forbearance(Event):
    kind: ClassVar[str] = "forbearance"
    tier: int
    days: float
    until_day: float
    count: int  # forbearances in this regime
    lifted: bool
    stage: str
    fails: bool


@dataclass(frozen=True, slots=True)
class DeadlineLapses(Event):
    kind: ClassVar[str] = "deadline_lapses"
    tier: int
    lifted: bool
    stage: str
    fails: bool


@dataclass(frozen=True, slots=True)
class EnforcementSuspended(Event):
    kind: ClassVar[str] = "enforcement_suspended"
    tier: int
    stage: str


@dataclass(frozen=True, slots=True)
class EnforcementHeld(Event):
    kind: ClassVar[str] = "enforcement_held"
    tier: int
    stage: str


@dataclass(frozen=True, slots=True)
class Enforcement(Event):
    kind: ClassVar[str] = "enforcement"
    tier: int
    stage: str
    remedy: str  # the instrument's kind (scenario: service_ban, divestiture_order ...)
    fails: bool


@dataclass(frozen=True, slots=True)
class Penalties(Event):
    kind: ClassVar[str] = "penalties"
    tier: int


@dataclass(frozen=True, slots=True)
class TrusteeAppointed(Event):
    kind: ClassVar[str] = "trustee_appointed"
    tier: int
    days: float
    ready_day: float  # it sells from this day


@dataclass(frozen=True, slots=True)
class TrusteeSells(Event):
    kind: ClassVar[str] = "trustee_sells"
    tier: int


@dataclass(frozen=True, slots=True)
class ServiceDark(Event):
    kind: ClassVar[str] = "service_dark"


@dataclass(frozen=True, slots=True)
class ServiceRestored(Event):
    kind: ClassVar[str] = "service_restored"


# -- courts ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Lawsuit(Event):
    kind: ClassVar[str] = "lawsuit"
    instrument: int
    plaintiff: str
    filed_day: float  # before day 0: a suit already pending


@dataclass(frozen=True, slots=True)
class Settlement(Event):
    kind: ClassVar[str] = "settlement"
    instrument: int
    plaintiff: str


@dataclass(frozen=True, slots=True)
class Injunction(Event):
    kind: ClassVar[str] = "injunction"
    instrument: int
    plaintiff: str
    how: str  # "preliminary" or "on appeal"


@dataclass(frozen=True, slots=True)
class InjunctionDenied(Event):
    kind: ClassVar[str] = "injunction_denied"
    instrument: int
    plaintiff: str


@dataclass(frozen=True, slots=True)
class Appeal(Event):
    kind: ClassVar[str] = "appeal"
    instrument: int
    plaintiff: str
    by_government: bool  # the government appeals an injunction (else the plaintiff)


@dataclass(frozen=True, slots=True)
class AppealDecided(Event):
    kind: ClassVar[str] = "appeal_decided"
    instrument: int
    plaintiff: str
    reversed: bool
    by_government: bool


@dataclass(frozen=True, slots=True)
class InjunctionLifted(Event):
    kind: ClassVar[str] = "injunction_lifted"
    instrument: int
    plaintiff: str
    still: int  # injunctions against the instrument still in force


@dataclass(frozen=True, slots=True)
class Vacated(Event):
    kind: ClassVar[str] = "vacated"
    instrument: int
    plaintiff: str
    remand_days: float  # inf: vacated for good


# -- politics and the end --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PoliticalEvent(Event):
    kind: ClassVar[str] = "political_event"
    event: int
    happened: bool
    sets: int = 0  # chances it changes from that day


@dataclass(frozen=True, slots=True)
class Revoked(Event):
    kind: ClassVar[str] = "revoked"
    instrument: int


@dataclass(frozen=True, slots=True)
class End(Event):
    kind: ClassVar[str] = "end"
    outcome: Ending
    state: str = ""  # where an unresolved case stood (outcome.STATES)
    bidder: int = -1  # the bidder of an abandoned transaction, -1 if none
    tier: int = -1  # the date that terminated a transaction, -1 if none
    parent_stake: float = 0.0  # what the parent keeps after a sale


EVENTS: tuple[type[Event], ...] = (
    BidderArrives, BidderWithdraws, JoinsBid, Positions, OffersCross, DealSigned,
    ReviewStarts, InvestigationStarts, ReviewExtended, Recommended, MitigationRound,
    MitigationAgreed, MitigationRefused, MitigationCountered, Withdrawn, Refiled,
    DoesNotQualify, PresidentDecides, InConceptWindowEnds, AbandonmentPending, FreshReview,
    LicenceRequested, LicenceDecided, DealFailed, ClosingStarts,
    DeadlineExtended, Forbearance, DeadlineLapses, EnforcementSuspended, EnforcementHeld,
    Enforcement, Penalties, TrusteeAppointed, TrusteeSells, ServiceDark, ServiceRestored,
    Lawsuit, Settlement, Injunction, InjunctionDenied, Appeal, AppealDecided,
    InjunctionLifted, Vacated,
    PoliticalEvent, Revoked, End,
)  # every kind the model logs (tests check each has a narration, and occurs)
