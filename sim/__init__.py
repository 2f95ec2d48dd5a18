"""dealsim: how a government-ordered sale ends — sale, shutdown, abandoned or unresolved.

The Python API (``sim.api``), importable from here; loaded on first use, so that
``import sim`` and the command line's ``--help`` stay instant::

    import sim
    scenario = sim.load("scenarios/oracle.yaml")      # or YAML text, or a dict
    run = sim.run(scenario, runs=2000, seed=7)
    sim.summarise(run).outcomes["sale"]               # probability with its interval
    run.to_pandas()                                   # one row per replication
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.2.0"

_API = ("DEFAULT_RUNS", "DEFAULT_SEED", "Backtest", "Comparison", "Run", "RunSummary",
        "Scenario", "ScenarioError", "Sweep", "SweepResult", "backtest", "compare", "load",
        "run", "save", "summarise", "sweep", "tell", "vary", "written")
__all__ = [*_API, "__version__"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module("sim.api"), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
