"""Scale-out on Dask: an executor for an existing cluster or a local one.

Blocks of replications (and sweep points) are plain-data tasks, so a ``dask.distributed``
client's executor runs them exactly as the process pool does, and the results are
bit-identical. dask is an optional extra: ``pip install -e '.[dask]'``; on a real cluster
every worker needs dealsim installed in the same version.
"""

from __future__ import annotations

import multiprocessing
import re
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

from sim.errors import ScenarioError
from sim.signals import deferred

CONNECT_TIMEOUT = 10.0  # seconds to reach a scheduler before giving up with one line
STOP_TIMEOUT = 2.0  # seconds each for the client and a local cluster to close on a stop

# tcp://HOST:PORT or HOST:PORT (Dask's default protocol): a host name, an IPv4 address or
# a bracketed IPv6 one. Other protocols (tls, ucx, ws) need a security or transport set-up
# that dealsim does not make, and fail deep inside distributed; they are refused here.
_ADDRESS = re.compile(r"(?:tcp://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]"
                      r"(?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?):(?P<port>[0-9]{1,5})")


def check_address(address: str) -> str:
    """``address`` if it has the form of a scheduler's address (checked before connecting,
    so a typo is one line, not a traceback from distributed); else ValueError."""
    found = _ADDRESS.fullmatch(address)
    if found is None:
        raise ValueError(f"not a scheduler address: {address!r} (expected tcp://HOST:PORT)")
    if not 1 <= int(found["port"]) <= 65535:
        raise ValueError(f"not a scheduler address: {address!r} (tcp://HOST:PORT with a port "
                         "from 1 to 65535)")
    return address


@contextmanager
def dask_executor(scheduler: str | None, local_workers: int | None,
                  timeout: float = CONNECT_TIMEOUT) -> Iterator[Executor | None]:
    """None without Dask options; else an executor on the cluster, closed afterwards.
    A scheduler that cannot be reached within ``timeout`` seconds is one line naming it."""
    if scheduler is None and not local_workers:
        yield None
        return
    if scheduler is not None and local_workers:
        raise ScenarioError("either a scheduler or a local cluster, not both "
                            "(--scheduler or --dask-local)")
    if scheduler is not None:
        try:
            check_address(scheduler)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ScenarioError("dask.distributed is not installed: "
                            "pip install -e '.[dask]'") from None
    with ExitStack() as stack:
        if local_workers:
            try:
                with workers_ignoring_ctrl_c():
                    cluster = stack.enter_context(LocalCluster(
                        n_workers=local_workers, threads_per_worker=1, processes=True,
                        dashboard_address=None))
                client = stack.enter_context(Client(cluster))
            except (OSError, TimeoutError) as exc:
                raise ScenarioError(f"cannot start a local Dask cluster of {local_workers} "
                                    f"workers ({exc})") from None
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=timeout))
            except (OSError, TimeoutError) as exc:
                reason = getattr(exc, "strerror", None) or "is it running, at that address?"
                raise ScenarioError(f"cannot reach the Dask scheduler at {scheduler} within "
                                    f"{timeout:g} s ({reason})") from None
        try:
            yield client.get_executor()
        except BaseException:  # a stop: end the cluster now, a second Ctrl-C notwithstanding
            with deferred(reraise=False):
                stack.pop_all()  # no orderly close after this one: it can wait forever
                stop_now(client, cluster if local_workers else None)
            raise


@contextmanager
def workers_ignoring_ctrl_c() -> Iterator[None]:
    """Start processes with SIGINT ignored (a disposition they inherit), so a Ctrl-C sent to
    the group reaches only the main process, which stops the cluster; else each Dask
    worker prints its own KeyboardInterrupt traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def stop_now(client: Any, cluster: Any) -> None:
    """Close the client and a local cluster within seconds, then end any worker process
    still alive: a stop must not wait for the cluster's orderly shutdown."""
    for part in (client, cluster):
        if part is not None:
            with suppress(Exception):  # already stopping; the processes end below
                part.close(timeout=STOP_TIMEOUT)
    for process in multiprocessing.active_children():
        process.terminate()
        process.join(timeout=1)
        if process.is_alive():
            process.kill()
