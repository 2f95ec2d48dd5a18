"""Finished blocks of replications on disk, so an interrupted run loses nothing.

Each block is saved atomically as it finishes, under a key of (scenario, seed, the code
that ran it): a rerun with ``--resume`` loads the blocks it already has and computes only
the rest, ending with exactly the results of an uninterrupted run, because a block
depends only on (scenario, seed, block index). A block that cannot be read back (a
damaged file) is computed again: it is only saved time.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import numpy as np

from sim.files import atomic_write_bytes
from sim.provenance import model_hash
from sim.running.results import Results
from sim.scenario.schema import Scenario


class BlockStore:
    def __init__(self, folder: Path, scenario: Scenario, seed: int) -> None:
        text = f"{scenario.model_dump_json()}|{seed}|{model_hash()}"
        self.folder = folder / hashlib.sha256(text.encode()).hexdigest()[:16]

    def _path(self, block: int, n: int) -> Path:
        return self.folder / f"block-{block:06d}-n{n}.npz"

    def load(self, block: int, n: int) -> Results | None:
        path = self._path(block, n)
        if not path.is_file() or path.is_symlink():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                columns = {name: data[name] for name in data.files}
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
            columns = {}
        if "outcome" not in columns or any(c.shape[:1] != (n,) for c in columns.values()):
            path.unlink(missing_ok=True)
            return None
        return Results(columns)

    def save(self, block: int, part: Results) -> None:
        buffer = io.BytesIO()
        # allow_pickle is savez's default, named so no column is taken for it
        np.savez(buffer, allow_pickle=True, **part.columns)
        atomic_write_bytes(self._path(block, len(part)), buffer.getvalue())

    def count(self) -> int:
        return len(list(self.folder.glob("block-*.npz"))) if self.folder.exists() else 0

    def count_all(self) -> int:
        """Saved blocks of any run in the folder: this one's or another scenario's, seed's
        or version's."""
        root = self.folder.parent
        return len(list(root.glob("*/block-*.npz"))) if root.is_dir() else 0

    def clear(self) -> None:
        shutil.rmtree(self.folder.parent, ignore_errors=True)
