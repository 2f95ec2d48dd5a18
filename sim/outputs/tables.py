"""``replications.csv``: one row per replication, codes spelled out for its readers.

The table is formatted a chunk of rows at a time, so what it costs beyond its own bytes
is one chunk's strings, not a string per cell of the whole run (over a kilobyte a
replication, the table's text and then its bytes). A text cell a spreadsheet would run
as a formula (a bidder named ``=2+3``) is written with a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sim.files import atomic_write_chunks
from sim.outputs.safe import csv_cell
from sim.running.results import Results, Run

CHUNK_ROWS = 2_000  # rows formatted at a time: a few MB of cells


def _formatted(column: np.ndarray) -> np.ndarray:
    """One column's cells as text: numbers to 10 significant digits, booleans as 0/1."""
    if column.dtype == np.bool_:
        return column.astype(int).astype(str)
    if column.dtype.kind == "f":
        return np.char.mod("%.10g", column)
    return column.astype(str)


def _chunks(run: Run) -> Iterator[str]:
    """The table's text, the header and then ``CHUNK_ROWS`` rows at a time."""
    names = [csv_cell(name) for name in run.bidders]  # the winner column spells them
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = run.results.columns
    writer.writerow(["replication", *(csv_cell(name) for name in columns)])
    for first in range(0, len(run.results), CHUNK_ROWS):
        part = Results({k: v[first:first + CHUNK_ROWS] for k, v in columns.items()})
        formatted = [_formatted(c) for c in part.spelled(names).values()]
        for i, row in enumerate(zip(*formatted, strict=True), start=first):
            writer.writerow([i, *(("" if v == "nan" else v) for v in row)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if not len(run.results):
        yield buffer.getvalue()


def replications_csv(run: Run) -> str:
    """The table as text: numbers to 10 significant digits, booleans as 0/1, missing empty."""
    return "".join(_chunks(run))


def write_replications(run: Run, path: Path) -> Path:
    """The table, written atomically chunk by chunk (``sim.files``, the one writer of
    files): never held whole, as text or as bytes."""
    atomic_write_chunks(path, (chunk.encode("utf-8") for chunk in _chunks(run)))
    return path
