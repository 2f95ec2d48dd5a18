"""Finished blocks of replications on disk, so an interrupted run loses nothing.

Each block is saved atomically as it finishes, under a key of (scenario, seed): a rerun
with ``--resume`` loads the blocks it already has and computes only the rest, ending
with exactly the results of an uninterrupted run, because a block depends only on
(scenario, seed, block index).
"""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import numpy as np

from sim.files import atomic_write_bytes
from sim.running.results import Results
from sim.scenario.schema import Scenario


class BlockStore:
    def __init__(self, folder: Path, scenario: Scenario, seed: int) -> None:
        key = hashlib.sha256(f"{scenario.model_dump_json()}|{seed}".encode()).hexdigest()[:16]
        self.folder = folder / key

    def _path(self, block: int, n: int) -> Path:
        return self.folder / f"block-{block:06d}-n{n}.npz"

    def load(self, block: int, n: int) -> Results | None:
        path = self._path(block, n)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            return Results({name: data[name] for name in data.files})

    def save(self, block: int, part: Results) -> None:
        buffer = io.BytesIO()
        # allow_pickle is savez's default, named so no column is taken for it
        np.savez(buffer, allow_pickle=True, **part.columns)
        atomic_write_bytes(self._path(block, len(part)), buffer.getvalue())

    def count(self) -> int:
        return len(list(self.folder.glob("block-*.npz"))) if self.folder.exists() else 0

    def clear(self) -> None:
        shutil.rmtree(self.folder.parent, ignore_errors=True)
