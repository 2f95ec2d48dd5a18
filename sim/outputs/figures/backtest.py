"""Figures of a backtest (matplotlib, Agg): a reliability diagram, the forecasts beside
what happened, and the scores by kind of case, each with the base rates they must beat.

A reliability diagram bins every forecast probability (four per case: sale, shutdown,
abandoned, unresolved) and plots how often the outcome happened in each bin against the mean
forecast there: a calibrated forecaster lies on the diagonal. With a dozen cases the bins
hold a few dozen points at most, so every point carries its count and a 95% Wilson
interval, and the counts per bin are drawn below.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle

from sim.analysis import stats
from sim.analysis.backtest import Scored, by_kind, overall
from sim.model.outcome import OUTCOMES
from sim.outputs.style import COLOURS, NEUTRAL, drawable, save_figure, styled, subplots

BIN_EDGES = np.linspace(0.0, 1.0, 6)  # five bins of 0.2: few points, wide bins
MODEL, BASE, KIND = "#000000", "#999999", "#E69F00"  # KIND: not an outcome's colour


def pairs(scored: Sequence[Scored], which: str) -> tuple[np.ndarray, np.ndarray]:
    """Every (forecast probability, happened?) pair, one per outcome of each forecast."""
    if which == "kind_base" and any(s.kind_base is None for s in scored):
        return np.empty(0), np.empty(0)
    p = np.concatenate([getattr(s, which) for s in scored])
    y = np.concatenate([np.eye(len(OUTCOMES))[s.case.scored] for s in scored])
    return p, y


def bins(p: np.ndarray, y: np.ndarray) -> list[tuple[float, float, float, float, int]]:
    """Per non-empty bin: mean forecast, observed frequency, its 95% interval, count."""
    found = []
    index = np.clip(np.digitize(p, BIN_EDGES[1:-1]), 0, len(BIN_EDGES) - 2)
    for b in range(len(BIN_EDGES) - 1):
        inside = index == b
        n = int(inside.sum())
        if n:
            share = stats.proportion(int(y[inside].sum()), n)
            found.append((float(p[inside].mean()), share.probability, share.low, share.high, n))
    return found


@styled
def reliability(scored: Sequence[Scored], runs: int, seed: int, path: Path) -> Path:
    fig, (top, bottom) = subplots(2, 1, figsize=(7.2, 7.6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1], "hspace": 0.08})
    top.plot([0, 1], [0, 1], ls="--", color=NEUTRAL, lw=1, label="perfect calibration")
    width = 0.2 / 3.6
    means = overall(scored)["forecasts"]
    for which, colour, marker, offset, label in (
            ("model", MODEL, "o", -1, f"dealsim (mean Brier {means['brier_model']:.3f})"),
            ("base", BASE, "s", 0, f"base rate, leave-one-out "
                                   f"(mean Brier {means['brier_base']:.3f})"),
            ("kind_base", KIND, "^", 1, f"base rate of the case's kind "
                                        f"(mean Brier {means['brier_kind']:.3f})")):
        if not pairs(scored, which)[0].size:
            continue
        found = bins(*pairs(scored, which))
        x = np.array([f[0] for f in found])
        obs = np.array([f[1] for f in found])
        err = [obs - [f[2] for f in found], np.array([f[3] for f in found]) - obs]
        top.errorbar(x + offset * 0.006, obs, yerr=err, fmt=marker + "-", color=colour, ms=7,
                     capsize=3, lw=1.4, mfc=colour if which == "model" else "white",
                     label=label)
        for xi, oi, f in zip(x, obs, found, strict=True):
            top.annotate(f"n={f[4]}", (xi, oi), textcoords="offset points",
                         xytext=(7, {-1: -12, 0: 6, 1: -3}[offset]), fontsize=8, color=colour)
        centres = (BIN_EDGES[:-1] + BIN_EDGES[1:]) / 2
        counts = np.histogram(pairs(scored, which)[0], BIN_EDGES)[0]
        bars = bottom.bar(centres + offset * width, counts, width=width, color=colour,
                          edgecolor=colour, fill=which != "base", lw=1.2,
                          label={"model": "dealsim", "base": "base rate",
                                 "kind_base": "kind base rate"}[which])
        bottom.bar_label(bars, fontsize=8, padding=1)
    top.set_xlim(0, 1)
    top.set_ylim(-0.03, 1.03)
    top.set_ylabel("how often it happened (observed frequency)")
    top.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=2, fontsize=8.5)
    fig.text(0.01, 0.995, "Reliability: when a forecast said p, did it happen a share p "
             "of the time?", ha="left", va="top", fontsize=12, fontweight="bold")
    fig.text(0.01, 0.962, f"{len(scored)} forecasts × {len(OUTCOMES)} outcomes, pooled in "
             f"bins of 0.2 · "
             f"error bars: 95% Wilson interval · {runs:,} runs per case · seed {seed}",
             ha="left", va="top", fontsize=8.5, color=NEUTRAL)
    bottom.set_ylabel("forecasts\nper bin")
    bottom.set_xlabel("forecast probability (of " + ", of ".join(OUTCOMES) + ")")
    bottom.set_xticks(BIN_EDGES)
    bottom.set_ylim(0, max(bottom.get_ylim()[1] * 1.25, 1))
    bottom.legend(loc="upper right", fontsize=8, ncol=3)
    fig.subplots_adjust(top=0.87)
    return save_figure(fig, path)


@styled
def forecasts(scored: Sequence[Scored], runs: int, seed: int, path: Path) -> Path:
    """One row per forecast: the model's and the base rate's stacked probabilities, with
    the outcome that happened outlined."""
    n = len(scored)
    # at least 3.2 inches: the legend above, two lines of notes below (one case too)
    fig, ax = subplots(figsize=(10.5, max(3.2, 1.4 + 0.52 * n)))
    for row, s in enumerate(scored):
        y = n - 1 - row
        bars = [(s.model, 0.4, 0.14, 1.0), (s.base, 0.15, -0.17, 0.55)]
        if s.kind_base is not None:
            bars.append((s.kind_base, 0.15, -0.33, 0.55))
        for forecast, height, dy, alpha in bars:
            left = 0.0
            for k, name in enumerate(OUTCOMES):
                happened = k == s.case.scored and forecast is s.model
                ax.barh(y + dy, forecast[k], left=left, height=height,
                        color=COLOURS[name], alpha=alpha,
                        edgecolor="black" if happened else "white",
                        lw=2.2 if happened else 0.5, zorder=3 if happened else 2)
                if forecast is s.model and forecast[k] >= 0.08:
                    ax.text(left + forecast[k] / 2, y + dy, f"{forecast[k]:.0%}",
                            ha="center", va="center", fontsize=8, color="white",
                            fontweight="bold", zorder=4)
                left += forecast[k]
        sc = s.scores()
        bars_text = f"{sc['brier_base']:.2f}" + ("" if math.isnan(sc["brier_kind"])
                                                 else f" · {sc['brier_kind']:.2f}")
        best_bar = np.nanmin([sc["brier_base"], sc["brier_kind"]])
        ax.text(1.02, y, f"{OUTCOMES[s.case.scored]}\nBrier {sc['brier_model']:.2f} vs "
                f"{bars_text}", va="center", fontsize=8,
                color="black" if sc["brier_model"] < best_bar else "#B00000",
                transform=ax.get_yaxis_transform())
    labels = [drawable(s.case.path.stem) for s in scored][::-1]
    ax.set_yticks(range(n), labels, fontsize=8.5)
    ax.set_ylim(-0.7, n - 0.4)
    ax.set_xlim(0, 1)
    ax.set_xticks(np.linspace(0, 1, 6), [f"{v:.0%}" for v in np.linspace(0, 1, 6)])
    ax.set_xlabel("probability · thick bar: dealsim · thin bars: base rate of the other cases, "
                  "then of the other cases of the same kind\noutlined: what happened by the "
                  "horizon · right: what happened; Brier score of dealsim vs the base rates "
                  "(red where a base rate is better)", fontsize=8.5)
    handles = [Rectangle((0, 0), 1, 1, color=COLOURS[o]) for o in OUTCOMES]
    ax.legend(handles, OUTCOMES, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              ncol=len(OUTCOMES), fontsize=8.5)
    fig.text(0.01, 0.995, "Forecasts against what happened", ha="left", va="top",
             fontsize=12.5, fontweight="bold")
    fig.text(0.01, 0.995 - 0.3 / fig.get_figheight(),
             f"{n} forecasts · {runs:,} runs per case · seed {seed}", ha="left", va="top",
             fontsize=9, color=NEUTRAL)
    fig.tight_layout(rect=(0, 0, 0.88, 1 - 0.75 / fig.get_figheight()))
    return save_figure(fig, path)


@styled
def scores_by_kind(scored: Sequence[Scored], runs: int, seed: int, path: Path) -> Path:
    """Per kind of case and for all cases: the mean Brier and log scores of dealsim and of
    both base rates, and the mean forecast of each outcome against how often it happened."""
    groups = by_kind(scored)
    names = list(groups)
    n = len(names)
    y = np.arange(n)[::-1].astype(float)
    fig, (brier_ax, log_ax, mix_ax) = subplots(
        1, 3, figsize=(13, 1.9 + 0.85 * n), sharey=True,
        gridspec_kw={"width_ratios": [1, 1, 1.5]})
    bars = (("model", MODEL, "dealsim"), ("base", BASE, "base rate, leave-one-out"),
            ("kind", KIND, "base rate of the case's kind"))
    for ax, score, label in ((brier_ax, "brier", "mean Brier score (0 best, 2 worst)"),
                             (log_ax, "log", "mean log score (0 best)")):
        for k, (which, colour, name) in enumerate(bars):
            values = np.array([groups[g]["cases"][f"{score}_{which}"] for g in names])
            if np.isnan(values).all():
                continue
            rows = y + 0.25 - 0.25 * k
            ax.barh(rows, values, height=0.24, color="white" if which == "base" else colour,
                    edgecolor=colour, lw=1.2, label=name)
            for row, v in zip(rows, values, strict=True):
                if not math.isnan(v):
                    ax.text(v, row, f" {v:.2f}", va="center", fontsize=7.5)
        ax.set_xlim(0, ax.get_xlim()[1] * 1.15)
        ax.set_xlabel(label)
    brier_ax.set_title("Brier score", loc="left", fontsize=11)
    log_ax.set_title("Log score", loc="left", fontsize=11)
    for row, g in zip(y, names, strict=True):
        m = groups[g]["cases"]
        for bar_y, height, prefix, alpha in ((row + 0.12, 0.42, "forecast", 1.0),
                                             (row - 0.24, 0.2, "observed", 0.55)):
            left = 0.0
            for o in OUTCOMES:
                width = m[f"{prefix}_{o}"]
                mix_ax.barh(bar_y, width, left=left, height=height, color=COLOURS[o],
                            alpha=alpha, edgecolor="white", lw=0.5)
                if prefix == "forecast" and width >= 0.08:
                    mix_ax.text(left + width / 2, bar_y, f"{width:.0%}", ha="center",
                                va="center", fontsize=8, color="white", fontweight="bold")
                left += width
    mix_ax.set_xlim(0, 1)
    mix_ax.set_xticks(np.linspace(0, 1, 6), [f"{v:.0%}" for v in np.linspace(0, 1, 6)])
    mix_ax.set_xlabel("share of cases · thick bar: dealsim's mean forecast\n"
                      "thin bar: how often each outcome happened (by the horizon)")
    mix_ax.set_title("Mean forecast against what happened", loc="left", fontsize=11)
    def count(n: float, what: str) -> str:
        """``n`` things: a count (an int, held among the float means by ``overall``)."""
        return f"{int(n)} {what}" + ("s" if n != 1 else "")

    brier_ax.set_yticks(y, [f"{drawable(g)}\n{count(groups[g]['cases']['n'], 'case')}, "
                            f"{count(groups[g]['forecasts']['n'], 'forecast')}" for g in names],
                        fontsize=8.5)
    brier_ax.set_ylim(-0.6, n - 0.4)
    fig.text(0.01, 0.995, "Scores by kind of case: where does dealsim beat the base rates?",
             ha="left", va="top", fontsize=12.5, fontweight="bold")
    fig.text(0.01, 0.995 - 0.3 / fig.get_figheight(),
             f"means by case (a case's dated variants averaged first) · {len(scored)} "
             f"forecasts · {runs:,} runs per case · seed {seed}", ha="left", va="top",
             fontsize=9, color=NEUTRAL)
    top = 1 - 1.05 / fig.get_figheight()
    fig.tight_layout(rect=(0, 0, 1, top))
    legend_y = top + 0.32 / fig.get_figheight()  # one row of legends above the panels
    fig.legend(*brier_ax.get_legend_handles_labels(), loc="center left",
               bbox_to_anchor=(0.01, legend_y), ncol=3, fontsize=8.5)
    fig.legend([Rectangle((0, 0), 1, 1, color=COLOURS[o]) for o in OUTCOMES], OUTCOMES,
               loc="center right", bbox_to_anchor=(0.99, legend_y), ncol=len(OUTCOMES),
               fontsize=8.5)
    return save_figure(fig, path)


def draw_all(scored: Sequence[Scored], runs: int, seed: int, out: Path) -> list[Path]:
    return [reliability(scored, runs, seed, out / "reliability.png"),
            forecasts(scored, runs, seed, out / "forecasts.png"),
            scores_by_kind(scored, runs, seed, out / "by_kind.png")]
