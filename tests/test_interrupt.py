"""No lost work: a real run or sweep stopped by SIGINT (Ctrl-C) or SIGTERM keeps what it
finished, marks the folder partial, leaves earlier results alone, exits 130 or 143 without
a traceback, and ``--resume`` (or, for a sweep, the same command) ends with exactly the
result of an uninterrupted run.

Each job is started in its own process group, as a shell starts a pipeline, so a Ctrl-C
sent to the group reaches the pool workers too: they must stay quiet and let the main
process stop them. SIGTERM goes to the main process only, as ``kill PID`` sends it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORACLE = ROOT / "scenarios" / "oracle.yaml"
RUNS = "10000"  # ten blocks of 1,000: a few seconds on two workers, long enough to stop
SEED = "4"


def _as_a_terminal_would() -> None:
    # A job started in the background of a script inherits SIGINT ignored, and Python keeps
    # it so; a terminal's foreground job has the default, which Python turns into Ctrl-C.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, start_new_session=True,
                            preexec_fn=_as_a_terminal_would)


def finish(*args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, str(ROOT / "run.py"), *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def stop_when(process: subprocess.Popen[str], ready: Callable[[], bool],
              how: signal.Signals) -> tuple[int, str]:
    """Send ``how`` as soon as ``ready()``: SIGINT to the process group (a terminal's
    Ctrl-C), SIGTERM to the main process (``kill``)."""
    deadline = time.monotonic() + 120
    while not ready():
        if process.poll() is not None:
            pytest.fail("the job ended before it could be interrupted: "
                        + process.communicate()[1][-500:])
        assert time.monotonic() < deadline, "nothing was saved within two minutes"
        time.sleep(0.02)
    if how == signal.SIGINT:
        os.killpg(process.pid, how)
    else:
        process.send_signal(how)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr


def blocks(out: Path) -> list[Path]:
    return sorted(out.glob(".blocks/*/block-*.npz"))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("whole")
    finish(ORACLE, "--runs", RUNS, "--seed", SEED, "--workers", "2", "--out", out,
           "--no-figures", "--quiet")
    return out


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run whose folder the interrupted runs reuse: it must survive them."""
    out = tmp_path_factory.mktemp("earlier")
    finish(ORACLE, "--runs", "1000", "--seed", "99", "--out", out, "--no-figures", "--quiet")
    return out


def numbers(out: Path) -> dict[str, object]:
    data = json.loads((out / "summary.json").read_text())
    return {k: data[k] for k in ("runs", "seed", "outcomes", "days_to_resolution", "winners",
                                 "price_bn_given_sale", "extensions_mean", "injunction")}


@pytest.mark.slow
@pytest.mark.parametrize(("how", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_keeps_its_work_and_resumes_exactly(
        tmp_path: Path, uninterrupted: Path, earlier: Path, how: signal.Signals,
        code: int) -> None:
    out = tmp_path / "out"
    shutil.copytree(earlier, out)
    before = {name: (out / name).read_bytes() for name in ("summary.json", "replications.csv")}

    args = (ORACLE, "--runs", RUNS, "--seed", SEED, "--workers", "2", "--out", out,
            "--no-figures", "--quiet")
    returncode, stderr = stop_when(start(*args), lambda: len(blocks(out)) >= 1, how)

    assert returncode == code, stderr
    assert "Traceback" not in stderr, stderr
    assert ("terminated" if how == signal.SIGTERM else "interrupted") in stderr.splitlines()[-1]
    partial = json.loads((out / "partial.json").read_text())
    saved = len(blocks(out))
    assert partial["partial"] is True and partial["blocks_saved"] == saved
    assert 1 <= saved < 10, "some, not all, blocks were finished"
    assert partial["runs_requested"] == int(RUNS) and partial["seed"] == int(SEED)
    for name, data in before.items():
        assert (out / name).read_bytes() == data, f"{name} of the earlier run was touched"
    assert not list(out.glob(".*.tmp")) and not list(out.glob(".blocks/*/.*.tmp"))

    finish(*args, "--resume")
    assert not (out / "partial.json").exists() and not blocks(out)
    assert (out / "replications.csv").read_bytes() == \
        (uninterrupted / "replications.csv").read_bytes()
    assert numbers(out) == numbers(uninterrupted)


@pytest.mark.slow
def test_interrupted_sweep_keeps_its_points_and_resumes_exactly(tmp_path: Path) -> None:
    vary = ("--vary", "committee.clear_threshold=0.45:0.95:6", "--runs", "1000",
            "--workers", "2", "--no-figures", "--quiet")
    whole = tmp_path / "whole"
    finish(ORACLE, *vary, "--out", whole)
    out = tmp_path / "out"
    points = out / "points"

    returncode, stderr = stop_when(start(ORACLE, *vary, "--out", out),
                                   lambda: len(list(points.glob("*.json"))) >= 1,
                                   signal.SIGINT)

    assert returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    partial = json.loads((out / "partial.json").read_text())
    saved = len(list(points.glob("*.json")))
    assert partial["points_saved"] == saved and 1 <= saved < 6
    assert partial["points_total"] == 6
    assert not (out / "sweep.json").exists()

    finish(ORACLE, *vary, "--out", out, "--resume")
    assert not (out / "partial.json").exists()
    assert json.loads((out / "sweep.json").read_text())["reused_points"] == saved
    assert (out / "points.csv").read_bytes() == (whole / "points.csv").read_bytes()


WRITES = re.compile(r"\.write_(text|bytes)\(|\bopen\([^)]*['\"][wax]b?\+?['\"]|"
                    r"os\.fdopen\([^)]*['\"][wax]|"
                    r"savefig\((?!buffer)|np\.savez?(_compressed)?\((?!buffer)|shutil\.copy|"
                    r"json\.dump\(")


def test_every_output_goes_through_the_atomic_writers() -> None:
    """A file is written only by ``sim.files`` (a temporary file, then a rename); figures
    and arrays are rendered into memory first."""
    for path in sorted((ROOT / "sim").rglob("*.py")):
        if path.name == "files.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            assert not WRITES.search(line), f"sim/{path.name}:{number}: {line.strip()}"
