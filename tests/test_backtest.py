"""The case library and the backtest: scores against hand-computed values, the
leave-one-out base rate, the ``actual`` block the simulation never reads, the command end
to end on ``scenarios/cases/``, and the deadline effect of bargaining experiments.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import matplotlib.image
import numpy as np
import pytest
from conftest import ROOT, deadline_effect_scenario, realistic, run, scenario_from

from sim.analysis import backtest
from sim.commands import backtest as backtest_command
from sim.errors import ScenarioError
from sim.model.outcome import ABANDONED, OUTCOMES, SALE, SHUTDOWN, UNRESOLVED
from sim.outputs import backtest_folder
from sim.outputs.text import backtest as backtest_text
from sim.scenario.loading import load_scenario, parse_scenario

CASES = ROOT / "scenarios" / "cases"


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


# --- scores against hand-computed values ----------------------------------------------

def test_forecast_smoothing_by_hand():
    # 6 sales, 3 shutdowns, 1 abandoned, 0 unresolved in 10 runs: (k + 1/2) / (10 + 4/2)
    np.testing.assert_allclose(backtest.forecast([6, 3, 1, 0]), [6.5 / 12, 3.5 / 12,
                                                                  1.5 / 12, 0.5 / 12])
    np.testing.assert_allclose(backtest.forecast([0, 0, 0, 0]), [1 / 4] * 4)
    assert backtest.forecast([2000, 0, 0, 0])[1] == pytest.approx(0.5 / 2002)


def test_brier_and_log_score_by_hand():
    p = [6.5 / 12, 3.5 / 12, 1.5 / 12, 0.5 / 12]  # the forecast above
    # shutdown happened: (6.5² + (12 − 3.5)² + 1.5² + 0.5²) / 12² = 117 / 144
    assert backtest.brier(p, SHUTDOWN) == pytest.approx(117 / 144, abs=1e-12)
    assert backtest.brier(p, SHUTDOWN) == 0.8125
    # −ln(3.5 / 12) = ln(24 / 7)
    assert backtest.log_score(p, SHUTDOWN) == pytest.approx(math.log(24 / 7), abs=1e-12)
    assert backtest.log_score(p, SHUTDOWN) == pytest.approx(1.2321436813, abs=1e-9)
    # abandoned happened: (6.5² + 3.5² + 10.5² + 0.5²) / 144 = 165 / 144; −ln(1.5 / 12) = ln 8
    assert backtest.brier(p, ABANDONED) == pytest.approx(165 / 144, abs=1e-12)
    assert backtest.log_score(p, ABANDONED) == pytest.approx(math.log(8), abs=1e-12)
    # certainty and right: 0; certainty and wrong: the worst Brier, 2
    assert backtest.brier([1, 0, 0, 0], SALE) == 0.0
    assert backtest.brier([1, 0, 0, 0], ABANDONED) == 2.0
    assert backtest.log_score([1, 0, 0, 0], SALE) == 0.0
    # the uninformed forecaster: 3/16 + 9/16 = 3/4 and ln 4 whatever happens
    for k in range(len(OUTCOMES)):
        assert backtest.brier([1 / 4] * 4, k) == pytest.approx(3 / 4)
        assert backtest.log_score([1 / 4] * 4, k) == pytest.approx(math.log(4))


def test_skill_score():
    assert backtest.skill(0.25, 0.5) == 0.5
    assert backtest.skill(0.75, 0.5) == -0.5
    assert math.isnan(backtest.skill(0.1, 0.0))


def test_base_rate_leaves_the_whole_case_out():
    """Dated variants of one case share one vote, and never vote for themselves."""
    ids = ["a", "a", "b", "c", "d", "e", "e"]
    outs = [UNRESOLVED, UNRESOLVED, SALE, SHUTDOWN, SALE, SALE, ABANDONED]
    np.testing.assert_allclose(backtest.base_rate_counts(ids, outs, "a"), [2.5, 1, 0.5, 0])
    np.testing.assert_allclose(backtest.base_rate_counts(ids, outs, "b"), [1.5, 1, 0.5, 1])
    np.testing.assert_allclose(backtest.base_rate_counts(ids, outs, "e"), [2, 1, 0, 1])
    # every case appears in the others' base rates exactly once
    for leave in set(ids):
        assert backtest.base_rate_counts(ids, outs, leave).sum() == len(set(ids)) - 1
    # the kind base rate: only the other cases of the same kind ("a", "c" and "e" here)
    np.testing.assert_allclose(backtest.base_rate_counts(ids, outs, "a", {"a", "c", "e"}),
                               [0.5, 1, 0.5, 0])
    np.testing.assert_allclose(backtest.base_rate_counts(ids, outs, "b", {"b"}), [0, 0, 0, 0])


# --- scores by kind, on forecasts made up by hand (no model run) ------------------------

def _case(name: str, kind: str | None, outcome: str, case: str | None = None,
          state: str | None = None) -> backtest.Case:
    """A case with a stand-in scenario: the backtest reads only these fields of it."""
    actual = SimpleNamespace(outcome=outcome, state=state, kind=kind, case=case,
                             date=dt.date(2021, 2, 1))
    scenario = SimpleNamespace(name=name, start=dt.date(2021, 1, 1), horizon_days=100,
                               actual=actual)
    return backtest.Case(Path(f"cases/{name}.yaml"), scenario, case or name)  # type: ignore[arg-type]


UNIFORM = np.full(4, 0.25)


def _scored(case: backtest.Case, model: list[float]) -> backtest.Scored:
    return backtest.Scored(case, np.array(model) * 100, np.array(model), UNIFORM, UNIFORM, 0.0)


def hand_library() -> list[backtest.Scored]:
    """Case x (kind k1, seen on two dates) was a sale, y (k1) a shutdown, z (k2) abandoned,
    w (k2) still open at the horizon (its sale came later); the bars are uniform."""
    return [_scored(_case("x-1", "k1", "sale", "x"), [0.5, 0.5, 0, 0]),  # Brier 0.5, log ln 2
            _scored(_case("x-2", "k1", "sale", "x"), [1, 0, 0, 0]),  # Brier 0, log 0
            _scored(_case("y", "k1", "shutdown"), [0, 0.5, 0, 0.5]),  # Brier 0.5, log ln 2
            _scored(_case("z", "k2", "abandoned"), [0.25, 0.25, 0.25, 0.25]),  # 0.75, ln 4
            _scored(_case("w", "k2", "unresolved", state="enjoined"), [0, 0, 0, 1])]  # 0, 0


def test_scores_by_kind_by_hand():
    groups = backtest.by_kind(hand_library())
    assert list(groups) == ["k1", "k2", "all"]
    k1 = groups["k1"]["cases"]  # x (its two dates averaged) and y
    assert k1["n"] == 2 and groups["k1"]["forecasts"]["n"] == 3
    assert k1["brier_model"] == pytest.approx((0.25 + 0.5) / 2)
    assert k1["log_model"] == pytest.approx((math.log(2) / 2 + math.log(2)) / 2)
    assert k1["brier_base"] == k1["brier_kind"] == pytest.approx(0.75)
    assert k1["log_base"] == pytest.approx(math.log(4))
    # mean forecast: x (0.75, 0.25, 0, 0), y (0, 0.5, 0, 0.5); happened: x sale, y shutdown
    assert [k1[f"forecast_{o}"] for o in OUTCOMES] == pytest.approx([0.375, 0.375, 0, 0.25])
    assert [k1[f"observed_{o}"] for o in OUTCOMES] == pytest.approx([0.5, 0.5, 0, 0])
    assert [k1[f"difference_{o}"] for o in OUTCOMES] == pytest.approx([-0.125, -0.125, 0,
                                                                       0.25])
    by_forecast = groups["k1"]["forecasts"]  # the three forecasts alike
    assert by_forecast["brier_model"] == pytest.approx(1 / 3)
    assert by_forecast["forecast_sale"] == pytest.approx(0.5)
    assert by_forecast["observed_sale"] == pytest.approx(2 / 3)
    k2 = groups["k2"]["cases"]
    assert k2["brier_model"] == pytest.approx(0.75 / 2)
    assert k2["log_model"] == pytest.approx(math.log(4) / 2)
    assert [k2[f"forecast_{o}"] for o in OUTCOMES] == pytest.approx([0.125, 0.125, 0.125,
                                                                     0.625])
    assert [k2[f"observed_{o}"] for o in OUTCOMES] == pytest.approx([0, 0, 0.5, 0.5])
    every = groups["all"]["cases"]  # four cases: x, y, z, w
    assert every["n"] == 4 and groups["all"]["forecasts"]["n"] == 5
    assert every["brier_model"] == pytest.approx((0.25 + 0.5 + 0.75 + 0) / 4)
    assert every["observed_abandoned"] == pytest.approx(0.25)
    assert every["difference_sale"] == pytest.approx((0.75 + 0 + 0.25 + 0) / 4 - 0.25)
    assert groups["all"] == backtest.overall(hand_library())


def test_a_case_without_kind_counts_in_all_only():
    scored = [*hand_library(), _scored(_case("v", None, "sale"), [1, 0, 0, 0])]
    groups = backtest.by_kind(scored)
    assert list(groups) == ["k1", "k2", "all"] and groups["all"]["cases"]["n"] == 5


def test_by_kind_table_csv_and_json_outputs(tmp_path: Path):
    scored = hand_library()
    table = backtest_text.format_table(scored, 100, 7)
    k1 = next(line for line in table.splitlines() if line.startswith("  k1 "))
    assert k1.split()[:4] == ["k1", "2", "3", "0.375"]
    mix = [line for line in table.splitlines() if line.startswith("  k2 ")][-1]
    assert mix.split() == ["k2", "12.5", "0.0", "+12.5", "12.5", "0.0", "+12.5", "12.5",
                           "50.0", "-37.5", "62.5", "50.0", "+12.5"]
    assert "sum over the 4 outcomes" in table and "(count + ½)/(n + 2)" in table
    backtest_folder.write_csv(tmp_path / "by_kind.csv",
                              backtest_folder.kind_rows(backtest.by_kind(scored)),
                              backtest_folder.KIND_COLUMNS)
    rows = list(csv.DictReader((tmp_path / "by_kind.csv").open()))
    assert [(r["group"], r["weighting"], r["n"]) for r in rows] == [
        ("k1", "forecasts", "3"), ("k1", "cases", "2"), ("k2", "forecasts", "2"),
        ("k2", "cases", "2"), ("all", "forecasts", "5"), ("all", "cases", "4")]
    assert float(rows[1]["brier_model"]) == 0.375
    assert float(rows[1]["difference_unresolved"]) == 0.25
    backtest_folder.write_csv(tmp_path / "backtest.csv", backtest_folder.csv_rows(scored, 100, 7))
    forecasts = list(csv.DictReader((tmp_path / "backtest.csv").open()))
    w = forecasts[-1]
    assert (w["actual"], w["actual_state"], w["scored_outcome"]) == ("unresolved", "enjoined",
                                                                    "unresolved")
    assert [w[f"runs_{o}"] for o in OUTCOMES] == ["0", "0", "0", "100"]
    assert float(forecasts[3]["brier_model"]) == 0.75 and forecasts[0]["actual_state"] == ""


@pytest.mark.slow
def test_backtest_figures_from_hand_forecasts(tmp_path: Path):
    from sim.outputs.figures import backtest as backtest_plots

    for path in backtest_plots.draw_all(hand_library(), 100, 7, tmp_path):
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 400 and image.shape[1] > 500 and image.std() > 0.05, path.name
    assert (tmp_path / "by_kind.png").exists()


# --- the actual block -----------------------------------------------------------------

ACTUAL = "actual: {case: toy, outcome: sale, date: 2021-06-01, source: a note}\n"


def test_actual_block_is_validated():
    base = "name: t\nstart: 2021-01-01\nhorizon_days: 90\nparent: {name: P, reservation_bn: 1}\n"
    s = parse_scenario(base + ACTUAL)
    assert s.actual is not None and s.actual.outcome == "sale" and s.actual.notes == ""
    for text, says in [
        (ACTUAL.replace("sale", "merger"), "5: actual.outcome: 'merger' is not allowed "
                                           "(allowed: 'sale', 'shutdown', 'abandoned' or "
                                           "'unresolved')"),
        (ACTUAL.replace("2021-06-01", "2020-12-31"), "5: actual.date: 2020-12-31 is before "
                                                     "start 2021-01-01"),
        (ACTUAL.replace(", source: a note", ""), "5: actual.source: required key is missing"),
        (ACTUAL.replace("case: toy", "case: 'two words'"), "5: actual.case: "),
        (ACTUAL.replace("source: a note", "source: a note, odds: 3"), "5: actual.odds: "
                                                                      "unknown key"),
    ]:
        with pytest.raises(ScenarioError) as info:
            parse_scenario(base + text, "t.yaml")
        assert str(info.value).startswith("t.yaml:" + says), str(info.value)


@pytest.mark.slow
def test_actual_is_never_read_by_the_simulation():
    """Same seed, same results whatever the record says (or whether there is one)."""
    doc = realistic()
    plain = run(scenario_from(doc), 1000, 17)
    for outcome in OUTCOMES:
        doc["actual"] = {"case": "x", "outcome": outcome, "date": "2021-08-01",
                         "notes": "anything", "source": "nowhere"}
        changed = run(scenario_from(doc), 1000, 17)
        assert changed.columns.keys() == plain.columns.keys()
        for key in plain.columns:
            np.testing.assert_array_equal(changed[key], plain[key])


def test_outcome_is_scored_at_the_horizon():
    text = ("name: t\nstart: 2021-01-01\nhorizon_days: 100\n"
            "parent: {name: P, reservation_bn: 1}\n")
    horizon = "2021-04-11"  # start + 100 days
    cases = [("sale", horizon, SALE), ("sale", "2021-04-12", UNRESOLVED),
             ("shutdown", "2021-02-01", SHUTDOWN), ("shutdown", "2022-01-01", UNRESOLVED),
             ("abandoned", "2021-03-01", ABANDONED), ("abandoned", "2021-04-12", UNRESOLVED),
             ("unresolved", "2025-01-01", UNRESOLVED)]
    for outcome, date, scored in cases:
        s = parse_scenario(text + f"actual: {{outcome: {outcome}, date: {date}, source: x}}\n")
        assert backtest.outcome_at_horizon(s) == scored, (outcome, date)


# --- the case library -----------------------------------------------------------------

@pytest.mark.slow
def test_every_case_file_is_a_valid_case():
    files, others = backtest.find_cases([CASES])
    assert others == []
    cases = backtest.load_cases(files)
    assert len(cases) >= 13
    ids = [c.case_id for c in cases]
    # TikTok 2020 on four dates, TikTok 2024, and the eight cases of domain.md §5
    assert ids.count("tiktok-2020") == 4
    assert {"tiktok-2024", "grindr", "stayntouch", "patientslikeme", "huawei-3leaf",
            "lattice", "broadcom-qualcomm", "moneygram", "wechat"} <= set(ids)
    assert {c.kind for c in cases} == {"app_ban", "ordered_unwind", "pending_deal"}
    for c in cases:
        a = c.scenario.actual
        assert a is not None and a.source.strip() and a.notes.strip()
        assert a.date >= c.scenario.start  # the forecast is made before the outcome
        assert c.path.stem.endswith(c.scenario.start.isoformat())  # file named by its date
    dates = sorted(c.scenario.start.isoformat() for c in cases if c.case_id == "tiktok-2020")
    assert dates == ["2020-08-06", "2020-08-14", "2020-09-14", "2020-09-19"]


def test_tiktok_2024_follows_the_law():
    """The 2024 Act as the file writes it: a ban 270 days after signing, one extension of
    up to 90 days, and none without binding agreements (no deal signed: stage none or
    negotiating)."""
    s = load_scenario(CASES / "tiktok-2024-04-24.yaml")
    law = s.instruments[0]
    assert law.kind == "service_ban" and s.day_of(law.date) == 270
    e = law.enforcement
    assert e.max_extensions == 1 and e.max_total_extension_days == 90
    for stage in ("none", "negotiating"):
        chance = getattr(e.extend, stage)
        assert (chance if chance is not None else e.extend.otherwise).support() == (0.0, 0.0)


def test_dated_variants_use_extends():
    """Every TikTok 2020 view after the first extends another file instead of copying."""
    for name in ("tiktok-2020-08-06", "tiktok-2020-08-14", "tiktok-2020-09-14",
                 "tiktok-2020-09-19"):
        assert (CASES / f"{name}.yaml").read_text().count("\nextends: ") == 1


TEXT_KEYS = {"name", "id", "description", "extends", "date", "start", "on_expiry",
             "structure"}


def test_case_numbers_are_sourced_or_marked():
    """Every line that sets a number carries a comment (a source or "assumption"),
    or sits in a block whose comment above does: checked as "a '#' on the line or on one
    of the three lines above"; ``actual:`` blocks hold no inputs."""
    for path in sorted(CASES.glob("*.yaml")):
        lines = path.read_text().splitlines()
        in_actual = False
        for i, line in enumerate(lines):
            if line.startswith("actual:"):
                in_actual = True
            elif line and not line.startswith((" ", "#")):
                in_actual = False
            key, _, value = line.partition(":")
            key = key.strip().removeprefix("- ").strip("{ ")
            value = value.split("#")[0].strip()
            if in_actual or not value or key.startswith("#") or key in TEXT_KEYS:
                continue
            if any(ch.isdigit() for ch in value):
                context = lines[max(0, i - 3):i + 1]
                assert any("#" in c for c in context), f"{path.name}:{i + 1}: {line.strip()}"


