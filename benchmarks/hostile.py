"""A hostile battery: whatever a user hands dealsim, the answer is results (exit 0) or ONE
line on stderr starting ``error:`` (exit 2); never a traceback or a hang; Ctrl-C and
SIGTERM end it within 5 s (exit 130 / 143, workers gone); and no user's work is lost.

    .venv/bin/python benchmarks/hostile.py --documents 5000 --signals 100 --seed 1 [--jobs 2]

Parts (``--parts`` picks some):

1. ``documents``: the shipped scenarios damaged with a seeded ``random.Random`` (keys
   deleted, renamed, retyped; extreme numbers and dates; YAML tags, anchors, merge keys,
   sexagesimal and yes/no scalars; tabs, BOMs, control and non-UTF-8 bytes, truncation;
   hostile names; ``extends`` to odd targets), each loaded in-process (in a loader child,
   so a hang in C code cannot stop the battery) under a time limit; every accepted
   document, and every 25th refused one, then goes through the command line.
2. ``arguments``: random option lists, odd ``--out`` folders and hand-edited
   ``summary.json`` files for ``replay``, with HOME set to a temporary folder.
3. ``signals``: runs and sweeps stopped by SIGINT (once to three times) or SIGTERM, to
   the process or its group, at a seeded fraction (0-110%) of the time an uninterrupted
   run takes (every fifth trial: just after the new set is published), in a folder
   that holds an earlier run of another size, beside user files; half are then
   finished with ``--resume`` and compared byte for byte.
4. ``disk``: a run that fills a 3 MB tmpfs (when mounting is allowed), and runs whose
   writes fail with ENOSPC after N calls (in-process, ``sim.files`` patched).

A folder is consistent when its manifest (``.dealsim.json``) lists files that all exist
with their sha256, ``summary.json``'s runs match the rows of ``replications.csv`` (a
sweep: ``sweep.json``'s points match ``points.csv``), and no dealsim output lies beside
the set unlisted.

Seeded: each document, argument list and signal plan comes from its own
``random.Random(f"{seed}:{part}:{i}")``, so ``--jobs`` and ``--budget`` never change what
is tried; a signal's moment is a seeded fraction of the measured uninterrupted time.
Bounded: ``--budget SECONDS`` stops starting trials when spent (each part gets its share;
what it leaves passes on) and reports what was skipped. Exit code 1 when any check fails;
every failure's reproducer (document, command, stderr) is kept under the work folder.
"""

from __future__ import annotations

import argparse
import copy
import csv
import datetime as dt
import errno
import hashlib
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
RUN_PY = ROOT / "run.py"
SCENARIOS = ROOT / "scenarios"
ORACLE = SCENARIOS / "oracle.yaml"
EXAMPLE = SCENARIOS / "example.yaml"
PYTHON = sys.executable
PARTS = ("documents", "arguments", "signals", "disk")
SHARES = {"documents": 0.45, "arguments": 0.2, "signals": 0.3, "disk": 0.05}
MANIFEST = ".dealsim.json"
STAGING = ".dealsim-"
WORK_NAMES = (".blocks", "points", "partial.json")  # kept work, not a published output
OUTPUT_SUFFIXES = (".png", ".csv", ".json", ".html", ".parquet")
MESSAGE_CHARS = 1000  # an error line longer than this is not read, it is scrolled
SIGNAL_SECONDS = 5.0  # the promise: gone within 5 s of the last signal
SAVED_PER_ROW = 200  # reproducers kept per failing row (all are counted)
SHOWN_PER_ROW = 5  # reproducers printed per failing row


# --- what was found ------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    key: str
    label: str
    failure: bool = False  # a nonzero count fails the battery


def _rows(*spec: tuple[str, str] | tuple[str, str, bool]) -> list[Row]:
    return [Row(*s) for s in spec]


CLI_ROWS = _rows(
    ("cli", "command lines run"), ("exit0", "  exit 0 (results)"),
    ("exit2", "  exit 2, one error: line"),
    ("exit2_bad", "  exit 2, stderr not one error: line", True),
    ("exit_other", "  other exit codes (1 is a bug)", True),
    ("traceback", "  tracebacks on stderr", True), ("hang", "  hangs (timeout)", True),
    ("left", "  processes left behind", True),
    ("mixed", "  mixed or incomplete folders", True),
    ("lost", "  user files lost or changed", True),
    ("escape", "  terminal escapes from the input on stdout", True))
ROWS: dict[str, list[Row]] = {
    "documents": _rows(
        ("tried", "documents tried"), ("accepted", "accepted (a Scenario)"),
        ("refused", "refused with one line"),
        ("bad_message", "refused, not one printable line (or over 1,000 characters)", True),
        ("internals", "(note) refused, the line quotes Python internals (a repr)"),
        ("warned", "warnings (a second line on stderr)", True),
        ("doc_traceback", "tracebacks (another exception)", True),
        ("doc_hang", "hangs (over the time limit)", True),
        ("same_bytes", "accepted again with the same bytes (run once)")) + CLI_ROWS + _rows(
        ("formula", "  (note) replications.csv cells a spreadsheet runs (=, +, @)")),
    "arguments": _rows(("tried", "CLI argument cases")) + CLI_ROWS + _rows(
        ("differs", "  replay exit 1 with DIFFERENT (hand-edited numbers)"),
        ("readonly_skip", "  (note) read-only folder skipped: running as root")),
    "signals": _rows(
        ("tried", "trials (interrupted runs and sweeps)"), ("sweeps", "  of which sweeps"),
        ("sent", "signals sent"),
        ("finished_first", "  finished before the first signal (exit 0)"),
        ("refused", "  refused with one error: line (exit 2: the .blocks link?)"),
        ("wrong_code", "  exit code not 0 or the signal's 130/143", True),
        ("traceback", "  tracebacks on stderr", True),
        ("hang", f"  hangs (not gone {SIGNAL_SECONDS:.0f} s after the last signal)", True),
        ("left", "  worker processes left", True),
        ("mixed", "  mixed folders", True),
        ("no_manifest", "    of which without a manifest"),
        ("lost", "  user files lost or changed", True),
        ("resumed", "resumed with --resume"),
        ("resume_refused", "  resumes refused with one error: line (exit 2)"),
        ("resume_failed", "  resumes that failed (exit not 0 or 2 with one line)", True),
        ("resume_differs", "  resumes that did not reproduce the uninterrupted result", True),
        ("resume_mixed", "  resumed folders mixed", True)),
    "disk": _rows(
        ("tmpfs", "runs into a full 3 MB tmpfs"),
        ("tmpfs_skip", "  (note) tmpfs not mountable here: simulated only"),
        ("simulated", "runs with writes failing ENOSPC (in-process)"),
        ("disk_ok", "  exit 2, one line naming the disk"),
        ("disk_finished", "  finished before the disk filled (exit 0)"),
        ("disk_bad_line", "  exit 2, not one error: line naming the disk", True),
        ("disk_other", "  other exit codes", True),
        ("disk_traceback", "  tracebacks on stderr", True),
        ("disk_hang", "  hangs (timeout)", True),
        ("disk_lost", "  earlier set lost or mixed", True)),
}
CODES_ROW = "  exits by code: "


@dataclass
class Failure:
    part: str
    row: str
    detail: str
    command: list[str] | None = None
    stderr: str = ""
    folder: Path | None = None


class Report:
    """Counts by part and row, and the failures with their reproducers; thread-safe."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.counts: dict[str, dict[str, int]] = {p: {} for p in PARTS}
        self.codes: dict[str, dict[int | str, int]] = {p: {} for p in PARTS}
        self.failures: list[Failure] = []
        self.skipped: dict[str, int] = {}
        self.ran: list[str] = []
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def count(self, part: str, row: str, n: int = 1) -> None:
        with self._lock:
            self.counts[part][row] = self.counts[part].get(row, 0) + n

    def code(self, part: str, rc: int | str) -> None:
        with self._lock:
            self.codes[part][rc] = self.codes[part].get(rc, 0) + 1

    def fail(self, part: str, row: str, detail: str, command: Sequence[str] | None = None,
             stderr: str = "", keep: Sequence[Path] = ()) -> None:
        """Count a failure and save its reproducer: the command, stderr, and copies of
        ``keep`` (the document, the folder) under ``work/failures``."""
        with self._lock:
            self.counts[part][row] = self.counts[part].get(row, 0) + 1
            n = len(self.failures)
            same = sum(f.part == part and f.row == row for f in self.failures)
            failure = Failure(part, row, detail, list(command) if command else None,
                              stderr)
            self.failures.append(failure)
        if same >= SAVED_PER_ROW:
            return
        folder = self.work / "failures" / f"{n:04d}-{part}-{row}"
        folder.mkdir(parents=True, exist_ok=True)
        lines = [f"part: {part}", f"check: {row}", f"detail: {detail}"]
        if command:
            lines.append("command: " + shell_line(command))
        (folder / "README.txt").write_text("\n".join(lines) + "\n", errors="replace")
        (folder / "stderr.txt").write_text(stderr, errors="replace")
        for path in keep:
            copy_small(path, folder / path.name)
        failure.folder = folder

    def failing(self) -> dict[str, int]:
        """Each failing row's count, as ``part.row``."""
        return {f"{part}.{row.key}": self.counts[part].get(row.key, 0)
                for part, rows in ROWS.items() for row in rows
                if row.failure and self.counts[part].get(row.key, 0)}

    def table(self) -> str:
        lines = []
        for number, part in enumerate(PARTS, 1):
            if part not in self.ran:
                continue
            took = self.seconds.get(part, 0.0)
            lines.append(f"{number}. {part} ({took:,.0f} s)")
            for row in ROWS[part]:
                n = self.counts[part].get(row.key, 0)
                mark = "  FAIL" if row.failure and n else ""
                lines.append(f"   {row.label:<66}{n:>7,}{mark}")
            if self.codes[part]:
                lines.append(f"   {CODES_ROW}{self._codes(part)}")
            if self.skipped.get(part):
                lines.append(f"   {'not started (budget spent)':<66}"
                             f"{self.skipped[part]:>7,}")
        return "\n".join(lines)

    def _codes(self, part: str) -> str:
        return ", ".join(f"{k}: {v:,}" for k, v in sorted(self.codes[part].items(),
                                                          key=lambda kv: str(kv[0])))

    def reproducers(self) -> str:
        """Every failure: the first few of each check in full (what, where it is saved,
        the command, the stderr's last lines), the rest one line each."""
        lines: list[str] = []
        shown: dict[tuple[str, str], int] = {}
        for f in self.failures:
            n = shown.get((f.part, f.row), 0)
            shown[(f.part, f.row)] = n + 1
            if n >= SHOWN_PER_ROW:
                where = f" — saved: {f.folder}" if f.folder else ""
                lines.append(f"[{f.part}.{f.row}] {f.detail[:200]}{where}")
                continue
            lines.append(f"[{f.part}.{f.row}] {f.detail}")
            if f.folder:
                lines.append(f"  saved: {f.folder}")
            if f.command:
                lines.append(f"  command: {shell_line(f.command)}")
            for line in f.stderr.strip().splitlines()[-4:]:
                lines.append(f"  stderr: {line[:300]!s}")
        return "\n".join(lines)


