"""``run.py compare``: the paired interval is sound, the scenarios share common random
numbers, and the outputs (table, summary.json, two figures) say what they should."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from sim.analysis.compare import labels, paired_difference
from sim.commands.compare import main
from sim.model.outcome import OUTCOMES
from sim.running.montecarlo import simulate
from sim.running.precision import wilson
from sim.scenario.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "scenarios" / "oracle.yaml"


def wald(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    d = b.astype(float) - a.astype(float)
    half = 1.96 * d.std(ddof=1) / math.sqrt(d.size)
    return d.mean() - half, d.mean() + half


def test_wilson_matches_scipy() -> None:
    from scipy import stats

    for k, n in ((0, 50), (7, 50), (50, 50), (1234, 10_000)):
        ci = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        low, high = wilson(k, n)
        assert low == pytest.approx(ci.low, abs=1e-4) and high == pytest.approx(ci.high,
                                                                                 abs=1e-4)


@pytest.mark.parametrize("shared", [True, False])
def test_paired_interval_covers_the_true_difference_95_percent_of_the_time(
        shared: bool) -> None:
    """Pairs as in compare (one uniform decides both, so they are strongly correlated) or
    independent: over 2,000 repeated experiments of n = 400 pairs the interval covers the
    true difference 0.35 − 0.30 about 95% of the time."""
    rng = np.random.default_rng(2020)
    covered = 0
    reps, n = 2000, 400
    for _ in range(reps):
        u = rng.random(n)
        v = u if shared else rng.random(n)
        d = paired_difference(u < 0.30, v < 0.35)
        covered += d.low <= 0.05 <= d.high
    # the binomial sd of the coverage estimate is 0.5%; Newcombe's is close to nominal
    assert 0.93 <= covered / reps <= 0.975, covered / reps


def test_paired_interval_agrees_with_wald_for_large_samples() -> None:
    rng = np.random.default_rng(7)
    u = rng.random(100_000)
    a, b = u < 0.4, (u + 0.1 * rng.random(u.size)) < 0.45
    d = paired_difference(a, b)
    low, high = wald(a, b)
    assert d.difference == pytest.approx(b.mean() - a.mean(), abs=1e-12)
    assert d.low == pytest.approx(low, abs=0.05 * (high - low))
    assert d.high == pytest.approx(high, abs=0.05 * (high - low))
    # pairing helps: far narrower than the same data taken as independent samples
    assert (d.high - d.low) < 0.5 * (d.high_independent - d.low_independent)


def test_paired_interval_at_the_edges() -> None:
    same = np.arange(1000) % 3 == 0
    d = paired_difference(same, same)  # Wald would give [0, 0]; this does not collapse
    assert d.difference == 0 and d.low < 0 < d.high and d.high - d.low < 0.005
    everything = paired_difference(np.ones(50, bool), np.zeros(50, bool))
    assert everything.difference == -1 and everything.low == -1 and everything.high < -0.85
    nothing = paired_difference(np.zeros(50, bool), np.zeros(50, bool))
    assert nothing.difference == 0 and -0.1 < nothing.low < 0 < nothing.high < 0.1
    # with phi = 0 it is Newcombe's interval for independent proportions
    rng = np.random.default_rng(1)
    a, b = rng.random(300) < 0.2, rng.random(300) < 0.3
    d = paired_difference(a, b)
    (la, lb), (ua, ub) = wilson(np.array([a.sum(), b.sum()]), 300)
    assert d.low_independent == pytest.approx(
        d.difference - math.hypot(b.mean() - lb, ua - a.mean()))
    assert d.high_independent == pytest.approx(
        d.difference + math.hypot(ub - b.mean(), a.mean() - la))


def test_labels_are_stems_numbered_when_they_clash() -> None:
    assert labels([Path("a/oracle.yaml"), Path("b/micro.yaml")]) == ["oracle", "micro"]
    assert labels([Path("a/x.yaml"), Path("b/x.yaml"), Path("y.yaml")]) == ["x-1", "x-2", "y"]


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Oracle scenario with weaker courts: injunctions half as likely. (Model v2: the
    scenario's court, which hears the suits against the EO 13942 ban, has
    ``injunction_probability: uniform(0, 1)``; uniform(0, 0.5) halves every draw.)"""
    path = tmp_path_factory.mktemp("variant") / "weak_courts.yaml"
    text = ORACLE.read_text(encoding="utf-8")
    old = "injunction_probability: {dist: uniform, low: 0, high: 1}"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "injunction_probability: {dist: uniform, low: 0, "
                                      "high: 0.5}"), encoding="utf-8")
    weak = load_scenario(path)
    assert weak.court.injunction_probability.high == 0.5
    assert load_scenario(ORACLE).court.injunction_probability.high == 1
    return path


