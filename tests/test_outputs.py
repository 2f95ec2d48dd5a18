"""The output layer speaks model v2's taxonomy — four outcomes, the state of an unresolved
run, dark days, forbearances, suits, regime changes — checked on synthetic results built
column by column, so nothing here runs the model: the table's spelling, the summary's
numbers against hand-computed values, the printout, report.html's table, the figures,
compare and sweep tables."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import matplotlib.image
import numpy as np
import pytest

from sim.analysis import stats
from sim.analysis.summary import summarise
from sim.commands import replay
from sim.model.outcome import ABANDONED, OUTCOMES, SALE, SHUTDOWN, STATES, UNRESOLVED, Outcome
from sim.outputs import report_page as html_report
from sim.outputs.figures import run as plots
from sim.outputs.style import COLOURS
from sim.outputs.tables import write_replications
from sim.outputs.text.run import format_summary
from sim.running.results import DTYPES, Results, Run

START = dt.date(2024, 4, 24)
HORIZON = 100.0


def results(outcome: list[int], **given: Any) -> Results:
    """Results with the given columns; every other column is what a run without the
    event would hold (no winner, no price, state "" when resolved, no dark day...)."""
    n = len(outcome)
    blank = {"winner": -1, "structure": -1, "technology": -1, "home_approved": -1,
             "price_bn": np.nan, "stake_price_bn": np.nan, "parent_stake": np.nan,
             "agreement_day": np.nan, "agreement_vs_deadline": np.nan}
    columns = {name: np.full(n, blank.get(name, 0), dtype=dtype)
               for name, dtype in DTYPES.items()}
    columns["outcome"] = np.asarray(outcome, dtype=np.int8)
    columns["day"] = np.where(columns["outcome"] == UNRESOLVED, HORIZON, 10.0)
    for name, values in given.items():
        columns[name] = np.asarray(values, dtype=DTYPES.get(name, float))
    return Results(columns)


def fake_run(r: Results, path: Path = Path("synthetic.yaml")) -> Run:
    """A Run around synthetic results, with a stand-in for the scenario: the outputs read
    only its name, dates, due dates and suitors."""
    due = SimpleNamespace(key="instruments.ban", label="ban", kind="service_ban", dark=True,
                          date=START + dt.timedelta(days=60), day=60.0)
    scenario = SimpleNamespace(
        name="synthetic", description="", start=START, horizon_days=HORIZON,
        due_dates=[due], suitors=[SimpleNamespace(name="A"), SimpleNamespace(name="B")],
        date_of=lambda day: START + dt.timedelta(days=int(day)),
        source=SimpleNamespace(text="", path=None, sha256="0" * 64))
    return Run(scenario, path, r, 7, 1)  # type: ignore[arg-type]


# Ten runs: 2 sales, 2 shutdowns, 1 abandoned, 5 unresolved (3 enjoined, 2 forborne).
S, D, A, U = SALE, SHUTDOWN, ABANDONED, UNRESOLVED
ENJOINED, FORBORNE = STATES.index("enjoined"), STATES.index("forborne")
TEN = dict(
    outcome=[S, S, D, D, A, U, U, U, U, U],
    state=[0, 0, 0, 0, 0, ENJOINED, ENJOINED, ENJOINED, FORBORNE, FORBORNE],
    day=[20, 40, 30, 50, 70, HORIZON, HORIZON, HORIZON, HORIZON, HORIZON],
    winner=[0, 1, -1, -1, -1, -1, -1, -1, -1, -1],
    price_bn=[10, 20, *[np.nan] * 8],  # per 100%: a full sale, and a majority sale of 25%
    stake_price_bn=[10, 5, *[np.nan] * 8],
    parent_stake=[0, 0.75, *[np.nan] * 8],
    structure=[0, 2, *[-1] * 8],
    days_dark=[0, 0, 70, 50, 0, 0.5, 0, 0, 0, 0],  # three runs with a dark day
    forbearances=[0, 0, 0, 0, 0, 0, 0, 0, 2, 1],
    suits=[0, 0, 1, 0, 0, 2, 1, 1, 0, 0],  # four runs with a suit
    injunction=[0, 0, 0, 0, 0, 1, 1, 1, 0, 0],
    regime_change=[0, 0, 0, 0, 0, 0, 0, 0, 1, 1],
)


@pytest.fixture
def ten() -> Run:
    fields = dict(TEN)
    return fake_run(results(fields.pop("outcome"), **fields))


# --- results.py -----------------------------------------------------------------------

def test_dtypes_follow_the_outcome_row() -> None:
    assert tuple(DTYPES) == Outcome._fields
    assert DTYPES["state"] == np.int8 and DTYPES["days_dark"] == np.float64
    assert DTYPES["forbearances"] == DTYPES["suits"] == np.int16
    assert DTYPES["regime_change"] == np.bool_


def test_rows_become_typed_columns() -> None:
    row = dict(outcome=UNRESOLVED, day=HORIZON, winner=-1, price_bn=np.nan,
               stake_price_bn=np.nan, structure=-1, parent_stake=np.nan, technology=-1,
               state=ENJOINED, days_dark=0.6, extensions=1, forbearances=2,
               injunction=True, suits=3, regime_change=True, phases=1, home_approved=-1,
               agreement_day=np.nan, agreement_vs_deadline=np.nan, deals_signed=0,
               refilings=2, mitigation_rounds=3)
    r = Results.from_rows([Outcome(**row)], {})
    for name, value in row.items():
        assert r[name].dtype == DTYPES[name], name
        np.testing.assert_equal(r[name][0], value)


def test_csv_spells_outcome_and_state(tmp_path: Path, ten: Run) -> None:
    write_replications(ten, tmp_path / "replications.csv")
    rows = list(csv.DictReader((tmp_path / "replications.csv").open()))
    assert [r["outcome"] for r in rows] == ["sale", "sale", "shutdown", "shutdown",
                                            "abandoned", *["unresolved"] * 5]
    assert [r["state"] for r in rows] == ["", "", "", "", "", "enjoined", "enjoined",
                                          "enjoined", "forborne", "forborne"]
    assert [r["winner"] for r in rows[:3]] == ["A", "B", ""]
    assert [r["days_dark"] for r in rows[2:6]] == ["70", "50", "0", "0.5"]
    assert [r["regime_change"] for r in rows[7:]] == ["0", "1", "1"]
    assert [r["forbearances"] for r in rows[7:]] == ["0", "2", "1"]


# --- the summary ----------------------------------------------------------------------

def test_summary_numbers_by_hand(ten: Run) -> None:
    data = summarise(ten).numbers()
    assert list(data["outcomes"]) == list(OUTCOMES)
    assert [data["outcomes"][o]["count"] for o in OUTCOMES] == [2, 2, 1, 5]
    # Wilson's interval of 2 in 10 by hand: (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / (1 + z²/n)
    assert data["outcomes"]["sale"]["ci95"] == pytest.approx([0.05668, 0.50984], abs=1e-5)
    # the states: shares of all runs, adding up to P(unresolved)
    states = data["unresolved_by_state"]
    assert list(states) == [s for s in STATES if s]
    assert states["enjoined"]["count"] == 3 and states["enjoined"]["probability"] == 0.3
    assert states["forborne"]["probability"] == 0.2
    assert states["forborne"]["ci95"] == data["outcomes"]["sale"]["ci95"]  # also 2 in 10
    assert states["lapsed"] == {"count": 0, "probability": 0.0,
                                "ci95": pytest.approx([0.0, 0.27753], abs=1e-5)}
    assert sum(v["probability"] for v in states.values()) == pytest.approx(0.5)
    # what happened on the way
    assert data["days_dark_mean"] == pytest.approx(120.5 / 10)
    assert data["dark"]["count"] == 3 and data["dark"]["probability"] == 0.3
    assert data["forbearances_mean"] == pytest.approx(0.3)
    assert data["suit"]["count"] == 4 and data["suit"]["ci95"] == pytest.approx(
        [stats.proportion(4, 10).low, stats.proportion(4, 10).high])
    assert data["injunction"]["probability"] == 0.3
    assert data["regime_change"]["probability"] == 0.2
    # timing per ending, abandoned included; the single abandoned run is every quantile
    given = data["days_to_resolution"]
    assert set(given) == {"all_runs_censored_at_horizon", "given_sale", "given_shutdown",
                          "given_abandoned"}
    assert given["given_abandoned"]["days"] == {"p10": 70.0, "p50": 70.0, "p90": 70.0}
    assert given["given_abandoned"]["dates"]["p50"] == "2024-07-03"
    assert given["given_sale"]["days"]["p50"] == 30.0
    assert given["all_runs_censored_at_horizon"]["days"]["p90"] is None  # half never end


def test_resolved_endings_are_every_outcome_but_unresolved() -> None:
    assert stats.RESOLVED == ((SALE, "sale"), (SHUTDOWN, "shutdown"),
                              (ABANDONED, "abandoned"))


def test_no_unresolved_run_means_no_state() -> None:
    r = results([SALE, SHUTDOWN, ABANDONED])
    assert all(p.count == 0 for p in stats.state_probabilities(r).values())
    # a stray state on a resolved run is not counted as where an open run stood
    r = results([SALE, UNRESOLVED], state=[ENJOINED, ENJOINED])
    assert stats.state_probabilities(r)["enjoined"].count == 1


def test_replay_checks_every_number_of_the_summary(ten: Run) -> None:
    assert set(summarise(ten).numbers()) <= set(replay.NUMBERS)


def test_printed_summary(ten: Run) -> None:
    text = format_summary(ten, summarise(ten))
    lines = text.splitlines()
    for name, shown in (("sale", "20.0%"), ("shutdown", "20.0%"), ("abandoned", "10.0%"),
                        ("unresolved", "50.0%")):
        assert any(line.split()[:2] == [name, shown] for line in lines), name
    # only the states some run ended in, each with its words, indented under unresolved
    assert "      enjoined" in text and "enforcement enjoined in court" in text
    assert "      forborne" in text and "lapsed" not in text
    assert "abandoned day: median day 70 (2024-07-03)" in text
    assert ("price given a sale (USD bn per 100%): median 15.0, 10–90%: 11.0–19.0; for the "
            "stake sold: median 7.5, 10–90%: 5.5–9.5") in text
    assert ("sales in which the parent keeps 50% or more (a partnership, not a divestiture): "
            "10.0% of all runs") in text
    assert "0.30 forbearances, 12.1 days dark" in text
    assert ("share of runs with a dark day 30.0% · a suit 40.0% · an injunction 30.0% · "
            "a regime change 20.0%") in text
    enjoined = next(line for line in lines if line.strip().startswith("enjoined"))
    sale = next(line for line in lines if line.strip().startswith("sale "))
    assert enjoined.index("%") == sale.index("%")  # the columns line up


# --- report.html ----------------------------------------------------------------------

def test_html_glossary_describes_the_four_outcomes() -> None:
    meaning = html_report.OUTCOME_MEANING
    assert list(meaning) == list(OUTCOMES) == list(html_report.OUTCOME_COLOURS)
    assert "qualifying deal closed" in meaning["sale"]
    assert "not restored by the horizon" in meaning["shutdown"]
    assert "terminated or abandoned" in meaning["abandoned"]
    assert "none of these" in meaning["unresolved"]


def test_html_outcome_table_lists_the_states(ten: Run) -> None:
    page = html_report.render_part(
        "outcomes.html.j2", html_report.results_context(ten, summarise(ten)))
    for name in OUTCOMES:
        assert f'id="outcome-{name}"' in page
    assert 'id="state-enjoined"' in page and "30.0%" in page
    assert "enforcement suspended (forbearance)" in page
    assert 'id="state-lapsed"' not in page  # no run ended there


def test_html_timing_lists_abandoned_and_the_counts(ten: Run) -> None:
    text = html_report.render_part(
        "timing.html.j2", html_report.results_context(ten, summarise(ten)))
    assert "Given a abandoned" not in text  # the wording of each ending reads well
    assert "abandoned: median day 70" in text
    assert "0.30 forbearances" in text and "a regime change: 20.0%" in text


# --- figures --------------------------------------------------------------------------

def test_each_outcome_has_its_own_colour() -> None:
    colours = [COLOURS[o] for o in OUTCOMES]
    assert len(set(colours)) == len(OUTCOMES)
    assert COLOURS["abandoned"] == "#CC79A7"  # Okabe–Ito reddish purple


@pytest.mark.parametrize("name", [name if name == "outcomes.png" else  # one in the fast tier
                                  pytest.param(name, marks=pytest.mark.slow)
                                  for name in plots.FIGURES])
def test_figures_draw_from_synthetic_results(tmp_path: Path, name: str) -> None:
    g = np.random.default_rng(1)
    outcome = g.choice(len(OUTCOMES), 2000).tolist()
    unresolved = np.array(outcome) == UNRESOLVED
    agreed = g.uniform(0, 60, 2000)
    r = results(outcome, day=np.where(unresolved, HORIZON, g.uniform(1, 99, 2000)),
                state=np.where(unresolved, g.choice([ENJOINED, FORBORNE], 2000), 0),
                winner=np.where(np.array(outcome) == SALE, g.integers(0, 2, 2000), -1),
                price_bn=np.where(np.array(outcome) == SALE, g.uniform(5, 9, 2000), np.nan),
                agreement_day=agreed, agreement_vs_deadline=agreed - 60)
    run = fake_run(r)
    path = plots.FIGURES[name](run, summarise(run), tmp_path / name)
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 250 and image.shape[1] > 500 and image.std() > 0.05


# --- compare and sweeps ---------------------------------------------------------------

def test_compare_counts_every_outcome(tmp_path: Path) -> None:
    from sim.analysis.compare import comparison

    path = tmp_path / "x.yaml"
    path.write_text("name: x\n")
    a = fake_run(results([S, D, A, U, U]), path)
    b = fake_run(results([S, A, A, U, D]), path)
    data = comparison([a, b], ["a", "b"])
    diff = data["differences"][0]
    assert list(diff["outcomes"]) == list(OUTCOMES)
    assert diff["outcomes"]["abandoned"]["difference"] == pytest.approx(0.2)
    assert diff["transitions"]["shutdown"]["abandoned"] == 1
    assert diff["transitions"]["unresolved"] == {"sale": 0, "shutdown": 1, "abandoned": 0,
                                                 "unresolved": 1}
    assert diff["same_outcome_share"] == pytest.approx(0.6)


def test_sweep_table_and_analysis_outputs_include_abandoned() -> None:
    from sim.analysis import sweep
    from sim.analysis.designs.common import SweepAnalysis
    from sim.outputs.text.sweep import summary_lines

    assert sweep.OUTPUTS == ("p_sale", "p_shutdown", "p_abandoned", "days_median")
    spec = sweep.Sweep(name="t", design="grid",
                       parameters={"x": sweep.Range(low=0, high=1, points=2)})
    rows = [{"x": float(x), **sweep.point_stats(results([S, D, A, U] if x else [A, A, U, U]))}
            for x in (0, 1)]
    run = sweep.SweepRun(spec, SimpleNamespace(name="base"), Path("b.yaml"),  # type: ignore[arg-type]
                         [{"x": 0.0}, {"x": 1.0}], rows, 0)
    table = list(csv.DictReader(sweep.table_text(run).splitlines()))
    assert [float(r["p_abandoned"]) for r in table] == [0.5, 0.25]
    assert {f"p_{o}{end}" for o in OUTCOMES for end in ("", "_low", "_high")} <= set(table[0])
    head = next(line for line in summary_lines(run, SweepAnalysis()) if "P(sale)" in line)
    assert head.split()[-4:] == [f"P({o})" for o in OUTCOMES]
