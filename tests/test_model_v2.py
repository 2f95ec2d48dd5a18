"""Model v2's new mechanisms, each against a closed form or an exact equality.

Every closed form is derived in the test's docstring from docs/model.md and the actors'
code; a simulated frequency is checked inside its 99.9% exact (Clopper-Pearson) interval,
a mean inside its 99.9% normal interval, and where the model is deterministic given the
draws the row is checked exactly against the draws it used (``play`` replays the very
replications ``simulate`` runs, with tracing on).
"""

from __future__ import annotations

import math
import textwrap
from collections import Counter

import numpy as np
import pytest
from conftest import (
    Played,
    assert_outcomes,
    assert_proportion,
    count,
    day,
    play,
    rich,
    run,
    scenario,
    scenario_from,
)
from scipy import stats

from sim.errors import ScenarioError
from sim.model.outcome import (
    ABANDONED,
    APPROVE,
    IN_CONCEPT,
    NOTHING,
    REFUSE,
    SALE,
    SHUTDOWN,
    STATES,
    UNRESOLVED,
)
from sim.scenario.loading import parse_scenario

FORBEAR_DAYS = "instruments.ban.enforcement.forbearance_days"
EXTENSION_DAYS = "instruments.ban.enforcement.extension_days"


def nobody(horizon: float, instruments: str, extra: str = "") -> str:
    """A scenario with no bidder: only the instruments (and whatever ``extra`` adds)."""
    return f"""
        name: no bidder
        start: {day(0)}
        horizon_days: {horizon}
        instruments:
{instruments}
        parent: {{name: P, reservation_bn: 10}}
{extra}
    """


def assert_mean(x: np.ndarray, exact: float, what: str) -> None:
    """The sample mean is within the 99.9% normal interval around ``exact``."""
    sem = x.std(ddof=1) / math.sqrt(len(x))
    assert abs(x.mean() - exact) <= 3.29 * sem, (
        f"{what}: mean {x.mean():.4f} vs exact {exact:.4f} (±{3.29 * sem:.4f})")


# --- forbearance cycles ---------------------------------------------------------------

@pytest.mark.slow
def test_forbearance_cycles_against_a_fixed_horizon():
    """No bidder; a ban due on D = 30 forborne with chance f = 0.6, for L = 50 days each
    time, at most k = 5 times, else enforced. The authority's disposition is one draw a
    run (docs/model.md): one that forbears goes on forbearing at every look, on days 30,
    80, 130 and 180 (230 is past the horizon, 200), and one that enforces does so at once:

    P(never enforced by the horizon) = f, with 4 forbearances;  P(enforced on day 30) = 1 − f.

    An enforced ban is dark from day 30 to the horizon (a shutdown dated then); one never
    enforced leaves the case unresolved, ``forborne``.
    """
    f = 0.6
    s = scenario(nobody(200, f"""
          - id: ban
            kind: service_ban
            date: {day(30)}
            enforcement:
              forbear: {{otherwise: {f}}}
              max_forbearances: 5
              forbearance_days: 50
    """))
    n = 3000
    res = run(s, n, seed=41)
    j = res["forbearances"]
    assert_outcomes(res, {UNRESOLVED: f, SHUTDOWN: 1 - f, SALE: 0.0, ABANDONED: 0.0})
    shut = res["outcome"] == SHUTDOWN
    assert np.all(j[shut] == 0) and np.all(j[~shut] == 4)
    np.testing.assert_array_equal(res["day"][shut], 30)
    np.testing.assert_array_equal(res["days_dark"][shut], 170)
    assert set(np.unique(res["state"][~shut])) == {STATES.index("forborne")}


@pytest.mark.slow
def test_forbearance_runs_to_its_cap_and_the_days_add_up():
    """The same with forbearances of U(10, 40) days, drawn afresh for each, at most k = 3,
    and a horizon (141) after every possible look (20 + 3·40): an authority disposed to
    forbear (chance f) does so k times, then, its forbearances used up, enforces; the ban
    goes dark on 20 + the sum of the k forbearance lengths of its stream, exactly as drawn
    (and as the trace reports them). One not so disposed enforces on day 20."""
    f, k = 0.55, 3
    s = scenario(nobody(141, f"""
          - id: ban
            kind: service_ban
            date: {day(20)}
            enforcement:
              forbear: {{otherwise: {f}}}
              max_forbearances: {k}
              forbearance_days: {{dist: uniform, low: 10, high: 40}}
    """))
    played = [p for block in range(3) for p in play(s, 1000, seed=42, block=block)]
    n = len(played)
    counts = Counter(p.outcome.forbearances for p in played)
    assert set(counts) == {0, k}
    assert_proportion(counts[k], n, f, f"P({k} forbearances)")
    lengths = set()
    for p in played:
        o, drawn = p.outcome, p.draws[FORBEAR_DAYS]
        told = [d["days"] for _, d in p.events("forbearance")]
        assert told == drawn[:o.forbearances]  # the k-th forbearance: the k-th draw
        assert o.outcome == SHUTDOWN
        assert o.day == pytest.approx(20 + sum(drawn[:o.forbearances]), abs=1e-9)
        assert o.days_dark == 141 - o.day
        lengths.update(told)
    assert len(lengths) == k * counts[k]  # never the same length twice


# --- a ruling against a deadline ------------------------------------------------------

@pytest.mark.slow
def test_a_ruling_before_or_after_the_ban():
    """No bidder; a ban due on D = 40; the parent files on day a = 20 (files_day −20) and
    the preliminary ruling takes R ~ U(5, 45) days, granting an injunction with q = 0.5,
    for good (no appeal); horizon H = 150.

    * denied: dark from D to the horizon, a shutdown; days dark H − D;
    * granted before D (a + R < D): the ban never bites; days dark 0;
    * granted after D: dark from D to a + R; days dark a + R − D.

    P(ever dark) = (1 − q) + q·P(R > D − a) = 0.5 + 0.5·(45 − 20)/40 = 0.8125;
    E[days dark] = (1 − q)(H − D) + q·E[(R − 20)⁺] = 0.5·110 + 0.5·25²/(2·40) = 58.90625.
    """
    q, a, D, H, low, high = 0.5, 20.0, 40.0, 150.0, 5.0, 45.0
    s = scenario(nobody(H, f"""
          - id: ban
            kind: service_ban
            date: {day(D)}
            court:
              plaintiffs: [{{name: P, files_day: {a - D}}}]
              ruling_days: {{dist: uniform, low: {low}, high: {high}}}
              injunction_probability: {q}
    """))
    n = 4000
    res = run(s, n, seed=43)
    dark = res["days_dark"]
    ever = (dark > 0) | (res["outcome"] == SHUTDOWN)
    t = D - a
    assert_proportion(int(ever.sum()), n, (1 - q) + q * (high - t) / (high - low),
                      "P(ever dark)")
    assert_mean(dark, (1 - q) * (H - D) + q * (high - t) ** 2 / (2 * (high - low)),
                "E[days dark]")
    assert_proportion(int(res["injunction"].sum()), n, q, "P(injunction)")
    ruling = res["input.instruments.ban.court.ruling_days"]
    np.testing.assert_allclose(dark, np.where(res["injunction"],
                                              np.maximum(a + ruling - D, 0), H - D))
    np.testing.assert_array_equal(res["outcome"] == SHUTDOWN, ~res["injunction"])


