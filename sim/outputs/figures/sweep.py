"""Figures of a sweep: probabilities against a parameter, heatmaps, tornado, Sobol' indices
and scenario-discovery boxes, in the house style and outcome colours of ``sim.outputs.style``
(each drawn on its own ``Figure`` inside ``styled``, so no global settings change)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.analysis import stats
from sim.analysis.designs import DESIGNS
from sim.analysis.sweep import SweepAnalysis, SweepRun
from sim.model.outcome import OUTCOMES
from sim.outputs.style import COLOURS, drawable, head, save_figure, styled, subplots

DISCOVERY_FIRST = ("shutdown", "abandoned", "sale")  # whose box the discovery figure shows


def _label(run: SweepRun, path: str) -> str:
    shown = drawable(path)  # a key path holds a bidder's name: drawn as text, never mathtext
    return f"{shown} (shift, days)" if path.endswith(".date") or path == "start" else shown


def _head(fig: Figure, title: str, run: SweepRun, top: float = 0.86) -> None:
    sweep = run.sweep
    head(fig, title, f"{drawable(run.base.name)} · sweep {drawable(sweep.name)} · "
         f"{len(run.rows)} points × "
         f"{sweep.runs:,} runs (common random numbers) · seed {sweep.seed}", top)


@styled
def line(run: SweepRun, path: Path) -> Path:
    name = run.sweep.names[0]
    x = np.array([r[name] for r in run.rows])
    fig, ax = subplots(figsize=(8.5, 4.6))
    for outcome in OUTCOMES:
        p = np.array([r[f"p_{outcome}"] for r in run.rows]) * 100
        low = np.array([r[f"p_{outcome}_low"] for r in run.rows]) * 100
        high = np.array([r[f"p_{outcome}_high"] for r in run.rows]) * 100
        ax.fill_between(x, low, high, color=COLOURS[outcome], alpha=0.2, lw=0)
        ax.plot(x, p, marker="o", ms=4, color=COLOURS[outcome], lw=2, label=outcome)
    ax.set_ylim(0, 100)
    ax.set_xlabel(_label(run, name))
    ax.set_ylabel("probability (%)")
    ax.legend(title="outcome (band: 95% interval)", loc="upper left",
              bbox_to_anchor=(1.01, 1))
    ax.grid(alpha=0.3)
    _head(fig, f"How the ending moves with {drawable(name)}", run)
    return save_figure(fig, path)


@styled
def heatmap(run: SweepRun, path: Path) -> Path:
    a, b = run.sweep.names
    xs = sorted({r[a] for r in run.rows})
    ys = sorted({r[b] for r in run.rows})
    fig, axes = subplots(1, len(OUTCOMES), figsize=(4.4 * len(OUTCOMES), 4.6), sharey=True)
    for ax, outcome in zip(axes, OUTCOMES, strict=True):
        grid = np.full((len(ys), len(xs)), np.nan)
        for r in run.rows:
            grid[ys.index(r[b]), xs.index(r[a])] = r[f"p_{outcome}"] * 100
        image = ax.imshow(grid, origin="lower", aspect="auto", vmin=0, vmax=100,
                          cmap="cividis", extent=(-0.5, len(xs) - 0.5, -0.5, len(ys) - 0.5))
        if len(xs) * len(ys) <= 120:
            for (i, j), value in np.ndenumerate(grid):
                ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=8,
                        color="white" if value < 55 else "black")
        ax.set_xticks(range(len(xs)), [f"{v:.3g}" for v in xs], rotation=45)
        ax.set_yticks(range(len(ys)), [f"{v:.3g}" for v in ys])
        ax.set_title(f"P({outcome}) %", loc="left", fontsize=11, color=COLOURS[outcome])
        ax.set_xlabel(_label(run, a))
    axes[0].set_ylabel(_label(run, b))
    _head(fig, "How the ending moves with two parameters", run, top=0.84)
    fig.subplots_adjust(right=0.9)
    fig.colorbar(image, cax=fig.add_axes((0.92, 0.22, 0.012, 0.6)), label="probability (%)")
    return save_figure(fig, path)


@styled
def scatter(run: SweepRun, path: Path) -> Path:
    names = run.sweep.names
    cols = min(3, len(names))
    rows_n = int(np.ceil(len(names) / cols))
    fig, axes = subplots(rows_n, cols, figsize=(4.2 * cols, 3.2 * rows_n + 1),
                             squeeze=False, sharey=True)
    for ax, name in zip(axes.flat, names, strict=False):
        x = np.array([r[name] for r in run.rows])
        for _, outcome in stats.RESOLVED:
            ax.scatter(x, [r[f"p_{outcome}"] * 100 for r in run.rows], s=10,
                       color=COLOURS[outcome], alpha=0.7, label=outcome)
        ax.set_xlabel(_label(run, name), fontsize=8.5)
        ax.set_ylim(0, 100)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel("probability (%)")
    axes.flat[0].legend(fontsize=8.5)
    _head(fig, f"Each point of the {run.sweep.design} design: P(" + "), P(".join(
        name for _, name in stats.RESOLVED) + ")", run,
          top=1 - 0.6 / fig.get_figheight())
    return save_figure(fig, path)


@styled
def tornado(run: SweepRun, analysis: SweepAnalysis, path: Path) -> Path:
    outputs = list(analysis.tornado)
    n = len(run.sweep.names)
    fig, axes = subplots(1, len(outputs), figsize=(4.8 * len(outputs), 1.8 + 0.55 * n))
    for ax, output in zip(np.atleast_1d(axes), outputs, strict=True):
        outcome = output.removeprefix("p_")
        base = analysis.tornado_base[output] * 100
        swings = analysis.tornado[output][::-1]
        for y, w in enumerate(swings):
            low, high = w.at_low * 100, w.at_high * 100
            ax.barh(y, low - base, left=base, color=COLOURS[outcome], alpha=0.45, height=0.6)
            ax.barh(y, high - base, left=base, color=COLOURS[outcome], height=0.6)
            ax.text(min(low, high) - 0.8, y, f"{min(low, high):.0f}%", ha="right",
                    va="center", fontsize=8)
            ax.text(max(low, high) + 0.8, y, f"{max(low, high):.0f}%", ha="left",
                    va="center", fontsize=8)
        ax.set_yticks(range(len(swings)),
                      [f"{drawable(w.name)}\n[{w.low_value:g} → {w.high_value:g}]"
                       for w in swings],
                      fontsize=8)
        ax.axvline(base, color="black", lw=1)
        ax.set_xlabel(f"P({outcome}) %, base {base:.1f}%\npale: input at low, dark: at high")
        ax.set_title(f"P({outcome})", loc="left", fontsize=11, color=COLOURS[outcome])
        ends = [v * 100 for w in swings for v in (w.at_low, w.at_high)] + [base]
        ax.set_xlim(max(0.0, min(ends) - 12), min(100.0, max(ends) + 12))
    _head(fig, "Which inputs move the ending most? One at a time, others at base", run,
          top=1 - 0.7 / fig.get_figheight())
    return save_figure(fig, path)


@styled
def sobol(run: SweepRun, analysis: SweepAnalysis, path: Path) -> Path:
    results = analysis.sobol
    names = run.sweep.names
    rows = int(np.ceil(len(results) / 2))
    fig, axes = subplots(rows, 2, figsize=(11, 0.9 + rows * (1.5 + 0.5 * len(names))),
                             sharey=True, squeeze=False)
    titles = {"days_median": "median days to resolution",
              **{f"p_{name}": f"P({name})" for name in OUTCOMES}}
    order = np.argsort(results[0].total)
    y = np.arange(len(names))
    for ax in axes.flat[len(results):]:
        ax.axis("off")
    for ax, s in zip(axes.flat, results, strict=False):
        ax.barh(y + 0.18, s.total[order], height=0.36, xerr=s.total_conf[order],
                color="#444444", capsize=3, label="total effect (ST)")
        ax.barh(y - 0.18, s.first[order], height=0.36, xerr=s.first_conf[order],
                color="#E69F00", capsize=3, label="first order (S1)")
        ax.set_title(titles[s.output], loc="left", fontsize=11)
        ax.set_xlim(-0.25, 1.15)  # an index lies in [0, 1]; wider bars are noise, clipped
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("Sobol' index (share of variance), ±95% bootstrap\n"
                      "(wide bars: too few samples for this output)")
    for ax in axes[:, 0]:
        ax.set_yticks(y, [drawable(names[i]) for i in order], fontsize=8.5)
    axes[0, 0].legend(fontsize=8.5, loc="lower right")
    _head(fig, "Which inputs matter? Global sensitivity (Sobol' indices, SALib)", run,
          top=1 - 0.7 / fig.get_figheight())
    return save_figure(fig, path)


@styled
def discovery_boxes(run: SweepRun, analysis: SweepAnalysis, path: Path) -> Path | None:
    found = [analysis.discovery[o] for o in DISCOVERY_FIRST if analysis.discovery.get(o)]
    sample = analysis.discovery_sample
    if not found or sample is None:
        return None
    box = found[0][0]
    inputs, outcome = sample.inputs, sample.outcome
    axes_names = list(box.bounds)[:2]
    if len(axes_names) < 2:
        others = [n for n in inputs if n not in axes_names]
        if not others:
            return None
        hit = outcome == OUTCOMES.index(box.outcome)
        axes_names.append(max(others, key=lambda n: abs(np.corrcoef(inputs[n], hit)[0, 1])))
    a, b = axes_names
    keep = np.random.default_rng(0).permutation(len(outcome))[:3000]
    fig, ax = subplots(figsize=(8.5, 5.4))
    for code, name in enumerate(OUTCOMES):
        mask = outcome[keep] == code
        ax.scatter(inputs[a][keep][mask], inputs[b][keep][mask], s=6, alpha=0.5,
                   color=COLOURS[name], label=name)
    (alow, ahigh) = box.bounds.get(a, (-np.inf, np.inf))
    (blow, bhigh) = box.bounds.get(b, (-np.inf, np.inf))
    xlim, ylim = ax.get_xlim(), ax.get_ylim()
    x0, x1 = max(alow, xlim[0]), min(ahigh, xlim[1])
    y0, y1 = max(blow, ylim[0]), min(bhigh, ylim[1])
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=2, ec="black"))
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(drawable(a))
    ax.set_ylabel(drawable(b))
    ax.legend(title="run ended in", loc="upper left", bbox_to_anchor=(1.01, 1), markerscale=3)
    wrapped = "\nand ".join(drawable(part) for part in box.rule.split(" and "))
    ax.text(1.02, 0.35, f"box ({box.outcome}):\n{wrapped}\n\ndensity {box.density:.0%} "
            f"(base {box.base_rate:.0%})\ncoverage {box.coverage:.0%}",
            transform=ax.transAxes, fontsize=8.5, va="top")
    _head(fig, f"Where does {box.outcome} come from? Scenario discovery on the sampled inputs",
          run, top=0.88)
    return save_figure(fig, path)


def draw_all(run: SweepRun, analysis: SweepAnalysis, out: Path) -> list[Path]:
    """Each figure the sweep's points and analysis have: the points by how the design
    lays them out (not by its name, so a new design needs no change here)."""
    layout, n = DESIGNS[run.sweep.design].LAYOUT, len(run.sweep.names)
    drawn: list[Path | None] = []
    if layout == "grid" and n == 1:
        drawn.append(line(run, out / "probabilities.png"))
    elif layout == "grid":
        drawn.append(heatmap(run, out / "heatmap.png"))
    elif layout == "spread":
        drawn.append(scatter(run, out / "points.png"))
    if analysis.tornado:
        drawn.append(tornado(run, analysis, out / "tornado.png"))
    if analysis.sobol:
        drawn.append(sobol(run, analysis, out / "sobol_indices.png"))
    if analysis.discovery:
        drawn.append(discovery_boxes(run, analysis, out / "discovery.png"))
    return [p for p in drawn if p is not None]
