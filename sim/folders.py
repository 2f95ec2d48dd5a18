"""Output folders dealsim owns, and a set of outputs published whole.

A folder is dealsim's when dealsim created it or it carries dealsim's manifest
(``.dealsim.json``, listing every output file of the published set with its sha256).
Anything else that is not empty is refused unless the user says ``--force``; ``.``,
``..``, the home folder and ``/`` are refused always. dealsim deletes only what its
manifest lists and its own work in progress (``WORK``), never follows a link out of
the folder, and writes each new set into a staging folder beside the old one; the set
is published by renames made while Ctrl-C and SIGTERM wait (``sim.signals``), after a
journal entry in the manifest, so an interruption or a crash leaves the earlier
complete set or the new one, and a crash in mid-publish is finished by the next run.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.errors import OutputError
from sim.files import atomic_write_json
from sim.signals import deferred

MANIFEST = ".dealsim.json"
STAGING = ".dealsim-staging-"  # + random: a set being written
WORK = (".blocks", "points", "partial.json")  # kept work: finished blocks, sweep points
RECORDS = ("summary.json", "sweep.json")  # what an older dealsim (no manifest) left
FORMAT = 1


def _entry_name(name: object) -> str | None:
    """A manifest's name if it is a plain entry of the folder, else None: a hand-edited
    manifest must never make dealsim delete outside its folder."""
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name or "\\" in name:
        return None
    return name


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remove(path: Path) -> None:
    """Remove one entry of the folder: a link itself (never its target), a file, or a
    folder dealsim made (``shutil.rmtree`` does not follow the links inside)."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path, ignore_errors=True)


def cannot_write(out: Path, exc: OSError, kept: bool = True) -> OutputError:
    """One line for an OSError while writing ``out``, a full disk named as such."""
    reason = ("the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT)
              else exc.strerror or str(exc))
    earlier = "; earlier results are left as they were" if kept else ""
    return OutputError(f"--out {out}: cannot write ({reason}){earlier}")


