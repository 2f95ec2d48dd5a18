"""Cases with closed forms, checked against Monte Carlo with a 99.9% exact interval.

The base case: one bidder arriving at A ~ Exponential(mean m); the parent's demand is its
reservation throughout (aspiration_multiple 1) and the bidder's opening offer is far above
it, so they sign on arrival. The committee always clears (thresholds 0), the review takes
r days, the president d days and approves a cleared deal with probability p (his
``on_clear`` shares block 1 − p), closing takes c days. So a signed deal closes at
A + K with K = r + d + c, if approved. One instrument falls due on day D, horizon H > D.

Model v2 (docs/model.md): what the deadline does depends on the instrument's kind.

* A ``transaction_termination`` ends the run as ``abandoned`` at D when the authority
  enforces it. With ``hold_for_approved_deal: false`` it does so whatever the deal's stage,
  so a sale needs A + K < D: these tests keep the closed forms of model v1 with
  "shutdown at D" read as "abandoned at D" (v1 had no other kind of deadline).
* A ``service_ban`` turns the service dark at D, but a dark service does not stop the
  approvals: the deal may still close before H, which restores the service. A shutdown is
  a service still dark at the horizon (the row's day is the day it went dark).

The decision draws (president, extension, suit, ruling, investigation) are separate
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

from sim.model.outcome import ABANDONED, SALE, SHUTDOWN, STATES, UNRESOLVED

M, R, D_PRES, C = 30.0, 5.0, 10.0, 7.0  # mean arrival, review, president, closing days
K = R + D_PRES + C
P = 0.8  # the president approves a cleared deal
D, H = 100.0, 250.0  # the instrument's day, horizon
N = 4000


def F(t: float, mean: float = M) -> float:
    """Exponential CDF of the arrival day."""
    return 1.0 - math.exp(-t / mean) if t > 0 else 0.0


def base(kind: str = "transaction_termination", hold: bool = False,
         **court: Any) -> dict[str, Any]:
    """The one-bidder case as a mapping; tests edit it."""
    instrument: dict[str, Any] = {"id": "end", "kind": kind, "date": day(D),
                                  "enforcement": {"hold_for_approved_deal": hold}}
    if court:
        instrument["court"] = court
    return {
        "name": "analytic",
        "start": day(0),
        "horizon_days": H,
        "instruments": [instrument],
        "parent": {"name": "P", "reservation_bn": 10, "aspiration_multiple": 1},
        "bidders": [{"name": "B", "arrives_day": {"dist": "exponential", "mean": M},
                     "valuation_bn": 100}],
        "committee": {"review_days": R, "investigation_probability": 0.0,
                      "clear_threshold": 0.0, "mitigation_threshold": 0.0},
        "president": {"on_clear": {"block": 1 - P}, "decision_days": D_PRES},
        "closing": {"days": C},
    }


@pytest.mark.slow
def test_one_bidder_one_deadline():
    """a. P(sale) = p·F(D − K); everything else is abandoned at D, nothing unresolved."""
    res = run(scenario_from(base()), N, seed=11)
    p_sale = P * F(D - K)
    assert_outcomes(res, {SALE: p_sale, ABANDONED: 1 - p_sale, SHUTDOWN: 0.0,
                          UNRESOLVED: 0.0})
    sale = res["outcome"] == SALE
    assert np.all(res["day"][~sale] == D), "the termination date ends the rest on day D"
    assert np.all(res["winner"][sale] == 0)
    assert np.all(res["days_dark"] == 0), "a termination date turns nothing off"
    # signed on arrival: the agreement day is the arrival day
    arrived = res["input.bidders.B.arrives_day"]
    signed = ~np.isnan(res["agreement_day"])
    np.testing.assert_allclose(res["agreement_day"][signed], arrived[signed])
    assert np.all(arrived[signed] < D)


def test_the_authority_holds_for_an_approved_deal():
    """a''. With ``hold_for_approved_deal`` (the default) the termination date waits for
    a deal approved by D: P(sale) = p·F(D − r − d), and every sale after D was approved
    (agreement + r + d) by D."""
    res = run(scenario_from(base(hold=True)), N, seed=10)
    p_sale = P * F(D - R - D_PRES)
    assert_outcomes(res, {SALE: p_sale, ABANDONED: 1 - p_sale, UNRESOLVED: 0.0})
    late = (res["outcome"] == SALE) & (res["day"] > D)
    assert late.any()
    assert np.all(res["agreement_day"][late] + R + D_PRES <= D)
    assert np.all(res["day"][res["outcome"] == ABANDONED] == D)


@pytest.mark.slow
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


@pytest.mark.slow
def test_ban_with_an_injunction_past_the_horizon():
    """b. A ban on day D; the parent sues on D and the ruling (r_c days later) enjoins the
    ban with probability q, for good (no appeal).

    v2: the ban turns the service off but stops no deal, so P(sale) = p·F(H − K) whatever
    the court does; a service dark at the horizon is a shutdown, an enjoined one is not:
    P(shutdown) = (1 − q)·(1 − p·F(H − K)),  P(unresolved) = q·(1 − p·F(H − K)).
    Days dark, per replication: from D until the first of the injunction, the approval of
    the deal (the authority holds for an approved deal: a ban in force is suspended) and
    the horizon; none if the deal was approved by D. Nobody sues a ban held for an
    approved deal, so the suit (filed on D) is missing exactly then.
    """
    q, ruling = 0.3, 12.0
    doc = base("service_ban", hold=True,
               plaintiffs=[{"name": "P", "sue_probability": 1.0, "files_day": 0}],
               injunction_probability=q, ruling_days=ruling)
    res = run(scenario_from(doc), N, seed=13)
    p_sale = P * F(H - K)
    assert_outcomes(res, {SALE: p_sale, SHUTDOWN: (1 - q) * (1 - p_sale),
                          UNRESOLVED: q * (1 - p_sale), ABANDONED: 0.0})
    o, injunction = res["outcome"], res["injunction"]
    unresolved, sale, shut = o == UNRESOLVED, o == SALE, o == SHUTDOWN
    assert np.all(injunction[unresolved]) and not np.any(injunction[shut])
    assert np.all(res["day"][unresolved] == H) and np.all(res["day"][shut] == D)
    assert set(np.unique(res["state"][unresolved])) == {STATES.index("enjoined")}
    approved = sale | (res["state"] == STATES.index("deal_pending"))
    approval = np.where(approved, res["agreement_day"] + R + D_PRES, np.inf)
    # the suit is filed on D, unless the deal was approved by then (sold, or held for:
    # nobody sues a ban held for an approved deal)
    np.testing.assert_array_equal(res["suits"], np.where(approval <= D, 0, 1))
    end = np.minimum(np.where(injunction, D + ruling, H), approval)
    np.testing.assert_allclose(res["days_dark"], np.maximum(end - D, 0.0), atol=1e-9)
    held = sale & (approval <= D) & (res["day"] > D)
    suspended = sale & (approval > D) & (res["days_dark"] > 0)
    assert held.any() and suspended.any()


@pytest.mark.slow
def test_ban_with_an_injunction_reversed_on_appeal():
    """b'. (v1's injunction of fixed length is gone: an injunction now lasts until an
    appeal reverses it.) The loser always appeals and the appeal always reverses, L days
    after the ruling: an injunction granted on D + r_c is lifted on D + r_c + L and the ban
    bites again; one denied is granted on appeal then. So with no sale by the horizon
    (D + r_c + L < H) the first ruling's winner loses:
    P(shutdown) = q·(1 − p·F(H − K)),  P(unresolved) = (1 − q)·(1 − p·F(H − K)),
    a shutdown dark since D + r_c + L after r_c days dark before, an unresolved run
    dark r_c + L days."""
    q, ruling, appeal = 0.4, 10.0, 60.0
    doc = base("service_ban", hold=True,
               plaintiffs=[{"name": "P", "sue_probability": 1.0, "files_day": 0}],
               injunction_probability=q, ruling_days=ruling, appeal_probability=1.0,
               appeal_days=appeal, reversal_probability=1.0)
    res = run(scenario_from(doc), N, seed=14)
    p_sale = P * F(H - K)
    assert_outcomes(res, {SALE: p_sale, SHUTDOWN: q * (1 - p_sale),
                          UNRESOLVED: (1 - q) * (1 - p_sale), ABANDONED: 0.0})
    shut, unresolved = res["outcome"] == SHUTDOWN, res["outcome"] == UNRESOLVED
    lifted = D + ruling + appeal
    assert np.all(res["day"][shut] == lifted)
    np.testing.assert_allclose(res["days_dark"][shut], ruling + (H - lifted))
    np.testing.assert_allclose(res["days_dark"][unresolved], ruling + appeal)
    assert np.all(res["injunction"][shut | unresolved])


@pytest.mark.slow
@pytest.mark.parametrize(("e_in", "e_out", "length"), [
    (0.0, 0.35, 40.0),  # extension only when no deal is in progress
    (0.6, 0.35, 40.0),  # L > K: an extended deal in progress always makes it
    (0.6, 0.35, 12.0),  # L < K: a deal signed in [D + L − K, D) misses even if extended
])
def test_one_extension(e_in, e_out, length):
    """c. One extension of L days, with chance e_in when a deal is in progress at D (stages
    signed to closing), e_out otherwise (stage ``none``: the bidder has not come).

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
    in_progress = dict.fromkeys(("signed", "under_review", "approved_in_concept",
                                 "approved", "closing"), e_in)
    doc["instruments"][0]["enforcement"].update(
        extend={"otherwise": e_out, **in_progress}, extension_days=length, max_extensions=1)
    res = run(scenario_from(doc), N, seed=15)
    p_sale = P * (F(D - K)
                  + e_in * max(F(min(D, D + length - K)) - F(D - K), 0.0)
                  + e_out * max(F(D + length - K) - F(D), 0.0))
    assert_outcomes(res, {SALE: p_sale, ABANDONED: 1 - p_sale, UNRESOLVED: 0.0})
    assert set(np.unique(res["extensions"])) <= {0, 1}
    gone = res["outcome"] == ABANDONED
    np.testing.assert_array_equal(res["day"][gone], np.where(res["extensions"][gone] == 1,
                                                             D + length, D))
    # sales after the original deadline were all given the extension
    assert np.all(res["extensions"][(res["outcome"] == SALE) & (res["day"] > D)] == 1)


