"""Rows of the session list kept as pixmaps: a repaint draws one pixmap per row.

The list is repainted whole far more often than its rows change: a
selection, a focus change, another pane's resize.  A row painted once
(``row_painter``) is kept as a pixmap under what it shows and how: its
identity, whether it is selected or alternate, the palette, and the
columns' positions and widths.  A row's identity is its session (not its
row), so sorting back and
forth or filtering draws rows already seen.  A repaint of a screenful of
known rows is about forty ``drawPixmap`` calls, a millisecond or two, and a
busy machine cannot stretch that into a stutter.

Rows never painted cost about half a millisecond each (more on a loaded
machine), and a sort or a new capture makes a screenful of them at once.  A
paint makes new rows for at most ``PAINT_BUDGET_S``; the rest are left as
background and painted by the next paint, an event-loop turn later
(``deferred``), so the window keeps answering while the list fills in.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QStyleOptionViewItem, QTableView

from monoview.gui.views.row_painter import ALTERNATE, Index, TextCache, paint_row

# Rows kept (each about viewport width x 18 px x 4 bytes: some 40 kB; a few screenfuls).
ROWS_KEPT: Final = 400
# Time one paint may spend making new rows (the rest wait for the next paint); it always
# makes a few, so that the list fills in however slow the machine.
PAINT_BUDGET_S: Final = 0.008
ROWS_AT_LEAST: Final = 4


class RowPixmaps:
    """Painted rows of one view, by what they show."""

    def __init__(self) -> None:
        self._kept: OrderedDict[Hashable, QPixmap] = OrderedDict()
        self.texts = TextCache()
        self.layout: Hashable = None  # the columns' geometry this paint (``begin_paint``)
        self.deferred = False  # this paint left new rows for the next one
        self.made = 0  # rows made (painted anew) by this paint
        self._deadline = 0.0
        self._moving = False  # the columns moved since the last paint (a drag, a scroll)
        self._capacity = ROWS_KEPT

    def clear(self) -> None:
        """Forget every row (the model was reset: other sessions)."""
        self._kept.clear()

    def begin_paint(self, view: QTableView) -> None:
        """Note the columns' geometry before a paint of ``view`` (part of every row's key),
        and start the paint's time for new rows."""
        self.deferred = False
        self.made = 0
        self._deadline = time.perf_counter() + PAINT_BUDGET_S
        header = view.horizontalHeader()
        layout = (
            view.viewport().width(),
            view.devicePixelRatioF(),
            view.font().key(),
            view.palette().cacheKey(),
            tuple(
                (logical, header.sectionViewportPosition(logical), header.sectionSize(logical))
                for logical in range(header.count())
                if not header.isSectionHidden(logical)
            ),
        )
        # Columns that moved while a mouse button is held: a column dragged wider or the list
        # dragged sideways, a new layout at every step.
        held = QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton
        self._moving = held and self.layout is not None and layout != self.layout
        self.layout = layout
        # Every row on screen must stay kept until the next paint, however tall the view.
        self._capacity = max(ROWS_KEPT, 3 * view.viewport().height() // max(view.fontMetrics().height(), 1))

    def draw(
        self,
        view: QTableView,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: Index,
        identity: Hashable,
    ) -> None:
        """Draw the row of ``index`` (known to the model as ``identity``) at ``option.rect``."""
        rect: QRect = option.rect
        selected = view.selectionModel().isSelected(index)
        # Every other row shaded, from the first (as QTableView shades its rows).
        alternate = view.alternatingRowColors() and index.row() % 2 == 1
        # Focus changes only the selection's colour: unselected rows are kept across it.
        key = (identity, selected, selected and view.hasFocus(), alternate, rect.height(), self.layout)
        pixmap = self._kept.get(key)
        if pixmap is None and self._moving:
            # Every row is new at every step of a drag: none is kept or left for later (drawn
            # at once, as Qt would).
            paint_row(view, painter, _with_alternate(option, alternate), index, self.texts)
            return
        if pixmap is None:
            if self.made >= ROWS_AT_LEAST and time.perf_counter() > self._deadline:
                self.deferred = True
                if alternate:
                    painter.fillRect(rect, view.palette().color(QPalette.ColorRole.AlternateBase))
                return
            pixmap = self._paint(view, _with_alternate(option, alternate), index, rect)
            self.made += 1
            self._kept[key] = pixmap
            if len(self._kept) > self._capacity:
                self._kept.popitem(last=False)
        else:
            self._kept.move_to_end(key)
        painter.drawPixmap(rect.topLeft(), pixmap)

    def _paint(self, view: QTableView, option: QStyleOptionViewItem, index: Index, rect: QRect) -> QPixmap:
        ratio = view.devicePixelRatioF()
        pixmap = QPixmap(round(rect.width() * ratio), round(rect.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(view.palette().color(QPalette.ColorRole.Base))
        at_origin = QStyleOptionViewItem(option)
        at_origin.rect = QRect(0, 0, rect.width(), rect.height())
        painter = QPainter(pixmap)
        try:
            paint_row(view, painter, at_origin, index, self.texts)
        finally:
            painter.end()
        return pixmap


def _with_alternate(option: QStyleOptionViewItem, alternate: bool) -> QStyleOptionViewItem:
    """A copy of ``option`` shaded or not as ``alternate`` says."""
    copy = QStyleOptionViewItem(option)
    if alternate:
        copy.features |= ALTERNATE
    else:
        copy.features &= ~ALTERNATE
    return copy
