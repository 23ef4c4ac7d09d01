"""The conversation pane: a session as alternating monologues, like a chat.

Each monologue is a coloured block with a header (number, direction, length,
time, delta to the previous monologue, packets) and a preview of its first
``PREVIEW_BYTES`` bytes, so a 50 MB session costs no more than a small one:
the full bytes are in the hex and text views below.  Missing bytes appear as
grey "N bytes missing" bands (between monologues as rows of their own, inside
a monologue as lines), and monologues holding conflicting retransmissions get
an orange badge.  Rows are laid out in batches by ``QListView`` and previews
are built only when a row is first measured or painted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from monoview.core.render import decode_text
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.records import Gap
from monoview.core.tcp.session import TcpSession
from monoview.gui.models import format as fmt
from monoview.gui.views import palette

Index = QModelIndex | QPersistentModelIndex

PREVIEW_BYTES: Final = 2048
PREVIEW_LINES: Final = 16
WRAP: Final = 160
SERVER_INDENT: Final = 36
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

    def set_session(self, session: TcpSession | None, monologues: list[Monologue]) -> None:
        """Show ``session`` with the monologues received so far."""
        self.beginResetModel()
        self.session = session
        self._items, self._row_of, self._previews = [], {}, {}
        self._last, self._gaps_placed, self._finished = None, set(), False
        self._items.extend(self._rows_for(monologues))
        self.endResetModel()

    def append(self, monologues: list[Monologue]) -> None:
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

    def _rows_for(self, monologues: list[Monologue]) -> list[MonologueItem | GapItem]:
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


def split_line_end(text: str) -> tuple[str, str]:
    """``("GET / HTTP/1.1", "\\r")`` for an escaped line ending in CR, else ``(text, "")``.

    An escaped backslash is doubled, so the final ``\\r`` is a CR only after
    an even number of backslashes.
    """
    if not text.endswith("\\r"):
        return text, ""
    body = text[:-2]
    backslashes = len(body) - len(body.rstrip("\\"))
    return (body, "\\r") if backslashes % 2 == 0 else (text, "")


def header_text(item: MonologueItem) -> str:
    """The line above a monologue's bytes: who, size, time, delay and packets first (a narrow
    pane cuts the end of the line, and the addresses are in the title already), then the
    addresses, with the direction said once."""
    m = item.monologue
    session = m.session
    if m.direction == "c2s":
        who, route = "client", f"{session.client} → {session.server}"
    else:
        who, route = "server", f"{session.server} → {session.client}"
    since = "" if item.previous is None else f"   {fmt.delta(m.first_ts_ns - item.previous.last_ts_ns)}"
    packets = f"{m.packets} packet" + ("s" if m.packets != 1 else "")
    return f"#{m.index}  {who}   {m.length:,} bytes   {fmt.clock(m.first_ts_ns)}{since}   {packets}   {route}"


class MonologueDelegate(QStyledItemDelegate):
    """Paints monologue blocks and gap bands."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mono = palette.mono_font()
        self._mono_metrics = QFontMetrics(self.mono)
        self.line_height = self._mono_metrics.height()

    def _header_font(self, option: QStyleOptionViewItem) -> QFont:
        font = QFont(option.font)
        font.setBold(True)
        return font

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """Override QStyledItemDelegate::sizeHint."""
        item = index.data(ITEM_ROLE)
        width = option.rect.width()
        header = QFontMetrics(self._header_font(option)).height()
        if isinstance(item, GapItem):
            return QSize(width, header + 10)
        model = index.model()
        assert isinstance(model, ConversationModel)
        lines = len(model.preview(index.row()).lines)
        return QSize(width, header + 12 + lines * self.line_height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        """Override QStyledItemDelegate::paint."""
        item = index.data(ITEM_ROLE)
        rect: QRect = option.rect
        painter.save()
        try:
            if isinstance(item, GapItem):
                self._paint_gap(painter, rect, item, option)
            else:
                model = index.model()
                assert isinstance(model, ConversationModel)
                self._paint_monologue(painter, rect, item, model.preview(index.row()), option)
        finally:
            painter.restore()

    @staticmethod
    def _badges(item: MonologueItem) -> list[tuple[str, QColor]]:
        """Coloured labels at the right of a header: missing bytes, conflicts."""
        badges = []
        gaps = item.monologue.gaps()
        if gaps:
            badges.append((f"{sum(g.length for g in gaps):,} bytes missing", palette.GAP_MARK))
        if item.conflicts:
            plural = "s" if item.conflicts > 1 else ""
            badges.append((f"⚠ {item.conflicts} conflicting retransmission{plural}", palette.CONFLICT))
        return badges

    def _badges_width(self, item: MonologueItem, metrics: QFontMetrics) -> int:
        return sum(metrics.horizontalAdvance(text) + 18 for text, _c in self._badges(item))

    def _paint_gap(self, painter: QPainter, rect: QRect, item: GapItem, option: QStyleOptionViewItem) -> None:
        band = rect.adjusted(4, 2, -4, -2)
        painter.fillRect(band, palette.GAP_BG)
        painter.fillRect(band, QBrush(palette.GAP_FG.lighter(170), Qt.BrushStyle.BDiagPattern))
        painter.setPen(palette.GAP_MARK)
        font = QFont(option.font)
        font.setItalic(True)
        painter.setFont(font)
        painter.drawText(
            band, Qt.AlignmentFlag.AlignCenter, "⟂  " + gap_text(item.gap, item.direction) + "  ⟂"
        )

    def _paint_monologue(
        self,
        painter: QPainter,
        rect: QRect,
        item: MonologueItem,
        preview: Preview,
        option: QStyleOptionViewItem,
    ) -> None:
        direction = item.monologue.direction
        indent = SERVER_INDENT if direction == "s2c" else 0
        block = rect.adjusted(4 + indent, 2, -4 - (SERVER_INDENT - indent), -2)
        painter.fillRect(block, palette.background(direction))
        painter.fillRect(QRect(block.left(), block.top(), 4, block.height()), palette.stripe(direction))
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            pen = QPen(option.palette.highlight().color(), 2)
            painter.setPen(pen)
            painter.drawRect(block.adjusted(1, 1, -1, -1))
        header_font = self._header_font(option)
        header_h = QFontMetrics(header_font).height()
        painter.setFont(header_font)
        painter.setPen(palette.foreground(direction))
        x = block.left() + 10
        header_rect = QRect(x, block.top() + 3, block.width() - 16, header_h)
        header_metrics = QFontMetrics(header_font)
        header_line = header_metrics.elidedText(
            header_text(item),
            Qt.TextElideMode.ElideRight,
            header_rect.width() - self._badges_width(item, header_metrics),
        )
        painter.drawText(header_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, header_line)
        right = header_rect.right()
        for text, colour in self._badges(item):
            w = QFontMetrics(header_font).horizontalAdvance(text) + 12
            badge = QRect(right - w, header_rect.top(), w, header_h)
            painter.fillRect(badge, colour)
            painter.setPen(Qt.GlobalColor.white)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
            right -= w + 6
        painter.setFont(self.mono)
        y = header_rect.bottom() + 4
        text_width = block.right() - x - 6
        for kind, text in preview.lines:
            line = QRect(x, y, text_width, self.line_height)
            if kind == "gap":
                painter.fillRect(line, palette.GAP_BG)
                painter.setPen(palette.GAP_MARK)
                painter.drawText(line, Qt.AlignmentFlag.AlignLeft, f"⟂ {text} ⟂")
            elif kind == "more":
                painter.setPen(palette.GAP_FG)
                painter.drawText(line, Qt.AlignmentFlag.AlignLeft, text)
            else:
                body, cr = split_line_end(text)
                painter.setPen(palette.foreground(direction))
                shown = self._mono_metrics.elidedText(body, Qt.TextElideMode.ElideRight, text_width)
                painter.drawText(line, Qt.AlignmentFlag.AlignLeft, shown)
                if cr and shown == body:  # the \r of a CRLF line end, dimmed: present but quiet
                    painter.setPen(palette.GAP_FG.lighter(130))
                    x_cr = line.left() + self._mono_metrics.horizontalAdvance(body)
                    painter.drawText(
                        QRect(x_cr, line.top(), text_width, line.height()), Qt.AlignmentFlag.AlignLeft, cr
                    )
            y += self.line_height


class ConversationView(QListView):
    """The list of monologue blocks.

    Signals:
        monologue_activated(object): the current monologue changed (Monologue).
    """

    monologue_activated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.conversation = ConversationModel(self)
        self.setModel(self.conversation)
        self.setItemDelegate(MonologueDelegate(self))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.setObjectName("conversation")
        self.selectionModel().currentRowChanged.connect(self._current_changed)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        monologue = self.conversation.monologue_at(current.row()) if current.isValid() else None
        if monologue is not None:
            self.monologue_activated.emit(monologue)

    def show_monologue(self, monologue: Monologue) -> None:
        """Make ``monologue`` current and scroll it to the top of the pane."""
        row = self.conversation.row_of(monologue)
        if row < 0:
            return
        index = self.conversation.index(row)
        if self.currentIndex() != index:
            self.selectionModel().setCurrentIndex(index, self.selectionModel().SelectionFlag.ClearAndSelect)
        self.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)

    def selected_monologues(self) -> list[Monologue]:
        """Selected monologues in conversation order."""
        rows = sorted(i.row() for i in self.selectionModel().selectedRows())
        found = [self.conversation.monologue_at(r) for r in rows]
        return [m for m in found if m is not None]

    def current_monologue(self) -> Monologue | None:
        """The current monologue, if any."""
        index = self.currentIndex()
        return self.conversation.monologue_at(index.row()) if index.isValid() else None
