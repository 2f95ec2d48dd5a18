"""The scenario's schema: pydantic blocks, frozen, unknown keys rejected.

A scenario is everything one replication needs to know, one block per actor. Every number
may be a constant or a distribution (``sim.scenario.distributions``), checked against the
range that makes sense for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import re
import typing
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, model_validator
from pydantic_core import PydanticCustomError

from sim.limits import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_BIDDERS,
    MAX_DAYS,
    MAX_DEADLINES,
    MAX_HORIZON_DAYS,
)
from sim.scenario.distributions import (
    Days,
    Exponent,
    Fixed,
    Money,
    NotBool,
    OffsetDays,
    PositiveDays,
    Probability,
    Share,
)
from sim.scenario.inputs import correlation_matrix, uncertain_inputs

Structure = Literal["full_acquisition", "majority", "minority_partnership"]
STRUCTURES: tuple[Structure, ...] = typing.get_args(Structure)
# What happens to the core technology (the recommendation algorithm), most sold first:
# sold to the buyers; licensed to them, who run their copy; left behind while they build
# their own; kept and run by the parent for the business (an operational tie).
Technology = Literal["transferred", "licensed", "rebuilt", "retained"]
TECHNOLOGIES: tuple[Technology, ...] = typing.get_args(Technology)


def structure_of(parent_stake: float) -> int:
    """The structure a stake left with the parent makes (an index into ``STRUCTURES``)."""
    return 0 if parent_stake <= 0 else 1 if parent_stake < 0.5 else 2
Name = Annotated[str, Field(min_length=1, max_length=120)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=60)]


def _only_bool(value: Any) -> Any:
    """A switch is true or false, not 1 or 0 (pydantic would take those)."""
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _no_number(value: Any) -> Any:
    """A date is written as one (2020-09-14): a number is not read as seconds since 1970."""
    if isinstance(value, int | float):
        raise ValueError("expected a date like 2020-09-14")
    return value


Flag = Annotated[bool, BeforeValidator(_only_bool)]
Date = Annotated[dt.date, BeforeValidator(_no_number)]
# Every date a scenario names, and so (with day counts capped) every date it can reach.
FIRST_DATE = dt.date(FIRST_YEAR, 1, 1)
LAST_DATE = dt.date(LAST_YEAR, 12, 31)
WINDOW = f"allowed: dates from {FIRST_DATE} to {LAST_DATE}, sim/limits.py"


def _in_window(loc: tuple[str | int, ...], date: dt.date) -> None:
    """Every date the file names lies in the window, so with every day count capped at
    ``MAX_DAYS`` every date the model reaches (a due date extended twenty times, say)
    stays far inside the calendar, which ends on 9999-12-31."""
    if date < FIRST_DATE:
        _fail(loc, f"{date} is before {FIRST_DATE} ({WINDOW})")
    if date > LAST_DATE:
        _fail(loc, f"{date} is after {LAST_DATE} ({WINDOW})")


def _fail(loc: tuple[str | int, ...], message: str) -> typing.NoReturn:
    """Raise a cross-field problem with the key path it belongs to (pydantic gives none)."""
    raise PydanticCustomError("scenario", "{message}",
                              {"message": message, "at": ".".join(map(str, loc))})


class Block(BaseModel):
    # Infinity (a normal's default bounds) must survive the JSON that carries a scenario to
    # the workers: JSON's null would not validate back. A distribution's default is written
    # as the Fixed a number in a file becomes (validate_default checks it like one).
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              ser_json_inf_nan="strings")


STAGES = ("none", "negotiating", "signed", "under_review", "approved_in_concept", "approved",
          "closing")
InstrumentKind = Literal["service_ban", "divestiture_order", "transaction_termination", "lapse"]


class StageMap(Block):
    """A chance by the deal's stage; ``otherwise`` for the stages not named."""

    otherwise: Probability = Fixed(value=0.0)
    none: Probability | None = None
    negotiating: Probability | None = None
    signed: Probability | None = None
    under_review: Probability | None = None
    approved_in_concept: Probability | None = None
    approved: Probability | None = None
    closing: Probability | None = None

    def upper(self, stage: str) -> float:
        chance = getattr(self, stage)
        return (chance if chance is not None else self.otherwise).support()[1]