@pytest.mark.slow
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
    assert_outcomes(res, {SALE: p_sale, ABANDONED: 1 - p_sale, UNRESOLVED: 0.0})
    signed = ~np.isnan(res["agreement_day"])
    assert set(np.unique(res["phases"][signed])) <= {1, 2, 3}
    if rho == 0:
        assert not np.any(res["phases"] == 3)
    sale = res["outcome"] == SALE
    extra = np.select([res["phases"] == 1, res["phases"] == 2],
                      [0.0, inv_days], inv_days + ext_days)
    np.testing.assert_allclose(res["day"][sale],
                               res["agreement_day"][sale] + K + extra[sale])


@pytest.mark.slow
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
    assert_outcomes(res, {SALE: p_sale, ABANDONED: 1 - p_sale, UNRESOLVED: 0.0})


@pytest.mark.slow
def test_blocked_deal_needs_the_president_to_overrule():
    """e'. Assurance below the mitigation threshold: a block recommendation, which the
    committee makes only after an investigation (I days), and which the president follows
    with his ``on_block`` block share b: P(sale) = (1 − b)·F(D − K − I)."""
    b, inv = 0.85, 20.0
    doc = base()
    doc["committee"].update(clear_threshold=0.9, mitigation_threshold=0.8,
                            investigation_days=inv)
    doc["bidders"][0]["security_assurance"] = 0.5
    doc["president"]["on_block"] = {"block": b}
    res = run(scenario_from(doc), N, seed=18)
    assert_proportion(count(res, SALE), N, (1 - b) * F(D - K - inv), "P(sale)")
    assert np.all(res["phases"][res["outcome"] == SALE] == 2)


