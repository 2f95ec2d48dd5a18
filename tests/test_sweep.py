"""Sweeps: paths, designs, common random numbers, correlated inputs, resume, the typed
analysis, CLI outputs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import get_args

import matplotlib.image
import numpy as np
import pytest
from scipy import stats

from sim.analysis import discovery
from sim.analysis.designs import DESIGNS
from sim.analysis.sensitivity import Swing
from sim.analysis.sweep import (
    Design,
    Range,
    Sweep,
    SweepAnalysis,
    SweepRun,
    analyse,
    design_points,
    load_sweep,
    run_and_analyse,
    run_points,
    table_text,
)
from sim.errors import ScenarioError
from sim.model.outcome import OUTCOMES
from sim.outputs.text.sweep import summary_lines
from sim.running.montecarlo import simulate
from sim.scenario import overrides
from sim.scenario.loading import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "scenarios" / "oracle.yaml"
SWEEPS = ROOT / "scenarios" / "sweeps"


@pytest.fixture(scope="module")
def oracle():
    return load_scenario(ORACLE)


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)


def read_table(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def assert_real_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 250 and image.shape[1] > 400 and image.std() > 0.05, path


# --- paths -------------------------------------------------------------------------------

def test_wrong_path_names_the_closest_valid_one(oracle):
    with pytest.raises(ScenarioError, match=r"closest valid path: committee\.clear_threshold"):
        overrides.apply(oracle, {"committee.clear_treshold": 0.5})


def test_paths_reach_numbers_dates_and_distribution_parameters(oracle):
    varied = overrides.apply(oracle, {
        "committee.clear_threshold": 0.8,
        "instruments.s721_divestiture.date": 30,
        "parent.reservation_bn.median": 25,
        "bidders.Oracle.security_assurance": 0.9,
    })
    assert varied.committee.clear_threshold.value == 0.8
    assert varied.instruments[1].id == "s721_divestiture"
    assert (varied.instruments[1].date - oracle.instruments[1].date).days == 30
    assert varied.instruments[0].date == oracle.instruments[0].date
    assert varied.parent.reservation_bn.median == 25
    assert varied.parent.reservation_bn.sigma == oracle.parent.reservation_bn.sigma
    assert varied.bidders[0].security_assurance.value == 0.9
    assert oracle.committee.clear_threshold.value == 0.7  # the base is untouched


def test_out_of_range_value_is_one_clear_error(oracle):
    with pytest.raises(ScenarioError, match=r"committee\.mitigation_threshold: must not exceed"):
        overrides.apply(oracle, {"committee.clear_threshold": 0.3})
    with pytest.raises(ScenarioError, match=r"must lie in \[0, 1\]"):
        overrides.apply(oracle, {"court.injunction_probability": 1.2})


def test_sweep_file_errors_name_file_line_and_key(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: bad\ndesign: grid\nparameters:\n  committee.clear_threshold:\n"
                    "    {low: 0.5, high: 0.9, pionts: 3}\n")
    with pytest.raises(ScenarioError) as error:
        load_sweep(path)
    assert str(error.value).startswith(f"{path}:5: parameters.committee.clear_threshold.pionts:")
    assert "allowed: low, high, points" in str(error.value)


# --- designs -----------------------------------------------------------------------------

def test_designs_have_the_expected_points():
    two = {"a.x": Range(low=0, high=1, points=3), "b.y": Range(low=10, high=20, points=2)}
    grid = design_points(Sweep(name="g", design="grid", parameters=two))
    assert len(grid) == 6 and {p["b.y"] for p in grid} == {10.0, 20.0}
    oat = design_points(Sweep(name="o", design="oat", parameters=two))
    assert oat == [{}, {"a.x": 0.0}, {"a.x": 1.0}, {"b.y": 10.0}, {"b.y": 20.0}]
    lhs = np.array([[p["a.x"], p["b.y"]] for p in design_points(
        Sweep(name="l", design="lhs", parameters=two, samples=20))])
    # Latin hypercube: exactly one point in each of the 20 strata of every input
    assert sorted(np.floor(lhs[:, 0] * 20).astype(int)) == list(range(20))
    assert sorted(np.floor((lhs[:, 1] - 10) * 2).astype(int)) == list(range(20))
    sobol = design_points(Sweep(name="s", design="sobol", parameters=two, samples=16))
    assert len(sobol) == 16 * (2 + 2)


def test_the_sweep_files_designs_are_the_registered_ones():
    assert get_args(Design) == tuple(DESIGNS)


@pytest.mark.parametrize("design", list(DESIGNS))
def test_each_design_counts_its_points_without_building_them(design):
    two = {"a.x": Range(low=0, high=1, points=3), "b.y": Range(low=10, high=20, points=4)}
    sweep = Sweep(name="c", design=design, parameters=two, samples=8)
    points = design_points(sweep)
    assert sweep.point_count == len(points) == DESIGNS[design].count(sweep.space)
    assert all(set(p) <= {"a.x", "b.y"} and all(type(v) is float for v in p.values())
               for p in points)


@pytest.mark.slow
def test_importing_sweeps_loads_neither_salib_nor_the_outputs():
    """SALib is in the optional ``sweep`` extra: only a sobol design's functions import it;
    and analysis never reaches up into outputs (figures, folders, printing)."""
    code = ("import sys, sim.analysis.sweep, sim.analysis.designs; "
            "print(sorted(m for m in sys.modules if m.startswith(('SALib', 'sim.outputs'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_grid_with_three_parameters_is_refused():
    three = {k: Range(low=0, high=1, points=2) for k in ("a", "b", "c")}
    with pytest.raises(ValueError, match="one or two parameters"):
        Sweep(name="g", design="grid", parameters=three)


# --- common random numbers ---------------------------------------------------------------

@pytest.mark.slow
def test_common_random_numbers_shrink_the_variance_of_a_difference(oracle):
    """P(sale) at two nearby licence probabilities, 16 times: same seed vs. two seeds.
    (Model v2: the licence the Oracle partnership needs is China's chance for a minority
    partnership, ``home_government.approval_by_structure.minority_partnership``.)"""
    licence = "home_government.approval_by_structure.minority_partnership"
    near = [overrides.apply(oracle, {licence: p}) for p in (0.45, 0.50)]
    crn, independent = [], []
    for rep in range(16):
        same = [np.mean(simulate(s, 600, 100 + rep)["outcome"] == 0) for s in near]
        other = [np.mean(simulate(s, 600, 500 + 2 * rep + i)["outcome"] == 0)
                 for i, s in enumerate(near)]
        crn.append(same[1] - same[0])
        independent.append(other[1] - other[0])
    assert np.var(independent) > 4 * np.var(crn)
    assert np.mean(crn) > 0  # a likelier licence, more sales


# --- correlated inputs -------------------------------------------------------------------

CORRELATED = """
name: correlated
start: 2020-01-01
horizon_days: 200
instruments: [{id: ban, kind: service_ban, date: 2020-04-01}]
parent: {name: P, reservation_bn: {dist: lognormal, median: 20, sigma: 0.3}}
bidders:
  - name: A
    valuation_bn: {dist: uniform, low: 10, high: 30}
    arrives_day: {dist: exponential, mean: 10}