def copy_small(source: Path, target: Path, limit: int = 2_000_000) -> None:
    """Copy a reproducer: links as links, files up to ``limit`` bytes (the bigger ones,
    finished blocks and long tables, only listed in ``LARGE.txt``)."""
    with suppress(OSError):
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            if source.stat().st_size <= limit:
                shutil.copy2(source, target)
            else:
                with (target.parent / "LARGE.txt").open("a") as handle:
                    handle.write(f"{source} ({source.stat().st_size:,} bytes) not copied\n")
        elif source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            for entry in sorted(source.iterdir()):
                copy_small(entry, target / entry.name, limit)


def shell_line(argv: Sequence[str]) -> str:
    import shlex

    return " ".join(shlex.quote(str(a)) for a in argv)


# --- configuration, budget -----------------------------------------------------------------

@dataclass
class Config:
    documents: int = 5000
    signals: int = 100
    arguments: int = 300
    disk_trials: int = 6
    seed: int = 1
    jobs: int = 1
    budget: float | None = None
    parts: tuple[str, ...] = PARTS
    doc_limit: float = 10.0  # seconds to load one document
    cli_timeout: float = 120.0  # seconds for one command line
    doc_cli_every: int = 25  # refused documents run through the CLI too: every Nth
    doc_runs: int = 200
    signal_runs: tuple[int, ...] = (3000, 3500, 6000, 9000, 14000, 20000)
    signal_workers: tuple[int, ...] = (1, 2)
    work: Path | None = None
    keep: bool = False
    verbose: bool = True


class Budget:
    """The time left, shared out between the parts: each gets its share of what remains
    when it starts, so a part that ends early leaves more to the next."""

    def __init__(self, seconds: float | None) -> None:
        self.total = seconds
        self.start = time.monotonic()
        self.deadline = None if seconds is None else self.start + seconds
        self.part_deadline: float | None = self.deadline

    def begin(self, part: str, remaining_parts: Sequence[str]) -> None:
        if self.deadline is None:
            return
        left = max(0.0, self.deadline - time.monotonic())
        share = SHARES[part] / sum(SHARES[p] for p in remaining_parts)
        self.part_deadline = time.monotonic() + left * share

    def spent(self) -> bool:
        return STOP.is_set() or (self.part_deadline is not None
                                 and time.monotonic() >= self.part_deadline)


# --- processes -----------------------------------------------------------------------------

_LIVE: set[int] = set()  # process groups the battery started and has not yet seen end
STOP = threading.Event()  # the battery itself was interrupted: start nothing more
_LIVE_LOCK = threading.Lock()


MEMORY_BYTES = 3 * 2**30  # per process the battery starts: a runaway read must not
# take the machine (and the other users' processes) down with it


def _child_setup() -> None:
    """In each child before it starts: SIGINT as a terminal's foreground job has it (a job
    started in the background of a script inherits it ignored), and a memory cap, so a
    runaway allocation is a MemoryError in that process, not the kernel's OOM killer."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry))
    return found


def kill_group(pgid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def kill_all_live() -> None:
    """On the battery's own Ctrl-C: end every process group it started, by its id."""
    with _LIVE_LOCK:
        groups = list(_LIVE)
    for pgid in groups:
        kill_group(pgid)


def child_env(home: Path, mpl: Path) -> dict[str, str]:
    """A clean environment: HOME a temporary folder, so nothing real is ever touched;
    matplotlib's cache shared (else each run would rebuild its font cache)."""
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")}
    env.update(HOME=str(home), MPLCONFIGDIR=str(mpl), PYTHONDONTWRITEBYTECODE="1")
    return env


@dataclass
class Ran:
    argv: list[str]
    rc: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    hung: bool = False
    left: list[int] = field(default_factory=list)

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def start(argv: Sequence[str | Path], cwd: Path, env: dict[str, str],
          stdout: IO[bytes] | int = subprocess.PIPE,
          stderr: IO[bytes] | int = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """``python run.py ARGV`` in its own session (a process group the battery can signal
    and sweep), with SIGINT as a terminal leaves it."""
    process = subprocess.Popen([PYTHON, str(RUN_PY), *map(str, argv)], cwd=cwd, env=env,
                               stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                               start_new_session=True, preexec_fn=_child_setup)
    with _LIVE_LOCK:
        _LIVE.add(process.pid)
    return process


def finished(process: subprocess.Popen[bytes], grace: float = 2.0) -> list[int]:
    """After the main process ended: wait briefly for its group to empty; kill and return
    whatever is still there."""
    until = time.monotonic() + grace
    while (left := group_members(process.pid)) and time.monotonic() < until:
        time.sleep(0.05)
    if left:
        kill_group(process.pid)
    with _LIVE_LOCK:
        _LIVE.discard(process.pid)
    return left


def run_cli(argv: Sequence[str | Path], cwd: Path, env: dict[str, str],
            timeout: float) -> Ran:
    began = time.monotonic()
    process = start(argv, cwd, env)
    try:
        out, err = process.communicate(timeout=timeout)
        hung = False
    except subprocess.TimeoutExpired:
        kill_group(process.pid)
        out, err = process.communicate()
        hung = True
    left = finished(process)
    return Ran([str(a) for a in argv], None if hung else process.returncode, out, err,
               time.monotonic() - began, hung, left)


# --- the rules -----------------------------------------------------------------------------

def one_error_line(stderr: bytes) -> bool:
    """Exactly one printable line, starting ``error:``."""
    text = stderr.decode("utf-8", "replace")
    lines = text.splitlines()
    return (len(lines) == 1 and text.endswith("\n") and lines[0].startswith("error:")
            and lines[0].isprintable())


def cli_verdict(ran: Ran, allow_differs: bool = False) -> str | None:
    """The failing row of a command line's outcome, or None when it kept the promise;
    ``differs`` when replay said DIFFERENT (its documented exit 1)."""
    if ran.hung:
        return "hang"
    if b"Traceback" in ran.stderr:
        return "traceback"
    if ran.left:
        return "left"
    if ran.rc == 0:
        return None
    if ran.rc == 2:
        return None if one_error_line(ran.stderr) else "exit2_bad"
    if ran.rc == 1 and allow_differs and ran.err.startswith("DIFFERENT:"):
        return "differs"
    return "exit_other"


def record_cli(report: Report, part: str, ran: Ran, keep: Sequence[Path] = (),
               allow_differs: bool = False) -> str | None:
    """Count a command line's outcome in ``part``; return its failing row, if any."""
    report.count(part, "cli")
    report.code(part, "hang" if ran.hung else ran.rc if ran.rc is not None else "?")
    row = cli_verdict(ran, allow_differs)
    if row is None:
        report.count(part, "exit0" if ran.rc == 0 else "exit2")
    elif row == "differs":
        report.count(part, row)
    else:
        detail = {"hang": "no answer within the timeout", "left": f"processes {ran.left}"
                  " were still running after it exited", "traceback": "a traceback",
                  "exit2_bad": "exit 2 without exactly one error: line",
                  "exit_other": f"exit code {ran.rc}"}[row]
        report.fail(part, row, detail, [PYTHON, str(RUN_PY), *ran.argv], ran.err, keep)
    return row


def csv_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_problem(out: Path, planted: Iterable[str] = ()) -> str | None:
    """Why ``out`` does not hold one run's published set, or None when it does."""
    manifest = out / MANIFEST
    if not manifest.is_file():
        return f"no manifest ({MANIFEST})"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"manifest unreadable ({exc})"
    files = data.get("files") if isinstance(data, dict) else None
    if not (isinstance(data, dict) and data.get("dealsim_folder") == 1
            and isinstance(files, dict)):
        return "manifest not shaped {dealsim_folder: 1, kind, files: {name: sha256}}"
    for name, digest in files.items():
        path = out / name
        if not path.is_file():
            return f"manifest lists {name}, which is missing"
        if sha256(path) != digest:
            return f"{name} differs from its sha256 in the manifest"
    kind = data.get("kind")
    try:
        if kind == "run":
            runs = json.loads((out / "summary.json").read_text(encoding="utf-8"))["runs"]
            rows = csv_rows(out / "replications.csv")
            if runs != rows:
                return f"summary.json says {runs} runs, replications.csv has {rows} rows"
        elif kind == "sweep":
            points = json.loads((out / "sweep.json").read_text(encoding="utf-8"))["points"]
            rows = csv_rows(out / "points.csv")
            if points != rows:
                return f"sweep.json says {points} points, points.csv has {rows} rows"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"a {kind} folder without its record or table ({exc!r})"
    skip = set(planted) | set(WORK_NAMES) | {MANIFEST}
    for entry in out.iterdir():
        if (entry.name not in files and entry.name not in skip
                and not entry.name.startswith(STAGING) and not entry.name.startswith(".")
                and entry.suffix in OUTPUT_SUFFIXES and entry.is_file()):
            return f"{entry.name} lies beside the set, not in its manifest"
    return None


def snapshot(paths: Iterable[Path]) -> dict[Path, bytes | None]:
    """The bytes of each user file (None for a link or folder, kept as a marker)."""
    found: dict[Path, bytes | None] = {}
    for path in paths:
        if path.is_symlink():
            found[path] = None
        elif path.is_dir():
            for sub in sorted(path.rglob("*")):
                if sub.is_file() and not sub.is_symlink():
                    found[sub] = sub.read_bytes()
        elif path.is_file():
            found[path] = path.read_bytes()
    return found


def lost(before: dict[Path, bytes | None]) -> list[str]:
    """User files that are gone or changed."""
    gone = []
    for path, data in before.items():
        if data is None:
            continue
        try:
            if path.read_bytes() != data:
                gone.append(f"{path} changed")
        except OSError:
            gone.append(f"{path} is gone")
    return gone


INTERNALS = re.compile(r"Node\(|object at 0x|<class '|Traceback")
FORMULA = re.compile(r"^[=+@\t\r]|^-[^0-9.]")


def formula_cells(path: Path) -> int:
    """Cells of a table a spreadsheet would run as a formula (a name like ``=1+2``)."""
    if not path.is_file():
        return 0
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        return sum(bool(FORMULA.match(cell)) for row in csv.reader(handle) for cell in row)


# --- part 1: documents ---------------------------------------------------------------------

NUMBERS = ["0", "-1", "1e308", "-1e308", "1e-320", ".nan", ".NaN", ".inf", "-.inf",
           "9" * 25, "-" + "9" * 25, str(2**63), str(2**64), "1e999", "-0.0", "1_000",
           "0x7f", "0o17", "3.", ".5", "+1", "1e400", "0.0000001", "-1e-320"]
DATES = ["0001-01-01", "9999-12-31", "2020-02-30", "2020-13-01", "20-09-2020", "yesterday",
         "2020-09-14T25:00:00", "1970-01-01", "2020-9-1", "2020-09-14 10:00:00",
         "!!timestamp 2020-09-14", "0000-00-00", "2020-09-14T10:00:00+14:00", "-2020-01-01"]
TRICKS = ["!!timestamp x", "!!timestamp 2020-09-14", "!!python/object:os.system {}",
          "!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system",
          "!!python/tuple [1, 2]", "1:20", "190:20:30", "-1:30", "yes", "no", "on", "off",
          "y", "n", "Y", "NO", "~", "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [{a: 1}]",
          "!!str 12", "!!int x", "!!float .nan", "!!bool maybe", "!!null ''", "!local 1",
          "!<tag:yaml.org,2002:int> 7", "*nowhere", "&r [*r]", "[1, 2", "{a: 1",
          "'" + "x" * 300 + "'", "|\n  two\n  lines", ">-\n  folded"]
NAMES = ["\x1b[2J", "\x1b]0;pwned\x07", "=1+2", "+SUM(1,2)", "@cmd", "-1+1",
         '=HYPERLINK("http://x")', "<script>alert(1)</script>", "</title>", "{{ 7*7 }}",
         "${HOME}", "$(id)", "a\nb", "\u202eevil", "名前", "", " ", "x" * 121, "../../etc",
         "CON", "a/b", "a\\b", "\t", "\x00", "\x85", "\u2028", "a" * 5000]
BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
             b"\x00", b"\x07", b"\x1b[2J", b"\x7f", b"\x85", b"\xe9", b"\r", b"\t",
             b"\xe2\x80\xa8", b": ", b"- ", b"&x ", b"*x", b"!!", b"\xef\xbb\xbf"]
