"""Never lose a user's work: an output folder is dealsim's or refused, saved blocks are
never dropped silently, a folder's set of outputs is published whole, a stop at any
moment (any number of Ctrl-C, SIGTERM to the process or its group) ends within seconds,
and a folder that cannot be written is one line with the earlier results intact."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim import api, folders
from sim.commands.main import main
from sim.files import atomic_write_bytes

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "scenarios" / "example.yaml"
ORACLE = ROOT / "scenarios" / "oracle.yaml"


def cli(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def consistent(out: Path) -> bool:
    """Every file the manifest lists is there with its hash, and the record agrees with
    the table: one run's set, not a mix."""
    manifest = json.loads((out / folders.MANIFEST).read_text())
    for name, digest in manifest["files"].items():
        if hashlib.sha256((out / name).read_bytes()).hexdigest() != digest:
            return False
    summary = json.loads((out / "summary.json").read_text())
    rows = (out / "replications.csv").read_text().count("\n") - 1
    return summary["runs"] == rows and not list(out.glob(folders.STAGING + "*"))


def test_a_folder_of_the_users_is_refused_and_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's reproducer: before, both user files vanished."""
    d = tmp_path / "d"
    (d / ".blocks").mkdir(parents=True)
    for name in (".blocks/mine", "partial.json", "summary.json"):
        (d / name).write_text("x")
    code, err = cli(capsys, EXAMPLE, "--runs", 200, "--out", d, "--quiet", "--no-figures")
    assert code == 2 and "not a dealsim output folder" in one_line(err)
    assert all((d / n).read_text() == "x" for n in (".blocks/mine", "partial.json",
                                                      "summary.json"))
    assert not (d / folders.MANIFEST).exists()


