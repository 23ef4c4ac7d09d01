"""The same analysis on a Dask cluster: the executor seam, given a ``distributed.Client``.

Everything heavy in monoview is a module-level function over small picklable
tasks (a path, byte ranges, column file names, session ids) handed to a
``concurrent.futures.Executor``: the index is built by range tasks, exports
and listeners by shards of sessions split by flow.  Dask's client offers that
interface (``Client.get_executor``), so the cluster runs exactly the code the
local worker processes run; there is no scheduler of monoview's own.

What a cluster needs from its machines: every worker reads the capture by its
path and writes its part of an export under the output folder, so both must
be on a filesystem the workers see at the same path; the index columns go to
a temporary folder under ``TMPDIR`` of the process that asks (set it to a
shared path on a real cluster).  The flow shuffle (sessions by flow) is done
by the asking process from the index, as on one machine.

Dask is an optional extra (``pip install 'monoview[cluster]'``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from monoview.core.errors import MonoviewError

LOCAL: Final = "local"
INSTALL: Final = "pip install 'monoview[cluster]'"


@dataclass(frozen=True)
class Cluster:
    """An executor on a Dask cluster and how many workers it has."""

    executor: Executor
    workers: int
    address: str


def _distributed() -> Any:
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise MonoviewError(
            f"running on Dask needs Dask's distributed scheduler, which is not installed: {INSTALL}"
        ) from None


@contextmanager
def dask_cluster(where: str, workers: int | None = None, *, timeout_s: float = 30) -> Iterator[Cluster]:
    """A Dask executor for as long as the block runs.

    ``where``: ``local`` starts a ``LocalCluster`` of ``workers`` processes (one
    thread each) on this machine, closed afterwards; anything else is a
    scheduler's address (``tcp://host:8786``), left running, given ``timeout_s``
    to answer.
    """
    distributed = _distributed()
    cluster = None
    try:
        if where == LOCAL:
            cluster = distributed.LocalCluster(
                n_workers=workers or 2, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = distributed.Client(cluster)
        else:
            try:
                client = distributed.Client(where, timeout=timeout_s)
            except OSError as exc:
                raise MonoviewError(f"the Dask scheduler at {where} cannot be reached ({exc})") from None
        try:
            count = len(client.scheduler_info().get("workers", {})) or 1
            yield Cluster(client.get_executor(), count, str(client.scheduler.address))
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


__all__ = ["LOCAL", "Cluster", "dask_cluster"]