def read_manifest(out: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None when it has none (or an unreadable one)."""
    path = out / MANIFEST
    if path.is_symlink() or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("dealsim_folder") != FORMAT:
        return None
    files = data.get("files")
    data["files"] = ({n: h for n, h in files.items() if _entry_name(n)}
                     if isinstance(files, dict) else {})
    return data


def _legacy_record(out: Path) -> list[str] | None:
    """The files an earlier dealsim (before manifests) recorded in ``summary.json`` or
    ``sweep.json``, when the folder holds such a record, else None."""
    for name in RECORDS:
        path = out / name
        if path.is_symlink() or not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if isinstance(data, dict) and isinstance(data.get("files"), list) \
                and "versions" in data:
            return [name, *filter(None, map(_entry_name, data["files"]))]
    return None


def _refuse_dangerous(out: Path) -> Path:
    """The folder's real path, unless it is one no run may ever write into."""
    if str(out) in ("", "."):
        raise OutputError("--out names the current folder; give a folder of its own, "
                          "e.g. --out results/mine")
    try:
        real = out.resolve()
        home = Path.home().resolve()
    except (OSError, RuntimeError) as exc:
        raise OutputError(f"--out {out}: cannot use this path ({exc})") from None
    if real == Path(real.anchor) or real == home or Path.cwd().resolve().is_relative_to(real):
        raise OutputError(f"--out {out}: refusing to write into {real} (the root, the home "
                          "folder, or the current folder or one above it); give a folder "
                          "of its own, e.g. --out results/mine")
    return real


def _check_work(out: Path) -> None:
    """dealsim's kept work must be real folders and files inside ``out``: a link there
    would make it write into (and later delete in) somebody else's folder."""
    for name in WORK:
        path = out / name
        if path.is_symlink():
            raise OutputError(f"--out {out}: {path} is a symbolic link; dealsim writes "
                              "its work only into its own folder (remove the link)")
        if name != "partial.json" and path.exists() and not path.is_dir():
            raise OutputError(f"--out {out}: {path} is a file where dealsim keeps a "
                              "folder of its work; move it away")
        if name == "partial.json" and path.is_dir():
            raise OutputError(f"--out {out}: {path} is a folder; move it away")


def claim(out: Path, kind: str, force: bool = False) -> None:
    """Make ``out`` a folder dealsim may write, or refuse it with one line: create it (and
    its manifest), or accept it when it carries dealsim's manifest or an earlier
    dealsim's record, or is empty; anything else only with ``force``. Finish a publish
    a crash cut short and drop staging folders left by a killed run."""
    _refuse_dangerous(out)
    try:
        if out.exists() and not out.is_dir():
            raise OutputError(f"--out {out}: is a file, not a folder")
        out.mkdir(parents=True, exist_ok=True)
        entries = sorted(p.name for p in out.iterdir())
    except OSError as exc:
        raise cannot_write(out, exc, kept=False) from None
    manifest = read_manifest(out)
    if manifest is None:
        legacy = _legacy_record(out)
        others = [n for n in entries if n != MANIFEST]
        if legacy is None and others and not force:
            shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
            raise OutputError(f"--out {out}: not a dealsim output folder and not empty "
                              f"(it holds {shown}); choose a new folder, or add --force "
                              "to write dealsim's files beside them")
        if legacy is None:
            ours = [n for n in WORK if n in entries]
            if ours:  # even with --force: dealsim would delete them
                raise OutputError(f"--out {out}: holds {', '.join(ours)}, which dealsim "
                                  "did not write and would replace; move them away")
        files = {n: _sha256(out / n) for n in legacy or [] if (out / n).is_file()}
        manifest = {"dealsim_folder": FORMAT, "kind": kind, "files": files}
        _write_manifest(out, manifest)
    _check_work(out)
    _recover(out, manifest)


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    try:
        atomic_write_json(out / MANIFEST, manifest)
    except OSError as exc:
        raise cannot_write(out, exc) from None


def _recover(out: Path, manifest: dict[str, Any]) -> None:
    """Finish a publish the journal says was under way; remove staging folders of runs
    that never reached it (killed, or a crash before publishing)."""
    journal = manifest.get("publishing")
    journal = journal if isinstance(journal, dict) else {}
    pending, files = journal.get("staging"), journal.get("files")
    if _entry_name(pending) and isinstance(files, dict):
        stage = out / str(pending)
        names = [n for n in files if _entry_name(n)]
        if stage.is_dir() and not stage.is_symlink():
            for name in names:
                if (stage / name).is_file():
                    os.replace(stage / name, out / name)
        for name in set(manifest["files"]) - set(names):  # the old set's, as publish would
            _remove(out / name)
        manifest = {k: v for k, v in manifest.items() if k != "publishing"}
        manifest["files"] = {n: files[n] for n in names}
        _write_manifest(out, manifest)
    for path in out.glob(STAGING + "*"):
        _remove(path)


@contextmanager
def staged(out: Path, kind: str, discard: Sequence[str] = WORK) -> Iterator[Path]:
    """A fresh staging folder inside ``out`` to write a whole set of outputs into; when
    the block ends normally the set is published (``publish``) and the work named in
    ``discard`` removed with it; when it fails or is interrupted the staging folder is
    removed and the earlier set stays as it was. An OSError becomes one line."""
    stage = out / f"{STAGING}{secrets.token_hex(6)}"
    try:
        stage.mkdir()
        yield stage
        publish(out, stage, kind, discard)
    except OSError as exc:
        raise cannot_write(out, exc) from None
    finally:
        if stage.exists():
            with deferred(reraise=False):
                _remove(stage)


def publish(out: Path, stage: Path, kind: str, discard: Sequence[str] = ()) -> None:
    """Replace the folder's published set by the files in ``stage``, all or nothing as far
    as signals go: a journal entry first, then renames while signals wait, then the
    manifest listing the new set. Files of the old set the new one lacks are removed."""
    names = sorted(p.name for p in stage.iterdir())
    for name in names:
        target = out / name
        if target.is_dir() and not target.is_symlink():
            raise OutputError(f"--out {out}: {target} is a folder where dealsim writes a "
                              "file; move it away (earlier results are left as they were)")
    files = {n: _sha256(stage / n) for n in names}
    old = read_manifest(out) or {"files": {}}
    with deferred():
        _write_manifest(out, {**old, "dealsim_folder": FORMAT, "kind": kind,
                              "publishing": {"staging": stage.name, "files": files}})
        for name in names:
            os.replace(stage / name, out / name)
        for name in set(old["files"]) - set(names):
            _remove(out / name)
        for name in discard:
            _remove(out / name)
        _write_manifest(out, {"dealsim_folder": FORMAT, "kind": kind, "files": files})
        stage.rmdir()


def work_folder(out: Path, name: str) -> Path:
    """``out/name``, a folder of kept work, checked to be a real folder inside ``out``."""
    _check_work(out)
    return out / name
