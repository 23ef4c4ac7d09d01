"""The text view covers the whole blob at any size, holding only a window of it.

Before, it laid out the first 256 kB and said "Showing the first …"; now Ctrl+End
or the position bar shows the last bytes at once, a selection anywhere maps to
its bytes, a gap far in is marked in line, and Wireshark's nine formats are
shown as ``monoview follow --show-as`` prints them.
"""

from __future__ import annotations

import subprocess
import sys

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QTextCursor
from PySide6.QtWidgets import QApplication

from monoview.core.blob import Blob, Span, gap_marker, session_blob
from monoview.core.document import CaptureDocument
from monoview.core.showas import ShowAs
from monoview.core.textmap import render
from monoview.gui.mainwindow import MainWindow
from monoview.gui.views.text_window import MOST, WINDOW
from monoview.gui.views.textview import TextView
from tests.gui.conftest import capture, load
from tests.gui.test_show_as import CLI_NAMES
from tests.pcapgen import Conversation, pcap_bytes

SIZE = 3 << 20  # 3 MB: twelve times what the view laid out before


def _lines(count: int) -> bytes:
    return b"".join(b"line %07d of the conversation\n" % i for i in range(count))


def _view(qtbot, blob: Blob, encoding: str = "ascii") -> TextView:  # type: ignore[no-untyped-def]
    view = TextView(encoding)
    qtbot.addWidget(view)
    view.resize(640, 400)
    view.show()
    view.set_blob(blob)
    return view


def _document(view: TextView) -> str:
    """The editor's text as it was put in (``toPlainText`` turns no-break spaces into spaces)."""
    return view.editor.document().toRawText().replace("\u2029", "\n")


