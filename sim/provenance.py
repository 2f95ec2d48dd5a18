"""Where an output came from: the scenario file's hash, package versions, the git commit."""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.scenario.schema import Scenario


PACKAGES = ("dealsim", "simpy", "numpy", "scipy", "matplotlib", "pydantic", "pyyaml")


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


@functools.cache
def model_hash() -> str:
    """A hash of the code that turns a scenario and seed into results (the scenario,
    model and running packages and dealsim's version): saved work is reused only by the
    code that made it, so an upgrade never mixes two versions' replications."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(str(versions().get("dealsim")).encode())
    for folder in ("scenario", "model", "running"):
        for path in sorted((root / folder).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def git_commit() -> str | None:
    """The commit of the dealsim checkout, with ``-dirty`` if it has uncommitted changes."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=here, capture_output=True, text=True, timeout=5,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def scenario_record(scenario: Scenario) -> dict[str, Any]:
    """The scenario for the record, as read: where from, the sha256 and text of what was
    read (a replay needs nothing on disk, which may have changed or gone since) and the
    validated scenario it resolved to (``extends`` merged, defaults filled in), as JSON
    that validates back."""
    source = scenario.source
    return {"path": source.path, "sha256": source.sha256, "content": source.text,
            "resolved": json.loads(scenario.model_dump_json())}
