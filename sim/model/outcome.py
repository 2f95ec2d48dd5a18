"""What one replication ends as: the outcome codes, the state of an open case, and the row.

Model v2's four endings (docs/model.md):

- ``sale``: a qualifying deal closed (buyer, price, structure, stake);
- ``shutdown``: the service was ended by a ban and not restored by the horizon (the row's
  ``day`` is the day it last went dark; ``days_dark`` counts every dark day);
- ``abandoned``: a pending transaction was terminated or abandoned (blocked, or its
  instrument's deadline ended it);
- ``unresolved``: none of these by the horizon; ``state`` says where it stood.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class Ending(IntEnum):
    """How a replication ends (the row's ``outcome``); an ``IntEnum`` so the codes are
    named in the model and still plain small ints in the results table."""

    SALE = 0
    SHUTDOWN = 1
    ABANDONED = 2
    UNRESOLVED = 3


SALE, SHUTDOWN, ABANDONED, UNRESOLVED = Ending
OUTCOMES = tuple(e.name.lower() for e in Ending)  # ("sale", "shutdown", ...): by code

# Where an unresolved case stood at the horizon, most specific first (``Deal.state``).
# Code 0 ("") is for a resolved run.
STATES = ("", "under_review", "approved_in_concept", "deal_pending", "enjoined", "forborne",
          "enforcement_pending", "lapsed", "open")
STATE_WORDS = {
    "under_review": "a deal under review",
    "approved_in_concept": "a deal approved in concept, not finalised",
    "deal_pending": "an approved deal not yet closed",
    "enjoined": "enforcement enjoined in court",
    "forborne": "enforcement suspended (forbearance)",
    "enforcement_pending": "enforcement under way (a partial ban, a trustee, penalties)",
    "lapsed": "every order lapsed, revoked or set aside",
    "open": "no deal, a deadline still ahead",
}


class Recommendation(IntEnum):
    """The review committee's recommendation to the head of state (``committee.recommend``)."""

    CLEAR = 0
    MITIGATE = 1  # clear only with mitigation: talks on security terms come first
    BLOCK = 2


CLEAR, MITIGATE, BLOCK = Recommendation
RECOMMENDATIONS = ("clear", "clear with mitigation", "block")


class Decision(IntEnum):
    """The head of state's choices (``president.decide``)."""

    APPROVE = 0
    IN_CONCEPT = 1  # approved in concept: it must still be finalised within a window
    NOTHING = 2  # no decision: the deal sits under review
    REFUSE = 3


APPROVE, IN_CONCEPT, NOTHING, REFUSE = Decision


class Outcome(NamedTuple):
    """One replication's row; a NamedTuple so a block of them turns into columns cheaply."""

    outcome: int  # an Ending: SALE, SHUTDOWN, ABANDONED or UNRESOLVED
    day: float  # day of resolution (the horizon when unresolved: censored)
    winner: int  # bidder index, -1 when there is no sale
    price_bn: float  # agreed price per 100% of the business, NaN without a sale
    stake_price_bn: float  # price of the stake sold (price_bn x (1 - parent_stake))
    structure: int  # index into scenario.STRUCTURES, -1 without a sale
    parent_stake: float  # share of the business the foreign parent keeps after the sale
    technology: int  # index into scenario.TECHNOLOGIES, -1 without a sale
    state: int  # index into STATES: where an unresolved case stood (0 when resolved)
    days_dark: float  # days the service was dark (a ban in force), restored or not
    extensions: int  # deadline extensions granted
    forbearances: int  # periods of non-enforcement declared
    injunction: bool  # a court enjoined an instrument at some point
    suits: int  # lawsuits filed
    regime_change: bool  # a dated political change happened
    phases: int  # committee phases of the last filing (0: nothing filed)
    home_approved: int  # export licence: -1 not needed or not decided, 0 refused, 1 granted
    agreement_day: float  # day the last deal was reached by bargaining, NaN if none
    agreement_vs_deadline: float  # that day minus the deadline then in force
    deals_signed: int  # deals signed (a failed one lets the parent sign another)
    refilings: int  # times the parties withdrew and refiled
    mitigation_rounds: int  # rounds of mitigation talks
