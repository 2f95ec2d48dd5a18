"""Results: one numpy column per field of ``Outcome`` plus the varying sampled inputs.

Columns, not rows of objects, so a million replications stay small and every statistic is
one vectorised expression. ``input.<key>`` columns keep what each replication drew, so
later analysis can ask which inputs lead to shutdown. In ``replications.csv`` the codes are
spelled out: outcome, winner, structure, technology and state (where an unresolved run stood at the
horizon; empty for a resolved one) by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.files import atomic_write_bytes
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
        columns: dict[str, np.ndarray] = {name: table[:, i].astype(dtype)
                                          for i, (name, dtype) in enumerate(DTYPES.items())}
        # a copy of each input's column: a view would keep the block's whole matrix of
        # draws (every input and latent uniform, some 700 bytes a replication) alive
        columns.update({INPUT_PREFIX + k: np.array(v, dtype=float) for k, v in inputs.items()})
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

    def spelled(self, bidder_names: Sequence[str]) -> dict[str, np.ndarray]:
        """The coded columns by name, for readers (outcome, winner, structure, technology;
        state is "" for a resolved run); every other column as it is."""
        names = {"outcome": OUTCOMES, "winner": (*bidder_names, ""),
                 "structure": (*STRUCTURES, ""), "technology": (*TECHNOLOGIES, ""),
                 "state": STATES}  # a code of -1 picks the trailing "": none
        return {n: np.array(names[n], dtype=object)[c] if n in names else c
                for n, c in self.columns.items()}


class Gathering:
    """A run's columns, allocated for all its replications and filled block by block as
    the blocks arrive, so a block is dropped once copied in: the run is held once, where
    joining the blocks at the end (``Results.concat``) held it twice. The same columns,
    dtypes and values as ``concat`` of the same blocks.

    ``expected`` replications are allocated at the first block; an adaptive run, which may
    stop early, expects fewer and the columns double when full (up to ``most``)."""

    def __init__(self, expected: int, most: int | None = None) -> None:
        self.expected, self.most = expected, max(expected, most or expected)
        self.columns: dict[str, np.ndarray] = {}
        self.size = 0

    def add(self, part: Results) -> None:
        if not self.columns:
            self.columns = {n: np.empty(self.expected, dtype=c.dtype)
                            for n, c in part.columns.items()}
        if part.columns.keys() != self.columns.keys():
            raise ValueError("a block with other columns than the run's first")
        end = self.size + len(part)
        if end > len(self.columns["outcome"]):
            self._grow(end)
        for name, column in part.columns.items():
            self.columns[name][self.size:end] = column
        self.size = end

    def _grow(self, needed: int) -> None:
        capacity = min(max(needed, 2 * len(self.columns["outcome"])), max(needed, self.most))
        for name, old in self.columns.items():
            new = np.empty(capacity, dtype=old.dtype)
            new[:self.size] = old[:self.size]
            self.columns[name] = new

    def results(self) -> Results:
        """What is in so far, as views (nothing copied)."""
        return Results({n: c[:self.size] for n, c in self.columns.items()})

    def finished(self) -> Results:
        """The run: its columns as allocated when full, else trimmed copies (an adaptive
        run that stopped early keeps no room it did not use)."""
        if self.size == len(self.columns["outcome"]):
            return Results(self.columns)
        return Results({n: c[:self.size].copy() for n, c in self.columns.items()})


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

    def to_pandas(self) -> Any:
        """One row per replication as a ``pandas.DataFrame``: the coded columns as
        categoricals (a resolved run's ``state`` and a no-sale ``winner`` are missing),
        ``date`` (the day of resolution) and ``agreement_date`` as datetimes, and every
        sampled input as ``input.<key>``. Needs the ``notebook`` extra (pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_pandas needs pandas: pip install 'dealsim[notebook]'") \
                from None
        categories: dict[str, list[str] | tuple[str, ...]] = {
            "outcome": OUTCOMES, "winner": self.bidders, "structure": STRUCTURES,
            "technology": TECHNOLOGIES, "state": STATES[1:]}
        frame = pd.DataFrame(self.results.spelled(self.bidders))
        for name, allowed in categories.items():
            frame[name] = pd.Categorical(frame[name].replace("", None), categories=allowed)
        start = pd.Timestamp(self.scenario.start)
        for days, date in (("day", "date"), ("agreement_day", "agreement_date")):
            # the column names are unique: the position of the one named, as an int
            frame.insert(list(frame.columns).index(days) + 1, date,
                         start + pd.to_timedelta(frame[days], unit="D"))
        frame.index.name = "replication"
        return frame

    def to_parquet(self, path: Path | str) -> Path:
        """``to_pandas()`` as a Parquet file (pyarrow), written atomically, with the
        scenario's name, sha256 and the seed in the file's metadata."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(self.to_pandas())
        meta = {**(table.schema.metadata or {}), b"dealsim.scenario": self.scenario.name.encode(),
                b"dealsim.sha256": self.scenario.source.sha256.encode(),
                b"dealsim.seed": str(self.seed).encode()}
        sink = pa.BufferOutputStream()
        pq.write_table(table.replace_schema_metadata(meta), sink)
        atomic_write_bytes(Path(path), sink.getvalue().to_pybytes())
        return Path(path)
