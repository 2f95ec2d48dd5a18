"""The hostile battery (``benchmarks/hostile.py``) at small, seeded counts: the same code a
person runs by hand at scale, so CI sees every kind of check at least once.

Whatever it is handed — damaged scenario files, odd option lists and ``--out`` folders,
hand-edited ``summary.json`` files, Ctrl-C and SIGTERM at any moment, a full disk —
dealsim must answer with results (exit 0) or one ``error:`` line (exit 2), never a
traceback or a hang, stop within 5 s of a signal with its workers gone, keep every
folder one run's set, and lose no user file. The battery counts each way of breaking
that; every count must be zero. On a failure the message is the battery's own table and
reproducers (the document, the command, the stderr's last lines, all kept on disk).

The run is bounded by the battery's own time budget (about a minute; each part tries at
least one case however loaded the machine is).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _battery_module() -> ModuleType:
    """``benchmarks/hostile.py`` imported by path (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location("hostile", ROOT / "benchmarks" / "hostile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["hostile"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


hostile = _battery_module()


def small(work: Path, **changes: object) -> object:
    """The battery at CI size: a few of each kind of case, two jobs, a minute's budget."""
    settings: dict[str, object] = dict(
        documents=50, arguments=8, signals=2, disk_trials=1, seed=1, jobs=2, budget=60.0,
        cli_timeout=60.0, signal_runs=(3000,), signal_workers=(2,), work=work,
        verbose=False)
    settings.update(changes)
    return hostile.Config(**settings)


def test_same_seed_same_cases(tmp_path: Path) -> None:
    """Seeded: the same seed gives the same documents, argument lists and signal plans;
    another seed, others."""
    workspace = hostile.Workspace(tmp_path)
    sources = workspace.sources()
    first = [hostile.make_document(i, 1, workspace, sources).data for i in range(30)]
    again = [hostile.make_document(i, 1, workspace, sources).data for i in range(30)]
    other = [hostile.make_document(i, 2, workspace, sources).data for i in range(30)]
    assert first == again and first != other
    plans = [hostile.plan_trial(1, i, (3000, 6000), (1, 2)) for i in range(10)]
    assert plans == [hostile.plan_trial(1, i, (3000, 6000), (1, 2)) for i in range(10)]
    assert all(0.0 <= p.moment <= 1.1 for p in plans)


def test_a_folder_is_one_runs_set(tmp_path: Path) -> None:
    """The battery's own check of a folder: every file the manifest lists, with its
    sha256, and summary.json's runs equal to the table's rows (checked on hand-made
    folders, so a battery that passed everything would be caught)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "replications.csv").write_text("outcome\nsale\nshutdown\n")
    (out / "summary.json").write_text('{"runs": 2}')
    assert hostile.folder_problem(out).startswith("no manifest")
    files = {n: hostile.sha256(out / n) for n in ("replications.csv", "summary.json")}
    manifest = {"dealsim_folder": 1, "kind": "run", "files": files}
    (out / ".dealsim.json").write_text(json.dumps(manifest))
    assert hostile.folder_problem(out) is None
    (out / "outcomes.png").write_bytes(b"an older run's figure")
    assert "outcomes.png lies beside the set" in hostile.folder_problem(out)
    (out / "outcomes.png").unlink()
    (out / "summary.json").write_text('{"runs": 3}')
    assert "differs from its sha256" in hostile.folder_problem(out)


@pytest.mark.slow
def test_the_battery_finds_nothing(tmp_path: Path) -> None:
    """~60-90 s: every part of the battery at small counts; zero failures of each kind."""
    report = hostile.battery(small(tmp_path))
    table = report.table()
    for part in hostile.PARTS:
        assert report.counts[part].get("tried", 0) or part == "disk", table
    assert report.counts["disk"].get("simulated", 0) >= 1, table
    failing = report.failing()
    assert not failing, f"{failing}\n{table}\n{report.reproducers()}"
