"""The printed tables of a backtest: each forecast and its scores, then the means by kind."""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.analysis.backtest import ALL, Scored, by_kind, skill
from sim.model.outcome import OUTCOMES
from sim.outputs.safe import printable, printable_lines


def _num(value: float, width: int) -> str:
    return f"{'—':>{width}}" if math.isnan(value) else f"{value:{width}.3f}"


SHORT = {"sale": "sale", "shutdown": "shut", "abandoned": "aband", "unresolved": "unres"}
LABEL = 36  # width of the label column, up to the forecast's


def _scores(m: dict[str, float]) -> str:
    return (f"{_num(m['brier_model'], 7)}{_num(m['brier_base'], 6)}"
            f"{_num(m['brier_kind'], 6)}{_num(m['log_model'], 9)}"
            f"{_num(m['log_base'], 6)}{_num(m['log_kind'], 6)}")


def format_table(scored: Sequence[Scored], runs: int, seed: int) -> str:
    """The backtest for the terminal, each line printable (a case file's name or a kind
    holding a terminal escape is shown escaped)."""
    cases = {s.case.case_id for s in scored}
    width = 6 * len(OUTCOMES)  # the forecast's columns
    lines = [f"dealsim backtest — {len(scored)} forecasts of {len(cases)} cases · "
             f"{runs:,} runs each · seed {seed}", "",
             f"  {'case file':<{LABEL}}{'model forecast %':>{width}}   {'what happened':<13}"
             f"{'Brier':>15}{'log score':>21}",
             f"  {'':<{LABEL}}" + "".join(f"{SHORT[o]:>6}" for o in OUTCOMES)
             + f"   {'(at horizon)':<13}"
             f"{'model':>7}{'base':>6}{'kind':>6}{'model':>9}{'base':>6}{'kind':>6}"]
    for s in scored:
        lines.append(f"  {printable(s.case.path.stem)[:LABEL]:<{LABEL}}"
                     + "".join(f"{100 * p:6.1f}" for p in s.model)
                     + f"   {OUTCOMES[s.case.scored]:<13}{_scores(s.scores())}")
    groups = by_kind(scored)
    means = groups[ALL]
    lines.append("")
    left = LABEL + width + 16  # the label columns up to the scores
    for key, label in (("forecasts", f"mean over {len(scored)} forecasts"),
                       ("cases", f"mean over {len(cases)} cases (variants averaged)")):
        lines.append(f"  {label:<{left}}{_scores(means[key])}")
    m = means["cases"]
    lines += ["", "  skill (1 − model/bar, by case; above 0: the model is better): "
              f"against the base rate Brier {skill(m['brier_model'], m['brier_base']):+.0%}, "
              f"log {skill(m['log_model'], m['log_base']):+.0%}"]
    if not math.isnan(m["brier_kind"]):
        lines.append(f"{'':<64}against the kind base rate Brier "
                     f"{skill(m['brier_model'], m['brier_kind']):+.0%}, "
                     f"log {skill(m['log_model'], m['log_kind']):+.0%}")
    lines += ["", *format_by_kind(groups)]
    lines += ["", f"  Brier: sum over the {len(OUTCOMES)} outcomes of (p − y)², 0 best, 2 worst; "
              "log score: −ln p(what happened), 0 best.",
              "  base: outcome frequencies of the other cases (leave-one-out); kind: the same "
              "among cases of the same kind;",
              f"  every forecast smoothed (count + ½)/(n + {len(OUTCOMES) / 2:g})."]
    return printable_lines(lines)


def format_by_kind(groups: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    """The scores and the mean forecast against what happened, per kind and for all cases
    (by case: each case's dated variants averaged first)."""
    left = LABEL + 6 * len(OUTCOMES) + 16  # the scores stand under the table's
    lines = [f"  {'by kind, means by case':<{left}}{'Brier':>15}{'log score':>21}",
             f"  {'':<20}{'cases':>6}{'forecasts':>10}{'':<{left - 36}}"
             f"{'model':>7}{'base':>6}{'kind':>6}{'model':>9}{'base':>6}{'kind':>6}"]
    for group, found in groups.items():
        label = f"{printable(group):<20}{found['cases']['n']:>6}{found['forecasts']['n']:>10}"
        lines.append(f"  {label:<{left}}{_scores(found['cases'])}")
    lines += ["", "  mean forecast against how often it happened, % of cases: "
                  "forecast, observed, difference",
              f"  {'':<20}" + "".join(f"{o:>19}" for o in OUTCOMES),
              f"  {'':<20}" + f"{'fcst':>6}{'obs':>6}{'diff':>7}" * len(OUTCOMES)]
    for group, found in groups.items():
        m = found["cases"]
        lines.append(f"  {printable(group):<20}" + "".join(
            f"{100 * m[f'forecast_{o}']:6.1f}{100 * m[f'observed_{o}']:6.1f}"
            f"{round(100 * m[f'difference_{o}'], 1) + 0.0:+7.1f}"  # + 0.0: no "-0.0"
            for o in OUTCOMES))
    return lines