# --- a regime change on a date --------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("when", [25, 70])
def test_a_regime_change_sets_the_lapse_chance(when):
    """No bidder; a ban due on D = 50 lapses with ℓ₀ = 0.1, else it is enforced (dark). An
    election on day t happens with p = 0.6 and sets the lapse chance to ℓ₁ = 0.7.

    * t = 25 < D: the authority looks at D under whichever regime holds.
    * t = 70 > D: it looks at D under the old regime; when the politics change it looks
      again at the enforced ban, replaying the draw that enforced it against the new
      chances (docs/model.md), and a ban lapsed then was dark t − D = 20 days.

    Either way P(lapse) = p·ℓ₁ + (1 − p)·ℓ₀ = 0.46. A lapsed ban leaves the case
    unresolved (``lapsed``); an enforced one is a shutdown. (Before the replay, the late
    election was a fresh second chance: ℓ₀ + (1 − ℓ₀)·p·ℓ₁ = 0.478.)
    """
    p, l0, l1, D = 0.6, 0.1, 0.7, 50.0
    s = scenario(nobody(150, f"""
          - id: ban
            kind: service_ban
            date: {day(D)}
            enforcement:
              lapse: {{otherwise: {l0}}}
    """, f"""
        politics:
          - id: election
            date: {day(when)}
            probability: {p}
            set: {{instruments.ban.enforcement.lapse.otherwise: {l1}}}
    """))
    n = 4000
    res = run(s, n, seed=44)
    lapse = p * l1 + (1 - p) * l0
    assert_outcomes(res, {UNRESOLVED: lapse, SHUTDOWN: 1 - lapse, SALE: 0.0, ABANDONED: 0.0})
    assert_proportion(int(res["regime_change"].sum()), n, p, "P(regime change)")
    unresolved = res["outcome"] == UNRESOLVED
    assert set(np.unique(res["state"][unresolved])) == {STATES.index("lapsed")}
    dark = res["days_dark"][unresolved]
    if when < D:
        assert np.all(dark == 0)
    else:
        assert set(np.unique(dark)) == {0.0, when - D}
        # lapsing later needs the election
        assert np.all(res["regime_change"][unresolved][dark > 0])


@pytest.mark.slow
def test_an_event_that_requires_another():
    """An inauguration (p₂ = 0.5, day 30) that requires an election (p₁ = 0.6, day 20)
    happens with p₁·p₂; it sets the lapse chance of a ban due on day 50 from ℓ₀ = 0.2 to
    ℓ₁ = 0.9: P(lapse) = p₁p₂·ℓ₁ + (1 − p₁p₂)·ℓ₀ = 0.41."""
    p1, p2, l0, l1 = 0.6, 0.5, 0.2, 0.9
    s = scenario(nobody(100, f"""
          - id: ban
            kind: service_ban
            date: {day(50)}
            enforcement:
              lapse: {{otherwise: {l0}}}
    """, f"""
        politics:
          - {{id: election, date: {day(20)}, probability: {p1}}}
          - id: inauguration
            date: {day(30)}
            probability: {p2}
            requires: election
            set: {{instruments.ban.enforcement.lapse.otherwise: {l1}}}
    """))
    played = [p for block in range(3) for p in play(s, 1000, seed=45, block=block)]
    n = len(played)
    happened = [tuple(d["happened"] for _, d in p.events("political_event")) for p in played]
    assert set(happened) == {(False,), (True, False), (True, True)}  # never without it
    assert_proportion(happened.count((True, True)), n, p1 * p2, "P(inauguration)")
    lapsed = sum(p.outcome.outcome == UNRESOLVED for p in played)
    assert_proportion(lapsed, n, p1 * p2 * l1 + (1 - p1 * p2) * l0, "P(lapse)")


# --- durations drawn per occurrence ---------------------------------------------------

def extensions_scenario(most: int):
    return scenario(nobody(400, f"""
          - id: ban
            kind: service_ban
            date: {day(20)}
            enforcement:
              extend: {{otherwise: 1}}
              max_extensions: {most}
              extension_days: {{dist: uniform, low: 7, high: 30}}
    """))


def test_each_extension_has_its_own_length():
    """Three extensions of one ban (extend always, at most 3): three different lengths in
    every replication, the k-th from the k-th draw of the instrument's stream (the first
    is the ``input.`` column), each due date the last one plus that length; the ban then
    bites on 20 + their sum."""
    s = extensions_scenario(3)
    played = play(s, 500, seed=46)
    res = run(s, 500, seed=46)
    for i, p in enumerate(played):
        told = [d["days"] for _, d in p.events("deadline_extended")]
        assert len(told) == 3 and len(set(told)) == 3, told
        assert told == p.draws[EXTENSION_DAYS][:3]
        assert told[0] == res["input." + EXTENSION_DAYS][i]
        assert [d["until_day"] for _, d in p.events("deadline_extended")] == \
            pytest.approx([20 + sum(told[:k + 1]) for k in range(3)], abs=1e-9)
        assert p.outcome.day == pytest.approx(20 + sum(told), abs=1e-9)
        assert p.outcome.extensions == 3


def test_more_extensions_leave_the_first_lengths_alone():
    """Same seed, only max_extensions raised from 3 to 5: the first three extensions are
    the same lengths, bit for bit (a cap adds streams, it moves none), and two more
    follow, different again."""
    three, five = play(extensions_scenario(3), 300, seed=47), play(extensions_scenario(5), 300,
                                                                     seed=47)
    for a, b in zip(three, five, strict=True):
        short = [d["days"] for _, d in a.events("deadline_extended")]
        long = [d["days"] for _, d in b.events("deadline_extended")]
        assert len(short) == 3 and len(long) == 5
        assert long[:3] == short and len(set(long)) == 5


@pytest.mark.slow
def test_a_second_review_has_its_own_length():
    """Two bidders; the agreed deal with A is blocked (the president blocks every
    cleared deal with chance 1/2), and the parent signs B at once: B's review is the
    second occurrence of committee.review_days, not a copy of A's."""
    s = scenario(f"""
        name: two reviews
        start: {day(0)}
        horizon_days: 400
        parent: {{name: P, reservation_bn: 10, aspiration_multiple: 1}}
        bidders:
          - {{name: A, agreed_at_start: true, agreed_price_bn: 12}}
          - {{name: B, valuation_bn: 100}}
        committee:
          review_days: {{dist: uniform, low: 3, high: 30}}
          investigation_probability: 0
          clear_threshold: 0
          mitigation_threshold: 0
        president: {{decision_days: 5, on_clear: {{block: 0.5}}}}
    """)
    two = 0
    for p in play(s, 600, seed=48):
        starts = [t for t, _ in p.events("review_starts")]
        ends = [t for t, _ in p.events("recommendation")]
        lengths = [e - b for b, e in zip(starts, ends, strict=True)]
        drawn = p.draws["committee.review_days"]
        assert lengths == pytest.approx(drawn[:len(lengths)], abs=1e-9)
        assert lengths[0] == p.values["committee.review_days"]
        if len(lengths) == 2:
            two += 1
            assert lengths[0] != lengths[1]
    assert 200 < two < 400  # about half the agreed deals are blocked