TYPES: list[Any] = [True, False, "text", "", [], [1, "a"], {}, {"a": 1}, None, 0, 1.5,
                    [[[]]], {"dist": "uniform"}]


@dataclass
class Document:
    index: int
    origin: Path  # the shipped file it was damaged from (its folder anchors extends)
    data: bytes
    ops: list[str]
    path: Path | None = None


class Workspace:
    """A copy of ``scenarios/`` (damaged documents go beside their originals, so their
    ``extends`` resolve) and odd targets for ``extends``: a long chain, a cycle, a link
    loop, an empty file, non-UTF-8 bytes, a folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scenarios = root / "scenarios"
        if not self.scenarios.exists():
            shutil.copytree(SCENARIOS, self.scenarios)
        self.odd = self.scenarios / "odd"
        self.odd.mkdir(exist_ok=True)
        for k in range(15):  # chain-00 extends chain-01 … chain-14 extends ../oracle.yaml
            target = f"chain-{k + 1:02d}.yaml" if k < 14 else "../oracle.yaml"
            (self.odd / f"chain-{k:02d}.yaml").write_text(f"extends: {target}\n")
        (self.odd / "cycle-a.yaml").write_text("extends: cycle-b.yaml\nname: a\n")
        (self.odd / "cycle-b.yaml").write_text("extends: cycle-a.yaml\nname: b\n")
        (self.odd / "empty.yaml").write_text("")
        (self.odd / "binary.yaml").write_bytes(b"name: \xff\xfe\n")
        (self.odd / "list.yaml").write_text("- 1\n- 2\n")
        for a, b in (("loop-a.yaml", "loop-b.yaml"), ("loop-b.yaml", "loop-a.yaml")):
            if not (self.odd / a).is_symlink():
                (self.odd / a).symlink_to(b)
        (self.odd / "folder.yaml").mkdir(exist_ok=True)

    def sources(self) -> list[Path]:
        """The shipped scenarios (sweeps skipped), as copies in the workspace."""
        found = sorted(self.scenarios.glob("*.yaml"))
        found += sorted((self.scenarios / "cases").rglob("*.yaml"))
        return found

    def extends_targets(self, doc: Path) -> list[Any]:
        here = doc.parent
        odd = os.path.relpath(self.odd, here)
        chain = [f"{odd}/chain-{15 - depth:02d}.yaml" for depth in (1, 5, 9, 10, 11, 15)]
        return [doc.name, "missing.yaml", ".", "..", odd, f"{odd}/folder.yaml", "/dev/zero",
                "/dev/null", "/etc/passwd", "/proc/self/status", "/dev/stdin", *chain,
                f"{odd}/cycle-a.yaml", f"{odd}/loop-a.yaml", f"{odd}/empty.yaml",
                f"{odd}/binary.yaml", f"{odd}/list.yaml",
                os.path.relpath(self.scenarios / "sweeps" / "tornado.yaml", here),
                os.path.relpath(self.scenarios / "oracle.yaml", here),
                "http://example.com/x.yaml", "", " ", 42, None, ["a.yaml"], {"a": 1},
                "a\0b", "x" * 300, "~/x.yaml", "../" * 30 + "etc/passwd",
                "\x1b[2J.yaml", str(self.scenarios / "oracle.yaml")]


def _slots(tree: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of the document, in document order."""
    found: list[tuple[Any, Any]] = []
    items = (tree.items() if isinstance(tree, dict)
             else enumerate(tree) if isinstance(tree, list) else ())
    for key, value in list(items):
        found.append((tree, key))
        found += _slots(value)
    return found


