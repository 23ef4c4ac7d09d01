"""``--dask``: the executor the index and export tasks run on, for one command."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager


@contextmanager
def executor_of(args: argparse.Namespace) -> Iterator[tuple[Executor | None, int | None]]:
    """``(executor, workers)``: none (the local worker processes) unless ``--dask`` names a
    cluster, which is started or reached here and let go afterwards."""
    if getattr(args, "dask", None) is None:
        yield None, None
        return
    from monoview.core.cluster import dask_cluster

    with dask_cluster(args.dask, args.dask_workers) as cluster:
        yield cluster.executor, cluster.workers
