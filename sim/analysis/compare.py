"""``run.py compare A.yaml B.yaml [...]``: scenarios side by side, with paired differences.

Every scenario runs with the same seed, so replication k of each sees the same uniforms
for every stream key the scenarios share (``parent.reservation_bn``, ``court.…``, the
decisions of a bidder or deadline of the same name): common random numbers. The difference
of an outcome's probability is then estimated from the pairs (replication k in A, in B),
whose positive correlation removes most of the Monte Carlo noise an independent comparison
would carry.

The interval of a paired difference is Newcombe's (1998) hybrid score interval for paired
proportions (his method 10, with the corrected correlation estimate used by Fagerland,
Lydersen & Laake 2017, ch. 8): built from the two Wilson intervals the single
probabilities already use, it stays inside [−1, 1], keeps its coverage near 0 and 1, and
does not collapse to a zero-width interval when the scenarios rarely disagree, all of
which the Wald interval mean ± 1.96·sd/√n of the per-replication differences fails at.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis import stats
from sim.files import atomic_write_json
from sim.model.outcome import OUTCOMES, UNRESOLVED
from sim.provenance import file_sha256, git_commit, versions
from sim.running.results import Run
from sim.scenario.loading import load_scenario

SUMMARY_FORMAT = 1
INTERVAL_METHOD = ("Newcombe (1998) hybrid score interval for paired proportions "
                   "(method 10), pairs = same replication index")


# -- statistics -------------------------------------------------------------------------

@dataclass(frozen=True)
class Difference:
    """P(outcome in B) − P(outcome in A), from paired replications."""

    difference: float
    low: float
    high: float
    low_independent: float  # the same interval had the runs been independent (φ = 0)
    high_independent: float
    discordant: tuple[int, int]  # replications in B only, in A only

    def as_dict(self) -> dict[str, Any]:
        return {"difference": self.difference, "ci95": [self.low, self.high],
                "ci95_if_independent": [self.low_independent, self.high_independent],
                "only_in_b": self.discordant[0], "only_in_a": self.discordant[1]}


def paired_difference(in_a: np.ndarray, in_b: np.ndarray) -> Difference:
    """Newcombe's interval for P(B) − P(A) from paired indicators of one outcome."""
    in_a, in_b = np.asarray(in_a, bool), np.asarray(in_b, bool)
    n = in_a.size
    both = int(np.sum(in_a & in_b))
    b_only = int(np.sum(in_b & ~in_a))
    a_only = int(np.sum(in_a & ~in_b))
    neither = n - both - b_only - a_only
    p_b, p_a = (both + b_only) / n, (both + a_only) / n
    (l_b, l_a), (u_b, u_a) = stats.wilson(np.array([both + b_only, both + a_only]), n)
    product = float(both + b_only) * (a_only + neither) * (both + a_only) * (b_only + neither)
    cross = float(both) * neither - float(b_only) * a_only
    if product == 0:
        phi = 0.0
    elif cross > n / 2:
        phi = (cross - n / 2) / math.sqrt(product)
    elif cross >= 0:
        phi = 0.0
    else:
        phi = cross / math.sqrt(product)

    def interval(phi: float) -> tuple[float, float]:
        down = (p_b - l_b) ** 2 - 2 * phi * (p_b - l_b) * (u_a - p_a) + (u_a - p_a) ** 2
        up = (u_b - p_b) ** 2 - 2 * phi * (u_b - p_b) * (p_a - l_a) + (p_a - l_a) ** 2
        d = p_b - p_a
        return max(-1.0, d - math.sqrt(max(down, 0.0))), min(1.0, d + math.sqrt(max(up, 0.0)))

    low, high = interval(phi)
    low_i, high_i = interval(0.0)
    return Difference(p_b - p_a, low, high, low_i, high_i, (b_only, a_only))


