"""A backtest's folder: ``backtest.csv`` (one row per forecast), ``backtest_by_kind.csv``,
the figures and, last, ``summary.json`` with the sha256 of every scenario file used."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.analysis.backtest import ALL, SMOOTHING, Case, Scored, by_kind, horizon_date, skill
from sim.files import atomic_write_json, atomic_write_text
from sim.model.outcome import OUTCOMES
from sim.outputs.safe import csv_cell, read_regular
from sim.provenance import git_commit, versions
from sim.scenario.yaml_tree import EXTENDS, MAX_EXTENDS_DEPTH

SUMMARY_FORMAT = 2  # 2: four outcomes, scores by kind

SCORES = ["brier_model", "brier_base", "brier_kind", "log_model", "log_base", "log_kind"]
CSV_COLUMNS = [
    "file", "case", "name", "start", "horizon_date", "actual", "actual_state", "actual_date",
    "scored_outcome", "kind", "runs", "seed",
    *(f"{prefix}_{o}" for prefix in ("runs", "p", "base", "kind") for o in OUTCOMES),
    *SCORES]
KIND_COLUMNS = ["group", "weighting", "n", *SCORES,
                *(f"{m}_{o}" for o in OUTCOMES for m in ("forecast", "observed", "difference"))]


def csv_rows(scored: Sequence[Scored], runs: int, seed: int) -> list[dict[str, Any]]:
    rows = []
    for s in scored:
        sc, a = s.case.scenario, s.case.scenario.actual
        assert a is not None
        row: dict[str, Any] = {
            "file": s.case.path.as_posix(), "case": s.case.case_id, "name": sc.name,
            "start": sc.start.isoformat(), "horizon_date": horizon_date(sc).isoformat(),
            "actual": a.outcome, "actual_state": a.state or "",
            "actual_date": a.date.isoformat(), "scored_outcome": OUTCOMES[s.case.scored],
            "kind": s.case.kind or "", "runs": runs, "seed": seed}
        kind = s.kind_base if s.kind_base is not None else [math.nan] * len(OUTCOMES)
        for prefix, values in (("runs", s.counts), ("p", s.model), ("base", s.base),
                               ("kind", kind)):
            row.update({f"{prefix}_{o}": _cell(v, integer=prefix == "runs")
                        for o, v in zip(OUTCOMES, values, strict=True)})
        row.update({k: _cell(v) for k, v in s.scores().items()})
        rows.append(row)
    return rows


def kind_rows(groups: dict[str, dict[str, dict[str, float]]]) -> list[dict[str, Any]]:
    """``by_kind`` as table rows: one per group and weighting (by case, by forecast)."""
    return [{"group": group, "weighting": weighting,
             **{k: _cell(v, integer=k == "n") for k, v in means.items()}}
            for group, found in groups.items() for weighting, means in found.items()]


def _cell(value: float, integer: bool = False) -> Any:
    if integer:
        return int(value)
    return "" if math.isnan(value) else round(float(value), 6)


def write_csv(path: Path, rows: Sequence[dict[str, Any]],
              columns: Sequence[str] = CSV_COLUMNS) -> None:
    """The rows as CSV, a text cell a spreadsheet would run as a formula (a case named
    ``=1+1``) written with a leading ``'``."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    atomic_write_text(path, buffer.getvalue())


def _parent(path: Path, text: str) -> Path | None:
    """The file a scenario text ``extends`` (relative to ``path``'s folder), or None."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    parent = data.get(EXTENDS) if isinstance(data, dict) else None
    return path.parent / parent if isinstance(parent, str) and parent else None


def scenario_files(case: Case) -> dict[str, str | None]:
    """The sha256 of a case's file and of every file it extends, by resolved path. The
    case's own is of the text that ran (the file may have changed or gone since); a file
    it extends is read again, only if it is still a regular file (else None: not read)."""
    path = case.path
    found: dict[str, str | None] = {str(path.resolve()): case.scenario.source.sha256}
    parent = _parent(path, case.scenario.source.text)
    while parent is not None and len(found) <= MAX_EXTENDS_DEPTH:
        try:
            key = str(parent.resolve())
        except (OSError, RuntimeError):  # a link loop: nothing more to record
            break
        if key in found:
            break
        data = read_regular(parent)
        found[key] = None if data is None else hashlib.sha256(data).hexdigest()
        parent = None if data is None else _parent(parent, data.decode("utf-8", "replace"))
    return found


def summary(scored: Sequence[Scored], rows: Sequence[dict[str, Any]], runs: int, seed: int,
            workers: int, command: list[str], files: list[str]) -> dict[str, Any]:
    used = {k: v for s in scored for k, v in scenario_files(s.case).items()}
    groups = by_kind(scored)
    means = groups[ALL]
    return {
        "format": SUMMARY_FORMAT,
        "runs": runs, "seed": seed, "workers": workers, "command": command,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "smoothing": SMOOTHING,
        "overall": means,
        "by_kind": groups,  # the same per kind of case, and for all cases ("all")
        "skill_by_case": {
            "brier": skill(means["cases"]["brier_model"], means["cases"]["brier_base"]),
            "log": skill(means["cases"]["log_model"], means["cases"]["log_base"]),
            "brier_vs_kind": skill(means["cases"]["brier_model"], means["cases"]["brier_kind"]),
            "log_vs_kind": skill(means["cases"]["log_model"], means["cases"]["log_kind"])},
        "forecasts": list(rows),
        "scenario_files": dict(sorted(used.items(), key=lambda item: Path(item[0]))),
        "files": files,
        "versions": versions(),
        "git_commit": git_commit(),
    }


def write_backtest(scored: Sequence[Scored], runs: int, seed: int, workers: int, out: Path,
                   figures: bool = True, command: list[str] | None = None) -> dict[str, Any]:
    """Write the tables, the figures and, last, ``summary.json``; return what it holds."""
    rows = csv_rows(scored, runs, seed)
    write_csv(out / "backtest.csv", rows)
    write_csv(out / "backtest_by_kind.csv", kind_rows(by_kind(scored)), KIND_COLUMNS)
    written = ["backtest.csv", "backtest_by_kind.csv"]
    if figures:
        from sim.outputs.figures import backtest as backtest_figures  # matplotlib when wanted

        written += [p.name for p in backtest_figures.draw_all(scored, runs, seed, out)]
    data = summary(scored, rows, runs, seed, workers, command or [], written)
    atomic_write_json(out / "summary.json", data)
    return data