# --- a ban lifted by a sale -----------------------------------------------------------

SALE_AFTER_BAN = """
    name: ban lifted by a sale
    start: 2021-01-01
    horizon_days: 200
    instruments:
      - id: ban
        kind: service_ban
        date: {ban}
        enforcement: {{hold_for_approved_deal: {hold}}}
{tiers}
    parent: {{name: P, reservation_bn: 10, aspiration_multiple: 1}}
    bidders:
      - {{name: B, arrives_day: {arrives}, valuation_bn: 100}}
    committee: {{review_days: 10, investigation_probability: 0, clear_threshold: 0,
                mitigation_threshold: 0}}
    president: {{decision_days: 5}}
    closing: {{days: 20}}
"""


TIERS = """        tiers:
          - {id: app_store, date: 2021-01-31, dark: false}
          - {id: hosting, date: 2021-02-20, dark: true}"""


@pytest.mark.parametrize(("hold", "arrives", "tiers", "dark_day", "back_day"), [
    (False, 40, "", 30, 75),  # signed on 40, dark since 30, closes on 75
    (False, 5, "", 30, 40),  # approved on 20, still closing on 30: dark until the sale
    (False, 40, TIERS, 50, 75),  # dark from the hosting tier (app stores only restrict)
    (True, 40, "", 30, 55),  # held: the ban in force is suspended at the approval, 55
    (True, 5, "", None, None),  # closing on 30: held, never dark
    (True, 40, TIERS, 50, 55),
])
def test_a_ban_is_lifted_by_a_sale(hold, arrives, tiers, dark_day, back_day):
    """Deterministic: a bidder arriving on day ``arrives`` signs at once; the review (10
    days) and the president (5) approve it 15 days later and closing (20) makes it a sale
    35 days later. Without hold_for_approved_deal the ban stays in force until the sale,
    which brings the service back: days dark = closing day − dark day, exactly. With it
    (the default), the authority suspends a ban in force once the deal is approved:
    days dark = approval day − dark day; and a deal already closing when the ban falls
    due is held for, never dark. A non-dark tier (app stores) only restricts."""
    s = scenario(SALE_AFTER_BAN.format(ban="2021-01-31", tiers=tiers, arrives=arrives,
                                       hold=str(hold).lower()))
    for p in play(s, 20, seed=49):
        o = p.outcome
        assert o.outcome == SALE and o.day == arrives + 35
        dark = [t for t, _ in p.events("service_dark")]
        back = [t for t, _ in p.events("service_restored")]
        if dark_day is None:
            assert dark == back == [] and p.events("enforcement_held")
            assert o.days_dark == 0
        else:
            assert dark == [dark_day] and back == [back_day]
            assert o.days_dark == back_day - dark_day
            if not hold:
                assert p.kinds()[-2:] == ["service_restored", "end"]


# --- the home government's stance -----------------------------------------------------

def licence_scenario(follows: float = 0.0, accepts: float = 1.0, approval: float = 0.45,
                     block: float = 0.5) -> str:
    return f"""
        name: one stance
        start: {day(0)}
        horizon_days: 400
        parent:
          name: P
          reservation_bn: 10
          aspiration_multiple: 1
          accepts: {{full_acquisition: {accepts}}}
          follows_home_government: {follows}
        bidders:
          - {{name: A, agreed_at_start: true, agreed_price_bn: 12, needs_export_licence: true}}
          - {{name: B, valuation_bn: 100, needs_export_licence: true}}
        home_government:
          approval_probability: 0.9
          approval_by_structure: {{full_acquisition: {approval}}}
          decision_days: 5
        committee: {{review_days: 20, investigation_probability: 0, clear_threshold: 0,
                    mitigation_threshold: 0}}
        president: {{decision_days: 5, on_clear: {{block: {block}}}}}
    """


@pytest.mark.slow
def test_one_stance_decides_every_licence():
    """Two bidders for a full acquisition, both needing a licence (granted when the
    stance, one uniform per replication, is below h = 0.45). A's licence is decided on
    day 5, before the president; if A is then blocked (chance 1/2), B is signed and asks
    again: every answer in a replication is the stance's, so B is granted whenever it is
    asked. P(granted) = h."""
    h = 0.45
    s = scenario(licence_scenario(approval=h))
    played = [p for block in range(2) for p in play(s, 1000, seed=50, block=block)]
    twice = 0
    for p in played:
        answers = [d["granted"] for _, d in p.events("licence_decided")]
        assert answers and all(a == (p.values["home_government.draw.stance"] < h)
                               for a in answers)
        assert len(set(answers)) == 1
        twice += len(answers) == 2
    assert twice > 300
    granted = sum(p.events("licence_decided")[0][1]["granted"] for p in played)
    assert_proportion(granted, len(played), h, "P(licence granted)")


@pytest.mark.slow
def test_a_parent_that_follows_its_government_sells_what_it_would_license():
    """follows_home_government = 1 and accepts = approval chance (0.4) for a full
    acquisition: the parent's willingness is the stance itself, so it bargains with B
    (there is no agreed deal here) iff the licence would be granted, and no licence is
    ever refused. With follows = 0 the two are independent: P(refused) = 0.4·0.6."""
    text = licence_scenario(follows=1.0, accepts=0.4, approval=0.4, block=0.0).replace(
        "      - {name: A, agreed_at_start: true, agreed_price_bn: 12, "
        "needs_export_licence: true}\n", "")
    played = [p for block in range(2) for p in play(scenario(text), 1000, seed=51,
                                                    block=block)]
    for p in played:
        would = p.values["home_government.draw.stance"] < 0.4
        assert (p.outcome.deals_signed == 1) == would
        assert p.outcome.home_approved == (1 if would else -1)
    signed = sum(p.outcome.deals_signed for p in played)
    assert_proportion(signed, len(played), 0.4, "P(the parent sells)")
    independent = run(scenario(text.replace("follows_home_government: 1.0",
                                            "follows_home_government: 0.0")), 2000, seed=51)
    assert_proportion(int(np.sum(independent["home_approved"] == 0)), 2000, 0.4 * 0.6,
                      "P(licence refused) with follows = 0")