def incidence_band(days_ended: np.ndarray, runs: int,
                   grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of all runs ended by each day of ``grid``, with its pointwise Wilson band.

    Every run is followed to the horizon, so by any day before it the share is a plain
    binomial proportion (no censoring inside the horizon)."""
    count = np.searchsorted(np.sort(days_ended), grid, side="right")
    low, high = stats.wilson(count, runs)
    return count / runs, low, high


# -- running ----------------------------------------------------------------------------

def labels(paths: list[Path]) -> list[str]:
    """Short names for the scenarios: file stems, numbered when two stems coincide."""
    stems = [p.stem for p in paths]
    return [s if stems.count(s) == 1 else f"{s}-{stems[:i + 1].count(s)}"
            for i, s in enumerate(stems)]


def comparison(runs: list[Run], names: list[str]) -> dict[str, Any]:
    """Each scenario's outcome probabilities, and each later one's paired differences
    from the first (the baseline)."""
    base = runs[0].results
    scenarios = []
    for name, run in zip(names, runs, strict=True):
        r, s = run.results, run.scenario
        resolved = stats.curve_quantiles(stats.resolution_curve(r))
        scenarios.append({
            "label": name, "name": s.name, "path": str(run.path),
            "sha256": file_sha256(run.path), "start": s.start.isoformat(),
            "horizon_days": s.horizon_days,
            "outcomes": {k: v.as_dict() for k, v in stats.outcome_probabilities(r).items()},
            "resolved_by_day": dict(zip(("p10", "p50", "p90"), resolved, strict=True)),
            "due_dates": [{"key": d.key, "day": d.day, "date": d.date.isoformat()}
                          for d in s.due_dates]})
    differences = []
    for name, run in zip(names[1:], runs[1:], strict=True):
        r = run.results
        transitions = np.zeros((len(OUTCOMES), len(OUTCOMES)), dtype=int)
        np.add.at(transitions, (base["outcome"], r["outcome"]), 1)
        differences.append({
            "scenario": name, "baseline": names[0],
            "outcomes": {o: paired_difference(base["outcome"] == code,
                                              r["outcome"] == code).as_dict()
                         for code, o in enumerate(OUTCOMES)},
            "same_outcome_share": float(np.mean(base["outcome"] == r["outcome"])),
            "transitions": {a: {b: int(transitions[i, j]) for j, b in enumerate(OUTCOMES)}
                            for i, a in enumerate(OUTCOMES)}})
    return {"scenarios": scenarios, "differences": differences}


def parser() -> argparse.ArgumentParser:
    from sim.commands.main import DEFAULT_RUNS, add_run_options

    p = argparse.ArgumentParser(
        prog="run.py compare",
        description="Run scenarios with the same seed (common random numbers) and compare "
                    "their outcomes side by side, with paired differences from the first.",
        epilog="Example: python run.py compare scenarios/oracle.yaml scenarios/microsoft.yaml")
    p.add_argument("scenarios", type=Path, nargs="+", metavar="SCENARIO",
                   help="two or more scenario files; the first is the baseline")
    add_run_options(p, runs=DEFAULT_RUNS,
                    runs_help=f"replications per scenario (default {DEFAULT_RUNS:,})",
                    out_help="output folder (default: results/compare/<stem>-vs-<stem>/)")
    return p


def main(argv: list[str]) -> int:
    p = parser()
    args = p.parse_args(argv)
    if len(args.scenarios) < 2:
        p.error("compare needs at least two scenario files")
    from sim.running.montecarlo import default_workers, simulate

    loaded = [load_scenario(path) for path in args.scenarios]  # every file checked first
    names = labels(args.scenarios)
    workers = args.workers or default_workers()
    out = args.out or Path("results") / "compare" / "-vs-".join(names)
    runs = [Run(s, path, simulate(s, args.runs, args.seed, workers, progress=not args.quiet),
                args.seed, workers) for s, path in zip(loaded, args.scenarios, strict=True)]
    data = {"format": SUMMARY_FORMAT, "kind": "compare", "runs": args.runs, "seed": args.seed,
            "workers": workers, "command": ["run.py", "compare", *argv],
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "common_random_numbers": True, "interval_method": INTERVAL_METHOD,
            **comparison(runs, names)}
    out.mkdir(parents=True, exist_ok=True)
    files = []
    if not args.no_figures:
        files = [outcomes_figure(runs, names, data, out / "outcomes.png").name,
                 resolution_figure(runs, names, out / "time_to_resolution.png").name]
    data.update(files=files, versions=versions(), git_commit=git_commit())
    atomic_write_json(out / "summary.json", data)
    if not args.quiet:
        print(format_comparison(data, out))
    return 0


def _pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def _pts(d: float) -> str:
    return f"{100 * d:+.1f}"


def format_comparison(data: dict[str, Any], out: Path) -> str:
    scenarios, diffs = data["scenarios"], data["differences"]
    lines = [f"dealsim compare — {data['runs']:,} runs each · seed {data['seed']} · "
             f"common random numbers (replication k of every scenario shares its draws)", ""]
    for s in scenarios:
        lines.append(f"  {s['label']}: {s['name']} (day 0 = {s['start']})")
    rows = [["outcome", *(s["label"] for s in scenarios),
             *(f"{d['scenario']} − {d['baseline']} (paired)" for d in diffs)]]
    for name in OUTCOMES:
        row = [name]
        for s in scenarios:
            o = s["outcomes"][name]
            row.append(f"{_pct(o['probability']):>6} [{_pct(o['ci95'][0])}, "
                       f"{_pct(o['ci95'][1])}]")
        for d in diffs:
            x = d["outcomes"][name]
            row.append(f"{_pts(x['difference']):>6} pts [{_pts(x['ci95'][0])}, "
                       f"{_pts(x['ci95'][1])}]")
        rows.append(row)
    half = ["half ended"]
    for s in scenarios:
        p50 = s["resolved_by_day"]["p50"]
        half.append("beyond the horizon" if p50 is None else f"  by day {p50:.0f} from start")
    rows.append(half + [""] * len(diffs))
    widths = [max(len(r[i]) for r in rows) + 3 for i in range(len(rows[0]))]
    lines.append("")
    lines += ["  " + "".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in rows]
    lines += ["", "  differences in percentage points, paired by replication; 95% intervals: "
                  "Wilson for each probability, Newcombe's paired score for differences"]
    for d in diffs:
        widths_paired = [x["ci95"][1] - x["ci95"][0] for x in d["outcomes"].values()]
        widths_indep = [x["ci95_if_independent"][1] - x["ci95_if_independent"][0]
                        for x in d["outcomes"].values()]
        gain = (float(np.mean(widths_indep) / np.mean(widths_paired))
                if np.mean(widths_paired) > 0 else math.inf)
        lines.append(f"  {d['scenario']} vs {d['baseline']}: the same outcome in "
                     f"{_pct(d['same_outcome_share'])} of replications; intervals "
                     f"{gain:.1f}× narrower than independent runs would give")
    lines.append(f"\n  wrote {out}/: summary.json" + "".join(f", {f}" for f in data["files"]))
    return "\n".join(lines)


# -- figures (matplotlib only when drawn) --------------------------------------------

HATCHES = ("", "///", "...", "xxx", "\\\\\\", "ooo")
MARKERS = ("v", "D", "s", "^", "o", "P")
MARKER_NAMES = ("triangles", "diamonds", "squares", "up-triangles", "circles", "pluses")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))


def _head(fig: Any, title: str, runs: list[Run], names: list[str], top: float) -> None:
    from sim.outputs.figures.run import NEUTRAL

    who = " · ".join(f"{n} = {r.scenario.name}" for n, r in zip(names, runs, strict=True))
    fig.text(0.01, 0.995, title, ha="left", va="top", fontsize=12.5, fontweight="bold")
    fig.text(0.01, 0.995 - 0.28 / fig.get_figheight(),
             f"{who}\n{len(runs[0].results):,} runs each · seed {runs[0].seed} · common "
             f"random numbers", ha="left", va="top", fontsize=8.5, color=NEUTRAL)
    fig.tight_layout(rect=(0, 0, 1, top))


def outcomes_figure(runs: list[Run], names: list[str], data: dict[str, Any],
                    path: Path) -> Path:
    """Each outcome's probability per scenario (Wilson intervals), and the paired
    differences from the baseline (Newcombe intervals)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from sim.outputs.figures.run import COLOURS, NEUTRAL, save_figure

    m = len(runs)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 1.6 + 0.3 * len(OUTCOMES) * m),
                                      gridspec_kw={"width_ratios": [1.25, 1]})
    height = 0.8 / m
    ticks = []
    for i, outcome in enumerate(OUTCOMES):
        centre = len(OUTCOMES) - 1 - i
        ticks.append(centre)
        for j, s in enumerate(data["scenarios"]):
            o = s["outcomes"][outcome]
            y = centre + 0.4 - height * (j + 0.5)
            p, (low, high) = 100 * o["probability"], o["ci95"]
            left.barh(y, p, height=height * 0.92, color=COLOURS[outcome], hatch=HATCHES[j],
                      edgecolor="white", lw=0)
            left.errorbar(p, y, xerr=[[p - 100 * low], [100 * high - p]], fmt="none",
                          ecolor="black", capsize=3, lw=1)
            left.text(100 * high + 1.2, y, f"{names[j]}  {p:.1f}%", va="center", fontsize=8)
    left.set_yticks(ticks, OUTCOMES)
    left.set_xlim(0, 118)
    left.set_xticks(range(0, 101, 20))
    left.set_xlabel("probability (%), black bars: 95% Wilson interval")
    left.set_title("Probability of each outcome", loc="left", fontsize=11)
    left.legend(handles=[Patch(facecolor=NEUTRAL, hatch=HATCHES[j], edgecolor="white",
                               label=names[j]) for j in range(m)],
                loc="lower right", fontsize=8, title="scenario", title_fontsize=8)
    markers = ("o", "s", "D", "^", "v", "P")
    for k, d in enumerate(data["differences"]):
        for i, outcome in enumerate(OUTCOMES):
            x = d["outcomes"][outcome]
            y = len(OUTCOMES) - 1 - i + (0.2 - 0.4 * (k + 0.5) / max(1, m - 1) if m > 2 else 0)
            mid, (low, high) = 100 * x["difference"], x["ci95"]
            right.errorbar(mid, y, xerr=[[mid - 100 * low], [100 * high - mid]],
                           fmt=markers[k], color=COLOURS[outcome], ecolor=COLOURS[outcome],
                           capsize=4, ms=6, lw=1.5)
            right.text(1.02, y, (f"{d['scenario']}  " if m > 2 else "")
                       + f"{mid:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]",
                       transform=right.get_yaxis_transform(), va="center", fontsize=8,
                       color="black")
    right.axvline(0, color="black", lw=0.8)
    span = max(5.0, *(100 * abs(v) for d in data["differences"]
                      for x in d["outcomes"].values() for v in x["ci95"]))
    right.set_xlim(-span * 1.15, span * 1.15)
    right.set_ylim(-0.6, len(OUTCOMES) - 0.4)
    right.set_yticks(ticks, OUTCOMES)
    base = names[0]
    versus = names[1] if m == 2 else "each"
    right.set_xlabel(f"{versus} − {base} (percentage points), paired by replication,\n"
                     "95% Newcombe interval")
    right.set_title(f"Difference from the baseline ({versus} − {base})", loc="left",
                    fontsize=11)
    left.set_ylim(-0.6, len(OUTCOMES) - 0.4)
    _head(fig, f"How does it end? {' vs '.join(names)}", runs, names,
          top=1 - 0.75 / fig.get_figheight())
    return save_figure(fig, path)