def _big(gaps: tuple[tuple[int, int], ...] = ()) -> tuple[bytes, Blob]:
    data = _lines(SIZE // 31)
    assert len(data) > SIZE - 100
    return data, Blob("big", data, (Span(0, len(data), "c2s", None),), gaps)  # type: ignore[arg-type]


def test_ctrl_end_shows_the_last_bytes_of_a_big_blob(qtbot) -> None:
    data, blob = _big()
    view = _view(qtbot, blob)
    assert len(_document(view)) < 100_000  # a window, not the first 256 kB (nor all 3 MB)
    qtbot.keyClick(view.editor, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    tail = render(data[-4000:], "ascii").text
    assert _document(view).endswith(tail)
    bottom = view.editor.cursorForPosition(QPoint(10, view.editor.viewport().height() - 2)).position()
    assert len(_document(view)) - bottom < 200  # the end is on screen
    assert view.selection() == (len(data), len(data))


def test_the_position_bar_dragged_to_the_end_shows_the_end(qtbot) -> None:
    data, blob = _big()
    view = _view(qtbot, blob, "utf-8")
    assert view.bar.isVisible()
    view.bar.setValue(view.bar.maximum())
    assert _document(view).endswith(render(data[-4000:], "utf-8").text)
    view.bar.setValue(view.bar.maximum() // 2)  # and the middle: its line at the top
    top = view.editor.cursorForPosition(QPoint(0, 0)).position()
    middle = view.window_start + view.text_map.byte_of(top)
    assert abs(middle - len(data) // 2) < 200


def test_a_selection_near_the_end_maps_to_its_bytes(qtbot) -> None:
    data, blob = _big()
    view = _view(qtbot, blob)
    view.go_to_end()
    emitted: list[tuple[int, int]] = []
    view.selection_changed.connect(lambda start, end: emitted.append((start, end)))
    cursor = view.editor.textCursor()
    end = len(_document(view))
    cursor.setPosition(end - 31 - 12)
    cursor.setPosition(end - 31 - 5, QTextCursor.MoveMode.KeepAnchor)
    view.editor.setTextCursor(cursor)
    expected = (len(data) - 31 - 12, len(data) - 31 - 5)
    assert view.selection() == expected and emitted[-1] == expected
    view.select(len(data) - 1_000_000, len(data) - 1_000_000 + 12)  # far from the window: brought in
    start = len(data) - 1_000_000
    assert (
        view.editor.textCursor().selectedText().replace("\u2029", "\n") == data[start : start + 12].decode()
    )
    assert view.selection() == (start, start + 12)
    # A whole 3 MB selected (a monologue chosen while the view shows the conversation): its
    # start is shown and selected, without laying out all of it (a freeze on a 50 MB session).
    view.select(1000, len(data))
    assert len(_document(view)) < 100_000
    assert view.selection()[0] == 1000


def test_a_gap_far_in_is_marked_in_line(qtbot) -> None:
    position = 2_500_017
    _data, blob = _big(((position, 1460),))
    view = _view(qtbot, blob)
    assert gap_marker(1460) not in _document(view)
    view.select(position, position + 4)
    text = _document(view)
    char = view.text_map.char_of(position - view.window_start)
    assert text[char - len(gap_marker(1460)) : char] == gap_marker(1460)


def _everything(view: TextView) -> str:
    """The whole text, window after window, as the position bar walks it to the end: each
    window's text is its chunks' (a format's positions are the blob's bytes), and the editor
    holds it."""
    chunks = view._chunks
    texts: dict[int, str] = {}
    view.go_to_start()
    while True:
        first, last = view._first, view._last
        window = view.window_text()
        assert window == "".join(chunks.text(k) for k in range(first, last))  # type: ignore[attr-defined]
        assert _document(view) == window.replace("\r\n", "\n").replace("\r", "\n")
        texts.update((k, chunks.text(k)) for k in range(first, last))  # type: ignore[attr-defined]
        if last >= chunks.count:
            return "".join(texts[k] for k in range(chunks.count))
        view.bar.setValue(chunks.cut(last) // view._scale)


def test_every_format_is_shown_as_follow_prints_it(qtbot, window: MainWindow) -> None:
    path = capture("http_keepalive.pcap")
    load(qtbot, window, path)
    window.detail.set_scope("session")
    window.show_text()
    for how in ShowAs:
        window.text.set_format(how.value)
        view = window.text
        assert _document(view) == view.window_text().replace("\r\n", "\n").replace("\r", "\n")
        shown = _everything(view).encode("utf-8", errors="surrogateescape")
        cli = subprocess.run(
            [sys.executable, "-m", "monoview", "follow", str(path), "1", "--show-as", CLI_NAMES[how]],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        assert shown == cli, how
    window.text.set_format("")
    assert "GET /" in _document(window.text)


def test_scrolling_down_moves_the_window_along(qtbot) -> None:
    """The editor's own scrolling (wheel, keys, Page Down) at the window's bottom brings the
    next chunks in, and the text is always the blob's bytes there."""
    data, blob = _big()
    view = _view(qtbot, blob)
    bar = view.editor.verticalScrollBar()
    starts = []
    for _ in range(30):
        bar.setValue(bar.maximum())
        starts.append(view.window_start)
    assert starts == sorted(starts) and starts[-1] > 100_000
    start = view.window_start
    assert _document(view) == render(data[start : start + len(_document(view))], "ascii").text
    assert view.bar.value() > 0  # the position bar follows


def _mouse(view: TextView, kind: QEvent.Type, point: QPoint, held: Qt.MouseButton) -> None:
    viewport = view.editor.viewport()
    button = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseMove else Qt.MouseButton.LeftButton
    event = QMouseEvent(
        kind,
        QPointF(point),
        QPointF(viewport.mapToGlobal(point)),
        button,
        held,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def test_a_selection_dragged_past_the_window_keeps_its_start(qtbot) -> None:
    """A drag that scrolls the editor on (as its auto-scroll does, the button held) moves the
    window along without losing where the drag began: the selection runs from there."""
    data, blob = _big()
    view = _view(qtbot, blob)
    left = Qt.MouseButton.LeftButton
    _mouse(view, QEvent.Type.MouseButtonPress, QPoint(2, 2), left)
    bottom = QPoint(200, view.editor.viewport().height() - 4)
    _mouse(view, QEvent.Type.MouseMove, bottom, left)
    bar = view.editor.verticalScrollBar()
    for _ in range(3):  # well past the first window
        bar.setValue(bar.maximum())
        _mouse(view, QEvent.Type.MouseMove, bottom, left)
    start, end = view.selection()
    assert start == 0 and end > 30_000  # beyond the first window (24 kB), from where it began
    text = view.editor.textCursor().selectedText().replace("\u2029", "\n")
    assert text == render(data[start:end], "ascii").text
    _mouse(view, QEvent.Type.MouseButtonRelease, bottom, Qt.MouseButton.NoButton)
    assert view.selection() == (start, end)


def test_a_drag_longer_than_a_window_holds_is_cut_at_its_start(qtbot) -> None:
    """Dragged further than ``MOST`` chunks from where it began, the selection is cut where
    the window begins (as ``select`` cuts a long one): what stays selected is the bytes
    there, never a wrong range, and the drag goes on."""
    data, blob = _big()
    view = _view(qtbot, blob)
    left = Qt.MouseButton.LeftButton
    bottom = QPoint(200, view.editor.viewport().height() - 4)
    _mouse(view, QEvent.Type.MouseButtonPress, QPoint(2, 2), left)
    _mouse(view, QEvent.Type.MouseMove, bottom, left)
    bar = view.editor.verticalScrollBar()
    ends = []
    for _ in range(40):
        bar.setValue(bar.maximum())
        _mouse(view, QEvent.Type.MouseMove, bottom, left)
        ends.append(view.selection()[1])
    start, end = view.selection()
    assert ends == sorted(ends) and end > MOST * 8192
    assert 0 < start == view.window_start < end
    text = view.editor.textCursor().selectedText().replace("\u2029", "\n")
    assert text == render(data[start:end], "ascii").text


def test_a_selection_in_a_format_is_kept_exactly_when_the_window_moves(qtbot, tmp_path) -> None:
    """A format's text maps to bytes only roughly (a hex dump line is 16 bytes, a C array's
    head none): the cursor is kept as places in the chunks' texts, which come back exactly."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"GET / HTTP/1.1\r\n\r\n")
    conv.send(False, bytes(range(256)) * 800, mss=1448)
    conv.close()
    path = tmp_path / "formats.pcap"
    path.write_bytes(pcap_bytes(conv.frames))
    with CaptureDocument(path, workers=1) as document:
        session = document.conversation(1)
        view = _view(qtbot, session_blob(session, session.monologues))
        for how in (ShowAs.HEX_DUMP, ShowAs.C_ARRAYS, ShowAs.YAML):
            view.set_format(how.value)
            view.go_to_start()
            cursor = view.editor.textCursor()
            cursor.setPosition(5)  # in the first turn's head (C arrays, YAML)
            cursor.setPosition(300, QTextCursor.MoveMode.KeepAnchor)
            view.editor.setTextCursor(cursor)
            chosen = view.editor.textCursor().selectedText()
            bar = view.editor.verticalScrollBar()
            bar.setValue(bar.maximum())  # the window moves on, the selection's chunk kept
            assert view.window_text() != "" and view._last > WINDOW, how
            assert view.editor.textCursor().selectedText() == chosen, how


def test_a_selection_the_window_cuts_is_said_again(qtbot) -> None:
    """Scrolled on past a long selection's start, the window cuts it at its edge: the view
    says what is selected now (the hex view follows it, and Copy copies that)."""
    data, blob = _big()
    view = _view(qtbot, blob)
    view.select(1000, 60_000)
    emitted: list[tuple[int, int]] = []
    view.selection_changed.connect(lambda start, end: emitted.append((start, end)))
    bar = view.editor.verticalScrollBar()
    while view.window_start <= 1000:  # until the window no longer holds where it began
        bar.setValue(bar.maximum())
    start, end = view.selection()
    assert 1000 < start < end and emitted and emitted[-1] == (start, end)
    text = view.editor.textCursor().selectedText().replace("\u2029", "\n")
    assert text == render(data[start:end], "ascii").text