@pytest.mark.slow
def test_no_deal_for_a_structure_already_refused():
    """A (full acquisition, agreed) is refused its licence when the stance is above 0.3;
    then B (full acquisition, the best offer) is never signed, but C (a majority stake,
    licensed up to 0.6: easier) may be. Checked through every trace: no deal needing a
    licence is signed for a structure no easier than one already refused."""
    s = scenario(f"""
        name: refused structures
        start: {day(0)}
        horizon_days: 400
        parent: {{name: P, reservation_bn: 10, aspiration_multiple: 1}}
        bidders:
          - {{name: A, agreed_at_start: true, agreed_price_bn: 12, needs_export_licence: true}}
          - {{name: B, arrives_day: 10, valuation_bn: 100, needs_export_licence: true}}
          - {{name: C, arrives_day: 10, valuation_bn: 50, structure: majority,
              terms: {{parent_stake: 0.3}},
              needs_export_licence: true}}
        home_government:
          approval_probability: 0.6
          approval_by_structure: {{full_acquisition: 0.3}}
          decision_days: 5
        committee: {{review_days: 20, investigation_probability: 0, clear_threshold: 0,
                    mitigation_threshold: 0}}
        president: {{decision_days: 5}}
    """)
    chance = {0: 0.3, 1: 0.3, 2: 0.6}
    c_after_refusal = 0
    for p in play(s, 1000, seed=52):
        refused: list[float] = []
        for _, kind, d in p.trace:
            if kind == "licence_decided" and not d["granted"]:
                refused.append(chance[d["bidder"]])
            if kind == "signed":
                assert not any(chance[d["bidder"]] <= r for r in refused), p.trace
                c_after_refusal += bool(refused) and d["bidder"] == 2
        stance = p.values["home_government.draw.stance"]
        assert (p.outcome.winner == 0) == (stance < 0.3)
        assert (p.outcome.winner == 2) == (0.3 <= stance < 0.6)
    assert c_after_refusal > 200


# --- the president's discretion -------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("assurance", "shares"), [
    (0.9, {"block": 0.2, "nothing": 0.15, "in_concept": 0.25}),  # on a clear recommendation
    (0.1, {"block": 0.5, "nothing": 0.2, "in_concept": 0.1}),  # on a block recommendation
])
def test_the_presidents_shares(assurance, shares):
    """One agreed deal, one decision: block, nothing, in concept and approve (the rest)
    come with their shares. What follows: approve → a sale; in concept → finalised within
    the window with φ = 0.5 (a sale), else stalled (unresolved, approved in concept);
    nothing → unresolved under review; block → the deal dies (unresolved, open).
    P(sale) = approve + φ·in_concept. A deal the committee would block is investigated
    first (45 days, the default), whatever the investigation chance."""
    s = scenario(f"""
        name: discretion
        start: {day(0)}
        horizon_days: 300
        parent: {{name: P, reservation_bn: 10}}
        bidders:
          - {{name: A, agreed_at_start: true, agreed_price_bn: 12,
              security_assurance: {assurance}}}
        committee: {{review_days: 10, investigation_probability: 0}}
        president:
          decision_days: 5
          on_clear: {{block: 0.2, nothing: 0.15, in_concept: 0.25}}
          on_block: {{block: 0.5, nothing: 0.2, in_concept: 0.1}}
          in_concept: {{window_days: 30, finalise_probability: 0.5}}
    """)
    played = [p for block in range(3) for p in play(s, 1000, seed=53, block=block)]
    n = len(played)
    decisions = Counter(p.events("president_decides")[0][1]["decision"] for p in played)
    approve = 1 - sum(shares.values())
    for code, share in ((REFUSE, shares["block"]), (NOTHING, shares["nothing"]),
                        (IN_CONCEPT, shares["in_concept"]), (APPROVE, approve)):
        assert_proportion(decisions[code], n, share, f"P(decision {code})")
    sales = sum(p.outcome.outcome == SALE for p in played)
    assert_proportion(sales, n, approve + 0.5 * shares["in_concept"], "P(sale)")
    ending = {APPROVE: {"sale"}, IN_CONCEPT: {"sale", "approved_in_concept"},
              NOTHING: {"under_review"}, REFUSE: {"open"}}
    for p in played:
        decision = p.events("president_decides")[0][1]["decision"]
        o = p.outcome
        assert ("sale" if o.outcome == SALE else STATES[o.state]) in ending[decision]
        if o.outcome == SALE:  # a blocking recommendation comes after a 45-day investigation
            investigated = 45 * (assurance < 0.4)
            assert o.day == 15 + investigated + 30 * (decision == IN_CONCEPT) + 30


def test_a_blocked_pending_transaction_is_abandoned_after_abandon_days():
    """A pending transaction, always blocked: abandoned exactly abandon_days (drawn,
    U(1, 10)) after the president's decision, on day 10 + 5 + abandon_days."""
    s = scenario(f"""
        name: blocked pending deal
        start: {day(0)}
        horizon_days: 300
        subject: pending_transaction
        parent: {{name: P, reservation_bn: 10}}
        bidders:
          - {{name: A, agreed_at_start: true, agreed_price_bn: 12}}
        committee: {{review_days: 10, investigation_probability: 0, clear_threshold: 0,
                    mitigation_threshold: 0}}
        president:
          decision_days: 5
          on_clear: {{block: 1}}
          abandon_days: {{dist: uniform, low: 1, high: 10}}
    """)
    res = run(s, 500, seed=54)
    assert np.all(res["outcome"] == ABANDONED)
    np.testing.assert_array_equal(res["day"], 15 + res["input.president.abandon_days"])
    for p in play(s, 100, seed=54):
        (decided, d), = p.events("president_decides")
        assert d["decision"] == REFUSE
        assert p.trace[-1][0] - decided == pytest.approx(p.values["president.abandon_days"],
                                                          abs=1e-9)
        assert p.kinds()[-2:] == ["abandonment_pending", "end"]


# --- a trustee's sale -----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("trustee", [1.0, 0.6])
def test_a_trustee_sells_above_the_floor(trustee):
    """A divestiture order due on D = 50 enforced by a trustee with chance τ (else
    penalties), who takes over after trustee_days ~ U(20, 60). The bidder's ceiling
    (13 to 19) is below the parent's reservation (20), so the parent never sells, but
    above the trustee's floor (0.6·20 = 12): the trustee signs on D + trustee_days, at
    once, at the midpoint of the offer (the valuation: the order is in force) and the
    floor, and the sale closes r + d + c = 25 days later. P(sale) = τ; penalties leave it
    unresolved (``enforcement_pending``). An order never turns the service off."""
    s = scenario(f"""
        name: trustee
        start: {day(0)}
        horizon_days: 300
        instruments:
          - id: order
            kind: divestiture_order
            date: {day(50)}
            enforcement:
              trustee_probability: {trustee}
              trustee_days: {{dist: uniform, low: 20, high: 60}}
              trustee_floor: 0.6
        parent: {{name: P, reservation_bn: 20}}
        bidders:
          - {{name: B, valuation_bn: {{dist: uniform, low: 13, high: 19}}}}
        committee: {{review_days: 10, investigation_probability: 0, clear_threshold: 0,
                    mitigation_threshold: 0}}
        president: {{decision_days: 5}}
        closing: {{days: 10}}
    """)
    n = 2000
    res = run(s, n, seed=55)
    assert_outcomes(res, {SALE: trustee, UNRESOLVED: 1 - trustee, SHUTDOWN: 0.0,
                          ABANDONED: 0.0})
    assert np.all(res["days_dark"] == 0)
    sale = res["outcome"] == SALE
    ready = 50 + res["input.instruments.order.enforcement.trustee_days"]
    np.testing.assert_array_equal(res["agreement_day"][sale], ready[sale])
    np.testing.assert_allclose(res["day"][sale], ready[sale] + 25)
    np.testing.assert_allclose(res["price_bn"][sale],
                               (res["input.bidders.B.valuation_bn"][sale] + 12) / 2)
    assert set(np.unique(res["state"][~sale])) <= {STATES.index("enforcement_pending")}


