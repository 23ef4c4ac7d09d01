"""A hex dump that paints only the rows on screen, from a bytes buffer.

A ``QPlainTextEdit`` with the dump of 50 MB would take seconds and gigabytes;
this widget costs the same for any size (Wireshark's ``ByteViewText`` made the
same move).  Rows are coloured by the direction that sent the bytes; a gap is
a row of its own, ``[N bytes missing]`` (``core.hexrows`` lays the rows out and
maps bytes to rows), and conflicting retransmissions are underlined in orange.
A byte range can be selected with mouse or keyboard, and copied as hex (from
the hex column) or text (from the ASCII column), a marker where it spans a gap.
"""

from __future__ import annotations

import bisect
from typing import Final

from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import (
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QAbstractScrollArea, QWidget

from monoview.core.blob import EMPTY, Blob
from monoview.core.hexrows import HexRow, HexRows
from monoview.core.render import ascii_column
from monoview.gui.views import palette

WIDTH: Final = 16


class HexView(QAbstractScrollArea):
    """Offset, hex and ASCII columns of a ``Blob``, selection in bytes.

    Signals:
        selection_changed(int, int): the selected byte range ``[start, end)``
            changed by user action (not by ``select``).
    """

    selection_changed = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFont(palette.mono_font())
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().setCursor(Qt.CursorShape.IBeamCursor)
        self._blob = EMPTY
        self._layout = HexRows(0, (), WIDTH)
        self._anchor = 0
        self._cursor = 0
        self._sel = (0, 0)
        self._ascii_side = False
        self._span_starts: list[int] = []
        self._measure()

    # -- content ------------------------------------------------------------

    @property
    def blob(self) -> Blob:
        """What is shown."""
        return self._blob

    def set_blob(self, blob: Blob) -> None:
        """Show ``blob`` from its start, with nothing selected."""
        self._blob = blob
        self._layout = HexRows(blob.size, blob.gaps, WIDTH)
        self._span_starts = [s.start for s in blob.spans]
        self._anchor = self._cursor = 0
        self._sel = (0, 0)
        self.verticalScrollBar().setValue(0)
        self._update_scrollbar()
        self.viewport().update()

    def selection(self) -> tuple[int, int]:
        """The selected byte range ``(start, end)``; empty when start == end."""
        return self._sel

    def select(self, start: int, end: int, scroll: bool = True) -> None:
        """Select ``[start, end)`` without emitting ``selection_changed``; scroll to it."""
        n = self._blob.size
        start, end = max(0, min(start, n)), max(0, min(end, n))
        self._anchor, self._cursor = start, end
        self._sel = (min(start, end), max(start, end))
        if scroll:
            self.scroll_to(self._sel[0])
        self.viewport().update()

    @property
    def layout_rows(self) -> HexRows:
        """The rows shown, markers included (which byte is on which row)."""
        return self._layout

    def scroll_to(self, position: int) -> None:
        """Make the row of byte ``position`` visible, a few rows from the top if it was not."""
        row = self._layout.row_of(position)
        bar = self.verticalScrollBar()
        visible = self._visible_rows()
        if not bar.value() <= row < bar.value() + visible:
            bar.setValue(max(0, row - 3))

    def selected_text(self) -> str:
        """The selection as hex pairs, or as printable text if it was made in the ASCII column;
        ``[N bytes missing]`` where bytes are missing inside it."""
        start, end = self._sel
        if self._ascii_side:
            return self._blob.marked(start, end, ascii_column)
        return self._blob.marked(start, end, lambda data: data.hex(" "), separator=" ")

    def copy(self) -> None:
        """Put the selection on the clipboard."""
        if self._sel[0] != self._sel[1]:
            QGuiApplication.clipboard().setText(self.selected_text())

    # -- geometry -------------------------------------------------------------

    def _measure(self) -> None:
        fm = QFontMetrics(self.font())
        self._cw = fm.horizontalAdvance("0")
        self._lh = fm.height() + 2
        self._ascent = fm.ascent() + 1
        self._x_hex = self._cw * 10
        self._x_ascii = self._x_hex + self._cw * (WIDTH * 3 + 2)

    def _hex_x(self, column: int) -> int:
        return self._x_hex + self._cw * (column * 3 + (1 if column >= WIDTH // 2 else 0))

    def _visible_rows(self) -> int:
        return max(1, self.viewport().height() // self._lh)

    def _update_scrollbar(self) -> None:
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, self._layout.rows - self._visible_rows() + 1))
        bar.setPageStep(self._visible_rows())
        bar.setSingleStep(1)
        content = self._x_ascii + self._cw * (WIDTH + 1)
        hbar = self.horizontalScrollBar()
        hbar.setRange(0, max(0, content - self.viewport().width()))
        hbar.setPageStep(self.viewport().width())

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Override QAbstractScrollArea::resizeEvent."""
        super().resizeEvent(event)
        self._update_scrollbar()

    def position_at(self, point: QPoint) -> tuple[int, bool]:
        """Byte under a viewport point (clamped) and whether it is in the ASCII column."""
        x = point.x() + self.horizontalScrollBar().value()
        row = self.verticalScrollBar().value() + max(0, point.y()) // self._lh
        ascii_side = x >= self._x_ascii - self._cw
        if ascii_side:
            column = (x - self._x_ascii) // self._cw
        else:
            rel = x - self._x_hex
            column = rel // (self._cw * 3) if rel < self._cw * 24 else (rel - self._cw) // (self._cw * 3)
        column = max(0, min(WIDTH - 1, column))
        if not self._layout.rows:
            return 0, ascii_side
        shown = self._layout.row(min(row, self._layout.rows - 1))
        if shown.is_gap:
            return shown.start, ascii_side  # the marker stands before the byte after the gap
        return shown.start + min(column, shown.count), ascii_side

    # -- painting -------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        """Override QAbstractScrollArea::paintEvent: draw only the visible rows."""
        painter = QPainter(self.viewport())
        painter.setFont(self.font())
        pal = self.palette()
        painter.fillRect(event.rect(), pal.base())
        if not self._blob.size:
            painter.setPen(palette.GAP_FG)
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self._blob.title)
            return
        painter.translate(-self.horizontalScrollBar().value(), 0)
        first = self.verticalScrollBar().value()
        last = min(self._layout.rows, first + self._visible_rows() + 1)
        rows = [self._layout.row(i) for i in range(first, last)]
        window_start = rows[0].start if rows else 0
        window = self._blob.read(window_start, (rows[-1].end - window_start) if rows else 0)  # on screen
        sel_start, sel_end = self._sel
        highlight, highlight_text = pal.highlight().color(), pal.highlightedText().color()
        offset_colour = pal.placeholderText().color()
        black = pal.text().color()
        for i, row in enumerate(rows):
            y = i * self._lh
            if row.is_gap:
                self._paint_marker(painter, row, y, sel_start < row.start < sel_end)
                continue
            start = row.start
            chunk = window[start - window_start : row.end - window_start]
            painter.setPen(offset_colour)
            painter.drawText(self._cw, y + self._ascent, f"{start:08x}")
            text = ascii_column(chunk)
            for a, b, selected, direction in self._runs(start, len(chunk), sel_start, sel_end):
                bg = highlight if selected else (palette.background(direction) if direction else None)
                fg = highlight_text if selected else (palette.foreground(direction) if direction else black)
                hx = self._hex_x(a)
                hex_width = self._hex_x(b - 1) + self._cw * (3 if b < WIDTH else 2) - hx
                if bg is not None:
                    painter.fillRect(QRect(hx, y, hex_width, self._lh), bg)
                    painter.fillRect(QRect(self._x_ascii + a * self._cw, y, (b - a) * self._cw, self._lh), bg)
                painter.setPen(fg)
                painter.drawText(hx, y + self._ascent, chunk[a:b].hex(" "))
                painter.drawText(self._x_ascii + a * self._cw, y + self._ascent, text[a:b])
            self._paint_conflicts(painter, start, len(chunk), y)
            at_end = self._cursor == row.end == self._blob.size and row.count < WIDTH
            caret_here = start <= self._cursor < row.end or at_end
            if self.hasFocus() and sel_start == sel_end and caret_here:
                column = self._cursor - start  # the keyboard caret: an outline around its byte
                painter.setPen(pal.highlight().color())
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(QRect(self._hex_x(column) - 1, y, self._cw * 2 + 1, self._lh - 1))
                painter.drawRect(QRect(self._x_ascii + column * self._cw, y, self._cw - 1, self._lh - 1))

    def _runs(
        self, start: int, count: int, sel_start: int, sel_end: int
    ) -> list[tuple[int, int, bool, str | None]]:
        """Columns ``[a, b)`` of one row that share selection and direction (split at the middle)."""
        runs: list[tuple[int, int, bool, str | None]] = []
        for i in range(count):
            pos = start + i
            key = (sel_start <= pos < sel_end, self._direction_at(pos))
            if runs and runs[-1][2:] == key and i != WIDTH // 2:
                a, _b, sel, direction = runs[-1]
                runs[-1] = (a, i + 1, sel, direction)
            else:
                runs.append((i, i + 1, *key))
        return runs

    def _direction_at(self, position: int) -> str | None:
        i = bisect.bisect_right(self._span_starts, position) - 1
        spans = self._blob.spans
        if 0 <= i < len(spans) and position < spans[i].end:
            return spans[i].direction
        return None

    def _paint_marker(self, painter: QPainter, row: HexRow, y: int, selected: bool) -> None:
        """A gap's own row: ``[N bytes missing]`` across the hex and ASCII columns, a red
        mark at its left as the conversation pane's gap band has (highlighted inside a
        selection, since Copy puts the marker on the clipboard)."""
        band = QRect(
            self._x_hex - self._cw, y, self._x_ascii + self._cw * (WIDTH + 1) - self._x_hex, self._lh
        )
        pal = self.palette()
        painter.fillRect(band, pal.highlight().color() if selected else palette.GAP_BG)
        painter.fillRect(QRect(band.left(), y, 3, self._lh), palette.GAP_MARK)
        painter.setPen(pal.highlightedText().color() if selected else palette.GAP_MARK)
        painter.drawText(self._x_hex, y + self._ascent, row.text)

    def _paint_conflicts(self, painter: QPainter, start: int, count: int, y: int) -> None:
        end = start + count
        for position, length in self._blob.conflicts:
            lo, hi = max(position, start), min(position + length, end)
            if lo < hi:
                x0, x1 = self._hex_x(lo - start), self._hex_x(hi - 1 - start) + self._cw * 2
                painter.fillRect(QRect(x0, y + self._lh - 3, x1 - x0, 2), palette.CONFLICT)

    # -- interaction ----------------------------------------------------------

    def _set_cursor(self, position: int, extend: bool) -> None:
        self._cursor = max(0, min(position, self._blob.size))
        if not extend:
            self._anchor = self._cursor
        self._sel = (min(self._anchor, self._cursor), max(self._anchor, self._cursor))
        self.scroll_to(self._cursor)
        self.viewport().update()
        self.selection_changed.emit(*self._sel)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Override QAbstractScrollArea::mousePressEvent: start or extend a selection."""
        if event.button() == Qt.MouseButton.LeftButton:
            position, self._ascii_side = self.position_at(event.position().toPoint())
            extend = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self._set_cursor(position, extend)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Override QAbstractScrollArea::mouseMoveEvent: drag selects."""
        if event.buttons() & Qt.MouseButton.LeftButton:
            point = event.position().toPoint()
            position, _ = self.position_at(point)
            row = self.verticalScrollBar().value() + max(0, point.y()) // self._lh
            on_marker = row < self._layout.rows and self._layout.row(row).is_gap  # ends at the gap
            self._set_cursor(position + (1 if position >= self._anchor and not on_marker else 0), True)

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Override QAbstractScrollArea::wheelEvent: three rows per notch."""
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() - event.angleDelta().y() // 40)

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        """Override QAbstractScrollArea::scrollContentsBy: repaint everything."""
        self.viewport().update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Override QAbstractScrollArea::keyPressEvent: arrows move, Shift extends."""
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy()
            return
        if event.matches(QKeySequence.StandardKey.SelectAll):
            self.select(0, self._blob.size, scroll=False)
            self.selection_changed.emit(*self._sel)
            return
        steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}
        rows = {  # rows of bytes: the marker rows are stepped over
            Qt.Key.Key_Up: -1,
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_PageUp: -self._visible_rows(),
            Qt.Key.Key_PageDown: self._visible_rows(),
        }
        key = Qt.Key(event.key())
        extend = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        here = self._layout.row(self._layout.row_of(self._cursor)) if self._layout.rows else HexRow(0)
        if key in steps:
            self._set_cursor(self._cursor + steps[key], extend)
        elif key in rows:
            self._set_cursor(self._layout.move(self._cursor, rows[key]), extend)
        elif key == Qt.Key.Key_Home:
            self._set_cursor(0 if ctrl else here.start, extend)
        elif key == Qt.Key.Key_End:
            self._set_cursor(self._blob.size if ctrl else here.end, extend)
        else:
            super().keyPressEvent(event)

    def event(self, event):  # type: ignore[no-untyped-def]
        """Override QWidget::event: take Ctrl+C before the window's Copy action sees it."""
        if event.type() == event.Type.ShortcutOverride and event.matches(QKeySequence.StandardKey.Copy):
            event.accept()
            return True
        return super().event(event)
