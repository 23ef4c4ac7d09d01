"""Sorting and filtering of the session tree.

A session row passes the filter when every word of the filter text is found in
its client or server address (``10.0.0.1``, ``:443``, ``[::1]``) or in the
payload bytes received so far (case-insensitive for ASCII).  Monologue rows
follow their session and keep conversation order whatever column is sorted.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from monoview.core.tcp.session import TcpSession
from monoview.gui.models.roles import Role
from monoview.gui.models.session_tree import SessionTreeModel

Index = QModelIndex | QPersistentModelIndex


class SessionFilterProxy(QSortFilterProxyModel):
    """Sort by the model's ``Role.SORT``; filter sessions by address or payload words."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setSortRole(Role.SORT)
        self._words: list[str] = []
        # (session id, monologues seen, word) -> found; payload never changes for a given count
        self._payload_hits: dict[tuple[int, int, str], bool] = {}

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
            needle = word.encode("utf-8")
            hit = any(needle in m.data().lower() for m in monologues)
            self._payload_hits[key] = hit
        return hit

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Override QSortFilterProxyModel::sort: keep monologues in conversation order.

        Sorting compares ``Role.SORT`` values in C++ (no Python ``lessThan``:
        thousands of sessions sort in milliseconds); the monologue rows'
        values are signed so that they come out ascending either way.
        """
        self.tree().child_sort_sign = -1 if order == Qt.SortOrder.DescendingOrder else 1
        super().sort(column, order)
