"""The session tree: one row per session, its monologues as child rows.

The model is fed batches from the loader (``append_batch``) and keeps its own
lists of what it was told, so it never walks ``session.monologues`` while the
worker thread may be appending to it; monologue objects never change once
emitted.  Session-level numbers (packets, bytes, state) are read live, and a
``dataChanged`` per batch refreshes them.  Strings are built at display time,
as Wireshark's packet list does.

Index layout: a session row has internal id 0; a monologue row has internal id
``session_row + 1``.  Python objects are never stored in ``internalPointer``.

Every call from Qt into Python costs far more than the Python it runs (and,
while a capture loads, a wait for the interpreter lock the reader holds), so
the model answers the item delegate's questions about a cell in one
``multiData`` call and leaves ``flags`` to Qt.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import Any, Final

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

from monoview.core.analyse import Batch
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.gui.models import format as fmt
from monoview.gui.models.roles import Role

Index = QModelIndex | QPersistentModelIndex

COLUMNS: Final = (
    "ID",
    "Client",
    "Server",
    "Start",
    "Duration",
    "Packets",
    "Bytes C→S",
    "Bytes S→C",
    "Status",
)
(COL_ID, COL_CLIENT, COL_SERVER, COL_START, COL_DURATION, COL_PACKETS, COL_C2S, COL_S2C, COL_STATUS) = range(
    len(COLUMNS)
)
NUMERIC: Final = frozenset({COL_ID, COL_DURATION, COL_PACKETS, COL_C2S, COL_S2C})
HEALTH_COLOURS: Final = {"good": QColor(46, 160, 67), "warn": QColor(219, 150, 0), "bad": QColor(207, 34, 46)}
DIRECTION_COLOURS: Final = {"c2s": QColor(160, 20, 20), "s2c": QColor(20, 20, 160)}
_ROLE = Qt.ItemDataRole
DISPLAY: Final = int(_ROLE.DisplayRole)
DECORATION: Final = int(_ROLE.DecorationRole)
ALIGNMENT: Final = int(_ROLE.TextAlignmentRole)
FOREGROUND: Final = int(_ROLE.ForegroundRole)
# The roles QStyledItemDelegate reads for every cell it paints (all through one multiData).
PAINT_ROLES: Final = frozenset(
    (DISPLAY, DECORATION, ALIGNMENT, FOREGROUND)
    + (int(_ROLE.FontRole), int(_ROLE.BackgroundRole), int(_ROLE.CheckStateRole))
)
RIGHT: Final = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


class SessionTreeModel(QAbstractItemModel):
    """Sessions of one capture, with their monologues as children."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._sessions: list[TcpSession] = []
        self._monologues: list[list[Monologue]] = []
        self._row_of: dict[int, int] = {}
        self.child_sort_sign = 1  # set by the proxy: monologues always sort in conversation order

    # -- feeding ------------------------------------------------------------

    def clear(self) -> None:
        """Forget every session (a new capture is being opened)."""
        self.beginResetModel()
        self._sessions, self._monologues, self._row_of = [], [], {}
        self.endResetModel()

    def append_batch(self, batch: Batch) -> None:
        """Add the sessions and monologues of ``batch``; refresh the finished sessions.

        Monologues of sessions that are new in this batch go in with their
        session row (one insert for all of them); only sessions known before
        get child-row inserts.
        """
        grouped: dict[int, list[Monologue]] = defaultdict(list)
        for monologue in batch.monologues:
            grouped[monologue.session.id].append(monologue)
        if batch.new_sessions:
            first = len(self._sessions)
            self.beginInsertRows(QModelIndex(), first, first + len(batch.new_sessions) - 1)
            for session in batch.new_sessions:
                self._row_of[session.id] = len(self._sessions)
                self._sessions.append(session)
                self._monologues.append(grouped.pop(session.id, []))
            self.endInsertRows()
        for session_id, monologues in grouped.items():
            row = self._row_of.get(session_id)
            if row is None:  # pragma: no cover - the core reports sessions before their monologues
                continue
            known = self._monologues[row]
            parent = self.index(row, 0)
            self.beginInsertRows(parent, len(known), len(known) + len(monologues) - 1)
            known.extend(monologues)
            self.endInsertRows()
        self._refresh([self._row_of[s.id] for s in batch.ended if s.id in self._row_of])

    def _refresh(self, rows: list[int]) -> None:
        """``dataChanged`` for finished sessions, one signal per run of adjacent rows.

        Sessions still open change with every packet; their cells are read at
        paint time, so the window repaints the whole tree after each batch
        (``MainWindow._hold_tree_paint``) rather than this model signalling
        thousands of rows per batch.
        """
        last_column = len(COLUMNS) - 1
        for first, last in _runs(sorted(set(rows))):
            self.dataChanged.emit(self.index(first, 0), self.index(last, last_column))

    # -- lookups ------------------------------------------------------------

    @property
    def sessions(self) -> list[TcpSession]:
        """Sessions known to the model, in row order."""
        return self._sessions

    def monologues_of(self, session: TcpSession) -> list[Monologue]:
        """Monologues of ``session`` received so far (a copy-free view, do not modify)."""
        row = self._row_of.get(session.id)
        return [] if row is None else self._monologues[row]

    def session_index(self, session_id: int, column: int = 0) -> QModelIndex:
        """Index of a session's row, invalid if unknown."""
        row = self._row_of.get(session_id)
        return QModelIndex() if row is None else self.index(row, column)

    def monologue_index(self, monologue: Monologue, column: int = 0) -> QModelIndex:
        """Index of a monologue's row, invalid if unknown."""
        row = self._row_of.get(monologue.session.id)
        if row is None or monologue.index >= len(self._monologues[row]):
            return QModelIndex()
        return self.index(monologue.index, column, self.index(row, 0))

    def session_at(self, index: Index) -> TcpSession | None:
        """The session of a session row or of a monologue row."""
        if not index.isValid():
            return None
        parent_id = index.internalId()
        row = index.row() if parent_id == 0 else parent_id - 1
        return self._sessions[row] if 0 <= row < len(self._sessions) else None

    def monologue_at(self, index: Index) -> Monologue | None:
        """The monologue of a monologue row, None for a session row."""
        if not index.isValid() or index.internalId() == 0:
            return None
        return self._monologues[index.internalId() - 1][index.row()]

    # -- QAbstractItemModel ---------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        """Override QAbstractItemModel::index.

        Bounds are checked here rather than with ``hasIndex``, which calls back
        into Python for rowCount and columnCount: the views and the proxy ask
        for tens of thousands of indexes while a capture loads.
        """
        if row < 0 or not 0 <= column < len(COLUMNS):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, column, 0) if row < len(self._sessions) else QModelIndex()
        if parent.internalId() != 0 or parent.column() != 0:
            return QModelIndex()
        session_row = parent.row()
        if row >= len(self._monologues[session_row]):
            return QModelIndex()
        return self.createIndex(row, column, session_row + 1)

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        """Override QAbstractItemModel::parent."""
        if not index.isValid() or index.internalId() == 0:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, 0)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        """Override QAbstractItemModel::rowCount."""
        if not parent.isValid():
            return len(self._sessions)
        if parent.column() != 0 or parent.internalId() != 0:
            return 0
        return len(self._monologues[parent.row()])

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        """Override QAbstractItemModel::columnCount."""
        return len(COLUMNS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:
        """Override QAbstractItemModel::hasChildren."""
        return self.rowCount(parent) > 0

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        """Override QAbstractItemModel::headerData."""
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC:
                return RIGHT
        return None

    # No ``flags`` override: Qt's own answer (enabled, selectable) is the same, and the
    # tree asks for it for every painted cell and, at each layout, for every session.

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Override QAbstractItemModel::data."""
        if not index.isValid():
            return None
        if role in PAINT_ROLES:
            return self._painted(index).get(role)
        if index.internalId() == 0:
            return self._session_data(self._sessions[index.row()], index.column(), role)
        monologue = self._monologues[index.internalId() - 1][index.row()]
        return self._monologue_data(monologue, role)

    def multiData(self, index: Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """Override QAbstractItemModel::multiData: every role of one cell in one call.

        The item delegate reads seven roles for each cell it paints.  Through
        ``data()`` that was a call from C++ into Python per role (two through
        the proxy): over 4,000 per repaint of the tree, each one waiting for
        the interpreter lock while the loader thread holds it, so repaints
        during a load took 40–100 ms.
        """
        entries = _entries(roleDataSpan)
        if not index.isValid():
            for entry in entries:
                entry.clearData()
            return
        painted = self._painted(index)
        for entry in entries:
            role = entry.role()
            entry.setData(painted.get(role) if role in PAINT_ROLES else self.data(index, role))

    # -- cells ----------------------------------------------------------------

    def _painted(self, index: Index) -> dict[int, Any]:
        """What the delegate draws in a cell (the ``PAINT_ROLES`` that are not empty)."""
        column = index.column()
        parent_id = index.internalId()
        if parent_id == 0:
            s = self._sessions[index.row()]
            cell: dict[int, Any] = {DISPLAY: self._session_text(s, column)}
            if column == COL_STATUS:
                cell[DECORATION] = _health_icon(fmt.session_health(s))
        else:
            monologues = self._monologues[parent_id - 1]
            row = index.row()
            m = monologues[row]
            previous = monologues[row - 1] if row > 0 else None
            cell = {
                DISPLAY: self._monologue_text(m, previous, column),
                FOREGROUND: DIRECTION_COLOURS[m.direction],
            }
        if column in NUMERIC:
            cell[ALIGNMENT] = RIGHT
        return cell

    def _session_data(self, s: TcpSession, column: int, role: int) -> Any:
        if role == Role.SORT:
            return self._session_sort(s, column)
        if role == Role.SESSION:
            return s
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"Session {s.id}: {s.key}\nstarted {fmt.date_time(s.first_ts_ns)}\n"
                f"client chosen by: {s.client_basis}\n" + ", ".join(fmt.session_flags(s))
            )
        return None  # Role.MONOLOGUE too: a session row has none

    @staticmethod
    def _session_text(s: TcpSession, column: int) -> str:
        if column == COL_ID:
            return str(s.id)
        if column == COL_CLIENT:
            return str(s.client)
        if column == COL_SERVER:
            return str(s.server)
        if column == COL_START:
            return fmt.clock(s.first_ts_ns)
        if column == COL_DURATION:
            return fmt.duration(s.duration_ns)
        if column == COL_PACKETS:
            return fmt.size(s.packets)
        if column == COL_C2S:
            return fmt.size(s.stream("c2s").kept)
        if column == COL_S2C:
            return fmt.size(s.stream("s2c").kept)
        return ", ".join(fmt.session_flags(s))

    @staticmethod
    def _session_sort(s: TcpSession, column: int) -> Any:
        keys = {
            COL_ID: s.id,
            COL_CLIENT: (s.client.ip, s.client.port),
            COL_SERVER: (s.server.ip, s.server.port),
            COL_START: s.first_ts_ns,
            COL_DURATION: s.duration_ns,
            COL_PACKETS: s.packets,
            COL_C2S: s.stream("c2s").kept,
            COL_S2C: s.stream("s2c").kept,
        }
        key = keys.get(column)
        if isinstance(key, tuple):  # QVariant cannot hold a tuple: make a sortable string
            ip, port = key
            return f"{len(ip):02d}{ip.hex()}{port:05d}"
        return key if key is not None else ", ".join(fmt.session_flags(s))

    def _monologue_data(self, m: Monologue, role: int) -> Any:
        if role == Role.SORT:
            return m.index * self.child_sort_sign
        if role == Role.SESSION:
            return m.session
        if role == Role.MONOLOGUE:
            return m
        if role == Qt.ItemDataRole.ToolTipRole:
            return (
                f"Monologue #{m.index} {m.direction}, {m.length:,} bytes at stream offset {m.offset:,}\n"
                f"captured {fmt.date_time(m.first_ts_ns)}, frames {_frames(m)}"
            )
        return None

    @staticmethod
    def _monologue_text(m: Monologue, previous: Monologue | None, column: int) -> str:
        if column == COL_ID:
            return f"#{m.index}"
        if column == COL_CLIENT:
            return "→ from client" if m.direction == "c2s" else "← from server"
        if column == COL_SERVER:
            return f"offset {m.offset:,}"
        if column == COL_START:
            return fmt.delta(m.first_ts_ns - previous.last_ts_ns) if previous else fmt.clock(m.first_ts_ns)
        if column == COL_DURATION:
            return fmt.duration(m.last_ts_ns - m.first_ts_ns)
        if column == COL_PACKETS:
            return fmt.size(m.packets)
        if column == COL_C2S:
            return fmt.size(m.length) if m.direction == "c2s" else ""
        if column == COL_S2C:
            return fmt.size(m.length) if m.direction == "s2c" else ""
        gaps = m.gaps()
        return f"{sum(g.length for g in gaps):,} bytes missing" if gaps else ""


@cache
def _health_icon(health: str) -> QIcon:
    """A filled circle in the colour of ``health`` (made once per colour)."""
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(HEALTH_COLOURS[health])
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)


def _entries(span: QModelRoleDataSpan | QModelRoleData) -> list[QModelRoleData]:
    """The role/value slots of a ``multiData`` request (PySide6's stubs lack the span's indexing)."""
    if isinstance(span, QModelRoleData):
        return [span]
    slots: Any = span
    return [slots[k] for k in range(span.size())]


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted rows as ``(first, last)`` runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _frames(m: Monologue) -> str:
    frames = m.frames
    if len(frames) <= 6:
        return ", ".join(map(str, frames))
    return f"{frames[0]}…{frames[-1]} ({len(frames)})"