class Enforcement(Block):
    """What the issuing authority does at a due date: extend, forbear, let lapse, enforce."""

    extend: StageMap = StageMap()
    forbear: StageMap = StageMap()
    lapse: StageMap = StageMap()
    extension_decay: Probability = Fixed(value=1.0)
    extension_days: PositiveDays = Fixed(value=30.0)
    max_extensions: Annotated[int, NotBool, Field(ge=0, le=20)] = 0
    max_total_extension_days: Annotated[float, NotBool, Field(gt=0, le=MAX_DAYS,
                                                              allow_inf_nan=False)] | None = None
    forbearance_days: PositiveDays = Fixed(value=90.0)
    max_forbearances: Annotated[int, NotBool, Field(ge=0, le=20)] = 0
    hold_for_approved_deal: Flag = True
    trustee_probability: Probability = Fixed(value=1.0)
    trustee_days: Days = Fixed(value=60.0)
    trustee_floor: Probability = Fixed(value=0.5)

    @model_validator(mode="after")
    def _shares(self) -> Enforcement:
        for stage in STAGES:
            total = sum(m.upper(stage) for m in (self.extend, self.forbear, self.lapse))
            if total > 1 + 1e-9:
                _fail((stage,), f"extend + forbear + lapse can reach {total:g} at stage "
                                f"{stage} (allowed: at most 1 together)")
        if self.max_extensions == 0 and any(self.extend.upper(s) > 0 for s in STAGES):
            _fail(("max_extensions",), "is 0, so the extend chances would never apply "
                                       "(allowed: 1 to 20)")
        if self.max_forbearances == 0 and any(self.forbear.upper(s) > 0 for s in STAGES):
            _fail(("max_forbearances",), "is 0, so the forbear chances would never apply "
                                         "(allowed: 1 to 20)")
        return self


class Tier(Block):
    """One stage of a service ban with its own date (app stores, then hosting)."""

    id: Identifier
    label: Name | None = None
    date: Date
    dark: Flag = True  # biting turns the service off (an app-store ban only restricts it)


class Plaintiff(Block):
    """Someone who may sue against an instrument: the parent, users, creators, a state."""

    name: Name
    sue_probability: Probability = Fixed(value=1.0)
    # relative to the instrument's first date; negative: before
    files_day: OffsetDays = Fixed(value=0.0)
    injunction_probability: Probability | None = None  # None: the court's


class Court(Block):
    """Suits against an instrument, as processes: ruling, appeal, reversal, vacatur."""

    plaintiffs: Annotated[list[Plaintiff], Field(max_length=10)] = []
    ruling_days: PositiveDays = Fixed(value=14.0)
    injunction_probability: Probability = Fixed(value=0.0)
    settlement_probability: Probability = Fixed(value=0.0)
    appeal_probability: Probability = Fixed(value=0.0)
    appeal_days: PositiveDays = Fixed(value=90.0)
    reversal_probability: Probability = Fixed(value=0.0)
    vacatur_probability: Probability = Fixed(value=0.0)
    remand_days: PositiveDays | None = None  # None: a vacated instrument is gone for good

    @model_validator(mode="after")
    def _unique(self) -> Court:
        names = [p.name for p in self.plaintiffs]
        if len(set(names)) < len(names):
            _fail(("plaintiffs",), "duplicate plaintiff name")
        return self


