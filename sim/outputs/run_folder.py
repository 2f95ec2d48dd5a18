"""A run's outputs: ``summary.json``, the per-replication table, the figures, the printout.

Everything a figure or a number needs to be traced back is recorded beside it: the
scenario (name, path, sha256), seed, runs, command line, package versions, git commit.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import stats
from sim.files import atomic_write_json
from sim.model.outcome import OUTCOMES, SALE, STATE_WORDS
from sim.outputs.report_page import write_report
from sim.provenance import git_commit, scenario_record, versions
from sim.running.results import Run

SUMMARY_FORMAT = 2  # 2: model v2's four outcomes, unresolved states, dark days, suits


def _prices(prices: np.ndarray) -> dict[str, float] | None:
    """p10, p50, p90 and mean of sale prices (None without a sale)."""
    found = stats.quantiles(prices)
    if found is None:
        return None
    return dict(zip(("p10", "p50", "p90"), found, strict=True),
                mean=float(np.nanmean(prices)))


def _days(run: Run, days: list[float | None] | None) -> dict[str, Any] | None:
    if days is None:
        return None
    keys = [f"p{round(q * 100)}" for q in stats.QUANTILES]
    return {"days": dict(zip(keys, days, strict=True)),
            "dates": {k: run.date(d) for k, d in zip(keys, days, strict=True)}}


def results_summary(run: Run) -> dict[str, Any]:
    """The run's numbers, everything ``replay`` checks: the outcomes, where the unresolved
    runs stood at the horizon, timing, buyers, prices, and what happened on the way."""
    r = run.results
    resolved = stats.curve_quantiles(stats.resolution_curve(r))
    prices = stats.sale_prices(r)
    return {
        "outcomes": {k: v.as_dict() for k, v in stats.outcome_probabilities(r).items()},
        # share of all runs, so the states add up to the unresolved outcome
        "unresolved_by_state": {k: v.as_dict()
                                for k, v in stats.state_probabilities(r).items()},
        "days_to_resolution": {
            "all_runs_censored_at_horizon": _days(run, resolved),
            **{f"given_{name}": _days(run, stats.quantiles(r["day"][r["outcome"] == code]))
               for code, name in stats.RESOLVED},
        },
        "winners": {k: v.as_dict() for k, v in stats.winner_probabilities(r, run.bidders).items()},
        # a sale under no test left in force, the parent keeping control: not a divestiture
        "sale_parent_keeps_control": stats.share((r["outcome"] == SALE)
                                                 & (r["parent_stake"] >= 0.5)).as_dict(),
        "price_bn_given_sale": _prices(prices),  # per 100% of the business
        "stake_price_bn_given_sale": _prices(stats.sale_prices(r, "stake_price_bn")),
        "extensions_mean": float(r["extensions"].mean()),
        "forbearances_mean": float(r["forbearances"].mean()),
        "days_dark_mean": float(r["days_dark"].mean()),
        "dark": stats.share(r["days_dark"] > 0).as_dict(),  # any dark day, restored or not
        "injunction": stats.share(r["injunction"]).as_dict(),
        "suit": stats.share(r["suits"] > 0).as_dict(),
        "regime_change": stats.share(r["regime_change"]).as_dict(),
        "inputs_sampled": r.input_names,
    }


def summary(run: Run, command: list[str] | None = None) -> dict[str, Any]:
    s = run.scenario
    return {
        "format": SUMMARY_FORMAT,
        "scenario": {"name": s.name, "start": s.start.isoformat(),
                     "horizon_days": s.horizon_days, "horizon_date": run.date(s.horizon_days),
                     **scenario_record(s)},  # path, sha256, content, resolved
        "runs": len(run.results),
        "seed": run.seed,
        "workers": run.workers,
        "command": command,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **results_summary(run),
        "due_dates": [{"key": d.key, "label": d.label, "date": d.date.isoformat(),
                       "day": d.day, "kind": d.kind, "dark": d.dark} for d in s.due_dates],
        "versions": versions(),
        "git_commit": git_commit(),
    }


def _pct(p: float) -> str:
    return f"{100 * p:5.1f}%"


def _when(run: Run, day: float | None) -> str:
    if day is None:
        return "beyond the horizon"
    return f"day {day:.0f} ({run.date(day)})"


def _interval(name: str, o: dict[str, Any], indent: int = 2) -> str:
    """One row of the outcome table: name, probability, interval (columns aligned)."""
    low, high = o["ci95"]
    return (" " * indent + f"{name:<{26 - indent}} {_pct(o['probability']):>10}   "
            f"[{_pct(low)}, {_pct(high)}]")


def format_summary(run: Run, data: dict[str, Any]) -> str:
    s = run.scenario
    lines = [f"dealsim — {s.name}",
             f"  {data['runs']:,} runs · seed {data['seed']} · start {s.start} · "
             f"horizon {s.horizon_days:g} days ({data['scenario']['horizon_date']})", "",
             f"  {'outcome':<24} probability   95% interval"]
    for name in OUTCOMES:
        lines.append(_interval(name, data["outcomes"][name]))
    states = {k: v for k, v in data["unresolved_by_state"].items() if v["count"]}
    if states:
        lines.append("    unresolved, where it stood at the horizon (share of all runs):")
    for state, o in states.items():
        lines.append(_interval(state, o, indent=6) + f"   {STATE_WORDS[state]}")
    lines.append("")
    res = data["days_to_resolution"]["all_runs_censored_at_horizon"]["days"]
    lines.append("  resolved by (share of all runs; open runs censored at the horizon):")
    lines.append(f"    10%: {_when(run, res['p10'])} · 50%: {_when(run, res['p50'])} · "
                 f"90%: {_when(run, res['p90'])}")
    for _, name in stats.RESOLVED:
        given = data["days_to_resolution"][f"given_{name}"]
        if given is not None:
            d = given["days"]
            lines.append(f"  {name} day: median {_when(run, d['p50'])}, 10–90%: "
                         f"day {d['p10']:.0f}–{d['p90']:.0f}")
    if data["winners"]:
        lines.append("  buyer: " + " · ".join(
            f"{k} {_pct(v['probability']).strip()}" for k, v in data["winners"].items()))
    control = data["sale_parent_keeps_control"]["probability"]
    if control > 0:
        lines.append(f"  sales in which the parent keeps 50% or more (a partnership, not a "
                     f"divestiture): {_pct(control).strip()} of all runs")
    price = data["price_bn_given_sale"]
    if price is not None:
        stake = data["stake_price_bn_given_sale"]
        lines.append(f"  price given a sale (USD bn per 100%): median {price['p50']:.1f}, "
                     f"10–90%: {price['p10']:.1f}–{price['p90']:.1f}" + (
                         "" if stake is None else f"; for the stake sold: median "
                         f"{stake['p50']:.1f}, 10–90%: {stake['p10']:.1f}–{stake['p90']:.1f}"))
    lines.append(f"  per run, on average: {data['extensions_mean']:.2f} extensions, "
                 f"{data['forbearances_mean']:.2f} forbearances, "
                 f"{data['days_dark_mean']:.1f} days dark")
    lines.append("  share of runs with " + " · ".join(
        f"{what} {_pct(data[key]['probability']).strip()}" for key, what in stats.SHARES))
    return "\n".join(lines)


def write_outputs(run: Run, out: Path, figures: bool = True,
                  command: list[str] | None = None) -> dict[str, Any]:
    """Write the table, the figures and, last, ``summary.json`` listing them all."""
    out.mkdir(parents=True, exist_ok=True)
    data = summary(run, command)
    run.results.to_csv(out / "replications.csv", run.bidders)
    written = ["replications.csv"]
    if figures:
        from sim.outputs.figures import run as plots  # matplotlib only when figures are wanted

        written += [p.name for p in plots.draw_all(run, out)]
    written.append(write_report(run, out, data, written).name)
    data["files"] = written
    atomic_write_json(out / "summary.json", data)
    return data


def print_summary(run: Run, data: dict[str, Any], out: Path) -> None:
    print(format_summary(run, data))
    print(f"\n  wrote {out}/: summary.json, " + ", ".join(data["files"]), file=sys.stdout)
