"""Sorting and filtering of the session tree.

A session row passes the filter when every word of the filter text is found in
its client or server address (``10.0.0.1``, ``:443``, ``[::1]``) or in the
payload bytes received so far (case-insensitive for ASCII).  Monologue rows
follow their session and keep conversation order whatever column is sorted.

Searching payload reads every byte of every session from the capture (a
gigabyte for a 1 GB file), so it runs in a worker thread: address matches show
at once, payload matches join the view when the search has looked at them.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)

from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.gui.models.roles import Role
from monoview.gui.models.session_tree import SessionTreeModel
from monoview.gui.worker import BackgroundCall

# (session id, monologues looked at, word)
HitKey = tuple[int, int, str]


def payload_hits(
    todo: list[tuple[HitKey, list[Monologue]]], cancelled: threading.Event
) -> dict[HitKey, bool]:
    """Which of the queued (session, word) pairs have the word in their payload (worker thread)."""
    found: dict[HitKey, bool] = {}
    for key, monologues in todo:
        if cancelled.is_set():
            break
        needle = key[2].encode("utf-8")
        found[key] = any(needle in m.data().lower() for m in monologues)
    return found


Index = QModelIndex | QPersistentModelIndex


class SessionFilterProxy(QSortFilterProxyModel):
    """Sort by the model's ``Role.SORT``; filter sessions by address or payload words.

    Signals:
        searching_changed(bool): a payload search started or ended.
    """

    searching_changed = Signal(bool)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(Role.SORT)
        self._words: list[str] = []
        # (session id, monologues seen, word) -> found; payload never changes for a given count
        self._payload_hits: dict[HitKey, bool] = {}
        self._todo: dict[HitKey, list[Monologue]] = {}
        self._search: BackgroundCall | None = None
        self._kick = QTimer(self)
        self._kick.setSingleShot(True)
        self._kick.setInterval(0)
        self._kick.timeout.connect(self._start_search)

    def tree(self) -> SessionTreeModel:
        """The source model."""
        source = self.sourceModel()
        assert isinstance(source, SessionTreeModel)
        return source

    @property
    def filter_words(self) -> list[str]:
        """The words every shown session must contain (lower case)."""
        return list(self._words)

    def set_filter_text(self, text: str) -> None:
        """Filter by the whitespace-separated words of ``text`` (empty: show all)."""
        words = text.lower().split()
        if words == self._words:
            return
        self.beginFilterChange()
        self._words = words
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """Override QAbstractItemModel::multiData: the whole cell from the source in one call.

        QSortFilterProxyModel answers it with one mapped ``data()`` per role,
        and the tree's delegate asks for seven roles per painted cell
        (``SessionTreeModel.multiData`` says what that cost).
        """
        self.tree().multiData(self.mapToSource(index), roleDataSpan)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        """Override QSortFilterProxyModel::filterAcceptsRow."""
        if source_parent.isValid() or not self._words:
            return True
        session = self.tree().sessions[source_row]
        return all(self._matches(session, word) for word in self._words)

    def _matches(self, session: TcpSession, word: str) -> bool:
        if word in f"{session.client} {session.server} #{session.id}".lower():
            return True
        monologues = self.tree().monologues_of(session)
        key = (session.id, len(monologues), word)
        hit = self._payload_hits.get(key)
        if hit is None:
            # Not looked at yet: hidden until the worker has searched it.
            self._todo[key] = list(monologues)
            self._kick.start()
            return False
        return hit

    @property
    def searching(self) -> bool:
        """A payload search is running or queued."""
        return self._search is not None or bool(self._todo)

    def _start_search(self) -> None:
        if self._search is not None or not self._todo:
            return
        todo = [(k, m) for k, m in self._todo.items() if k[2] in self._words]
        self._todo.clear()
        if not todo:
            return
        search = BackgroundCall(lambda cancelled: payload_hits(todo, cancelled), self)
        search.succeeded.connect(self._search_done)
        search.finished.connect(self._search_ended)
        self._search = search
        self.searching_changed.emit(True)
        search.start()

    def _search_done(self, found: dict[HitKey, bool]) -> None:
        self._payload_hits.update(found)
        if any(found.values()):
            self.beginFilterChange()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def _search_ended(self) -> None:
        search, self._search = self._search, None
        if search is not None:
            search.deleteLater()
        if self._todo:
            self._kick.start()
        else:
            self.searching_changed.emit(False)

    def stop_search(self, timeout_ms: int = 2000) -> None:
        """Cancel a running payload search and wait for its thread (window closing, new capture)."""
        self._todo.clear()
        if self._search is not None:
            self._search.shutdown(timeout_ms)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Override QSortFilterProxyModel::sort: keep monologues in conversation order.

        Sorting compares ``Role.SORT`` values in C++ (no Python ``lessThan``:
        thousands of sessions sort in milliseconds); the monologue rows'
        values are signed so that they come out ascending either way.
        """
        self.tree().child_sort_sign = -1 if order == Qt.SortOrder.DescendingOrder else 1
        super().sort(column, order)
