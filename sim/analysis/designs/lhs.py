"""A Latin hypercube (``scipy.stats.qmc``): ``samples`` points, exactly one in each of the
``samples`` equal strata of every range, so few points still cover each input's range."""

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
    unit = qmc.LatinHypercube(d=len(space.names), seed=space.seed).random(space.samples)
    return as_points(space.names, qmc.scale(unit, low, high))


def analyse(space: Space, rows: Sequence[Mapping[str, Any]]) -> SweepAnalysis:
    return NOTHING
