"""The national-security review committee: statutory phases, then a recommendation on the
deal's terms, then (for a deal it would clear only with mitigation) rounds of talks.

Phases follow 31 CFR Part 800: review, then (with some probability, and always before a
block) investigation, then (rarely) an extraordinary extension, each drawn afresh for
every filing. The assessment
is the buyer's security assurance plus what the deal's terms add or take away
(``committee.assessment``); the recommendation compares it with the committee's
thresholds, so a stricter committee (higher thresholds) never clears more.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.model import events as ev
from sim.model.actors.bidder import BidderTerms
from sim.model.actors.deal import Deal, Package
from sim.model.draws import Draws, draw
from sim.model.outcome import BLOCK, CLEAR, MITIGATE, Recommendation

SECURITY_TERMS = ("data_localisation", "source_code_review", "trusted_partner")
ACCEPTED, REFUSED, EXHAUSTED = "accepted", "refused", "exhausted"  # how the talks end

# The streams read here: each phase's and each round's days, for every filing, and the
# decisions about the bidder's deal in each filing (and each round of talks in it).
REVIEW_DAYS, INVESTIGATION_DAYS, EXTENSION_DAYS, MITIGATION_DAYS = (
    "committee.review_days", "committee.investigation_days", "committee.extension_days",
    "committee.mitigation_days")
INVESTIGATION, REVIEW_EXTENSION, MITIGATION = "investigation", "review_extension", "mitigation"
DRAWS = Draws(filing_days=(REVIEW_DAYS, INVESTIGATION_DAYS, EXTENSION_DAYS, MITIGATION_DAYS),
              round_days=(MITIGATION_DAYS,), bidder_filing=(INVESTIGATION, REVIEW_EXTENSION),
              bidder_round=(MITIGATION,))


def assessment(v: dict[str, float], bidder: BidderTerms, package: Package) -> float:
    """The committee's reading of the deal on the table, on the assurance scale [0, 1]."""
    a = "committee.assessment"
    score = (bidder.assurance + package.extra
             + sum(v[f"{a}.{term}"] for term in SECURITY_TERMS if getattr(package, term))
             + v[f"{a}.board_seats"] * package.board_seats
             - v[f"{a}.parent_stake"] * package.parent_stake
             - (v[f"{a}.licensed"] if package.technology == 1 else 0.0)
             - (v[f"{a}.retained"] if package.technology == 3 else 0.0))
    return min(max(score, 0.0), 1.0)


def recommend(v: dict[str, float], bidder: BidderTerms, package: Package) -> Recommendation:
    clear = v["committee.clear_threshold"]
    mitigate = min(v["committee.mitigation_threshold"], clear)
    score = assessment(v, bidder, package)
    return CLEAR if score >= clear else MITIGATE if score >= mitigate else BLOCK


def review(deal: Deal, bidder: BidderTerms) -> Generator[simpy.Event, object, Recommendation]:
    v, env = deal.values, deal.env
    deal.phases = 1
    deal.log(ev.ReviewStarts, bidder=bidder.index)
    yield env.timeout(deal.take(REVIEW_DAYS))
    package = deal.packages[bidder.index]
    # The committee refers a deal to the head of state for a block only after an
    # investigation (section 721(b)(2), (d)): one it would block is investigated.
    if deal.take(draw(bidder.key, INVESTIGATION)) < v["committee.investigation_probability"] \
            or recommend(v, bidder, package) == BLOCK:
        deal.phases = 2
        deal.log(ev.InvestigationStarts, bidder=bidder.index)
        yield env.timeout(deal.take(INVESTIGATION_DAYS))
        if deal.take(draw(bidder.key, REVIEW_EXTENSION)) < v["committee.extension_probability"]:
            deal.phases = 3
            deal.log(ev.ReviewExtended, bidder=bidder.index)
            yield env.timeout(deal.take(EXTENSION_DAYS))
    recommendation = recommend(v, bidder, package)
    deal.log(ev.Recommended, bidder=bidder.index, recommendation=recommendation,
             assessment=assessment(v, bidder, package))
    return recommendation


def asks(v: dict[str, float], package: Package) -> list[str]:
    """The security terms the committee asks for: those it credits that the deal lacks."""
    return [t for t in SECURITY_TERMS
            if not getattr(package, t) and v[f"committee.assessment.{t}"] > 0]


def mitigate(deal: Deal, bidder: BidderTerms) -> Generator[simpy.Event, object, str]:
    """Rounds of mitigation talks. Each round the committee asks for terms and the parties
    answer after ``committee.mitigation_days``: they accept (the terms are added and the
    deal counts as cleared), counter (another round, up to ``max_mitigation_rounds``;
    after the last the committee recommends blocking) or refuse."""
    v, env = deal.values, deal.env
    package = deal.packages[bidder.index]
    rounds = deal.mitigation_cap
    for k in range(1, rounds + 1):
        deal.mitigation_rounds += 1
        wanted = asks(v, package)
        deal.log(ev.MitigationRound, bidder=bidder.index, round=k, asks=wanted)
        yield env.timeout(deal.take(MITIGATION_DAYS))
        u = deal.take(draw(bidder.key, MITIGATION))
        if u < bidder.mitigation_acceptance:
            for term in wanted:
                setattr(package, term, True)
            # what the named terms do not cover, other commitments make up: the deal clears
            package.extra += max(v["committee.clear_threshold"]
                                 - assessment(v, bidder, package), 0.0)
            deal.log(ev.MitigationAgreed, bidder=bidder.index, round=k, terms=wanted)
            return ACCEPTED
        if u >= bidder.mitigation_acceptance + bidder.mitigation_counter:
            deal.log(ev.MitigationRefused, bidder=bidder.index, round=k)
            return REFUSED
        deal.log(ev.MitigationCountered, bidder=bidder.index, round=k, last=k == rounds)
    return EXHAUSTED
