"""Where heavy work runs: in this process, or in worker processes.

Everything the core hands to a worker is a module-level function and small
picklable arguments (a path, byte offsets, file names of column files), and
every result comes back the same way, so the work runs unchanged on any
``concurrent.futures.Executor``: the inline one here for small jobs, a local
process pool for both cores, or a Dask ``distributed.Client`` (which implements
the same interface) for a cluster.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    import multiprocessing.context

    import pebble

T = TypeVar("T")
A = TypeVar("A")
# How often ``gather`` looks at its cancel flag while it waits for tasks.
CANCEL_POLL_S = 0.05
Progress = Callable[[int, int], None]


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


# Below this many bytes of capture, one process indexes and lists it sooner than worker
# processes do: starting them, writing the index columns to files and mapping them back,
# and pickling the results cost more than the second core saves.  Measured with
# ``monoview sessions`` on the 2-core VM, one process against two workers, alternating
# (6 pairs, load average 10 from other work): on the 100 MB synthetic capture 0.62 s of CPU
# against 0.83 s, wall 1.97 s against 2.42 s (medians).  On the 1 GB capture two workers
# are the faster on a quiet machine (1.4 s wall for 2.4 s of CPU, bench/README.md), so the
# line is drawn between the two, where the parallel index's saving outgrows its overhead.
ONE_PROCESS_BYTES: Final = 128 << 20


def workers_for(size: int) -> int:
    """Worker processes for a capture of ``size`` bytes: ``MONOVIEW_WORKERS`` if set; else
    none below ``ONE_PROCESS_BYTES`` (1: in this process), else :func:`default_workers`."""
    if os.environ.get("MONOVIEW_WORKERS") or size >= ONE_PROCESS_BYTES:
        return default_workers()
    return 1


def _context() -> multiprocessing.context.BaseContext:
    """fork where it is safe (Linux, no other threads: fast, nothing to re-import);
    forkserver when threads run (a GUI); the platform's default elsewhere."""
    import multiprocessing

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
    # multiprocessing (and what it imports: sockets, pickle, queues) only where processes
    # start: a small capture, done in this process, never needs it.
    from concurrent.futures import ProcessPoolExecutor

    # np.unique imports numpy.ma on first use (20 ms): once here, before the workers
    # fork, rather than once in each of them.
    import numpy.ma  # noqa: F401

    pool = ProcessPoolExecutor(max_workers=count, mp_context=_context(), initializer=_leave_interrupts)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# What a lasting pool's workers import before they are forked (each would otherwise import it).
PRELOAD = [
    "monoview.core.document", "monoview.core.export.exporter", "monoview.core.fanout",
    "monoview.core.flows.shardnames", "monoview.core.flows.applications",
]  # fmt: skip


def _work_in_background(niceness: int) -> None:
    """In a worker of a window's pool: interrupts left to the window, and a lower priority,
    so that the window's own thread is scheduled first when the machine is busy."""
    _leave_interrupts()
    if niceness and hasattr(os, "nice"):
        with contextlib.suppress(OSError):  # not allowed here: the window's priority, then
            os.nice(niceness)


def start_fork_server(workers: int | None = None) -> None:
    """Start the fork server that :func:`lasting_pool` forks its workers from, now, and
    return at once: it imports ``PRELOAD`` (half a second) while the caller goes on.

    The window's first open waited for that import before any worker could index a
    byte; started by the command line before it imports Qt, the server is ready by the
    time the window asks for its pool.  Nothing happens off Linux, or with one worker
    (no processes: :func:`lasting_pool` makes none).
    """
    count = default_workers() if workers is None else workers
    if count <= 1 or not sys.platform.startswith("linux"):
        return
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(PRELOAD)
    forkserver.ensure_running()


def lasting_pool(workers: int | None = None, *, niceness: int = 0) -> Executor:
    """A process pool to keep for as long as a program runs (a window has one).

    Its workers are forked by a fork server that imported the core once: the
    start copies neither the program's threads (a GUI's) nor its memory, and
    a worker does not import anything again.  One worker means no processes.
    ``niceness`` lowers the workers' priority (``os.nice``): a window's
    workers yield the processor to the window when they and other programs
    compete for it, so it keeps answering while it loads a gigabyte beside a
    build.  The caller shuts it down.
    """
    count = default_workers() if workers is None else workers
    if count <= 1:
        return InlineExecutor()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context: Any = multiprocessing.get_context("forkserver" if sys.platform.startswith("linux") else None)
    if hasattr(context, "set_forkserver_preload"):
        context.set_forkserver_preload(PRELOAD)
    return ProcessPoolExecutor(
        max_workers=count, mp_context=context, initializer=_work_in_background, initargs=(niceness,)
    )


def cancellable_pool(workers: int = 1, *, niceness: int = 0) -> pebble.ProcessPool:
    """Worker processes whose running task can be stopped: ``future.cancel()`` on a task
    that a worker has begun terminates that worker, and a fresh one takes its place.

    ``concurrent.futures`` cannot stop a running task (``cancel`` only drops pending
    ones), so a window closing while a worker reassembles a gigabyte session would
    wait for it, and killing the worker by hand breaks the whole pool.  pebble's
    ``ProcessPool`` does both properly; the workers are started as :func:`lasting_pool`
    starts its own (the same fork server, the same priority).  The caller ends it
    with ``stop()`` and ``join()``.
    """
    import multiprocessing

    import pebble

    context: Any = multiprocessing.get_context("forkserver" if sys.platform.startswith("linux") else None)
    if hasattr(context, "set_forkserver_preload"):
        context.set_forkserver_preload(PRELOAD)
    return pebble.ProcessPool(
        max_workers=max(1, workers), initializer=_work_in_background, initargs=(niceness,), context=context
    )


def _nothing() -> None:
    """A task that makes a pool start its worker processes."""


def warm_up(pool: Executor, workers: int) -> None:
    """Start the pool's workers now (without waiting for them), not when the first real work comes."""
    for _ in range(workers):
        pool.submit(_nothing)


def gather(
    executor: Executor,
    work: Callable[[A], T],
    tasks: list[A],
    *,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[T]:
    """``work`` of every task in ``executor``; the results in task order.

    ``progress(done, total)`` is called as tasks finish (in the calling
    thread); when ``cancel()`` turns true the tasks not started are dropped
    and ``Cancelled`` is raised once the ones a worker has taken are done (their
    results are thrown away).

    Not before: the caller then removes what the tasks were handed (an index's
    column files), and a task that a worker had queued but not yet read would
    find them gone while it is unpickled, which ends that worker and breaks a
    lasting pool for every later open (a window's, cancelled in its list phase).
    """
    from monoview.core.errors import Cancelled

    futures = [executor.submit(work, task) for task in tasks]
    pending: set[Future[T]] = set(futures)
    try:
        while pending:
            if cancel is not None and cancel():
                raise Cancelled("stopped")
            timeout = CANCEL_POLL_S if cancel is not None else None
            _done, pending = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
            if progress is not None:
                progress(len(futures) - len(pending), len(futures))
        return [f.result() for f in futures]
    except BaseException as exc:
        for future in futures:
            future.cancel()
        if isinstance(exc, Cancelled):
            wait([future for future in futures if not future.cancelled()])
        raise
