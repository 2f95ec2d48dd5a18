"""The commands under hostile input: every bad argument, address, path or hand-edited
summary.json is one line on stderr starting ``error:`` and exit code 2, never a usage block,
a traceback, a hang or an unbounded read. Most cases run in-process (``main(argv)``), so
the file is fast; a pipe or ``/dev/zero``, which would block or exhaust memory if a
regression let them through, runs in a subprocess under a timeout and a memory cap."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from sim.commands import replay
from sim.commands.main import main
from sim.commands.options import DEFAULT_SEED
from sim.errors import ScenarioError
from sim.limits import MAX_FILE_BYTES, MAX_RUNS

EXAMPLE = ROOT / "scenarios" / "example.yaml"


@pytest.fixture(autouse=True)
def started_as_run_py(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, the program is named as ``python run.py`` names it (pytest's own
    ``sys.argv[0]`` would make it ``python -m sim``)."""
    monkeypatch.setattr(sys, "argv", ["run.py"])


def cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``run.py ARGV`` run in this process."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code: int, err: str, *words: str) -> str:
    """The single ``error:`` line of a refusal, checked to hold ``words``."""
    assert code == 2, err
    assert "Traceback" not in err and "usage:" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert lines[0].isprintable(), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def run_cli(*args: str | Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``run.py ARGS`` in a subprocess, its address space capped at 2 GB so an unbounded
    read fails fast instead of eating the machine."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run([sys.executable, "run.py", *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=timeout, preexec_fn=cap)


# 1. argparse errors: one line, for every command -----------------------------------------

def test_a_bad_number_is_the_one_line_of_the_brief(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, EXAMPLE, "--runs", "abc")
    assert one_line(code, err) == "error: --runs: not a whole number: 'abc' (see run.py --help)"
    assert out == ""


@pytest.mark.parametrize(("argv", "words"), [
    ([], ("required: scenario", "run.py --help")),
    ([EXAMPLE, "--bogus"], ("unrecognized arguments: --bogus",)),
    ([EXAMPLE, "--runs"], ("--runs: expected one argument",)),
    ([EXAMPLE, "--runs", "0"], ("--runs: must be between 1 and",)),
    ([EXAMPLE, "--seed", "-1"], ("--seed: must be between 0 and 2**63 - 1",)),
    ([EXAMPLE, "--precision", "nan"], ("--precision: must be between",)),
    ([EXAMPLE, "--bogus\x1b[2J"], ("unrecognized arguments: --bogus\\x1b[2J",)),
    (["compare", EXAMPLE], ("compare needs at least two", "run.py compare --help")),
    (["compare", EXAMPLE, EXAMPLE, "--workers", "0"], ("--workers: must be between 1 and",)),
    (["backtest"], ("required: PATH", "run.py backtest --help")),
    (["backtest", EXAMPLE, "--runs", "1e3"], ("--runs: not a whole number: '1e3'",)),
    (["replay"], ("required: summary", "run.py replay --help")),
    (["replay", "x.json", "--bogus"], ("unrecognized arguments: --bogus",)),
])
def test_argument_errors_are_one_line_for_every_command(
        capsys: pytest.CaptureFixture[str], argv: list[str | Path], words: tuple[str]) -> None:
    code, _, err = cli(capsys, *argv)
    one_line(code, err, *words)


@pytest.mark.parametrize("command", [[], ["compare"], ["backtest"], ["replay"]])
def test_help_is_unchanged(capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    code, out, err = cli(capsys, *command, "--help")
    assert code == 0 and err == ""
    assert out.startswith(f"usage: {' '.join(['run.py', *command])} [-h]")
    assert "options:" in out and "--quiet" in out


def test_an_argument_error_from_the_real_entry_point_is_one_line() -> None:
    done = run_cli(EXAMPLE, "--workers", "many")
    one_line(done.returncode, done.stderr, "--workers: not a whole number: 'many'")


# 2. and 3. where the replications run -----------------------------------------------------

def test_scheduler_beside_dask_local_is_refused(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:
    code, _, err = cli(capsys, tmp_path / "absent.yaml", "--scheduler", "tcp://127.0.0.1:9",
                       "--dask-local", "2")
    one_line(code, err, "--dask-local", "--scheduler")


@pytest.mark.parametrize("address", ["notaurl", "tcp://127.0.0.1", "tcp://:8786",
                                     "tcp://host:99999", "tcp://host:0", "http://host:80",
                                     "tls://host:8786", "tcp://host:port", "", "tcp://a b:1"])
def test_a_malformed_scheduler_address_is_refused_before_connecting(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, address: str) -> None:
    code, _, err = cli(capsys, EXAMPLE, "--scheduler", address, "--runs", "10", "--quiet",
                       "--no-figures", "--out", tmp_path / "out")
    one_line(code, err, "--scheduler: not a scheduler address", "tcp://HOST:PORT")
    assert not (tmp_path / "out").exists()


def test_the_cluster_module_checks_the_address_and_the_pair_itself() -> None:
    from sim.running.cluster import dask_executor

    with pytest.raises(ScenarioError, match="not a scheduler address: 'notaurl'"), \
            dask_executor("notaurl", None):
        pass
    with pytest.raises(ScenarioError, match="either a scheduler or a local cluster"), \
            dask_executor("tcp://127.0.0.1:9", 2):
        pass


@pytest.mark.slow
def test_a_refused_scheduler_is_one_line_naming_it() -> None:
    """A second of waiting on a port nobody listens on (and importing distributed)."""
    pytest.importorskip("distributed")
    from sim.running.cluster import dask_executor

    with pytest.raises(ScenarioError) as info, dask_executor("tcp://127.0.0.1:9", None,
                                                             timeout=1.0):
        pass
    text = str(info.value)
    assert text.startswith("cannot reach the Dask scheduler at tcp://127.0.0.1:9 within 1 s")
    assert "\n" not in text


# 4. replay --workers ----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["-1", "0", "2000", "two"])
def test_replay_refuses_workers_as_every_command_does(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, value: str) -> None:
    code, _, err = cli(capsys, "replay", tmp_path / "summary.json", "--workers", value)
    one_line(code, err, "--workers: ")


# 5. replay trusts nothing in summary.json -------------------------------------------------

def record() -> dict[str, Any]:
    """The smallest record replay accepts, as run_folder writes it (no run needed)."""
    text = EXAMPLE.read_text()
    return {"format": 2,
            "scenario": {"name": "example", "path": str(EXAMPLE), "content": text,
                         "sha256": hashlib.sha256(text.encode()).hexdigest(),
                         "resolved": None},
            "runs": 100, "seed": 7, "command": ["run.py", str(EXAMPLE)],
            "outcomes": {"sale": {"count": 1}}, "versions": {"numpy": "2.0"},
            "git_commit": None}


def edited(change: str, value: Any) -> dict[str, Any]:
    """``record()`` with the dotted key ``change`` set to ``value`` (``DELETE``: removed)."""
    data = copy.deepcopy(record())
    *parents, last = change.split(".")
    box = data
    for part in parents:
        box = box[part]
    if value is DELETE:
        del box[last]
    else:
        box[last] = value
    return data


DELETE = object()


@pytest.mark.parametrize(("change", "value", "says"), [
    ("runs", "abc", "runs: "),
    ("runs", -5, f"runs: must be between 1 and {MAX_RUNS:,}"),
    ("runs", 0, "runs: must be between 1 and"),
    ("runs", 1e12, "runs: not a whole number"),
    ("runs", 10**12, "runs: must be between 1 and"),
    ("runs", 100.0, "runs: not a whole number"),
    ("runs", True, "runs: not a whole number"),
    ("runs", None, "runs: not a whole number"),
    ("runs", DELETE, "runs: missing"),
    ("seed", -1, "seed: must be between 0 and 2**63 - 1"),
    ("seed", 2**63, "seed: must be between 0 and 2**63 - 1"),
    ("seed", None, "seed: not a whole number"),
    ("seed", "7", "seed: not a whole number"),
    ("seed", DELETE, "seed: missing"),
    ("scenario", "oracle.yaml", "scenario: "),
    ("scenario", DELETE, "scenario: missing"),
    ("scenario.path", DELETE, "scenario.path: missing"),
    ("scenario.path", 5, "scenario.path: "),
    ("scenario.path", "a\x00b", "scenario.path: not a file path"),
    ("scenario.path", "a" * 5000, "scenario.path: longer than 4,096 characters"),
    ("scenario.content", "#" * (MAX_FILE_BYTES + 1),
     f"scenario.content: longer than {MAX_FILE_BYTES:,} characters"),
    ("scenario.content", DELETE, "scenario.content: records no scenario content"),
    ("scenario.content", ["name: x"], "scenario.content: "),
    ("scenario.sha256", 5, "scenario.sha256: "),
    ("scenario.resolved", "x", "scenario.resolved: "),
    ("command", "run.py x", "command: "),
    ("command", ["run.py", 5], "command[1]: "),
    ("versions", ["numpy"], "versions: "),
    ("git_commit", 5, "git_commit: "),
    ("outcomes", [1, 2], "outcomes: "),
])
def test_a_hand_edited_record_is_one_line_naming_the_key(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, change: str, value: Any,
        says: str) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(edited(change, value), indent=2))
    code, out, err = cli(capsys, "replay", path, "--workers", "1", "--quiet")
    line = one_line(code, err, says)
    assert line.startswith(f"error: {path}:")
    assert out == ""  # refused before anything ran


def test_the_error_line_points_at_the_key_in_the_file(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    text = json.dumps(edited("seed", -1), indent=2)
    path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith('  "seed"'))
    code, _, err = cli(capsys, "replay", path)
    one_line(code, err, f"{path}:{line}: seed: ")
    text = json.dumps(edited("scenario.path", DELETE), indent=2)
    path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1)
                if row.startswith('  "scenario"'))
    code, _, err = cli(capsys, "replay", path)
    one_line(code, err, f"{path}:{line}: scenario.path: missing")  # the parent's line


