"""Invariants: what every row and every history must satisfy, and how outcomes move when
one input moves.

Comparisons use common random numbers (same seed, same keys), so a change of one input
changes only what it touches; where the model implies it, the comparison is made per
replication, not only on the counts. Histories are checked on traces of the rich sample
scenario (conftest.RICH_YAML: tiers, plaintiffs, politics, a trustee, in-concept
approvals), replayed with ``play`` from the very draws ``simulate`` uses.
"""

from __future__ import annotations

import datetime as dt
import math
from itertools import pairwise

import numpy as np
import pytest
from conftest import (
    assert_proportion,
    day,
    deadline_effect_scenario,
    play,
    realistic,
    rich,
    run,
    scenario,
    scenario_from,
    shares,
)

from sim.model.outcome import (
    ABANDONED,
    APPROVE,
    OUTCOMES,
    SALE,
    SHUTDOWN,
    STATES,
    UNRESOLVED,
)
from sim.running.sampling import sample_block
from sim.scenario.schema import STRUCTURES

N = 2000
SEED = 2024
RICH_SEED = 3


@pytest.fixture(scope="module")
def realistic_results():
    s = scenario_from(realistic())
    return s, run(s, N, SEED)


@pytest.fixture(scope="module")
def rich_played():
    s = scenario_from(rich())
    return s, [p for block in range(2) for p in play(s, 1000, RICH_SEED, block)]


# --- rows ---------------------------------------------------------------------------

def test_rows_are_consistent(realistic_results):
    s, res = realistic_results
    o, d, w, price = res["outcome"], res["day"], res["winner"], res["price_bn"]
    sale, shut, unres = o == SALE, o == SHUTDOWN, o == UNRESOLVED
    assert set(np.unique(o)) <= set(range(len(OUTCOMES)))
    assert not np.any(o == ABANDONED), "a business under a ban is never abandoned"
    assert math.isclose(shares(res).sum(), 1.0)
    # every other outcome occurs in this scenario, so the checks below are not vacuous
    assert sale.any() and shut.any() and unres.any()
    np.testing.assert_array_equal(sale, w >= 0)
    np.testing.assert_array_equal(sale, ~np.isnan(price))
    np.testing.assert_array_equal(sale, res["structure"] >= 0)
    np.testing.assert_array_equal(sale, ~np.isnan(res["parent_stake"]))
    np.testing.assert_array_equal(sale, res["technology"] >= 0)
    # the stake's price is the price per 100% times the share sold
    np.testing.assert_allclose(res["stake_price_bn"][sale],
                               price[sale] * (1 - res["parent_stake"][sale]))
    np.testing.assert_array_equal(unres, res["state"] > 0)  # a state only when open
    assert np.all(w < len(s.bidders))
    np.testing.assert_array_equal(unres, d == s.horizon_days)
    assert np.all((d >= 0) & (d <= s.horizon_days))
    assert np.all(price[sale] > 0)
    # the winner's structure and share are the winner's
    for i, b in enumerate(s.bidders):
        won = w == i
        assert np.all(res["structure"][won] == STRUCTURES.index(b.structure))
    np.testing.assert_array_equal(res["parent_stake"][w == 0], 0.8)
    # a sale needs a signed deal that went through at least the review
    assert np.all(res["deals_signed"][sale] >= 1)
    assert np.all(res["phases"][sale] >= 1)
    # Oracle needs an export licence: it can only win with the licence granted
    assert np.all(res["home_approved"][w == 0] == 1)
    assert set(np.unique(res["home_approved"])) <= {-1, 0, 1}
    # no appeal here: an injunction stands for good, so a shutdown never had one and an
    # enjoined case is open
    assert not np.any(res["injunction"][shut])
    assert np.all(res["injunction"][unres & (res["state"] == STATES.index("enjoined"))])
    assert np.all(res["extensions"] <= 2) and np.all(res["forbearances"] == 0)
    assert np.all(res["suits"] <= 1) and not np.any(res["regime_change"])
    # a shutdown is dark from its day to the horizon (v2: the day it last went dark)
    assert np.all(res["days_dark"][shut] >= s.horizon_days - d[shut] - 1e-9)
    assert np.all(res["days_dark"] <= s.horizon_days)
    # it went dark no earlier than the due date then in force: the ban's day plus the
    # lengths of its extensions, each its own draw (later if the ban was held for, or
    # suspended for, an approved deal that then failed)
    lengths = np.concatenate([
        sample_block(s, SEED, b, 1000).draws["instruments.ban.enforcement.extension_days"]
        for b in range(2)])
    due = 6 + np.where(res["extensions"] >= 1, lengths[:, 0], 0) \
        + np.where(res["extensions"] >= 2, lengths[:, 1], 0)
    assert np.all(d[shut] >= due[shut] - 1e-9)
    assert np.mean(np.isclose(d[shut], due[shut])) > 0.5