# --- the command end to end -----------------------------------------------------------

def _toy_case(folder: Path, name: str, body: str, outcome: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(f"""\
        name: {name}
        start: 2021-01-01
        horizon_days: 100
        parent: {{name: P, reservation_bn: 1}}
        {body}
        actual: {{outcome: {outcome}, date: 2021-02-01, source: toy}}
        """), encoding="utf-8")
    return path


def test_toy_library_scored_by_hand(tmp_path):
    """Two certain cases: one always shuts down, one is always open at the horizon; one
    happened as forecast, one not. Every score is computable by hand."""
    _toy_case(tmp_path, "a-shut.yaml",
              "instruments: [{id: ban, kind: service_ban, date: 2021-02-01}]", "shutdown")
    _toy_case(tmp_path, "b-open.yaml", "bidders: []", "sale")  # forecast unresolved
    out = tmp_path / "out"
    assert backtest_command.main([str(tmp_path), "--runs", "100", "--workers", "1", "--out",
                          str(out), "--no-figures", "--quiet"]) == 0
    rows = list(csv.DictReader((out / "backtest.csv").open()))
    assert [r["file"].split("/")[-1] for r in rows] == ["a-shut.yaml", "b-open.yaml"]
    a, b = rows
    assert [a[f"runs_{o}"] for o in OUTCOMES] == ["0", "100", "0", "0"]
    assert [b[f"runs_{o}"] for o in OUTCOMES] == ["0", "0", "0", "100"]
    q, sure = 0.5 / 102, 100.5 / 102  # a smoothed zero and a smoothed 100 of 100
    assert float(a["brier_model"]) == pytest.approx(3 * q**2 + (1 - sure) ** 2, abs=1e-6)
    assert float(a["log_model"]) == pytest.approx(-math.log(sure), abs=1e-6)
    assert float(b["brier_model"]) == pytest.approx((1 - q) ** 2 + 2 * q**2 + sure**2,
                                                    abs=1e-6)
    assert float(b["log_model"]) == pytest.approx(-math.log(q), abs=1e-6)
    # base rate for a = the other case alone (a sale): (1.5, 0.5, 0.5, 0.5) / 3
    assert [float(a[f"base_{o}"]) for o in OUTCOMES] == pytest.approx([0.5, 1 / 6, 1 / 6,
                                                                       1 / 6], abs=1e-6)
    assert float(a["brier_base"]) == pytest.approx(0.25 + 25 / 36 + 2 / 36, abs=1e-6)
    assert float(b["log_base"]) == pytest.approx(math.log(6), abs=1e-6)  # b's base: a shutdown
    assert a["kind"] == a["brier_kind"] == a["kind_sale"] == ""  # no kinds given: no kind bar
    data = json.loads((out / "summary.json").read_text())
    assert data["overall"]["forecasts"]["brier_model"] == pytest.approx(
        (float(a["brier_model"]) + float(b["brier_model"])) / 2, abs=1e-6)
    assert list(data["by_kind"]) == ["all"] and data["by_kind"]["all"] == data["overall"]
    assert data["overall"]["cases"]["observed_sale"] == 0.5
    assert set(data["scenario_files"]) == {str(tmp_path / "a-shut.yaml"),
                                           str(tmp_path / "b-open.yaml")}
    kinds = list(csv.DictReader((out / "backtest_by_kind.csv").open()))
    assert [(r["group"], r["weighting"]) for r in kinds] == [("all", "forecasts"),
                                                             ("all", "cases")]


