"""The session tree's view: its columns (widths, order, which are shown) and the column chooser.

Right-click the header for the list of columns, as in Wireshark's packet list;
what is shown, the order and the widths are saved with the header's state.
The view sorts through its model (``SessionListModel.sort``: one numpy sort)
and paints a row in one call, kept as a pixmap (``row_pixmaps``).
"""

from __future__ import annotations

from typing import Any, Final

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QPersistentModelIndex, QPoint, Qt, QTimer
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QStyleOptionViewItem, QTreeView, QWidget

from monoview.core.flows.columns import HEADERS, Column
from monoview.gui.models.session_list import SessionListModel
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


class SessionTreeView(QTreeView):
    """The tree of sessions and their monologues."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("session_tree")
        self._rows = RowPixmaps()
        self.setUniformRowHeights(True)
        self.setIndentation(14)
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        header = self.header()
        header.setStretchLastSection(True)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)

    def setModel(self, model: QAbstractItemModel | None) -> None:
        """Override QTreeView::setModel: painted rows are forgotten when the model resets."""
        previous = self.model()
        if previous is not None and hasattr(previous, "row_identity"):
            previous.modelReset.disconnect(self._rows.clear)
        if isinstance(previous, SessionListModel):
            previous.cells_changed.disconnect(self._cells_changed)
        super().setModel(model)
        self._rows.clear()
        if model is not None and hasattr(model, "row_identity"):
            model.modelReset.connect(self._rows.clear)
        if isinstance(model, SessionListModel):
            model.cells_changed.connect(self._cells_changed)
        if model is not None and hasattr(model, "permutable"):
            model.permutable = self._permutable

    def _cells_changed(self) -> None:
        """Rows show something new in place: none of the kept pixmaps is right any more."""
        self._rows.clear()
        self.viewport().update()

    def _permutable(self, with_children: list[QModelIndex]) -> bool:
        """Whether a new order of the rows can be shown as new contents of the same rows:
        no session is expanded and the selection is whole single rows (each range's ends
        then move together)."""
        if any(self.isExpanded(index) for index in with_children):
            return False
        selection = self.selectionModel().selection()
        ranges = (selection.at(k) for k in range(selection.size()))
        return all(r.top() == r.bottom() and r.parent() == self.rootIndex() for r in ranges)

    def changeEvent(self, event: QEvent) -> None:
        """Override QWidget::changeEvent: painted rows are forgotten when the style changes
        (the palette is part of every row's key)."""
        if event.type() == QEvent.Type.StyleChange:
            self._rows.clear()
        super().changeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Override QTreeView::paintEvent: the columns' geometry, once per paint (``RowPixmaps``)."""
        self._rows.begin_paint(self)
        super().paintEvent(event)
        if self._rows.deferred:  # new rows left for the next paint, an event-loop turn later
            QTimer.singleShot(0, self.viewport().update)

    def drawRow(
        self, painter: QPainter, options: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        """Override QTreeView::drawRow: a row in one call, kept as a pixmap, when the model
        says what its rows show (``row_cells``, ``row_identity``); else Qt's own painting."""
        model: Any = self.model()
        if hasattr(model, "row_identity"):
            self._rows.draw(self, painter, options, index, model.row_identity(index))
        else:
            super().drawRow(painter, options, index)

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
