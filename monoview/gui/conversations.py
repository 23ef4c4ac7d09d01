"""Conversations for the window: reassembled on demand, big ones off the GUI thread.

Selecting a session asks for its conversation (the document's
exact reassembly, cached).  A cached one, or a small one (a few milliseconds
of work), is made at once; a big one is made in a worker process
(``fanout.reassemble``: the reassembly never holds the window's interpreter
lock, which a thread of its own would, halving the GUI thread's share of a
core) while the window shows that it is busy, and arrives through ``ready``.
A thread waits for it; when the index is in this process's memory (too big to
hand over) the thread reassembles it itself.

The workers are the fetcher's own (``executor.cancellable_pool``), not the
window's indexing pool: closing the document or the window must not wait for
a reassembly of a gigabyte session, so ``stop`` terminates a worker that is in
the middle of one (a fresh worker replaces it) and drops the tasks not begun.
"""

from __future__ import annotations

import threading
from concurrent.futures import BrokenExecutor, CancelledError, Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any, Final

from PySide6.QtCore import QObject, Signal

from monoview.core.document import CaptureDocument
from monoview.core.errors import Cancelled
from monoview.core.executor import CANCEL_POLL_S, cancellable_pool, default_workers
from monoview.core.fanout import ConversationTask, prepare, reassemble
from monoview.core.tcp.session import TcpSession
from monoview.gui.worker import BackgroundCall

if TYPE_CHECKING:
    import pebble

# Sessions with at most this many packets are reassembled on the GUI thread (about 5 ms).
INLINE_PACKETS: Final = 2_000