def test_bargained_prices_lie_between_reservation_and_valuation(realistic_results):
    """Microsoft's price is where the parent's demand meets its offer: between the
    parent's reservation and Microsoft's valuation; Oracle's is its agreed price."""
    _, res = realistic_results
    w, price = res["winner"], res["price_bn"]
    ms = w == 1
    assert ms.any()
    assert np.all(price[ms] >= res["input.parent.reservation_bn"][ms] - 1e-9)
    assert np.all(price[ms] <= res["input.bidders.Microsoft.valuation_bn"][ms] + 1e-9)
    np.testing.assert_array_equal(price[w == 0], 20.0)


def test_agreement_timing_is_consistent(realistic_results):
    """v2: the parties bargain against the nearest live threat — a pending due date, a
    ban in force (the threat is now: τ = 1) or, when every instrument is enjoined or
    held, the horizon — so an agreement never comes after the threat it was bargained
    against: agreement_vs_deadline ≤ 0, and exactly 0 under a ban in force."""
    _, res = realistic_results
    a, rel = res["agreement_day"], res["agreement_vs_deadline"]
    bargained = ~np.isnan(a)
    np.testing.assert_array_equal(bargained, ~np.isnan(rel))
    assert bargained.any()
    assert np.all(rel[bargained] <= 0)
    assert np.any(rel[bargained] == 0) and np.any(rel[bargained] < 0)
    assert np.all(a[bargained] <= res["day"][bargained])
    # a bargained deal is a second deal here (Oracle's was signed before day 0)
    assert np.all(res["deals_signed"][bargained] == 2)


@pytest.mark.slow
def test_the_four_outcomes_partition_every_run():
    """The rich scenario and its pending-transaction twin (the order replaced by a
    termination date) between them reach all four outcomes; in each the shares sum to
    one, each row has one outcome, and a state exactly when it is unresolved."""
    doc = rich()
    doc["subject"] = "pending_transaction"
    doc["instruments"][1] = {"id": "s721", "kind": "transaction_termination",
                             "date": "2020-11-12"}
    seen = set()
    for s in (scenario_from(rich()), scenario_from(doc)):
        res = run(s, 1000, RICH_SEED)
        counts = np.bincount(res["outcome"], minlength=len(OUTCOMES))
        assert len(counts) == len(OUTCOMES) and counts.sum() == len(res)
        assert math.isclose(shares(res).sum(), 1.0)
        unres = res["outcome"] == UNRESOLVED
        np.testing.assert_array_equal(unres, res["state"] > 0)
        seen |= set(np.unique(res["outcome"]).tolist())
    assert seen == {SALE, SHUTDOWN, ABANDONED, UNRESOLVED}


# --- histories ------------------------------------------------------------------------

def dark_intervals(trace, horizon: float) -> list[tuple[float, float]]:
    """The periods the trace says the service was dark (to the end of the run if never
    back: the horizon, or the day a pending transaction was abandoned)."""
    found, since = [], None
    for t, kind, _ in trace:
        if kind == "service_dark":
            assert since is None, "dark twice without coming back"
            since = t
        elif kind == "service_restored":
            assert since is not None, "restored while on"
            found.append((since, t))
            since = None
    if since is not None:
        found.append((since, min(trace[-1][0], horizon)))
    return found


