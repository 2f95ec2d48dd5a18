"""A run's statistics, computed once into one typed object that every writer reads: the
printout, ``summary.json``, the figures and the report page.

``RunSummary.numbers()`` is the results part of ``summary.json``, exactly what ``replay``
checks; provenance (scenario text, versions, commit) is added by the writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.analysis import stats
from sim.analysis.stats import Proportion
from sim.model.outcome import SALE
from sim.running.results import Run


@dataclass(frozen=True)
class Timing:
    """Days from the start at the 10th, 50th and 90th percentiles (None: beyond the
    horizon), with their calendar dates."""

    days: dict[str, float | None]
    dates: dict[str, str | None]

    @classmethod
    def of(cls, run: Run, days: list[float | None] | list[float] | None) -> Timing | None:
        if days is None:
            return None
        keys = [f"p{round(q * 100)}" for q in stats.QUANTILES]
        return cls(dict(zip(keys, days, strict=True)),
                   {k: run.date(d) for k, d in zip(keys, days, strict=True)})

    def as_dict(self) -> dict[str, Any]:
        return {"days": self.days, "dates": self.dates}


@dataclass(frozen=True)
class Spread:
    """p10, p50, p90 and mean of a quantity (sale prices)."""

    p10: float
    p50: float
    p90: float
    mean: float

    @classmethod
    def of(cls, values: np.ndarray) -> Spread | None:
        found = stats.quantiles(values)
        if found is None:
            return None
        p10, p50, p90 = found
        return cls(p10, p50, p90, mean=_mean(values))

    def as_dict(self) -> dict[str, float]:
        return {"p10": self.p10, "p50": self.p50, "p90": self.p90, "mean": self.mean}


def _mean(values: np.ndarray) -> float:
    """The mean of the numbers among ``values`` (NaN: none). Where their sum would pass
    the largest float (prices near 1e308) it is taken of the values scaled down, so it
    neither overflows nor warns; otherwise exactly ``np.nanmean``."""
    largest = float(np.nanmax(np.abs(values)))
    if not np.isfinite(largest) or largest * values.size < np.finfo(float).max:
        return float(np.nanmean(values))
    return float(np.nanmean(values / largest)) * largest


@dataclass(frozen=True)
class RunSummary:
    """Everything a run's readers are told, each probability with its 95% interval."""

    runs: int
    seed: int
    horizon_date: str | None
    outcomes: dict[str, Proportion]
    unresolved_by_state: dict[str, Proportion]  # share of all runs: they add up to unresolved
    resolved_by: Timing  # all runs, open ones censored at the horizon
    given: dict[str, Timing | None]  # by ending: days to a sale, a shutdown, an abandonment
    winners: dict[str, Proportion]
    parent_keeps_control: Proportion  # sales leaving the parent 50% or more
    price_bn: Spread | None  # per 100% of the business, given a sale
    stake_price_bn: Spread | None  # for the stake sold, given a sale
    extensions_mean: float
    forbearances_mean: float
    days_dark_mean: float
    shares: dict[str, Proportion]  # stats.SHARES: dark, suit, injunction, regime_change
    inputs_sampled: list[str]

    def numbers(self) -> dict[str, Any]:
        """The results as ``summary.json`` keys them (``replay`` compares these)."""
        return {
            "outcomes": {k: v.as_dict() for k, v in self.outcomes.items()},
            "unresolved_by_state": {k: v.as_dict() for k, v in self.unresolved_by_state.items()},
            "days_to_resolution": {
                "all_runs_censored_at_horizon": self.resolved_by.as_dict(),
                **{f"given_{name}": t and t.as_dict() for name, t in self.given.items()}},
            "winners": {k: v.as_dict() for k, v in self.winners.items()},
            "sale_parent_keeps_control": self.parent_keeps_control.as_dict(),
            "price_bn_given_sale": self.price_bn and self.price_bn.as_dict(),
            "stake_price_bn_given_sale": self.stake_price_bn and self.stake_price_bn.as_dict(),
            "extensions_mean": self.extensions_mean,
            "forbearances_mean": self.forbearances_mean,
            "days_dark_mean": self.days_dark_mean,
            "dark": self.shares["dark"].as_dict(),  # any dark day, restored or not
            "injunction": self.shares["injunction"].as_dict(),
            "suit": self.shares["suit"].as_dict(),
            "regime_change": self.shares["regime_change"].as_dict(),
            "inputs_sampled": self.inputs_sampled,
        }


def summarise(run: Run) -> RunSummary:
    """The run's numbers: the outcomes, where the unresolved runs stood at the horizon,
    timing, buyers, prices, and what happened on the way."""
    r = run.results
    resolved = Timing.of(run, stats.curve_quantiles(stats.resolution_curve(r)))
    assert resolved is not None
    flags = {"dark": r["days_dark"] > 0, "suit": r["suits"] > 0,
             "injunction": r["injunction"], "regime_change": r["regime_change"]}
    return RunSummary(
        runs=len(r), seed=run.seed,
        horizon_date=run.date(run.scenario.horizon_days),
        outcomes=stats.outcome_probabilities(r),
        unresolved_by_state=stats.state_probabilities(r),
        resolved_by=resolved,
        given={name: Timing.of(run, stats.quantiles(r["day"][r["outcome"] == code]))
               for code, name in stats.RESOLVED},
        winners=stats.winner_probabilities(r, run.bidders),
        # a sale under no test left in force, the parent keeping control: not a divestiture
        parent_keeps_control=stats.share((r["outcome"] == SALE) & (r["parent_stake"] >= 0.5)),
        price_bn=Spread.of(stats.sale_prices(r)),
        stake_price_bn=Spread.of(stats.sale_prices(r, "stake_price_bn")),
        extensions_mean=float(r["extensions"].mean()),
        forbearances_mean=float(r["forbearances"].mean()),
        days_dark_mean=float(r["days_dark"].mean()),
        shares={key: stats.share(flags[key]) for key, _ in stats.SHARES},
        inputs_sampled=r.input_names,
    )
