"""Hex and text views, find, shortcuts, remembered state."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QToolBar

from monoview.core.blob import Blob, Span
from monoview.core.find import PatternError, parse_pattern
from monoview.gui.actions import ACTIONS
from monoview.gui.mainwindow import MainWindow
from monoview.gui.settings import Settings
from monoview.gui.views.hexview import HexView
from monoview.gui.views.textview import TextView
from tests.gui.conftest import capture, load


def test_no_two_actions_share_a_shortcut(qapp) -> None:  # keyBindings needs a QGuiApplication
    keys = Counter(seq.toString() for spec in ACTIONS for seq in spec.key_sequences())
    assert keys and all(count == 1 for count in keys.values()), keys
    assert len({spec.id for spec in ACTIONS}) == len(ACTIONS)


def test_every_action_has_a_slot(window: MainWindow) -> None:
    for spec in ACTIONS:
        assert callable(getattr(window, spec.slot)), spec.id
    assert window.actions_by_id["open"].shortcuts()


def test_toolbar_comes_from_the_action_table(window: MainWindow) -> None:
    toolbar = window.findChild(QToolBar, "main_toolbar")
    assert [a.objectName() for a in toolbar.actions()] == [f"action_{s.id}" for s in ACTIONS if s.toolbar]
    assert all(not action.icon().isNull() for action in toolbar.actions())


def test_hex_view_paints_only_what_it_needs(qtbot) -> None:
    view = HexView()
    qtbot.addWidget(view)
    view.resize(700, 300)
    view.show()
    data = bytes(range(256)) * 200_000  # 51 MB
    view.set_blob(Blob("big", data))
    assert view.verticalScrollBar().maximum() > 3_000_000
    view.verticalScrollBar().setValue(view.verticalScrollBar().maximum())
    view.grab()  # paints without touching the other 3 million rows
    view.select(len(data) - 16, len(data))
    view.copy()
    assert QGuiApplication.clipboard().text() == bytes(range(240, 256)).hex(" ")


def test_selection_in_hex_shows_in_text_and_back(qtbot) -> None:
    hexview, text = HexView(), TextView("ascii")
    for widget in (hexview, text):
        qtbot.addWidget(widget)
    data = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01binary"
    blob = Blob("t", data, (Span(0, len(data), "c2s", None),))  # type: ignore[arg-type]
    hexview.set_blob(blob)
    text.set_blob(blob)
    hexview.selection_changed.connect(text.select)
    text.selection_changed.connect(hexview.select)
    hexview.select(16, 23)
    hexview.selection_changed.emit(16, 23)
    assert text.editor.textCursor().selectedText() == "Host: x"
    cursor = text.editor.textCursor()
    start = text.editor.toPlainText().index("\\x00")
    cursor.setPosition(start)
    cursor.setPosition(start + 8, cursor.MoveMode.KeepAnchor)
    text.editor.setTextCursor(cursor)
    assert hexview.selection() == (data.index(b"\x00"), data.index(b"\x00") + 2)


def test_text_view_encodings(qtbot) -> None:
    text = TextView("utf-8")
    qtbot.addWidget(text)
    text.set_blob(Blob("t", "héllo\x07".encode()))
    assert text.editor.toPlainText() == "héllo\\x07"
    text.encoding.setCurrentIndex(text.encoding.findData("ascii"))
    assert text.editor.toPlainText() == "h\\xc3\\xa9llo\\x07"


def test_find_text_and_hex_in_the_conversation(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    window.select_session(1)
    pattern = b"HTTP/1.1 404"  # the sixth request is answered 404 (captures/lab/README.md)
    position = window.find_bytes(pattern)
    assert position >= 0
    monologue = window.conversation.current_monologue()
    assert monologue is not None and monologue.direction == "s2c" and pattern in monologue.data()
    start, end = window.hex.selection()
    assert window.hex.blob.data[start:end] == pattern
    assert (
        window.find_bytes(parse_pattern("48 54 54 50 2f 31 2e 31 20 34 30 34", hex_mode=True)) == position
    )  # wraps
    assert window.find_bytes(b"no such bytes anywhere") == -1
    assert window.find_bar.status.text() == "Not found"


def test_find_bar_shortcuts(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    window.select_session(1)
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.find_bar.isVisible() and window.find_bar.pattern.hasFocus()
    qtbot.keyClicks(window.find_bar.pattern, "content-type")
    qtbot.keyClick(window.find_bar.pattern, Qt.Key.Key_Return)
    first = window.finder.position
    assert first >= 0
    qtbot.keyClick(window, Qt.Key.Key_F3)
    assert window.finder.position > first
    qtbot.keyClick(window, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert window.finder.position == first
    qtbot.keyClick(window.find_bar.pattern, Qt.Key.Key_Escape)
    assert not window.find_bar.isVisible()


def test_bad_hex_pattern_is_explained() -> None:
    with pytest.raises(PatternError, match="hex"):
        parse_pattern("4g", hex_mode=True)


def test_state_is_remembered(qtbot, tmp_path: Path) -> None:
    path = tmp_path / "state.ini"
    first = MainWindow(Settings(QSettings(str(path), QSettings.Format.IniFormat)))
    qtbot.addWidget(first)
    first.resize(711, 577)  # the offscreen screen is 800x800
    first.show()
    with qtbot.waitSignal(first.load_finished, timeout=30_000):
        first.open_path(capture("chatter.pcap"))
    first.main_splitter.setSizes([250, 450])
    remembered = first.main_splitter.sizes()[0]
    first.settings.export_format = "hex"
    first.close()
    second = MainWindow(Settings(QSettings(str(path), QSettings.Format.IniFormat)))
    qtbot.addWidget(second)
    second.show()
    assert second.size().width() == 711
    assert second.settings.recent_files == [str(capture("chatter.pcap").resolve())]
    assert second.settings.export_format == "hex"
    with qtbot.waitSignal(second.load_finished, timeout=30_000):
        second.open_path(second.settings.recent_files[0])
    qtbot.waitUntil(lambda: abs(second.main_splitter.sizes()[0] - remembered) <= 5, timeout=3000)
    second.close()


def test_about_names_every_version() -> None:
    from monoview.gui.dialogs.about import versions

    names = versions()
    assert set(names) >= {"monoview", "Python", "Qt", "PySide6", "pyqtgraph", "dpkt"}
    assert names["PySide6"].startswith("6.11")


def test_shortcut_list_comes_from_the_action_table(window: MainWindow) -> None:
    rows = dict(window.shortcut_rows())
    assert rows["Find"].startswith("Ctrl+F")
    # The platform's standard keys (F3 and Ctrl+G on Linux), not only F3.
    native = QKeySequence.SequenceFormat.NativeText
    standard = {
        name: ", ".join(k.toString(native) for k in QKeySequence.keyBindings(key))
        for name, key in (("Find Next", QKeySequence.StandardKey.FindNext),
                          ("Find Previous", QKeySequence.StandardKey.FindPrevious))
    }  # fmt: skip
    assert rows["Find Next"] == standard["Find Next"] and "F3" in rows["Find Next"]
    assert rows["Find Previous"] == standard["Find Previous"] and "Shift+F3" in rows["Find Previous"]
    assert "Open" in rows and "Quit" in rows
    # Only keys an ordinary keyboard has: not Qt's bindings to the Open, Copy, Save, Help keys.
    for command, key_name in (("Open", "Open"), ("Copy", "Copy"), ("Find", "Find"),
                              ("Save Shown Bytes As", "Save"), ("Keyboard Shortcuts", "Help")):  # fmt: skip
        assert rows[command] and key_name not in rows[command], (command, rows[command])


def test_only_a_real_carriage_return_is_dimmed() -> None:
    from monoview.core.render import escape_text
    from monoview.gui.views.conversation import split_line_end

    assert split_line_end(escape_text(b"GET / HTTP/1.1\r")) == ("GET / HTTP/1.1", "\\r")
    assert split_line_end(escape_text(b"path\\r")) == (escape_text(b"path\\r"), "")  # backslash, then r
    assert split_line_end(escape_text(b"x\\\r")) == (escape_text(b"x\\"), "\\r")


def test_conflicting_retransmission_is_flagged_everywhere(qtbot, window: MainWindow) -> None:
    """suricata_tcp-overlap-exact: a retransmission carries other bytes than the first copy.
    The conversation badges the monologue, the hex and text views mark the bytes."""
    from monoview.gui.models.conversation import MonologueItem
    from monoview.gui.views import palette

    load(qtbot, window, capture("suricata_tcp-overlap-exact.pcap"))
    session = window.current_session  # the first is shown
    assert session is not None and session.id == 1
    (conflict,) = session.conflicts("c2s")  # the oracle's first copy is what the stream holds
    window.select_session(session.id)
    monologue = next(m for m in session.monologues if m.direction == "c2s")
    window.select_monologue(monologue)
    model = window.conversation.conversation
    items = [model.item(r) for r in range(model.rowCount())]
    flagged = [i for i in items if isinstance(i, MonologueItem) and i.conflicts]
    assert [i.monologue.index for i in flagged] == [monologue.index]
    window.show_hex()
    assert window.hex.blob.conflicts == ((conflict.offset - monologue.offset, conflict.length),)
    window.show_text()
    marks = [
        s
        for s in window.text.editor.extraSelections()
        if s.format.background().color() == palette.CONFLICT_BG
    ]
    assert len(marks) == 1
    assert marks[0].cursor.selectionEnd() - marks[0].cursor.selectionStart() >= conflict.length


def test_capture_commands_wait_for_a_capture(qtbot, window: MainWindow) -> None:
    from monoview.gui.window.menus import CAPTURE_ACTIONS

    assert not any(window.actions_by_id[key].isEnabled() for key in CAPTURE_ACTIONS)
    load(qtbot, window, capture("http_keepalive.pcap"))
    assert all(window.actions_by_id[key].isEnabled() for key in CAPTURE_ACTIONS)
    window.close_capture()
    assert not any(window.actions_by_id[key].isEnabled() for key in CAPTURE_ACTIONS)


def test_match_case_is_off_for_hex_patterns(window: MainWindow) -> None:
    bar = window.find_bar
    bar.mode.setCurrentIndex(bar.mode.findData(True))
    assert not bar.case.isEnabled()
    bar.mode.setCurrentIndex(bar.mode.findData(False))
    assert bar.case.isEnabled()


def test_a_monologue_chosen_in_the_conversation_is_selected_in_the_whole_conversation(
    qtbot, window: MainWindow
) -> None:
    load(qtbot, window, capture("chatter.pcap"))
    window.detail.set_scope("session")
    window.show_hex()
    target = window.conversation.conversation.monologues()[120]
    window.select_monologue(target)
    span = window.detail.blob.span_of(target)
    assert span is not None and window.hex.selection() == (span.start, span.end)
    assert window.hex.blob.read(span.start, span.end - span.start) == target.data()


def test_the_conversation_model_passes_the_model_tester(qtmodeltester) -> None:
    from monoview.core.document import CaptureDocument
    from monoview.gui.models.conversation import ConversationModel

    with CaptureDocument(capture("gaps.pcap"), workers=1) as document:
        for session in document.conversations():
            model = ConversationModel()
            model.set_session(session, session.monologues)
            model.finish()
            qtmodeltester.check(model)
            assert model.rowCount() >= len(session.monologues)


def test_find_never_matches_across_missing_bytes(qtbot, window: MainWindow) -> None:
    """The bytes on the two sides of a gap were never next to each other: a pattern made of
    them is not found (the views show a ``[N bytes missing]`` marker between them)."""
    load(qtbot, window, capture("gaps.pcap"))
    blob = window.detail.session_blob()
    position, _missing = blob.gaps[0]
    assert 3 <= position <= blob.size - 3
    across = blob.data[position - 3 : position + 3]
    assert blob.data.count(across) == 1  # found nowhere else in the conversation
    assert window.find_bytes(across) == -1
    assert window.find_bar.status.text() == "Not found"
    before = blob.data[position - 3 : position]  # up to the gap: a match
    assert window.find_bytes(before) >= 0


def test_a_monologue_header_keeps_its_delay_and_packet_count_whole(qtbot, window: MainWindow) -> None:
    """However narrow the pane, the addresses and then the clock time give way before the
    delay since the last monologue and the packet count are cut (a "bytes missing" badge
    once left "+0.002230 s   412 …" at the window's default size)."""
    from PySide6.QtGui import QFont, QFontMetrics

    from monoview.gui.models.conversation import MonologueItem
    from monoview.gui.views.conversation import fitted_header, header_parts, header_text

    load(qtbot, window, capture("gaps.pcap"))
    session = window.current_session
    assert session is not None
    first, second = session.monologues[:2]
    item = MonologueItem(second, first, 0)
    lead, clock, since, packets, route = header_parts(item)
    assert since.startswith("+") and packets == f"{second.packets} packets"
    assert header_text(item).count("server") == 1 and route in header_text(item)  # the direction once
    font = QFont(window.conversation.font())
    font.setBold(True)
    metrics = QFontMetrics(font)
    essential = metrics.horizontalAdvance(f"{lead}   {since}   {packets}")
    for width in range(metrics.horizontalAdvance(header_text(item)) + 10, 40, -7):
        line = fitted_header(item, metrics, width)
        assert metrics.horizontalAdvance(line) <= width, width
        if width >= essential:
            assert line.startswith(lead) and f"{since}   {packets}" in line, (width, line)
    assert fitted_header(item, metrics, 10_000) == header_text(item)


def test_find_counts_the_matches_and_highlights_them_all(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    window.select_session(1)
    window.detail.set_scope("session")
    window.show_text()
    data = window.detail.session_blob().data
    expected = [i for i in range(len(data)) if data.startswith(b"HTTP/1.1", i)]
    assert len(expected) > 2
    window.find_bytes(b"HTTP/1.1")
    assert window.find_bar.status.text().startswith(f"Match 1 of {len(expected)}")
    window.find_bytes(b"HTTP/1.1")
    assert window.find_bar.status.text().startswith(f"Match 2 of {len(expected)}")
    assert window.text._highlights == [(p, p + 8) for p in expected]
    window.find_bar.dismiss()
    assert window.text._highlights == []


def test_a_column_added_since_the_header_was_saved_keeps_its_default(qtbot, tmp_path: Path) -> None:
    """A header state from before the outer-path column (15 sections, no count saved) must not
    make that hidden-by-default column appear; one the user chose to show stays shown."""
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QTreeView

    from monoview.core.flows.columns import Column

    old = QTreeView()
    old.setModel(QStandardItemModel(0, int(Column.OUTER_PATH)))
    path = tmp_path / "old.ini"
    settings = Settings(QSettings(str(path), QSettings.Format.IniFormat))
    settings.set_layout("tree_header", old.header().saveState())
    settings.sync()
    window = MainWindow(Settings(QSettings(str(path), QSettings.Format.IniFormat)))
    qtbot.addWidget(window)
    window.show()
    header = window.tree.header()
    assert header.count() > Column.OUTER_PATH
    assert header.isSectionHidden(Column.OUTER_PATH)
    window.tree.show_column(Column.OUTER_PATH, True)
    header.resizeSection(Column.OUTER_PATH, 333)
    header.moveSection(header.visualIndex(Column.OUTER_PATH), 1)
    window.close()
    again = MainWindow(Settings(QSettings(str(path), QSettings.Format.IniFormat)))
    qtbot.addWidget(again)
    again.show()
    restored = again.tree.header()
    assert not restored.isSectionHidden(Column.OUTER_PATH)
    assert restored.sectionSize(Column.OUTER_PATH) == 333
    assert restored.visualIndex(Column.OUTER_PATH) == 1
    again.close()