@pytest.mark.slow
def test_export_licence():
    """f. A licence (probability h, t_h days) runs beside the review; closing waits for
    both: P(sale) = h·p·F(D − max(r + d, t_h) − c)."""
    h, t_h = 0.7, 40.0
    doc = base()
    doc["home_government"] = {"approval_probability": h, "decision_days": t_h}
    doc["bidders"][0]["needs_export_licence"] = True
    res = run(scenario_from(doc), N, seed=19)
    p_sale = h * P * F(D - max(R + D_PRES, t_h) - C)
    assert_outcomes(res, {SALE: p_sale, ABANDONED: 1 - p_sale, UNRESOLVED: 0.0})
    sale = res["outcome"] == SALE
    assert np.all(res["home_approved"][sale] == 1)
    np.testing.assert_allclose(res["day"][sale],
                               res["agreement_day"][sale] + max(R + D_PRES, t_h) + C)


@pytest.mark.slow
def test_enforcement_may_lapse():
    """g. The termination date is enforced with probability ε; otherwise it lapses
    (``lapse.otherwise`` 1 − ε) and the deal may close until the horizon:
    P(sale) = p·[F(D − K) + (1 − ε)·(F(H − K) − F(D − K))],
    P(abandoned) = ε·(1 − p·F(D − K)),  P(unresolved) = (1 − ε)·(1 − p·F(H − K))."""
    eps = 0.45
    doc = base()
    doc["instruments"][0]["enforcement"]["lapse"] = {"otherwise": 1 - eps}
    res = run(scenario_from(doc), N, seed=20)
    assert_outcomes(res, {
        SALE: P * (F(D - K) + (1 - eps) * (F(H - K) - F(D - K))),
        ABANDONED: eps * (1 - P * F(D - K)),
        UNRESOLVED: (1 - eps) * (1 - P * F(H - K)),
    })
    unresolved = res["outcome"] == UNRESOLVED
    states = {STATES[i] for i in np.unique(res["state"][unresolved])}
    assert "lapsed" in states and states <= {"lapsed", "under_review", "deal_pending"}


@pytest.mark.slow
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
