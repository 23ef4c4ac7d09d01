"""Show data as, Copy As, Save As, byte to frame and Go to Frame in the window.

Save As must write what ``monoview follow --show-as`` prints for the same
monologues (the export of record); a byte's origin must be the frame whose
payload holds it in the file; Go to Frame must land on that frame's byte.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QGuiApplication

from monoview.core.flows.lookup import sessions_of_frame
from monoview.core.render import escape_text
from monoview.core.showas import ShowAs
from monoview.gui.mainwindow import MainWindow
from monoview.gui.window.show_as import BYTES, SAVE_FORMATS, c_array
from tests.core.test_amsdu import aggregated
from tests.gui.conftest import capture, load

CLI_NAMES = {
    ShowAs.ASCII: "ascii", ShowAs.UTF8: "utf-8", ShowAs.LATIN1: "latin-1", ShowAs.UTF16: "utf-16",
    ShowAs.EBCDIC: "ebcdic", ShowAs.HEX_DUMP: "hex-dump", ShowAs.C_ARRAYS: "c-arrays", ShowAs.RAW: "raw",
    ShowAs.YAML: "yaml",
}  # fmt: skip


def test_save_as_writes_what_follow_prints(qtbot, window: MainWindow, tmp_path: Path) -> None:
    path = capture("http_keepalive.pcap")
    load(qtbot, window, path)
    window.detail.set_scope("session")
    for how in SAVE_FORMATS:
        target = window.show_as.save_as(tmp_path / f"out-{len(how)}-{how.replace(' ', '_')}", how)
        written = target.read_bytes()
        if how == BYTES:
            session = window.current_session
            assert session is not None
            assert written == b"".join(m.data() for m in session.monologues)
            continue
        cli = subprocess.run(
            [sys.executable, "-m", "monoview", "follow", str(path), "1", "--show-as", CLI_NAMES[ShowAs(how)]],
            capture_output=True, check=True,
        ).stdout  # fmt: skip
        assert written == cli, how


def test_copy_as_puts_the_selected_bytes_on_the_clipboard(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    window.detail.set_scope("monologue")
    window.show_hex()
    window.hex.select(0, 14)
    data = window.detail.blob.read(0, 14)
    assert data.startswith(b"GET ")
    clipboard = QGuiApplication.clipboard()
    window.show_as.copy_as("…as Hex Stream")
    assert clipboard.text() == data.hex()
    window.show_as.copy_as("…as C Array")
    assert clipboard.text() == c_array(data) and "0x47, 0x45, 0x54" in clipboard.text()
    window.show_as.copy_as("…as Escaped Text")
    assert clipboard.text() == escape_text(data)
    window.show_as.copy_as(BYTES)
    assert bytes(clipboard.mimeData().data("application/octet-stream").data()) == data


def test_a_bytes_origin_is_its_frame_and_its_place_in_the_file(qtbot, window: MainWindow) -> None:
    path = capture("http_keepalive.pcap")
    load(qtbot, window, path)
    window.detail.set_scope("session")
    window.show_hex()
    session = window.current_session
    assert session is not None
    second = session.monologues[1]
    position = window.detail.blob.span_of(second).start + 5
    window.hex.select(position, position + 1)
    window.origin.show_origin(position)
    frame, _ts, offset = window.origin.origin(position)
    assert path.read_bytes()[offset] == second.data()[5]
    assert frame == second.frames[0]
    assert f"frame {frame:,}" in window.origin.label.text() and f"0x{offset:x}" in window.origin.label.text()


def test_go_to_frame_opens_its_session_at_its_first_byte(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    window.select_session(1)
    target = window.document.conversation(2).monologues[3]
    frame = target.frames[-1]
    assert window.origin.go_to(frame)
    qtbot.waitUntil(
        lambda: window.current_session is not None and window.current_session.id == 2, timeout=5000
    )
    qtbot.waitUntil(lambda: window.conversation.current_monologue() is target, timeout=5000)
    qtbot.wait(20)
    start, _end = window.hex.selection()
    assert window.origin.origin(start)[0] == frame
    assert not window.origin.go_to(10**9)


def test_the_text_view_decodes_utf16_and_ebcdic(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    window.show_text()
    for name in ("utf-16", "ebcdic"):
        window.text.encoding.setCurrentIndex(window.text.encoding.findData(name))
        qtbot.waitUntil(lambda: not window.text.rendering, timeout=5000)
        shown = window.text.editor.toPlainText()
        assert shown and "GET /" not in shown  # decoded another way than ASCII


def test_gaps_are_marked_in_line_in_the_text_view(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("gaps.pcap"))
    session = next(s for s in window.document.conversations() if any(s.gaps(d) for d in ("c2s", "s2c")))
    window.select_session(session.id)
    qtbot.waitUntil(lambda: window.current_session is not None and window.current_session.id == session.id)
    window.detail.set_scope("session")
    window.show_text()
    qtbot.waitUntil(lambda: not window.text.rendering, timeout=5000)
    blob = window.detail.blob
    assert blob.gaps
    # Each marker in line, however far in: the byte after a gap starts right after its marker.
    for position, missing in blob.gaps:
        window.text.select(position, position)
        shown = window.text.editor.document().toRawText()
        char = window.text.text_map.char_of(position - window.text.window_start)
        marker = f"[{missing:,} bytes missing]"
        assert shown[char - len(marker) : char] == marker


def test_go_to_a_frame_of_several_sessions_goes_round_them(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """A frame with packets of two sessions (an A-MSDU): the status bar names both, the shown
    session is kept when it is one of them, and asking for the frame again goes to the other
    and back.  Before, Go to Frame always opened the first (``session_of_frame``)."""
    path = aggregated(tmp_path, "ieee802_11")[0]
    load(qtbot, window, path)
    ids = sessions_of_frame(window.document, 2)
    assert len(ids) == 2

    def shown() -> int | None:
        return window.current_session.id if window.current_session is not None else None

    window.select_session(ids[1])
    qtbot.waitUntil(lambda: shown() == ids[1], timeout=5000)
    assert window.origin.go_to(2)
    qtbot.wait(50)
    assert shown() == ids[1]
    assert f"sessions {ids[0]}, {ids[1]}" in window.statusBar().currentMessage()
    for expected in (ids[0], ids[1], ids[0]):
        assert window.origin.go_to(2)
        qtbot.waitUntil(lambda expected=expected: shown() == expected, timeout=5000)


def test_copy_marks_the_missing_bytes_in_line(qtbot, window: MainWindow) -> None:
    """Copy from the hex view (either column) and from the conversation writes
    ``[N bytes missing]`` where bytes are missing, as the text view shows them."""
    load(qtbot, window, capture("gaps.pcap"))
    window.detail.set_scope("session")
    window.show_hex()
    blob = window.detail.blob
    position, missing = blob.gaps[0]
    marker = f"[{missing:,} bytes missing]"
    before, after = blob.read(position - 2, 2), blob.read(position, 2)
    clipboard = QGuiApplication.clipboard()
    window.hex.select(position - 2, position + 2)
    window.hex.copy()
    assert clipboard.text() == f"{before.hex(' ')} {marker} {after.hex(' ')}"
    # The conversation's copy: each selected monologue with its gaps marked.
    gapped = next(m for m in window.current_session.monologues if m.gaps())  # type: ignore[union-attr]
    window.conversation.show_monologue(gapped)
    window.conversation.setFocus()
    qtbot.waitUntil(window.conversation.hasFocus, timeout=2000)
    window.copy_selection()
    text = clipboard.text()
    assert [f"[{g.length:,} bytes missing]" in text for g in gapped.gaps()] == [True] * len(gapped.gaps())
    # Without a gap inside, the bytes alone (and no marker at a selection's edge).
    window.show_hex()
    window.hex.select(position, position + 2)
    window.hex.copy()
    assert clipboard.text() == after.hex(" ")


def test_the_hex_and_text_views_have_a_context_menu(qtbot, window: MainWindow) -> None:
    from PySide6.QtCore import Qt

    load(qtbot, window, capture("http_keepalive.pcap"))
    for view in (window.hex, window.text.editor):
        assert view.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
        menu = window.show_as.context_menu(view)
        texts = [a.text() for a in menu.actions() if not a.isSeparator()]
        assert texts == ["&Copy", "Copy &As", "&Save Shown Bytes As…"]
        copy_as = next(a.menu() for a in menu.actions() if a.text() == "Copy &As")
        assert [a.text() for a in copy_as.actions()] == ["…as Bytes", *window.show_as.copies()]


def test_a_click_in_the_hex_or_text_view_names_the_bytes_frame(qtbot, window: MainWindow) -> None:
    """The byte under the cursor (a click, no selection) is named in the status bar, in
    either view: the frame whose payload holds it and its offset in the file."""
    from PySide6.QtCore import QPoint, Qt

    path = capture("http_keepalive.pcap")
    load(qtbot, window, path)
    window.detail.set_scope("session")
    window.show_hex()
    qtbot.wait(20)
    raw = path.read_bytes()
    hex_view = window.hex
    qtbot.mouseClick(hex_view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(hex_view._hex_x(5) + 2, 3))
    position, _end = hex_view.selection()
    assert position == 5
    frame, _ts, offset = window.origin.origin(position)
    assert raw[offset] == window.detail.blob.read(position, 1)[0]
    assert f"frame {frame:,}" in window.origin.label.text()
    window.show_text()
    qtbot.waitUntil(lambda: not window.text.rendering, timeout=5000)
    window.origin.label.clear()
    editor = window.text.editor
    qtbot.mouseClick(editor.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, 40))
    position, end = window.text.selection()
    assert position == end > 0
    frame, _ts, offset = window.origin.origin(position)
    assert raw[offset] == window.detail.blob.read(position, 1)[0]
    assert f"byte {position:,} · frame {frame:,}" in window.origin.label.text()