class Damage:
    """One document's damage, drawn from its own random stream."""

    def __init__(self, rng: random.Random, workspace: Workspace, doc: Path) -> None:
        self.rng = rng
        self.workspace = workspace
        self.doc = doc
        self.raw: dict[str, str] = {}
        self.ops: list[str] = []

    def token(self, text: str) -> str:
        name = f"RAW{len(self.raw)}X{self.rng.randrange(10**6)}"
        self.raw[name] = text
        return name

    def slot(self, tree: dict[str, Any], want: Callable[[Any], bool] | None = None,
             ) -> tuple[Any, Any] | None:
        slots = _slots(tree)
        if want is not None:
            liked = [s for s in slots if want(s[0][s[1]])]
            if liked and self.rng.random() < 0.8:
                slots = liked
        return self.rng.choice(slots) if slots else None

    def tree(self, doc: dict[str, Any]) -> None:
        ops: dict[str, Callable[[dict[str, Any]], None]] = {
            "delete": self.delete, "rename": self.rename, "retype": self.retype,
            "number": self.number, "date": self.date, "trick": self.trick,
            "alias": self.alias, "merge": self.merge, "extends": self.extends,
            "long": self.long, "name": self.name, "list": self.list_damage,
            "remove": self.remove}
        weights = [8, 8, 10, 12, 8, 10, 3, 3, 6, 3, 8, 4, 2]
        for _ in range(self.rng.choices([1, 2, 3], [6, 3, 1])[0]):
            op = self.rng.choices(list(ops), weights)[0]
            self.ops.append(op)
            ops[op](doc)

    def delete(self, doc: dict[str, Any]) -> None:
        if (s := self.slot(doc)) is not None:
            del s[0][s[1]]

    def rename(self, doc: dict[str, Any]) -> None:
        found = [(box, key) for box, key in _slots(doc) if isinstance(box, dict)]
        if not found:
            return
        box, key = self.rng.choice(found)
        others = [k for b, k in found if isinstance(k, str)]
        new = self.rng.choice([key.upper(), key + "s", key[:-1], key.replace("_", "-"),
                               " " + key, key + " ", self.rng.choice(others), "extends",
                               "<<", "remove", "dist", key + "\u200b", "Name", "__class__"])
        value = box.pop(key)
        box[new] = value

    def retype(self, doc: dict[str, Any]) -> None:
        if (s := self.slot(doc)) is not None:
            s[0][s[1]] = copy.deepcopy(self.rng.choice(TYPES))

    def number(self, doc: dict[str, Any]) -> None:
        def numeric(v: Any) -> bool:
            return isinstance(v, int | float) and not isinstance(v, bool)

        if (s := self.slot(doc, numeric)) is not None:
            s[0][s[1]] = self.token(self.rng.choice(NUMBERS))

    def date(self, doc: dict[str, Any]) -> None:
        if (s := self.slot(doc, lambda v: isinstance(v, dt.date))) is None:
            return
        start = doc.get("start")
        horizon = doc.get("horizon_days")
        extra = []
        if isinstance(start, dt.date) and isinstance(horizon, int):
            with suppress(OverflowError):
                extra.append((start + dt.timedelta(days=horizon + 1000)).isoformat())
            with suppress(OverflowError):
                extra.append((start - dt.timedelta(days=5000)).isoformat())
        s[0][s[1]] = self.token(self.rng.choice(DATES + extra))

    def trick(self, doc: dict[str, Any]) -> None:
        if (s := self.slot(doc)) is not None:
            s[0][s[1]] = self.token(self.rng.choice(TRICKS))

    def _flow(self, value: Any) -> str:
        return yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()

    def _pair(self, doc: dict[str, Any]) -> tuple[tuple[Any, Any], tuple[Any, Any]] | None:
        slots = _slots(doc)
        if len(slots) < 2:
            return None
        a, b = sorted(self.rng.sample(range(len(slots)), 2))
        return slots[a], slots[b]

    def alias(self, doc: dict[str, Any]) -> None:
        """An anchor on one value and its alias in a later place (or a bomb of them)."""
        pair = self._pair(doc)
        if pair is None:
            return
        (box_a, key_a), (box_b, key_b) = pair
        name = f"a{self.rng.randrange(1000)}"
        if self.rng.random() < 0.15:  # a small billion-laughs
            bomb = ", ".join(f"*{name}" for _ in range(9))
            box_b[key_b] = self.token(f"[{bomb}]")
            box_a[key_a] = self.token(f"&{name} [{', '.join(['x'] * 9)}]")
            return
        with suppress(yaml.YAMLError):
            box_a[key_a] = self.token(f"&{name} {self._flow(box_a[key_a])}")
            box_b[key_b] = self.token(f"*{name}")

    def merge(self, doc: dict[str, Any]) -> None:
        """``<<`` merge keys over an anchored mapping (or a missing one)."""
        slots = _slots(doc)
        mappings = [i for i, (b, k) in enumerate(slots) if isinstance(b[k], dict) and b[k]]
        if len(mappings) < 2:
            return
        first, second = sorted(self.rng.sample(mappings, 2))
        (box_a, key_a), (box_b, key_b) = slots[first], slots[second]
        name = f"m{self.rng.randrange(1000)}"
        with suppress(yaml.YAMLError):
            box_a[key_a] = self.token(f"&{name} {self._flow(box_a[key_a])}")
            target = self.rng.choice([f"*{name}", "*nowhere", f"[*{name}, *{name}]", "1"])
            own = self._flow(box_b[key_b])[1:-1]
            box_b[key_b] = self.token("{<<: " + target + (", " + own if own else "") + "}")

    def extends(self, doc: dict[str, Any]) -> None:
        doc["extends"] = copy.deepcopy(self.rng.choice(self.workspace.extends_targets(
            self.doc)))

    def long(self, doc: dict[str, Any]) -> None:
        n = self.rng.choice([121, 1000, 10**5, 3 * 10**5])
        if self.rng.random() < 0.3:
            found = [b for b, _ in _slots(doc) if isinstance(b, dict)] or [doc]
            self.rng.choice(found)["k" * min(n, 20_000)] = 1
        elif (s := self.slot(doc)) is not None:
            s[0][s[1]] = "x" * n

    def name(self, doc: dict[str, Any]) -> None:
        named = [(b, k) for b, k in _slots(doc) if k in ("name", "label", "id")]
        box, key = self.rng.choice(named) if named else (doc, "name")
        box[key] = self.rng.choice(NAMES)

    def list_damage(self, doc: dict[str, Any]) -> None:
        lists = [(b, k) for b, k in _slots(doc) if isinstance(b[k], list) and b[k]]
        if not lists:
            return
        box, key = self.rng.choice(lists)
        how = self.rng.choice(["empty", "twice", "many"])
        items = box[key]
        box[key] = ([] if how == "empty" else items + copy.deepcopy(items) if how == "twice"
                    else [copy.deepcopy(items[0]) for _ in range(60)])

    def remove(self, doc: dict[str, Any]) -> None:
        lists = [k for k in ("instruments", "bidders", "politics") if isinstance(doc.get(k),
                                                                                 list)]
        key = self.rng.choice(lists or ["bidders"])
        ident = "name" if key == "bidders" else "id"
        if not isinstance(doc.get(key), list):
            doc[key] = []
        doc[key].append({ident: self.rng.choice(["Oracle", "nobody", "ban", None, 1]),
                         "remove": self.rng.choice([True, "yes", 1, False])})

    def dump(self, doc: dict[str, Any]) -> str:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=self.rng.random() < 0.5,
                              default_flow_style=self.rng.choice([False, None]),
                              width=self.rng.choice([80, 10**6]))
        for name, value in self.raw.items():
            text = text.replace(name, value)
        return text

    def text(self, text: str) -> str:
        """Damage to the lines themselves (comments kept, if the original text is used)."""
        for _ in range(self.rng.randint(1, 2)):
            lines = text.split("\n")
            at = self.rng.randrange(len(lines))
            op = self.rng.choice(["duplicate", "drop", "swap", "indent", "dedent", "tab",
                                  "crlf", "cr", "second", "directive", "end", "complex"])
            self.ops.append(f"text:{op}")
            if op == "duplicate":
                lines.insert(at, lines[at])
            elif op == "drop":
                del lines[at]
            elif op == "swap" and at + 1 < len(lines):
                lines[at], lines[at + 1] = lines[at + 1], lines[at]
            elif op == "indent":
                lines[at] = " " * self.rng.randint(1, 3) + lines[at]
            elif op == "dedent":
                lines[at] = lines[at].lstrip()
            elif op == "tab":
                stripped = lines[at].lstrip(" ")
                lines[at] = "\t" * ((len(lines[at]) - len(stripped)) // 2 or 1) + stripped
            elif op == "crlf":
                return "\r\n".join(lines)
            elif op == "cr":
                return "\r".join(lines)
            elif op == "second":
                lines.append("---\nname: second\n")
            elif op == "directive":
                lines.insert(0, self.rng.choice(["%YAML 1.1\n---", "%YAML 9.9\n---",
                                                 "%TAG ! tag:x,2000:\n---", "---"]))
            elif op == "end":
                lines.insert(at, "...")
            else:
                lines.insert(at, "? [a, b]\n: 1")
            text = "\n".join(lines)
        return text

    def bytes_(self, data: bytes, text: str) -> bytes:
        op = self.rng.choice(["bad", "bad", "bom", "utf16", "utf32", "truncate", "truncate",
                              "latin1", "empty", "oversize", "nul"])
        self.ops.append(f"bytes:{op}")
        cut = self.rng.randrange(len(data) + 1)
        if op == "bad":
            return data[:cut] + self.rng.choice(BAD_BYTES) + data[cut:]
        if op == "bom":
            return b"\xef\xbb\xbf" + data
        if op == "utf16":
            return text.encode("utf-16")
        if op == "utf32":
            return text.encode("utf-32")
        if op == "truncate":
            return data[:cut]
        if op == "latin1":
            return text.encode("latin-1", "replace")
        if op == "empty":
            return b""
        if op == "oversize":
            return data + b"#" + b" " * 1_000_001 + b"\n"
        return data[:cut] + b"\x00" * 3 + data[cut:]


def make_document(index: int, seed: int, workspace: Workspace,
                  sources: Sequence[Path]) -> Document:
    """Document ``index`` of the battery: a shipped scenario, damaged by tree, text and
    byte operations chosen by its own seeded stream."""
    rng = random.Random(f"{seed}:documents:{index}")
    origin = rng.choice(list(sources))
    path = origin.parent / f"hostile-{index:06d}.yaml"
    damage = Damage(rng, workspace, path)
    original = origin.read_text(encoding="utf-8")
    text = original
    roll = rng.random()
    if roll < 0.7:
        doc = yaml.safe_load(original)
        damage.tree(doc)
        text = damage.dump(doc)
        if rng.random() < 0.15:
            text = damage.text(text)
    else:
        text = damage.text(original)
    data = text.encode("utf-8")
    if rng.random() < (0.1 if roll < 0.7 else 0.4):
        data = damage.bytes_(data, text)
    return Document(index, origin, data, damage.ops, path)


class Loader:
    """A child process that loads documents in-process (``load_scenario``) under an
    alarm; if it does not answer in time (a hang in C code), it is killed and replaced."""

    def __init__(self, limit: float, env: dict[str, str]) -> None:
        self.limit = limit
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [PYTHON, str(Path(__file__).resolve()), "--loader-child", str(self.limit)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=self.env, cwd=ROOT, start_new_session=True, preexec_fn=_child_setup)
        with _LIVE_LOCK:
            _LIVE.add(process.pid)
        return process

    def load(self, path: Path) -> dict[str, Any]:
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write((json.dumps({"path": str(path)}) + "\n").encode())
            process.stdin.flush()
        except BrokenPipeError:
            self.close()
            return {"status": "traceback", "message": "the loader child died"}
        ready, _, _ = select.select([process.stdout], [], [], self.limit + 60)
        line = process.stdout.readline() if ready else b""
        if not line:
            died = process.poll() is not None
            self.close()
            return ({"status": "traceback", "message": "the loader child died (a crash?)"}
                    if died else {"status": "hang", "message": "no answer; the loader "
                                  "child was killed"})
        return dict(json.loads(line))

    def close(self) -> None:
        if self.process is not None:
            kill_group(self.process.pid)
            self.process.wait()
            with _LIVE_LOCK:
                _LIVE.discard(self.process.pid)
            self.process = None


class _Hang(BaseException):
    """The alarm went off: a document took longer than its limit."""


def loader_child(limit: float) -> int:
    """The loop of a loader child: one JSON line in (a path), one out (what happened)."""
    sys.path.insert(0, str(ROOT))
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stdout = sys.stderr  # nothing a load prints can break the protocol
    from sim.errors import ScenarioError
    from sim.scenario.loading import load_scenario

    hidden = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)

    def alarm(signum: int, frame: object) -> None:
        raise _Hang

    signal.signal(signal.SIGALRM, alarm)
    for request in sys.stdin:
        path = json.loads(request)["path"]
        answer: dict[str, Any]
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    load_scenario(path)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            shown = [f"{w.category.__name__}: {w.message}" for w in caught
                     if not issubclass(w.category, hidden)]
            answer = ({"status": "warned", "message": "; ".join(shown)[:2000]} if shown
                      else {"status": "accepted"})
        except ScenarioError as exc:
            message = str(exc)
            why = ("empty" if not message else "not printable" if not message.isprintable()
                   else f"{len(message):,} characters" if len(message) > MESSAGE_CHARS
                   else None)
            answer = {"status": "bad_message" if why else "refused",
                      "message": message[:2000], "why": why}
        except _Hang:
            answer = {"status": "hang", "message": f"over {limit} s"}
        except BaseException:
            answer = {"status": "traceback", "message": traceback.format_exc()[-4000:]}
        protocol.write(json.dumps(answer) + "\n")
    return 0


SKIPPED = object()  # what Pool.map yields for an item not started (the budget was spent)


