"""``run.py replay results/<…>/summary.json``: run a finished run again from its record and
confirm that every number is identical, or say which differ and the likely cause.

The scenario comes from the text recorded in ``summary.json``, not from the file on disk,
which may have changed or gone since (a note says so). If that text no longer resolves to
the scenario that ran (a file it ``extends`` changed, or the schema's defaults), the
validated scenario recorded beside it is used instead, also with a note. Exit code 0 when
identical, 1 when not, 2 when the record cannot be replayed.

A summary.json is a file anyone may edit, so nothing in it is trusted: it is read only if
it is a regular file of at most ``MAX_RECORD_BYTES`` (a pipe is never waited on, a device
never read), as strict JSON, and what replay reads of it is validated with the command
line's own bounds (``runs`` 1 to ``MAX_RUNS``, ``seed`` 0 to 2**63 - 1). Any problem is one
line naming the file, the line and the key; text from the record is printed escaped.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import re
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from sim.commands import options
from sim.commands.options import printable, program
from sim.errors import ScenarioError
from sim.limits import MAX_FILE_BYTES, MAX_RUNS

MAX_RECORD_BYTES = 50_000_000  # a run's summary.json is tens of kilobytes; read no more
MAX_DEPTH = 64  # nesting levels of a record (a real one has under 10)
MAX_PATH = 4096  # characters of the recorded scenario path (Linux's PATH_MAX)
BOUNDS = {"runs": f"between 1 and {MAX_RUNS:,}", "seed": "between 0 and 2**63 - 1"}
EXPECTED = {"int_type": "a whole number", "string_type": "text", "list_type": "a list",
            "dict_type": "an object", "model_type": "an object",
            "string_pattern_mismatch": "a file path (it holds a NUL character)"}
_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace
_DECODER = json.JSONDecoder()

# The results of a run, as summary.json records them: what a replay must reproduce.
NUMBERS = ("runs", "seed", "outcomes", "unresolved_by_state", "days_to_resolution", "winners",
           "sale_parent_keeps_control",
           "price_bn_given_sale", "stake_price_bn_given_sale", "extensions_mean",
           "forbearances_mean", "days_dark_mean", "dark", "injunction", "suit", "regime_change",
           "inputs_sampled")
SHOWN = 12  # differences listed before "… and N more"


def parser() -> argparse.ArgumentParser:
    p = options.Parser(
        prog=f"{program()} replay",
        description="Run a finished run again from its summary.json (the scenario text, seed "
                    "and runs recorded there) and check that the numbers are identical.",
        epilog="Exit code 0: identical; 1: something differs (listed, with the likely cause).")
    p.add_argument("summary", type=Path, help="a run's summary.json, e.g. "
                                              "results/oracle/summary.json")
    p.add_argument("--workers", type=options.workers, default=None,
                   help="processes (default: all cores); results do not depend on it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


@dataclass(frozen=True)
class Record:
    """What replay reads of a run's summary.json, validated; ``data`` is all of it (for the
    comparison) and ``file`` and ``text`` place an error at its line."""

    file: Path
    text: str
    data: dict[str, Any]
    runs: int
    seed: int
    path: str | None  # the scenario file that ran (None: it was given as text)
    content: str
    sha256: str | None
    resolved: dict[str, Any] | None
    command: list[str] | None

    def refuse(self, loc: tuple[str | int, ...], problem: str) -> ScenarioError:
        """The one line for a problem at ``loc`` of the record."""
        return ScenarioError(f"{self.file}:{key_line(self.text, loc)}: {dotted(loc)}: {problem}")


def read_record(path: Path) -> Record:
    """The summary.json of a run, checked to hold what a replay needs."""
    text = read_capped(path)
    data = parse_json(text, path)
    if not isinstance(data, dict) or "outcomes" not in data:
        kind = "a sweep's record" if isinstance(data, dict) and "sweep" in data else \
            "not a run's summary.json"
        raise ScenarioError(f"{path}: {kind} (replay takes the summary.json of a run; "
                            "rerun a sweep with its recorded command)")
    scenario = data.get("scenario")
    if isinstance(scenario, dict) and "content" not in scenario:
        raise ScenarioError(f"{path}:{key_line(text, ('scenario',))}: scenario.content: "
                            "records no scenario content (written by an older dealsim); "
                            "run it again to get a replayable record")
    return validated(path, text, data)


def read_capped(path: Path) -> str:
    """The file's text: only a regular file (opened without waiting, so a pipe cannot
    block), and never more than ``MAX_RECORD_BYTES`` of it (a device may never end)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"{path}: cannot read "
                            f"({getattr(exc, 'strerror', None) or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise ScenarioError(f"{path}: a folder, not a run's summary.json")
        if not stat.S_ISREG(mode):
            raise ScenarioError(f"{path}: not a regular file (a pipe, a device or a socket), "
                                "not a run's summary.json")
        data = read_bounded(fd, MAX_RECORD_BYTES)
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    if len(data) > MAX_RECORD_BYTES:
        raise ScenarioError(f"{path}: larger than {MAX_RECORD_BYTES:,} bytes, not a run's "
                            "summary.json")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(f"{path}:{line}: not UTF-8 text "
                            f"({exc.reason} at byte {exc.start})") from None