@pytest.fixture(scope="module")
def compared(variant: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp("compare")
    capture = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "compare", str(ORACLE), str(variant),
         "--runs", "2000", "--seed", "9", "--workers", "2", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert capture.returncode == 0, capture.stderr
    return out, json.loads((out / "summary.json").read_text()), capture.stdout


@pytest.mark.slow
def test_each_scenario_is_its_own_run_with_the_shared_seed(compared, variant: Path) -> None:
    _, data, _ = compared
    for entry, path in zip(data["scenarios"], (ORACLE, variant), strict=True):
        r = simulate(load_scenario(path), 2000, 9)
        counts = np.bincount(r["outcome"], minlength=len(OUTCOMES))
        assert [entry["outcomes"][o]["count"] for o in OUTCOMES] == counts.tolist()
    assert [s["label"] for s in data["scenarios"]] == ["oracle", "weak_courts"]


@pytest.mark.slow
def test_differences_are_paired_and_tighter_than_independent(compared) -> None:
    """Model v2 has a fourth outcome, ``abandoned``, which a business (oracle.yaml's
    subject) never reaches: in both scenarios it has no run, so its difference is exactly 0
    and pairing has nothing to tighten (its paired and independent intervals are the same);
    the paired interval is checked to be tighter for the outcomes that occur."""
    _, data, _ = compared
    (diff,) = data["differences"]
    assert (diff["scenario"], diff["baseline"]) == ("weak_courts", "oracle")
    base, other = data["scenarios"]
    for o in OUTCOMES:
        x = diff["outcomes"][o]
        expected = other["outcomes"][o]["probability"] - base["outcomes"][o]["probability"]
        assert x["difference"] == pytest.approx(expected, abs=1e-12)
        low, high = x["ci95"]
        assert low <= x["difference"] <= high
        indep = x["ci95_if_independent"]
        if base["outcomes"][o]["count"] == other["outcomes"][o]["count"] == 0:
            assert o == "abandoned" and x["difference"] == 0
            assert x["only_in_a"] == x["only_in_b"] == 0
            continue
        # common random numbers: only replications whose court draw moves can differ
        assert high - low < 0.6 * (indep[1] - indep[0]), o
    # weaker courts: fewer unresolved runs, more shutdowns, clearly so
    assert diff["outcomes"]["unresolved"]["ci95"][1] < 0
    assert diff["outcomes"]["shutdown"]["ci95"][0] > 0
    assert sum(sum(row.values()) for row in diff["transitions"].values()) == 2000
    assert diff["same_outcome_share"] > 0.7


@pytest.mark.slow
def test_outputs_table_and_figures(compared) -> None:
    out, data, stdout = compared
    assert data["files"] == ["outcomes.png", "time_to_resolution.png"]
    assert data["common_random_numbers"] and "Newcombe" in data["interval_method"]
    for name in data["files"]:
        image = matplotlib.image.imread(out / name)
        assert image.shape[0] > 300 and image.shape[1] > 900, name
        assert image.std() > 0.05, f"{name} looks blank"
    assert not list(out.glob(".*.tmp"))
    assert "weak_courts − oracle (paired)" in stdout
    unresolved = data["scenarios"][0]["outcomes"]["unresolved"]
    assert f"{100 * unresolved['probability']:.1f}%" in stdout
    assert "narrower than independent runs would give" in stdout


@pytest.mark.slow
def test_a_scenario_compared_with_itself_differs_by_nothing(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture
                                                            ) -> None:
    assert main([str(ORACLE), str(ORACLE), "--runs", "500", "--workers", "1",
                 "--no-figures", "--quiet", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out == ""
    data = json.loads((tmp_path / "summary.json").read_text())
    assert [s["label"] for s in data["scenarios"]] == ["oracle-1", "oracle-2"]
    (diff,) = data["differences"]
    assert diff["same_outcome_share"] == 1.0
    for x in diff["outcomes"].values():
        assert x["difference"] == 0 and x["only_in_a"] == x["only_in_b"] == 0
    assert data["files"] == []


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "compare", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = run_cli(ORACLE, "--out", tmp_path / "one")
    assert done.returncode == 2 and "at least two scenario files" in done.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\n")
    done = run_cli(ORACLE, bad, "--runs", "100", "--out", tmp_path / "two")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ") and str(bad) in done.stderr
    assert not (tmp_path / "two").exists()
