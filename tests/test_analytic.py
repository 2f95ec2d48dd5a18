"""Cases with closed forms, checked against Monte Carlo with a 99.9% exact interval.

The base case: one bidder arriving at A ~ Exponential(mean m); the parent's demand is its
reservation throughout (aspiration_multiple 1) and the bidder's opening offer is far above
it, so they sign on arrival. The committee always clears (thresholds 0), the review takes
r days, the president d days and approves with probability p (a clear recommendation is
followed with probability p), closing takes c days. So a signed deal closes at A + K with
K = r + d + c, if approved. One ban deadline at day D, horizon H > D.

From the code (sim/actors/*.py), with F the exponential CDF:
* a deal closes before the deadline iff A + K < D (ties have probability zero);
* at D without a sale the deadline extends (deadline.py), else enforcement starts and the
  parent sues or not (court.py): no suit, or a suit without injunction, is a shutdown at D;
* an injunction that lasts past the horizon does not stop the approvals: a deal signed
  before (or after) D can still close before H and be a sale;
* the decision draws (president, extension, suit, injunction, investigation) are separate
  uniforms, independent of each other and of A.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from conftest import (
    assert_outcomes,
    assert_proportion,
    count,
    day,
    run,
    scenario_from,
)
from scipy import stats

from sim.outcome import SALE, SHUTDOWN, UNRESOLVED

M, R, D_PRES, C = 30.0, 5.0, 10.0, 7.0  # mean arrival, review, president, closing days
K = R + D_PRES + C
P = 0.8  # president follows a clear recommendation
D, H = 100.0, 250.0  # deadline day, horizon
N = 4000


def F(t: float, mean: float = M) -> float:
    """Exponential CDF of the arrival day."""
    return 1.0 - math.exp(-t / mean) if t > 0 else 0.0


def base(**court: Any) -> dict[str, Any]:
    """The one-bidder case as a mapping; tests edit it."""
    return {
        "name": "analytic",
        "start": day(0),
        "horizon_days": H,
        "deadlines": [{"id": "ban", "date": day(D),
                       "court": court or {"sue_probability": 0.0}}],
        "parent": {"name": "P", "reservation_bn": 10, "aspiration_multiple": 1},
        "bidders": [{"name": "B", "arrives_day": {"dist": "exponential", "mean": M},
                     "valuation_bn": 100}],
        "committee": {"review_days": R, "investigation_probability": 0.0,
                      "clear_threshold": 0.0, "mitigation_threshold": 0.0},
        "president": {"follows_recommendation_probability": P, "decision_days": D_PRES},
        "closing": {"days": C},
    }


def test_one_bidder_one_deadline():
    """a. P(sale) = p·F(D − K), everything else shuts down at D, nothing is unresolved."""
    res = run(scenario_from(base()), N, seed=11)
    p_sale = P * F(D - K)
    assert_outcomes(res, {SALE: p_sale, SHUTDOWN: 1 - p_sale, UNRESOLVED: 0.0})
    sale = res["outcome"] == SALE
    assert np.all(res["day"][~sale] == D), "a shutdown happens on the deadline day"
    assert np.all(res["winner"][sale] == 0)
    # signed on arrival: the agreement day is the arrival day
    arrived = res["input.bidders.B.arrives_day"]
    signed = ~np.isnan(res["agreement_day"])
    np.testing.assert_allclose(res["agreement_day"][signed], arrived[signed])
    assert np.all(arrived[signed] < D)


def test_sale_days_are_truncated_exponential():
    """a'. Given a sale, sale day − K is Exponential(m) truncated to [0, D − K]."""
    res = run(scenario_from(base()), N, seed=12)
    sale = res["outcome"] == SALE
    x = res["day"][sale] - K
    T = D - K
    np.testing.assert_allclose(x, res["input.bidders.B.arrives_day"][sale], atol=1e-9)
    assert x.min() >= 0 and x.max() < T
    trunc = stats.truncexpon(b=T / M, scale=M)
    assert stats.kstest(x, trunc.cdf).pvalue > 1e-3
    mean = M - T * math.exp(-T / M) / (1 - math.exp(-T / M))
    sem = trunc.std() / math.sqrt(len(x))
    assert abs(x.mean() - mean) < 4 * sem


