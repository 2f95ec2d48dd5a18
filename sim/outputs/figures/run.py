"""Figures of a run (matplotlib, Agg): what a reader needs to see, each with its intervals.

One colour per outcome in every figure (Okabe–Ito, colour-blind safe); calendar dates
wherever time is shown; the scenario, runs and seed in every title block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.analysis import stats
from sim.analysis.summary import RunSummary
from sim.model.outcome import OUTCOMES, STATE_WORDS, UNRESOLVED
from sim.outputs.safe import date_text
from sim.outputs.style import (
    COLOURS,
    NEUTRAL,
    drawable,
    head,
    number,
    save_figure,
    shortened,
    styled,
    subplots,
)
from sim.running.precision import wilson
from sim.running.results import Results, Run, due_words

LARGEST_DRAWN = 1e300  # beyond it, a value is named, not placed on an axis
MOST_CURVE_POINTS = 20_000  # steps of a curve drawn as they are; a longer one is sampled


def _head(fig: Figure, title: str, run: Run, top: float = 0.86) -> None:
    head(fig, title, f"{drawable(run.scenario.name)} · {len(run.results):,} runs · seed "
         f"{run.seed}", top)


def _dates(run: Run, days: np.ndarray) -> np.ndarray:
    start = np.datetime64(run.scenario.start, "s")
    return start + (np.asarray(days) * 86400).astype("timedelta64[s]")


def _probability_bars(ax: Axes, probs: dict[str, stats.Proportion], colours: list[str],
                      notes: dict[str, str] | None = None) -> None:
    """Horizontal bars of probabilities, first at the top, with Wilson intervals and labels
    (each followed by its note, if any)."""
    names = list(probs)[::-1]
    p = np.array([probs[n].probability for n in names]) * 100
    low = p - np.array([probs[n].low for n in names]) * 100
    high = np.array([probs[n].high for n in names]) * 100 - p
    ax.barh(names, p, color=colours[::-1], height=0.6)
    ax.errorbar(p, names, xerr=[low, high], fmt="none", ecolor="black", capsize=4, lw=1.2)
    for y, (name, value) in enumerate(zip(names, p, strict=True)):
        pr = probs[name]
        note = f" · {notes[name]}" if notes else ""
        ax.text(pr.high * 100 + 1.5, y, f"{value:.1f}%  [{pr.low:.1%}, {pr.high:.1%}]{note}",
                va="center", fontsize=9)
    ax.set_xlim(0, 115)
    ax.set_xticks(range(0, 101, 20))


@styled
def outcome_probabilities(run: Run, summary: RunSummary, path: Path) -> Path:
    probs = summary.outcomes
    states = {k: v for k, v in summary.unresolved_by_state.items() if v.count}
    fig, axes = subplots(
        2 if states else 1, 1, figsize=(7.5, 3.4 + (0.9 + 0.32 * len(states)) * bool(states)),
        squeeze=False, gridspec_kw={"height_ratios": [len(OUTCOMES) + 0.5, len(states) + 1]}
        if states else None)
    top = axes[0, 0]
    _probability_bars(top, probs, [COLOURS[n] for n in probs])
    top.set_xlabel("probability (%) — black bars: 95% Wilson interval")
    if states:
        bottom = axes[1, 0]
        _probability_bars(bottom, states, [COLOURS["unresolved"]] * len(states),
                          {k: STATE_WORDS[k] for k in states})
        bottom.set_title("Unresolved at the horizon: where it stood", loc="left",
                         fontsize=10.5)
        bottom.set_xlabel("share of all runs (%), adding up to P(unresolved) — "
                          "95% Wilson interval")
    _head(fig, "How does it end? Sale, shutdown, abandoned, or unresolved at the horizon",
          run, top=1 - 0.5 / fig.get_figheight())
    return save_figure(fig, path)


@styled
def time_to_resolution(run: Run, summary: RunSummary, path: Path) -> Path:
    r, s = run.results, run.scenario
    horizon = s.horizon_days
    days = np.linspace(0, horizon, 731)
    fig, ax = subplots(figsize=(9, 5.2))
    curve = stats.resolution_curve(r)
    # the curve is flat after its last event: carry it (and its band) on to the horizon
    t = np.concatenate([[0.0], curve.cdf.quantiles, [horizon]])
    cdf = np.concatenate([[0.0], curve.cdf.probabilities, curve.cdf.probabilities[-1:]])
    band_low, band_high = _resolved_band(r, curve)
    low = np.concatenate([[0.0], band_low, band_low[-1:]])
    high = np.concatenate([[0.0], band_high, band_high[-1:]])
    del curve, band_low, band_high
    t, cdf, low, high = _at_most(MOST_CURVE_POINTS, horizon, t, cdf, low, high)
    ax.fill_between(_dates(run, t), low * 100, high * 100, step="post", color=COLOURS["any"],
                    alpha=0.12, lw=0, label="95% confidence band (any outcome)")
    ax.step(_dates(run, t), cdf * 100, where="post", color=COLOURS["any"], lw=1.6,
            label="resolved, any outcome (Kaplan–Meier, open runs censored)")
    for code, name in stats.RESOLVED:
        share = stats.cumulative_incidence(r, code, days)
        band_low, band_high = wilson(share * len(r), len(r))
        ax.fill_between(_dates(run, days), band_low * 100, band_high * 100, step="post",
                        color=COLOURS[name], alpha=0.2, lw=0)
        ax.step(_dates(run, days), share * 100, where="post", color=COLOURS[name], lw=2,
                label=f"ended: {name} (with its 95% band)")
    level, last = 0, -np.inf
    shown = [d for d in sorted(s.due_dates, key=lambda d: d.day) if 0 <= d.day <= horizon]
    for d in s.due_dates:  # outside the window: named, not drawn (far out, it would grow
        if d not in shown:  # the image without bound)
            ax.plot([], [], ls="none", label=f"due date {drawable(d.label)}, "
                                             f"{d.date:%d %b %Y}: {_outside(d.day, horizon)}")
    for i, d in enumerate(shown, start=1):
        day = d.day
        level = level + 1 if day - last < 0.03 * horizon else 0  # stagger close numbers
        last = day
        x = _dates(run, np.array([day]))[0]
        ax.axvline(x, color=NEUTRAL, ls="--", lw=0.9)
        ax.text(x, 101.5 + 6 * level, str(i), ha="center", va="bottom", fontsize=8,
                color="black", clip_on=False,
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": NEUTRAL,
                      "lw": 0.6})
        ax.plot([], [], color=NEUTRAL, ls="--", lw=0.9,
                label=f"due date {i}: {drawable(d.label)}, {d.date:%d %b %Y}\n({due_words(d)}; "
                      f"original date)")
    ax.axvline(_dates(run, np.array([horizon]))[0], color=NEUTRAL, ls=":", lw=0.9)
    open_share = float(np.mean(r["outcome"] == UNRESOLVED)) * 100
    ax.text(_dates(run, np.array([horizon]))[0], 101.5,  # above the plot: hides no curve
            f"horizon {date_text(s.start, horizon)}: {open_share:.0f}% of runs still open",
            ha="right", va="bottom", fontsize=8, color="black", clip_on=False)
    ax.set_ylim(0, 100)
    ax.set_ylabel("share of runs resolved (%)")
    ax.set_xlabel(f"date (day 0 = {s.start:%d %b %Y})")
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.set_xlim(_dates(run, np.array([0.0]))[0], _dates(run, np.array([horizon]))[0])
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.19), ncol=2, fontsize=8.5)
    _head(fig, "When is it resolved? Cumulative share of runs ended, by outcome", run,
          top=0.85)
    return save_figure(fig, path)


def _at_most(points: int, horizon: float, t: np.ndarray,
             *steps: np.ndarray) -> tuple[np.ndarray, ...]:
    """Step functions of day ``t`` (right-continuous, as drawn "post"), as they are, or,
    with more than ``points`` steps, read off ``points`` days evenly over the horizon:
    a million steps on some 700 pixels cost memory, not detail."""
    if t.size <= points:
        return (t, *steps)
    grid = np.linspace(0.0, horizon, points)
    at = np.searchsorted(t, grid, side="right") - 1
    return (grid, *(step[at] for step in steps))


def _price_limits(prices: list[np.ndarray]) -> tuple[float, float] | None:
    """The price axis: every price with room for the labels on the right; None when
    there is no price, or prices so large an axis cannot tick them (near 1e308 a tick
    locator overflows)."""
    if not any(v.size for v in prices):
        return None
    everything = np.concatenate([v for v in prices if v.size])
    lo, hi = float(everything.min()), float(everything.max())
    pad = max(0.05 * (hi - lo), 0.05 * max(abs(hi), 1.0))
    low, high = lo - pad, hi + 4 * pad
    return (low, high) if max(abs(low), abs(high)) < LARGEST_DRAWN else None


def _outside(day: float, horizon: float) -> str:
    """Where a due date the plot leaves out lies: "after the horizon" or "before the start"."""
    return "after the horizon, not shown" if day > horizon else "before the start, not shown"


def _resolved_band(r: Results, curve: Any) -> tuple[np.ndarray, np.ndarray]:
    """The 95% band of the share resolved, at the curve's points. With no run censored
    (every run resolved) the Kaplan–Meier curve is the plain share, and Greenwood's band
    is undefined at its last point (scipy warns): a Wilson band there, else scipy's."""
    if np.any(r["outcome"] == UNRESOLVED):
        band = curve.cdf.confidence_interval(stats.CONFIDENCE)
        return band.low.probabilities, band.high.probabilities
    n = len(r)
    return wilson(np.rint(curve.cdf.probabilities * n), n)


