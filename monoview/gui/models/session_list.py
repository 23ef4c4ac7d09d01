"""The session list on a capture document: one flat row per session, from its columns.

Rows are sessions, read from ``SessionColumns`` (numpy arrays over the
document's session rows): no Python object per session, a sort is one
stable ``argsort`` (``sort`` keeps the current and selected rows through a
layout change), a filter is a boolean mask.  The list is flat, as
Wireshark's conversation and packet lists are: a session's monologues are
listed by the conversation pane, not as child rows here.  A flat model
under a ``QTableView`` is also what keeps a reset cheap: a tree view asks
every top-level row for its index and whether it has children at each
layout (two calls into Python per row, 40,000 for 20,000 sessions), a table
view asks only for the cells it paints.

Strings are made at paint time, one ``multiData`` call per cell (each call
from Qt into Python costs far more than the Python it runs), and kept
(``painted_rows``); the view paints whole rows from ``row_cells``.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from monoview.core.flows.columns import HEADERS, Column, SessionColumns
from monoview.gui.models.painted_rows import PAINT_CACHE_ROWS, PaintedRows, header_data, session_data
from monoview.gui.models.session_cells import ALIGNMENT, DECORATION, DISPLAY, FOREGROUND, Cell

Index = QModelIndex | QPersistentModelIndex
I64 = npt.NDArray[np.int64]

_ROLE = Qt.ItemDataRole
# The roles QStyledItemDelegate reads for every cell it paints (all through one multiData).
PAINT_ROLES: Final = frozenset(
    (DISPLAY, DECORATION, ALIGNMENT, FOREGROUND)
    + (int(_ROLE.FontRole), int(_ROLE.BackgroundRole), int(_ROLE.CheckStateRole))
)
_EMPTY: Final = np.zeros(0, dtype=np.int64)
COLUMN_COUNT: Final = len(HEADERS)


class SessionListModel(QAbstractTableModel):
    """The sessions of one capture document, a row each.

    Signals:
        cells_changed(): what some rows show changed in place (the application names
            arrived): a view that keeps painted rows must paint them anew.
    """

    cells_changed = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.columns: SessionColumns | None = None
        self._shown: I64 = _EMPTY  # session numbers (0-based) in row order
        self._numbers: list[int] = []  # the same as a list: answers without numpy scalars
        self._row_of: I64 = _EMPTY  # session number -> row, -1 when filtered out
        self._visible: npt.NDArray[np.bool_] | None = None  # the filter's mask, None: all
        self._sorted: tuple[Column, bool] = (Column.ID, False)
        self._cells = PaintedRows()
        self._made: dict[tuple[int, int], QModelIndex] = {}  # indexes, by (row, column)

    # -- feeding ------------------------------------------------------------

    def set_columns(self, columns: SessionColumns | None) -> None:
        """Show the sessions of a document (None: none), in the current sort order, unfiltered."""
        self.beginResetModel()
        self.columns = columns
        self._visible = None
        self._cells.clear()
        self._arrange()
        self.endResetModel()

    def clear(self) -> None:
        """Forget every session (a capture was closed)."""
        self.set_columns(None)

    def set_applications(self, names: list[str], streams: tuple[I64, I64] | None = None) -> None:
        """The sessions' application names (and tshark's stream numbers) arrived: their
        columns show them from now on."""
        columns = self.columns
        if columns is None or len(names) != len(columns):
            return
        columns.applications = names
        if streams is not None:
            columns.set_streams(streams)
        self._cells.clear()
        self.cells_changed.emit()
        if self._numbers:
            last = len(self._numbers) - 1
            for column in (int(Column.APPLICATION), int(Column.STREAM)):
                self.dataChanged.emit(self.index(0, column), self.index(last, column))

    def set_visible(self, mask: npt.NDArray[np.bool_] | None) -> None:
        """Show only the sessions where ``mask`` is true (None: all); keeps the sort."""
        if mask is None and self._visible is None:
            return
        if mask is not None and self._visible is not None and np.array_equal(mask, self._visible):
            return
        self.beginResetModel()
        self._visible = mask
        self._arrange()
        self.endResetModel()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Override QAbstractItemModel::sort: a stable numpy sort of the column.

        Persistent indexes (the current row, the selection) follow their sessions.  A
        layout change costs a table view nothing per row (PySide6 has no way to emit
        the signal's sort hint: the column header keeps its sections all the same).
        """
        if not 0 <= column < len(HEADERS):
            column = Column.ID
        wanted = (Column(column), order == Qt.SortOrder.DescendingOrder)
        if wanted == self._sorted:
            return
        self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        numbers = [self._numbers[index.row()] if index.isValid() else -1 for index in before]
        self._sorted = wanted
        self._arrange()
        after = [
            self.createIndex(int(self._row_of[number]), index.column()) if number >= 0 else QModelIndex()
            for index, number in zip(before, numbers, strict=True)
        ]
        self.changePersistentIndexList(before, after)
        self.layoutChanged.emit()

    def _arrange(self) -> None:
        """The rows in sort order, filtered; and each session's row."""
        columns = self.columns
        if columns is None or not len(columns):
            self._shown, self._row_of, self._numbers = _EMPTY, _EMPTY, []
            return
        column, descending = self._sorted
        order = columns.sort_order(column, descending)
        if self._visible is not None:
            order = order[self._visible[order]]
        self._shown = order
        self._numbers = order.tolist()
        self._row_of = np.full(len(columns), -1, dtype=np.int64)
        self._row_of[order] = np.arange(len(order), dtype=np.int64)

    # -- lookups ------------------------------------------------------------

    @property
    def total(self) -> int:
        """Sessions of the document, shown or not."""
        return 0 if self.columns is None else len(self.columns)

    @property
    def sort_key(self) -> tuple[Column, bool]:
        """The column the rows are sorted by, and whether descending."""
        return self._sorted

    def shown_ids(self) -> list[int]:
        """Ids of the shown sessions, in row order."""
        ids: list[int] = (self._shown + 1).tolist()
        return ids

    def session_index(self, session_id: int, column: int = 0) -> QModelIndex:
        """Index of a session's row, invalid if unknown or filtered out."""
        number = session_id - 1
        if not 0 <= number < len(self._row_of) or self._row_of[number] < 0:
            return QModelIndex()
        return self.index(int(self._row_of[number]), column)

    def session_id_at(self, index: Index) -> int | None:
        """The session id of a row."""
        if not index.isValid():
            return None
        return self._numbers[index.row()] + 1

    # -- QAbstractItemModel ---------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        """Override QAbstractTableModel::index (bounds checked here: ``hasIndex`` would call
        back into Python twice).  An index is its position and nothing else, the same under
        any sort or filter: made once per cell and kept."""
        if parent.isValid() or not (0 <= row < len(self._numbers) and 0 <= column < COLUMN_COUNT):
            return QModelIndex()
        made = self._made.get((row, column))
        if made is None:
            if len(self._made) > PAINT_CACHE_ROWS * COLUMN_COUNT:
                self._made.clear()
            made = self._made[row, column] = self.createIndex(row, column)
        return made

    # No ``parent``, ``hasChildren`` or ``flags`` override: QAbstractTableModel's own
    # answers (no parent, no children, enabled and selectable) are right, and made in C++.

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        """Override QAbstractItemModel::rowCount."""
        return 0 if parent.isValid() else len(self._numbers)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        """Override QAbstractItemModel::columnCount."""
        return 0 if parent.isValid() else COLUMN_COUNT

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Override QAbstractItemModel::headerData."""
        return header_data(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Override QAbstractItemModel::data."""
        if not index.isValid():
            return None
        if role in PAINT_ROLES:
            return self._painted(index).get(role)
        return session_data(self.columns, self._numbers[index.row()], role)

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """Override QAbstractItemModel::multiData: every role of one cell in one call (a
        delegate asks for seven roles per cell it paints)."""
        if isinstance(roleDataSpan, QModelRoleData):
            roleDataSpan.setData(self.data(index, roleDataSpan.role()))
            return
        slots: Any = roleDataSpan  # PySide6's stubs lack the span's indexing
        if not index.isValid():
            for k in range(roleDataSpan.size()):
                slots[k].clearData()
            return
        painted = self._painted(index)
        for k in range(roleDataSpan.size()):
            entry = slots[k]
            role = entry.role()
            if role in PAINT_ROLES:
                entry.setData(painted.get(role))
            else:
                entry.setData(self.data(index, role))

    # -- cells ----------------------------------------------------------------

    def _painted(self, index: Index) -> Cell:
        """What a delegate would draw in a cell (the ``PAINT_ROLES`` that are not empty)."""
        return self.row_cells(index)[index.column()]

    def row_identity(self, index: Index) -> int:
        """What a row shows, whatever its position: its session number (the view keeps
        painted rows under this)."""
        return self._numbers[index.row()]

    def row_cells(self, index: Index) -> list[Cell]:
        """What each cell of ``index``'s row shows, by column: a dict of the ``PAINT_ROLES``
        that are not empty (the view paints a row from this in one call)."""
        return self._cells.session(self.columns, self._numbers[index.row()])
