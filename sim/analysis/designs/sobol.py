"""Saltelli's design, ``samples × (d + 2)`` points, and Sobol' first-order and total
indices with bootstrap intervals for each output (SALib, in the optional ``sweep`` extra:
``sensitivity`` imports it only when such a sweep is built or analysed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.analysis import sensitivity
from sim.analysis.designs.common import OUTPUTS, Layout, Space, SweepAnalysis, as_points

LAYOUT: Layout = "analysis"


def check(space: Space) -> str | None:
    if space.samples & (space.samples - 1):  # Saltelli's sequence needs a power of 2
        return "sobol needs samples to be a power of 2 (e.g. 16, 32, 64)"
    return None


def count(space: Space) -> int:
    return space.samples * (len(space.names) + 2)


def points(space: Space) -> list[dict[str, float]]:
    return as_points(space.names, sensitivity.sobol_design(
        list(space.names), list(space.bounds), space.samples))


def analyse(space: Space, rows: Sequence[Mapping[str, Any]]) -> SweepAnalysis:
    return SweepAnalysis(sobol=tuple(
        sensitivity.sobol_indices(list(space.names), list(space.bounds), output,
                                  np.array([r[output] for r in rows]))
        for output in OUTPUTS))
