"""The filter box: which sessions the tree shows (``core.flows.query`` says what the text means).

Addresses, ports, streams and VLANs are numpy masks over the document's
columns, applied at once.  Payload phrases need the sessions' bytes (a
gigabyte for a 1 GB file), so a worker thread reads them, only for the
sessions whose answer depends on them, and the matches join the view as they
are found.  A session is shown only once its answer is known.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal

from monoview.gui.worker import BackgroundCall

if TYPE_CHECKING:
    from monoview.core.document import CaptureDocument
    from monoview.core.flows.query import Phrase, Query
    from monoview.core.flows.search import Found
    from monoview.gui.models.session_list import SessionListModel

Mask = npt.NDArray[np.bool_]
# Fewer sessions to search than this are searched in the thread itself (no round trips).
PARALLEL_SEARCH: Final = 64


class _Relay(QObject):
    found = Signal(object)  # (generation, Found)


class SessionFilter(QObject):
    """Applies the filter text to the session model.

    Signals:
        searching_changed(bool): a payload search started or ended.
        changed(): the shown sessions changed.
        invalid(str): the text is not a filter (the sentence says why); the last
            valid filter stays applied.
    """

    searching_changed = Signal(bool)
    changed = Signal()
    invalid = Signal(str)

    def __init__(
        self,
        model: SessionListModel,
        parent: QObject | None = None,
        pool: Callable[[], tuple[Executor, int]] | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self._pool = pool  # the window's worker processes and their number, for big searches
        self.document: CaptureDocument | None = None
        self.text = ""
        self.query: Query | None = None
        self._known: Mask = np.zeros(0, dtype=np.bool_)  # sessions whose answer is known
        self._values: dict[Phrase, Mask] = {}
        self._search: BackgroundCall | None = None
        self._generation = 0  # of the running search: finds of an older one are dropped
        self._relay = _Relay(self)
        self._relay.found.connect(self._found)

    @property
    def active(self) -> bool:
        """A filter is applied."""
        return self.query is not None

    @property
    def searching(self) -> bool:
        """A payload search is running."""
        return self._search is not None

    def set_document(self, document: CaptureDocument | None) -> None:
        """A new capture: the current text applies to it (as Wireshark keeps its display
        filter from one file to the next); without a capture it is kept for the next one."""
        self.stop_search()
        self.document = document
        text, self.text, self.query = self.text, "", None
        if document is not None and text:
            self.set_text(text)
        else:
            self.text = text

    def set_text(self, text: str) -> None:
        """Filter by ``text`` (empty: show all); ``invalid`` if it is not a filter."""
        if text.strip() == self.text.strip() and (self.query is not None or not text.strip()):
            return
        from monoview.core.flows.query import QueryError, parse_query  # the first filter typed

        try:
            query = parse_query(text)
        except QueryError as exc:
            self.invalid.emit(str(exc))
            return
        self.stop_search()
        self.text, self.query = text, query
        columns, document = self.model.columns, self.document
        if query is None or columns is None or document is None:
            self.model.set_visible(None)
            self.changed.emit()
            return
        n = len(columns)
        decided, _answer = query.decided(columns)
        without_payload = (document.rows["kept0"] + document.rows["kept1"]) == 0
        self._known = decided | without_payload
        self._values = {phrase: np.zeros(n, dtype=np.bool_) for phrase in query.phrases}
        self._apply()
        todo = np.flatnonzero(~self._known) + 1
        if len(todo):
            self._start_search(document, query, todo.tolist())

    def refresh(self) -> None:
        """Apply the filter again: a column it reads has changed (the application names
        arrived)."""
        if self.query is not None and self.model.columns is not None:
            self._apply()

    def _apply(self) -> None:
        query, columns = self.query, self.model.columns
        assert query is not None and columns is not None
        values = self._values
        shown = query.mask(columns, lambda phrase: values[phrase]) & self._known
        self.model.set_visible(shown)
        self.changed.emit()

    def _start_search(self, document: CaptureDocument, query: Query, ids: list[int]) -> None:
        relay = self._relay
        self._generation += 1
        generation = self._generation
        phrases = query.phrases
        pool = self._pool if len(ids) >= PARALLEL_SEARCH else None

        def work(cancelled: threading.Event) -> Found:
            from monoview.core.flows.search import search_in_workers, search_sessions

            def report(found: Found) -> None:
                relay.found.emit((generation, found))

            if pool is not None:
                executor, workers = pool()
                return search_in_workers(
                    document, ids, phrases, executor, workers, cancel=cancelled.is_set, report=report
                )
            return search_sessions(document, ids, phrases, cancel=cancelled.is_set, report=report)

        job = BackgroundCall(work, self)
        self._search = job
        job.succeeded.connect(lambda found: self._found((generation, found)))
        job.finished.connect(lambda: self._ended(job))
        self.searching_changed.emit(True)
        job.start()

    def _found(self, message: tuple[int, Found]) -> None:
        generation, found = message
        if generation != self._generation or not found or self.query is None:
            return
        phrases = self.query.phrases
        for session_id, hits in found:
            number = session_id - 1
            self._known[number] = True
            for phrase, hit in zip(phrases, hits, strict=True):
                self._values[phrase][number] = hit
        self._apply()

    def _ended(self, job: BackgroundCall) -> None:
        if job is self._search:
            self._search = None
            self.searching_changed.emit(False)
            self.changed.emit()
        job.deleteLater()

    def stop_search(self, timeout_ms: int = 5000) -> None:
        """Cancel a running payload search and wait for its thread; its finds are dropped."""
        job, self._search = self._search, None
        self._generation += 1
        if job is not None:
            job.shutdown(timeout_ms)
            self.searching_changed.emit(False)
