"""Scrambled Sobol' points (``scipy.stats.qmc``): ``samples`` points spread more evenly
than random ones; only the points, without the indices of the ``sobol`` design."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import qmc

from sim.analysis.designs.common import NOTHING, Layout, Space, SweepAnalysis, as_points

LAYOUT: Layout = "spread"


def check(space: Space) -> str | None:
    return None


def count(space: Space) -> int:
    return space.samples


def points(space: Space) -> list[dict[str, float]]:
    low, high = np.array(space.bounds).T
    unit = qmc.Sobol(d=len(space.names), scramble=True, seed=space.seed).random(space.samples)
    return as_points(space.names, qmc.scale(unit, low, high))


def analyse(space: Space, rows: Sequence[Mapping[str, Any]]) -> SweepAnalysis:
    return NOTHING
