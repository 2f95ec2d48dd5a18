"""The printed summary of a run, from its ``RunSummary``."""

from __future__ import annotations

from sim.analysis import stats
from sim.analysis.stats import Proportion
from sim.analysis.summary import RunSummary
from sim.model.outcome import STATE_WORDS
from sim.outputs.safe import day_and_date, printable_lines
from sim.running.results import Run


def pct(p: float) -> str:
    return f"{100 * p:5.1f}%"


def when(run: Run, day: float | None) -> str:
    """A day as the summary says it: "day 184 (2021-03-17)" or "beyond the horizon" (and a
    day past the last date there is as "day 3000000 (after 9999-12-31)")."""
    if day is None:
        return "beyond the horizon"
    return day_and_date(run.scenario.start, day)


def _interval(name: str, o: Proportion, indent: int = 2) -> str:
    """One row of the outcome table: name, probability, interval (columns aligned)."""
    return (" " * indent + f"{name:<{26 - indent}} {pct(o.probability):>10}   "
            f"[{pct(o.low)}, {pct(o.high)}]")


def format_summary(run: Run, summary: RunSummary) -> str:
    """The summary for the terminal: each line printable, so a name holding a terminal
    escape or a line break is shown escaped, never acted on."""
    s = run.scenario
    lines = [f"dealsim — {s.name}",
             f"  {summary.runs:,} runs · seed {summary.seed} · start {s.start} · "
             f"horizon {s.horizon_days:g} days ({summary.horizon_date})", "",
             f"  {'outcome':<24} probability   95% interval"]
    for name, o in summary.outcomes.items():
        lines.append(_interval(name, o))
    states = {k: v for k, v in summary.unresolved_by_state.items() if v.count}
    if states:
        lines.append("    unresolved, where it stood at the horizon (share of all runs):")
    for state, o in states.items():
        lines.append(_interval(state, o, indent=6) + f"   {STATE_WORDS[state]}")
    lines.append("")
    res = summary.resolved_by.days
    lines.append("  resolved by (share of all runs; open runs censored at the horizon):")
    lines.append(f"    10%: {when(run, res['p10'])} · 50%: {when(run, res['p50'])} · "
                 f"90%: {when(run, res['p90'])}")
    for name, given in summary.given.items():
        if given is not None:
            d = given.days
            lines.append(f"  {name} day: median {when(run, d['p50'])}, 10–90%: "
                         f"day {d['p10']:.0f}–{d['p90']:.0f}")
    if summary.winners:
        lines.append("  buyer: " + " · ".join(
            f"{k} {pct(v.probability).strip()}" for k, v in summary.winners.items()))
    control = summary.parent_keeps_control.probability
    if control > 0:
        lines.append(f"  sales in which the parent keeps 50% or more (a partnership, not a "
                     f"divestiture): {pct(control).strip()} of all runs")
    price, stake = summary.price_bn, summary.stake_price_bn
    if price is not None:
        lines.append(f"  price given a sale (USD bn per 100%): median {price.p50:.1f}, "
                     f"10–90%: {price.p10:.1f}–{price.p90:.1f}" + (
                         "" if stake is None else f"; for the stake sold: median "
                         f"{stake.p50:.1f}, 10–90%: {stake.p10:.1f}–{stake.p90:.1f}"))
    lines.append(f"  per run, on average: {summary.extensions_mean:.2f} extensions, "
                 f"{summary.forbearances_mean:.2f} forbearances, "
                 f"{summary.days_dark_mean:.1f} days dark")
    lines.append("  share of runs with " + " · ".join(
        f"{what} {pct(summary.shares[key].probability).strip()}" for key, what in stats.SHARES))
    return printable_lines(lines)
