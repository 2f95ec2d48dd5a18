"""The command line end to end, as a user runs it: outputs, provenance, errors, exit codes."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import matplotlib.image
import pytest

from sim.model.outcome import OUTCOMES

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "scenarios" / "oracle.yaml"
FIGURES = ("outcomes.png", "time_to_resolution.png", "buyers_and_prices.png",
           "agreement_timing.png")


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def oracle_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("oracle")
    done = run_cli(ORACLE, "--runs", "3000", "--seed", "11", "--out", out, "--workers", "2")
    assert done.returncode == 0, done.stderr
    return out, done.stdout


@pytest.mark.slow
def test_summary_json_records_results_and_provenance(oracle_run: tuple[Path, str]) -> None:
    out, _ = oracle_run
    data = json.loads((out / "summary.json").read_text())
    assert data["runs"] == 3000 and data["seed"] == 11
    assert data["scenario"]["sha256"] == hashlib.sha256(ORACLE.read_bytes()).hexdigest()
    assert data["scenario"]["path"].endswith("oracle.yaml")
    assert data["scenario"]["name"]
    total = 0.0
    for name in OUTCOMES:
        o = data["outcomes"][name]
        low, high = o["ci95"]
        assert 0 <= low <= o["probability"] <= high <= 1
        assert o["count"] == round(o["probability"] * 3000)
        total += o["probability"]
    assert total == pytest.approx(1.0)
    assert set(data["days_to_resolution"]) >= {"all_runs_censored_at_horizon"}
    assert {"python", "dealsim", "simpy", "numpy", "scipy"} <= set(data["versions"])
    assert "git_commit" in data
    assert set(data["files"]) >= {"replications.csv", *FIGURES}


@pytest.mark.slow
def test_table_has_one_row_per_replication(oracle_run: tuple[Path, str]) -> None:
    out, _ = oracle_run
    with (out / "replications.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3000
    assert {r["outcome"] for r in rows} <= set(OUTCOMES)
    data = json.loads((out / "summary.json").read_text())
    sales = sum(r["outcome"] == "sale" for r in rows)
    assert sales == data["outcomes"]["sale"]["count"]
    assert all(r["winner"] and r["price_bn"] for r in rows if r["outcome"] == "sale")
    assert any(k.startswith("input.") for k in rows[0])


@pytest.mark.slow
def test_figures_are_real_pngs(oracle_run: tuple[Path, str]) -> None:
    out, _ = oracle_run
    for name in FIGURES:
        path = out / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 250 and image.shape[1] > 500, name
        assert image.std() > 0.05, f"{name} looks blank"


@pytest.mark.slow
def test_printed_summary(oracle_run: tuple[Path, str]) -> None:
    _, stdout = oracle_run
    for word in (*OUTCOMES, "95% interval", "seed 11", "summary.json"):
        assert word in stdout


@pytest.mark.slow
def test_worker_count_does_not_change_the_table(tmp_path: Path) -> None:
    """Same seed: byte-identical tables for 1 and 2 workers; another seed: another table."""
    tables = []
    for workers, seed in (("1", "5"), ("2", "5"), ("2", "6")):
        out = tmp_path / f"{workers}-{seed}"
        done = run_cli(ORACLE, "--runs", "2500", "--seed", seed, "--out", out,
                       "--workers", workers, "--no-figures", "--quiet")
        assert done.returncode == 0, done.stderr
        tables.append((out / "replications.csv").read_bytes())
    assert tables[0] == tables[1]
    same, other = tables[0].splitlines(), tables[2].splitlines()
    assert other[0] == same[0] and len(other) == len(same)  # same columns and rows
    assert sum(a != b for a, b in zip(same[1:], other[1:], strict=True)) > 0.9 * 2500


@pytest.mark.slow
@pytest.mark.parametrize("content, expected", [
    ("name: x\nstart: 2020-01-01\nhorizon_days: 10\nparent: {name: P, reservation_bn: 1}\n"
     "colour: red\n", ":5: colour: unknown key (allowed:"),
    ("name: x\nstart: 2020-01-01\nhorizon_days: [1\n", "YAML syntax error"),
    ("", "file is empty"),
    ("name: x\nstart: 2020-01-01\nhorizon_days: 100\nparent: {name: P, reservation_bn: 1}\n"
     "committee:\n  investigation_probability: 1.5\n",
     ":6: committee.investigation_probability: must lie in [0, 1]"),
])
def test_bad_scenario_gets_one_line_and_exit_2(tmp_path: Path, content: str,
                                                expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    done = run_cli(path, "--runs", "10", "--out", tmp_path / "out")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0] and expected in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_missing_file_and_bad_arguments_exit_2(tmp_path: Path) -> None:
    done = run_cli(tmp_path / "nope.yaml")
    assert done.returncode == 2 and "no such file" in done.stderr
    assert "Traceback" not in done.stderr
    done = run_cli(ORACLE, "--runs", "0")
    assert done.returncode == 2 and "--runs" in done.stderr


def test_help_lists_the_options() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    for option in ("--runs", "--seed", "--workers", "--out"):
        assert option in done.stdout