@styled
def buyers_and_prices(run: Run, summary: RunSummary, path: Path) -> Path:
    r = run.results
    fig, (left, right) = subplots(1, 2, figsize=(10, 1.6 + 0.6 * max(2, len(run.bidders))),
                                      sharey=True, gridspec_kw={"width_ratios": [1, 1.2]})
    winners = summary.winners
    names = list(winners)
    y = np.arange(len(names))[::-1]
    p = np.array([winners[n].probability for n in names]) * 100
    err = [p - np.array([winners[n].low for n in names]) * 100,
           np.array([winners[n].high for n in names]) * 100 - p]
    left.barh(y, p, color=COLOURS["sale"], height=0.55)
    left.errorbar(p, y, xerr=err, fmt="none", ecolor="black", capsize=4, lw=1.1)
    for row, name, value, up in zip(y, names, p, err[1], strict=True):
        w = winners[name]
        left.text(value + up + 0.01 * left.get_xlim()[1], row,
                  f" {value:.1f}%  [{100 * w.low:.1f}, {100 * w.high:.1f}]", va="center",
                  fontsize=8.5)
    left.set_xlim(0, max(10.0, float((p + err[1]).max(initial=0)) * 1.6))
    left.set_yticks(y, [shortened(drawable(n)) for n in names])
    left.set_ylim(-0.6, max(len(names), 2) - 0.4)
    left.set_xlabel("chance of buying (% of all runs), 95% interval")
    left.set_title("Who buys?", loc="left", fontsize=11)
    prices = [r["price_bn"][r["winner"] == i] for i in range(len(names))]
    limits = _price_limits(prices)
    for row, values in zip(y, prices, strict=True):
        if values.size == 0:
            right.text(0.02, row, "never buys", va="center", fontsize=9, color=NEUTRAL,
                       transform=right.get_yaxis_transform())
            continue
        if limits is None:
            continue
        q10, q25, q50, q75, q90 = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
        right.hlines(row, q10, q90, color=COLOURS["sale"], lw=1.5)
        right.barh(row, q75 - q25, left=q25, height=0.35, color=COLOURS["sale"], alpha=0.45)
        right.plot([q50], [row], marker="|", ms=16, mew=2.5, color="black")
        right.text(q90, row + 0.3, f" median {number(q50)} (n={values.size:,})", fontsize=8.5,
                   va="center")
    if not any(v.size for v in prices):
        right.text(0.5, 0.5, "no run ended in a sale", ha="center", transform=right.transAxes)
    elif limits is None:
        right.text(0.5, 0.5, f"prices beyond {LARGEST_DRAWN:.0e} are not drawn",
                   ha="center", transform=right.transAxes)
    else:
        right.set_xlim(*limits)  # room for the labels right of the lines
    right.set_xlabel("agreed price, implied value of the business (USD bn):\n"
                     "line 10–90%, box 25–75%, tick median")
    right.set_title("At what price, given that bidder buys?", loc="left", fontsize=11)
    _head(fig, "Who buys, and at what price?", run, top=0.8)
    return save_figure(fig, path)


