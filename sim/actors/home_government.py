"""The parent's home government: an export licence for controlled technology.

China's 28 August 2020 catalogue change put recommendation algorithms under export
licensing, so a deal that transfers them needs its approval; the decision runs in parallel
with the security review and a refusal kills the deal.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.actors.bidder import BidderTerms
from sim.actors.deal import Deal, Signed


def licence(deal: Deal, bidder: BidderTerms,
            signed: Signed) -> Generator[simpy.Event, object, bool]:
    v = deal.values
    deal.log("licence_requested", bidder=bidder.index)
    yield deal.env.timeout(v["home_government.decision_days"])
    granted = v[f"{bidder.key}.draw.licence"] < v["home_government.approval_probability"]
    if deal.signed is not signed or deal.is_over:
        return granted  # the deal it was asked about is already gone
    deal.home_approved = int(granted)
    deal.log("licence_decided", bidder=bidder.index, granted=granted)
    if not granted:
        deal.fail_signed("export licence refused")
    return granted
