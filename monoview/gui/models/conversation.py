"""The conversation's model: a session's monologues (and the gaps between them) as list rows.

Rows are monologues and, between them, the holes of a direction as rows of
their own.  A monologue's preview (its first ``PREVIEW_BYTES`` bytes, decoded,
gaps inside it as lines) is built only when its row is first measured or
painted, so a 50 MB session costs no more than a small one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from monoview.core.render import decode_text
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.records import Gap
from monoview.core.tcp.session import TcpSession

Index = QModelIndex | QPersistentModelIndex

PREVIEW_BYTES: Final = 2048
PREVIEW_LINES: Final = 16
WRAP: Final = 160
ITEM_ROLE: Final = Qt.ItemDataRole.UserRole + 10


@dataclass(frozen=True)
class MonologueItem:
    """A monologue row; ``previous`` is the monologue before it in the conversation."""

    monologue: Monologue
    previous: Monologue | None
    conflicts: int


@dataclass(frozen=True)
class GapItem:
    """Bytes missing from a direction outside any monologue (before it, or at the end)."""

    direction: str
    gap: Gap


@dataclass(frozen=True)
class Preview:
    """Lines shown under a monologue header: ``("text"|"gap"|"more", text)``."""

    lines: tuple[tuple[str, str], ...]


def gap_text(gap: Gap, direction: str | None = None) -> str:
    """``1,448 bytes missing (not captured)``, optionally naming the direction."""
    side = (
        "" if direction is None else f" from {'client → server' if direction == 'c2s' else 'server → client'}"
    )
    return f"{gap.length:,} bytes missing{side} ({gap.cause.value})"


def build_preview(monologue: Monologue, encoding: str) -> Preview:
    """The first bytes of a monologue as wrapped text lines, inner gaps as their own lines."""
    lines: list[tuple[str, str]] = []
    gaps = [g for g in monologue.gaps() if g.offset >= monologue.offset]
    shown = 0
    pending = b""
    end: int | None = None

    def flush() -> None:
        nonlocal pending
        if pending:
            for raw in pending.split(b"\n") if not pending.endswith(b"\n") else pending[:-1].split(b"\n"):
                text = decode_text(raw, encoding)
                lines.extend(("text", text[i : i + WRAP]) for i in range(0, max(len(text), 1), WRAP))
            pending = b""

    for offset, length, file_offset, _frame in monologue.pieces():
        if end is not None and offset > end:
            flush()
            lines.extend(("gap", gap_text(g)) for g in gaps if end <= g.offset < offset)
        take = min(length, PREVIEW_BYTES - shown)
        pending += monologue.session.read(file_offset, take)
        shown += take
        end = offset + length
        if shown >= PREVIEW_BYTES:
            break
    flush()
    if len(lines) > PREVIEW_LINES or shown < monologue.length:
        lines = lines[:PREVIEW_LINES]
        lines.append(("more", f"⋯ {monologue.length:,} bytes in all; select to see every byte below"))
    return Preview(tuple(lines))


class ConversationModel(QAbstractListModel):
    """Rows of one session's conversation: monologues and stand-alone gaps."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.session: TcpSession | None = None
        self._items: list[MonologueItem | GapItem] = []
        self._row_of: dict[int, int] = {}
        self._previews: dict[int, Preview] = {}
        self._last: Monologue | None = None
        self._gaps_placed: set[tuple[str, int]] = set()
        self._finished = False
        self.encoding = "ascii"

    def set_session(self, session: TcpSession | None, monologues: Sequence[Monologue]) -> None:
        """Show ``session`` with the monologues received so far."""
        self.beginResetModel()
        self.session = session
        self._items, self._row_of, self._previews = [], {}, {}
        self._last, self._gaps_placed, self._finished = None, set(), False
        self._items.extend(self._rows_for(monologues))
        self.endResetModel()

    def append(self, monologues: Sequence[Monologue]) -> None:
        """Add monologues the loader found since (for the session shown)."""
        rows = self._rows_for(monologues)
        if rows:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._items.extend(rows)
            self.endInsertRows()

    def finish(self) -> None:
        """The session ended: add the gaps after the last monologue of each direction."""
        if self.session is None or self._finished:
            return
        self._finished = True
        rows: list[MonologueItem | GapItem] = [
            GapItem(d, g)
            for d in ("c2s", "s2c")
            for g in self.session.gaps(d)
            if (d, g.offset) not in self._gaps_placed
        ]
        if rows:
            first = len(self._items)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._items.extend(rows)
            self.endInsertRows()

    def _rows_for(self, monologues: Sequence[Monologue]) -> list[MonologueItem | GapItem]:
        rows: list[MonologueItem | GapItem] = []
        base = len(self._items)
        for m in monologues:
            gaps = m.gaps()
            for g in gaps:
                self._gaps_placed.add((m.direction, g.offset))
                if g.offset < m.offset:
                    rows.append(GapItem(m.direction, g))
            end = m.offset + m.length + sum(g.length for g in gaps)
            conflicts = sum(1 for c in m.session.conflicts(m.direction) if m.offset <= c.offset < end)
            self._row_of[m.index] = base + len(rows)
            rows.append(MonologueItem(m, self._last, conflicts))
            self._last = m
        return rows

    def set_encoding(self, encoding: str) -> None:
        """Decode previews with ``encoding`` from now on."""
        if encoding != self.encoding:
            self.layoutAboutToBeChanged.emit()
            self.encoding = encoding
            self._previews.clear()
            self.layoutChanged.emit()

    def row_of(self, monologue: Monologue) -> int:
        """Row of a monologue, -1 if not shown."""
        return self._row_of.get(monologue.index, -1) if monologue.session is self.session else -1

    def item(self, row: int) -> MonologueItem | GapItem:
        """The item of a row."""
        return self._items[row]

    def monologue_at(self, row: int) -> Monologue | None:
        """The monologue of a row, None for gap rows."""
        item = self._items[row]
        return item.monologue if isinstance(item, MonologueItem) else None

    def monologues(self) -> list[Monologue]:
        """Every monologue shown, in order."""
        return [i.monologue for i in self._items if isinstance(i, MonologueItem)]

    def preview(self, row: int) -> Preview:
        """The (cached) preview lines of a monologue row."""
        preview = self._previews.get(row)
        if preview is None:
            item = self._items[row]
            assert isinstance(item, MonologueItem)
            preview = self._previews[row] = build_preview(item.monologue, self.encoding)
        return preview

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        """Override QAbstractListModel::rowCount."""
        return 0 if parent.isValid() else len(self._items)

    def flags(self, index: Index) -> Qt.ItemFlag:
        """Override QAbstractListModel::flags: gap rows cannot be selected."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if isinstance(self._items[index.row()], GapItem):
            return Qt.ItemFlag.ItemIsEnabled
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Override QAbstractListModel::data."""
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == ITEM_ROLE:
            return item
        if role == Qt.ItemDataRole.DisplayRole:
            if isinstance(item, GapItem):
                return gap_text(item.gap, item.direction)
            m = item.monologue
            return f"#{m.index} {m.direction} {m.length} bytes"
        if role == Qt.ItemDataRole.ToolTipRole and isinstance(item, MonologueItem):
            m = item.monologue
            return f"Frames {', '.join(map(str, m.frames[:20]))}{' …' if len(m.frames) > 20 else ''}"
        return None
