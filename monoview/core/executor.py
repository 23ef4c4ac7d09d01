"""Where heavy work runs: in this process, or in worker processes.

Everything the core hands to a worker is a module-level function and small
picklable arguments (a path, byte offsets, file names of column files), and
every result comes back the same way, so the work runs unchanged on any
``concurrent.futures.Executor``: the inline one here for small jobs, a local
process pool for both cores, or a Dask ``distributed.Client`` (which implements
the same interface) for a cluster.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


class InlineExecutor(Executor):
    """Runs each task at once in the calling thread (one worker, no processes)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Override Executor.submit: run ``fn`` now; its result or exception is in the future."""
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the caller sees it from future.result()
            future.set_exception(exc)
        return future


def default_workers() -> int:
    """Worker processes to use: ``MONOVIEW_WORKERS`` if set, else one per processor (at most 8)."""
    configured = os.environ.get("MONOVIEW_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(os.cpu_count() or 1, 8))


def _context() -> multiprocessing.context.BaseContext:
    """fork where it is safe (Linux, no other threads: fast, nothing to re-import);
    forkserver when threads run (a GUI); the platform's default elsewhere."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork" if threading.active_count() == 1 else "forkserver")
    return multiprocessing.get_context()


def _leave_interrupts() -> None:
    """In a worker: Ctrl-C is for the main process, which stops the work and exits quietly
    (a worker interrupted in the middle of a task would print its traceback)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def local_executor(workers: int | None = None) -> Iterator[Executor]:
    """An executor with ``workers`` processes (the default: :func:`default_workers`);
    one worker means no processes at all."""
    count = default_workers() if workers is None else workers
    if count <= 1:
        yield InlineExecutor()
        return
    # np.unique imports numpy.ma on first use (20 ms): once here, before the workers
    # fork, rather than once in each of them.
    import numpy.ma  # noqa: F401

    pool = ProcessPoolExecutor(max_workers=count, mp_context=_context(), initializer=_leave_interrupts)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