class Qualifying(Block):
    """What the instrument accepts as a divestiture that resolves it (2024 Act: the foreign
    adversary under 20% and no operational tie on the algorithm; a section 721 order: no
    interest retained; a UK final order: at least 86% sold)."""

    max_parent_stake: Annotated[float, NotBool, Field(ge=0, le=1, allow_inf_nan=False)] = 1.0
    technology: Annotated[list[Technology], Field(min_length=1)] = list(TECHNOLOGIES)

    def failures(self, parent_stake: float, technology: int) -> list[str]:
        """Why a deal with these terms does not qualify (empty: it does)."""
        why = []
        most = self.max_parent_stake
        if parent_stake > most + 1e-12:
            why.append(f"the parent would keep {parent_stake:.1%} (at most {most:.1%} allowed)")
        if TECHNOLOGIES[technology] not in self.technology:
            why.append(f"the algorithm would be {TECHNOLOGIES[technology]} (allowed: "
                       f"{', '.join(self.technology)})")
        return why


class Instrument(Block):
    """An order, a law or a contract date, whose expiry does what the instrument does."""

    id: Identifier
    label: Name | None = None
    kind: InstrumentKind
    issued: Date | None = None  # the day it was made; None: the scenario's start
    date: Date
    tiers: Annotated[list[Tier], Field(max_length=5)] = []
    enforcement: Enforcement = Enforcement()
    court: Court | None = None  # None: the scenario's court
    qualifying: Qualifying = Qualifying()

    @model_validator(mode="after")
    def _tiers(self) -> Instrument:
        if self.tiers and self.kind != "service_ban":
            _fail(("tiers",), f"only a service_ban has tiers (this is a {self.kind})")
        ids = [t.id for t in self.tiers]
        if len(set(ids)) < len(ids):
            _fail(("tiers",), "duplicate tier id")
        if self.issued is not None and self.issued > self.date:
            _fail(("issued",), f"{self.issued} is after the instrument's date {self.date}")
        return self

    @property
    def name(self) -> str:
        return self.label or self.id

    @property
    def dates(self) -> Sequence[Tier | None]:
        """Its tiers, or ``[None]`` for an instrument with one date of its own."""
        return self.tiers or [None]


class Parent(Block):
    name: Name
    reservation_bn: Money
    aspiration_multiple: Exponent = Fixed(value=1.5)
    concession_exponent: Exponent = Fixed(value=1.0)
    accepts: dict[Structure, Probability] = {}
    accepts_technology: dict[Technology, Probability] = {}
    follows_home_government: Probability = Fixed(value=0.0)  # copula correlation with the stance
    # the walk-away price lowered by this share as the threat nears
    threat_discount: Probability = Fixed(value=0.0)
    delay_cost_per_year: Probability = Fixed(value=0.0)  # value lost per year under a live threat


class Terms(Block):
    """What a deal gives: the stake the parent keeps, the technology, governance, security."""

    parent_stake: Share | None = None  # None: 0 for a full acquisition, else required
    technology: Technology = "transferred"
    board_seats: Share | None = None  # the buyers' and independents' share; None: their stake
    data_localisation: Flag = False
    source_code_review: Flag = False
    trusted_partner: Flag = False


class Refiling(Block):
    """Withdraw and refile (31 CFR 800.509): instead of taking a block or a refused
    mitigation, the parties may withdraw and file again with better terms."""

    probability: Probability = Fixed(value=0.0)  # chance per cycle
    max: Annotated[int, NotBool, Field(ge=0, le=10)] = 3
    days: Days = Fixed(value=30.0)  # from withdrawal to the new filing
    improvement: Share = Fixed(value=0.0)  # added to the committee's assessment by each refiling


class Join(Block):
    """A bidder that may join another's bid (a consortium) instead of bidding alone."""

    bidder: Name  # whose bid it joins
    probability: Probability = Fixed(value=1.0)
    day: Days = Fixed(value=0.0)  # days from the start
    stake: Share = Fixed(value=0.0)  # of the business it takes: the parent keeps that much less
    assurance: Share = Fixed(value=0.0)  # added to the lead's security assurance


