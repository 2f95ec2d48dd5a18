"""The parent's home government: an export licence for controlled technology.

China's 28 August 2020 catalogue change put recommendation algorithms under export
licensing, so a deal that transfers them needs its approval. One stance per replication
(a uniform drawn once) decides every request: a structure's licence is granted when the
stance is below its approval chance, so a second request for the same structure gets the
same answer, and a refusal holds for every structure no easier to license. The decision
runs in parallel with the security review; a refusal kills the deal.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.actors.bidder import BidderTerms
from sim.actors.deal import Deal, Signed
from sim.scenario import STRUCTURES


def _own_chance(v: dict[str, float], structure: int) -> float:
    return v.get(f"home_government.approval_by_structure.{STRUCTURES[structure]}",
                 v["home_government.approval_probability"])


def approval_chance(v: dict[str, float], structure: int) -> float:
    """A structure's licence chance, capped by every structure that transfers less (they
    come later in ``STRUCTURES``): selling more is never easier to license than less."""
    return min(_own_chance(v, s) for s in range(structure, len(STRUCTURES)))


def already_refused(deal: Deal, structure: int) -> bool:
    """Has the government refused a structure at least as easy to license as this one?"""
    v = deal.values
    mine = approval_chance(v, structure)
    return any(mine <= approval_chance(v, s) for s in deal.refused)


def licence(deal: Deal, bidder: BidderTerms,
            signed: Signed) -> Generator[simpy.Event, object, bool]:
    v = deal.values
    deal.log("licence_requested", bidder=bidder.index)
    yield deal.env.timeout(deal.take("home_government.decision_days"))
    granted = v["home_government.draw.stance"] < approval_chance(v, bidder.structure)
    if deal.signed is not signed or deal.is_over:
        return granted  # the deal it was asked about is already gone
    deal.home_approved = int(granted)
    deal.log("licence_decided", bidder=bidder.index, granted=granted)
    if not granted:
        deal.refused.add(bidder.structure)
        deal.fail_signed("export licence refused", signed)
    return granted