class Pool:
    """``--jobs`` threads for the command-line parts (each thread runs one subprocess at
    a time), in order, stopping when the budget is spent."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(1, jobs)

    def map(self, function: Callable[[Any], Any], items: Iterable[Any],
            budget: Budget) -> Iterator[Any]:
        """``function(item)`` for each item, ``jobs`` at a time, results in order;
        ``SKIPPED`` for each item left when the budget is spent (the first is always
        tried, so a part never reports nothing)."""
        def guarded(numbered: tuple[int, Any]) -> Any:
            number, item = numbered
            if STOP.is_set() or (number and budget.spent()):
                return SKIPPED
            return function(item)

        with ThreadPoolExecutor(self.jobs) as pool:
            try:
                yield from pool.map(guarded, enumerate(items))
            except BaseException:
                STOP.set()
                kill_all_live()
                raise


@dataclass
class Context:
    cfg: Config
    work: Path
    report: Report
    budget: Budget
    home: Path
    mpl: Path

    @property
    def env(self) -> dict[str, str]:
        return child_env(self.home, self.mpl)


def documents_part(ctx: Context) -> None:
    cfg, report = ctx.cfg, ctx.report
    workspace = Workspace(ctx.work)
    sources = workspace.sources()
    loaders: list[Loader] = []
    local = threading.local()

    def load(index: int) -> tuple[Document, dict[str, Any]]:
        doc = make_document(index, cfg.seed, workspace, sources)
        assert doc.path is not None
        doc.path.write_bytes(doc.data)
        if not hasattr(local, "loader"):
            local.loader = Loader(cfg.doc_limit, ctx.env)
            loaders.append(local.loader)
        return doc, local.loader.load(doc.path)

    pool = Pool(cfg.jobs)
    to_run: list[tuple[Document, bool, bool]] = []  # (document, accepted, loaded well)
    seen: set[str] = set()
    try:
        for index, done in enumerate(pool.map(load, range(cfg.documents), ctx.budget)):
            if done is SKIPPED:
                ctx.report.skipped["documents"] = ctx.report.skipped.get("documents", 0) + 1
                continue
            doc, answer = done
            status = answer["status"]
            report.count("documents", "tried")
            assert doc.path is not None
            command = [PYTHON, str(Path(__file__).resolve()), "--load", str(doc.path)]
            what = f"document {index} from {doc.origin.name} ({', '.join(doc.ops)})"
            if status == "accepted":
                report.count("documents", "accepted")
            elif status == "refused":
                report.count("documents", "refused")
                if INTERNALS.search(answer.get("message", "")):
                    report.count("documents", "internals")
            else:
                row = {"bad_message": "bad_message", "warned": "warned",
                       "traceback": "doc_traceback", "hang": "doc_hang"}[status]
                why = f" ({answer['why']})" if answer.get("why") else ""
                report.fail("documents", row, f"{what}{why}: "
                            f"{answer.get('message', '')[:300]!r}",
                            command, answer.get("message", ""), [doc.path])
            accepted = status in ("accepted", "warned")
            if accepted:
                digest = hashlib.sha256(doc.data).hexdigest()
                if digest in seen:
                    report.count("documents", "same_bytes")
                    accepted = False
                seen.add(digest)
            well = status in ("accepted", "refused")
            if accepted or index % cfg.doc_cli_every == 0:
                to_run.append((doc, accepted, well))
            elif well:
                doc.path.unlink(missing_ok=True)
            if cfg.verbose and (index + 1) % 500 == 0:
                print(f"  documents: {index + 1:,} loaded", file=sys.stderr)
    finally:
        for loader in loaders:
            loader.close()

    def through_cli(item: tuple[Document, bool, bool]) -> bool:
        doc, accepted, well = item
        assert doc.path is not None
        out = ctx.work / "doc-out" / f"{doc.index:06d}"
        argv: list[str | Path] = [doc.path, "--runs", str(cfg.doc_runs), "--workers", "1",
                                  "--out", out]
        if not (accepted and doc.index % 10 == 0):
            argv.append("--no-figures")
        if doc.index % 3:
            argv.append("--quiet")
        if doc.index % 7 == 0:
            argv.append("--trace")
        ran = run_cli(argv, ctx.work, ctx.env, cfg.cli_timeout)
        failed = check_document_run(ctx, doc, ran, out)
        shutil.rmtree(out, ignore_errors=True)
        if well and not failed:  # a failing document stays where its extends resolve
            doc.path.unlink(missing_ok=True)
        return failed

    for done in pool.map(through_cli, to_run, ctx.budget):
        if done is SKIPPED:
            report.skipped["documents"] = report.skipped.get("documents", 0) + 1


def check_document_run(ctx: Context, doc: Document, ran: Ran, out: Path) -> bool:
    """Count one document's command line; True when it broke a promise."""
    report = ctx.report
    assert doc.path is not None
    row = record_cli(report, "documents", ran, [doc.path, out])
    failed = row is not None
    if row is None and ran.rc == 0:
        problem = folder_problem(out)
        if problem is None:
            runs = json.loads((out / "summary.json").read_text())["runs"]
            if runs != ctx.cfg.doc_runs:
                problem = f"summary.json says {runs} runs, not {ctx.cfg.doc_runs}"
        if problem:
            report.fail("documents", "mixed", problem, [PYTHON, str(RUN_PY), *ran.argv],
                        ran.err, [doc.path, out])
        if b"\x1b" in ran.stdout:
            report.fail("documents", "escape", "a raw ESC from the document reached the "
                        "terminal", [PYTHON, str(RUN_PY), *ran.argv], ran.err, [doc.path])
        failed = failed or bool(problem) or b"\x1b" in ran.stdout
        if formula_cells(out / "replications.csv"):
            report.count("documents", "formula")
    return failed


# --- part 2: command-line arguments --------------------------------------------------------

NUMBER_TEXT = ["-1", "0", "-0", "1.5", "1e3", "abc", "", "nan", "inf", "-inf", "9" * 40,
               "1_000", "1,000", " 7", "7 ", "0x10", "10000001", "1025", "٣", "²", "1e-320",
               "0.0004", "0.3", "-5", "2", "0.005", "18446744073709551616",
               "9223372036854775807", "-9223372036854775809", "+3", "1.0", "True", "200"]
VARY = ["x", ":3", "committee.clear_threshold=0.5:0.9:3", "committee.clear_threshold=0.5:0.9:0",
        "committee.clear_threshold=0.5:0.9:-1", "committee.clear_threshold=0.5:0.9:1e9",
        "committee.clear_threshold=0.5:0.9:20001", "committee.clear_threshold=0.9:0.5:3",
        "committee.clear_threshold=a:b:c", "committee.clear_threshold=nan:inf:3",
        "committee.clear_threshold=0.5:0.9", "committee.clear_threshold=0.5:0.9:3:4",
        "=0.5:0.9:3", "nope.key=0.5:0.9:3", "committee=0.5:0.9:3",
        "committee.clear_threshold=", "instruments.ban.date=0:30:2",
        "instruments.nope.date=0:30:2", "bidders.Buyer A.valuation_bn=1:2:2",
        "parent.name=1:2:2", "horizon_days=1:99999:2",
        "committee.clear_threshold=-1e308:1e308:2", "start=0:1:2",
        "committee.clear_threshold=0.5:0.9:2\x1b[2J"]
SCHEDULERS = ["notaurl", "", "tcp://", "tcp://127.0.0.1:1", "tcp://[::1",
              "tcp://256.256.256.256:8786", "inproc://", "ucx://x:1", "http://example.com",
              "tls://127.0.0.1:1", "tcp://127.0.0.1:99999", "tcp://:1"]
UNKNOWN = [["--bogus"], ["-z"], ["--runs="], ["--="], ["---runs", "5"], ["--RUNS", "5"],
           ["--no-figure"], ["--ru", "5"], ["-"], ["--"], ["extra.yaml"], ["-h"],
           ["--help"], ["--version"], ["--seed", "1", "--seed", "2"], ["--out"],
           ["--runs", "--seed"], ["\x1b[2J"], ["--runs", "5\n6"]]
FLAGS = ["--no-figures", "--quiet", "--trace", "--resume", "--fresh", "--force"]


@dataclass
class Case:
    """One command line and what it may touch: the user files it must leave intact, the
    folder it should publish to, files to remove from ``/`` afterwards."""

    argv: list[str]
    cwd: Path
    home: Path
    planted: list[Path] = field(default_factory=list)
    out: Path | None = None
    out_planted: list[str] = field(default_factory=list)  # user files inside ``out``
    replay: bool = False
    root_names: list[str] = field(default_factory=list)
    what: str = ""


