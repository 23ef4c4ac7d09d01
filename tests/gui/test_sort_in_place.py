"""A sort with nothing expanded is shown as new contents of the same rows (no layout of every
row); with a session expanded or several rows selected it is a layout change.  Either way the
rows are in the sorted order and the current and selected sessions stay current and selected."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt

from monoview.core.flows.columns import Column
from monoview.gui.mainwindow import MainWindow
from monoview.gui.models.roles import Role
from tests.gui.conftest import capture, load


def _signals(window: MainWindow) -> dict[str, int]:
    seen = {"layout": 0, "data": 0}
    model = window.tree_model
    model.layoutChanged.connect(lambda *_: seen.__setitem__("layout", seen["layout"] + 1))
    model.dataChanged.connect(lambda *_: seen.__setitem__("data", seen["data"] + 1))
    return seen


def _shown_ids(window: MainWindow) -> list[int]:
    model = window.tree_model
    return [model.index(row, 0).data(Role.SESSION) for row in range(model.rowCount())]


def _latest_first(window: MainWindow) -> list[int]:
    """Session ids by start time, latest first, ties in id order (a stable sort), from the columns."""
    columns = window.tree_model.columns
    assert columns is not None
    starts = columns.rows["first_ts"].astype(np.int64)
    ids = np.arange(1, len(starts) + 1)
    return [int(i) for i in ids[np.lexsort((ids, -starts))]]


def test_a_sort_with_nothing_expanded_moves_the_rows_contents(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_many.pcap"))
    assert window.select_session(5)
    seen = _signals(window)
    window.tree.sortByColumn(Column.START, Qt.SortOrder.DescendingOrder)
    assert seen == {"layout": 0, "data": 1}
    assert _shown_ids(window) == _latest_first(window) != sorted(_shown_ids(window))
    current = window.tree.currentIndex()
    assert window.tree_model.session_id_at(current) == 5
    assert [window.tree_model.session_id_at(i) for i in window.tree.selectionModel().selectedRows()] == [5]
    window.tree.viewport().grab()  # paints from the new contents (expanders drawn from the model)


def test_a_sort_with_a_session_expanded_is_a_layout_change(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_many.pcap"))
    assert window.select_session(2)
    index = window.tree_model.session_index(2)
    window.tree.expand(index)
    qtbot.waitUntil(lambda: window.tree_model.rowCount(window.tree_model.session_index(2)) > 0)
    seen = _signals(window)
    window.tree.sortByColumn(Column.START, Qt.SortOrder.DescendingOrder)
    assert seen["layout"] == 1
    moved = window.tree_model.session_index(2)
    assert window.tree.isExpanded(moved)
    child = window.tree_model.index(0, 0, moved)
    assert window.tree_model.session_id_at(child) == 2
    assert _shown_ids(window) == _latest_first(window)


def test_a_sort_with_several_rows_selected_keeps_them_selected(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_many.pcap"))
    model = window.tree_model
    selection = QItemSelection(model.index(2, 0), model.index(5, model.columnCount() - 1))
    window.tree.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    chosen = sorted(model.session_id_at(i) for i in window.tree.selectionModel().selectedRows())
    assert chosen == [3, 4, 5, 6]
    seen = _signals(window)
    window.tree.sortByColumn(Column.START, Qt.SortOrder.DescendingOrder)
    assert seen["layout"] == 1  # a range of rows would be torn apart by moving its two ends
    assert sorted(model.session_id_at(i) for i in window.tree.selectionModel().selectedRows()) == chosen


def test_a_session_expanded_while_it_is_reassembled_keeps_its_children_through_a_sort(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Expanded, its monologues asked for and not here yet, then sorted: the sort is a layout
    change, and the monologues that arrive afterwards show under it (a sort shown in place
    left the view's own layout with the old row expanded: the children never showed)."""
    from monoview.core.document import CaptureDocument
    from monoview.core.flows.columns import SessionColumns
    from monoview.gui.models.session_list import SessionListModel
    from monoview.gui.views.session_tree import SessionTreeView

    document = CaptureDocument(capture("http_many.pcap"), workers=1)
    model = SessionListModel()
    view = SessionTreeView()
    qtbot.addWidget(view)
    view.setModel(model)
    model.set_columns(SessionColumns(document.rows, document.flows))
    view.resize(600, 800)
    view.show()
    asked: list[int] = []
    model.monologues_wanted.connect(asked.append)  # held back: nobody answers yet
    view.expand(model.session_index(7))
    qtbot.waitUntil(lambda: asked == [7])
    seen = _signals_of(model)
    view.sortByColumn(Column.START, Qt.SortOrder.DescendingOrder)
    assert seen["layout"] == 1
    model.set_monologues(7, document.conversation(7).monologues)
    parent = model.session_index(7)
    assert view.isExpanded(parent)
    child = model.index(0, 0, parent)
    assert child.isValid() and not view.visualRect(child).isEmpty()
    document.close()


def _signals_of(model) -> dict[str, int]:  # type: ignore[no-untyped-def]
    seen = {"layout": 0}
    model.layoutChanged.connect(lambda *_: seen.__setitem__("layout", seen["layout"] + 1))
    return seen
