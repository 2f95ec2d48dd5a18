"""Manifests and exact replay: every output folder records what made it (the scenario's
text and hash, seed, runs, command, versions, commit), and ``run.py replay`` re-runs it
from that record — identical numbers, exit 0; otherwise the differences and the likely
cause, exit 1."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from sim.commands.main import main

EXAMPLE = ROOT / "scenarios" / "example.yaml"


def run_cli(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run of a copy of the example scenario (so the test may edit the copy)."""
    folder = tmp_path_factory.mktemp("replay")
    shutil.copy(EXAMPLE, folder / "example.yaml")
    run_cli(folder / "example.yaml", "--runs", "2000", "--seed", "17", "--workers", "2",
            "--out", folder / "out", "--no-figures", "--quiet")
    return folder


def replay(summary: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["replay", str(summary), "--workers", "1", "--quiet"])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.slow
def test_summary_records_the_scenario_text_hash_and_provenance(recorded: Path) -> None:
    data = json.loads((recorded / "out" / "summary.json").read_text())
    text = (recorded / "example.yaml").read_text()
    assert data["scenario"]["content"] == text
    assert data["scenario"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert data["scenario"]["resolved"]["name"] == data["scenario"]["name"]
    assert (data["runs"], data["seed"]) == (2000, 17)
    assert data["command"][0] == "run.py" and "--seed" in data["command"]
    assert {"python", "numpy", "scipy", "simpy", "pydantic"} <= set(data["versions"])
    assert "git_commit" in data


@pytest.mark.slow
def test_replay_of_an_untouched_run_is_identical(recorded: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, output = replay(recorded / "out" / "summary.json", capsys)
    assert code == 0, output
    assert "identical: all" in output and "2,000 runs, seed 17" in output
    assert "note:" not in output


@pytest.mark.slow
def test_replay_uses_the_recorded_text_not_the_changed_file(
        recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    summary = recorded / "out" / "summary.json"
    data = json.loads(summary.read_text())
    scenario = Path(data["scenario"]["path"])
    original = scenario.read_text()
    try:
        scenario.write_text(original.replace("investigation_probability: 0.5",
                                             "investigation_probability: 0.9"))
        code, output = replay(summary, capsys)
    finally:
        scenario.write_text(original)
    assert code == 0, output
    assert f"note: {scenario} has changed since this run" in output
    assert "identical: all" in output


@pytest.mark.slow
def test_a_difference_is_listed_with_the_likely_cause(
        recorded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads((recorded / "out" / "summary.json").read_text())
    sale = data["outcomes"]["sale"]["count"]
    data["outcomes"]["sale"]["count"] = sale + 1
    data["days_to_resolution"]["all_runs_censored_at_horizon"]["days"]["p50"] = 1.5
    data["versions"]["numpy"] = "0.0.1"
    data["git_commit"] = "0" * 40
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(data))
    code, output = replay(summary, capsys)
    assert code == 1, output
    assert "DIFFERENT: 2 recorded numbers differ" in output
    assert f"outcomes.sale.count: recorded {sale + 1}, now {sale}" in output
    assert "days_to_resolution.all_runs_censored_at_horizon.days.p50: recorded 1.5, now" in output
    assert "likely cause: package versions differ: numpy 0.0.1 → " in output
    assert f"the code differs: git commit {'0' * 40} → " in output


@pytest.mark.slow
def test_replay_through_extends_notes_a_changed_base(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The text alone is not the scenario when it extends another file: the resolved
    record stands in when the base has changed."""
    shutil.copy(EXAMPLE, tmp_path / "base.yaml")
    (tmp_path / "variant.yaml").write_text("extends: base.yaml\nname: Variant\n")
    run_cli("variant.yaml", "--runs", "1000", "--seed", "3", "--workers", "1", "--out", "out",
            "--no-figures", "--quiet", cwd=tmp_path)
    base = (tmp_path / "base.yaml").read_text()
    (tmp_path / "base.yaml").write_text(base.replace("investigation_probability: 0.5",
                                                     "investigation_probability: 0.9"))
    summary = tmp_path / "out" / "summary.json"
    data = json.loads(summary.read_text())
    data["scenario"]["path"] = str(tmp_path / "variant.yaml")  # as if run from here
    summary.write_text(json.dumps(data))
    code, output = replay(summary, capsys)
    assert code == 0, output
    assert "now resolves to a different scenario" in output


@pytest.mark.parametrize(("content", "says"), [
    (None, "no such file"),
    ("{", "not JSON"),
    ('{"sweep": {}}', "a sweep's record"),
    ('{"outcomes": {}, "scenario": {}}', "records no scenario content"),
])
def test_unreplayable_records_are_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None,
        says: str) -> None:
    path = tmp_path / "summary.json"
    if content is not None:
        path.write_text(content)
    code, output = replay(path, capsys)
    assert code == 2
    assert output.count("\n") == 1 and output.startswith(f"error: {path}") and says in output


@pytest.mark.slow
def test_sweep_json_records_the_scenario_text(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    run_cli(EXAMPLE, "--vary", "committee.clear_threshold=0.6:0.9:2", "--runs", "200",
            "--workers", "1", "--out", out, "--no-figures", "--quiet")
    data = json.loads((out / "sweep.json").read_text())
    text = EXAMPLE.read_text()
    assert data["scenario"]["content"] == text
    assert data["scenario"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert data["seed"] == 20200914 and data["runs_per_point"] == 200
    assert data["command"][0] == "run.py" and data["git_commit"] is not None
    assert not (out / "partial.json").exists()
