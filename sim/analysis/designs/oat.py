"""One at a time: the base scenario, then each range's low and high end with every other
input at its base value, for a tornado of each ending's swings (``sensitivity.swings``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.analysis import sensitivity
from sim.analysis.designs.common import ENDINGS, Layout, Space, SweepAnalysis

LAYOUT: Layout = "analysis"


def check(space: Space) -> str | None:
    return None


def count(space: Space) -> int:
    return 1 + 2 * len(space.names)


def points(space: Space) -> list[dict[str, float]]:
    found: list[dict[str, float]] = [{}]  # the base scenario, then each end of each range
    for name, (low, high) in zip(space.names, space.bounds, strict=True):
        found += [{name: low}, {name: high}]
    return found


def analyse(space: Space, rows: Sequence[Mapping[str, Any]]) -> SweepAnalysis:
    """Rows in ``points``' order: row 0 the base, rows 1 + 2i and 2 + 2i input i's ends."""
    names, bounds, n = list(space.names), list(space.bounds), len(space.names)
    tornado = {
        output: tuple(sensitivity.swings(
            names, bounds,
            np.array([rows[1 + 2 * i][output] for i in range(n)]),
            np.array([rows[2 + 2 * i][output] for i in range(n)])))
        for output in ENDINGS}
    return SweepAnalysis(tornado=tornado, tornado_base={o: rows[0][o] for o in ENDINGS})
