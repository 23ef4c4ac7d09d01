"""The session list paints a row in one call, from the texts its model keeps for the row.

Why not Qt's delegate: painting a cell through it costs four calls from Qt
into Python (``index``, ``parent`` twice, ``multiData``), about a thousand
for a screenful of rows, 15–25 ms on a quiet machine and 40–130 ms while
other processes load both cores: the window stutters at every selection,
sort or focus change.  ``paint_row`` is one call per row: it fills the row's
background (alternating, or selected) and draws each visible cell's icon and
elided text in the cell's alignment and colour.  No cell of the session list
is editable, so nothing of the delegate is missed.

Texts are elided once per text and column width, and drawn as
``QStaticText`` once seen before (``TextCache``): ``QPainter.drawText`` lays
its text out again at every call, which was half of a row's time.
"""

from __future__ import annotations

from typing import Any, Final, Protocol

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QIcon, QPainter, QPalette, QStaticText
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QTableView

Index = QModelIndex | QPersistentModelIndex
DISPLAY: Final = int(Qt.ItemDataRole.DisplayRole)
DECORATION: Final = int(Qt.ItemDataRole.DecorationRole)
ALIGNMENT: Final = int(Qt.ItemDataRole.TextAlignmentRole)
FOREGROUND: Final = int(Qt.ItemDataRole.ForegroundRole)
ICON_SIZE: Final = 12
ALTERNATE: Final = QStyleOptionViewItem.ViewItemFeature.Alternate
RIGHT_ALIGNED: Final = int(Qt.AlignmentFlag.AlignRight)
# Laid-out texts kept: every distinct text of some screenfuls of rows.
TEXTS_KEPT: Final = 20_000


class TextCache:
    """Texts elided to a width, their widths, and (from their second painting on) laid out
    ready to draw (``QStaticText``).

    A text seen once is drawn with ``drawText`` (about 18 µs); laying it out
    costs about as much again, and repays itself from the second painting
    (11 µs each): the first paint after a sort, full of texts never seen, is
    what a busy machine stretches into a stutter.
    """

    def __init__(self) -> None:
        self._kept: dict[tuple[str, int], list[Any]] = {}  # [elided, width, static or None]
        self._font: QFont | None = None

    def get(
        self, text: str, width: int, font: QFont, metrics: QFontMetrics
    ) -> tuple[str, int, QStaticText | None]:
        """``text`` elided to ``width`` pixels in ``font``, its width, and its layout if it
        was asked for before."""
        if font != self._font:
            self._kept.clear()
            self._font = QFont(font)
        found = self._kept.get((text, width))
        if found is None:
            if len(self._kept) > TEXTS_KEPT:
                self._kept.clear()
            advance = metrics.horizontalAdvance(text)
            elided = text
            if advance > width:
                elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)
                advance = metrics.horizontalAdvance(elided)
            self._kept[text, width] = [elided, advance, None]
            return elided, advance, None
        if found[2] is None:
            static = QStaticText(found[0])
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(font=font)
            found[2] = static
        return found[0], found[1], found[2]


class RowCells(Protocol):
    """A model that says what each cell of a row shows (``SessionListModel``)."""

    def row_cells(self, index: Index) -> list[dict[int, Any]]: ...


def paint_row(
    view: QTableView, painter: QPainter, option: QStyleOptionViewItem, index: Index, texts: TextCache
) -> None:
    """Paint ``index``'s row of ``view`` (whose model is a ``RowCells``) in ``option.rect``."""
    model: Any = view.model()
    cells: list[dict[int, Any]] = model.row_cells(index)
    palette = view.palette()
    selected = view.selectionModel().isSelected(index)
    # The selection is drawn in the focus's colours; the rest as when focused (the same in
    # the usual styles), so that a focus change leaves unselected rows as they were.
    group = QPalette.ColorGroup.Active if not selected or view.hasFocus() else QPalette.ColorGroup.Inactive
    row = option.rect
    if selected:
        painter.fillRect(row, palette.color(group, QPalette.ColorRole.Highlight))
    elif option.features & ALTERNATE:
        painter.fillRect(row, palette.color(group, QPalette.ColorRole.AlternateBase))
    text_colour = palette.color(
        group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
    )
    metrics = option.fontMetrics
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    header = view.horizontalHeader()
    top, height, right = row.top(), row.height(), row.right()
    text_top = top + (height - metrics.height()) / 2
    font: QFont = option.font
    painter.save()
    painter.setFont(font)
    for logical, cell in enumerate(cells):
        if header.isSectionHidden(logical):
            continue
        x, width = header.sectionViewportPosition(logical), header.sectionSize(logical)
        if x > right or x + width < 0:
            continue
        icon: QIcon | None = cell.get(DECORATION)
        if icon is not None:
            icon.paint(painter, QRect(x + margin, top + (height - ICON_SIZE) // 2, ICON_SIZE, ICON_SIZE))
            x, width = x + ICON_SIZE + 2 * margin, width - ICON_SIZE - 2 * margin
        text: str = cell.get(DISPLAY) or ""
        if not text or width <= 2 * margin:
            continue
        colour = cell.get(FOREGROUND)
        painter.setPen(text_colour if selected or colour is None else colour)
        room = width - 2 * margin
        elided, advance, static = texts.get(text, room, font, metrics)
        alignment = cell.get(ALIGNMENT)
        left = (
            x + margin + (room - advance if alignment is not None and int(alignment) & RIGHT_ALIGNED else 0)
        )
        if static is not None:
            painter.drawStaticText(QPointF(left, text_top), static)
        else:
            painter.drawText(QPointF(left, text_top + metrics.ascent()), elided)
    painter.restore()