def plant_user_files(folder: Path) -> list[Path]:
    """A user's files in ``folder`` (notes, data, a subfolder): they must survive."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("my notes\n")
    (folder / "data.csv").write_text("a,b\n1,2\n")
    (folder / "thesis").mkdir(exist_ok=True)
    (folder / "thesis" / "chapter1.md").write_text("# one\n")
    return [folder / "notes.txt", folder / "data.csv", folder / "thesis"]


class Arguments:
    """Random command lines for ``run.py`` and its commands, from one seeded stream each."""

    ROOT_NAMES = ("summary.json", "replications.csv", "report.html", "outcomes.png",
                  "time_to_resolution.png", "buyers_and_prices.png", "agreement_timing.png",
                  ".blocks", "partial.json", MANIFEST, "sweep.json", "points.csv", "points")

    def __init__(self, ctx: Context, summaries: dict[str, Path]) -> None:
        self.ctx = ctx
        self.summaries = summaries

    def case(self, index: int) -> Case:
        rng = random.Random(f"{self.ctx.cfg.seed}:arguments:{index}")
        folder = self.ctx.work / "args" / f"case-{index:05d}"
        cwd, home = folder / "cwd", folder / "home"
        cwd.mkdir(parents=True, exist_ok=True)
        case = Case([], cwd, home, planted=plant_user_files(home))
        kind = rng.choices(["run", "replay", "compare", "backtest"], [60, 20, 10, 10])[0]
        getattr(self, kind)(rng, case, folder)
        case.what = kind
        return case

    def number(self, rng: random.Random, option: str) -> str:
        value = rng.choice(NUMBER_TEXT)
        try:  # as sim.commands.options parses it: keep the valid ones quick
            number = float(value.replace("_", "").replace(",", ""))
        except ValueError:
            return value
        if option == "--dask-local" and 2 < number <= 1024:
            return "2"
        if option in ("--runs", "--max-runs") and 2000 < number <= 10_000_000:
            return "2000"
        return value

    def out(self, rng: random.Random, case: Case, folder: Path) -> str | None:
        """An odd --out: the current folder, its parent, HOME, ``/``, a file, a device, a
        name too long, a read-only folder, a folder of the user's with files in it."""
        home = case.home
        existing = case.cwd / "existing.txt"
        existing.write_text("mine\n")
        case.planted.append(existing)
        choice = rng.choice(["", ".", "..", "~", "HOME", "/", "file", "/dev/null",
                             "long", "longer", "readonly", "user", "nested", "newline",
                             "escape", "under-file", "/proc/self", "-", "--runs", "new",
                             "new", "new"])
        if choice == "HOME":
            case.out, case.out_planted = home, ["notes.txt", "data.csv", "thesis"]
            return str(home)
        if choice == "/":
            clash = [n for n in self.ROOT_NAMES if os.path.lexists(f"/{n}")]
            if clash:  # never risk a real file of the machine's
                return "new-folder"
            case.root_names = list(self.ROOT_NAMES)
            return "/"
        if choice == "file":
            return str(existing)
        if choice == "long":
            return "x" * 300
        if choice == "longer":
            return "/".join(["y" * 250] * 20)
        if choice == "readonly":
            if os.geteuid() == 0:
                self.ctx.report.count("arguments", "readonly_skip")
                return "new-folder"
            ro = folder / "readonly"
            ro.mkdir(exist_ok=True)
            ro.chmod(0o555)
            return str(ro)
        if choice == "user":
            mine = folder / "mine"
            case.planted += plant_user_files(mine)
            case.out, case.out_planted = mine, ["notes.txt", "data.csv", "thesis"]
            return str(mine)
        if choice == "nested":
            case.out = case.cwd / "a" / "b" / "c"
            return "a/b/c"
        if choice == "newline":
            return "out\nx"
        if choice == "escape":
            return "out\x1b[2J"
        if choice == "under-file":
            return str(existing / "sub")
        if choice == "new":
            case.out = folder / "out"
            return str(case.out)
        return choice

    def options(self, rng: random.Random, case: Case, folder: Path,
                commands: str = "run") -> list[str]:
        argv: list[str] = []
        names = ["--runs", "--seed", "--workers", "--out", "--unknown", "--flag"]
        if commands == "run":
            names += ["--precision", "--max-runs", "--dask-local", "--scheduler",
                      "--trace-run", "--vary", "--sweep", "--flag"]
        for _ in range(rng.randint(1, 4)):
            name = rng.choice(names)
            if name == "--unknown":
                argv += rng.choice(UNKNOWN)
            elif name == "--flag":
                argv.append(rng.choice(FLAGS))
            elif rng.random() < 0.08:  # a value missing: the option last, or before another
                argv.append(name)
            elif name == "--out":
                value = self.out(rng, case, folder)
                argv += [name] if value is None else [name, value]
            elif name == "--scheduler":
                argv += [name, rng.choice(SCHEDULERS)]
            elif name == "--vary":
                argv += [name, rng.choice(VARY)]
            elif name == "--sweep":
                argv += [name, self.sweep_file(rng, folder)]
            else:
                argv += [name, self.number(rng, name)]
        if "--precision" in argv:
            argv = ["--max-runs", "2000", *argv]
        return argv

    def sweep_file(self, rng: random.Random, folder: Path) -> str:
        empty = folder / "empty-sweep.yaml"
        empty.write_text(rng.choice(["", "{}", "- 1\n", "name: x\ngrid: {}\n"]))
        return str(rng.choice([folder / "missing.yaml", EXAMPLE, Path("/dev/zero"),
                               Path("/dev/null"), folder, empty,
                               SCENARIOS / "sweeps" / "committee_strictness.yaml"]))

    def scenario(self, rng: random.Random, folder: Path) -> list[str]:
        if rng.random() < 0.8:
            return [str(EXAMPLE)]
        return rng.choice([[""], [str(folder / "missing.yaml")], [str(folder)],
                           ["/dev/null"], ["/dev/zero"], ["-"], [str(ROOT / "README.md")],
                           [str(ROOT / "docs" / "img" / "outcomes.png")],
                           [str(self.summaries.get("run", EXAMPLE))], [],
                           ["--", "-x.yaml"], [str(EXAMPLE), str(EXAMPLE)]])

    def run(self, rng: random.Random, case: Case, folder: Path) -> None:
        base = ["--runs", "200", "--workers", "1"] if rng.random() < 0.9 else []
        if rng.random() < 0.7:
            base.append("--no-figures")
        if case.out is None and rng.random() < 0.5:
            case.out = folder / "out"
            base += ["--out", str(case.out)]
        options = self.options(rng, case, folder)
        if any(o.startswith("--sweep") for o in options):
            options += ["--runs", "100"]
        case.argv = [*self.scenario(rng, folder), *base, *options]

    def compare(self, rng: random.Random, case: Case, folder: Path) -> None:
        scenarios = rng.choice([[EXAMPLE, SCENARIOS / "microsoft.yaml"], [EXAMPLE], [],
                                [EXAMPLE, EXAMPLE], [EXAMPLE, folder / "missing.yaml"],
                                [EXAMPLE, Path("/dev/null")], [EXAMPLE, folder]])
        case.argv = ["compare", *map(str, scenarios), "--runs", "200", "--no-figures",
                     *self.options(rng, case, folder, "compare")]

    def backtest(self, rng: random.Random, case: Case, folder: Path) -> None:
        paths = rng.choice([[SCENARIOS / "cases"], [folder / "missing"],
                            [SCENARIOS / "cases" / "grindr-2019-05-13.yaml"], [EXAMPLE],
                            [Path("/dev/null")], [folder], [], [Path("")]])
        case.argv = ["backtest", *map(str, paths), "--runs", "100", "--no-figures",
                     *self.options(rng, case, folder, "backtest")]

    def replay(self, rng: random.Random, case: Case, folder: Path) -> None:
        case.replay = True
        record = self.summaries.get("run")
        if record is None or not record.is_file():
            case.argv = ["replay", str(folder / "missing.json")]
            return
        data = json.loads(record.read_text())
        edit = rng.choice(["runs", "runs", "seed", "seed", "missing", "list", "devzero",
                           "deep", "content", "nan", "binary", "folder", "path", "none"])
        target = folder / "summary.json"
        text: str | bytes
        if edit == "runs":
            data["runs"] = rng.choice(["abc", -5, 1e12, 0, 10**30, True, None, 1.5, "200",
                                       [200], 2**63])
        elif edit == "seed":
            data["seed"] = rng.choice([-1, None, "x", 1.5, 2**64, [1], 10**30, True])
        elif edit == "missing":
            key = rng.choice(["runs", "seed", "scenario", "content", "outcomes", "sha256",
                              "path"])
            box = data["scenario"] if key in ("content", "sha256", "path") else data
            box.pop(key, None)
        elif edit == "content":
            data["scenario"]["content"] = rng.choice(["name: [", "", "- 1", 42, None,
                                                      "name: x\n", "\x1b[2J"])
        elif edit == "path":
            data["scenario"]["path"] = rng.choice(["/dev/zero", "/", str(folder), 42,
                                                   "x" * 5000, "\x00"])
        if edit == "list":
            text = rng.choice(["[]", "null", '"text"', "{}", "1"])
        elif edit == "deep":
            text = "[" * 100_000 + "]" * 100_000
        elif edit == "nan":
            text = json.dumps(data).replace('"runs": 200', '"runs": NaN')
        elif edit == "binary":
            text = b"\xff\xfe" + json.dumps(data).encode()
        else:
            text = json.dumps(data, indent=1)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)
        path = {"devzero": "/dev/zero", "folder": str(folder)}.get(edit, str(target))
        options = ["--workers", rng.choice(["1", "2", "0", "abc"])] if rng.random() < 0.3 \
            else []
        if rng.random() < 0.3:
            options.append("--quiet")
        case.argv = ["replay", path, *options]


def make_summaries(ctx: Context) -> dict[str, Path]:
    """A real run's summary.json to hand-edit for ``replay``."""
    out = ctx.work / "args" / "base-run"
    ran = run_cli([EXAMPLE, "--runs", "200", "--workers", "1", "--no-figures", "--quiet",
                   "--out", out], ctx.work, ctx.env, ctx.cfg.cli_timeout)
    return {"run": out / "summary.json"} if ran.rc == 0 else {}


def arguments_part(ctx: Context) -> None:
    maker = Arguments(ctx, make_summaries(ctx))
    lock = threading.Lock()  # the ``/`` cases one at a time, each cleaned up after

    def one(index: int) -> None:
        case = maker.case(index)
        if case.root_names:
            with lock:
                before = set(os.listdir("/"))
                check_case(ctx, case)
                for name in set(os.listdir("/")) - before:
                    if name in Arguments.ROOT_NAMES or name.startswith(STAGING):
                        path = Path("/") / name
                        if path.is_dir() and not path.is_symlink():
                            shutil.rmtree(path, ignore_errors=True)
                        else:
                            path.unlink(missing_ok=True)
        else:
            check_case(ctx, case)

    for done in Pool(ctx.cfg.jobs).map(one, range(ctx.cfg.arguments), ctx.budget):
        if done is SKIPPED:
            ctx.report.skipped["arguments"] = ctx.report.skipped.get("arguments", 0) + 1


def check_case(ctx: Context, case: Case) -> None:
    report = ctx.report
    before = snapshot(case.planted)
    ran = run_cli(case.argv, case.cwd, child_env(case.home, ctx.mpl), ctx.cfg.cli_timeout)
    report.count("arguments", "tried")
    folder = case.cwd.parent
    row = record_cli(report, "arguments", ran, [folder], allow_differs=case.replay)
    command = [PYTHON, str(RUN_PY), *ran.argv]
    if gone := lost(before):
        report.fail("arguments", "lost", "; ".join(gone), command, ran.err, [folder])
    if row is None and ran.rc == 0 and case.out is not None and case.out.exists() \
            and "-h" not in case.argv and "--help" not in case.argv:
        problem = folder_problem(case.out, case.out_planted)
        if problem:
            report.fail("arguments", "mixed", problem, command, ran.err, [folder])
    shutil.rmtree(folder, ignore_errors=True)  # a failure's reproducer is a copy


# --- part 3: signals -----------------------------------------------------------------------

PLANS = {"int-group": [signal.SIGINT], "int-group x2": [signal.SIGINT] * 2,
         "int-group x3": [signal.SIGINT] * 3, "int-process": [signal.SIGINT],
         "term-process": [signal.SIGTERM], "term-group": [signal.SIGTERM],
         "int-then-term-group": [signal.SIGINT, signal.SIGTERM]}
SWEEP_VARY = "committee.clear_threshold=0.5:0.9:3"


@dataclass
class Trial:
    index: int
    kind: str  # run or sweep
    runs: int
    workers: int
    figures: bool
    plan: str
    moment: float  # fraction of the uninterrupted time
    gaps: list[float]
    link: bool
    resume: bool
    at_publish: float | None = None  # else: seconds after the new set is published

    def argv(self, out: Path) -> list[str]:
        common = ["--workers", str(self.workers), "--out", str(out), "--quiet"]
        if not self.figures:
            common.append("--no-figures")
        if self.kind == "sweep":
            return [str(ORACLE), "--vary", SWEEP_VARY, "--runs", "1000", *common]
        return [str(ORACLE), "--runs", str(self.runs), "--seed", "7", *common]

    @property
    def table(self) -> str:
        return "points.csv" if self.kind == "sweep" else "replications.csv"


STRATA = 10  # moments: trial i falls in the i-th tenth of 0-110% (mod 10), so a few
# trials already cover early, middle and late (the write phase, past the end)


def plan_trial(seed: int, index: int, sizes: Sequence[int], workers: Sequence[int],
               trials: int = STRATA) -> Trial:
    """Trial ``index`` of ``trials``, from its own seeded stream. The first is never
    refused for a planted link, so even a run of two trials sends signals."""
    rng = random.Random(f"{seed}:signals:{index}")
    kind = "sweep" if rng.random() < 0.25 else "run"
    plan = rng.choice(list(PLANS))
    strata = max(1, min(trials, STRATA))
    moment = 1.1 * (index % strata + rng.random()) / strata
    return Trial(index, kind, rng.choice(list(sizes)) if kind == "run" else 3000,
                 rng.choice(list(workers)), rng.random() < 0.3, plan, moment,
                 # a second Ctrl-C comes while the first is being handled, as a person's
                 [rng.uniform(0.01, 0.4) for _ in PLANS[plan][1:]],
                 index > 0 and rng.random() < 0.25, rng.random() < 0.5,
                 # every fifth trial aims at the narrowest window: just after the new set
                 # is published (its manifest replaced), while the command winds down
                 rng.uniform(0.0, 0.05) if index % 5 == 1 else None)


