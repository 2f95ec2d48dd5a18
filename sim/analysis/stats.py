"""Statistics of a set of replications: outcome probabilities with intervals, and times.

Every run is followed to the same horizon, so a run still open there is right-censored
at the horizon: ``scipy.stats.ecdf`` estimates the time-to-resolution curve with that
censoring, and a quantile the curve never reaches is reported as beyond the horizon
(``None``) instead of being made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from sim.model.outcome import OUTCOMES, SALE, STATES, UNRESOLVED
from sim.running.precision import CONFIDENCE
from sim.running.results import Results

QUANTILES = (0.1, 0.5, 0.9)
# The endings that resolve a run, by code: every outcome but unresolved.
RESOLVED = tuple((code, name) for code, name in enumerate(OUTCOMES) if code != UNRESOLVED)
# The shares of runs with something on the way, as summary.json keys them, and in words.
SHARES = (("dark", "a dark day"), ("suit", "a suit"), ("injunction", "an injunction"),
          ("regime_change", "a regime change"))


@dataclass(frozen=True)
class Proportion:
    count: int
    runs: int
    probability: float
    low: float
    high: float

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "probability": self.probability,
                "ci95": [self.low, self.high]}


def proportion(count: int, runs: int) -> Proportion:
    """A binomial proportion with its Wilson interval (sound near 0 and 1, unlike Wald's)."""
    ci = stats.binomtest(int(count), int(runs)).proportion_ci(CONFIDENCE, method="wilson")
    return Proportion(int(count), int(runs), int(count) / int(runs), float(ci.low),
                      float(ci.high))


def outcome_probabilities(results: Results) -> dict[str, Proportion]:
    counts = np.bincount(results["outcome"], minlength=len(OUTCOMES))
    return {name: proportion(counts[i], len(results)) for i, name in enumerate(OUTCOMES)}


def state_probabilities(results: Results) -> dict[str, Proportion]:
    """Where the unresolved runs stood at the horizon, each state as a share of all runs
    (so they add up to P(unresolved))."""
    counts = np.bincount(results["state"][results["outcome"] == UNRESOLVED],
                         minlength=len(STATES))
    return {name: proportion(counts[i], len(results))
            for i, name in enumerate(STATES) if name}


def share(flags: np.ndarray) -> Proportion:
    """The share of runs for which ``flags`` holds (any count above 0), with its interval."""
    return proportion(int(np.count_nonzero(flags)), len(flags))


def winner_probabilities(results: Results, bidders: list[str]) -> dict[str, Proportion]:
    """Each bidder's chance of ending as the buyer (over all runs, not just sales)."""
    counts = np.bincount(results["winner"][results["winner"] >= 0], minlength=len(bidders))
    return {name: proportion(counts[i], len(results)) for i, name in enumerate(bidders)}


def resolution_curve(results: Results) -> Any:
    """Kaplan–Meier estimate of the day of resolution (any outcome), censored at the horizon."""
    day = results["day"]
    open_ = results["outcome"] == UNRESOLVED
    return stats.ecdf(stats.CensoredData(uncensored=day[~open_], right=day[open_]))


def curve_quantiles(curve: Any, qs: tuple[float, ...] = QUANTILES) -> list[float | None]:
    """Day by which a share q of runs has resolved; None when the horizon comes first."""
    times, probs = curve.cdf.quantiles, curve.cdf.probabilities
    found = []
    for q in qs:
        reached = np.flatnonzero(probs >= q - 1e-12)
        found.append(float(times[reached[0]]) if reached.size else None)
    return found


def cumulative_incidence(results: Results, outcome: int, days: np.ndarray) -> np.ndarray:
    """Share of all runs that ended in ``outcome`` by each of ``days`` (competing risks)."""
    ended = np.sort(results["day"][results["outcome"] == outcome])
    return np.searchsorted(ended, days, side="right") / len(results)


def quantiles(values: np.ndarray, qs: tuple[float, ...] = QUANTILES) -> list[float] | None:
    values = values[~np.isnan(values)]
    return [float(v) for v in np.quantile(values, qs)] if values.size else None


def sale_prices(results: Results, column: str = "price_bn") -> np.ndarray:
    """Sale prices: per 100% (``price_bn``) or for the stake sold (``stake_price_bn``)."""
    return results[column][results["outcome"] == SALE]