def test_injunction_past_the_horizon():
    """b. The parent always sues; an injunction (probability q) outlasts the horizon.

    With an injunction the approvals go on, so a deal closes as a sale if A + K < H:
    P(sale) = p·[(1 − q)·F(D − K) + q·F(H − K)],
    P(unresolved) = q·(1 − p·F(H − K)),  P(shutdown) = (1 − q)·(1 − p·F(D − K)).
    (Note: the naive (1 − P(sale))·q is wrong for this model, because a sale can still
    close while the ban is enjoined.)
    """
    q = 0.3
    res = run(scenario_from(base(sue_probability=1.0, injunction_probability=q)), N, seed=13)
    assert_outcomes(res, {
        SALE: P * ((1 - q) * F(D - K) + q * F(H - K)),
        SHUTDOWN: (1 - q) * (1 - P * F(D - K)),
        UNRESOLVED: q * (1 - P * F(H - K)),
    })
    unresolved = res["outcome"] == UNRESOLVED
    assert np.all(res["injunction"][unresolved])
    assert np.all(res["day"][unresolved] == H)
    late_sale = (res["outcome"] == SALE) & (res["day"] >= D)
    assert late_sale.any() and np.all(res["injunction"][late_sale])


def test_injunction_lifted_before_the_horizon():
    """b'. An injunction of L_i days: the ban bites at D + L_i unless a sale closed first.

    P(sale) = p·[(1 − q)·F(D − K) + q·F(D + L_i − K)], nothing unresolved.
    """
    q, lasts = 0.4, 60.0
    doc = base(sue_probability=1.0, injunction_probability=q, injunction_days=lasts)
    res = run(scenario_from(doc), N, seed=14)
    p_sale = P * ((1 - q) * F(D - K) + q * F(D + lasts - K))
    assert_outcomes(res, {SALE: p_sale, SHUTDOWN: 1 - p_sale, UNRESOLVED: 0.0})
    shut = res["outcome"] == SHUTDOWN
    assert set(np.unique(res["day"][shut])) <= {D, D + lasts}
    np.testing.assert_array_equal(res["day"][shut] == D + lasts, res["injunction"][shut])


@pytest.mark.parametrize(("e_in", "e_out", "length"), [
    (0.0, 0.35, 40.0),  # extension only when no deal is in progress
    (0.6, 0.35, 40.0),  # L > K: an extended deal in progress always makes it
    (0.6, 0.35, 12.0),  # L < K: a deal signed in [D + L − K, D) misses even if extended
])
def test_one_extension(e_in, e_out, length):
    """c. One extension of L days: probability e_in if a deal is in progress at D, else e_out.

    An approved deal signed at A is in progress on [A, A + K). At D:
    * A < D − K: already sold;
    * D − K ≤ A < D: in progress, extended with e_in; sold iff A + K < D + L;
    * A ≥ D: nothing in progress (the bidder is not there yet), extended with e_out;
      sold iff A + K < D + L.
    (A deal the president rejects never sells, whatever the deadline does.)
    P(sale) = p·[F(D − K) + e_in·(F(min(D, D + L − K)) − F(D − K))⁺
                 + e_out·(F(D + L − K) − F(D))⁺].
    """
    doc = base()
    doc["deadlines"][0]["extension"] = {
        "probability_if_deal_in_progress": e_in, "probability_otherwise": e_out,
        "days": length, "max_extensions": 1}
    res = run(scenario_from(doc), N, seed=15)
    p_sale = P * (F(D - K)
                  + e_in * max(F(min(D, D + length - K)) - F(D - K), 0.0)
                  + e_out * max(F(D + length - K) - F(D), 0.0))
    assert_outcomes(res, {SALE: p_sale, SHUTDOWN: 1 - p_sale, UNRESOLVED: 0.0})
    assert set(np.unique(res["extensions"])) <= {0, 1}
    shut = res["outcome"] == SHUTDOWN
    np.testing.assert_array_equal(res["day"][shut], np.where(res["extensions"][shut] == 1,
                                                             D + length, D))
    # sales after the original deadline were all given the extension
    assert np.all(res["extensions"][(res["outcome"] == SALE) & (res["day"] > D)] == 1)