class References:
    """Uninterrupted runs: how long each takes (by kind, size, workers, figures) and the
    table each writes (by kind and size: workers never change it)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seconds: dict[tuple[str, int, int, bool], float] = {}
        self.tables: dict[tuple[str, int], bytes | None] = {}

    def get(self, trial: Trial) -> tuple[float, bytes | None]:
        key = (trial.kind, trial.runs, trial.workers, trial.figures)
        if key not in self.seconds:
            out = self.ctx.work / "signals" / "reference" / "-".join(map(str, key))
            shutil.rmtree(out, ignore_errors=True)
            ran = run_cli(trial.argv(out), self.ctx.work, self.ctx.env, 1200)
            self.seconds[key] = ran.seconds
            table = out / trial.table
            if ran.rc == 0 and table.is_file():
                self.tables.setdefault((trial.kind, trial.runs), table.read_bytes())
            else:
                self.tables.setdefault((trial.kind, trial.runs), None)
                self.ctx.report.fail("signals", "resume_failed", "the uninterrupted "
                                     f"reference run failed (exit {ran.rc})",
                                     [PYTHON, str(RUN_PY), *ran.argv], ran.err)
            shutil.rmtree(out, ignore_errors=True)
        return self.seconds[key], self.tables.get((trial.kind, trial.runs))


EARLIER: dict[str, list[str | Path]] = {
    "run": [ORACLE, "--runs", "1000", "--seed", "7"],
    "sweep": [ORACLE, "--vary", "committee.clear_threshold=0.5:0.9:2", "--runs", "500"]}


def earlier_run(ctx: Context, kind: str) -> Path:
    """A finished run of another size (1,000 runs; a 2-point sweep of 500) whose folder
    a trial starts from, so a mix would show; made once."""
    out = ctx.work / "signals" / f"earlier-{kind}"
    if not out.exists():
        run_cli([*EARLIER[kind], "--workers", "2", "--no-figures", "--quiet", "--out", out],
                ctx.work, ctx.env, 600)
    return out


def signals_part(ctx: Context) -> None:
    references = References(ctx)
    for index in range(ctx.cfg.signals):
        if index and ctx.budget.spent():
            ctx.report.skipped["signals"] = ctx.cfg.signals - index
            break
        trial = plan_trial(ctx.cfg.seed, index, ctx.cfg.signal_runs, ctx.cfg.signal_workers,
                           ctx.cfg.signals)
        seconds, table = references.get(trial)
        signal_trial(ctx, trial, seconds, table, earlier_run(ctx, trial.kind))
        if ctx.cfg.verbose:
            print(f"  signals: trial {index + 1} of {ctx.cfg.signals}", file=sys.stderr)


@dataclass
class Watched:
    """How an interrupted process ended."""

    rc: int | None
    hung: bool
    left: list[int]
    sent: int  # signals sent before it ended
    stderr: str


def prepare_trial(trial: Trial, folder: Path, earlier: Path) -> tuple[Path, list[Path]]:
    """The trial's --out: a copy of an earlier finished run of another size, a user's file
    beside it and, on some trials, ``.blocks`` a link to a folder of the user's."""
    shutil.rmtree(folder, ignore_errors=True)
    parent = folder / "parent"
    out = parent / "out"
    parent.mkdir(parents=True)
    if earlier.is_dir():
        shutil.copytree(earlier, out, symlinks=True)
    (parent / "notes.txt").write_text("the user's notes, beside the results folder\n")
    planted = [parent / "notes.txt"]
    if trial.link:
        user = folder / "user-folder"
        planted += plant_user_files(user)
        out.mkdir(exist_ok=True)
        (out / ".blocks").symlink_to(user, target_is_directory=True)
    return out, planted


def manifest_mark(out: Path) -> tuple[int, int] | None:
    try:
        stat = (out / MANIFEST).stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def published(process: subprocess.Popen[bytes], out: Path, before: tuple[int, int] | None,
              delay: float) -> float:
    """When to signal a trial aimed at the publish: ``delay`` after the folder's manifest
    is replaced (or now, if the process ends first)."""
    while process.poll() is None and manifest_mark(out) == before:
        time.sleep(0.002)
    return time.monotonic() + delay


def watch(ctx: Context, trial: Trial, argv: Sequence[str], folder: Path, out: Path,
          seconds: float) -> Watched:
    """Start the run, signal it as planned, and give it 5 s after the last signal to be
    gone, workers and all (else it is killed: a hang)."""
    before = manifest_mark(out)
    with (folder / "stdout.txt").open("wb") as stdout, \
            (folder / "stderr.txt").open("wb") as stderr:
        process = start(argv, ctx.work, ctx.env, stdout, stderr)
        at = (time.monotonic() + trial.moment * seconds if trial.at_publish is None
              else published(process, out, before, trial.at_publish))
        sent, last = send_signals(process, trial, at)
        deadline = last + SIGNAL_SECONDS
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        hung = process.poll() is None
        while not hung and group_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        left = group_members(process.pid)
        if hung:
            kill_group(process.pid)
        process.wait()
        finished(process, grace=0)
    err = (folder / "stderr.txt").read_text(errors="replace")
    return Watched(None if hung else process.returncode, hung, left, sent, err)


def signal_trial(ctx: Context, trial: Trial, seconds: float, table: bytes | None,
                 earlier: Path) -> None:
    report = ctx.report
    folder = ctx.work / "signals" / f"trial-{trial.index:04d}"
    out, planted = prepare_trial(trial, folder, earlier)
    before = snapshot(planted)
    argv = trial.argv(out)
    command = [PYTHON, str(RUN_PY), *argv]
    when = (f"{trial.moment:.0%} of {seconds:.1f} s" if trial.at_publish is None
            else f"{trial.at_publish * 1000:.0f} ms after the set was published")
    what = (f"trial {trial.index}: {trial.kind} of {trial.runs} runs on {trial.workers} "
            f"worker(s){' with figures' if trial.figures else ''}, {trial.plan} at {when}")
    report.count("signals", "tried")
    report.count("signals", "sweeps", trial.kind == "sweep")
    seen = watch(ctx, trial, argv, folder, out, seconds)
    report.count("signals", "sent", seen.sent)
    report.code("signals", "hang" if seen.hung else seen.rc if seen.rc is not None else "?")
    err, keep = seen.stderr, [folder]
    if seen.hung:
        report.fail("signals", "hang", what, command, err, keep)
    elif seen.left:
        report.fail("signals", "left", f"{what}: processes {seen.left} were still running "
                    f"{SIGNAL_SECONDS:.0f} s after the last signal", command, err, keep)
    if seen.rc == 2 and one_error_line(err.encode()):
        report.count("signals", "refused")  # e.g. the planted .blocks link: told in one line
    elif seen.rc == 0 and not seen.sent:
        report.count("signals", "finished_first")
    elif not seen.hung and seen.rc not in allowed_codes(trial):
        died = (f" (died of {signal.Signals(-seen.rc).name}: no orderly stop, no message)"
                if seen.rc is not None and seen.rc < 0 else "")
        report.fail("signals", "wrong_code", f"{what}: exit {seen.rc}{died}", command, err,
                    keep)
    if "Traceback" in err:
        report.fail("signals", "traceback", what, command, err, keep)
    problem = folder_problem(out, planted=[".blocks"])
    if problem:
        report.fail("signals", "mixed", f"{what}: {problem}", command, err, keep)
        report.count("signals", "no_manifest", problem.startswith("no manifest"))
    if gone := lost(before):
        report.fail("signals", "lost", f"{what}: {'; '.join(gone)}", command, err, keep)
    resumed = ""
    if trial.resume and not ctx.budget.spent():
        resumed = resume(ctx, trial, out, table, what, keep)
    log_trial(ctx.work, trial, seconds, seen, problem, resumed)
    shutil.rmtree(folder, ignore_errors=True)  # a failure's reproducer is a copy


def allowed_codes(trial: Trial) -> set[int]:
    """0 (it finished first) or the code of a signal it was sent: 130 SIGINT, 143 SIGTERM."""
    signals = set(PLANS[trial.plan])
    return {0} | ({130} if signal.SIGINT in signals else set()) | \
        ({143} if signal.SIGTERM in signals else set())


def log_trial(work: Path, trial: Trial, seconds: float, seen: Watched, problem: str | None,
              resumed: str) -> None:
    """One line a trial in ``signals.csv``: what was planned and what happened."""
    path = work / "signals.csv"
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(["trial", "kind", "runs", "workers", "figures", "plan",
                             "moment", "reference_s", "link", "sent", "exit", "hung",
                             "left", "folder_problem", "resume"])
        writer.writerow([trial.index, trial.kind, trial.runs, trial.workers, trial.figures,
                         trial.plan, f"{trial.moment:.3f}" if trial.at_publish is None
                         else f"publish+{trial.at_publish:.3f}s", f"{seconds:.2f}", trial.link,
                         seen.sent, seen.rc, seen.hung, len(seen.left), problem or "",
                         resumed])


def send_signals(process: subprocess.Popen[bytes], trial: Trial,
                 at: float) -> tuple[int, float]:
    """Send the trial's signals from ``at`` on; return how many were sent (none if the
    run ended first) and when the last was."""
    sent = 0
    for number, how in enumerate(PLANS[trial.plan]):
        if number:
            at = time.monotonic() + trial.gaps[number - 1]
        while time.monotonic() < at and process.poll() is None:
            time.sleep(min(0.01, max(0.0, at - time.monotonic())))
        if process.poll() is not None:
            break
        if "group" in trial.plan:
            os.killpg(process.pid, how)
        else:
            process.send_signal(how)
        sent += 1
    return sent, time.monotonic()


def resume(ctx: Context, trial: Trial, out: Path, table: bytes | None, what: str,
           keep: list[Path]) -> str:
    """Finish the trial with ``--resume``; the table must be the uninterrupted run's.
    Returns what happened, for the log."""
    report = ctx.report
    argv = [*trial.argv(out), "--resume"]
    report.count("signals", "resumed")
    ran = run_cli(argv, ctx.work, ctx.env, 1200)
    command = [PYTHON, str(RUN_PY), *argv]
    if ran.rc == 2 and one_error_line(ran.stderr):
        report.count("signals", "resume_refused")
        return "refused"
    if ran.rc != 0 or ran.hung:
        report.fail("signals", "resume_failed", f"{what}: resume exit {ran.rc}", command,
                    ran.err, keep)
        return f"exit {ran.rc}"
    path = out / trial.table
    same = table is None or (path.is_file() and path.read_bytes() == table)
    if not same:
        report.fail("signals", "resume_differs", f"{what}: {trial.table} after --resume "
                    "differs from the uninterrupted run's", command, ran.err, keep)
    if problem := folder_problem(out, planted=[".blocks"]):
        report.fail("signals", "resume_mixed", f"{what}: {problem}", command, ran.err, keep)
    return "identical" if same and table is not None else "differs" if not same else "ok"


