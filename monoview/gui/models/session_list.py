"""The session tree on a capture document: sessions from its columns, monologues on demand.

Top-level rows are sessions, read from ``SessionColumns`` (numpy arrays over
the document's session rows): no Python object per session, a sort is one
stable ``argsort`` (``sort`` keeps the current and selected rows through a
layout change), a filter is a boolean mask.  A session's monologues are its
child rows once its conversation was reassembled: ``fetchMore`` asks for it
(``monologues_wanted``), and whoever reassembles it hands the monologues back
(``set_monologues``), so a big session is reassembled off the GUI thread.

Index layout: a session row has internal id 0; a monologue row has internal
id ``session_number + 1`` (the session's 0-based number, not its row, which a
sort changes).  Strings are made at paint time, one ``multiData`` call per
cell (each call from Qt into Python costs far more than the Python it runs),
and kept (``painted_rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from monoview.core.flows.columns import HEADERS, Column, SessionColumns
from monoview.core.tcp.monologue import Monologue
from monoview.gui.models.painted_rows import (
    PAINT_CACHE_ROWS,
    PaintedRows,
    header_data,
    monologue_data,
    session_data,
)
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
_ROOT: Final = QModelIndex()


class SessionListModel(QAbstractItemModel):
    """The sessions of one capture document, with their monologues as children.

    Signals:
        monologues_wanted(int): the view expanded a session whose monologues are not here
            yet (its id); answer with ``set_monologues``.
        cells_changed(): what some session rows show changed in place (the application
            names arrived): a view that keeps painted rows must paint them anew.
    """

    monologues_wanted = Signal(int)
    cells_changed = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.columns: SessionColumns | None = None
        self._shown: I64 = _EMPTY  # session numbers (0-based) in row order
        # The same as a list, and whether each row has child rows (to be fetched or not):
        # the tree asks for every row's index and hasChildren at each layout (20,000 calls
        # each after a sort), so these answer without numpy scalars.
        self._numbers: list[int] = []
        self._kids: list[bool] = []
        self._row_of: I64 = _EMPTY  # session number -> row, -1 when filtered out
        self._visible: npt.NDArray[np.bool_] | None = None  # the filter's mask, None: all
        self._sorted: tuple[Column, bool] = (Column.ID, False)
        self._monologues: dict[int, list[Monologue]] = {}
        self._wanted: set[int] = set()
        self._cells = PaintedRows()
        self._top: dict[tuple[int, int], QModelIndex] = {}  # session rows' indexes, by (row, column)
        # Asked by ``sort`` with the sessions whose monologue rows are in the model: whether
        # the view can take the new order as changed contents of the same rows (none of them
        # expanded, only whole single rows selected); else a sort is a layout change.
        self.permutable: Callable[[list[QModelIndex]], bool] | None = None

    # -- feeding ------------------------------------------------------------

    def set_columns(self, columns: SessionColumns | None) -> None:
        """Show the sessions of a document (None: none), in the current sort order, unfiltered."""
        self.beginResetModel()
        self.columns = columns
        self._monologues, self._wanted, self._visible = {}, set(), None
        self._cells.clear()
        self._arrange()
        self.endResetModel()

    def clear(self) -> None:
        """Forget every session (a capture was closed)."""
        self.set_columns(None)

    def set_monologues(self, session_id: int, monologues: Sequence[Monologue]) -> None:
        """The monologues of a session, now that it was reassembled: its child rows."""
        number = session_id - 1
        self._wanted.discard(number)
        if self.columns is None or number in self._monologues or not 0 <= number < len(self.columns):
            return
        row = int(self._row_of[number])
        if row < 0 or not monologues:
            self._monologues[number] = list(monologues)
            if row >= 0:
                self._kids[row] = False
            return
        self.beginInsertRows(self.index(row, 0), 0, len(monologues) - 1)
        self._monologues[number] = list(monologues)
        self.endInsertRows()

    def set_applications(self, names: list[str], streams: tuple[I64, I64] | None = None) -> None:
        """The sessions' application names (and tshark's stream numbers) arrived: their
        columns show them from now on."""
        columns = self.columns
        if columns is None or len(names) != len(columns):
            return
        columns.applications = names
        if streams is not None:
            columns.set_streams(streams)
        self._cells.forget_sessions()
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

        Monologue rows stay in conversation order under their session; persistent
        indexes (the current row, the selection, expanded rows) follow their rows.
        When the view allows it (``permutable``), the new order is announced as new
        contents of the same rows, not as a new layout.
        """
        if not 0 <= column < len(HEADERS):
            column = Column.ID
        wanted = (Column(column), order == Qt.SortOrder.DescendingOrder)
        if wanted == self._sorted:
            return
        # Sessions with monologue rows, and those asked for and not here yet (one expanded
        # while it is reassembled must keep its place in the view's layout).
        with_rows = [number for number, kids in self._monologues.items() if kids] + list(self._wanted)
        parents = [self.session_index(number + 1) for number in with_rows]
        in_place = self.permutable is not None and self.permutable([p for p in parents if p.isValid()])
        if not in_place:
            self.layoutAboutToBeChanged.emit()
        before = self.persistentIndexList()
        numbers = [self._number_of(index) for index in before]
        self._sorted = wanted
        self._arrange()
        after = [self._reindexed(index, number) for index, number in zip(before, numbers, strict=True)]
        self.changePersistentIndexList(before, after)
        if not in_place:
            self.layoutChanged.emit()
        elif self._numbers:
            # Every row is still a session row with an index of its place only: the rows'
            # contents changed, not the layout, and a view need not lay 20,000 rows out again
            # (two calls into Python per row: a quarter of a second on a busy machine).  From
            # column 1: a change in column 0 makes QTreeView ask every row's hasChildren again
            # (the expanders are drawn from the model: ``row_painter``); the whole viewport is
            # repainted either way.
            self.dataChanged.emit(self.index(0, 1), self.index(len(self._numbers) - 1, COLUMN_COUNT - 1))

    def _number_of(self, index: QModelIndex) -> int:
        """The session number of a session row (-1 for a monologue row, which needs none)."""
        if not index.isValid() or index.internalId() != 0:
            return -1
        return self._numbers[index.row()]

    def _reindexed(self, index: QModelIndex, number: int) -> QModelIndex:
        if number < 0:  # a monologue row: its internal id names its session, its row is the same
            return index
        return self.createIndex(int(self._row_of[number]), index.column(), 0)

    def _arrange(self) -> None:
        """The rows in sort order, filtered; and each session's row."""
        columns = self.columns
        if columns is None or not len(columns):
            self._shown, self._row_of, self._numbers, self._kids = _EMPTY, _EMPTY, [], []
            return
        column, descending = self._sorted
        order = columns.sort_order(column, descending)
        if self._visible is not None:
            order = order[self._visible[order]]
        self._shown = order
        self._numbers = order.tolist()
        kids = columns.rows["monologues"] > 0
        for number, monologues in self._monologues.items():
            kids[number] = bool(monologues)
        self._kids = kids[order].tolist()
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

    def monologues_of(self, session_id: int) -> list[Monologue] | None:
        """Monologues of a session if they are here (a view: do not modify)."""
        return self._monologues.get(session_id - 1)

    def session_index(self, session_id: int, column: int = 0) -> QModelIndex:
        """Index of a session's row, invalid if unknown or filtered out."""
        number = session_id - 1
        if not 0 <= number < len(self._row_of) or self._row_of[number] < 0:
            return QModelIndex()
        return self.createIndex(int(self._row_of[number]), column, 0)

    def monologue_index(self, monologue: Monologue, column: int = 0) -> QModelIndex:
        """Index of a monologue's row, invalid if its session's monologues are not here."""
        number = monologue.session.id - 1
        known = self._monologues.get(number)
        parent = self.session_index(monologue.session.id)
        if known is None or not parent.isValid() or monologue.index >= len(known):
            return QModelIndex()
        return self.createIndex(monologue.index, column, number + 1)

    def session_id_at(self, index: Index) -> int | None:
        """The session id of a session row or of a monologue row."""
        if not index.isValid():
            return None
        parent_id = index.internalId()
        return self._numbers[index.row()] + 1 if parent_id == 0 else parent_id

    def monologue_at(self, index: Index) -> Monologue | None:
        """The monologue of a monologue row, None for a session row."""
        if not index.isValid() or index.internalId() == 0:
            return None
        return self._monologues[index.internalId() - 1][index.row()]

    # -- QAbstractItemModel ---------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        """Override QAbstractItemModel::index (bounds checked here: ``hasIndex`` would call
        back into Python twice).  A session row's index is its position and nothing else
        (internal id 0), the same under any sort or filter: made once per cell and kept."""
        if not parent.isValid():
            if not (0 <= row < len(self._numbers) and 0 <= column < COLUMN_COUNT):
                return QModelIndex()
            made = self._top.get((row, column))
            if made is None:
                if len(self._top) > PAINT_CACHE_ROWS * COLUMN_COUNT:
                    self._top.clear()
                made = self._top[row, column] = self.createIndex(row, column, 0)
            return made
        if row < 0 or not 0 <= column < COLUMN_COUNT or parent.internalId() != 0 or parent.column() != 0:
            return QModelIndex()
        number = self._numbers[parent.row()]
        if row >= len(self._monologues.get(number, ())):
            return QModelIndex()
        return self.createIndex(row, column, number + 1)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        """Override QAbstractItemModel::parent (the tree asks for it about twice per painted
        cell: one call into Qt for a session row; an invalid index has internal id 0 too)."""
        parent_id = index.internalId()
        if not parent_id:
            return _ROOT
        return self.createIndex(int(self._row_of[parent_id - 1]), 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        """Override QAbstractItemModel::rowCount."""
        if not parent.isValid():
            return len(self._numbers)
        if parent.column() != 0 or parent.internalId() != 0:
            return 0
        return len(self._monologues.get(self._numbers[parent.row()], ()))

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        """Override QAbstractItemModel::columnCount."""
        return len(HEADERS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:
        """Override QAbstractItemModel::hasChildren: a session with monologues has children,
        fetched or not (so the view draws its expander)."""
        row = parent.row()  # -1 for the invalid index (the root)
        if row < 0:
            return bool(self._numbers)
        if parent.internalId() or parent.column():
            return False
        return self._kids[row]

    def canFetchMore(self, parent: Index) -> bool:
        """Override QAbstractItemModel::canFetchMore: a session's monologues not here yet."""
        if not parent.isValid() or parent.internalId() != 0 or self.columns is None:
            return False
        number = self._numbers[parent.row()]
        return number not in self._monologues and self._kids[parent.row()]

    def fetchMore(self, parent: Index) -> None:
        """Override QAbstractItemModel::fetchMore: ask for the session's monologues (once)."""
        if not self.canFetchMore(parent):
            return
        number = self._numbers[parent.row()]
        if number not in self._wanted:
            self._wanted.add(number)
            self.monologues_wanted.emit(number + 1)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Override QAbstractItemModel::headerData."""
        return header_data(section, orientation, role)

    # No ``flags`` override: Qt's own answer (enabled, selectable) is the same, and the
    # tree asks for it for every painted cell.

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Override QAbstractItemModel::data."""
        if not index.isValid():
            return None
        if role in PAINT_ROLES:
            return self._painted(index).get(role)
        if index.internalId() == 0:
            return session_data(self.columns, self._numbers[index.row()], role)
        return monologue_data(self._monologues[index.internalId() - 1][index.row()], role)

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """Override QAbstractItemModel::multiData: every role of one cell in one call (the
        delegate asks for seven roles per painted cell: this is the model's hottest code)."""
        if isinstance(roleDataSpan, QModelRoleData):
            self._fill(index, [roleDataSpan])
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

    def _fill(self, index: Index, entries: list[QModelRoleData]) -> None:
        for entry in entries:
            entry.setData(self.data(index, entry.role()))

    # -- cells ----------------------------------------------------------------

    def _painted(self, index: Index) -> Cell:
        """What the delegate draws in a cell (the ``PAINT_ROLES`` that are not empty)."""
        return self.row_cells(index)[index.column()]

    def row_identity(self, index: Index) -> tuple[int, int]:
        """What a row shows, whatever its position: ``(0, session number)`` for a session
        row, ``(session number + 1, monologue row)`` for a monologue row (the tree keeps
        painted rows under this)."""
        parent_id = index.internalId()
        return (0, self._numbers[index.row()]) if parent_id == 0 else (parent_id, index.row())

    def row_cells(self, index: Index) -> list[Cell]:
        """What each cell of ``index``'s row shows, by column: a dict of the ``PAINT_ROLES``
        that are not empty (the tree paints a row from this in one call)."""
        parent_id = index.internalId()
        if parent_id == 0:
            return self._cells.session(self.columns, self._numbers[index.row()])
        return self._cells.monologue(self._monologues[parent_id - 1], parent_id, index.row())