@pytest.fixture(scope="module")
def library_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("backtest")
    done = run_cli("backtest", "scenarios/cases/", "--runs", "300", "--seed", "3",
                   "--workers", "2", "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


@pytest.mark.slow
def test_backtest_command_on_the_case_library(library_run: tuple[Path, str]) -> None:
    out, stdout = library_run
    rows = list(csv.DictReader((out / "backtest.csv").open()))
    assert len(rows) == len(list(CASES.glob("*.yaml")))
    for r in rows:
        p = [float(r[f"p_{o}"]) for o in OUTCOMES]
        base = [float(r[f"base_{o}"]) for o in OUTCOMES]
        assert sum(p) == pytest.approx(1, abs=1e-5) and sum(base) == pytest.approx(1, abs=1e-5)
        k = OUTCOMES.index(r["scored_outcome"])
        assert float(r["brier_model"]) == pytest.approx(backtest.brier(p, k), abs=1e-5)
        assert float(r["log_base"]) == pytest.approx(backtest.log_score(base, k), abs=1e-5)
        assert sum(int(r[f"runs_{o}"]) for o in OUTCOMES) == 300
    # leave-one-out, recomputed from the table itself
    ids = [r["case"] for r in rows]
    outs = [OUTCOMES.index(r["scored_outcome"]) for r in rows]
    for r in rows:
        expected = backtest.forecast(backtest.base_rate_counts(ids, outs, r["case"]))
        assert [float(r[f"base_{o}"]) for o in OUTCOMES] == pytest.approx(expected, abs=1e-6)
        same = {x["case"] for x in rows if x["kind"] == r["kind"]}
        expected = backtest.forecast(backtest.base_rate_counts(ids, outs, r["case"], same))
        assert [float(r[f"kind_{o}"]) for o in OUTCOMES] == pytest.approx(expected, abs=1e-6)
        k = OUTCOMES.index(r["scored_outcome"])
        assert float(r["brier_kind"]) == pytest.approx(backtest.brier(expected, k), abs=1e-5)
    data = json.loads((out / "summary.json").read_text())
    assert data["runs"] == 300 and data["seed"] == 3 and "git_commit" in data
    assert str((ROOT / "scenarios/oracle.yaml").resolve()) in data["scenario_files"]
    assert set(data["files"]) == {"backtest.csv", "backtest_by_kind.csv", "reliability.png",
                                  "forecasts.png", "by_kind.png"}
    assert list(data["by_kind"]) == ["app_ban", "ordered_unwind", "pending_deal", "all"]
    for word in ("Brier", "log score", "mean over 14 forecasts", "against the kind base rate",
                 "tiktok-2020-09-14", "wrote"):
        assert word in stdout


@pytest.mark.slow
def test_backtest_figures_are_real_pngs(library_run: tuple[Path, str]) -> None:
    out, _ = library_run
    for name in ("reliability.png", "forecasts.png", "by_kind.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        image = matplotlib.image.imread(out / name)
        assert image.shape[0] > 400 and image.shape[1] > 500 and image.std() > 0.05


@pytest.mark.slow
def test_backtest_errors_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    _toy_case(bad, "x.yaml", "committee: {review_days: 0}", "sale")
    done = run_cli("backtest", bad, "--runs", "10", "--out", tmp_path / "out")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: {bad / 'x.yaml'}:5: committee.review_days: must be > 0 days"), lines
    assert not (tmp_path / "out").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli("backtest", empty, "--runs", "10", "--out", tmp_path / "out")
    assert done.returncode == 2 and "no case files" in done.stderr
    done = run_cli("backtest", tmp_path / "nowhere")
    assert done.returncode == 2 and "no such file or folder" in done.stderr


def test_scenarios_without_actual_are_not_cases(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text((ROOT / "scenarios/example.yaml").read_text())
    (tmp_path / "case.yaml").write_text("extends: base.yaml\nactual: {outcome: sale, "
                                        "date: 2024-05-01, source: x}\n")
    cases, others = backtest.find_cases([tmp_path])
    assert [p.name for p in cases] == ["case.yaml"] and [p.name for p in others] == ["base.yaml"]


# --- the deadline effect --------------------------------------------------------------

def _agreement_histogram(exponent: float, runs: int = 2000) -> np.ndarray:
    """Agreement days of a one-bidder bargain against a deadline on day 120, in six bins
    of 20 days; both sides concede with the same exponent."""
    s = deadline_effect_scenario(exponent)
    agreed = run(s, runs, 5)["agreement_day"]
    agreed = agreed[~np.isnan(agreed)]
    assert len(agreed) > runs / 2 and agreed.max() <= 120
    return np.histogram(agreed, bins=np.linspace(0, 120, 7))[0]


@pytest.mark.slow
def test_agreements_rise_into_the_deadline_with_late_concession():
    """The deadline effect (Roth, Murnighan & Schoumaker 1988, "The Deadline Effect in
    Bargaining: Some Experimental Evidence", American Economic Review 78(4): 806-823):
    with Boulware concession (exponent 0.3) each of the last four 20-day bins holds more
    agreements than the one before, and the last bin before the deadline holds most."""
    h = _agreement_histogram(0.3)
    assert np.all(np.diff(h[2:]) > 0), h
    assert h[-1] > 0.5 * h.sum(), h
    assert h[-2:].sum() > 0.85 * h.sum(), h


@pytest.mark.slow
def test_agreements_fall_toward_the_deadline_with_early_concession():
    """With early concession (exponent 3) there is no deadline effect: each successive
    bin holds fewer agreements, the first the most."""
    h = _agreement_histogram(3.0)
    assert np.all(np.diff(h) < 0), h
    assert h[-2:].sum() < 0.3 * h.sum(), h