def test_force_writes_beside_the_users_files_and_deletes_none(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "d"
    d.mkdir()
    (d / "notes.txt").write_text("mine")
    for _ in range(2):  # the second run replaces only what the first published
        code, err = cli(capsys, EXAMPLE, "--runs", 200, "--out", d, "--quiet", "--force")
        assert code == 0, err
    assert (d / "notes.txt").read_text() == "mine" and consistent(d)
    code, _ = cli(capsys, EXAMPLE, "--runs", 200, "--out", d, "--quiet", "--no-figures")
    assert code == 0 and not list(d.glob("*.png")), "the old set's figures are not left behind"
    assert (d / "notes.txt").read_text() == "mine" and consistent(d)


@pytest.mark.parametrize("out", ["", ".", "..", "HOME", "/"])
def test_the_current_home_and_root_folders_are_refused(
        out: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    home = tmp_path / "home"
    work = home / "work"
    work.mkdir(parents=True)
    (work / "keep.txt").write_text("x")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    code, err = cli(capsys, EXAMPLE, "--runs", 200, "--out", str(home) if out == "HOME" else out,
                    "--quiet", "--force")
    assert code == 2 and "give a folder of its own" in one_line(err)
    assert sorted(p.name for p in home.rglob("*")) == ["keep.txt", "work"]


def test_a_blocks_link_is_never_followed(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "file").write_text("x")
    d = tmp_path / "d"
    api.run(EXAMPLE, 200, out=d, figures=False)
    (d / ".blocks").symlink_to(theirs)
    code, err = cli(capsys, EXAMPLE, "--runs", 2000, "--out", d, "--quiet", "--fresh")
    assert code == 2 and "symbolic link" in one_line(err)
    assert [p.name for p in theirs.iterdir()] == ["file"]


def test_forgetting_resume_is_refused_and_fresh_discards(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Before, the saved blocks were deleted without a word."""
    d = tmp_path / "d"
    api.run(EXAMPLE, 200, out=d, figures=False)
    block = d / ".blocks" / "0123456789abcdef" / "block-000000-n1000.npz"
    block.parent.mkdir(parents=True)
    block.write_bytes(b"saved work")
    code, err = cli(capsys, EXAMPLE, "--runs", 2000, "--out", d, "--quiet", "--no-figures")
    assert code == 2 and "--resume" in one_line(err) and "--fresh" in err
    assert block.exists()
    code, err = cli(capsys, EXAMPLE, "--runs", 2000, "--out", d, "--quiet", "--no-figures",
                    "--fresh")
    assert code == 0, err
    assert not (d / ".blocks").exists() and consistent(d)


def test_a_damaged_block_is_computed_again(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, a corrupted block file on --resume ended in BadZipFile."""
    whole = api.run(EXAMPLE, 3000, 5, workers=1)
    d = tmp_path / "d"
    calls = 0
    real = api.simulate

    def stop_after_two_blocks(*args: object, **kwargs: object) -> object:
        store = kwargs["store"]

        def save(block: int, part: object, _save: object = store.save) -> None:
            nonlocal calls
            _save(block, part)  # type: ignore[operator]
            calls += 1
            if calls == 2:
                raise KeyboardInterrupt

        store.save = save  # type: ignore[attr-defined]
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "simulate", stop_after_two_blocks)
    with pytest.raises(KeyboardInterrupt):
        api.run(EXAMPLE, 3000, 5, workers=1, out=d, figures=False)
    monkeypatch.setattr(api, "simulate", real)
    saved = sorted(d.glob(".blocks/*/block-*.npz"))
    assert len(saved) == 2 and (d / "partial.json").exists()
    saved[0].write_bytes(b"PK\x03\x04 not a zip")
    resumed = api.run(EXAMPLE, 3000, 5, workers=1, out=d, resume=True, figures=False)
    for name in whole.results.columns:
        np.testing.assert_array_equal(resumed.results[name], whole.results[name])
    assert consistent(d) and not (d / "partial.json").exists()


def test_saved_blocks_belong_to_the_code_that_made_them(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path) -> None:
    from sim.running import blockstore

    scenario = api.load(EXAMPLE)
    before = blockstore.BlockStore(tmp_path, scenario, 1).folder
    monkeypatch.setattr(blockstore, "model_hash", lambda: "another version")
    assert blockstore.BlockStore(tmp_path, scenario, 1).folder != before


def test_a_stop_in_the_write_phase_leaves_the_earlier_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, a stop there left a new replications.csv and figures beside the old
    summary.json, and no partial.json."""
    d = tmp_path / "d"
    api.run(EXAMPLE, 1000, out=d, figures=False)
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    from sim.outputs import run_folder

    def stopped_after_the_table(run: object, out: Path, **kwargs: object) -> None:
        run_folder.write_replications(run, out / "replications.csv")  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "write_outputs", stopped_after_the_table)
    with pytest.raises(KeyboardInterrupt):
        api.run(EXAMPLE, 2000, out=d, figures=False)
    after = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    assert {n: b for n, b in after.items() if n != "partial.json"} == before
    assert json.loads(after["partial.json"])["blocks_saved"] == 2
    assert consistent(d)


def test_a_signal_during_publish_waits_for_the_whole_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = tmp_path / "d"
    api.run(EXAMPLE, 1000, out=d, figures=False)
    real = os.replace
    moved = 0

    def replace_then_ctrl_c(src: str | Path, dst: str | Path) -> None:
        nonlocal moved
        real(src, dst)
        moved += folders.STAGING in str(src) and folders.STAGING not in str(dst)
        if moved == 2:  # a Ctrl-C between two renames of the set
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(folders.os, "replace", replace_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        api.run(EXAMPLE, 2000, out=d, resume=True, figures=False)
    monkeypatch.setattr(folders.os, "replace", real)
    assert json.loads((d / "summary.json").read_text())["runs"] == 2000 and consistent(d)


def test_a_publish_cut_short_by_a_crash_is_finished_by_the_next_run(tmp_path: Path) -> None:
    d = tmp_path / "d"
    api.run(EXAMPLE, 1000, out=d, figures=False)
    stage = d / f"{folders.STAGING}killed"
    stage.mkdir()
    new = api.run(EXAMPLE, 2000, figures=False)
    from sim.outputs.run_folder import write_outputs

    write_outputs(new, stage, figures=False)
    files = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in stage.iterdir()}
    manifest = json.loads((d / folders.MANIFEST).read_text())
    manifest["publishing"] = {"staging": stage.name, "files": files}
    (d / folders.MANIFEST).write_text(json.dumps(manifest))
    os.replace(stage / "summary.json", d / "summary.json")  # killed after one rename
    folders.claim(d, "run")
    assert json.loads((d / "summary.json").read_text())["runs"] == 2000 and consistent(d)


def test_a_manifest_cannot_make_dealsim_delete_outside_its_folder(tmp_path: Path) -> None:
    d = tmp_path / "d"
    api.run(EXAMPLE, 200, out=d, figures=False)
    (tmp_path / "precious").write_text("x")
    manifest = json.loads((d / folders.MANIFEST).read_text())
    manifest["files"]["../precious"] = "0" * 64
    (d / folders.MANIFEST).write_text(json.dumps(manifest))
    api.run(EXAMPLE, 200, out=d, figures=False)
    assert (tmp_path / "precious").read_text() == "x"


def test_folders_that_cannot_be_written_are_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    blocks_file = tmp_path / "blocks-file"
    api.run(EXAMPLE, 200, out=blocks_file, figures=False)
    (blocks_file / ".blocks").write_text("x")
    summary_dir = tmp_path / "summary-dir"
    api.run(EXAMPLE, 200, out=summary_dir, figures=False)
    (summary_dir / "summary.json").unlink()
    (summary_dir / "summary.json").mkdir()
    cases = {a_file: "not a folder", Path("/dev/null"): "not a folder",
             tmp_path / ("n" * 300): "cannot write", blocks_file: "is a file",
             summary_dir: "is a folder"}
    for out, says in cases.items():
        code, err = cli(capsys, EXAMPLE, "--runs", 200, "--out", out, "--quiet", "--fresh")
        assert code == 2 and says in one_line(err), (out, err)
    assert a_file.read_text() == "x" and (blocks_file / ".blocks").read_text() == "x"


def test_a_full_disk_is_one_line_and_keeps_the_earlier_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Before, a 23-line ENOSPC traceback and no partial.json."""
    d = tmp_path / "d"
    api.run(EXAMPLE, 1000, out=d)
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    from sim import files

    real = files.os.fdopen

    def full(fd: int, *args: object, **kwargs: object) -> object:
        handle = real(fd, *args, **kwargs)
        if "staging" in os.readlink(f"/proc/self/fd/{fd}"):
            handle.close()
            raise OSError(errno.ENOSPC, "No space left on device")
        return handle

    monkeypatch.setattr(files.os, "fdopen", full)
    code, err = cli(capsys, EXAMPLE, "--runs", 2000, "--out", d, "--quiet")
    assert code == 2 and "the disk is full" in one_line(err)
    assert {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()} == before


def test_an_interrupt_between_creating_and_writing_a_file_leaves_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, a signal between ``mkstemp()`` and ``try:`` left a ``.tmp`` (the flaky
    SIGTERM test)."""
    real = os.open

    def open_then_signal(*args: object, **kwargs: object) -> int:
        fd = real(*args, **kwargs)  # type: ignore[arg-type]
        os.close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "open", open_then_signal)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(tmp_path / "x.json", b"{}")
    monkeypatch.setattr(os, "open", real)
    assert list(tmp_path.iterdir()) == []


def _group_alive(pgid: int) -> list[int]:
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def started_and_saving(out: Path, *args: object) -> subprocess.Popen[str]:
    """A run in its own process group, as a terminal's job, once it has saved a block."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), *map(str, args), "--out", str(out), "--quiet"],
        cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not list(out.glob(".blocks/*/block-*.npz")):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    return process


@pytest.mark.parametrize(("signals", "to_group", "code"), [
    ((signal.SIGINT, signal.SIGINT), True, 130),
    ((signal.SIGINT, signal.SIGINT, signal.SIGINT), False, 130),
    ((signal.SIGTERM,), True, 143),
    ((signal.SIGTERM, signal.SIGINT), False, 143),
], ids=["ctrl-c-twice", "sigint-thrice", "sigterm-group", "sigterm-then-ctrl-c"])
def test_any_number_of_interrupts_ends_within_five_seconds(
        signals: tuple[signal.Signals, ...], to_group: bool, code: int,
        tmp_path: Path) -> None:
    """Before, Ctrl-C twice with a process pool hung in 4 of 5 trials."""
    process = started_and_saving(tmp_path / "d", ORACLE, "--runs", "200000",
                                 "--workers", "2")
    for how in signals:
        (os.killpg if to_group else os.kill)(process.pid, how)
        time.sleep(0.05)
    started = time.monotonic()
    try:
        _, err = process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("still running 5 s after the last signal")
    assert time.monotonic() - started < 5
    assert process.returncode == code and "Traceback" not in err, err
    time.sleep(0.5)
    assert _group_alive(process.pid) == [], "workers left behind"
    assert json.loads((tmp_path / "d" / "partial.json").read_text())["blocks_saved"] >= 1


def test_a_stop_in_a_sweeps_write_phase_leaves_the_earlier_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, a new points.csv beside the old sweep.json and no partial.json."""
    d = tmp_path / "sweep"
    grid = {"name": "g", "design": "grid", "runs": 200,
            "parameters": {"committee.clear_threshold": {"low": 0.5, "high": 0.9, "points": 2}}}
    api.sweep(EXAMPLE, grid, out=d, figures=False)
    before = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}

    def stopped(run: object, analysis: object, out: Path, **kwargs: object) -> None:
        (out / "points.csv").write_text("new")
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "write_sweep", stopped)
    with pytest.raises(KeyboardInterrupt):
        api.sweep(EXAMPLE, {**grid, "runs": 300}, out=d, figures=False)
    after = {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}
    assert after == before and not list(d.glob(folders.STAGING + "*"))


def test_ctrl_c_twice_on_a_local_dask_cluster_ends_within_five_seconds(tmp_path: Path) -> None:
    """Before, a stop on Dask waited for ever on the cluster's orderly close."""
    pytest.importorskip("distributed")
    process = started_and_saving(tmp_path / "d", EXAMPLE, "--runs", "400000",
                                 "--dask-local", "2")
    for _ in range(2):
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(0.1)
    try:
        _, err = process.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("still running 5 s after the last signal")
    assert process.returncode == 130 and "Traceback" not in err, err
    time.sleep(0.5)
    assert _group_alive(process.pid) == [], "workers left behind"


def test_a_full_disk_while_saving_blocks_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Found by the hostile battery on a 3 MB tmpfs: a traceback from the block store."""
    from sim.running import blockstore

    def full(self: object, block: int, part: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(blockstore.BlockStore, "save", full)
    code, err = cli(capsys, EXAMPLE, "--runs", 2000, "--workers", 1, "--out",
                    tmp_path / "d", "--quiet")
    assert code == 2 and "the disk is full" in one_line(err)
