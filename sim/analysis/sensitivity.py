"""Which inputs matter: Sobol' indices (SALib) and one-at-a-time swings for a tornado.

Every point of a design is a full Monte Carlo estimate on common random numbers, so the
indices measure how the *probabilities* respond to the inputs, not replication noise.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np

from sim.errors import ScenarioError

SOBOL_SEED = 20200914  # scrambling and bootstrap seed: fixed so the analysis replays exactly


def require_salib() -> None:
    """SALib is in the optional ``sweep`` extra: without it, one line saying how to get it
    (before any point runs), not an import traceback."""
    if importlib.util.find_spec("SALib") is None:
        raise ScenarioError("the sobol design needs SALib (the sweep extra): "
                            "pip install -e '.[sweep]'")


def problem(names: list[str], bounds: list[tuple[float, float]]) -> dict[str, object]:
    return {"num_vars": len(names), "names": names, "bounds": [list(b) for b in bounds]}


def sobol_design(names: list[str], bounds: list[tuple[float, float]],
                 base_samples: int) -> np.ndarray:
    """Saltelli's extension of a Sobol' sequence: ``base_samples × (d + 2)`` points."""
    require_salib()
    from SALib.sample import sobol

    return sobol.sample(problem(names, bounds), base_samples, calc_second_order=False,
                        scramble=True, seed=SOBOL_SEED)


@dataclass(frozen=True)
class SobolIndices:
    output: str
    names: list[str]
    first: np.ndarray
    first_conf: np.ndarray  # half-width of the 95% bootstrap interval
    total: np.ndarray
    total_conf: np.ndarray


def sobol_indices(names: list[str], bounds: list[tuple[float, float]], output: str,
                  y: np.ndarray) -> SobolIndices:
    from SALib.analyze import sobol

    si = sobol.analyze(problem(names, bounds), np.asarray(y, dtype=float),
                       calc_second_order=False, conf_level=0.95, seed=SOBOL_SEED)
    return SobolIndices(output, names, si["S1"], si["S1_conf"], si["ST"], si["ST_conf"])


@dataclass(frozen=True)
class Swing:
    """An output at an input's low and high end, the others at their base values."""

    name: str
    low_value: float
    high_value: float
    at_low: float
    at_high: float

    @property
    def width(self) -> float:
        return abs(self.at_high - self.at_low)


def swings(names: list[str], bounds: list[tuple[float, float]], at_low: np.ndarray,
           at_high: np.ndarray) -> list[Swing]:
    """Tornado order: the widest swing first."""
    found = [Swing(n, b[0], b[1], float(lo), float(hi))
             for n, b, lo, hi in zip(names, bounds, at_low, at_high, strict=True)]
    return sorted(found, key=lambda s: s.width, reverse=True)
