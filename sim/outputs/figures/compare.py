"""Figures of a comparison: outcomes side by side with their paired differences, and
the share of runs ended over time (days since each scenario's own start)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.analysis import stats
from sim.analysis.compare import incidence_band
from sim.model.outcome import OUTCOMES, UNRESOLVED
from sim.outputs.style import COLOURS, NEUTRAL, drawable, save_figure, styled, subplots
from sim.running.results import Run

HATCHES = ("", "///", "...", "xxx", "\\\\\\", "ooo")
MARKERS = ("v", "D", "s", "^", "o", "P")
MARKER_NAMES = ("triangles", "diamonds", "squares", "up-triangles", "circles", "pluses")
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (1, 3)))


def _head(fig: Any, title: str, runs: list[Run], names: list[str], top: float) -> None:
    who = " · ".join(f"{drawable(n)} = {drawable(r.scenario.name)}"
                     for n, r in zip(names, runs, strict=True))
    fig.text(0.01, 0.995, title, ha="left", va="top", fontsize=12.5, fontweight="bold")
    fig.text(0.01, 0.995 - 0.28 / fig.get_figheight(),
             f"{who}\n{len(runs[0].results):,} runs each · seed {runs[0].seed} · common "
             f"random numbers", ha="left", va="top", fontsize=8.5, color=NEUTRAL)
    fig.tight_layout(rect=(0, 0, 1, top))


@styled
def outcomes_figure(runs: list[Run], names: list[str], data: dict[str, Any],
                    path: Path) -> Path:
    """Each outcome's probability per scenario (Wilson intervals), and the paired
    differences from the baseline (Newcombe intervals)."""


    m = len(runs)
    fig, (left, right) = subplots(1, 2, figsize=(11, 1.6 + 0.3 * len(OUTCOMES) * m),
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
            left.text(100 * high + 1.2, y, f"{drawable(names[j])}  {p:.1f}%", va="center",
                      fontsize=8)
    left.set_yticks(ticks, OUTCOMES)
    left.set_xlim(0, 118)
    left.set_xticks(range(0, 101, 20))
    left.set_xlabel("probability (%), black bars: 95% Wilson interval")
    left.set_title("Probability of each outcome", loc="left", fontsize=11)
    left.legend(handles=[Patch(facecolor=NEUTRAL, hatch=HATCHES[j], edgecolor="white",
                               label=drawable(names[j])) for j in range(m)],
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
            right.text(1.02, y, (f"{drawable(d['scenario'])}  " if m > 2 else "")
                       + f"{mid:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]",
                       transform=right.get_yaxis_transform(), va="center", fontsize=8,
                       color="black")
    right.axvline(0, color="black", lw=0.8)
    span = max(5.0, *(100 * abs(v) for d in data["differences"]
                      for x in d["outcomes"].values() for v in x["ci95"]))
    right.set_xlim(-span * 1.15, span * 1.15)
    right.set_ylim(-0.6, len(OUTCOMES) - 0.4)
    right.set_yticks(ticks, OUTCOMES)
    base = drawable(names[0])
    versus = drawable(names[1]) if m == 2 else "each"
    right.set_xlabel(f"{versus} − {base} (percentage points), paired by replication,\n"
                     "95% Newcombe interval")
    right.set_title(f"Difference from the baseline ({versus} − {base})", loc="left",
                    fontsize=11)
    left.set_ylim(-0.6, len(OUTCOMES) - 0.4)
    _head(fig, f"How does it end? {' vs '.join(names)}", runs, names,
          top=1 - 0.75 / fig.get_figheight())
    return save_figure(fig, path)


def _not_shown(run: Run, horizon: float) -> str:
    """The due dates the plot leaves out (after the last horizon), named for the legend."""
    late = [d for d in run.scenario.due_dates if not 0 <= d.day <= horizon]
    return "".join(f"\n  due date {drawable(d.label)}, {d.date:%d %b %Y}: "
                   f"{'after the horizon' if d.day > horizon else 'before the start'}, "
                   f"not shown" for d in late)


@styled
def resolution_figure(runs: list[Run], names: list[str], path: Path) -> Path:
    """Cumulative share of runs ended — by each ending, at all — against days since
    each scenario's own start (their calendars differ), with 95% pointwise bands."""


    horizon = max(r.scenario.horizon_days for r in runs)
    panels = [*((code, name, f"ended: {name}") for code, name in stats.RESOLVED),
              (None, "any", "resolved, any outcome")]
    rows = math.ceil(len(panels) / 2)
    fig, panes = subplots(rows, 2, figsize=(11, 0.6 + 3.5 * rows), sharex=True,
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
                if 0 <= d.day <= horizon:  # far out, a marker would grow the image
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
                      label=f"{drawable(name)}: day 0 = {run.scenario.start:%d %b %Y}, "
                            f"horizon day {run.scenario.horizon_days:g}; grey "
                            f"{MARKER_NAMES[j]} = its due dates{_not_shown(run, horizon)}")
               for j, (name, run) in enumerate(zip(names, runs, strict=True))]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.06, 0.02),
               ncol=min(2, len(runs)), fontsize=8.5, handlelength=3)
    _head(fig, "When is it resolved? " + " vs ".join(names), runs, names,
          top=1 - 0.75 / fig.get_figheight())
    return save_figure(fig, path)