@pytest.mark.parametrize(("pi", "inv_days", "rho", "ext_days"), [
    (0.5, 45.0, 0.0, 15.0),
    (0.7, 30.0, 0.4, 15.0),  # with the committee's extraordinary extension too
])
def test_investigation(pi, inv_days, rho, ext_days):
    """d. Investigation with probability π (I days), then an extension with ρ (E days):
    P(sale) = p·[(1 − π)·F(D − K) + π(1 − ρ)·F(D − K − I) + πρ·F(D − K − I − E)].
    """
    doc = base()
    doc["committee"].update(investigation_probability=pi, investigation_days=inv_days,
                            extension_probability=rho, extension_days=ext_days)
    res = run(scenario_from(doc), N, seed=16)
    p_sale = P * ((1 - pi) * F(D - K) + pi * (1 - rho) * F(D - K - inv_days)
                  + pi * rho * F(D - K - inv_days - ext_days))
    assert_outcomes(res, {SALE: p_sale, SHUTDOWN: 1 - p_sale, UNRESOLVED: 0.0})
    signed = ~np.isnan(res["agreement_day"])
    assert set(np.unique(res["phases"][signed])) <= {1, 2, 3}
    if rho == 0:
        assert not np.any(res["phases"] == 3)
    sale = res["outcome"] == SALE
    extra = np.select([res["phases"] == 1, res["phases"] == 2],
                      [0.0, inv_days], inv_days + ext_days)
    np.testing.assert_allclose(res["day"][sale],
                               res["agreement_day"][sale] + K + extra[sale])


def test_mitigation():
    """e. The committee demands mitigation (assurance 0.5 between the thresholds): M more
    days, accepted with probability α, then cleared: P(sale) = α·p·F(D − K − M)."""
    alpha, mdays = 0.6, 20.0
    doc = base()
    doc["committee"].update(clear_threshold=0.9, mitigation_threshold=0.1,
                            mitigation_days=mdays)
    doc["bidders"][0].update(security_assurance=0.5, mitigation_acceptance_probability=alpha)
    res = run(scenario_from(doc), N, seed=17)
    p_sale = alpha * P * F(D - K - mdays)
    assert_outcomes(res, {SALE: p_sale, SHUTDOWN: 1 - p_sale, UNRESOLVED: 0.0})


def test_blocked_deal_needs_the_president_to_overrule():
    """e'. Assurance below the mitigation threshold: block, approved only with 1 − p."""
    doc = base()
    doc["committee"].update(clear_threshold=0.9, mitigation_threshold=0.8)
    doc["bidders"][0]["security_assurance"] = 0.5
    res = run(scenario_from(doc), N, seed=18)
    assert_proportion(count(res, SALE), N, (1 - P) * F(D - K), "P(sale)")


def test_export_licence():
    """f. A licence (probability h, t_h days) runs beside the review; closing waits for
    both: P(sale) = h·p·F(D − max(r + d, t_h) − c)."""
    h, t_h = 0.7, 40.0
    doc = base()
    doc["home_government"] = {"approval_probability": h, "decision_days": t_h}
    doc["bidders"][0]["needs_export_licence"] = True
    res = run(scenario_from(doc), N, seed=19)
    p_sale = h * P * F(D - max(R + D_PRES, t_h) - C)
    assert_outcomes(res, {SALE: p_sale, SHUTDOWN: 1 - p_sale, UNRESOLVED: 0.0})
    sale = res["outcome"] == SALE
    assert np.all(res["home_approved"][sale] == 1)
    np.testing.assert_allclose(res["day"][sale],
                               res["agreement_day"][sale] + max(R + D_PRES, t_h) + C)


def test_enforcement_may_lapse():
    """g. The ban is enforced with probability ε; otherwise it lapses and the deal may
    close until the horizon: P(sale) = p·[F(D − K) + (1 − ε)·(F(H − K) − F(D − K))],
    P(unresolved) = (1 − ε)·(1 − p·F(H − K))."""
    eps = 0.45
    doc = base()
    doc["deadlines"][0]["enforcement_probability"] = eps
    res = run(scenario_from(doc), N, seed=20)
    assert_outcomes(res, {
        SALE: P * (F(D - K) + (1 - eps) * (F(H - K) - F(D - K))),
        SHUTDOWN: eps * (1 - P * F(D - K)),
        UNRESOLVED: (1 - eps) * (1 - P * F(H - K)),
    })


def test_agreed_at_start_closes_on_a_fixed_day():
    """h. A deal agreed on day 0 closes at K exactly, with probability p, at its price."""
    doc = base()
    doc["bidders"][0].update(arrives_day=0, agreed_at_start=True, agreed_price_bn=42)
    res = run(scenario_from(doc), N, seed=21)
    assert_proportion(count(res, SALE), N, P, "P(sale)")
    sale = res["outcome"] == SALE
    assert np.all(res["day"][sale] == K)
    assert np.all(res["price_bn"][sale] == 42)
    # signed before the run, not by bargaining: no agreement timing is recorded
    assert np.all(res["deals_signed"] == 1)
    assert np.all(np.isnan(res["agreement_day"]))
    assert np.all(np.isnan(res["agreement_vs_deadline"]))
