"""Model v2, part 2 (the bargain), each mechanism against a closed form or an invariant.

Closed forms are derived in each test's docstring from docs/model.md and the actors'
code; a simulated frequency is checked inside its 99.9% exact (Clopper-Pearson) interval;
where the model is deterministic given the draws, the row is checked exactly against the
draws it used (``play`` replays the very replications ``simulate`` runs).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_proportion, count, day, play, run, scenario

from sim.errors import ScenarioError
from sim.model.outcome import ABANDONED, SALE, UNRESOLVED
from sim.scenario.loading import parse_scenario

N = 4000


def pending(refile: str, assurance: float = 0.1, extra: str = "") -> str:
    """A pending transaction the committee would block (assurance under both thresholds),
    a President who always blocks a blocked deal, and parties who may refile."""
    return f"""
        name: refile
        start: {day(0)}
        horizon_days: 2000
        subject: pending_transaction
        parent: {{name: Seller, reservation_bn: 1}}
        bidders:
          - name: Buyer
            agreed_at_start: true
            agreed_price_bn: 2
            security_assurance: {assurance}
            refile: {refile}
{extra}
        committee: {{review_days: 30, investigation_probability: 0, clear_threshold: 0.7,
                    mitigation_threshold: 0.4}}
        president: {{decision_days: 5, abandon_days: 0, on_block: {{block: 1}}}}
    """


# --- withdraw and refile ----------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize(("r", "cap"), [(0.6, 3), (0.3, 1)])
def test_a_refile_cycle_with_chance_r_and_cap_k(r, cap):
    """Every filing is recommended for a block; before taking it the parties withdraw and
    refile with chance r, at most k times. So the number of refilings N is geometric cut
    at k: P(N = j) = r^j (1 - r) for j < k and P(N = k) = r^k; and the deal is abandoned
    on day 75 + N (20 + 75) + 5 exactly (each filing has a 30-day review and, since the
    committee blocks only after one, a 45-day investigation; each refiling waits 20 days;
    the President takes 5 days and the abandonment 0)."""
    s = scenario(pending(f"{{probability: {r}, max: {cap}, days: 20}}"))
    res = run(s, N, seed=61)
    assert count(res, ABANDONED) == N
    refiled = res["refilings"].astype(int)
    for j in range(cap + 1):
        exact = r ** j * (1 - r) if j < cap else r ** cap
        assert_proportion(int(np.sum(refiled == j)), N, exact, f"P(N = {j})")
    np.testing.assert_allclose(res["day"], 75 + refiled * 95 + 5)
    assert np.all(res["phases"] == 2)


def test_a_refiling_with_better_terms_can_clear():
    """Assurance 0.3 (block) and each refiling adds 0.25: after one refiling the deal reads
    0.55 (mitigation: accepted at once), after two 0.8 (clear). With chance 1 and cap 2 the
    parties refile once (the second filing is not a block), mitigation is accepted and
    the deal closes: every run is a sale after exactly one refiling."""
    s = scenario(pending("{probability: 1, max: 2, days: 10, improvement: 0.25}", 0.3)
                 .replace("on_block: {block: 1}", "on_block: {block: 1}, on_clear: {}"))
    res = run(s, 500, seed=62)
    assert count(res, SALE) == 500
    assert np.all(res["refilings"] == 1) and np.all(res["mitigation_rounds"] == 1)


# --- mitigation as a negotiation --------------------------------------------------------

def mitigation(q: float, c: float, rounds: int, refile: str = "{}") -> str:
    return f"""
        name: mitigation
        start: {day(0)}
        horizon_days: 1000
        parent: {{name: P, reservation_bn: 1}}
        bidders:
          - name: B
            agreed_at_start: true
            agreed_price_bn: 2
            security_assurance: 0.5
            mitigation_acceptance_probability: {q}
            mitigation_counter_share: {c / (1 - q) if q < 1 else 0}
            refile: {refile}
        committee: {{review_days: 10, investigation_probability: 0, clear_threshold: 0.7,
                    mitigation_threshold: 0.4, mitigation_days: 7,
                    max_mitigation_rounds: {rounds},
                    assessment: {{data_localisation: 0.05, trusted_partner: 0.1}}}}
        president: {{decision_days: 5, on_block: {{block: 1}}}}
        closing: {{days: 10}}
    """


@pytest.mark.slow
@pytest.mark.parametrize(("q", "c", "rounds"), [(0.3, 0.5, 3), (0.6, 0.2, 1), (0.2, 0.7, 5)])
def test_a_mitigation_round_that_succeeds_with_q(q, c, rounds):
    """Each round: accepted with q, countered with c (another round), refused otherwise;
    after the last countered round the committee recommends blocking. So P(accepted) =
    q (1 - c^R) / (1 - c): the only way to a sale (a refused deal dies, a blocked one is
    blocked). The rounds played are min(first round not countered, R), and a sale closes
    on day 10 + 7 k + 5 + 10 after k rounds."""
    s = scenario(mitigation(q, c, rounds))
    res = run(s, N, seed=63)
    assert_proportion(count(res, SALE), N, q * (1 - c ** rounds) / (1 - c), "P(accepted)")
    k = res["mitigation_rounds"]
    assert np.all((k >= 1) & (k <= rounds))
    for j in range(1, rounds + 1):
        exact = c ** (j - 1) * (1 - c) if j < rounds else c ** (rounds - 1)
        assert_proportion(int(np.sum(k == j)), N, exact, f"P({j} rounds)")
    sale = res["outcome"] == SALE
    np.testing.assert_allclose(res["day"][sale], 10 + 7 * k[sale] + 5 + 10)


def test_mitigation_asks_for_the_terms_the_committee_credits_and_the_deal_gains_them():
    """The committee credits data localisation and a trusted partner; the deal has
    neither, so round one asks for both, and an accepted round records both as agreed."""
    s = scenario(mitigation(1.0, 0.0, 1))
    for p in play(s, 20, seed=64):
        (_, asked), = p.events("mitigation_round")
        assert asked["asks"] == ["data_localisation", "trusted_partner"]
        (_, agreed), = p.events("mitigation_agreed")
        assert agreed["terms"] == ["data_localisation", "trusted_partner"]
        assert p.outcome.outcome == SALE


def test_a_refused_mitigation_may_be_refiled_instead_of_killing_the_deal():
    """q = 0, c = 0: every round is refused. Without a refile the deal dies (unresolved,
    no other bidder); with refile chance 1 and improvement 0.3 the refiled deal reads 0.8
    and clears: every run a sale after one refiling."""
    dead = run(scenario(mitigation(0.0, 0.0, 1)), 300, seed=65)
    assert count(dead, UNRESOLVED) == 300 and np.all(dead["deals_signed"] == 1)
    saved = run(scenario(mitigation(0.0, 0.0, 1, "{probability: 1, max: 1, days: 5, "
                                                 "improvement: 0.3}")), 300, seed=65)
    assert count(saved, SALE) == 300 and np.all(saved["refilings"] == 1)


# --- what the law accepts ----------------------------------------------------------------

def qualifying(stake: float, lapse: float, test: str) -> str:
    """An agreed deal in which the parent keeps ``stake``, approved by day 20, against a
    divestiture order due on day 60 that lapses with chance ``lapse`` (else penalties:
    the business runs on, nothing else can end the order)."""
    structure = ("full_acquisition" if stake == 0 else "majority" if stake < 0.5
                 else "minority_partnership")
    return f"""
        name: qualifying
        start: {day(0)}
        horizon_days: 400
        instruments:
          - id: order
            kind: divestiture_order
            date: {day(60)}
            enforcement: {{lapse: {{otherwise: {lapse}}}, trustee_probability: 0}}
            qualifying: {test}
        parent: {{name: P, reservation_bn: 1}}
        bidders:
          - name: B
            agreed_at_start: true
            agreed_price_bn: 10
            structure: {structure}
            terms: {{parent_stake: {stake}, technology: licensed}}
            security_assurance: 0.9
        committee: {{review_days: 10, investigation_probability: 0}}
        president: {{decision_days: 5}}
        closing: {{days: 5}}
    """


@pytest.mark.slow
@pytest.mark.parametrize(("stake", "test", "qualifies"), [
    (0.8, "{max_parent_stake: 0}", False),  # a section 721 order: no interest retained
    (0.199, "{max_parent_stake: 0.199}", True),  # the 2024 Act: under 20% qualifies ...
    (0.2, "{max_parent_stake: 0.199}", False),  # ... 20% is control
    (0.1, "{max_parent_stake: 0.199, technology: [transferred, rebuilt]}", False),
    (0.1, "{max_parent_stake: 0.199, technology: [transferred, licensed]}", True),
])
def test_a_deal_that_fails_the_instruments_test_never_ends_as_a_sale(stake, test, qualifies):
    """A qualifying deal closes on day 10 + 5 + 5 = 20 in every run. One that fails waits
    (approved, stalled) for the order to end: it lapses on day 60 with chance 0.3 and the
    deal closes on day 65; otherwise penalties run to the horizon, no sale. So P(sale) is
    1 or exactly the lapse chance, and every sale made while the order was live qualifies."""
    s = scenario(qualifying(stake, 0.3, test))
    res = run(s, N, seed=66)
    sale = res["outcome"] == SALE
    if qualifies:
        assert sale.all() and np.all(res["day"] == 20)
        return
    assert_proportion(int(sale.sum()), N, 0.3, "P(the order lapses)")
    np.testing.assert_array_equal(res["day"][sale], 65)
    assert np.all(res["state"][~sale] > 0)
    for p in play(s, 50, seed=66):
        (_, why), = p.events("does_not_qualify")
        assert why["unmet"][0][0] == 0 and why["unmet"][0][1]  # the order, with reasons


def test_the_authority_does_not_hold_for_a_deal_that_fails_its_test():
    """A ban held for an approved deal (the default) is not held for one that fails its
    test: it bites on its date (day 60) though the deal was approved on day 15, and the
    deal never closes. The qualifying twin is held, and closes."""
    ban = qualifying(0.8, 0.0, "{max_parent_stake: 0}").replace(
        "kind: divestiture_order", "kind: service_ban")
    res = run(scenario(ban), 300, seed=67)
    assert np.all(res["outcome"] != SALE) and np.all(res["days_dark"] > 0)
    fine = run(scenario(ban.replace("{max_parent_stake: 0}", "{}")), 300, seed=67)
    assert np.all(fine["outcome"] == SALE) and np.all(fine["days_dark"] == 0)


def test_the_parent_does_not_bargain_toward_a_deal_the_law_would_not_accept():
    """Two bidders against a ban whose test allows the parent at most 0%: the one offering
    a majority stake (parent keeps 30%) is never signed, however rich; the full buyer is."""
    s = scenario(f"""
        name: law
        start: {day(0)}
        horizon_days: 300
        instruments:
          - {{id: ban, kind: service_ban, date: {day(100)}, qualifying: {{max_parent_stake: 0}}}}
        parent: {{name: P, reservation_bn: 10}}
        bidders:
          - {{name: Rich, valuation_bn: 40, structure: majority, terms: {{parent_stake: 0.3}}}}
          - {{name: Full, valuation_bn: 16}}
        committee: {{review_days: 10, investigation_probability: 0}}
    """)
    res = run(s, 500, seed=68)
    assert np.all(res["winner"] != 0) and count(res, SALE) > 400


# --- terms, prices and what each side values --------------------------------------------

def test_price_is_reported_per_100_percent_and_for_the_stake_sold():
    """An agreed price of 20 bn per 100% for a deal in which the parent keeps 80%: the
    stake sold is worth 4 bn."""
    s = scenario(qualifying(0.8, 0.0, "{}"))
    res = run(s, 200, seed=69)
    assert np.all(res["price_bn"] == 10) and np.allclose(res["stake_price_bn"], 2.0)
    assert np.allclose(res["parent_stake"], 0.8) and np.all(res["technology"] == 1)


@pytest.mark.slow
@pytest.mark.parametrize(("technology", "chance"), [("transferred", 0.2), ("licensed", 0.6),
                                                    ("rebuilt", 0.6)])
def test_a_licensed_algorithm_eases_the_licence(technology, chance):
    """The structure's licence chance is 0.2; a licensed algorithm is named at 0.6, and
    that easing carries to a rebuilt one (it sells even less). The licence is granted iff
    the stance is below the chance: P(sale) = the chance."""
    s = scenario(f"""
        name: licence
        start: {day(0)}
        horizon_days: 300
        parent: {{name: P, reservation_bn: 1}}
        bidders:
          - {{name: B, agreed_at_start: true, agreed_price_bn: 2, needs_export_licence: true,
              terms: {{technology: {technology}}}, security_assurance: 0.9}}
        home_government: {{approval_probability: 0.2,
                           approval_by_technology: {{licensed: 0.6}}, decision_days: 5}}
        committee: {{review_days: 10, investigation_probability: 0}}
    """)
    res = run(s, N, seed=70)
    assert_proportion(count(res, SALE), N, chance, "P(licence)")


def walk_away(discount: float, delay: float = 0.0, horizon: int = 300) -> str:
    """A bidder whose offer is its value (8 bn) from the start and a parent whose demand is
    its walk-away (aspiration 1), reservation uniform(5, 15), against a ban on day 100."""
    return f"""
        name: walk-away
        start: {day(0)}
        horizon_days: {horizon}
        instruments: [{{id: ban, kind: service_ban, date: {day(100)}}}]
        parent:
          name: P
          reservation_bn: {{dist: uniform, low: 5, high: 15}}
          aspiration_multiple: 1
          threat_discount: {discount}
          delay_cost_per_year: {delay}
        bidders: [{{name: B, valuation_bn: 8, opening_fraction: 1, security_assurance: 0.9}}]
        committee: {{review_days: 10, investigation_probability: 0}}
        president: {{decision_days: 5}}
        closing: {{days: 5}}
    """


@pytest.mark.slow
@pytest.mark.parametrize("discount", [0.0, 0.3])
def test_the_walk_away_falls_as_the_threat_nears(discount):
    """The walk-away is R (1 - d tau): by the deadline it is R (1 - d), so they agree iff
    R (1 - d) <= 8: P(sale) = (8 / (1 - d) - 5) / 10 (0.3 with no discount, 0.643 with
    d = 0.3); the deal is then cleared and closes 20 days later."""
    res = run(scenario(walk_away(discount)), N, seed=71)
    assert_proportion(count(res, SALE), N, (8 / (1 - discount) - 5) / 10, "P(sale)")


@pytest.mark.slow
def test_the_cost_of_delay_lowers_the_walk_away_with_time():
    """With no discount and a delay cost c = 0.5 a year the walk-away is R (1 - c t / 365)
    from the order on: they agree on day t* = 365 (1 - 8 / R) / c (at once if R <= 8), and
    the sale closes 20 days later, before the horizon of 300 iff t* <= 280, that is
    R <= 8 / (1 - 280 c / 365): P(sale) = (8 / (1 - 0.3836) - 5) / 10."""
    res = run(scenario(walk_away(0.0, 0.5)), N, seed=72)
    exact = (8 / (1 - 280 * 0.5 / 365) - 5) / 10
    assert_proportion(count(res, SALE), N, exact, "P(sale)")
    r = res["input.parent.reservation_bn"]
    sale = res["outcome"] == SALE
    agreed = np.maximum(365 * (1 - 8 / r[sale]) / 0.5, 0.0)
    np.testing.assert_allclose(res["day"][sale], agreed + 20, atol=1e-4)


@pytest.mark.parametrize(("minority", "tech"), [(1.0, 1.0), (0.5, 1.0), (1.0, 0.6)])
def test_a_bidders_value_depends_on_the_stake_and_the_technology(minority, tech):
    """A minority stake with a licensed algorithm is worth 16 x minority x tech per 100%
    to the bidder; against a walk-away of 8 (aspiration 1, opening 1: offer = value at
    once) they agree at once iff that value is at least 8, at the midpoint price."""
    s = scenario(f"""
        name: value
        start: {day(0)}
        horizon_days: 300
        instruments: [{{id: ban, kind: service_ban, date: {day(100)}}}]
        parent: {{name: P, reservation_bn: 8, aspiration_multiple: 1}}
        bidders:
          - {{name: B, valuation_bn: 16, opening_fraction: 1, structure: minority_partnership,
              terms: {{parent_stake: 0.6, technology: licensed}}, minority_value: {minority},
              technology_value: {{licensed: {tech}}}, security_assurance: 0.9}}
        committee: {{review_days: 10, investigation_probability: 0}}
    """)
    res = run(s, 200, seed=73)
    value = 16 * minority * tech
    assert np.all(res["outcome"] == SALE)
    np.testing.assert_allclose(res["price_bn"], 0.5 * (value + 8))
    np.testing.assert_allclose(res["stake_price_bn"], 0.4 * 0.5 * (value + 8))


@pytest.mark.slow
def test_a_higher_valuation_never_lowers_that_bidders_chance_to_win():
    """Common random numbers: the same seed, one bidder's valuation raised step by step;
    its share of wins never falls (the realistic competition of two bidders)."""
    wins = []
    for v in (14, 18, 22, 26, 30):
        s = scenario(f"""
            name: crn
            start: {day(0)}
            horizon_days: 365
            instruments: [{{id: ban, kind: service_ban, date: {day(120)},
                            enforcement: {{extend: {{otherwise: 0.5}}, max_extensions: 2}}}}]
            parent: {{name: P, reservation_bn: {{dist: lognormal, median: 20, sigma: 0.2}},
                      concession_exponent: 0.5, threat_discount: 0.2}}
            bidders:
              - {{name: A, valuation_bn: {v},
                  security_assurance: {{dist: uniform, low: 0.3, high: 1}}}}
              - {{name: B, valuation_bn: {{dist: uniform, low: 15, high: 30}},
                  arrives_day: {{dist: uniform, low: 0, high: 60}}}}
            committee: {{review_days: 20, mitigation_days: 10}}
        """)
        wins.append(float(np.mean(run(s, 2000, seed=74)["winner"] == 0)))
    assert wins == sorted(wins) and wins[-1] > wins[0] + 0.2, wins


# --- bargaining toward the expected deadline ---------------------------------------------

def clustering(extend: float) -> np.ndarray:
    """Agreement days of one bidder and the parent, both Boulware (exponent 0.1), against a
    ban due on day 100 that is extended by 60 days with chance ``extend``."""
    s = scenario(f"""
        name: cluster
        start: {day(0)}
        horizon_days: 400
        instruments:
          - id: ban
            kind: service_ban
            date: {day(100)}
            enforcement: {{extend: {{otherwise: {extend}}}, max_extensions: 1,
                          extension_days: 60}}
        parent: {{name: P, reservation_bn: {{dist: uniform, low: 8, high: 12}},
                  concession_exponent: 0.1}}
        bidders:
          - {{name: B, valuation_bn: {{dist: uniform, low: 10, high: 16}},
              concession_exponent: 0.1}}
    """)
    res = run(s, N, seed=75)
    return res["agreement_day"][~np.isnan(res["agreement_day"])]


@pytest.mark.slow
def test_a_firm_deadline_clusters_agreements_at_its_end_and_a_likely_extension_weakens_it():
    """Roth, Murnighan & Schoumaker (1988): with a firm deadline most agreements come in the
    last tenth of the bargaining window (days 90-100). With an 80% chance of a 60-day
    extension the parties bargain toward the expected day (148): fewer agree in that last
    tenth (Yildiz 2004), and some agree only after the extension."""
    firm, soft = clustering(0.0), clustering(0.8)
    share_firm = float(np.mean((firm >= 90) & (firm <= 100)))
    share_soft = float(np.mean((soft >= 90) & (soft <= 100)))
    assert share_firm > 0.8, share_firm
    assert share_soft < share_firm - 0.4, (share_firm, share_soft)
    assert np.mean(soft > 100) > 0.2


# --- suitors that change -----------------------------------------------------------------

@pytest.mark.slow
def test_a_consortium_forms_at_a_known_rate():
    """A partner joins the agreed bid with chance 0.6 on a day exponential with mean 40;
    the President approves on day 10 + 15 = 25 (review, decision) and approved terms are
    not reopened, so the partner's 7.5% counts only if it joined before: P(the parent
    keeps 72.5%) = 0.6 (1 - e^(-25/40)); the sale closes on day 55 either way."""
    s = scenario(f"""
        name: consortium
        start: {day(0)}
        horizon_days: 300
        parent: {{name: P, reservation_bn: 1}}
        bidders:
          - {{name: Oracle, agreed_at_start: true, agreed_price_bn: 20,
              structure: minority_partnership, terms: {{parent_stake: 0.8}},
              security_assurance: 0.9}}
          - name: Walmart
            joins: {{bidder: Oracle, probability: 0.6, day: {{dist: exponential, mean: 40}},
                    stake: 0.075, assurance: 0.05}}
        committee: {{review_days: 10, investigation_probability: 0}}
    """)
    res = run(s, N, seed=76)
    assert count(res, SALE) == N
    joined = np.isclose(res["parent_stake"], 0.725)
    assert np.all(joined | np.isclose(res["parent_stake"], 0.8))
    assert_proportion(int(joined.sum()), N, 0.6 * (1 - math.exp(-25 / 40)), "P(joined)")
    assert np.all(res["day"] == 55)


@pytest.mark.slow
def test_new_bidders_arrive_as_a_renewal_process():
    """Entrants arrive gap_days apart (exponential, mean 50, at most 3). A parent that sells
    to the first one at once (its value 12 against a walk-away of 10) sells on the first
    arrival: the sale day is the first gap plus review and closing (10 + 30), so P(sale
    by the horizon 200) = 1 - e^(-160/50), and nobody else ever wins."""
    s = scenario(f"""
        name: entrants
        start: {day(0)}
        horizon_days: 200
        instruments: [{{id: ban, kind: service_ban, date: {day(150)}}}]
        parent: {{name: P, reservation_bn: 10, aspiration_multiple: 1}}
        entrants:
          gap_days: {{dist: exponential, mean: 50}}
          max: 3
          template: {{name: Newcomer, valuation_bn: 12, opening_fraction: 1,
                      security_assurance: 0.9}}
        committee: {{review_days: 10, investigation_probability: 0}}
        president: {{decision_days: 0}}
    """)
    res = run(s, N, seed=77)
    sale = res["outcome"] == SALE
    assert_proportion(int(sale.sum()), N, 1 - math.exp(-160 / 50), "P(sale)")
    assert np.all(res["winner"][sale] == 0)
    np.testing.assert_allclose(res["day"][sale] - 40, res["input.entrants.gap_days"][sale])


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize(("patch", "where", "words"), [
    ("terms: {parent_stake: 0.6}", "bidders[0].terms.parent_stake", "does not make a majority"),
    ("structure: minority_partnership", "bidders[0].terms.parent_stake", "required"),
    ("terms: {technology: sold}", "bidders[0].terms.technology", "allowed"),
    ("mitigation_counter_share: 1.5", "bidders[0].mitigation_counter_share", "1.5"),
    ("joins: {bidder: Nobody}", "bidders[0].joins.bidder", "not another bidder"),
    ("refile: {max: 11}", "bidders[0].refile.max", "less than or equal to 10"),
    ("us_share: 0.2", "bidders[0].us_share", "terms.parent_stake"),
])
def test_bad_bargain_keys_get_one_line(patch, where, words):
    text = f"""
name: bad
start: {day(0)}
horizon_days: 100
parent: {{name: P, reservation_bn: 1}}
bidders:
  - name: B
    valuation_bn: 2
    structure: majority
    terms: {{parent_stake: 0.3}}
    mitigation_acceptance_probability: 0.8
"""
    key = patch.split(":")[0]
    lines = [ln for ln in text.splitlines() if not ln.strip().startswith(key + ":")]
    text = "\n".join(lines) + f"\n    {patch}\n"
    if key == "structure":
        text = text.replace("    terms: {parent_stake: 0.3}\n", "")
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "bad.yaml")
    message = str(err.value)
    assert "\n" not in message and where in message and words in message, message