class ConversationFetcher(QObject):
    """Conversations of the current document, by session id.

    Signals:
        ready(int, object): the conversation (a TcpSession) of a session asked for
            with ``fetch`` that was not ready at once.
        failed(int, str): it could not be made (the message says why).
        busy_changed(bool): big sessions are being reassembled, or no more.
    """

    ready = Signal(int, object)
    failed = Signal(int, str)
    busy_changed = Signal(bool)

    def __init__(
        self, parent: QObject | None = None, workers: int | None = None, *, niceness: int = 0
    ) -> None:
        super().__init__(parent)
        self.document: CaptureDocument | None = None
        # Worker processes for big sessions (0: reassemble in the waiting thread); started by
        # ``start_workers`` or the first big session's thread (starting them waits for the fork
        # server: never on the GUI thread).
        self.workers = min(2, default_workers()) if workers is None else workers
        self._niceness = niceness
        self._pool: pebble.ProcessPool | None = None
        self._pool_lock = threading.Lock()
        self._shut_down = False  # no worker starts after ``shutdown``
        self.start_early = True  # whether ``start_workers`` starts them before they are needed
        self._jobs: dict[int, BackgroundCall] = {}
        # The worker tasks under way, by session id (set and cleared by the waiting threads).
        self.tasks: dict[int, Future[Any]] = {}

    def set_document(self, document: CaptureDocument | None) -> None:
        """Work on ``document`` from now on; reassemblies for the last one are stopped."""
        self.stop()
        self.document = document

    def start_workers(self) -> None:
        """Start the worker processes now, by a thread of their own, if the document has
        sessions too big for the GUI thread, and have each make the document's flow locator
        (``fanout.prepare``): starting them waits for the fork server and the locator is a
        sort of the whole index (together over a second on a busy machine), which the first
        click on a big session would wait for otherwise.  The window calls this once the
        sessions' application names are in: on two cores, sooner would slow their naming.
        Nothing happens when ``start_early`` is off (``--screenshot``)."""
        document = self.document
        if (
            self.start_early
            and document is not None
            and self.workers > 0
            and self._pool is None
            and document.parts.folder is not None
            and len(document)
            and int(document.rows["packets"].max()) > INLINE_PACKETS
        ):
            threading.Thread(
                target=self._start_workers, args=(document,), name="start-workers", daemon=True
            ).start()

    def _start_workers(self, document: CaptureDocument) -> None:
        try:
            pool = self._workers()
        except BrokenExecutor:
            return
        for _ in range(self.workers):  # a task each, while they are all free
            pool.schedule(prepare, args=(str(document.path), document.parts))

    @property
    def busy(self) -> bool:
        """A big session is being reassembled."""
        return bool(self._jobs)

    def fetch(self, session_id: int) -> TcpSession | None:
        """The conversation if it can be had at once; else None, and ``ready`` follows."""
        document = self.document
        if document is None:
            return None
        cached = document.cached_conversation(session_id)
        if cached is not None:
            return cached
        if int(document.rows["packets"][session_id - 1]) <= INLINE_PACKETS:
            return document.conversation(session_id)
        if session_id not in self._jobs:
            self._start(document, session_id)
        return None

    def _start(self, document: CaptureDocument, session_id: int) -> None:
        in_worker = self.workers > 0 and document.parts.folder is not None

        def work(cancelled: threading.Event) -> TcpSession:
            if in_worker:
                try:
                    return self._in_worker(document, session_id, cancelled)
                except BrokenExecutor:
                    if cancelled.is_set():
                        raise Cancelled from None
                    # the worker processes are gone (not stopped by us): reassemble it here
            return document.conversation(session_id)

        job = BackgroundCall(work, self)
        was_busy = self.busy
        self._jobs[session_id] = job
        job.succeeded.connect(lambda session: self._done(job, session_id, session))
        job.failed.connect(lambda message: self._failed(job, session_id, message))
        job.finished.connect(lambda: self._ended(job, session_id))
        if not was_busy:
            self.busy_changed.emit(True)
        job.start()

    def _done(self, job: BackgroundCall, session_id: int, session: TcpSession) -> None:
        if self._jobs.get(session_id) is job:
            self.ready.emit(session_id, session)

    def _failed(self, job: BackgroundCall, session_id: int, message: str) -> None:
        if self._jobs.get(session_id) is job:
            self.failed.emit(session_id, message)

    def _ended(self, job: BackgroundCall, session_id: int) -> None:
        if self._jobs.get(session_id) is job:
            del self._jobs[session_id]
            if not self._jobs:
                self.busy_changed.emit(False)
        job.deleteLater()

    def stop(self, timeout_ms: int = 5000) -> None:
        """Stop the reassemblies under way and drop their results: a worker in the middle of
        one is terminated (a fresh one replaces it), and the waiting threads end at their
        next look at the flag (a reassembly in a thread, of an index in memory, cannot be
        interrupted: it is waited for at most ``timeout_ms``)."""
        jobs, self._jobs = self._jobs, {}
        for job in jobs.values():
            job.cancel()
        for future in list(self.tasks.values()):
            future.cancel()  # at once, not when the waiting thread next looks
        for job in jobs.values():
            job.shutdown(timeout_ms)
        if jobs:
            self.busy_changed.emit(False)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop, and end the worker processes (the window is closing)."""
        self.stop(timeout_ms)
        with self._pool_lock:
            self._shut_down = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]  # (pebble leaves it unannotated)
            pool.join(timeout_ms / 1000)

    def _workers(self) -> pebble.ProcessPool:
        with self._pool_lock:
            if self._shut_down:
                raise BrokenExecutor("the window is closing")
            if self._pool is None:
                self._pool = cancellable_pool(self.workers, niceness=self._niceness)
            return self._pool

    def _in_worker(
        self, document: CaptureDocument, session_id: int, cancelled: threading.Event
    ) -> TcpSession:
        """A session reassembled by a worker process, bound to ``document`` and cached there."""
        future = self._workers().schedule(reassemble, args=(ConversationTask.of(document, session_id),))
        self.tasks[session_id] = future
        try:
            while True:
                try:
                    session = future.result(timeout=CANCEL_POLL_S)
                except FutureTimeout:
                    if cancelled.is_set():
                        future.cancel()  # type: ignore[no-untyped-call]  # pebble: ends a begun task's worker
                        raise Cancelled from None
                    continue
                except CancelledError:
                    raise Cancelled from None
                return document.adopt(session)
        finally:
            if self.tasks.get(session_id) is future:
                del self.tasks[session_id]
