"""The random draws an actor reads, declared beside the code that reads them.

No random number is generated inside simpy: the sampler draws every stream in advance
(``sim.running.sampling``), so it must know each stream's key and how many occurrences
one replication may use. Each actor module declares its own streams in a ``DRAWS`` table,
by what their occurrences are counted per (a filing, a bidder's signing, an instrument's
look ...); ``replication.occurrences`` sizes each group from the scenario's caps.

The streams are keyed by name, so a key spelled differently is a different stream and
changes every number: the key strings are built by the helpers here, never by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from itertools import chain

from sim.scenario.schema import Instrument


def draw(prefix: str, name: str) -> str:
    """A decision's uniform stream: ``<prefix>.draw.<name>`` ("bidders.Oracle.draw.refile")."""
    return f"{prefix}.draw.{name}"


def key(prefix: str, name: str) -> str:
    """A parameter under a prefix: ``<prefix>.<name>`` ("court.ruling_days")."""
    return f"{prefix}.{name}"


def bidder_key(name: str) -> str:
    """The prefix of a bidder's inputs and of the decisions about its deal."""
    return f"bidders.{name}"


def instrument_prefix(ident: str) -> str:
    return f"instruments.{ident}"


def enforcement_key(ident: str) -> str:
    """The prefix of an instrument's enforcement parameters (its authority's chances)."""
    return f"instruments.{ident}.enforcement"


def plaintiff_key(ident: str, plaintiff: str) -> str:
    """The prefix of one plaintiff's decisions in its suit against an instrument."""
    return f"instruments.{ident}.plaintiffs.{plaintiff}"


def event_key(ident: str) -> str:
    """The prefix of a dated political event's parameters and draws."""
    return f"politics.{ident}"


def has_court(instrument: Instrument) -> bool:
    """Can the instrument be fought in court (a ban or an order, not a contract's date)?"""
    return instrument.kind in ("service_ban", "divestiture_order")


def court_prefix(instrument: Instrument) -> str:
    """The court an instrument is fought in: its own, or the scenario's."""
    return f"instruments.{instrument.id}.court" if instrument.court else "court"


@dataclass(frozen=True, slots=True)
class Draws:
    """The streams one actor reads, grouped by what their occurrences are counted per.

    Full keys for the groups that belong to the whole deal; the other groups name a
    decision (``draw(prefix, name)``) or a duration (``key(prefix, name)``) under the
    prefix of the bidder, instrument, tier, plaintiff, court or event it is about.
    """

    latent: tuple[str, ...] = ()  # uniforms drawn once per replication, kept with the values
    filing_days: tuple[str, ...] = ()  # durations drawn for each filing of any deal
    round_days: tuple[str, ...] = ()  # of filing_days, those drawn again each mitigation round
    bidder_filing: tuple[str, ...] = ()  # decisions about a bidder's deal, per filing of it
    bidder_signing: tuple[str, ...] = ()  # ... per signing of its deal
    bidder_round: tuple[str, ...] = ()  # ... per mitigation round of each filing
    bidder_refiling_days: tuple[str, ...] = ()  # a bidder's durations, per refiling
    partner_once: tuple[str, ...] = ()  # decisions about a bidder that may join a bid, once
    tier_once: tuple[str, ...] = ()  # decisions about an instrument's tier, once a run
    extension_days: tuple[str, ...] = ()  # an instrument's durations, per extension ...
    forbearance_days: tuple[str, ...] = ()  # ... per forbearance (each regime its own count)
    look_days: tuple[str, ...] = ()  # ... per look its authority may take at it
    court_once: tuple[str, ...] = ()  # decisions about an instrument fought in court, once
    plaintiff_once: tuple[str, ...] = ()  # decisions in one plaintiff's suit, once
    ruling_days: tuple[str, ...] = ()  # a court's durations, per try at a suit's ruling
    suit_days: tuple[str, ...] = ()  # ... per suit before it
    event_once: tuple[str, ...] = ()  # decisions about a dated political event, once

    @classmethod
    def merge(cls, *parts: Draws) -> Draws:
        """Every part's streams, group by group, in the order the parts come."""
        return cls(**{f.name: tuple(chain.from_iterable(getattr(p, f.name) for p in parts))
                      for f in fields(cls)})
