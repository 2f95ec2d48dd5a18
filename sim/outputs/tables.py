"""``replications.csv``: one row per replication, codes spelled out for its readers."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from sim.files import atomic_write_text
from sim.running.results import Run


def replications_csv(run: Run) -> str:
    """The table as text: numbers to 10 significant digits, booleans as 0/1, missing empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = run.results.spelled(run.bidders)
    writer.writerow(["replication", *columns])
    formatted = [c.astype(int).astype(str) if c.dtype == np.bool_
                 else np.char.mod("%.10g", c) if c.dtype.kind == "f" else c.astype(str)
                 for c in columns.values()]
    for i, row in enumerate(zip(*formatted, strict=True)):
        writer.writerow([i, *(("" if v == "nan" else v) for v in row)])
    return buffer.getvalue()


def write_replications(run: Run, path: Path) -> Path:
    atomic_write_text(path, replications_csv(run))
    return path
