"""The hex view shows a gap as its own ``[N bytes missing]`` row, and every byte stays where
the selection, the keyboard, the mouse, Copy, find and byte -> frame expect it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QMouseEvent

from monoview.core.blob import Blob, Span, gap_marker
from monoview.gui.mainwindow import MainWindow
from monoview.gui.views import palette
from monoview.gui.views.hexview import HexView
from tests.gui.conftest import capture, load

DATA = bytes(range(65, 105))  # 40 bytes: rows 0-15, 16-19, [5 missing], 20-35, 36-39, [3 missing]


@pytest.fixture
def view(qtbot) -> HexView:  # type: ignore[no-untyped-def]
    view = HexView()
    qtbot.addWidget(view)
    view.resize(760, 300)
    view.show()
    view.set_blob(Blob("t", DATA, (Span(0, 40, "c2s", None),), ((20, 5), (40, 3))))  # type: ignore[arg-type]
    return view


def _point(view: HexView, row: int, column: int) -> QPoint:
    """The middle of a byte's hex pair on visual row ``row``."""
    return QPoint(view._hex_x(column) + view._cw, row * view._lh + view._lh // 2)


def test_a_gap_is_a_row_of_its_own(view: HexView) -> None:
    image = view.viewport().grab().toImage()
    marker_y = 2 * view._lh + view._lh // 2
    assert image.pixelColor(view._x_hex - view._cw + 1, marker_y) == palette.GAP_MARK
    assert image.pixelColor(view._x_ascii + 3 * view._cw, marker_y) == palette.GAP_BG
    byte_y = 3 * view._lh + view._lh // 2  # the row after it: bytes again, the client's colour
    assert image.pixelColor(view._x_ascii + view._cw // 2, byte_y).rgb() != palette.GAP_BG.rgb()
    assert view.layout_rows.row(2).text == gap_marker(5) == "[5 bytes missing]"


@pytest.mark.qt_log_ignore("Mouse event")
def test_a_click_names_the_byte_under_it(qtbot, view: HexView) -> None:
    chosen: list[tuple[int, int]] = []
    view.selection_changed.connect(lambda a, b: chosen.append((a, b)))
    for row, column, position in ((0, 3, 3), (1, 2, 18), (3, 0, 20), (3, 5, 25), (4, 3, 39), (2, 7, 20)):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=_point(view, row, column))
        assert chosen[-1] == (position, position), (row, column)


@pytest.mark.qt_log_ignore("Mouse event")
def test_a_drag_onto_the_marker_ends_at_the_gap(qtbot, view: HexView) -> None:
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=_point(view, 1, 0))
    for row, column, selection in ((2, 5, (16, 20)), (3, 1, (16, 22)), (1, 2, (16, 19))):
        move = QMouseEvent(
            QEvent.Type.MouseMove,
            QPointF(_point(view, row, column)),
            QPointF(view.viewport().mapToGlobal(_point(view, row, column))),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        view.mouseMoveEvent(move)
        assert view.selection() == selection, (row, column)


def test_the_keyboard_steps_over_the_marker(qtbot, view: HexView) -> None:
    view.setFocus()
    view.select(18, 18)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.selection() == (22, 22)  # same column, the row after the marker
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.selection() == (18, 18)
    view.select(25, 25)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.selection() == (20, 20)  # the row starts right after the gap
    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ShiftModifier)
    assert view.selection() == (20, 36)


def test_copy_across_the_gap_says_so(view: HexView) -> None:
    view.select(18, 22)
    view.copy()
    assert QGuiApplication.clipboard().text() == f"53 54 {gap_marker(5)} 55 56"


def test_painting_reads_only_the_rows_on_screen(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    """51 MB with a gap every 5,000 bytes: a screenful reads a screenful, at the end too."""
    view = HexView()
    qtbot.addWidget(view)
    view.resize(760, 300)
    view.show()
    size = 51_200_000
    gaps = tuple((p, 1460) for p in range(5_000, size, 5_000))
    view.set_blob(Blob("big", b"\x00" * size, (), gaps))
    read: list[int] = []
    original = Blob.read
    monkeypatch.setattr(Blob, "read", lambda blob, at, count: read.append(count) or original(blob, at, count))
    bar = view.verticalScrollBar()
    assert bar.maximum() > size // 16
    for value in (bar.maximum() // 2, bar.maximum()):
        bar.setValue(value)
        read.clear()
        view.viewport().grab()
        assert 0 < sum(read) <= (view._visible_rows() + 1) * 16
    view.select(size - 1, size)  # scroll_to the last byte: its row is on screen
    assert bar.value() <= view.layout_rows.row_of(size - 1) < bar.value() + view._visible_rows()


@pytest.mark.qt_log_ignore("Mouse event")
def test_on_a_capture_with_gaps_find_and_byte_to_frame_land_after_the_marker(
    qtbot, window: MainWindow
) -> None:
    load(qtbot, window, capture("gaps.pcap"))
    window.detail.set_scope("session")
    window.detail.show_hex()
    hexview = window.hex
    blob = hexview.blob
    assert blob.gaps
    layout = hexview.layout_rows
    for position, missing in blob.gaps:
        if position < blob.size:
            marker = layout.row_of(position) - 1
            assert layout.row(marker).is_gap and layout.row(marker).missing == missing
    position, _missing = blob.gaps[0]
    after = blob.data[position : position + 4]
    found = window.find_bytes(after)
    assert found >= 0 and hexview.selection() == (found, found + 4)
    row = layout.row_of(found)
    bar = hexview.verticalScrollBar()
    assert bar.value() <= row < bar.value() + hexview._visible_rows()  # scrolled to it
    x = hexview._hex_x(found - layout.row(row).start) + hexview._cw
    click = QPoint(x, (row - bar.value()) * hexview._lh + 3)
    qtbot.mouseClick(hexview.viewport(), Qt.MouseButton.LeftButton, pos=click)
    assert hexview.selection() == (found, found)
    span = blob.span_at(found)
    assert span is not None and span.monologue is not None
    frame = span.monologue.locate(found - span.start)[0]
    assert f"byte {found:,} · frame {frame:,}" in window.origin.label.text()
