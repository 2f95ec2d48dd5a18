"""What every output does to the text and numbers a scenario can hold, so that no file,
however odd or hostile, makes an output misbehave after a finished run.

A name reaches a terminal, a spreadsheet and a calendar. In a terminal an escape sequence
would clear the screen or retitle the window: ``printable`` shows it escaped instead, as
``ScenarioError`` does. In a spreadsheet a cell starting ``=`` (or ``+ - @``, a tab, a
carriage return) is run as a formula: ``csv_cell`` prefixes such text with ``'`` (the
OWASP advice) and leaves numbers alone. On a calendar a day past 9999-12-31 has no date:
``date_text`` names it "day N (after 9999-12-31)" instead of raising ``OverflowError``.
And a file an output quotes (a scenario's, read again after the run) may have gone or
become a FIFO since: ``read_regular`` reads a regular file or nothing, never waiting.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sim.errors import printable as printable  # one escaping, shared with error lines
from sim.limits import MAX_FILE_BYTES

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A number as a table writes it (%.10g, an int, inf, nan): a cell that reads as one is a
# value, not a formula, whatever its sign.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|nan)",
                     re.IGNORECASE)


def printable_lines(lines: Iterable[str]) -> str:
    """Lines for the terminal, each made ``printable``, joined by line breaks."""
    return "\n".join(printable(line) for line in lines)


def csv_cell(value: Any) -> Any:
    """A cell no spreadsheet runs as a formula: text that starts with ``= + - @``, a tab or
    a carriage return gets a leading ``'``; numbers (negative ones too) and other text
    are returned as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_START) \
            and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def calendar_date(start: dt.date, day: float) -> dt.date | None:
    """The date ``day`` days after ``start`` (whole days, as ``Scenario.date_of``), or
    None when there is none: past 9999-12-31, before year 1, or not a number."""
    if not math.isfinite(day):
        return None
    try:
        return start + dt.timedelta(days=int(day))
    except OverflowError:
        return None


def date_text(start: dt.date, day: float, form: str = "%d %b %Y") -> str:
    """``day`` as a date in ``form``, or, with no date to give, as the day itself:
    "day 3000000 (after 9999-12-31)"."""
    date = calendar_date(start, day)
    if date is not None:
        return format(date, form)
    if math.isnan(day):
        return "no day"
    where = f"after {dt.date.max}" if day > 0 else f"before {dt.date.min}"
    return f"day {day:.0f} ({where})"


def day_and_date(start: dt.date, day: float) -> str:
    """A day as the summaries give it, "day 184 (2021-03-17)"; past the last date there
    is, "day 3000000 (after 9999-12-31)"."""
    date = calendar_date(start, day)
    return f"day {day:.0f} ({date.isoformat()})" if date is not None else date_text(start, day)


def read_regular(path: Path, most: int = MAX_FILE_BYTES) -> bytes | None:
    """A file's bytes when it is a regular file of at most ``most`` bytes, else None (gone,
    unreadable, a folder, a device, a FIFO): opened without waiting, so a FIFO put in a
    scenario's place cannot hang an output that only wanted to quote it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(most + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= most else None
