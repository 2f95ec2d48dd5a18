"""The precision rule of a run: Wilson intervals of the outcome probabilities, so that
``--precision`` can add blocks until every interval is narrow enough."""

from __future__ import annotations

import numpy as np
from scipy import stats

from sim.model.outcome import OUTCOMES
from sim.running.results import Results

CONFIDENCE = 0.95


def wilson(count: np.ndarray | float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``proportion``'s Wilson interval, vectorised over counts (bands, stopping rules)."""
    z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
    p = np.asarray(count, dtype=float) / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def max_half_width(results: Results) -> float:
    """The widest 95% Wilson interval half-width among the outcome probabilities."""
    counts = np.bincount(results["outcome"], minlength=len(OUTCOMES))
    low, high = wilson(counts, len(results))
    return float(np.max(high - low) / 2)
