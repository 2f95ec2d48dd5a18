"""``run.py replay results/<…>/summary.json``: run a finished run again from its record and
confirm that every number is identical, or say which differ and the likely cause.

The scenario comes from the text recorded in ``summary.json``, not from the file on disk,
which may have changed or gone since (a note says so). If that text no longer resolves to
the scenario that ran (a file it ``extends`` changed, or the schema's defaults), the
validated scenario recorded beside it is used instead, also with a note. Exit code 0 when
identical, 1 when not, 2 when the record cannot be replayed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from sim.commands import options
from sim.commands.options import program
from sim.errors import ScenarioError

# The results of a run, as summary.json records them: what a replay must reproduce.
NUMBERS = ("runs", "seed", "outcomes", "unresolved_by_state", "days_to_resolution", "winners",
           "sale_parent_keeps_control",
           "price_bn_given_sale", "stake_price_bn_given_sale", "extensions_mean",
           "forbearances_mean", "days_dark_mean", "dark", "injunction", "suit", "regime_change",
           "inputs_sampled")
SHOWN = 12  # differences listed before "… and N more"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
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


def read_record(path: Path) -> dict[str, Any]:
    """The summary.json of a run, checked to hold what a replay needs."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(record, dict) or "outcomes" not in record:
        kind = "a sweep's record" if isinstance(record, dict) and "sweep" in record else \
            "not a run's summary.json"
        raise ScenarioError(f"{path}: {kind} (replay takes the summary.json of a run; "
                            "rerun a sweep with its recorded command)")
    scenario = record.get("scenario") or {}
    if "content" not in scenario:
        raise ScenarioError(f"{path}: records no scenario content (written by an older "
                            "dealsim); run it again to get a replayable record")
    return record


def recorded_scenario(record: dict[str, Any], notes: list[str]) -> Any:
    """The scenario that ran, from the recorded text; ``notes`` say what on disk differs."""
    from sim.scenario.loading import parse_scenario
    from sim.scenario.schema import Scenario

    entry = record["scenario"]
    content, source = entry["content"], entry["path"]
    if hashlib.sha256(content.encode("utf-8")).hexdigest() != entry.get("sha256"):
        notes.append("the recorded scenario text does not match its recorded sha256 "
                     "(edited by hand?)")
    disk = Path(source) if source else None
    if disk is None:
        source = "<recorded scenario>"  # it was given as text, not read from a file
    elif not disk.is_file():
        notes.append(f"{source} is not found from here; replaying the recorded text")
    elif hashlib.sha256(disk.read_bytes()).hexdigest() != entry.get("sha256"):
        notes.append(f"{source} has changed since this run; replaying the recorded text, "
                     "not the file on disk")
    resolved = entry.get("resolved")
    try:
        scenario = parse_scenario(content, source)  # a relative extends: from source's folder
    except ScenarioError as exc:
        if resolved is None:
            raise
        notes.append(f"the recorded text no longer loads ({exc}); replaying the scenario "
                     "as it was resolved then")
        return Scenario.model_validate(resolved)
    if resolved is not None and json.loads(scenario.model_dump_json()) != resolved:
        notes.append("the recorded text now resolves to a different scenario (a file it "
                     "extends, or a default of the schema, changed); replaying the scenario "
                     "as it was resolved then")
        return Scenario.model_validate(resolved)
    return scenario


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
    runs, seed = int(record["runs"]), int(record["seed"])
    print(f"replaying {args.summary}: {scenario.name} — {runs:,} runs, seed {seed}")
    if record.get("command"):
        print(f"  recorded command: {' '.join(record['command'])}")
    for note in notes:
        print(f"  note: {note}")
    run = api.run(scenario, runs, seed, workers=args.workers, progress=not args.quiet)
    now = json.loads(json.dumps(plain({"runs": runs, "seed": seed,
                                       **api.summarise(run).numbers(),
                                       "versions": versions(), "git_commit": git_commit()})))
    found = differences(record, now)
    if not found:
        count = len(flatten({k: record.get(k) for k in NUMBERS}))
        print(f"identical: all {count} recorded numbers match (outcome counts, probabilities "
              "and intervals, unresolved states, time quantiles, buyers, prices, extensions, "
              "forbearances, dark days, suits, injunctions, regime changes)")
        return 0
    many = "numbers differ" if len(found) > 1 else "number differs"
    print(f"DIFFERENT: {len(found)} recorded {many}", file=sys.stderr)
    for line in found[:SHOWN]:
        print(f"  {line}", file=sys.stderr)
    if len(found) > SHOWN:
        print(f"  … and {len(found) - SHOWN} more", file=sys.stderr)
    causes = likely_causes(record, now)
    print("  likely cause: " + ("; ".join(causes) if causes else
                                "none recorded (same package versions and commit): please "
                                "report it, the model should be deterministic"),
          file=sys.stderr)
    return 1