def resolution_figure(runs: list[Run], names: list[str], path: Path) -> Path:
    """Cumulative share of runs ended — by each ending, at all — against days since
    each scenario's own start (their calendars differ), with 95% pointwise bands."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from sim.outputs.figures.run import COLOURS, NEUTRAL, save_figure

    horizon = max(r.scenario.horizon_days for r in runs)
    panels = [*((code, name, f"ended: {name}") for code, name in stats.RESOLVED),
              (None, "any", "resolved, any outcome")]
    rows = math.ceil(len(panels) / 2)
    fig, panes = plt.subplots(rows, 2, figsize=(11, 0.6 + 3.5 * rows), sharex=True,
                              sharey=True, squeeze=False)
    for ax, (code, key, title) in zip(panes.flat, panels, strict=False):
        for j, run in enumerate(runs):
            r, s = run.results, run.scenario
            grid = np.linspace(0, s.horizon_days, 1461)
            ended = r["day"][r["outcome"] == code] if code is not None else \
                r["day"][r["outcome"] != UNRESOLVED]
            share, low, high = incidence_band(ended, len(r), grid)
            ax.fill_between(grid, 100 * low, 100 * high, step="post", color=COLOURS[key],
                            alpha=0.15, lw=0)
            ax.step(grid, 100 * share, where="post", color=COLOURS[key], lw=1.8,
                    ls=LINESTYLES[j])
            for d in s.due_dates:
                ax.plot([d.day], [102.5], marker=MARKERS[j], ms=5, color=NEUTRAL,
                        clip_on=False, ls="none")
        ax.set_title(title, loc="left", fontsize=11, pad=12,
                     color=COLOURS[key] if key != "any" else "black")
        ax.set_xlim(0, horizon)
        ax.set_ylim(0, 100)
        ax.grid(axis="y", color="#e6e6e6", lw=0.6)
    for ax in panes.flat[len(panels):]:
        ax.axis("off")
    for ax in panes[:, 0]:
        ax.set_ylabel("share of all runs ended (%), 95% band")
    for ax in panes[-1]:
        ax.set_xlabel("days since each scenario's own start\n(day 0 differs between "
                      "scenarios: see the legend)")
        ax.xaxis.set_tick_params(labelbottom=True)
    handles = [Line2D([], [], color="black", ls=LINESTYLES[j], lw=1.6, marker=MARKERS[j],
                      mfc=NEUTRAL, mec=NEUTRAL, ms=5,
                      label=f"{name}: day 0 = {run.scenario.start:%d %b %Y}, horizon day "
                            f"{run.scenario.horizon_days:g}; grey {MARKER_NAMES[j]} = its "
                            f"due dates")
               for j, (name, run) in enumerate(zip(names, runs, strict=True))]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.06, 0.02),
               ncol=min(2, len(runs)), fontsize=8.5, handlelength=3)
    _head(fig, "When is it resolved? " + " vs ".join(names), runs, names,
          top=1 - 0.75 / fig.get_figheight())
    return save_figure(fig, path)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