def read_bounded(fd: int, cap: int) -> bytes:
    """At most ``cap + 1`` bytes of an open file: one past the cap tells it is over."""
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        chunk = os.read(fd, min(1 << 20, cap + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def parse_json(text: str, path: Path) -> Any:
    """Strict JSON (no NaN or Infinity, which dealsim never writes), not nested deeper than
    ``MAX_DEPTH``, every string encodable (no lone surrogate, which printing would fail on)."""

    def constant(name: str) -> Any:
        raise ScenarioError(f"{path}: not JSON ({name} is not a JSON number)")

    try:
        data = json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise ScenarioError(f"{path}: not JSON (nested too deep)") from None
    except ValueError:  # an integer of thousands of digits
        raise ScenarioError(f"{path}: not JSON (a number with too many digits)") from None
    stack = [(data, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list) and level > MAX_DEPTH:
            raise ScenarioError(f"{path}: not a run's summary.json (nested deeper than "
                                f"{MAX_DEPTH} levels)")
        if isinstance(item, dict):
            stack += [(k, level) for k in item] + [(v, level + 1) for v in item.values()]
        elif isinstance(item, list):
            stack += [(v, level + 1) for v in item]
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ScenarioError(f"{path}: not JSON text (a lone surrogate "
                                    f"{item[exc.start]!r} in a string)") from None
    return data


@functools.cache
def record_model() -> Any:
    """The pydantic model of what replay reads, strict (``"7"`` or ``7.0`` or ``true`` is
    no whole number) and with the command line's bounds; built on first use, so the
    command line does not pay for importing pydantic before its arguments are parsed."""
    from pydantic import BaseModel, ConfigDict, Field

    class RecordedScenario(BaseModel):
        model_config = ConfigDict(strict=True, frozen=True)
        path: Annotated[str, Field(pattern=r"^[^\x00]*$", max_length=MAX_PATH)] | None
        content: Annotated[str, Field(max_length=MAX_FILE_BYTES)]  # what a file may hold
        sha256: str | None = None
        resolved: dict[str, Any] | None = None

    class RunRecord(BaseModel):
        model_config = ConfigDict(strict=True, frozen=True)
        runs: Annotated[int, Field(ge=1, le=MAX_RUNS)]
        seed: Annotated[int, Field(ge=0, le=2**63 - 1)]
        scenario: RecordedScenario
        outcomes: dict[str, Any]
        command: list[str] | None = None
        versions: dict[str, Any] | None = None
        git_commit: str | None = None

    return RunRecord


def validated(path: Path, text: str, data: dict[str, Any]) -> Record:
    """``data`` checked against ``record_model``: the first problem, as one line."""
    from pydantic import ValidationError

    try:
        found = record_model().model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        raise ScenarioError(f"{path}:{key_line(text, loc)}: {dotted(loc)}: "
                            f"{problem(error)}") from None
    entry = found.scenario
    return Record(path, text, data, found.runs, found.seed, entry.path, entry.content,
                  entry.sha256, entry.resolved, found.command)


def problem(error: Any) -> str:
    """A pydantic error of the record in the command line's words."""
    kind, key, value = error["type"], error["loc"][-1], error.get("input")
    if kind == "missing":
        return "missing"
    if kind in ("greater_than_equal", "less_than_equal") and key in BOUNDS:
        return f"must be {BOUNDS[key]} (got {shown(value)})"
    if kind in EXPECTED:
        return f"not {EXPECTED[kind]}: {shown(value)}"
    if kind == "string_too_long":
        return f"longer than {error['ctx']['max_length']:,} characters"
    return str(error["msg"])


def shown(value: Any) -> str:
    """A value of the record as the file spells it, cut short."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def dotted(loc: tuple[str | int, ...]) -> str:
    """``("command", 1)`` → ``command[1]``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") \
        or "(top level)"


def key_line(text: str, loc: tuple[str | int, ...]) -> int:
    """The line of ``loc``'s deepest key present in the JSON ``text`` (already parsed, so
    well formed); a missing key is placed at its parent's. Values are skipped by json's
    own decoder, so this costs little even on a large record."""
    pos, at = _skip(text, 0), 0
    for part in loc:
        found = _member(text, pos, part)
        if found is None:
            break
        at, pos = found
    return text.count("\n", 0, at) + 1


def _member(text: str, pos: int, part: str | int) -> tuple[int, int] | None:
    """Where the key (or item) ``part`` of the object (or array) at ``pos`` is, and where
    its value starts; None if it has none. Of duplicate keys, the last (as json keeps)."""
    found = None
    if text.startswith("{", pos) and isinstance(part, str):
        pos = _skip(text, pos + 1)
        while text.startswith('"', pos):
            key, end = _DECODER.raw_decode(text, pos)
            value = _skip(text, _skip(text, end) + 1)  # past the colon
            if key == part:
                found = pos, value
            pos = _next(text, value)
    elif text.startswith("[", pos) and isinstance(part, int):
        pos = _skip(text, pos + 1)
        for _ in range(part):
            if text.startswith("]", pos):
                return None
            pos = _next(text, pos)
        found = None if text.startswith("]", pos) else (pos, pos)
    return found


def _next(text: str, pos: int) -> int:
    """Past the value at ``pos`` and its comma: the next key or item, or the closing bracket."""
    pos = _skip(text, _DECODER.raw_decode(text, pos)[1])
    return _skip(text, pos + 1) if text.startswith(",", pos) else pos


def _skip(text: str, pos: int) -> int:
    """The first position at or after ``pos`` that is not JSON whitespace."""
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def file_sha256(path: Path) -> str | None:
    """The sha256 of ``path`` if it is a regular file within the scenario cap, else None:
    a pipe would block, a device or a huge file would be read for ever, and none of them
    can be the scenario that ran."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = read_bounded(fd, MAX_FILE_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)
    return hashlib.sha256(data).hexdigest() if len(data) <= MAX_FILE_BYTES else None


def recorded_scenario(record: Record, notes: list[str]) -> Any:
    """The scenario that ran, from the recorded text; ``notes`` say what on disk differs."""
    from sim.scenario.loading import parse_scenario

    content, source = record.content, record.path or "<recorded scenario>"
    if hashlib.sha256(content.encode("utf-8")).hexdigest() != record.sha256:
        notes.append("the recorded scenario text does not match its recorded sha256 "
                     "(edited by hand?)")
    note = disk_note(record.path, record.sha256) if record.path else None  # None: as text
    notes += [note] if note else []
    try:
        scenario = parse_scenario(content, source)  # a relative extends: from source's folder
    except ScenarioError as exc:
        if record.resolved is None:
            raise record.refuse(("scenario", "content"),
                                f"the recorded scenario does not load: {exc}") from None
        notes.append(f"the recorded text no longer loads ({exc}); replaying the scenario "
                     "as it was resolved then")
        return resolved_scenario(record)
    if record.resolved is not None and \
            json.loads(scenario.model_dump_json()) != record.resolved:
        notes.append("the recorded text now resolves to a different scenario (a file it "
                     "extends, or a default of the schema, changed); replaying the scenario "
                     "as it was resolved then")
        return resolved_scenario(record)
    return scenario


def disk_note(source: str, sha256: str | None) -> str | None:
    """What the scenario file named in the record is like now, if not as it ran."""
    if not os.path.exists(source):  # also False for a name the system cannot look up
        return f"{source} is not found from here; replaying the recorded text"
    digest = file_sha256(Path(source))
    if digest is None:
        return (f"{source} is not a scenario file that can be read from here; replaying the "
                "recorded text")
    if digest != sha256:
        return f"{source} has changed since this run; replaying the recorded text, not the " \
               "file on disk"
    return None


def resolved_scenario(record: Record) -> Any:
    """The validated scenario recorded beside the text, validated again (it may be edited)."""
    from pydantic import ValidationError

    from sim.scenario.schema import Scenario

    try:
        return Scenario.model_validate(record.resolved)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise record.refuse(("scenario", "resolved"), "does not validate as a scenario "
                            f"({dotted(tuple(error['loc']))}: {error['msg']})") from None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaves: ``outcomes.sale.count`` → 1510."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, item in value.items():
            found.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return found
    if isinstance(value, list) and value and all(isinstance(v, int | float) for v in value):
        return {f"{prefix}[{i}]": v for i, v in enumerate(value)}
    return {prefix: value}


def differences(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """One line per number that differs between two summaries' results."""
    old = flatten({k: recorded.get(k) for k in NUMBERS})
    new = flatten({k: now.get(k) for k in NUMBERS})
    lines = []
    for key in [*old, *(k for k in new if k not in old)]:
        if old.get(key, "(absent)") != new.get(key, "(absent)"):
            lines.append(f"{key}: recorded {old.get(key, '(absent)')}, "
                         f"now {new.get(key, '(absent)')}")
    return lines


def likely_causes(recorded: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What changed in the software between the run and the replay."""
    causes = []
    old_v, new_v = recorded.get("versions") or {}, now.get("versions") or {}
    changed = [f"{name} {old_v.get(name)} → {new_v.get(name)}"
               for name in sorted(set(old_v) | set(new_v)) if old_v.get(name) != new_v.get(name)]
    if changed:
        causes.append("package versions differ: " + ", ".join(changed))
    old_c, new_c = recorded.get("git_commit"), now.get("git_commit")
    if old_c != new_c:
        causes.append(f"the code differs: git commit {old_c} → {new_c}")
    elif old_c and str(old_c).endswith("-dirty"):
        causes.append(f"the run was made from uncommitted code ({old_c}), which may have "
                      "changed since")
    return causes


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    record = read_record(args.summary)
    from sim import api
    from sim.files import plain
    from sim.provenance import git_commit, versions

    notes: list[str] = []
    scenario = recorded_scenario(record, notes)
    runs, seed = record.runs, record.seed
    print(printable(f"replaying {args.summary}: {scenario.name} — {runs:,} runs, seed {seed}"))
    if record.command:
        print(f"  recorded command: {printable(' '.join(record.command))}")
    for note in notes:
        print(f"  note: {printable(note)}")
    run = api.run(scenario, runs, seed, workers=args.workers, progress=not args.quiet)
    now = json.loads(json.dumps(plain({"runs": runs, "seed": seed,
                                       **api.summarise(run).numbers(),
                                       "versions": versions(), "git_commit": git_commit()})))
    found = differences(record.data, now)
    if not found:
        count = len(flatten({k: record.data.get(k) for k in NUMBERS}))
        print(f"identical: all {count} recorded numbers match (outcome counts, probabilities "
              "and intervals, unresolved states, time quantiles, buyers, prices, extensions, "
              "forbearances, dark days, suits, injunctions, regime changes)")
        return 0
    many = "numbers differ" if len(found) > 1 else "number differs"
    print(f"DIFFERENT: {len(found)} recorded {many}", file=sys.stderr)
    for line in found[:SHOWN]:
        print(f"  {printable(line)}", file=sys.stderr)
    if len(found) > SHOWN:
        print(f"  … and {len(found) - SHOWN} more", file=sys.stderr)
    causes = likely_causes(record.data, now)
    print("  likely cause: " + printable("; ".join(causes) if causes else
                                         "none recorded (same package versions and commit): "
                                         "please report it, the model should be "
                                         "deterministic"), file=sys.stderr)
    return 1
