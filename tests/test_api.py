"""The Python API: the README's example runs as written; a scenario from text or a dict
needs no file on disk; typed results convert to pandas and Parquet; the command line is
reachable as run.py, python -m sim and the dealsim script."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import sim

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "scenarios" / "oracle.yaml"


@pytest.mark.slow
def test_the_readme_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## From Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None, "the README's API section has no python example"
    monkeypatch.chdir(ROOT)
    text = code.group(1).replace('"results/notebook', f'"{tmp_path}/notebook')
    exec(compile(text, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "P(sale) = " in printed and "Replication 4" in printed
    assert (tmp_path / "notebook" / "oracle.parquet").stat().st_size > 0
    assert {"summary.json", "replications.csv", "report.html"} <= {
        p.name for p in (tmp_path / "notebook" / "oracle").iterdir()}


def test_a_scenario_from_a_path_text_or_dict_is_the_same_scenario() -> None:
    text = ORACLE.read_text(encoding="utf-8")
    from_path, from_text = sim.load(ORACLE), sim.load(text)
    from_dict = sim.load(yaml.safe_load(text))
    assert from_path == from_text == from_dict
    assert from_path.source.text == text and from_path.source.path == str(ORACLE)
    assert from_text.source.sha256 == from_path.source.sha256 and from_text.source.path is None
    assert sim.load(from_path) is from_path


def test_a_bad_scenario_in_a_dict_is_one_line_naming_its_key() -> None:
    data = yaml.safe_load(ORACLE.read_text(encoding="utf-8"))
    data["committee"]["review_dayz"] = 3
    with pytest.raises(sim.ScenarioError, match=r"committee\.review_dayz: unknown key"):
        sim.load(data)


def test_a_run_from_text_writes_its_folder_without_a_file(tmp_path: Path) -> None:
    text = (ROOT / "scenarios" / "example.yaml").read_text(encoding="utf-8")
    run = sim.run(text, runs=300, seed=3, workers=1)
    data = sim.save(run, tmp_path / "out", figures=False)
    assert data["scenario"]["path"] is None and data["scenario"]["content"] == text
    assert data["outcomes"] == sim.summarise(run).numbers()["outcomes"]
    assert "Example" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_same_numbers_from_the_api_and_the_command(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    subprocess.run([sys.executable, str(ROOT / "run.py"), str(ROOT / "scenarios/example.yaml"),
                    "--runs", "400", "--seed", "5", "--workers", "1", "--no-figures",
                    "--quiet", "--out", str(out)], check=True)
    run = sim.run(ROOT / "scenarios/example.yaml", runs=400, seed=5, workers=2)
    sim.save(run, tmp_path / "api", figures=False)
    assert (out / "replications.csv").read_bytes() == \
        (tmp_path / "api" / "replications.csv").read_bytes()


@pytest.mark.slow
def test_to_pandas_names_the_codes_and_dates_the_days(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    run = sim.run(ORACLE, runs=200, seed=11, workers=1)
    frame = run.to_pandas()
    assert len(frame) == 200 and frame.index.name == "replication"
    assert list(frame["outcome"].cat.categories) == ["sale", "shutdown", "abandoned",
                                                     "unresolved"]
    codes = run.results["outcome"]
    assert (frame["outcome"].cat.codes.to_numpy() == codes).all()
    assert frame["state"].isna().sum() == int((codes != 3).sum())  # a resolved run has none
    assert str(frame["date"].dtype).startswith("datetime64")
    assert frame["date"].iloc[0] == pd.Timestamp(run.scenario.start) + pd.to_timedelta(
        frame["day"].iloc[0], unit="D")
    back = pd.read_parquet(run.to_parquet(tmp_path / "r.parquet"))
    pd.testing.assert_frame_equal(back, frame, check_categorical=True)


@pytest.mark.slow
def test_compare_and_backtest_return_typed_results(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    example = ROOT / "scenarios" / "example.yaml"
    both = sim.compare([example, sim.vary(example, {"committee.review_days": 90})],
                       runs=300, seed=2, workers=1)
    table = both.to_pandas()
    assert len(table) == 8 and (table.loc[:3, "difference"] == 0).all()
    case = ROOT / "scenarios" / "cases" / "grindr-2019-05-13.yaml"
    found = sim.backtest([case, ROOT / "scenarios" / "cases" / "stayntouch-2020-03-06.yaml"],
                         runs=100, seed=1, workers=1, out=tmp_path / "bt", figures=False)
    assert len(found.scored) == 2 and (tmp_path / "bt" / "summary.json").exists()
    assert set(found.to_pandas()["case"]) == {s.case.case_id for s in found.scored}


@pytest.mark.parametrize("command", [
    [sys.executable, str(ROOT / "run.py"), "--help"],
    [sys.executable, "-m", "sim", "--help"],
    [sys.executable, "-m", "sim.commands.main", "--help"],
])
def test_every_entry_point_lists_every_command(command: list[str]) -> None:
    shown = subprocess.run(command, capture_output=True, text=True, check=True,
                           cwd=ROOT).stdout
    for name in ("compare", "backtest", "replay"):
        assert f"\n  {name} " in shown, name
    assert "usage: " in shown


def test_the_console_script_calls_itself_dealsim() -> None:
    script = Path(sys.executable).parent / "dealsim"
    if not script.exists():
        pytest.skip("the dealsim script is not installed in this environment")
    shown = subprocess.run([str(script), "compare", "--help"], capture_output=True, text=True,
                           check=True).stdout
    assert shown.startswith("usage: dealsim compare")


def test_importing_sim_loads_nothing_heavy() -> None:
    code = ("import sys, sim, sim.commands.main; "
            "print(sorted(m for m in ('scipy', 'matplotlib', 'pandas', 'simpy') "
            "if m in sys.modules))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, cwd=ROOT).stdout
    assert shown.strip() == "[]"


@pytest.mark.slow
def test_sweep_from_a_dict_gives_the_points_the_command_writes(tmp_path: Path) -> None:
    design = {"name": "t", "design": "grid", "runs": 200, "seed": 4,
              "parameters": {"committee.clear_threshold": {"low": 0.5, "high": 0.9,
                                                           "points": 3}}}
    found = sim.sweep(ROOT / "scenarios" / "example.yaml", design, workers=1,
                      out=tmp_path / "sweep", figures=False)
    table = found.to_pandas()
    assert list(table["committee.clear_threshold"]) == [0.5, 0.7, 0.9]
    written = (tmp_path / "sweep" / "points.csv").read_text().splitlines()
    assert len(written) == 4 and not (tmp_path / "sweep" / "partial.json").exists()
    again = sim.sweep(ROOT / "scenarios" / "example.yaml", design, workers=2)  # no folder
    assert again.run.rows == found.run.rows
