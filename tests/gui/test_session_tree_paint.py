"""The session list paints rows from its model's texts, keeps them as pixmaps and fills in a
screenful of new rows over a few paints (``views/row_pixmaps``, ``views/row_painter``)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics

from monoview.core.flows.columns import Column
from monoview.gui.mainwindow import MainWindow
from monoview.gui.views import row_pixmaps
from monoview.gui.views.row_painter import TextCache
from tests.gui.conftest import capture, load


def _count_made(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    made: list[Any] = []
    paint = row_pixmaps.RowPixmaps._paint

    def counted(self: row_pixmaps.RowPixmaps, view: Any, option: Any, index: Any, rect: Any) -> Any:
        made.append(view.model().row_identity(index))
        return paint(self, view, option, index, rect)

    monkeypatch.setattr(row_pixmaps.RowPixmaps, "_paint", counted)
    return made


def _no_paint_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests of what is kept draw every row in one paint: on a busy machine the 8 ms budget
    would leave rows for later paints, and those would count as made anew."""
    monkeypatch.setattr(row_pixmaps, "PAINT_BUDGET_S", 3600.0)


def _named(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Wait for the application names: their arrival repaints every row anew (the rows'
    texts changed), and on a busy machine it can come in the middle of a test."""
    qtbot.waitUntil(lambda: window.tree_model.columns is not None
                    and window.tree_model.columns.applications is not None, timeout=20000)  # fmt: skip


def _visible_rows(window: MainWindow) -> int:
    tree = window.tree
    return min(window.tree_model.rowCount(), tree.viewport().height() // max(tree.rowHeight(0), 1) + 1)


def test_a_repaint_paints_anew_only_the_rows_that_changed(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _count_made(monkeypatch)
    _no_paint_budget(monkeypatch)
    load(qtbot, window, capture("http_many.pcap"))
    _named(qtbot, window)
    window.tree.viewport().grab()
    qtbot.wait(50)
    assert len(set(made)) >= min(_visible_rows(window), 10)
    made.clear()
    window.tree.viewport().grab()  # nothing changed: every row is a pixmap already
    assert made == []
    assert window.select_session(3)
    window.tree.viewport().grab()
    # Only the rows whose selection changed (session 3's, and session 1's unless its
    # unselected look was kept from before it was first selected).
    assert 2 in made and set(made) <= {0, 2}


def test_rows_seen_before_are_drawn_again_after_a_sort(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _count_made(monkeypatch)
    _no_paint_budget(monkeypatch)
    load(qtbot, window, capture("http_many.pcap"))
    _named(qtbot, window)
    window.tree.clearSelection()
    qtbot.wait(100)  # the rows a paint leaves for the next ones (its budget) are in by then
    window.tree.sortByColumn(Column.ID, Qt.SortOrder.DescendingOrder)
    qtbot.wait(100)
    window.tree.sortByColumn(Column.ID, Qt.SortOrder.AscendingOrder)
    made.clear()
    window.tree.viewport().grab()
    # Each row is kept under its session, not its position (alternate shading aside, a row
    # at an even place again is the pixmap it was).
    assert made == []


def test_a_screenful_of_new_rows_fills_in_over_a_few_paints(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _count_made(monkeypatch)
    monkeypatch.setattr(row_pixmaps, "PAINT_BUDGET_S", 0.0)  # a machine too slow for any budget
    load(qtbot, window, capture("http_many.pcap"))
    qtbot.wait(100)
    window.tree._rows.clear()
    made.clear()
    window.tree.viewport().grab()
    assert len(made) <= row_pixmaps.ROWS_AT_LEAST  # the rest left for the next paints
    qtbot.waitUntil(lambda: len(set(made)) >= _visible_rows(window) - 1, timeout=5000)


def test_a_text_too_wide_for_its_column_is_elided_to_fit(qtbot, window: MainWindow) -> None:
    font = window.tree.font()
    metrics = QFontMetrics(font)
    texts = TextCache()
    elided, width, static = texts.get("192.168.100.200:65535 " * 4, 80, font, metrics)
    assert elided.endswith("…") and width <= 80 and static is None
    again = texts.get("192.168.100.200:65535 " * 4, 80, font, metrics)
    assert again[0] == elided and again[2] is not None  # laid out from its second painting on
    assert texts.get("80", 80, font, metrics)[0] == "80"


def test_a_new_palette_paints_every_row_anew(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The palette is part of a kept row's key: after a change of colours no row is drawn
    from a pixmap of the old ones."""
    from PySide6.QtGui import QColor, QPalette

    made = _count_made(monkeypatch)
    load(qtbot, window, capture("http_many.pcap"))
    qtbot.wait(100)
    window.tree.viewport().grab()
    made.clear()
    palette = window.tree.palette()
    palette.setColor(QPalette.ColorRole.Base, QColor(30, 30, 30))
    window.tree.setPalette(palette)
    qtbot.waitUntil(lambda: len(set(made)) >= min(_visible_rows(window), 10), timeout=5000)
