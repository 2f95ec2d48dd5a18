"""Scale-out on Dask: an executor for an existing cluster or a local one.

Blocks of replications (and sweep points) are plain-data tasks, so a ``dask.distributed``
client's executor runs them exactly as the process pool does, and the results are
bit-identical. dask is an optional extra: ``pip install -e '.[dask]'``; on a real cluster
every worker needs dealsim installed in the same version.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import ExitStack, contextmanager

from sim.errors import ScenarioError


@contextmanager
def dask_executor(scheduler: str | None, local_workers: int | None) -> Iterator[Executor | None]:
    """None without Dask options; else an executor on the cluster, closed afterwards."""
    if not scheduler and not local_workers:
        yield None
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ScenarioError("dask.distributed is not installed: "
                            "pip install -e '.[dask]'") from None
    with ExitStack() as stack:
        try:
            if local_workers:
                cluster = stack.enter_context(LocalCluster(
                    n_workers=local_workers, threads_per_worker=1, processes=True,
                    dashboard_address=None))
                client = stack.enter_context(Client(cluster))
            else:
                client = stack.enter_context(Client(scheduler, timeout="10s"))
        except (OSError, TimeoutError) as exc:
            raise ScenarioError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        yield client.get_executor()