# --- the lead's later semantics (docs/model.md) --------------------------------------

@pytest.mark.slow
def test_a_suit_pending_at_day_zero_is_ruled_after_it():
    """No bidder; a ban due on day 20; the parent's suit was filed on day −10 (files_day
    −30) and has had no ruling by day 0, so its time to ruling R ~ U(5, 45) is drawn given
    R > 10: the ruling day is uniform on (0, 35). The injunction is certain, so the
    service goes dark iff the ruling comes after day 20: P = 15/35 = 3/7, for U(0, 15)
    days (mean 7.5)."""
    s = scenario(nobody(100, f"""
          - id: ban
            kind: service_ban
            date: {day(20)}
            court:
              plaintiffs: [{{name: P, files_day: -30}}]
              ruling_days: {{dist: uniform, low: 5, high: 45}}
              injunction_probability: 1
    """))
    played = [p for block in range(2) for p in play(s, 1000, seed=60, block=block)]
    ruled = np.array([p.events("injunction")[0][0] for p in played])
    assert ruled.min() > 0 and ruled.max() < 35
    assert stats.kstest(ruled, stats.uniform(0, 35).cdf).pvalue > 1e-3
    dark = np.array([p.outcome.days_dark for p in played])
    assert_proportion(int(np.sum(dark > 0)), len(played), 3 / 7, "P(ever dark)")
    np.testing.assert_allclose(dark, np.maximum(ruled - 20, 0), atol=1e-9)
    assert all(p.events("lawsuit")[0][1]["filed_day"] == -10 for p in played)


@pytest.mark.parametrize(("valuation", "sells"), [(100, True), (20, False)])
def test_no_threat_no_pressure(valuation, sells):
    """No instrument: nothing to bargain against, so both sides stay at their opening
    positions (docs/model.md): the bidder's opening offer 0.7·V against the parent's
    opening ask 1.5·10 = 15. V = 100: 70 ≥ 15, they sign on arrival (day 5) at the
    midpoint 42.5 and close 25 days later; V = 20: 14 < 15, never a deal, ``open``."""
    s = scenario(f"""
        name: no threat
        start: {day(0)}
        horizon_days: 100
        parent: {{name: P, reservation_bn: 10}}
        bidders: [{{name: B, arrives_day: 5, valuation_bn: {valuation}}}]
        committee: {{review_days: 10, investigation_probability: 0, clear_threshold: 0,
                    mitigation_threshold: 0}}
        president: {{decision_days: 5}}
        closing: {{days: 10}}
    """)
    res = run(s, 50, seed=61)
    if sells:
        assert np.all(res["outcome"] == SALE) and np.all(res["day"] == 30)
        assert np.all(res["agreement_day"] == 5) and np.all(res["price_bn"] == 42.5)
    else:
        assert np.all(res["outcome"] == UNRESOLVED) and np.all(res["deals_signed"] == 0)
        assert np.all(res["state"] == STATES.index("open"))


def test_a_pending_transaction_that_dies_another_way_is_abandoned_at_once():
    """A pending transaction whose mitigation terms are refused (acceptance 0) is
    abandoned on that day: review 10 + mitigation 7 = day 17, in every replication."""
    s = scenario(f"""
        name: pending deal dies
        start: {day(0)}
        horizon_days: 200
        subject: pending_transaction
        parent: {{name: P, reservation_bn: 10}}
        bidders:
          - {{name: A, agreed_at_start: true, agreed_price_bn: 12, security_assurance: 0.5,
              mitigation_acceptance_probability: 0}}
        committee: {{review_days: 10, investigation_probability: 0, mitigation_days: 7}}
    """)
    res = run(s, 100, seed=62)
    assert np.all(res["outcome"] == ABANDONED) and np.all(res["day"] == 17)


@pytest.mark.slow
@pytest.mark.parametrize(("by_structure", "granted"), [
    ("{full_acquisition: 0.8}", 0.3),  # a full sale no easier than a majority (0.3)
    ("{full_acquisition: 0.2}", 0.2),
    ("{majority: 0.1, full_acquisition: 0.6}", 0.1),  # capped through the majority
])
def test_a_larger_sale_is_never_easier_to_license(by_structure, granted):
    """Licence chances are ordered by structure: a full acquisition's chance is capped by
    a majority's, a majority's by a partnership's (here approval_probability 0.3 for the
    structures not named): P(granted) for a full acquisition = the capped chance."""
    s = scenario(f"""
        name: licence order
        start: {day(0)}
        horizon_days: 200
        parent: {{name: P, reservation_bn: 10}}
        bidders:
          - {{name: A, agreed_at_start: true, agreed_price_bn: 12, needs_export_licence: true}}
        home_government:
          approval_probability: 0.3
          approval_by_structure: {by_structure}
          decision_days: 5
        committee: {{review_days: 10, investigation_probability: 0, clear_threshold: 0,
                    mitigation_threshold: 0}}
    """)
    res = run(s, 3000, seed=63)
    assert_proportion(int(np.sum(res["home_approved"] == 1)), 3000, granted,
                      "P(licence granted)")


@pytest.mark.parametrize("withdraws", [30, 60])
def test_a_fresh_review_does_not_revive_a_bidder_who_walked_away(withdraws):
    """A's deal is blocked on day 25 (half the time: a 10-day review, the 10-day
    investigation a block needs, 5 days' decision); a new administration orders a
    fresh review on day 40. If A's own withdrawal day (30) has passed, it is not revived:
    one deal signed. If it has not (60), the blocked deal is reviewed afresh, a second
    signature on day 40."""
    s = scenario(f"""
        name: walked away
        start: {day(0)}
        horizon_days: 200
        politics: [{{id: new_admin, date: {day(40)}, fresh_review: true}}]
        parent: {{name: P, reservation_bn: 10}}
        bidders: [{{name: A, valuation_bn: 100, withdraws_day: {withdraws},
                   security_assurance: 0.1}}]
        committee: {{review_days: 10, investigation_probability: 0, investigation_days: 10}}
        president: {{decision_days: 5, on_block: {{block: 0.5}}}}
    """)
    blocked = 0
    for p in play(s, 200, seed=64):
        if p.events("deal_failed"):
            blocked += 1
            revived = [t for t, _ in p.events("fresh_review")]
            assert revived == ([] if withdraws < 40 else [40.0])
            assert p.outcome.deals_signed == (1 if withdraws < 40 else 2)
    assert 50 < blocked < 150


@pytest.mark.slow
def test_settling_is_one_decision_per_instrument():
    """No bidder; two plaintiffs sue a ban due on day 40 (filed on days 20 and 30, rulings
    5 days later), settlement chance s = 0.3, no injunction. Settling is the government's
    choice about the instrument, one draw for both suits: P(settled) = s = 0.3, not
    1 − (1 − s)² = 0.51; settled on the first ruling (day 25) or never. The rest bite on
    day 40: shutdowns."""
    s = scenario(nobody(100, f"""
          - id: ban
            kind: service_ban
            date: {day(40)}
            court:
              plaintiffs: [{{name: P, files_day: -20}}, {{name: Users, files_day: -10}}]
              ruling_days: 5
              settlement_probability: 0.3
    """))
    played = [p for block in range(3) for p in play(s, 1000, seed=65, block=block)]
    settled = [p for p in played if p.events("settlement")]
    assert_proportion(len(settled), len(played), 0.3, "P(settled)")
    assert all([t for t, _ in p.events("settlement")] == [25.0] for p in settled)
    assert all(p.outcome.outcome == UNRESOLVED for p in settled)
    assert all(p.outcome.outcome == SHUTDOWN and p.outcome.day == 40
               for p in played if not p.events("settlement"))


