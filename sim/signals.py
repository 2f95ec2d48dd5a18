"""Moments a Ctrl-C or SIGTERM must not cut in two: publishing a folder's set of outputs,
and the clean-up after a first interrupt. Inside ``deferred()`` those signals are noted,
not acted on; the first one noted is raised when the block ends, so a stop still stops,
a moment later, with everything consistent."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from sim.errors import Terminated

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def deferred(reraise: bool = True) -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the block; then raise the first held one as
    ``KeyboardInterrupt`` (SIGINT) or ``Terminated`` (SIGTERM) unless ``reraise`` is off
    (a clean-up already on its way out of an interrupt). Only the main thread can set
    handlers: elsewhere the block simply runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        held.append(signum)

    previous = {s: signal.signal(s, hold) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if held and reraise:
        raise Terminated if held[0] == signal.SIGTERM else KeyboardInterrupt
