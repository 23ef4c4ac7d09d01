"""The session list's view: a flat table of sessions, its columns (widths, order, which are
shown) and the column chooser.

A table, as Wireshark's conversation and packet lists are (a session's
monologues are listed by the conversation pane beside it); a ``QTableView``
asks its model only for the cells it paints, where a tree view walked every
row at each layout.  Right-click the header for the list of columns; what is
shown, the order and the widths are saved with the header's state.  The view
sorts through its model (``SessionListModel.sort``: one numpy sort) and
paints each visible row in one call, kept as a pixmap (``row_pixmaps``).
(The module and the window's ``tree`` attribute keep the name they had when
the list was a tree.)
"""

from __future__ import annotations

from typing import Any, Final

from PySide6.QtCore import QAbstractItemModel, QEvent, QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStyle,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from monoview.core.flows.columns import HEADERS, Column
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.views.row_painter import ICON_SIZE
from monoview.gui.views.row_pixmaps import RowPixmaps

WIDTHS: Final = {
    Column.ID: 66, Column.CLIENT: 136, Column.SERVER: 136, Column.START: 112, Column.DURATION: 76,
    Column.PACKETS: 62, Column.C2S: 84, Column.S2C: 84, Column.STATUS: 120, Column.STREAM: 58,
    Column.BYTES: 84, Column.DATA_C2S: 70, Column.DATA_S2C: 70, Column.VLAN: 60, Column.APPLICATION: 170,
    Column.OUTER_PATH: 220,
}  # fmt: skip
# Shown when nothing was saved: what a person checks first, in Wireshark's conversation order.
# The outer path too: empty for most captures (the column chooser shows it).
HIDDEN_BY_DEFAULT: Final = (
    Column.STREAM, Column.BYTES, Column.DATA_C2S, Column.DATA_S2C, Column.VLAN, Column.OUTER_PATH,
)  # fmt: skip


class SessionTreeView(QTableView):
    """The list of sessions, a row each: whole rows selected, one or many (export)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("session_tree")
        self._rows = RowPixmaps()
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self._fit_row_height()
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setSectionsClickable(True)
        header.setSectionsMovable(True)
        header.setSortIndicatorShown(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)

    def header(self) -> QHeaderView:
        """The column header (``horizontalHeader``; the name a tree view gave it)."""
        return self.horizontalHeader()

    def _fit_row_height(self) -> None:
        """Rows as tall as the style's item view makes a line of text with a status icon
        (what the delegate would ask for; the same height the tree had)."""
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        option.text = "0"
        feature = QStyleOptionViewItem.ViewItemFeature
        option.features |= feature.HasDisplay | feature.HasDecoration
        option.decorationSize = QSize(ICON_SIZE, ICON_SIZE)
        height = (
            self.style().sizeFromContents(QStyle.ContentsType.CT_ItemViewItem, option, QSize(), self).height()
        )
        rows = self.verticalHeader()
        rows.setMinimumSectionSize(height)
        rows.setDefaultSectionSize(height)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        """Override QTableView::setModel: painted rows are forgotten when the model resets."""
        previous = self.model()
        if isinstance(previous, SessionListModel):
            previous.modelReset.disconnect(self._rows.clear)
            previous.cells_changed.disconnect(self._cells_changed)
        super().setModel(model)
        self._rows.clear()
        if isinstance(model, SessionListModel):
            model.modelReset.connect(self._rows.clear)
            model.cells_changed.connect(self._cells_changed)

    def _cells_changed(self) -> None:
        """Rows show something new in place: none of the kept pixmaps is right any more."""
        self._rows.clear()
        self.viewport().update()

    def changeEvent(self, event: QEvent) -> None:
        """Override QWidget::changeEvent: painted rows are forgotten when the style or the
        font changes (the palette is part of every row's key; the font sets the height)."""
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._rows.clear()
            self._fit_row_height()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Override QTableView::paintEvent: each row in the damaged area in one call, kept
        as a pixmap (``RowPixmaps``), instead of a delegate call per cell.  No grid, no
        spans and no editing: nothing else of the table's own painting is missed."""
        model: Any = self.model()
        if not isinstance(model, SessionListModel):
            super().paintEvent(event)
            return
        area = event.rect()
        count = model.rowCount()
        first = self.rowAt(area.top())
        if first < 0:
            return  # below the last row: the viewport's own background
        last = self.rowAt(area.bottom())
        last = count - 1 if last < 0 else last
        self._rows.begin_paint(self)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        width = self.viewport().width()
        painter = QPainter(self.viewport())
        try:
            for row in range(first, last + 1):
                option.rect = QRect(0, self.rowViewportPosition(row), width, self.rowHeight(row))
                index = model.index(row, 0)
                self._rows.draw(self, painter, option, index, model.row_identity(index))
        finally:
            painter.end()
        if self._rows.deferred:  # new rows left for the next paint, an event-loop turn later
            QTimer.singleShot(0, self.viewport().update)

    def lay_out_columns(self) -> None:
        """The default columns: widths, order, the less used ones hidden (call once a model is set)."""
        header = self.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in WIDTHS.items():
            self.setColumnWidth(column, width)
        # The stream number beside the id; completeness next to the addresses, in view.
        header.moveSection(header.visualIndex(Column.STREAM), Column.ID + 1)
        header.moveSection(header.visualIndex(Column.STATUS), header.visualIndex(Column.SERVER) + 1)
        # What the session is (HTTP Host, TLS server name) beside whether it is complete.
        header.moveSection(header.visualIndex(Column.APPLICATION), header.visualIndex(Column.STATUS) + 1)
        # Then the sizes (as Wireshark's conversation table has them), the times last:
        # at the default width the byte counts are in view without scrolling.
        for column in (Column.START, Column.DURATION):
            header.moveSection(header.visualIndex(column), header.count() - 1)
        for column in HIDDEN_BY_DEFAULT:
            header.setSectionHidden(column, True)

    def column_menu(self) -> QMenu:
        """A checkable entry per column (the id column always stays)."""
        menu = QMenu(self)
        header = self.header()
        for logical in sorted(range(header.count()), key=header.visualIndex):
            action = menu.addAction(HEADERS[logical])
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(logical))
            action.setEnabled(logical != Column.ID)
            action.toggled.connect(lambda shown, c=logical: self.show_column(c, shown))
        return menu

    def show_column(self, column: int, shown: bool) -> None:
        """Show or hide a column (a shown one that had no width gets its default)."""
        header = self.header()
        header.setSectionHidden(column, not shown)
        if shown and header.sectionSize(column) < 20:
            self.setColumnWidth(column, WIDTHS.get(Column(column), 80))

    def _column_menu(self, position: QPoint) -> None:
        self.column_menu().exec(self.header().mapToGlobal(position))