correlations:
  - {inputs: [parent.reservation_bn, bidders.A.valuation_bn], rank: 0.6}
  - {inputs: [bidders.A.arrives_day, bidders.A.valuation_bn], rank: -0.3}
"""


@pytest.mark.slow
def test_rank_correlations_are_achieved_and_marginals_kept():
    results = simulate(parse_scenario(CORRELATED), 20000, 4)
    reservation = results["input.parent.reservation_bn"]
    valuation = results["input.bidders.A.valuation_bn"]
    arrival = results["input.bidders.A.arrives_day"]
    assert stats.spearmanr(reservation, valuation)[0] == pytest.approx(0.6, abs=0.02)
    assert stats.spearmanr(arrival, valuation)[0] == pytest.approx(-0.3, abs=0.02)
    assert stats.spearmanr(arrival, reservation)[0] == pytest.approx(0.0, abs=0.03)
    assert stats.kstest(valuation, stats.uniform(10, 20).cdf).pvalue > 0.01
    assert stats.kstest(reservation, stats.lognorm(s=0.3, scale=20).cdf).pvalue > 0.01


@pytest.mark.parametrize("bad, message", [
    ("[parent.reservation_bn, bidders.B.valuation_bn]", "not an uncertain input"),
    ("[parent.reservation_bn, parent.reservation_bn]", "two different inputs"),
])
def test_bad_correlations_are_errors(bad, message):
    text = CORRELATED.replace("[parent.reservation_bn, bidders.A.valuation_bn]", bad)
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text)


def test_contradictory_correlations_are_an_error():
    text = CORRELATED.replace("rank: -0.3}", "rank: -0.95}").replace("rank: 0.6}", "rank: 0.95}")
    text += "  - {inputs: [bidders.A.arrives_day, parent.reservation_bn], rank: 0.95}\n"
    with pytest.raises(ScenarioError, match="not positive definite"):
        parse_scenario(text)


# --- resume ------------------------------------------------------------------------------

@pytest.mark.slow
def test_an_interrupted_sweep_resumes_to_the_same_table(oracle, tmp_path):
    sweep = Sweep(name="r", design="grid", runs=300,
                  parameters={"committee.clear_threshold": Range(low=0.5, high=0.9, points=5)})
    whole = run_points(sweep, oracle, ORACLE, tmp_path / "whole", workers=2, progress=False)
    partial = tmp_path / "partial"
    run_points(sweep, oracle, ORACLE, partial, workers=1, progress=False)
    saved = sorted((partial / "points").glob("*.json"))
    for path in saved[:3]:  # as if the run had stopped after two points
        path.unlink()
    resumed = run_points(sweep, oracle, ORACLE, partial, workers=2, progress=False)
    assert resumed.reused == 2
    assert table_text(resumed) == table_text(whole)


# --- the typed analysis ------------------------------------------------------------------

@pytest.mark.slow
def test_oat_analysis_is_typed_and_its_dict_is_the_json_one(oracle, tmp_path):
    sweep = Sweep(name="t", design="oat", runs=200, parameters={
        "committee.clear_threshold": Range(low=0.5, high=0.9),
        "home_government.approval_by_structure.minority_partnership": Range(low=0.4,
                                                                           high=1.0)})
    run, found = run_and_analyse(sweep, oracle, ORACLE, tmp_path, workers=1)
    assert len(run.rows) == 5 and not found.sobol and found.discovery_missing is None
    assert set(found.tornado) == set(found.tornado_base) == {"p_sale", "p_shutdown",
                                                             "p_abandoned"}
    assert found.tornado_base["p_sale"] == run.rows[0]["p_sale"]
    swings = found.tornado["p_sale"]
    assert [w.width for w in swings] == sorted((w.width for w in swings), reverse=True)
    licence = next(w for w in swings if w.name.startswith("home_government"))
    assert licence.at_low < licence.at_high  # a likelier licence, more sales
    assert set(found.discovery) == {"sale", "shutdown", "abandoned"}
    assert found.discovery_sample is not None
    assert len(found.discovery_sample.outcome) == 4000  # at least 4,000 runs of the base
    data = json.loads(json.dumps(found.to_dict()))
    assert list(data) == ["tornado", "discovery"]
    assert data["tornado"]["p_sale"][0] == {
        "input": swings[0].name, "low": swings[0].low_value, "high": swings[0].high_value,
        "at_low": swings[0].at_low, "at_high": swings[0].at_high, "swing": swings[0].width}
    assert data["discovery"]["sale"][0]["rule"] == found.discovery["sale"][0].rule
    lines = list(summary_lines(run, found))
    assert any(line.startswith("  tornado, p_sale (base ") for line in lines)
    assert not any("P(sale)" in line for line in lines)  # oat points set one input each


def test_without_scikit_learn_discovery_is_skipped_and_said(oracle, tmp_path, monkeypatch):
    sweep = Sweep(name="d", design="grid", runs=100,
                  parameters={"committee.clear_threshold": Range(low=0.5, high=0.9, points=2)})
    run = run_points(sweep, oracle, ORACLE, tmp_path, workers=1, progress=False)
    monkeypatch.setattr(discovery, "available", lambda: False)
    found = analyse(run, 100, workers=1)
    assert not found.discovery and found.discovery_sample is None
    assert found.to_dict() == {"discovery": "install scikit-learn: pip install -e '.[sweep]'"}
    assert list(summary_lines(run, found))[-1] == (
        "  scenario discovery skipped: install scikit-learn: pip install -e '.[sweep]'")


def test_an_empty_analysis_is_an_empty_dict_and_prints_the_points():
    spec = Sweep(name="e", design="grid", parameters={"x": Range(low=0, high=1, points=2)})
    rows = [{"x": x, **{f"p_{o}": 0.25 for o in OUTCOMES}} for x in (0.0, 1.0)]
    run = SweepRun(spec, SimpleNamespace(name="base"), Path("b.yaml"),  # type: ignore[arg-type]
                   [{"x": 0.0}, {"x": 1.0}], rows, 0)
    assert SweepAnalysis().to_dict() == {}
    lines = list(summary_lines(run, SweepAnalysis()))
    assert len(lines) == 4 and lines[1].split()[-4:] == [f"P({o})" for o in OUTCOMES]
    tornado = SweepAnalysis(tornado={"p_sale": (Swing("x", 0.0, 1.0, 0.2, 0.5),)},
                            tornado_base={"p_sale": 0.3})
    assert tornado.to_dict() == {"tornado": {"p_sale": [
        {"input": "x", "low": 0.0, "high": 1.0, "at_low": 0.2, "at_high": 0.5,
         "swing": pytest.approx(0.3)}]}}


# --- the CLI end to end ------------------------------------------------------------------

@pytest.fixture(scope="module")
def grid_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    done = run_cli(ORACLE, "--vary", "committee.clear_threshold=0.45:0.95:5", "--runs", "600",
                   "--out", out)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


@pytest.mark.slow
def test_grid_table_content(grid_run):
    out, stdout = grid_run
    rows = read_table(out / "points.csv")
    assert len(rows) == 5
    for row in rows:
        p = [float(row[f"p_{o}"]) for o in OUTCOMES]
        assert all(0 <= x <= 1 for x in p) and sum(p) == pytest.approx(1)
        assert float(row["p_sale_low"]) <= p[0] <= float(row["p_sale_high"])
    sale = [float(r["p_sale"]) for r in rows]
    assert sale == sorted(sale, reverse=True)  # a stricter committee never raises P(sale)
    assert "P(sale)" in stdout
    data = json.loads((out / "sweep.json").read_text())
    assert data["points"] == 5 and data["sweep"]["design"] == "grid"
    for name in data["files"]:
        if name.endswith(".png"):
            assert_real_png(out / name)
    assert "probabilities.png" in data["files"]


@pytest.mark.slow
def test_sobol_analysis_over_four_inputs(tmp_path):
    """Sobol' indices over ci_sobol.yaml's four inputs, and scenario discovery on the base.

    Model v2: the Oracle partnership's licence is
    ``home_government.approval_by_structure.minority_partnership``. Under v1 a shutdown was
    the commonest ending of oracle.yaml (a ban enforced with probability 0.9), so the
    discovery check looked for a shutdown box; in v2 the ban may be extended, forborne or
    let lapse and shutdowns are rare (about 5%) with no box worth a split, while sales are
    common: discovery must find a sale box there, denser than the base rate, and none for
    ``abandoned`` (a business, not a pending transaction, is never abandoned). Since model
    v2 part 2 the Oracle partnership (ByteDance keeping most) fails the section 721
    order's test, so it closes only once that order has ended: the box may name the
    committee and licence inputs or the new administration's revocation."""
    done = run_cli(ORACLE, "--sweep", SWEEPS / "ci_sobol.yaml", "--runs", "300", "--out",
                   tmp_path, "--quiet")
    assert done.returncode == 0, done.stderr
    rows = read_table(tmp_path / "points.csv")
    assert len(rows) == 16 * 6
    data = json.loads((tmp_path / "sweep.json").read_text())
    sobol = data["analysis"]["sobol"]
    assert set(sobol) == {"p_sale", "p_shutdown", "p_abandoned", "days_median"}
    assert len(sobol["p_sale"]) == 4
    # the licence drives sales, the committee threshold hardly moves shutdowns
    top_sale = max(sobol["p_sale"], key=lambda k: sobol["p_sale"][k]["total"])
    assert top_sale == "home_government.approval_by_structure.minority_partnership"
    assert sobol["p_shutdown"]["committee.clear_threshold"]["total"] < 0.1
    assert_real_png(tmp_path / "sobol_indices.png")
    found = data["analysis"]["discovery"]
    assert set(found) == {"sale", "shutdown", "abandoned"}
    assert found["sale"], "no discovery box for sale"
    top = found["sale"][0]
    assert top["density"] > top["base_rate"] and 0 < top["coverage"] <= 1
    assert any(key in top["rule"] for key in (
        "bidders.Oracle.security_assurance",
        "home_government.approval_by_structure.minority_partnership",
        "politics.new_administration_revokes.probability")), top["rule"]
    assert found["abandoned"] == []


@pytest.mark.slow
def test_every_shipped_sweep_file_is_valid(oracle):
    files = sorted(SWEEPS.glob("*.yaml"))
    assert len(files) >= 6
    for path in files:
        sweep = load_sweep(path)
        assert (path.parent / sweep.scenario).resolve() == ORACLE.resolve()
        for values in design_points(sweep)[:50]:
            overrides.apply(oracle, values, str(path))
    sobol = load_sweep(SWEEPS / "sobol.yaml")
    assert sobol.design == "sobol" and len(sobol.parameters) >= 6


@pytest.mark.slow
def test_bad_vary_exits_2_with_one_line():
    done = run_cli(ORACLE, "--vary", "committee.clear_treshold=0.4:0.9:3", "--runs", "200")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "closest valid path" in done.stderr
