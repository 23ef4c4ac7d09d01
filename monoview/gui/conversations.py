"""Conversations for the window: reassembled on demand, big ones off the GUI thread.

Selecting or expanding a session asks for its conversation (the document's
exact reassembly, cached).  A cached one, or a small one (a few milliseconds
of work), is made at once; a big one is made in one of the window's worker
processes (``fanout.reassemble``: the reassembly never holds the window's
interpreter lock, which a thread of its own would, halving the GUI thread's
share of a core) while the window shows that it is busy, and arrives through
``ready``.  A thread waits for it; without worker processes (or when the
index is in this process's memory, too big to hand over) the thread
reassembles it itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Final

from PySide6.QtCore import QObject, Signal

from monoview.core.document import CaptureDocument
from monoview.core.errors import Cancelled
from monoview.core.executor import CANCEL_POLL_S
from monoview.core.fanout import ConversationTask, reassemble
from monoview.core.tcp.session import TcpSession
from monoview.gui.worker import BackgroundCall

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

    def __init__(self, parent: QObject | None = None, pool: Callable[[], Executor] | None = None) -> None:
        super().__init__(parent)
        self.document: CaptureDocument | None = None
        self._pool = pool  # the window's worker processes (started on first use)
        self._jobs: dict[int, BackgroundCall] = {}

    def set_document(self, document: CaptureDocument | None) -> None:
        """Work on ``document`` from now on; reassemblies for the last one are stopped."""
        self.stop()
        self.document = document

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
        pool = self._pool if document.parts.folder is not None else None

        def work(cancelled: threading.Event) -> TcpSession:
            if pool is not None:
                try:
                    return _in_worker(pool(), document, session_id, cancelled)
                except BrokenExecutor:
                    pass  # the worker processes are gone: reassemble it here
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
        """Wait for running reassemblies (they cannot be interrupted; they are bounded) and
        drop their results."""
        jobs, self._jobs = self._jobs, {}
        for job in jobs.values():
            job.shutdown(timeout_ms)
        if jobs:
            self.busy_changed.emit(False)


def _in_worker(
    pool: Executor, document: CaptureDocument, session_id: int, cancelled: threading.Event
) -> TcpSession:
    """A session reassembled by a worker process, bound to ``document`` and cached there."""
    future = pool.submit(reassemble, ConversationTask.of(document, session_id))
    while True:
        try:
            session = future.result(timeout=CANCEL_POLL_S)
        except FutureTimeout:
            if cancelled.is_set():
                future.cancel()
                raise Cancelled from None
            continue
        return document.adopt(session)