# --- found by these tests (fixed in the model; kept as regression tests) ---------------

LIFTED_WHILE_CLOSING = """
    name: injunction lifted while a deal closes
    start: 2021-01-01
    horizon_days: 200
    instruments:
      - id: ban
        kind: service_ban
        date: 2021-01-11
        enforcement: {{lapse: {{otherwise: 0, {stage}: {lapse}}}}}
        court:
          plaintiffs: [{{name: P, files_day: 0}}]
          ruling_days: 5
          injunction_probability: 1
          appeal_probability: 1
          appeal_days: 60
          reversal_probability: 1
    parent: {{name: P, reservation_bn: 10, aspiration_multiple: 1}}
    bidders:
      - {{name: B, arrives_day: 20, valuation_bn: 100}}
    committee: {{review_days: {review}, investigation_probability: 0, clear_threshold: 0,
                mitigation_threshold: 0}}
    president: {{decision_days: 5}}
    closing: {{days: 60}}
"""


def test_an_injunction_lifted_during_closing_does_not_turn_the_service_off():
    """The ban bites on day 10 (no deal yet) and goes dark; the parent's injunction on
    day 15 brings it back; B signs on 20, is approved on 35 and closes from 35 to 95. The
    government's appeal lifts the injunction on day 75, while the deal is closing. Under
    ``hold_for_approved_deal`` (the default) "an authority never enforces against an
    approved or closing deal", and an enforced instrument "is looked at again whenever an
    injunction is lifted" (docs/model.md): it holds, the service stays on: 5 days dark
    (10 to 15), no service_dark after the approval. (Found by this test: the model used to
    turn the service off on day 75, 25 days dark.)"""
    s = scenario(LIFTED_WHILE_CLOSING.format(stage="closing", lapse=0, review=10))
    p = play(s, 1, seed=1)[0]
    approved = next(t for t, d in p.events("president_decides"))
    assert p.outcome.outcome == SALE and p.outcome.day == 95
    assert [t for t, _ in p.events("service_dark") if t > approved] == []
    assert p.outcome.days_dark == 5


def test_an_enforced_ban_is_looked_at_again_when_its_injunction_is_lifted():
    """Same history with a review of 80 days, so the deal is under review (from 20 to
    100) when the injunction is lifted on day 75, and a ban that lapses for sure at that
    stage (lapse.under_review 1; at stage none, on day 10, it is enforced). Looked at again
    on day 75, it lapses: 5 days dark in all. (Found by this test: the model used to
    re-impose it without a look, dark from 75 to the sale on 165.)"""
    s = scenario(LIFTED_WHILE_CLOSING.format(stage="under_review", lapse=1, review=80))
    p = play(s, 1, seed=1)[0]
    assert p.outcome.outcome == SALE
    assert "deadline_lapses" in p.kinds()
    assert p.outcome.days_dark == 5


SETTABLE = """
    name: what a regime may set
    start: 2021-01-01
    horizon_days: 300
    instruments:
      - id: ban
        kind: service_ban
        date: 2021-04-11
        court:
          plaintiffs: [{{name: P, sue_probability: {sue}, files_day: 0.5}}]
          injunction_probability: 1
    politics:
      - {{id: new_admin, date: 2021-01-06, set: {{{path}: {value}}}}}
    parent: {{name: P, reservation_bn: 10, concession_exponent: 0.3,
             accepts: {{full_acquisition: 0.5}}, follows_home_government: 0.0}}
    bidders:
      - {{name: B, arrives_day: 20, valuation_bn: 12, needs_export_licence: true,
          security_assurance: 0.5}}
    home_government: {{approval_probability: 0.5}}
    committee: {{review_days: 10, investigation_probability: 0}}
"""


@pytest.mark.slow
def test_a_political_event_may_not_set_a_bidders_terms():
    """A bidder's own terms are read once, when it enters: a political event that sets
    one is refused with one line naming the key. (Found by these tests: the loader used
    to accept bidders.B.security_assurance as "a chance this scenario names", and the
    model ignored it.) A policy chance read when it is used (the parent's acceptance of a
    structure, looked up at each look) is set, and moves the outcome."""
    text = textwrap.dedent(SETTABLE.format(path="bidders.B.security_assurance", value=0.95, sue=0))
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "set.yaml")
    message = str(info.value)
    assert message.startswith("set.yaml:13: politics[0].set.bidders.B.security_assurance: ")
    assert "bidder's own terms" in message and "\n" not in message
    before, after = (run(scenario(SETTABLE.format(path="parent.accepts.full_acquisition",
                                                  value=v, sue=0)), 1000, seed=56)
                     for v in (0.5, 1.0))
    assert count(after, SALE) > count(before, SALE) + 100


@pytest.mark.parametrize(("path", "old", "new"), [
    ("parent.follows_home_government", 0.0, 1.0),  # the copula is drawn at the start
    ("parent.concession_exponent", 0.3, 1.0),  # a constant in [0, 1] passes for a chance
    pytest.param("instruments.ban.court.plaintiffs.P.sue_probability", 0.0, 1.0,  # day 0
                 marks=pytest.mark.slow),  # two runs of 1,000 (the others are refused)
    ("instruments.ban.court.plaintiffs.P.files_day", 0.5, 0.9),  # a day, not a chance
])
def test_a_political_event_sets_nothing_it_cannot_change(path, old, new):
    """Either the loader refuses the set (one line naming the key), or setting it on
    day 5 changes what happens after: the parent's willingness to follow its government,
    its concession, the plaintiff's decision to sue on day 100.5 (the ban's day + 0.5).
    (Found by this test: each was accepted and the run bit-identical to one without the
    change; now the first, second and fourth are refused, the suit is decided when filed.)"""
    try:
        sue = 1 if path.endswith("files_day") else 0  # a suit to move, there
        runs = [run(scenario(SETTABLE.format(path=path, value=v, sue=sue)), 1000, seed=58)
                for v in (old, new)]
    except ScenarioError as exc:
        message = str(exc)
        assert f"politics[0].set.{path}: " in message and "\n" not in message
        return
    a, b = runs
    assert any(not np.array_equal(a[c], b[c], equal_nan=True) for c in a.columns
               if not c.startswith("input.")), f"setting {path} changed nothing"


