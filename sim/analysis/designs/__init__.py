"""Sweep designs, one module each (as SALib keeps one module per method), found by name.

A design says how it makes its points from a sweep's ranges (``DesignModule``) and what
analysis it adds; adding one is a module here and one entry in ``DESIGNS`` (and its name
in ``sim.analysis.sweep.Design``, the sweep file's choices: a test checks they agree).
"""

from __future__ import annotations

from collections.abc import Mapping

from sim.analysis.designs import grid, lhs, oat, sobol, sobol_points
from sim.analysis.designs.common import DesignModule

DESIGNS: Mapping[str, DesignModule] = {
    "grid": grid,
    "lhs": lhs,
    "sobol_points": sobol_points,
    "oat": oat,
    "sobol": sobol,
}