class Bidder(Block):
    name: Name
    arrives_day: Days = Fixed(value=0.0)
    withdraws_day: PositiveDays | None = None
    structure: Structure = "full_acquisition"
    terms: Terms = Terms()
    valuation_bn: Money | None = None  # per 100%, with control and the algorithm
    minority_value: Probability = Fixed(value=1.0)  # value per 100% of a minority stake, as a share
    technology_value: dict[Technology, Probability] = {}  # value kept without the algorithm
    opening_fraction: Probability = Fixed(value=0.7)
    concession_exponent: Exponent = Fixed(value=1.0)
    security_assurance: Probability = Fixed(value=0.5)
    mitigation_acceptance_probability: Probability = Fixed(value=1.0)
    # of the rounds not accepted: countered
    mitigation_counter_share: Probability = Fixed(value=0.0)
    refile: Refiling = Refiling()
    joins: Join | None = None
    needs_export_licence: Flag = False
    agreed_at_start: Flag = False
    agreed_price_bn: Money | None = None  # per 100%

    @model_validator(mode="after")
    def _agreed_price(self) -> Bidder:
        if self.agreed_at_start and self.agreed_price_bn is None:
            _fail(("agreed_price_bn",), "required when agreed_at_start is true")
        if not self.agreed_at_start and self.valuation_bn is None and self.joins is None:
            _fail(("valuation_bn",), "required for a bidder that bargains "
                                     "(one with agreed_at_start: true needs agreed_price_bn)")
        stake = self.terms.parent_stake
        if stake is None and self.structure != "full_acquisition":
            _fail(("terms", "parent_stake"), f"required for a {self.structure} (the share "
                  "of the business the parent keeps)")
        if stake is not None:
            low, high = stake.support()
            if not {"full_acquisition": high <= 0, "majority": high < 0.5,
                    "minority_partnership": low >= 0.5}[self.structure]:
                _fail(("terms", "parent_stake"), f"ranges over [{low:g}, {high:g}], which "
                      f"does not make a {self.structure} (allowed: 0 for full_acquisition, "
                      "below 0.5 for majority, 0.5 or more for minority_partnership)")
        return self


class Entrants(Block):
    """Suitors not known on the as-of date: up to ``max`` arrive one after another,
    ``gap_days`` apart (drawn afresh for each, the first counted from the start), each a
    bidder drawn afresh from ``template``: its name numbered, its ``withdraws_day``
    counted from its own arrival."""

    gap_days: PositiveDays
    max: Annotated[int, NotBool, Field(ge=1, le=5)] = 1
    template: Bidder

    @model_validator(mode="after")
    def _plain(self) -> Entrants:
        t = self.template
        if t.agreed_at_start or t.joins is not None or t.arrives_day.support() != (0, 0):
            _fail(("template",), "a new bidder bargains alone from its arrival (no "
                  "agreed_at_start, joins or arrives_day)")
        return self

    def names(self) -> list[str]:
        return [f"{self.template.name} {k}" for k in range(1, self.max + 1)]


class HomeGovernment(Block):
    """The parent's government: one stance per replication decides every export licence."""

    name: Name = "home government"
    approval_probability: Probability = Fixed(value=1.0)
    approval_by_structure: dict[Structure, Probability] = {}
    approval_by_technology: dict[Technology, Probability] = {}  # eases: the higher chance
    decision_days: Days = Fixed(value=0.0)


class Assessment(Block):
    """How the committee reads a deal's terms: each present term adds its credit to the
    buyer's security assurance; the stake the parent keeps and an algorithm not sold
    take theirs away."""

    data_localisation: Share = Fixed(value=0.0)
    source_code_review: Share = Fixed(value=0.0)
    trusted_partner: Share = Fixed(value=0.0)
    board_seats: Share = Fixed(value=0.0)  # per unit of the board held outside the parent
    parent_stake: Share = Fixed(value=0.0)  # per unit kept by the parent
    licensed: Share = Fixed(value=0.0)  # the algorithm only licensed
    retained: Share = Fixed(value=0.0)  # the algorithm kept and run by the parent