def test_a_trustee_reappointed_after_forbearance_waits_its_days():
    """An order enforced on day 10 appoints a trustee who sells from day 30. A truce on
    day 40 forbears the order for 30 days (set forbear 1; at most one forbearance); on day
    70 it is enforced again and a trustee appointed "from 90" (trustee_days 20). The only
    bidder (below the parent's reservation, above the floor) arrives on day 75: the
    trustee signs on day 90. (Found by this test: the model used to sign on day 75.)"""
    s = scenario(f"""
        name: trustee re-appointed
        start: {day(0)}
        horizon_days: 300
        instruments:
          - id: order
            kind: divestiture_order
            date: {day(10)}
            enforcement:
              forbear: {{otherwise: 0}}
              max_forbearances: 1
              forbearance_days: 30
              trustee_probability: 1
              trustee_days: 20
              trustee_floor: 0.5
        politics:
          - id: truce
            date: {day(40)}
            set: {{instruments.order.enforcement.forbear.otherwise: 1}}
        parent: {{name: P, reservation_bn: 20}}
        bidders:
          - {{name: B, arrives_day: 75, valuation_bn: 15}}
        committee: {{review_days: 10, investigation_probability: 0, clear_threshold: 0,
                    mitigation_threshold: 0}}
        president: {{decision_days: 5}}
        closing: {{days: 10}}
    """)
    p = play(s, 1, seed=1)[0]
    appointed = [d["ready_day"] for _, d in p.events("trustee_appointed")]
    assert appointed == [30.0, 90.0]
    assert p.outcome.agreement_day == 90.0


FRESH_REVIEW_WHILE_BARGAINING = f"""
    name: fresh review while the parent bargains
    start: {day(0)}
    horizon_days: 300
    instruments:
      - {{id: ban, kind: service_ban, date: {day(100)}}}
    politics:
      - {{id: new_admin, date: {day(75)}, fresh_review: true}}
    parent: {{name: P, reservation_bn: 10, aspiration_multiple: 1.5}}
    bidders:
      - {{name: A, agreed_at_start: true, agreed_price_bn: 12, security_assurance: 0.1}}
      - {{name: B, valuation_bn: 12, opening_fraction: 0.5, security_assurance: 0.9}}
    committee: {{review_days: 10, investigation_probability: 0, investigation_days: 1,
                clear_threshold: 0.7, mitigation_threshold: 0.4}}
    president: {{decision_days: 5}}
    closing: {{days: 10}}
"""


def test_a_fresh_review_while_the_parent_bargains_keeps_one_deal_at_a_time():
    """Deterministic. A (agreed, assurance 0.1) is blocked on day 16 (review 10, the
    one-day investigation a block needs, decision 5); the parent then
    bargains with B, on course to meet on day 81.8 (linear concession toward the ban on
    day 100). A new administration on day 75 orders a fresh review of A's blocked deal:
    A is signed again. The run completes with one deal at a time, a block kills the deal
    it decided, and no offer is NaN. (Found by this test: the model used to sign B too on
    day 81.8, kill B's deal when A was blocked again on day 90, then sign A "by
    bargaining" at a NaN offer and stop with RuntimeError: bidders.A.draw.investigation:
    more than 2 occurrences in one replication.)"""
    p = play(scenario(FRESH_REVIEW_WHILE_BARGAINING), 1, seed=1)[0]
    live = None
    for _, kind, d in p.trace:
        if kind == "signed":
            assert live is None, f"bidder {d['bidder']} signed while {live}'s deal is live"
            live = d["bidder"]
        elif kind in ("deal_failed", "fresh_review"):
            assert kind == "fresh_review" or d["bidder"] == live
            live = None
        elif kind == "offers_cross":
            assert not math.isnan(d["offer_bn"])
    # A is blocked again on day 91; then B, whose crossing has passed, signs at once
    assert p.outcome.outcome == SALE and p.outcome.winner == 1
    assert p.outcome.agreement_day == 91.0 and p.outcome.deals_signed == 3


@pytest.mark.slow
def test_the_rich_scenario_runs_to_the_end():
    """2,000 replications of conftest's rich scenario (seed 2024) run to the end (found by
    this test: replication 1,462 had the race of the test above and stopped the run with
    RuntimeError: bidders.Oracle.draw.investigation: more than 2 occurrences)."""
    s = scenario_from(rich())
    res = run(s, 2000, seed=2024)
    assert len(res) == 2000
    # three bidders and one fresh review: at most four deals signed
    assert res["deals_signed"].max() <= len(s.bidders) + 1
    assert set(np.unique(res["outcome"]).tolist()) == {SALE, SHUTDOWN, UNRESOLVED}


@pytest.mark.slow
def test_streams_are_sized_for_the_busiest_replications():
    """Every per-occurrence stream is sized from the scenario's caps (model.occurrences):
    a scenario that pushes each cap (20 extensions and 20 forbearances of a few days, six
    more plaintiffs who all appeal, vacatur with remand, six more fresh-review events) runs
    without a stream running out, and no count exceeds its cap."""
    doc = rich()
    ban = doc["instruments"][0]
    short = {"dist": "uniform", "low": 1, "high": 5}
    ban["enforcement"].update(max_extensions=20, max_forbearances=20,
                              extend={"otherwise": 0.35}, forbear={"otherwise": 0.35},
                              lapse={"otherwise": 0.0}, forbearance_days=short,
                              extension_days=short)
    ban["court"].update(appeal_probability=1, reversal_probability=0.5,
                        vacatur_probability=0.8, remand_days=short, ruling_days=short,
                        appeal_days=short)
    ban["court"]["plaintiffs"] += [
        {"name": f"X{i}", "sue_probability": 0.9,
         "files_day": {"dist": "uniform", "low": -20, "high": 100}} for i in range(6)]
    doc["politics"] += [
        {"id": f"e{i}", "date": f"2020-{10 + i // 3}-{1 + 9 * (i % 3):02d}",
         "probability": 0.7, "fresh_review": True,
         "set": {"instruments.ban.enforcement.forbear.otherwise": 0.3}} for i in range(6)]
    s = scenario_from(doc)
    res = run(s, 1000, seed=59)
    assert res["extensions"].max() > 20  # the caps are really pushed (two tiers, an order)
    # each regime (the start and up to eight political events) has its own forbearances
    regimes = 1 + len(s.politics)
    assert res["extensions"].max() <= 2 * 20 + 3
    assert res["forbearances"].max() <= regimes * (2 * 20 + 1)
    assert res["forbearances"].max() > 2 * 20 + 1  # and a new regime does start its own
    assert res["suits"].max() <= 8 + 1
    assert res["deals_signed"].max() <= len(s.bidders) + 7


@pytest.mark.slow
def test_an_earlier_lenient_regime_is_no_worse_across_the_due_date():
    """The invariant "an earlier regime change toward leniency never lowers P(sale or
    unresolved)", across the due date, per replication. No bidder; a ban due on day 50
    lapses with ℓ₀ = 0.3; a certain election sets the lapse chance to ℓ₁ = 0.6. Held on day
    25, the one look on day 50 lapses iff its draw u < 0.6; held on day 70, the look on
    day 50 lapses iff u < 0.3, and the look again on day 70 replays u against 0.6: the
    same replications lapse, the late ones after 20 dark days. (Found by this test: the
    look on day 70 used to take a fresh draw, so the late election lapsed 0.72 of the
    bans and the earlier, as lenient one only 0.60.)"""
    def lapsed(when: int):
        s = scenario(nobody(150, f"""
          - id: ban
            kind: service_ban
            date: {day(50)}
            enforcement:
              lapse: {{otherwise: 0.3}}
        """, f"""
        politics:
          - id: election
            date: {day(when)}
            set: {{instruments.ban.enforcement.lapse.otherwise: 0.6}}
        """))
        return run(s, 4000, seed=57)
    early, late = lapsed(25), lapsed(70)
    np.testing.assert_array_equal(early["outcome"], late["outcome"])
    assert_proportion(count(early, UNRESOLVED), 4000, 0.6, "P(lapse)")
    unresolved = late["outcome"] == UNRESOLVED
    assert np.all(early["days_dark"][unresolved] == 0)
    assert set(np.unique(late["days_dark"][unresolved])) == {0.0, 20.0}


