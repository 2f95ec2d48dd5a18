"""What one replication ends as: the codes and the row the model returns."""

from __future__ import annotations

from typing import NamedTuple

SALE, SHUTDOWN, UNRESOLVED = 0, 1, 2
OUTCOMES = ("sale", "shutdown", "unresolved")

CLEAR, MITIGATE, BLOCK = 0, 1, 2
RECOMMENDATIONS = ("clear", "clear with mitigation", "block")


class Outcome(NamedTuple):
    """One replication's row; a NamedTuple so a block of them turns into columns cheaply."""

    outcome: int  # SALE, SHUTDOWN or UNRESOLVED
    day: float  # day of resolution (the horizon when unresolved: censored)
    winner: int  # bidder index, -1 when there is no sale
    price_bn: float  # agreed price (implied value of the business), NaN without a sale
    structure: int  # index into scenario.STRUCTURES, -1 without a sale
    us_share: float  # US ownership share after the sale, NaN without a sale
    extensions: int  # deadline extensions granted
    injunction: bool  # a court enjoined enforcement at some point
    phases: int  # committee phases of the last filing (0: nothing filed)
    home_approved: int  # export licence: -1 not needed or not decided, 0 refused, 1 granted
    agreement_day: float  # day the last deal was reached by bargaining, NaN if none
    agreement_vs_deadline: float  # that day minus the deadline then in force
    deals_signed: int  # deals signed (a failed one lets the parent sign another)
