"""The conversation pane: a session as alternating monologues, like a chat.

Each monologue is a coloured block with a header (number, direction, length,
time, delta to the previous monologue, packets) and a preview of its first
``PREVIEW_BYTES`` bytes, so a 50 MB session costs no more than a small one:
the full bytes are in the hex and text views below.  Missing bytes appear as
grey "N bytes missing" bands (between monologues as rows of their own, inside
a monologue as lines), and monologues holding conflicting retransmissions get
an orange badge.  Rows are laid out in batches by ``QListView``; the rows and
their previews are the model's (``models/conversation.py``).
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from monoview.core import display as fmt
from monoview.core.tcp.monologue import Monologue
from monoview.gui.models.conversation import (
    ITEM_ROLE,
    ConversationModel,
    GapItem,
    MonologueItem,
    Preview,
    gap_text,
)
from monoview.gui.views import palette

Index = QModelIndex | QPersistentModelIndex

SERVER_INDENT: Final = 36


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


def header_parts(item: MonologueItem) -> tuple[str, str, str, str, str]:
    """The pieces of a monologue's header line: ``#N  who   size``, its clock time, the delay
    since the monologue before, the packet count and the addresses (the direction said once)."""
    m = item.monologue
    session = m.session
    if m.direction == "c2s":
        who, route = "client", f"{session.client} → {session.server}"
    else:
        who, route = "server", f"{session.server} → {session.client}"
    since = "" if item.previous is None else fmt.delta(m.first_ts_ns - item.previous.last_ts_ns)
    packets = f"{m.packets} packet" + ("s" if m.packets != 1 else "")
    return f"#{m.index}  {who}   {m.length:,} bytes", fmt.clock(m.first_ts_ns), since, packets, route


def header_text(item: MonologueItem) -> str:
    """The line above a monologue's bytes, whole: who, size, time, delay, packets, addresses."""
    return "   ".join(part for part in header_parts(item) if part)


def fitted_header(item: MonologueItem, metrics: QFontMetrics, width: int) -> str:
    """``header_text`` in ``width`` pixels: the addresses give way first (they are in the
    title already), then the clock time, so the delay and the packet count stay whole
    whenever they fit at all; only then is the line cut."""
    lead, clock, since, packets, route = header_parts(item)
    for kept in ((lead, clock, since, packets, route), (lead, clock, since, packets), (lead, since, packets)):
        line = "   ".join(part for part in kept if part)
        if metrics.horizontalAdvance(line) <= width:
            if len(kept) == 4:  # the addresses, as much of them as fits
                room = width - metrics.horizontalAdvance(line + "   ")
                shown = metrics.elidedText(route, Qt.TextElideMode.ElideRight, room)
                if room > 0 and shown and shown != "…":
                    line = f"{line}   {shown}"
            return line
    return metrics.elidedText(line, Qt.TextElideMode.ElideRight, width)


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
        header_line = fitted_header(
            item, header_metrics, header_rect.width() - self._badges_width(item, header_metrics)
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
