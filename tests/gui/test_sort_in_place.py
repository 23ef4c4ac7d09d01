"""A sort of the session list is one layout change: the rows are in the sorted order and the
current and selected sessions stay current and selected; the flat table lays nothing out per
row for it, nor for the whole list arriving (counted calls into the model)."""

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


def test_a_sort_keeps_the_current_session_current_and_selected(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_many.pcap"))
    assert window.select_session(5)
    seen = _signals(window)
    window.tree.sortByColumn(Column.START, Qt.SortOrder.DescendingOrder)
    assert seen == {"layout": 1, "data": 0}
    assert _shown_ids(window) == _latest_first(window) != sorted(_shown_ids(window))
    current = window.tree.currentIndex()
    assert window.tree_model.session_id_at(current) == 5
    assert [window.tree_model.session_id_at(i) for i in window.tree.selectionModel().selectedRows()] == [5]
    window.tree.viewport().grab()  # paints from the new order


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


def test_a_reset_and_a_sort_call_the_model_only_for_the_rows_on_screen(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The list arriving (a reset) and a sort: calls from Qt into the model's Python are
    bounded by the rows painted, not the rows listed (a tree view asked every row for its
    index and children at each layout: 40,000 calls for 20,000 sessions)."""
    from bench.model_calls import counting
    from monoview.core.document import CaptureDocument
    from monoview.core.flows.columns import SessionColumns
    from monoview.gui.models.session_list import SessionListModel
    from monoview.gui.views.session_tree import SessionTreeView

    document = CaptureDocument(capture("http_many.pcap"), workers=1)
    model_class, calls = counting(SessionListModel)
    model = model_class()
    view = SessionTreeView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(600, 5 * view.verticalHeader().defaultSectionSize() + 2 * view.frameWidth())
    view.show()
    qtbot.waitExposed(view)
    columns = SessionColumns(document.rows, document.flows)
    rows = len(columns)
    on_screen = view.viewport().height() // view.verticalHeader().defaultSectionSize() + 1
    assert rows >= 4 * on_screen  # else the bound below could not tell the two apart
    for act in (
        lambda: model.set_columns(columns),
        lambda: view.sortByColumn(Column.S2C, Qt.SortOrder.DescendingOrder),
    ):
        calls.clear()
        act()
        qtbot.wait(20)
        view.viewport().repaint()
        assert calls["hasChildren"] == 0
        assert calls["index"] <= 4 * on_screen + 40, calls  # a few per painted row, some for the header
    document.close()
