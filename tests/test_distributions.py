"""Distributions: each type's inverse CDF against independent formulas and scipy
references, and the range checks that keep a probability in [0, 1] or a duration > 0."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError
from scipy import special, stats

from sim.running.streams import uniforms
from sim.scenario.distributions import (
    Days,
    Dist,
    Exponent,
    Money,
    PositiveDays,
    Probability,
)

DIST = TypeAdapter(Dist)
# midpoints of a fine grid: a quasi Monte Carlo sample of the uniform distribution
GRID = (np.arange(50_000) + 0.5) / 50_000
U = np.array([1e-9, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1 - 1e-9])


def dist(**params: Any):
    return DIST.validate_python(params)


def qmc_mean_sd(d) -> tuple[float, float]:
    x = d.ppf(GRID)
    return float(x.mean()), float(x.std())


def test_plain_number_is_fixed():
    d = DIST.validate_python(3.5)
    assert d.is_constant and d.support() == (3.5, 3.5)
    np.testing.assert_array_equal(d.ppf(U), 3.5)
    assert d.describe() == "3.5"


def test_uniform():
    d = dist(dist="uniform", low=2, high=10)
    np.testing.assert_allclose(d.ppf(U), 2 + 8 * U)
    assert d.support() == (2.0, 10.0) and not d.is_constant


def test_triangular_against_closed_form():
    low, mode, high = 7.0, 10.0, 30.0
    d = dist(dist="triangular", low=low, mode=mode, high=high)
    fc = (mode - low) / (high - low)
    expected = np.where(fc > U, low + np.sqrt(U * (high - low) * (mode - low)),
                        high - np.sqrt((1 - U) * (high - low) * (high - mode)))
    np.testing.assert_allclose(d.ppf(U), expected, rtol=1e-9)
    mean, sd = qmc_mean_sd(d)
    assert mean == pytest.approx((low + mode + high) / 3, rel=1e-4)
    var = (low**2 + mode**2 + high**2 - low * mode - low * high - mode * high) / 18
    assert sd == pytest.approx(math.sqrt(var), rel=1e-3)


def test_triangular_with_mode_at_an_end():
    d = dist(dist="triangular", low=7, mode=7, high=30)
    np.testing.assert_allclose(d.ppf(U), 30 - np.sqrt((1 - U) * 23 * 23), rtol=1e-9)


@pytest.mark.parametrize(("low", "mode", "high", "lamb"), [
    (10, 20, 40, 4.0), (0, 0.9, 1, 4.0), (5, 5, 9, 4.0), (10, 20, 40, 2.0)])
def test_pert_mean_and_shape(low, mode, high, lamb):
    d = dist(dist="pert", low=low, mode=mode, high=high, lamb=lamb)
    mean, sd = qmc_mean_sd(d)
    assert mean == pytest.approx((low + lamb * mode + high) / (lamb + 2), rel=1e-4)
    # the textbook Beta-PERT: Beta(1 + λ(m − a)/(b − a), 1 + λ(b − m)/(b − a)) on [a, b]
    a = 1 + lamb * (mode - low) / (high - low)
    b = 1 + lamb * (high - mode) / (high - low)
    ref = low + (high - low) * special.betaincinv(a, b, U)
    np.testing.assert_allclose(d.ppf(U), ref, rtol=1e-9, atol=1e-12)
    assert sd == pytest.approx((high - low) * math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))),
                               rel=1e-3)
    assert d.support() == (low, high)
    if low < mode < high:  # the density peaks at the mode
        x = np.linspace(low, high, 20001)
        assert x[np.argmax(d.frozen.pdf(x))] == pytest.approx(mode, abs=(high - low) * 1e-3)


def test_pert_default_mean():
    d = dist(dist="pert", low=1, mode=2, high=9)
    assert d.frozen.mean() == pytest.approx((1 + 4 * 2 + 9) / 6)


def test_normal_untruncated_matches_scipy():
    d = dist(dist="normal", mean=5, sd=2)
    np.testing.assert_allclose(d.ppf(U[1:-1]), stats.norm(5, 2).ppf(U[1:-1]), rtol=1e-9)
    assert d.support() == (-math.inf, math.inf)


def test_normal_truncated_stays_in_bounds():
    d = dist(dist="normal", mean=10, sd=5, low=0, high=15)
    x = d.ppf(GRID)
    assert x.min() >= 0 and x.max() <= 15
    assert d.support() == (0.0, 15.0)
    # truncation keeps the shape: the conditional CDF of the parent normal
    parent = stats.norm(10, 5)
    cdf = (parent.cdf(d.ppf(U)) - parent.cdf(0)) / (parent.cdf(15) - parent.cdf(0))
    np.testing.assert_allclose(cdf, U, atol=1e-9)
    sym = dist(dist="normal", mean=10, sd=5, low=4, high=16)
    assert float(sym.ppf(np.array([0.5]))[0]) == pytest.approx(10)


def test_lognormal_median_and_sigma():
    d = dist(dist="lognormal", median=30, sigma=0.25)
    assert float(d.ppf(np.array([0.5]))[0]) == pytest.approx(30)
    np.testing.assert_allclose(d.ppf(U), 30 * np.exp(0.25 * stats.norm.ppf(U)), rtol=1e-9)
    mean, _ = qmc_mean_sd(d)
    assert mean == pytest.approx(30 * math.exp(0.25**2 / 2), rel=1e-4)
    assert d.support()[0] == 0.0


@pytest.mark.parametrize(("mean", "sd", "low", "high"), [
    (0.6, 0.15, 0.0, 1.0), (0.1, 0.05, 0.0, 1.0), (30.0, 5.0, 10.0, 60.0)])
def test_beta_by_mean_and_sd(mean, sd, low, high):
    d = dist(dist="beta", mean=mean, sd=sd, low=low, high=high)
    assert d.frozen.mean() == pytest.approx(mean)
    assert d.frozen.std() == pytest.approx(sd)
    m, s = qmc_mean_sd(d)
    assert m == pytest.approx(mean, rel=1e-4) and s == pytest.approx(sd, rel=1e-3)
    x = d.ppf(GRID)
    assert x.min() >= low and x.max() <= high


def test_exponential():
    d = dist(dist="exponential", mean=20)
    np.testing.assert_allclose(d.ppf(U), -20 * np.log1p(-U), rtol=1e-9)
    mean, sd = qmc_mean_sd(d)
    assert mean == pytest.approx(20, rel=1e-3) and sd == pytest.approx(20, rel=1e-2)


def test_choice_frequencies():
    d = dist(dist="choice", values=[7, 30, 90], weights=[2, 1, 1])
    x = d.ppf(GRID)
    assert set(np.unique(x)) == {7.0, 30.0, 90.0}
    freq = [np.mean(x == v) for v in (7, 30, 90)]
    np.testing.assert_allclose(freq, [0.5, 0.25, 0.25], atol=1e-4)
    assert d.support() == (7.0, 90.0)
    # on random uniforms too: a multinomial goodness-of-fit
    y = d.ppf(uniforms(1, 0, "choice-test", 20_000))
    counts = [np.sum(y == v) for v in (7, 30, 90)]
    assert stats.chisquare(counts, [10_000, 5_000, 5_000]).pvalue > 1e-3


def test_choice_unweighted_and_zero_weight():
    d = dist(dist="choice", values=[1, 2, 3, 4])
    np.testing.assert_allclose([np.mean(d.ppf(GRID) == v) for v in (1, 2, 3, 4)], 0.25,
                               atol=1e-4)
    z = dist(dist="choice", values=[1, 2, 3], weights=[1, 0, 1])
    x = z.ppf(GRID)
    assert not np.any(x == 2)
    assert np.mean(x == 1) == pytest.approx(0.5, abs=1e-4)
    one = dist(dist="choice", values=[5])
    np.testing.assert_array_equal(one.ppf(U), 5.0)


def test_ppf_is_monotone_in_the_uniform():
    """Common random numbers rely on it: a larger uniform never gives a smaller value."""
    u = np.sort(uniforms(3, 0, "monotone", 5000))
    for params in [dict(dist="uniform", low=0, high=1),
                   dict(dist="triangular", low=0, mode=1, high=5),
                   dict(dist="pert", low=0, mode=1, high=5),
                   dict(dist="normal", mean=0, sd=1, low=-1, high=2),
                   dict(dist="lognormal", median=3, sigma=1),
                   dict(dist="beta", mean=0.3, sd=0.1),
                   dict(dist="exponential", mean=4),
                   dict(dist="choice", values=[3, 1, 2])]:
        x = dist(**params).ppf(u)
        assert np.all(np.isfinite(x)), params
        if params["dist"] != "choice":  # choice maps in the order the values are listed
            assert np.all(np.diff(x) >= 0), params


def test_uniforms_stay_inside_the_open_interval():
    u = uniforms(0, 0, "k", 10_000)
    assert u.min() > 0 and u.max() < 1
    assert u.shape == (10_000,)
    assert uniforms(0, 0, "k", 10, width=3).shape == (10, 3)


# --- parameter and range validation -----------------------------------------------------

@pytest.mark.parametrize(("params", "says"), [
    (dict(dist="uniform", low=5, high=5), "needs low < high"),
    (dict(dist="uniform", low=6, high=5), "needs low < high"),
    (dict(dist="triangular", low=1, mode=0, high=5), "low <= mode <= high"),
    (dict(dist="triangular", low=1, mode=1, high=1), "low < high"),
    (dict(dist="pert", low=1, mode=6, high=5), "low <= mode <= high"),
    (dict(dist="pert", low=1, mode=2, high=5, lamb=0), "greater than 0"),
    (dict(dist="normal", mean=0, sd=0), "greater than 0"),
    (dict(dist="normal", mean=0, sd=1, low=2, high=1), "needs low < high"),
    (dict(dist="lognormal", median=0, sigma=1), "greater than 0"),
    (dict(dist="lognormal", median=1, sigma=-1), "greater than 0"),
    (dict(dist="beta", mean=0.5, sd=0.6), "sd too large"),
    (dict(dist="beta", mean=1.5, sd=0.1), "needs low < mean < high"),
    (dict(dist="beta", mean=0, sd=0.1), "needs low < mean < high"),
    (dict(dist="exponential", mean=0), "greater than 0"),
    (dict(dist="choice", values=[]), "at least 1"),
    (dict(dist="choice", values=[1, 2], weights=[1]), "as many weights as values"),
    (dict(dist="choice", values=[1, 2], weights=[0, 0]), "positive total weight"),
    (dict(dist="choice", values=[1, 2], weights=[1, -1]), "greater than or equal to 0"),
    (dict(dist="uniform", low=0, high=math.inf), "finite"),
    (dict(dist="uniform", low=0, high=1, mode=0.5), "Extra inputs"),
    (dict(dist="uniform", low=0), "Field required"),
    (dict(dist="gamma", shape=2), "does not match any of the expected tags"),
    (dict(low=1, high=2), "needs 'dist'"),
])
def test_bad_parameters(params, says):
    with pytest.raises(ValidationError) as info:
        DIST.validate_python(params)
    assert says in str(info.value)


@pytest.mark.parametrize("value", [True, "3", [1, 2], None])
def test_not_a_number_or_distribution(value):
    with pytest.raises(ValidationError):
        DIST.validate_python(value)


RANGES = {"probability": TypeAdapter(Probability), "days": TypeAdapter(Days),
          "positive days": TypeAdapter(PositiveDays), "money": TypeAdapter(Money),
          "exponent": TypeAdapter(Exponent)}


@pytest.mark.parametrize(("kind", "value"), [
    ("probability", 0), ("probability", 1), ("probability", {"dist": "beta", "mean": 0.3,
                                                             "sd": 0.1}),
    ("probability", {"dist": "normal", "mean": 0.5, "sd": 0.1, "low": 0, "high": 1}),
    ("probability", {"dist": "pert", "low": 0, "mode": 0.2, "high": 1}),
    ("days", 0), ("days", {"dist": "exponential", "mean": 3}),
    ("days", {"dist": "normal", "mean": 10, "sd": 3, "low": 0}),
    ("positive days", 0.5), ("positive days", {"dist": "lognormal", "median": 5,
                                               "sigma": 1}),
    # a support that starts at 0 is fine when 0 itself has probability 0
    ("positive days", {"dist": "uniform", "low": 0, "high": 5}),
    ("positive days", {"dist": "normal", "mean": 10, "sd": 3, "low": 0}),
    ("money", 30), ("money", {"dist": "triangular", "low": 15, "mode": 20, "high": 30}),
    ("exponent", 0.4), ("exponent", {"dist": "choice", "values": [0.5, 2]}),
])
def test_values_in_range_are_accepted(kind, value):
    RANGES[kind].validate_python(value)


@pytest.mark.parametrize(("kind", "value", "says"), [
    ("probability", 1.5, "must lie in [0, 1]"),
    ("probability", -0.01, "must lie in [0, 1]"),
    ("probability", {"dist": "uniform", "low": 0.5, "high": 1.5}, "ranges over [0.5, 1.5]"),
    ("probability", {"dist": "normal", "mean": 0.5, "sd": 0.1}, "bound it with low/high"),
    ("probability", {"dist": "lognormal", "median": 0.5, "sigma": 0.1}, "must lie in [0, 1]"),
    ("probability", {"dist": "choice", "values": [0.5, 1.2]}, "must lie in [0, 1]"),
    ("days", -1, "must be >= 0 days"),
    ("days", {"dist": "normal", "mean": 10, "sd": 3}, "bound it with low/high"),
    ("days", {"dist": "uniform", "low": -1, "high": 3}, "must be >= 0 days"),
    ("positive days", 0, "must be > 0 days"),
    ("positive days", {"dist": "choice", "values": [0, 7]}, "must be > 0 days"),
    ("money", 0, "must be > 0 (USD bn)"),
    ("money", {"dist": "normal", "mean": 10, "sd": 1}, "must be > 0 (USD bn)"),
    ("exponent", 0, "must be > 0"),
    ("exponent", -1, "must be > 0"),
])
def test_values_out_of_range_are_refused(kind, value, says):
    with pytest.raises(ValidationError) as info:
        RANGES[kind].validate_python(value)
    assert says in str(info.value)


def test_describe():
    assert dist(dist="uniform", low=3, high=10).describe() == "uniform(low=3, high=10)"
    assert dist(dist="exponential", mean=20).describe() == "exponential(mean=20)"
