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
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.transforms import Bbox

from sim.files import atomic_write_bytes
from sim.outputs.colours import COLOURS, NEUTRAL
from sim.outputs.safe import printable

__all__ = ["COLOURS", "NEUTRAL", "RC", "drawable", "head", "number", "save_figure",
           "shortened", "styled", "subplots"]

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
    """The figure as a PNG, written atomically, cropped to what it draws ("tight") but
    never more than one figure's width or height beyond any edge: a label placed far
    outside the axes cannot grow the image (and the memory it takes) without bound."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches=_bounded_box(fig))
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _bounded_box(fig: Figure) -> str | Bbox:
    """``"tight"`` when the tight box stays within the bound (the usual case: the same
    image as before), else the tight box clipped to it."""
    pad = float(matplotlib.rcParams["savefig.pad_inches"])
    tight = fig.get_tightbbox(FigureCanvasAgg(fig).get_renderer()).padded(pad)
    width, height = fig.get_size_inches()
    bound = Bbox.from_extents(-width, -height, 2 * width, 2 * height)
    if bound.containsx(tight.x0) and bound.containsx(tight.x1) \
            and bound.containsy(tight.y0) and bound.containsy(tight.y1):
        return "tight"
    return Bbox.from_extents(max(tight.x0, bound.x0), max(tight.y0, bound.y0),
                             min(tight.x1, bound.x1), min(tight.y1, bound.y1))


@functools.cache
def _glyphs(font: str) -> frozenset[int]:
    return frozenset(FT2Font(font).get_charmap())


def drawable(text: str) -> str:
    """A name as a figure can draw it: non-printable characters escaped (``\\x1b``),
    characters the font has no glyph for written as ``\\u540d`` (no "Glyph missing"
    warning, no empty box), and ``$`` escaped, so a name is never parsed as mathtext
    (``$\\frac$`` would stop the figure with an error)."""
    have = _glyphs(font_manager.findfont(font_manager.FontProperties()))
    shown = "".join(c if ord(c) in have or c == " " else
                    f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"
                    for c in printable(text))
    return shown.replace("$", r"\$")


def shortened(text: str, most: int = 32) -> str:
    """A label cut to ``most`` characters (a tick label as long as a name may be would
    leave the axes no room)."""
    return text if len(text) <= most else text[:most - 1] + "…"


def number(value: float, decimals: int = 1) -> str:
    """A value for a label: fixed decimals as usual, three significant digits where that
    would run to dozens of digits (a price of 1e300 is a scenario's, not a typo's)."""
    return f"{value:.{decimals}f}" if abs(value) < 1e6 else f"{value:.3g}"
