"""The filter box: which sessions the tree shows.

A session passes when every word of the filter text is found in its client
or server address (``10.0.0.1``, ``:443``, ``[::1]``), in ``#id``, or in the
payload of one of its monologues (case-insensitive for ASCII).  Addresses are
matched at once on the document's columns; payload needs every session's
bytes reassembled (a gigabyte for a 1 GB file), so a worker thread searches
it and the matches join the view as they are found.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal

from monoview.core.document import CaptureDocument
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.worker import BackgroundCall

Mask = npt.NDArray[np.bool_]
# Found payload matches are handed to the view at most this often.
REPORT_EVERY_S: Final = 0.3
# (session id, word) pairs found in payload
Hits = list[tuple[int, str]]


def payload_hits(
    document: CaptureDocument,
    todo: list[tuple[int, list[str]]],
    cancelled: threading.Event,
    report: Callable[[Hits], None],
) -> Hits:
    """Which words each session of ``todo`` has in the payload of one of its monologues.

    Runs in a worker thread; ``report`` hears the pairs found since its last call
    every ``REPORT_EVERY_S``, and the rest are returned at the end.
    """
    found: Hits = []
    last = time.monotonic()
    for session_id, words in todo:
        if cancelled.is_set():
            break
        session = document.conversation(session_id, keep=False)
        needles = [(word, word.encode("utf-8")) for word in words]
        for monologue in session.monologues:
            if not needles:
                break
            data = monologue.data().lower()
            hit = [word for word, needle in needles if needle in data]
            found.extend((session_id, word) for word in hit)
            needles = [(w, n) for w, n in needles if w not in hit]
        if time.monotonic() - last >= REPORT_EVERY_S and found:
            report(found)
            found, last = [], time.monotonic()
    return found


class _Relay(QObject):
    hits = Signal(object)


class SessionFilter(QObject):
    """Applies the filter text to the session model.

    Signals:
        searching_changed(bool): a payload search started or ended.
        changed(): the shown sessions changed.
    """

    searching_changed = Signal(bool)
    changed = Signal()

    def __init__(self, model: SessionListModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.document: CaptureDocument | None = None
        self._words: list[str] = []
        self._by_address: dict[str, Mask] = {}
        self._in_payload: dict[str, Mask] = {}
        self._search: BackgroundCall | None = None
        self._generation = 0  # of the running search: finds of an older one are dropped
        self._relay = _Relay(self)
        self._relay.hits.connect(self._found)

    @property
    def words(self) -> list[str]:
        """The words every shown session must contain (lower case)."""
        return list(self._words)

    @property
    def searching(self) -> bool:
        """A payload search is running."""
        return self._search is not None

    def set_document(self, document: CaptureDocument | None) -> None:
        """A new capture: forget what was matched; the text applies again."""
        self.stop_search()
        self.document = document
        self._by_address, self._in_payload = {}, {}
        words, self._words = self._words, []
        if document is not None and words:
            self.set_text(" ".join(words))

    def set_text(self, text: str) -> None:
        """Filter by the whitespace-separated words of ``text`` (empty: show all)."""
        words = text.lower().split()
        if words == self._words:
            return
        self._words = words
        self.stop_search()
        columns = self.model.columns
        if not words or columns is None or self.document is None:
            self.model.set_visible(None)
            self.changed.emit()
            return
        for word in words:
            if word not in self._by_address:
                self._by_address[word] = columns.matching(word)
        self._apply()
        self._search_payload()

    def _mask(self) -> Mask:
        n = self.model.total
        mask = np.ones(n, dtype=np.bool_)
        for word in self._words:
            mask &= self._by_address[word] | self._in_payload.get(word, np.zeros(n, dtype=np.bool_))
        return mask

    def _apply(self) -> None:
        self.model.set_visible(self._mask())
        self.changed.emit()

    def _search_payload(self) -> None:
        """Search the payload of every session that the addresses alone do not let through
        (for the words they do not match) and that has payload."""
        document = self.document
        assert document is not None
        n = self.model.total
        with_payload = (document.rows["kept0"] + document.rows["kept1"]) > 0
        todo: list[tuple[int, list[str]]] = []
        for number in np.flatnonzero(with_payload).tolist():
            missing = [w for w in self._words if not self._by_address[w][number]]
            if missing:
                todo.append((number + 1, missing))
        for word in self._words:
            self._in_payload.setdefault(word, np.zeros(n, dtype=np.bool_))
        if not todo:
            return
        relay = self._relay
        self._generation += 1
        generation = self._generation

        def work(cancelled: threading.Event) -> Hits:
            return payload_hits(document, todo, cancelled, lambda hits: relay.hits.emit((generation, hits)))

        job = BackgroundCall(work, self)
        self._search = job
        job.succeeded.connect(lambda hits: self._found((generation, hits)))
        job.finished.connect(lambda: self._ended(job))
        self.searching_changed.emit(True)
        job.start()

    def _found(self, found: tuple[int, Hits]) -> None:
        generation, hits = found
        if generation != self._generation or not hits:
            return
        for session_id, word in hits:
            if word in self._in_payload:
                self._in_payload[word][session_id - 1] = True
        self._apply()

    def _ended(self, job: BackgroundCall) -> None:
        if job is self._search:
            self._search = None
            self.searching_changed.emit(False)
        job.deleteLater()

    def stop_search(self, timeout_ms: int = 5000) -> None:
        """Cancel a running payload search and wait for its thread; its finds are dropped."""
        job, self._search = self._search, None
        self._generation += 1
        if job is not None:
            job.shutdown(timeout_ms)
            self.searching_changed.emit(False)