@pytest.mark.slow
def test_traces_agree_with_rows(rich_played):
    """Every count in a row is what its history logged: days dark are the dark periods,
    a shutdown is a service dark at the horizon dated when it last went dark, and the
    extensions, forbearances, suits, injunctions, regime changes and signatures are the
    events of those kinds."""
    s, played = rich_played
    for p in played:
        o, kinds = p.outcome, p.kinds()
        assert kinds[-1] == "end" and kinds.count("end") == 1
        assert p.trace[-1][2]["outcome"] == o.outcome
        dark = dark_intervals(p.trace, s.horizon_days)
        still_dark = kinds.count("service_dark") > kinds.count("service_restored")
        assert (o.outcome == SHUTDOWN) == (still_dark and o.outcome != ABANDONED)
        if o.outcome == SHUTDOWN:
            assert o.day == dark[-1][0]
        assert o.days_dark == pytest.approx(sum(b - a for a, b in dark), abs=1e-9)
        assert o.extensions == kinds.count("deadline_extended")
        assert o.forbearances == kinds.count("forbearance")
        assert o.suits == kinds.count("lawsuit")
        assert o.injunction == ("injunction" in kinds)
        assert o.regime_change == any(d["happened"] for _, d in p.events("political_event"))
        assert o.deals_signed == kinds.count("signed")
        assert o.phases == 0 or "review_starts" in kinds
    outcomes = {p.outcome.outcome for p in played}
    assert outcomes == {SALE, SHUTDOWN, UNRESOLVED}


def stage_walk(p):
    """(time, kind, data, approved) for each event, ``approved`` telling whether the deal
    then signed was approved (it is approved or closing) before the event."""
    approved = False
    for t, kind, d in p.trace:
        if kind in ("signed", "deal_failed", "fresh_review"):
            approved = False
        yield t, kind, d, approved
        if (kind == "president_decides" and d["decision"] == APPROVE) or \
                (kind == "in_concept_window_ends" and d["finalised"]):
            approved = True


@pytest.mark.slow
def test_an_approved_deal_is_never_enforced_against(rich_played):
    """Under hold_for_approved_deal (the default), no authority enforces while the deal
    is approved or closing, unless the deal fails that instrument's qualifying test (then
    it resolves nothing and is not held for; the rich scenario's section 721 order
    accepts no stake kept, Oracle's partnership keeps 72.5-80%): it holds
    (``enforcement_held`` names the stage), and the service never goes dark after the
    approval; no run ends in a shutdown while its deal closes unless the service went
    dark before the approval (an injunction lifted while a deal closes, too:
    test_model_v2.py has the case that once broke it)."""
    s, played = rich_played
    tiers = s.due_dates
    held = unqualified = 0
    for p in played:
        approved_at = None
        signed = None
        for t, kind, d, approved in stage_walk(p):
            if kind == "signed":
                signed = d
            if kind == "enforcement":
                assert d["fails"] or d["stage"] not in ("approved", "closing")
                if approved:  # only an instrument whose test the deal fails sees no deal
                    ins = next(i for i in s.instruments
                               if tiers[d["tier"]].key.startswith(f"instruments.{i.id}"))
                    assert ins.qualifying.failures(signed["parent_stake"],
                                                   signed["technology"]), p.trace
                    assert d["fails"]
                    unqualified += 1
            if kind == "enforcement_held":
                held += 1
                assert d["stage"] in ("approved", "closing")
            if kind == "service_dark":
                assert not approved, p.trace
            if kind == "president_decides" and d["decision"] == APPROVE:
                approved_at = t
        if p.outcome.outcome == SHUTDOWN and approved_at is not None \
                and p.kinds().count("closing_starts") > p.kinds().count("deal_failed"):
            assert p.outcome.day < approved_at
    assert held > 20 and unqualified > 0


