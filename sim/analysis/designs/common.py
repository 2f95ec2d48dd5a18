"""What every sweep design shares: its input (``Space``), its result (``SweepAnalysis``)
and the functions a design module provides (``DesignModule``).

Kept apart from ``sim.analysis.sweep`` so that a design module needs nothing of the sweep
file's pydantic model: the model builds a ``Space`` and asks the registry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from sim.analysis import stats
from sim.analysis.discovery import Box
from sim.analysis.sensitivity import SobolIndices, Swing

ENDINGS = tuple(f"p_{name}" for _, name in stats.RESOLVED)  # p_sale, p_shutdown, p_abandoned
OUTPUTS = (*ENDINGS, "days_median")  # what Sobol' indices are computed for

# How a design's points lie, so a figure can show them without knowing the design:
# "grid" every combination of steps, "spread" filling the space (each point worth a dot),
# "analysis" placed only for the design's own analysis (its figures show that instead).
Layout = Literal["grid", "spread", "analysis"]


@dataclass(frozen=True)
class Space:
    """A sweep's ranges in the file's order, with what the designs read besides."""

    names: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]
    steps: tuple[int | None, ...]  # each range's ``points`` (grid designs only)
    samples: int
    seed: int


def as_points(names: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[dict[str, float]]:
    """A design's rows of values as points (plain floats: they key the saved points)."""
    return [{n: float(v) for n, v in zip(names, row, strict=True)} for row in rows]


@dataclass(frozen=True)
class DiscoverySample:
    """The base scenario's runs that scenario discovery classified, kept for its figure."""

    inputs: Mapping[str, np.ndarray]  # input -> its value in each run
    outcome: np.ndarray  # each run's outcome code


@dataclass(frozen=True)
class SweepAnalysis:
    """A sweep's analysis: what its design adds (tornado swings, Sobol' indices) and
    scenario discovery on the base scenario. Empty fields: not part of this sweep."""

    tornado: Mapping[str, tuple[Swing, ...]] = field(default_factory=dict)  # widest first
    tornado_base: Mapping[str, float] = field(default_factory=dict)  # each ending at base
    sobol: tuple[SobolIndices, ...] = ()  # one per output in OUTPUTS
    discovery: Mapping[str, tuple[Box, ...]] = field(default_factory=dict)  # densest first
    discovery_sample: DiscoverySample | None = None
    discovery_missing: str | None = None  # why discovery was skipped, if it was

    def to_dict(self) -> dict[str, Any]:
        """The ``analysis`` value of sweep.json (plain JSON types, keys as they were)."""
        out: dict[str, Any] = {}
        for s in self.sobol:
            out.setdefault("sobol", {})[s.output] = {
                n: {"first": float(f), "first_ci95_half": float(fc), "total": float(t),
                    "total_ci95_half": float(tc)}
                for n, f, fc, t, tc in zip(s.names, s.first, s.first_conf, s.total,
                                           s.total_conf, strict=True)}
        for output, swings in self.tornado.items():
            out.setdefault("tornado", {})[output] = [
                {"input": w.name, "low": w.low_value, "high": w.high_value, "at_low": w.at_low,
                 "at_high": w.at_high, "swing": w.width} for w in swings]
        for outcome, boxes in self.discovery.items():
            out.setdefault("discovery", {})[outcome] = [
                {"rule": b.rule, "coverage": b.coverage, "density": b.density, "runs": b.runs,
                 "base_rate": b.base_rate} for b in boxes]
        if self.discovery_missing is not None:
            out["discovery"] = self.discovery_missing
        return out


NOTHING = SweepAnalysis()  # what a design without an analysis of its own adds


class DesignModule(Protocol):
    """What a module in ``sim.analysis.designs`` provides (SALib's one module per method):
    ``check`` and ``count`` run as the sweep file is read, before any point is built."""

    LAYOUT: Layout

    def check(self, space: Space) -> str | None:
        """Why this space does not suit the design, or None."""
        ...

    def count(self, space: Space) -> int:
        """How many points the design has, without building them."""
        ...

    def points(self, space: Space) -> list[dict[str, float]]:
        """The values of every point, in the design's order (the rows of points.csv)."""
        ...

    def analyse(self, space: Space, rows: Sequence[Mapping[str, Any]]) -> SweepAnalysis:
        """The design's own analysis of its finished rows (``NOTHING`` if none)."""
        ...