# --- part 4: a full disk -------------------------------------------------------------------

# Writes allowed before ENOSPC, trial by trial: the first fails on a finished block (the
# third write), the next on the first, then on the table, the figures, the page, the record.
FAIL_AFTER = (2, 0, 1, 3, 4, 5, 6, 8, 10, 13, 16, 20)
DISK_WORDS = re.compile(r"disk|space|full", re.IGNORECASE)


def disk_part(ctx: Context) -> None:
    report = ctx.report
    mount = ctx.work / "disk" / "tmpfs"
    mount.mkdir(parents=True, exist_ok=True)
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True).returncode == 0
    if mounted:
        try:
            report.count("disk", "tmpfs")
            out = mount / "out"
            command: list[str | Path] = [ORACLE, "--runs", "6000", "--workers", "2",
                                         "--quiet", "--out", out]
            earlier: list[str | Path] = [ORACLE, "--runs", "300", "--workers", "1",
                                         "--no-figures", "--quiet", "--out", out]
            disk_trial(ctx, out, command, earlier)
        finally:
            if subprocess.run(["umount", str(mount)], capture_output=True).returncode:
                subprocess.run(["umount", "-l", str(mount)], capture_output=True)
    else:
        report.count("disk", "tmpfs_skip")
    for index in range(ctx.cfg.disk_trials):
        if index and ctx.budget.spent():
            report.skipped["disk"] = ctx.cfg.disk_trials - index
            break
        after = FAIL_AFTER[index % len(FAIL_AFTER)]
        out = ctx.work / "disk" / f"simulated-{index}"
        shutil.rmtree(out, ignore_errors=True)
        argv: list[str | Path] = [EXAMPLE, "--runs", "2500", "--workers", "1", "--quiet",
                                  "--out", out]
        report.count("disk", "simulated")
        disk_trial(ctx, out, argv, [EXAMPLE, "--runs", "100", "--workers", "1",
                                    "--no-figures", "--quiet", "--out", out], after)


def disk_trial(ctx: Context, out: Path, argv: Sequence[str | Path],
               earlier: Sequence[str | Path], after: int | None = None) -> None:
    """Publish a small run in ``out``, then a run whose writes fail (a full tmpfs, or
    ENOSPC after ``after`` calls): one error line naming the disk, the earlier set kept."""
    report = ctx.report
    first = run_cli(earlier, ctx.work, ctx.env, ctx.cfg.cli_timeout)
    before = snapshot([p for p in out.iterdir() if p.is_file()]) if out.is_dir() else {}
    if first.rc != 0:
        report.fail("disk", "disk_other", f"the earlier run failed (exit {first.rc})",
                    [PYTHON, str(RUN_PY), *first.argv], first.err)
        return
    if after is None:
        ran = run_cli(argv, ctx.work, ctx.env, ctx.cfg.cli_timeout)
        command = [PYTHON, str(RUN_PY), *map(str, argv)]
        what = "a run with figures into a 3 MB tmpfs"
    else:
        began = time.monotonic()
        command = [PYTHON, str(Path(__file__).resolve()), "--enospc-child", str(after),
                   *map(str, argv)]
        process = subprocess.Popen(command, cwd=ctx.work, env=ctx.env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True, preexec_fn=_child_setup)
        try:
            stdout, stderr = process.communicate(timeout=ctx.cfg.cli_timeout)
            hung = False
        except subprocess.TimeoutExpired:
            kill_group(process.pid)
            stdout, stderr = process.communicate()
            hung = True
        ran = Ran(list(map(str, argv)), None if hung else process.returncode, stdout,
                  stderr, time.monotonic() - began, hung, finished(process))
        what = f"writes fail with ENOSPC after {after} calls"
    keep = [out]
    if ran.hung:
        report.fail("disk", "disk_hang", what, command, ran.err, keep)
        return
    if ran.rc == 0:
        report.count("disk", "disk_finished")
        return
    if "Traceback" in ran.err:
        report.fail("disk", "disk_traceback", what, command, ran.err, keep)
    elif ran.rc != 2:
        report.fail("disk", "disk_other", f"{what}: exit {ran.rc}", command, ran.err, keep)
    elif not (one_error_line(ran.stderr) and DISK_WORDS.search(ran.err)):
        report.fail("disk", "disk_bad_line", what, command, ran.err, keep)
    else:
        report.count("disk", "disk_ok")
    problem = folder_problem(out)
    gone = lost(before)
    if problem or gone:
        report.fail("disk", "disk_lost", f"{what}: {problem or '; '.join(gone)}", command,
                    ran.err, keep)


class _FailingFile:
    """A file whose writes fail with ENOSPC once the shared count runs out."""

    def __init__(self, inner: IO[bytes], tick: Callable[[], None]) -> None:
        self._inner = inner
        self._tick = tick

    def write(self, data: bytes) -> int:
        self._tick()
        return self._inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _FailingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()


class _FailingOs:
    """``os`` for dealsim's modules, with writes and renames failing after N calls."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.calls = 0

    def tick(self) -> None:
        self.calls += 1
        if self.calls > self.after:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def write(self, fd: int, data: bytes) -> int:
        self.tick()
        return os.write(fd, data)

    def replace(self, *args: Any, **kwargs: Any) -> None:
        self.tick()
        os.replace(*args, **kwargs)

    def rename(self, *args: Any, **kwargs: Any) -> None:
        self.tick()
        os.rename(*args, **kwargs)

    def fdopen(self, *args: Any, **kwargs: Any) -> _FailingFile:
        return _FailingFile(os.fdopen(*args, **kwargs), self.tick)


def enospc_child(after: int, argv: list[str]) -> int:
    """``run.py ARGV`` in this process with dealsim's writes failing after ``after``."""
    sys.path.insert(0, str(ROOT))
    import sim.api  # noqa: F401 - load the modules whose ``os`` is patched
    from sim.commands.main import main

    failing = _FailingOs(after)
    for name, module in list(sys.modules.items()):
        if (name == "sim" or name.startswith("sim.")) and getattr(module, "os", None) is os:
            module.os = failing  # type: ignore[attr-defined]
    return main(argv)


# --- the battery ---------------------------------------------------------------------------

def battery(cfg: Config) -> Report:
    """Run the parts of ``cfg`` and return the report (``report.failing()`` is empty when
    every promise held)."""
    work = Path(cfg.work or tempfile.mkdtemp(prefix="dealsim-hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    report = Report(work)
    home, mpl = work / "home", work / "mpl-cache"
    home.mkdir(exist_ok=True)
    mpl.mkdir(exist_ok=True)
    budget = Budget(cfg.budget)
    ctx = Context(cfg, work, report, budget, home, mpl)
    parts = {"documents": documents_part, "arguments": arguments_part,
             "signals": signals_part, "disk": disk_part}
    order = [p for p in ("disk", "arguments", "signals", "documents") if p in cfg.parts]
    with stopping_children():
        for number, part in enumerate(order):
            budget.begin(part, order[number:])
            if cfg.verbose:
                print(f"hostile: {part} …", file=sys.stderr)
            began = time.monotonic()
            report.ran.append(part)
            parts[part](ctx)
            report.seconds[part] = time.monotonic() - began
    report.ran.sort(key=PARTS.index)
    return report


@contextmanager
def stopping_children() -> Iterator[None]:
    """The battery's own Ctrl-C ends every process group it started."""
    try:
        yield
    except BaseException:
        STOP.set()
        raise
    finally:
        kill_all_live()


def header(cfg: Config, report: Report, seconds: float) -> str:
    budget = "none" if cfg.budget is None else f"{cfg.budget:,.0f} s"
    return (f"dealsim hostile battery · seed {cfg.seed} · {cfg.documents:,} documents · "
            f"{cfg.arguments:,} argument cases · {cfg.signals:,} signal trials · jobs "
            f"{cfg.jobs} · budget {budget} · took {seconds:,.0f} s\nwork folder: "
            f"{report.work}")


def parse(argv: Sequence[str]) -> Config:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--documents", type=int, default=5000)
    p.add_argument("--signals", type=int, default=100)
    p.add_argument("--arguments", type=int, default=300)
    p.add_argument("--disk-trials", type=int, default=6)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--budget", type=float, default=None, metavar="SECONDS",
                   help="stop starting new trials when spent")
    p.add_argument("--parts", default=",".join(PARTS),
                   help=f"comma-separated, of {', '.join(PARTS)}")
    p.add_argument("--doc-limit", type=float, default=10.0,
                   help="seconds to load one document before it counts as a hang")
    p.add_argument("--timeout", type=float, default=120.0,
                   help="seconds for one command line before it counts as a hang")
    p.add_argument("--work", type=Path, default=None, help="work folder (default: a new "
                   "temporary one, removed at the end unless something failed)")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--quiet", action="store_true", help="only the table")
    args = p.parse_args(argv)
    parts = tuple(x for x in args.parts.split(",") if x)
    if unknown := set(parts) - set(PARTS):
        p.error(f"--parts: unknown {', '.join(sorted(unknown))}")
    return Config(documents=args.documents, signals=args.signals, arguments=args.arguments,
                  disk_trials=args.disk_trials, seed=args.seed, jobs=args.jobs,
                  budget=args.budget, parts=parts, doc_limit=args.doc_limit,
                  cli_timeout=args.timeout, work=args.work, keep=args.keep,
                  verbose=not args.quiet)


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == "--loader-child":
        return loader_child(float(argv[1]))
    if argv and argv[0] == "--enospc-child":
        return enospc_child(int(argv[1]), list(argv[2:]))
    if argv and argv[0] == "--load":  # a reproducer: load one document as the battery does
        sys.path.insert(0, str(ROOT))
        from sim.errors import ScenarioError
        from sim.scenario.loading import load_scenario

        try:
            print(load_scenario(argv[1]).name)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    cfg = parse(argv)
    began = time.monotonic()
    try:
        report = battery(cfg)
    except KeyboardInterrupt:
        print("hostile: interrupted", file=sys.stderr)
        return 130
    print(header(cfg, report, time.monotonic() - began))
    print(report.table())
    failing = report.failing()
    if failing:
        print(f"\nFAILED: {sum(failing.values()):,} failures "
              f"({', '.join(f'{k} {v:,}' for k, v in failing.items())})\n")
        print(report.reproducers())
        print(f"\nreproducers kept under {report.work / 'failures'}")
        return 1
    print("\nevery promise held")
    if not cfg.keep and cfg.work is None:
        shutil.rmtree(report.work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