class Committee(Block):
    name: Name = "review committee"
    review_days: PositiveDays = Fixed(value=45.0)
    investigation_probability: Probability = Fixed(value=0.5)
    investigation_days: PositiveDays = Fixed(value=45.0)
    extension_probability: Probability = Fixed(value=0.0)
    extension_days: PositiveDays = Fixed(value=15.0)
    clear_threshold: Probability = Fixed(value=0.7)
    mitigation_threshold: Probability = Fixed(value=0.4)
    mitigation_days: Days = Fixed(value=14.0)  # per round
    max_mitigation_rounds: Annotated[int, NotBool, Field(ge=1, le=10)] = 1
    assessment: Assessment = Assessment()

    @model_validator(mode="after")
    def _thresholds(self) -> Committee:
        if self.mitigation_threshold.support()[1] > self.clear_threshold.support()[0]:
            _fail(("mitigation_threshold",), "must not exceed clear_threshold")
        return self


class Shares(Block):
    """The head of state's choice after one kind of recommendation; approve is the rest."""

    block: Probability = Fixed(value=0.0)
    nothing: Probability = Fixed(value=0.0)
    in_concept: Probability = Fixed(value=0.0)

    def uppers(self) -> tuple[float, float, float]:
        """Upper bounds of the cumulative shares block, + nothing, + in concept."""
        b, n, c = (x.support()[1] for x in (self.block, self.nothing, self.in_concept))
        return b, b + n, b + n + c

    def lowers(self) -> tuple[float, float, float]:
        b, n, c = (x.support()[0] for x in (self.block, self.nothing, self.in_concept))
        return b, b + n, b + n + c


