"""The parent's home government: an export licence for controlled technology.

China's 28 August 2020 catalogue change put recommendation algorithms under export
licensing, so a deal that transfers them needs its approval. One stance per replication
(a uniform drawn once) decides every request: a structure's licence is granted when the
stance is below its approval chance, so a second request for the same structure gets the
same answer, and a refusal holds for every deal no easier to license. The decision
runs in parallel with the security review; a refusal kills the deal.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.model import events as ev
from sim.model.actors.bidder import BidderTerms
from sim.model.actors.deal import Deal, Signed
from sim.model.draws import Draws, draw
from sim.scenario.schema import STRUCTURES, TECHNOLOGIES

# The streams read here: the stance, once a run (the parent's draws are tied to it), and
# the days of each decision, for every filing. The per-signing ``licence`` stream is
# drawn but read by nothing (the stance decides every licence); it stays declared so the
# set of streams stays as it was.
STANCE = draw("home_government", "stance")
DECISION_DAYS = "home_government.decision_days"
DRAWS = Draws(latent=(STANCE,), filing_days=(DECISION_DAYS,), bidder_signing=("licence",))


def _own_chance(v: dict[str, float], structure: int) -> float:
    return v.get(f"home_government.approval_by_structure.{STRUCTURES[structure]}",
                 v["home_government.approval_probability"])


def approval_chance(v: dict[str, float], structure: int, technology: int = 0) -> float:
    """A deal's licence chance. By structure, capped by every structure that transfers less
    (they come later in ``STRUCTURES``): selling more is never easier to license than less.
    A technology named in ``approval_by_technology`` eases it (the higher chance wins), and
    its easing carries to every technology that sells less (later in ``TECHNOLOGIES``)."""
    chance = min(_own_chance(v, s) for s in range(structure, len(STRUCTURES)))
    for t in range(technology + 1):
        chance = max(chance, v.get(
            f"home_government.approval_by_technology.{TECHNOLOGIES[t]}", 0.0))
    return chance


def already_refused(deal: Deal, structure: int, technology: int) -> bool:
    """Has the government refused a licence at least as easy to grant as this one? With one
    stance, a refusal at chance c is a refusal of everything at c or below."""
    return approval_chance(deal.values, structure, technology) <= deal.refused_up_to


def licence(deal: Deal, bidder: BidderTerms,
            signed: Signed) -> Generator[simpy.Event, object, bool]:
    v = deal.values
    deal.log(ev.LicenceRequested, bidder=bidder.index)
    yield deal.env.timeout(deal.take(DECISION_DAYS))
    package = deal.packages[bidder.index]
    chance = approval_chance(v, package.structure, package.technology)
    granted = v[STANCE] < chance
    if deal.signed is not signed or deal.is_over:
        return granted  # the deal it was asked about is already gone
    deal.home_approved = int(granted)
    deal.log(ev.LicenceDecided, bidder=bidder.index, granted=granted)
    if not granted:
        deal.refused_up_to = max(deal.refused_up_to, chance)
        deal.fail_signed("export licence refused", signed)
    return granted