@pytest.mark.slow
def test_a_dark_service_comes_back_when_a_deal_is_approved(rich_played):
    """Under hold_for_approved_deal a ban in force is suspended once the deal is approved
    (docs/model.md), so the service is on when an approved deal closes: the history of
    every sale ends with the service on, never restored by the closing itself, and a
    service dark when the president approved comes back at that moment."""
    _, played = rich_played
    back_at_approval = 0
    for p in played:
        kinds = p.kinds()
        if p.outcome.outcome == SALE:
            assert kinds.count("service_dark") == kinds.count("service_restored")
            assert kinds[-2:] != ["service_restored", "end"] or \
                p.trace[-2][0] < p.outcome.day
        dark = False
        for t, kind, d in p.trace:
            if kind == "service_dark":
                dark = True
            elif kind == "service_restored":
                dark = False
            elif kind == "president_decides" and d["decision"] == APPROVE and dark:
                following = [k for s, k, _ in p.trace if s == t]
                assert "service_restored" in following, p.trace
                back_at_approval += 1
    assert back_at_approval > 10


@pytest.mark.slow
def test_no_bidders_never_sells():
    """A scenario without bidders is valid: the ban bites (a shutdown on day 50) unless
    the parent sues (1/2) and wins an injunction (1/2) first: P(shutdown) = 3/4 (v2: the
    enjoined rest is unresolved, ``enjoined``). Never a sale."""
    s = scenario(f"""
        name: nobody
        start: {day(0)}
        horizon_days: 200
        instruments:
          - id: ban
            kind: service_ban
            date: {day(50)}
            court:
              plaintiffs: [{{name: P, sue_probability: 0.5, files_day: -30}}]
              injunction_probability: 0.5
        parent: {{name: P, reservation_bn: 10}}
        bidders: []
    """)
    res = run(s, 2000, 3)
    assert not np.any(res["outcome"] == SALE)
    assert np.all(res["winner"] == -1) and np.all(np.isnan(res["price_bn"]))
    assert np.all(res["deals_signed"] == 0)
    shut = res["outcome"] == SHUTDOWN
    assert np.all(res["day"][shut] == 50)
    assert_proportion(int(shut.sum()), 2000, 0.75, "P(shutdown)")
    assert set(np.unique(res["state"][~shut])) == {STATES.index("enjoined")}
    # and without any instrument nothing ever happens: unresolved at the horizon, open
    quiet = run(scenario("name: quiet\nstart: 2021-01-01\nhorizon_days: 90\n"
                         "parent: {name: P, reservation_bn: 10}\n"), 500, 3)
    assert np.all(quiet["outcome"] == UNRESOLVED) and np.all(quiet["day"] == 90)
    assert np.all(quiet["state"] == STATES.index("open"))


# --- one input moved, everything else equal -------------------------------------------

DEADLINE_GRID = ["2020-09-20", "2020-10-20", "2020-11-20", "2021-01-20"]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["service_ban", "transaction_termination"])
@pytest.mark.parametrize("extensions", [True, False])
def test_later_deadline_never_lowers_p_sale(kind, extensions):
    """A later deadline never lowers P(sale) (common random numbers), for a ban (which
    stops no deal: it only sets the pressure) and for a termination date (a hard stop: a
    deal must close, or be approved and held for, by then), with the realistic scenario's
    extensions or without.

    Per replication for the termination date: the agreed deal's timeline does not depend
    on the deadline; a bargained agreement comes at max(arrival, Oracle's failure,
    τ*·deadline), τ* being the crossing point of demand and offer in the share of time to
    the deadline, so it comes later with a later deadline, but the deadline itself moves
    later by more, and the close stays far below the horizon here. Extensions use the
    same k-th draws whatever the date.

    On the counts for the ban: it is not pathwise monotone there. Traced (replication
    1,594): with the ban on 20 October, Oracle's deal is approved and the ban held on its
    due day, when the parent's suit falls due: it is never filed (xfail in
    test_model_v2.py); the licence is refused, the ban bites, and Microsoft, arriving under
    the ban in force, signs and closes. With the ban on 20 November the deal has failed by
    then, the suit is filed and wins an injunction: no threat is left, so no pressure, and
    Microsoft's opening offer never meets the parent's opening ask.
    """
    sales = []
    for date in DEADLINE_GRID:
        doc = realistic()
        ban = doc["instruments"][0]
        ban.update(date=date, kind=kind)
        if kind != "service_ban":
            del ban["court"]
        if not extensions:
            del ban["enforcement"]
        sales.append(run(scenario_from(doc), N, SEED)["outcome"] == SALE)
    if kind == "service_ban":
        counts = [int(s.sum()) for s in sales]
        assert all(b >= a for a, b in pairwise(counts)), counts
    else:
        for early, late in pairwise(sales):
            assert not np.any(early & ~late), "a sale disappeared with a later deadline"
    assert sales[-1].mean() > sales[0].mean() + (0.3 if kind != "service_ban" else 0.01)


