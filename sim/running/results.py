"""Results: one numpy column per field of ``Outcome`` plus the varying sampled inputs.

Columns, not rows of objects, so a million replications stay small and every statistic is
one vectorised expression. ``input.<key>`` columns keep what each replication drew, so
later analysis can ask which inputs lead to shutdown. In ``replications.csv`` the codes are
spelled out: outcome, winner, structure, technology and state (where an unresolved run stood at the
horizon; empty for a resolved one) by name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.files import atomic_write_text
from sim.model.outcome import OUTCOMES, STATES, Outcome
from sim.scenario.schema import STRUCTURES, TECHNOLOGIES, DueDate, Scenario

DTYPES: dict[str, type] = {
    "outcome": np.int8, "day": np.float64, "winner": np.int16, "price_bn": np.float64,
    "stake_price_bn": np.float64, "structure": np.int8, "parent_stake": np.float64,
    "technology": np.int8, "state": np.int8,
    "days_dark": np.float64, "extensions": np.int16, "forbearances": np.int16,
    "injunction": np.bool_, "suits": np.int16, "regime_change": np.bool_,
    "phases": np.int8, "home_approved": np.int8, "agreement_day": np.float64,
    "agreement_vs_deadline": np.float64, "deals_signed": np.int8, "refilings": np.int8,
    "mitigation_rounds": np.int8,
}
assert tuple(DTYPES) == Outcome._fields
INPUT_PREFIX = "input."


@dataclass(frozen=True)
class Results:
    columns: dict[str, np.ndarray]

    @classmethod
    def from_rows(cls, rows: Sequence[Outcome], inputs: dict[str, np.ndarray]) -> Results:
        table = np.array(rows, dtype=float).reshape(len(rows), len(DTYPES))
        columns = {name: table[:, i].astype(dtype)
                   for i, (name, dtype) in enumerate(DTYPES.items())}
        columns.update({INPUT_PREFIX + k: np.asarray(v, dtype=float) for k, v in inputs.items()})
        return cls(columns)

    @classmethod
    def concat(cls, parts: Sequence[Results]) -> Results:
        names = parts[0].columns.keys()
        return cls({n: np.concatenate([p.columns[n] for p in parts]) for n in names})

    def __len__(self) -> int:
        return len(self.columns["outcome"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    @property
    def input_names(self) -> list[str]:
        return [n.removeprefix(INPUT_PREFIX) for n in self.columns if n.startswith(INPUT_PREFIX)]

    def to_csv(self, path: Path, bidder_names: Sequence[str]) -> None:
        """The per-replication table, with codes spelled out for readers of the CSV."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        names = list(self.columns)
        writer.writerow(["replication", *names])
        outcome = np.array(OUTCOMES)[self["outcome"]]
        winner = np.array([*bidder_names, ""], dtype=object)[self["winner"]]
        structure = np.array([*STRUCTURES, ""], dtype=object)[self["structure"]]
        technology = np.array([*TECHNOLOGIES, ""], dtype=object)[self["technology"]]
        state = np.array(STATES, dtype=object)[self["state"]]  # STATES[0] is "": resolved
        spelled = {"outcome": outcome, "winner": winner, "structure": structure,
                   "technology": technology, "state": state}
        cols = [spelled.get(n, self.columns[n]) for n in names]
        formatted = [c.astype(int).astype(str) if c.dtype == np.bool_
                     else np.char.mod("%.10g", c) if c.dtype.kind == "f" else c.astype(str)
                     for c in cols]
        for i, row in enumerate(zip(*formatted, strict=True)):
            writer.writerow([i, *(("" if v == "nan" else v) for v in row)])
        atomic_write_text(path, buffer.getvalue())


def due_words(due: DueDate) -> str:
    """What an instrument's due date is, in words for figures and pages: "service ban, dark"."""
    return due.kind.replace("_", " ") + (", dark" if due.dark else "")


@dataclass(frozen=True)
class Run:
    """A finished Monte Carlo run and what made it."""

    scenario: Scenario
    path: Path
    results: Results
    seed: int
    workers: int

    def date(self, day: float | None) -> str | None:
        return None if day is None else self.scenario.date_of(day).isoformat()

    @property
    def bidders(self) -> list[str]:
        return [b.name for b in self.scenario.suitors]
