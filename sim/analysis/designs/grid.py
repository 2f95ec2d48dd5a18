"""A full grid: every combination of each range's evenly spaced ``points`` (one range: a
line, two: a heatmap; more would be too many points to run and too many to read)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.analysis.designs.common import NOTHING, Layout, Space, SweepAnalysis, as_points

LAYOUT: Layout = "grid"


def check(space: Space) -> str | None:
    if len(space.names) > 2:
        return "a grid takes one or two parameters (use lhs or sobol)"
    missing = [n for n, steps in zip(space.names, space.steps, strict=True) if steps is None]
    if missing:
        return f"a grid needs 'points' for {', '.join(missing)}"
    return None


def count(space: Space) -> int:
    return math.prod(steps or 2 for steps in space.steps)


def points(space: Space) -> list[dict[str, float]]:
    axes = [np.linspace(low, high, steps or 2)
            for (low, high), steps in zip(space.bounds, space.steps, strict=True)]
    return as_points(space.names, itertools.product(*axes))


def analyse(space: Space, rows: Sequence[Mapping[str, Any]]) -> SweepAnalysis:
    return NOTHING