COMMITTEES = [(0.0, 0.0), (0.5, 0.3), (0.7, 0.4), (0.9, 0.6), (1.0, 1.0)]


@pytest.mark.slow
def test_stricter_committee_never_raises_p_sale():
    """Higher clear and mitigation thresholds never raise P(sale) (common random numbers,
    counts).

    Not checked per replication: a worse recommendation is not pathwise worse. The
    president overrules a block (on_block's block share 0.7) on his own draw, while a
    "mitigate" may be refused by the bidder whatever that draw; and a mitigation that
    fails early frees the parent to sign another bidder, whose own review may end before
    the first deal would have closed.
    """
    p = []
    for clear, mitigate in COMMITTEES:
        doc = realistic()
        doc["committee"].update(clear_threshold=clear, mitigation_threshold=mitigate)
        doc["bidders"][0]["mitigation_acceptance_probability"] = 0.7
        doc["president"] = {"on_block": {"block": 0.7}}
        p.append((run(scenario_from(doc), N, SEED)["outcome"] == SALE).mean())
    assert all(b <= a for a, b in pairwise(p)), p
    assert p[0] > p[-1] + 0.1


# ~6 s: eight runs of 2,000 replications
@pytest.mark.slow
def test_a_president_who_blocks_less_never_lowers_p_sale():
    """When the committee clears everything, a smaller block share on a cleared deal
    (v1: a president who follows the recommendation more often) never lowers P(sale).

    Per replication this holds with one bidder (a draw above the larger block share is
    above the smaller one, and nothing else changes); with two it need not: a blocked
    Oracle deal frees the parent to sign Microsoft at once, while an approved one may
    still die of a late licence refusal, when Microsoft may sign too late to close.
    """
    def sales(block: float, drop_microsoft: bool) -> np.ndarray:
        doc = realistic()
        doc["committee"].update(clear_threshold=0.0, mitigation_threshold=0.0)
        doc["president"] = {"on_clear": {"block": block}}
        if drop_microsoft:
            doc["bidders"] = doc["bidders"][:1]
        return run(scenario_from(doc), N, SEED)["outcome"] == SALE

    grid = [0.5, 0.3, 0.1, 0.0]
    p = [sales(b, False).mean() for b in grid]
    assert all(b >= a for a, b in pairwise(p)), p
    assert p[-1] > p[0] + 0.05
    one = [sales(b, True) for b in grid]
    for low, high in pairwise(one):
        assert not np.any(low & ~high)


# ~5 s: five runs of 2,000 and three of 1,000
@pytest.mark.slow
def test_a_likelier_injunction_never_raises_p_shutdown():
    """A likelier injunction never raises P(shutdown): per replication in the realistic
    scenario (one suit, no appeal: the same ruling draw grants the injunction under every
    larger chance, and an enjoined ban never bites again), on the counts in the rich
    one (appeals, reversals and a second plaintiff make it not pathwise there)."""
    grid = [0.0, 0.25, 0.5, 0.75, 1.0]
    shut = []
    for q in grid:
        doc = realistic()
        doc["instruments"][0]["court"]["injunction_probability"] = q
        shut.append(run(scenario_from(doc), N, SEED)["outcome"] == SHUTDOWN)
    for low, high in pairwise(shut):
        assert not np.any(high & ~low), "a likelier injunction made a shutdown"
    assert shut[0].mean() > shut[-1].mean() + 0.3
    counts = []
    for q in grid[::2]:
        doc = rich()
        court = doc["instruments"][0]["court"]
        court["injunction_probability"] = q
        del court["plaintiffs"][1]["injunction_probability"]
        res = run(scenario_from(doc), 1000, RICH_SEED)
        counts.append(int(np.sum(res["outcome"] == SHUTDOWN)))
    assert all(b <= a for a, b in pairwise(counts)), counts
    assert counts[0] > counts[-1] + 40, counts


