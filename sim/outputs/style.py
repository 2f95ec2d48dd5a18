"""The house style of every figure: colours, fonts, title block, saving.

Nothing global changes at import: no backend is chosen and no ``rcParams`` are touched.
Each figure is a ``matplotlib.figure.Figure`` (no pyplot, so no GUI backend and nothing
to close), drawn inside ``styled``'s ``rc_context``, so a notebook's own settings are
left as they were.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import matplotlib
from matplotlib.figure import Figure

from sim.files import atomic_write_bytes
from sim.outputs.colours import COLOURS, NEUTRAL

__all__ = ["COLOURS", "NEUTRAL", "RC", "head", "save_figure", "styled", "subplots"]

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

RC: dict[RcKeyType, Any] = {
    "figure.dpi": 110, "savefig.dpi": 110, "axes.spines.top": False,
    "axes.spines.right": False, "axes.titlesize": 12, "axes.titleweight": "bold",
    "font.size": 10, "legend.frameon": False}

P = ParamSpec("P")
R = TypeVar("R")


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Draw (and save) a figure in the house style, leaving global settings alone."""

    @functools.wraps(draw)
    def in_style(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context(RC):
            return draw(*args, **kwargs)

    return in_style


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] | None = None,
             **kwargs: Any) -> tuple[Figure, Any]:
    """``pyplot.subplots`` without pyplot: a new ``Figure`` and its axes."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def head(fig: Figure, title: str, subtitle: str, top: float = 0.86) -> None:
    """Title and provenance line above all panels; panels laid out below them."""
    fig.text(0.01, 0.995, title, ha="left", va="top", fontsize=12.5, fontweight="bold")
    fig.text(0.01, 0.995 - 0.07 * 4 / fig.get_figheight(), subtitle, ha="left",
             va="top", fontsize=9, color=NEUTRAL)
    fig.tight_layout(rect=(0, 0, 1, top))


def save_figure(fig: Figure, path: Path) -> Path:
    """The figure as a PNG, written atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())
    return path
