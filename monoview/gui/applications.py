"""The session list's Application and Stream columns, filled in once a capture is listed.

A document opened by the window comes with them (``CaptureDocument(names=True)``: the
worker processes that summarise the sessions name them too, ``core.flows.shardnames``),
and they are shown with the list.  Any other document (one opened without them) is
named here, after the list, as follows.

Naming every session reads the first bytes of each direction from the file
(``core.flows.applications``: half a second for 20,000 sessions of a 1 GB
capture).  That happens after the list is shown (and its modules are imported
then, in the naming thread, not before the window's first rows), in one of the window's worker
processes (a thread of the window's own would hold its interpreter lock), so
the list appears without waiting and the column fills in a moment later; a
filter on the application is applied again when the names arrive.  tshark's
``tcp.stream`` numbers (``core.flows.tcpstream``, half a second for that
capture too) come with them; until then the Stream column says id - 1, which
they are unless tshark cuts connections differently.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Executor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal

from monoview.core.errors import Cancelled
from monoview.core.executor import CANCEL_POLL_S
from monoview.gui.worker import BackgroundCall

if TYPE_CHECKING:
    from monoview.core.document import CaptureDocument
    from monoview.gui.filtering import SessionFilter
    from monoview.gui.models.session_list import SessionListModel

SHUTDOWN_MS = 5000
Named = tuple[list[str], tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]


class ApplicationNamer(QObject):
    """Names the applications of the current document's sessions, and numbers their tshark
    streams, off the GUI thread.

    Signals:
        named(): the names and stream numbers of the current document arrived.
    """

    named = Signal()

    def __init__(
        self,
        model: SessionListModel,
        session_filter: SessionFilter,
        parent: QObject | None = None,
        pool: Callable[[], Executor | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._model, self._filter, self._pool = model, session_filter, pool
        self._job: BackgroundCall | None = None
        self.document: CaptureDocument | None = None

    @property
    def busy(self) -> bool:
        """The names of the current document are being worked out."""
        return self._job is not None

    def set_document(self, document: CaptureDocument | None) -> None:
        """Name the sessions of ``document`` (None: stop naming)."""
        self.stop()
        self.document = document
        if document is None or not len(document):
            return
        if document.names is not None:  # worked out with the list, by the workers that made it
            self._named(None, document, (document.names.applications, document.names.streams))
            return
        pool = self._pool if document.parts.folder is not None else None

        def work(cancelled: threading.Event) -> Named:
            from monoview.core.flows.applications import application_names
            from monoview.core.flows.tcpstream import tcp_streams

            executor = pool() if pool is not None else None  # started in this thread, if at all
            if executor is not None:
                try:
                    return _in_worker(executor, document, cancelled)
                except BrokenExecutor:
                    pass  # the worker processes are gone: name them here
            names = application_names(document.parts, document.rows, document.buffer)
            return names, tcp_streams(document.parts, document.flows, document.rows).session_pairs()

        job = BackgroundCall(work, self)
        self._job = job
        job.succeeded.connect(lambda names: self._named(job, document, names))
        job.finished.connect(lambda: self._ended(job))
        job.start()

    def stop(self, timeout_ms: int = SHUTDOWN_MS) -> None:
        """Stop naming (the names of a document being let go are not wanted)."""
        job, self._job = self._job, None
        if job is not None:
            job.shutdown(timeout_ms)

    def _named(self, job: BackgroundCall | None, document: CaptureDocument, named: Named) -> None:
        names, streams = named
        if self._job is job and self.document is document and len(names) == len(document):
            self._model.set_applications(names, streams)
            self._filter.refresh()
            self.named.emit()

    def _ended(self, job: BackgroundCall) -> None:
        if self._job is job:
            self._job = None
        job.deleteLater()


def _in_worker(pool: Executor, document: CaptureDocument, cancelled: threading.Event) -> Named:
    """Names and stream numbers, each worked out by a worker process of its own at once."""
    from monoview.core.flows.applications import ApplicationTask, name_applications, number_streams

    task = ApplicationTask(str(document.path), document.parts, document.rows)
    names, streams = pool.submit(name_applications, task), pool.submit(number_streams, task)
    while True:
        try:
            return names.result(timeout=CANCEL_POLL_S), streams.result(timeout=CANCEL_POLL_S)
        except FutureTimeout:
            if cancelled.is_set():
                names.cancel()
                streams.cancel()
                raise Cancelled from None