ELECTION_DATES = ["2021-06-01", "2021-02-01", "2020-12-01", "2020-11-01", "2020-10-01",
                  "2020-09-21", "2020-09-15"]


# ~5 s: seven runs of 2,000 replications
@pytest.mark.slow
def test_an_earlier_lenient_regime_never_lowers_p_sale_or_unresolved():
    """A political event (probability 0.6) that raises the ban's lapse chance to 0.2 and
    its forbearance chance to 0.1 (extend + forbear + lapse stays within 1 at every
    stage), moved earlier date by date: P(sale or unresolved) never falls (common random
    numbers, counts; not pathwise: an earlier regime relieves the pressure earlier, and
    deals come at other times). An event after the ban bites replays the draw that
    enforced it (docs/model.md). The ban never lapses under the old regime here
    (ℓ₀ = 0): with ℓ₀ > 0 and a regime that also forbears, the invariant fails
    (xfail in test_model_v2.py)."""
    counts = []
    for date in ELECTION_DATES:
        doc = realistic()
        doc["instruments"][0]["enforcement"].update(max_forbearances=2, forbearance_days=30)
        doc["politics"] = [{"id": "election", "date": dt.date.fromisoformat(date),
                            "probability": 0.6,
                            "set": {"instruments.ban.enforcement.lapse.otherwise": 0.2,
                                    "instruments.ban.enforcement.forbear.otherwise": 0.1}}]
        res = run(scenario_from(doc), N, SEED)
        counts.append(int(np.sum((res["outcome"] == SALE) | (res["outcome"] == UNRESOLVED))))
    assert all(b >= a for a, b in pairwise(counts)), counts
    assert counts[-1] > counts[0] + 50, counts


# --- bargaining -------------------------------------------------------------------------

def _deadline_effect(exponent: float):
    s = deadline_effect_scenario(exponent)
    res = run(s, 2000, 5)
    rel = res["agreement_vs_deadline"]
    rel = rel[~np.isnan(rel)]
    assert len(rel) > 1000  # most replications reach an agreement
    assert np.all((rel <= 0) & (rel >= -120))
    return rel / 120.0  # as a share of the time to the deadline


@pytest.mark.slow
def test_deadline_effect_with_boulware_concession():
    """Late concession on both sides (exponent 0.2): most agreements come in the last 20%
    of the time to the deadline, as in bargaining experiments."""
    rel = _deadline_effect(0.2)
    assert np.mean(rel >= -0.2) > 0.8
    assert np.median(rel) > -0.15


@pytest.mark.slow
def test_no_deadline_effect_with_conceders():
    """Early concession (exponent 3): agreements spread out, most well before the end."""
    rel = _deadline_effect(3.0)
    assert np.mean(rel >= -0.2) < 0.2
    assert np.median(rel) < -0.5


def test_bidder_arriving_after_its_withdrawal_day_never_signs():
    s = scenario(f"""
        name: late and gone
        start: {day(0)}
        horizon_days: 200
        instruments: [{{id: ban, kind: service_ban, date: {day(100)}}}]
        parent: {{name: P, reservation_bn: 10, aspiration_multiple: 1}}
        bidders:
          - name: B
            arrives_day: {{dist: exponential, mean: 30}}
            withdraws_day: 10
            valuation_bn: 100
    """)
    res = run(s, 1000, 8)
    late = res["input.bidders.B.arrives_day"] >= 10
    assert late.sum() > 500
    assert np.all(res["deals_signed"][late] == 0)
    assert not np.any(res["outcome"][late] == SALE)
    assert np.all(res["outcome"][late] == SHUTDOWN)  # nothing stops the ban