def test_nobody_sues_a_ban_held_for_an_approved_deal_on_its_due_day():
    """"Nobody sues an instrument held for an approved deal" (docs/model.md). B is
    approved on day 20 and closes on 40; the ban falls due on day 30, when the authority
    holds it for the closing deal; the parent's suit is due that same day (files_day 0,
    the default), so it must not be filed. Held the day before (files_day 1, day 31), it
    is not; and on day 30 neither. (Found by this test: the model filed it, suits 1,
    because the suit's timeout fired before the authority's wake-up at the same
    instant.)"""
    def suits(files_day: int) -> Played:
        text = SALE_AFTER_BAN.format(ban="2021-01-31", tiers="", arrives=5, hold="true")
        court = f"        court: {{plaintiffs: [{{name: P, files_day: {files_day}}}]}}\n"
        text = text.replace("        enforcement: {hold_for_approved_deal: true}\n",
                            "        enforcement: {hold_for_approved_deal: true}\n" + court)
        return play(scenario(text), 1, seed=1)[0]
    later = suits(1)
    assert later.outcome.suits == 0 and "lawsuit" not in later.kinds()
    due_day = suits(0)
    assert due_day.outcome.outcome == SALE and due_day.events("enforcement_held")
    assert due_day.outcome.suits == 0 and "lawsuit" not in due_day.kinds()


HELD_THEN_ENFORCED = f"""
    name: a suit due while the ban is held
    start: {day(0)}
    horizon_days: 200
    instruments:
      - id: ban
        kind: service_ban
        date: {day(30)}
        court:
          plaintiffs: [{{name: P, files_day: FILES_DAY}}]
          ruling_days: 5
          injunction_probability: 1
    parent: {{name: P, reservation_bn: 10}}
    bidders:
      - {{name: A, agreed_at_start: true, agreed_price_bn: 12, needs_export_licence: true}}
    home_government: {{approval_probability: 0, decision_days: 40}}
    committee: {{review_days: 10, investigation_probability: 0, clear_threshold: 0,
                mitigation_threshold: 0}}
    president: {{decision_days: 5}}
"""


def test_a_suit_due_while_the_ban_is_held_is_filed_once_it_bites():
    """Deterministic. A's deal is approved on day 15 and waits for its licence; the ban
    falls due on day 30 and is held for it; the licence is refused on day 40, the deal
    dies and the ban bites (dark). The parent sues at once with a certain injunction 5
    days later: filed on day 41 (files_day 11), the service is back on day 46 (unresolved,
    enjoined). Due on day 30 (files_day 0, the default), while the ban was held, the suit
    is never filed at all: no suit, a shutdown, 160 days dark. "Nobody sues an instrument
    held for an approved deal" should not mean nobody sues it once it is enforced."""
    late = play(scenario(HELD_THEN_ENFORCED.replace("FILES_DAY", "11")), 1, seed=1)[0].outcome
    assert late.suits == 1 and late.outcome == UNRESOLVED and late.days_dark == 6
    due_while_held = play(scenario(HELD_THEN_ENFORCED.replace("FILES_DAY", "0")), 1, seed=1)[0]
    assert due_while_held.outcome.suits == 1
    assert due_while_held.outcome.outcome == UNRESOLVED


@pytest.mark.slow
def test_a_lenient_regime_that_also_forbears_is_no_worse_before_the_due_date():
    """No bidder; a ban due on day 50 lapses with ℓ₀ = 0.3 (else enforced, dark); at most
    one forbearance of 20 days. A certain election raises the lapse chance to ℓ₁ = 0.4
    and the forbear chance from 0 to f₁ = 0.2: more lenient on both counts.

    Held on day 25 (before the due date): the look on day 50 forbears for u < 0.2, lapses
    for u in [0.2, 0.6); a forbearance ends on day 70 with a fresh look (the cap reached:
    lapse 0.4, else enforce): P(unresolved) = 0.4 + 0.2·0.4 = 0.48.
    Held on day 60 (after): the look on day 50 lapses for u < 0.3, for good; the replayed
    look on day 60 lifts the enforced ones (u ≥ 0.3) that the new chances would not have
    enforced, u in [0.3, 0.6), as lapses: P(unresolved) = 0.6.

    So the earlier, identical lenient regime lowers P(sale or unresolved) from 0.60 to
    0.48 (4,000 runs each: 0.604 against 0.484): the invariant "an earlier regime change
    toward leniency never lowers P(sale or unresolved)" fails, and docs/model.md's "a
    lenient regime counts the same whether it comes before the due date or after" holds
    for whether the ban is lifted, not for what it is lifted to."""
    def unresolved(when: int) -> int:
        s = scenario(nobody(200, f"""
          - id: ban
            kind: service_ban
            date: {day(50)}
            enforcement:
              lapse: {{otherwise: 0.3}}
              max_forbearances: 1
              forbearance_days: 20
        """, f"""
        politics:
          - id: election
            date: {day(when)}
            set: {{instruments.ban.enforcement.lapse.otherwise: 0.4,
                   instruments.ban.enforcement.forbear.otherwise: 0.2}}
        """))
        return count(run(s, 4000, seed=66), UNRESOLVED)
    assert unresolved(25) >= unresolved(60)


def test_a_political_event_may_not_push_a_stage_above_one():
    """The ban extends with 0.5 at every stage (once at most); an election sets its lapse
    chance to 0.8: extend + forbear + lapse = 1.3, which the loader refuses when the file
    itself says it ("extend + forbear + lapse can reach 1.3 at stage ..."). Set by an
    event it loads, and at a look that may still extend, the lapse the event asked for
    (0.8) is 0.5 in effect (the draws above the extension's 0.5). Expected: a one-line
    error naming politics[0].set and the stage."""
    text = nobody(200, f"""
          - id: ban
            kind: service_ban
            date: {day(50)}
            enforcement:
              extend: {{otherwise: 0.5}}
              max_extensions: 1
    """, f"""
        politics:
          - id: election
            date: {day(20)}
            set: {{instruments.ban.enforcement.lapse.otherwise: 0.8}}
    """)
    try:
        scenario(text, "set.yaml")
    except ScenarioError as exc:
        assert "politics[0].set.instruments.ban.enforcement.lapse.otherwise" in str(exc)
        assert "\n" not in str(exc)
        return
    raise AssertionError("loaded: the event's lapse chance of 0.8 is 0.5 in effect")
