"""The HTTP tab's list: one row per transaction of the selected session."""

from __future__ import annotations

from typing import Any, Final

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from monoview.core import display as fmt
from monoview.core.http import HttpTransaction

Index = QModelIndex | QPersistentModelIndex
HEADERS: Final = ("#", "Method", "Host", "URI", "Status", "Content type", "Size")
RIGHT: Final = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class HttpTransactionsModel(QAbstractTableModel):
    """Transactions of one session: request line, status, what the answer holds."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.transactions: list[HttpTransaction] = []

    def set_transactions(self, transactions: list[HttpTransaction]) -> None:
        """Show these (an empty list: none)."""
        self.beginResetModel()
        self.transactions = transactions
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Override QAbstractTableModel::rowCount."""
        return 0 if parent.isValid() else len(self.transactions)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        """Override QAbstractTableModel::columnCount."""
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Override QAbstractTableModel::headerData."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section] if 0 <= section < len(HEADERS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Override QAbstractTableModel::data."""
        if not index.isValid() or not 0 <= index.row() < len(self.transactions):
            return None
        t = self.transactions[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 4, 6):
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and column == 3:
            return t.uri
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        response = t.response
        texts = (
            str(t.index),
            t.method or "(response only)",
            t.host,
            t.uri,
            "" if t.status is None else str(t.status),
            "" if response is None else response.headers.get("content-type", ""),
            "" if response is None else fmt.size(response.decoded_length or response.body_length),
        )
        return texts[column]