class Preferences(Block):
    on_clear: Shares = Shares()
    on_block: Shares = Shares(block=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> Preferences:
        if self.on_clear.uppers()[2] > 1 + 1e-9 or self.on_block.uppers()[2] > 1 + 1e-9:
            _fail(("on_block" if self.on_block.uppers()[2] > 1 + 1e-9 else "on_clear",),
                  "block + nothing + in_concept can exceed 1 (allowed: at most 1 together)")
        for name, c, b in zip(("block", "block + nothing", "block + nothing + in_concept"),
                              self.on_clear.uppers(), self.on_block.lowers(), strict=True):
            if c > b + 1e-9:
                _fail(("on_clear",), f"{name} can reach {c:g}, above its {b:g} on_block "
                                     "(a cleared deal must fare at least as well as a blocked one)")
        return self


class InConcept(Block):
    """An approval in concept: the deal must be finalised within a window."""

    window_days: PositiveDays = Fixed(value=30.0)
    finalise_probability: Probability = Fixed(value=1.0)


class President(Preferences):
    name: Name = "president"
    decision_days: Days = Fixed(value=15.0)
    by_structure: dict[Structure, Preferences] = {}
    in_concept: InConcept = InConcept()
    abandon_days: Days = Fixed(value=2.0)  # a blocked pending transaction is abandoned within


class Closing(Block):
    days: Days = Fixed(value=30.0)


class Correlation(Block):
    """A rank (Spearman) correlation between two uncertain inputs, by their key paths."""

    inputs: Annotated[list[str], Field(min_length=2, max_length=2)]
    rank: Annotated[float, NotBool, Field(gt=-1, lt=1, allow_inf_nan=False)]


OutcomeName = Literal["sale", "shutdown", "abandoned", "unresolved"]
StateName = Literal["under_review", "approved_in_concept", "deal_pending", "enjoined", "forborne",
                    "enforcement_pending", "lapsed", "open"]


# The chances a political event may set: policy the actors read at each decision (others,
# such as durations, days and the parties' own terms, are fixed when a run starts).
SETTABLE = re.compile(
    r"instruments\.[^.]+\.enforcement\.((extend|forbear|lapse)\.\w+|extension_decay"
    r"|trustee_probability|trustee_floor)"
    r"|(instruments\.[^.]+\.)?court\.((injunction|settlement|appeal|reversal|vacatur)_probability"
    r"|plaintiffs\..+\.(sue|injunction)_probability)"
    r"|committee\.(investigation_probability|extension_probability|clear_threshold"
    r"|mitigation_threshold)"
    r"|president\.((by_structure\.\w+\.)?on_(clear|block)\.(block|nothing|in_concept)"
    r"|in_concept\.finalise_probability)"
    r"|home_government\.(approval_probability|approval_by_structure\.\w+)"
    r"|parent\.accepts\.\w+")


class PoliticalEvent(Block):
    """A dated event known on the as-of date that may change the regime from that day on."""

    id: Identifier
    label: Name | None = None
    date: Date
    probability: Probability = Fixed(value=1.0)
    requires: Identifier | None = None  # happens only if this earlier event did
    set: Annotated[dict[str, Probability], Field(max_length=50)] = {}
    revoke: Annotated[list[Identifier], Field(max_length=20)] = []
    fresh_review: Flag = False

    @property
    def name(self) -> str:
        return self.label or self.id


class Actual(Block):
    """What really happened, for scoring forecasts (``sim.analysis.backtest``); the model
    never reads it.

    ``outcome`` is how the case ended and ``date`` the day it did (for ``unresolved``: the
    day the matter lapsed or was last known open). A sale or shutdown dated after the
    horizon counts as unresolved at the horizon.
    """

    case: Identifier | None = None  # groups dated variants of one case; None: the file alone
    kind: Identifier | None = None  # reference class within the library (e.g. ordered_unwind)
    outcome: OutcomeName
    state: StateName | None = None  # for unresolved: where it stood
    date: Date
    notes: str = ""
    source: Annotated[str, Field(min_length=1)]


@dataclasses.dataclass(frozen=True)
class Source:
    """The text a scenario was read from, so every output can record it (and a replay needs
    nothing on disk): where it came from (a path, or ``None`` for text or a dict), the text
    and its sha256."""

    text: str
    path: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class Scenario(Block):
    name: Name
    description: str = ""
    start: Date
    horizon_days: Annotated[float, NotBool, Field(gt=0, le=MAX_HORIZON_DAYS,
                                                  allow_inf_nan=False)]
    subject: Literal["business", "pending_transaction"] = "business"
    instruments: Annotated[list[Instrument], Field(max_length=MAX_DEADLINES)] = []
    politics: Annotated[list[PoliticalEvent], Field(max_length=20)] = []
    parent: Parent
    bidders: Annotated[list[Bidder], Field(max_length=MAX_BIDDERS)] = []
    entrants: Entrants | None = None
    home_government: HomeGovernment | None = None
    committee: Committee = Committee()
    president: President = President()
    court: Court = Court()
    closing: Closing = Closing()
    actual: Actual | None = None  # the record, for backtests only
    correlations: Annotated[list[Correlation], Field(max_length=100)] = []

    _source: Source | None = PrivateAttr(default=None)

    @property
    def source(self) -> Source:
        """The text this scenario was read from; for one built in code, its JSON."""
        return self._source or Source(self.model_dump_json(indent=2))

    def __eq__(self, other: object) -> bool:
        """Two scenarios are the same when they say the same: where they were read from is
        provenance, not content."""
        return type(other) is type(self) and self.__dict__ == other.__dict__

    __hash__ = Block.__hash__

    def with_source(self, source: Source) -> Scenario:
        """This scenario, recording that it was read from ``source``."""
        copy = self.model_copy()
        copy._source = source
        return copy

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.start < FIRST_DATE:  # a start past the window ends past it: said below
            _in_window(("start",), self.start)
        if (LAST_DATE - self.start).days < self.horizon_days:  # reports give the end's date
            _fail(("horizon_days",), f"start {self.start} + {self.horizon_days:g} days ends "
                  f"after {LAST_DATE}, the last date a scenario may reach ({WINDOW})")
        seen: set[str] = set()
        for i, ins in enumerate(self.instruments):
            if ins.id in seen:
                _fail(("instruments", i, "id"), f"duplicate instrument id {ins.id!r}")
            seen.add(ins.id)
            if ins.issued is not None:
                _in_window(("instruments", i, "issued"), ins.issued)
            for loc, date in [(("date",), ins.date),
                              *((("tiers", j, "date"), t.date) for j, t in enumerate(ins.tiers))]:
                _in_window(("instruments", i, *loc), date)
                if date <= self.start:
                    _fail(("instruments", i, *loc), f"{date} is not after start {self.start}")
        events: dict[str, PoliticalEvent] = {}
        for i, ev in enumerate(self.politics):
            if ev.id in events:
                _fail(("politics", i, "id"), f"duplicate event id {ev.id!r}")
            _in_window(("politics", i, "date"), ev.date)
            if ev.date <= self.start:
                _fail(("politics", i, "date"), f"{ev.date} is not after start {self.start} "
                      "(what already happened belongs in the scenario's own numbers)")
            if ev.requires is not None:
                before = events.get(ev.requires)
                allowed = ", ".join(k for k, e in events.items() if e.date <= ev.date)
                if before is None:
                    _fail(("politics", i, "requires"),
                          f"{ev.requires!r} is not an event listed before this one "
                          f"(allowed: {allowed or 'none'})")
                if before.date > ev.date:
                    _fail(("politics", i, "requires"),
                          f"{ev.requires!r} is dated {before.date}, after this event's "
                          f"{ev.date} (allowed: {allowed or 'none'})")
            for j, ident in enumerate(ev.revoke):
                if ident not in seen:
                    _fail(("politics", i, "revoke", j), f"no instrument {ident!r} "
                          f"(allowed: {', '.join(seen) or 'none'})")
            events[ev.id] = ev
        names: set[str] = set()
        for i, b in enumerate(self.bidders):
            if b.name in names:
                _fail(("bidders", i, "name"), f"duplicate bidder name {b.name!r}")
            names.add(b.name)
            if b.needs_export_licence and self.home_government is None:
                _fail(("bidders", i, "needs_export_licence"),
                      "needs a home_government block to decide the licence")
        if self.entrants is not None:
            for name in self.entrants.names():
                if name in names:
                    _fail(("entrants", "template", "name"), f"{name!r} is a bidder's name "
                          "already (entrants are numbered: name them apart)")
            if self.entrants.template.needs_export_licence and self.home_government is None:
                _fail(("entrants", "template", "needs_export_licence"),
                      "needs a home_government block to decide the licence")
        for i, b in enumerate(self.bidders):
            if b.joins is None:
                continue
            lead = next((x for x in self.bidders if x.name == b.joins.bidder), None)
            others = ", ".join(x.name for x in self.bidders if x.name != b.name) or "none"
            if lead is None or lead is b:
                _fail(("bidders", i, "joins", "bidder"), f"{b.joins.bidder!r} is not another "
                      f"bidder (allowed: {others})")
            if lead.joins is not None or b.agreed_at_start:
                _fail(("bidders", i, "joins", "bidder"), "a bidder that joins another must "
                      "bid alone until it does, and may not join one that itself joins")
        if sum(b.agreed_at_start for b in self.bidders) > 1:
            _fail(("bidders",), "at most one bidder can have agreed_at_start: true")
        return self

    @model_validator(mode="after")
    def _correlated_inputs_exist(self) -> Scenario:
        varying = {k for k, d in uncertain_inputs(self).items() if not d.is_constant}
        pairs: set[frozenset[str]] = set()
        for i, c in enumerate(self.correlations):
            for j, key in enumerate(c.inputs):
                if key not in varying:
                    close = difflib.get_close_matches(key, sorted(varying), n=1)
                    _fail(("correlations", i, "inputs", j),
                          f"{key!r} is not an uncertain input"
                          + (f" (closest: {close[0]})" if close else ""))
            if c.inputs[0] == c.inputs[1] or frozenset(c.inputs) in pairs:
                _fail(("correlations", i, "inputs"), "needs two different inputs, once")
            pairs.add(frozenset(c.inputs))
        if self.correlations:
            try:
                np.linalg.cholesky(correlation_matrix(self)[1])
            except np.linalg.LinAlgError:
                _fail(("correlations",), "these correlations contradict each other "
                                         "(the matrix is not positive definite)")
        return self

    @model_validator(mode="after")
    def _settable(self) -> Scenario:
        """A political event may set chances the scenario names (not durations)."""
        if not self.politics:
            return self
        inputs = uncertain_inputs(self)
        chances = sorted(k for k in inputs if SETTABLE.fullmatch(k))
        for i, ev in enumerate(self.politics):
            for path in ev.set:
                if path not in chances:
                    close = difflib.get_close_matches(path, chances, n=1)
                    _fail(("politics", i, "set", path),
                          "is not a chance this scenario names that a political event may set "
                          "(policy: enforcement, courts, committee, president, home government, "
                          "the parent's accepts; not a duration, not a day, not a bidder's "
                          "own terms)"
                          + (f"; closest: {close[0]}" if close else ""))
        # The sets must keep extend + forbear + lapse within 1 at every stage: checked with
        # each event alone and with every event so far (the sequences the file implies).
        base = {k: d.support()[1] for k, d in inputs.items()}
        together = dict(base)
        for i, ev in enumerate(self.politics):
            mine = {k: v.support()[1] for k, v in ev.set.items()}
            together.update(mine)
            for state in ({**base, **mine}, together):
                for ins in self.instruments:
                    p = f"instruments.{ins.id}.enforcement"
                    for stage in STAGES:
                        total = sum(state.get(f"{p}.{c}.{stage}", state[f"{p}.{c}.otherwise"])
                                    for c in ("extend", "forbear", "lapse"))
                        if total > 1 + 1e-9:
                            key = next((k for k in ev.set if k.startswith(p + ".")), None)
                            _fail(("politics", i, "set", *([key] if key else [])),
                                  f"would make {ins.id}'s extend + forbear + lapse reach "
                                  f"{total:g} at stage {stage} (allowed: at most 1 together; "
                                  "set the others down in the same event)")
        return self

    @model_validator(mode="after")
    def _actual_after_start(self) -> Scenario:
        if self.actual is not None:
            _in_window(("actual", "date"), self.actual.date)
        if self.actual is not None and self.actual.date < self.start:
            _fail(("actual", "date"), f"{self.actual.date} is before start {self.start}: "
                                      "a forecast must be made before the outcome is known")
        return self

    def day_of(self, date: dt.date) -> float:
        return float((date - self.start).days)

    @property
    def suitors(self) -> list[Bidder]:
        """The named bidders, then the entrants that may arrive (``entrants``), numbered."""
        if self.entrants is None:
            return list(self.bidders)
        return [*self.bidders, *(self.entrants.template.model_copy(update={"name": n})
                                 for n in self.entrants.names())]

    @property
    def due_dates(self) -> list[DueDate]:
        """Every date an instrument bites (each tier of a ban), in the file's order."""
        found = []
        for ins in self.instruments:
            tiers = ins.dates
            for tier in tiers:
                date = tier.date if tier else ins.date
                found.append(DueDate(
                    key=instrument_key(ins.id, tier.id if tier else None),
                    label=ins.name + (f" ({tier.label or tier.id})" if tier else ""),
                    date=date, day=self.day_of(date), kind=ins.kind,
                    dark=tier.dark if tier else ins.kind == "service_ban"))
        return found

    def date_of(self, day: float) -> dt.date:
        return self.start + dt.timedelta(days=int(day))




class DueDate(typing.NamedTuple):
    key: str  # "instruments.<id>" or "instruments.<id>.tiers.<tier>": its streams' prefix
    label: str
    date: dt.date
    day: float
    kind: str
    dark: bool


def instrument_key(ident: str, tier: str | None = None) -> str:
    return f"instruments.{ident}" + (f".tiers.{tier}" if tier else "")