@styled
def agreement_timing(run: Run, summary: RunSummary, path: Path) -> Path:
    r = run.results
    rel = r["agreement_vs_deadline"]
    signed = ~np.isnan(rel)
    fig, ax = subplots(figsize=(8.5, 4))
    if signed.any():
        low = np.floor(min(np.percentile(rel[signed], 1), -1))
        high = np.ceil(max(rel[signed].max(), 0) + 1)
        bins = np.linspace(low, high, int(min(60, max(10, high - low))) + 1)
        clipped = np.clip(rel, low, high)
        stacked = [clipped[signed & (r["outcome"] == code)] for code in range(len(OUTCOMES))]
        ax.hist(stacked, bins=bins, stacked=True, color=[COLOURS[n] for n in OUTCOMES],
                label=list(OUTCOMES), edgecolor="white", lw=0.3)
        ax.axvline(0, color="black", lw=1.2)
        ax.text(0, ax.get_ylim()[1] * 0.97, " the deadline in force", fontsize=8.5, va="top")
        ax.legend(fontsize=8.5, loc="center left", bbox_to_anchor=(1.01, 0.45),
                  title="how the run ended", title_fontsize=8.5)  # outside: hides no bar
        note = (f"{signed.mean():.0%} of runs reach an agreement by bargaining"
                f" (earliest 1% folded into the first bar)")
    else:
        ax.text(0.5, 0.5, "no agreement was reached by bargaining in any run", ha="center",
                transform=ax.transAxes)
        note = "deals agreed before the start are not counted"
    ax.set_xlabel("days from the deadline then in force to the agreement "
                  f"(negative: before the deadline)\n{note}")
    ax.set_ylabel("runs (agreements) per bar")
    _head(fig, "When do the parties agree, relative to the deadline?", run, top=0.84)
    return save_figure(fig, path)


FIGURES = {
    "outcomes.png": outcome_probabilities,
    "time_to_resolution.png": time_to_resolution,
    "buyers_and_prices.png": buyers_and_prices,
    "agreement_timing.png": agreement_timing,
}


def draw_all(run: Run, summary: RunSummary, out: Path) -> list[Path]:
    """Every figure of a run, from its results (curves, distributions) and its summary
    (the probabilities the printout and the page give, so all three agree)."""
    return [draw(run, summary, out / name) for name, draw in FIGURES.items()]