def test_a_resolved_scenario_that_does_not_validate_is_one_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = edited("scenario.content", "name: x\n")  # no longer loads: resolved stands in
    data["scenario"]["resolved"] = {"name": 5}
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(data))
    code, _, err = cli(capsys, "replay", path, "--quiet")
    one_line(code, err, f"error: {path}:1: scenario.resolved", "does not validate")


@pytest.mark.parametrize(("content", "says"), [
    (json.dumps(record())[:200], "not JSON"),
    ("hello", "not JSON"),
    ("", "not JSON"),
    ("[1, 2]", "not a run's summary.json"),
    ('"summary"', "not a run's summary.json"),
    ("[" * 100_000, "not JSON (nested too deep)"),
    ('{"runs": 1' + "0" * 5000 + "}", "not JSON"),
    ('{"outcomes": {}, "runs": NaN}', "not JSON (NaN"),
    ('{"outcomes": {}, "runs": -Infinity}', "not JSON (-Infinity"),
    ('{"outcomes": ' + "[" * 200 + "]" * 200 + "}", "nested deeper than 64 levels"),
    ('{"outcomes": {}, "command": ["\\ud800"]}', "lone surrogate"),
])
def test_a_file_that_is_no_record_is_one_line(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "summary.json"
    path.write_text(content)
    code, _, err = cli(capsys, "replay", path)
    one_line(code, err, f"error: {path}", says)


def test_a_record_over_the_size_cap_is_refused_unread(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(record()))
    assert getattr(replay, "MAX_RECORD_BYTES", None) == 50_000_000  # the documented cap
    monkeypatch.setattr(replay, "MAX_RECORD_BYTES", 1000)
    code, _, err = cli(capsys, "replay", path)
    one_line(code, err, f"error: {path}: larger than 1,000 bytes")


def test_replay_of_a_folder_is_one_line(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    code, _, err = cli(capsys, "replay", tmp_path)
    one_line(code, err, f"error: {tmp_path}: a folder, not a run's summary.json")


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_replay_of_a_device_or_pipe_neither_blocks_nor_reads_forever(
        tmp_path: Path, special: str) -> None:
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "summary.json"
        os.mkfifo(path)
    done = run_cli("replay", path, timeout=30)
    one_line(done.returncode, done.stderr, f"error: {path}: not a regular file")


def test_the_scenario_file_on_disk_is_hashed_within_a_cap(tmp_path: Path) -> None:
    """The recorded ``scenario.path`` is compared with what is on disk: read only a
    bounded amount, and never open a pipe or device (which would block or read forever)."""
    big = tmp_path / "big.yaml"
    big.write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    os.mkfifo(tmp_path / "pipe.yaml")
    assert replay.file_sha256(big) is None
    assert replay.file_sha256(tmp_path / "pipe.yaml") is None
    assert replay.file_sha256(tmp_path) is None
    assert replay.file_sha256(tmp_path / "absent.yaml") is None
    assert replay.file_sha256(EXAMPLE) == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()


def test_printed_record_text_is_escaped(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The recorded command and path come from a file anyone may edit: a terminal escape
    in them is shown escaped, not obeyed."""
    from sim import api

    def stop(*args: Any, **kwargs: Any) -> None:
        raise ScenarioError("stopped before running")

    monkeypatch.setattr(api, "run", stop)
    data = edited("command", ["run.py", "\x1b[2J\x1b]0;pwned\x07"])
    data["scenario"]["path"] = str(tmp_path / "gone\x1b[2J.yaml")
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(data))
    code, out, err = cli(capsys, "replay", path, "--quiet")
    assert code == 2 and "stopped before running" in err
    assert "\x1b" not in out and "\\x1b[2J\\x1b]0;pwned\\x07" in out
    assert "gone\\x1b[2J.yaml is not found" in out


def test_a_recorded_path_the_system_cannot_look_up_is_only_a_note(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A file name longer than the system allows (``Path.exists`` raises for it) is as
    good as gone: replay notes it and replays the recorded text."""
    from sim import api

    def stop(*args: Any, **kwargs: Any) -> None:
        raise ScenarioError("stopped before running")

    monkeypatch.setattr(api, "run", stop)
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(edited("scenario.path", "a" * 300 + ".yaml")))
    code, out, err = cli(capsys, "replay", path, "--quiet")
    assert code == 2 and "stopped before running" in err and "Traceback" not in err
    assert f"note: {'a' * 300}.yaml is not found from here" in out


# 6. --seed for sweeps, however it is spelled -----------------------------------------------

@pytest.fixture()
def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text("name: tiny\ndesign: grid\nparameters:\n"
                    "  committee.clear_threshold: {low: 0.5, high: 0.9, points: 2}\n"
                    "runs: 100\nseed: 99\n")
    return path


@pytest.fixture()
def swept(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The Sweep each ``run.py --sweep/--vary`` hands the API, without running it."""
    from sim import api

    seen: list[Any] = []

    def capture(scenario: Any, sweep: Any, **kwargs: Any) -> None:
        seen.append(sweep)
        raise ScenarioError("captured")

    monkeypatch.setattr(api, "sweep", capture)
    return seen


@pytest.mark.parametrize(("seed", "expected"), [
    (["--seed=7"], 7), (["--seed", "7"], 7), (["--see=7"], 7), ([], 99)])
def test_a_sweep_files_seed_gives_way_to_any_spelling_of_seed(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, sweep_file: Path,
        swept: list[Any], seed: list[str], expected: int) -> None:
    code, _, err = cli(capsys, EXAMPLE, "--sweep", sweep_file, *seed, "--quiet",
                       "--no-figures", "--out", tmp_path / "out")
    assert code == 2 and "captured" in err
    assert swept[0].seed == expected and swept[0].runs == 100


@pytest.mark.parametrize(("seed", "expected"), [
    (["--seed=7"], 7), (["--seed", "7"], 7), ([], DEFAULT_SEED)])
def test_vary_takes_the_seed_or_the_default(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, swept: list[Any],
        seed: list[str], expected: int) -> None:
    code, _, err = cli(capsys, EXAMPLE, "--vary", "committee.clear_threshold=0.5:0.9:2",
                       *seed, "--runs", "100", "--quiet", "--out", tmp_path / "out")
    assert code == 2 and "captured" in err
    assert swept[0].seed == expected


# 7. compare, backtest and the scenario positional: paths ----------------------------------

@pytest.mark.parametrize("argv", [
    ["compare", EXAMPLE, ""], ["backtest", ""], [""], [EXAMPLE, "--sweep", ""]])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(
        capsys: pytest.CaptureFixture[str], argv: list[str | Path]) -> None:
    code, _, err = cli(capsys, *argv, "--runs", "100")
    one_line(code, err, "an empty path")


@pytest.mark.parametrize("argv", [
    ["compare", EXAMPLE, "{dir}"], ["{dir}"], [EXAMPLE, "--sweep", "{dir}"],
    ["compare", EXAMPLE, "/dev/zero"], ["/dev/zero"], ["backtest", "/dev/zero"]])
def test_a_folder_or_device_given_as_a_file_is_one_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str | Path]) -> None:
    """Refused unread by the loader, for every command that takes a file."""
    argv = [str(a).format(dir=tmp_path) for a in argv]
    path = tmp_path if str(tmp_path) in argv else "/dev/zero"
    code, _, err = cli(capsys, *argv, "--runs", "100")
    one_line(code, err, f"error: {path}: cannot read (a ")


@pytest.mark.slow
def test_a_pipe_nobody_writes_to_given_to_compare_is_one_line(tmp_path: Path) -> None:
    """The loader waits a few seconds for a pipe's writer (``<(cat file)`` works), then
    gives up: compare, which loads every file first, says so in one line, no hang."""
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    done = run_cli("compare", EXAMPLE, fifo, "--runs", "100", "--out", tmp_path / "out")
    one_line(done.returncode, done.stderr, f"error: {fifo}: cannot read")
    assert not (tmp_path / "out").exists()
