"""Opening through the worker processes: the conversation equals the oracle, cancel, damage,
model sanity."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from monoview.core.document import CaptureDocument
from monoview.core.flows.columns import Column, SessionColumns
from monoview.gui.mainwindow import MainWindow
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.window.pages import PAGE_CAPTURE, PAGE_WELCOME
from tests.gui.conftest import LOAD_TIMEOUT_MS, capture, load


def oracle(name: str) -> dict:
    path = capture(name)
    return json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".oracle.json").read_text())


def test_empty_window_offers_the_sample(window: MainWindow) -> None:
    assert window.stack.currentIndex() == PAGE_WELCOME
    assert window.welcome.sample_button.isVisibleTo(window)
    assert window.windowTitle() == "monoview"
    assert not window.actions_by_id["export_all"].isEnabled()


def test_chatter_conversation_equals_the_oracle(qtbot, window: MainWindow) -> None:
    expected = oracle("chatter.pcap")["streams"][0]["monologues"]
    load(qtbot, window, capture("chatter.pcap"))
    assert window.stack.currentIndex() == PAGE_CAPTURE
    assert window.windowTitle().startswith("chatter.pcap")
    assert window.select_session(1)
    shown = window.conversation.conversation.monologues()
    assert len(shown) == len(expected)
    assert [m.direction for m in shown] == [e["dir"] for e in expected]
    assert [m.length for m in shown] == [e["len"] for e in expected]
    assert [hashlib.sha256(m.data()).hexdigest() for m in shown] == [e["sha256"] for e in expected]


def test_selecting_a_monologue_in_the_tree_scrolls_the_conversation(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("chatter.pcap"))
    window.select_session(1)
    target = window.conversation.conversation.monologues()[150]
    window.select_monologue(target)
    assert window.conversation.current_monologue() is target
    rect = window.conversation.visualRect(window.conversation.currentIndex())
    assert window.conversation.viewport().rect().intersects(rect)
    assert window.hex.blob.data == target.data()


def test_cancelling_an_open_goes_back_to_the_start(qtbot, window: MainWindow, big_capture: Path) -> None:
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(big_capture)
        assert window.loading and window.actions_by_id["cancel_load"].isEnabled()
        window.cancel_load()
    assert not window.loading and window.document is None
    assert window.stack.currentIndex() == PAGE_WELCOME
    assert window.message_bar.isVisible() and window.message_bar.level == "info"
    assert "cancelled" in window.message_bar.text and big_capture.name in window.message_bar.text
    assert not window.opener.busy
    load(qtbot, window, big_capture)  # the worker processes are still there for the next one
    truth = json.loads(big_capture.with_name(big_capture.name + ".truth.json").read_text())
    assert window.tree_model.total == truth["tcp_sessions"]


def test_closing_during_a_load_stops_the_worker(qtbot, settings, big_capture: Path) -> None:
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    assert w.open_path(big_capture)
    qtbot.wait(50)
    assert w.opener.busy
    w.close()
    assert not w.opener.busy and w.document is None


@pytest.mark.parametrize("name", ["suricata_smtp-to-comma.pcap", "suricata_http-mime-truncated.pcap"])
def test_damaged_capture_shows_the_error_and_keeps_the_sessions(qtbot, window: MainWindow, name: str) -> None:
    expected = oracle(name)
    load(qtbot, window, capture(name))
    assert window.message_bar.isVisible() and window.message_bar.level == "error"
    assert name in window.message_bar.text
    model = window.tree_model
    assert model.rowCount() == len(expected["streams"])
    for row, stream in enumerate(expected["streams"]):
        client, server = stream["client"], stream["server"]
        assert model.index(row, Column.CLIENT).data() == f"{client['ip']}:{client['port']}"
        assert model.index(row, Column.SERVER).data() == f"{server['ip']}:{server['port']}"
        assert model.index(row, Column.C2S).data() == f"{stream['c2s']['len']:,}"
        assert model.index(row, Column.S2C).data() == f"{stream['s2c']['len']:,}"


@pytest.mark.parametrize(
    ("content", "says"), [(b"", "empty"), (b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00", "header is cut off")]
)
def test_not_a_capture_is_refused_with_a_sentence(
    window: MainWindow, tmp_path: Path, content: bytes, says: str
) -> None:
    """An empty file, or a pcap magic and then nothing (it once left the window loading forever)."""
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(content)
    assert not window.open_path(bad)
    assert window.message_bar.isVisible() and window.message_bar.level == "error"
    assert window.message_bar.text.startswith("bad.pcap") and window.message_bar.text.endswith(".")
    assert says in window.message_bar.text
    assert window.stack.currentIndex() == PAGE_WELCOME


def test_model_passes_the_model_tester_sorted_and_filtered(qtmodeltester) -> None:
    with CaptureDocument(capture("http_many.pcap"), workers=1) as document:
        model = SessionListModel()
        model.set_columns(SessionColumns(document.rows, document.flows))
        qtmodeltester.check(model)
        assert model.rowCount() == len(oracle("http_many.pcap")["streams"])
        flat = Qt.ItemFlag.ItemNeverHasChildren
        assert all(model.index(r, 0).flags() & flat for r in range(model.rowCount()))
        assert not any(model.rowCount(model.index(r, 0)) for r in range(model.rowCount()))
        model.sort(Column.S2C, Qt.SortOrder.DescendingOrder)
        qtmodeltester.check(model)
        mask = np.zeros(len(document), dtype=bool)
        mask[::3] = True
        model.set_visible(mask)
        qtmodeltester.check(model)
        assert model.rowCount() == int(mask.sum())
        s2c = {i + 1: stream["s2c"]["len"] for i, stream in enumerate(oracle("http_many.pcap")["streams"])}
        kept = [i for i in range(1, len(document) + 1) if mask[i - 1]]
        assert model.shown_ids() == sorted(kept, key=lambda i: (-s2c[i], i))  # stable, descending


def test_filter_by_port_and_by_payload(qtbot, window: MainWindow) -> None:
    streams = oracle("http_keepalive.pcap")["streams"]
    load(qtbot, window, capture("http_keepalive.pcap"))
    port = streams[1]["client"]["port"]
    model = window.tree_model
    window.filter_edit.setText(str(port))
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=3000)
    window.filter_edit.setText("POST")  # only the second connection carries a POST (captures/lab/README.md)
    qtbot.waitUntil(lambda: model.rowCount() == 1 and not window.session_filter.searching, timeout=3000)
    assert model.index(0, Column.CLIENT).data().endswith(f":{port}")
    window.filter_edit.setText("")
    qtbot.waitUntil(lambda: model.rowCount() == len(streams), timeout=3000)


def test_display_filter_forms_and_exact_addresses(qtbot, window: MainWindow) -> None:
    streams = oracle("http_keepalive.pcap")["streams"]
    load(qtbot, window, capture("http_keepalive.pcap"))
    model = window.tree_model
    client = streams[1]["client"]
    window.filter_edit.setText(f"ip.addr == {client['ip']} && tcp.port == {client['port']}")
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=3000)
    assert model.index(0, Column.CLIENT).data() == f"{client['ip']}:{client['port']}"
    assert "(1 shown)" in window.summary.text()
    window.filter_edit.setText("tcp.stream == 0 || !POST")  # the first, and any without a POST
    window.filtering.apply()  # now, not after the typing pause
    qtbot.waitUntil(lambda: not window.session_filter.searching, timeout=3000)
    assert [model.index(r, Column.ID).data() for r in range(model.rowCount())] == ["1"]


def test_a_filter_that_is_not_one_says_so_and_keeps_the_list(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_many.pcap"))
    model = window.tree_model
    window.filter_edit.setText("tcp.port == 8000")
    qtbot.waitUntil(lambda: window.session_filter.active, timeout=3000)
    shown = model.rowCount()
    window.filter_edit.setText("http.request.method == GET")
    qtbot.waitUntil(lambda: "not supported" in window.filter_edit.toolTip(), timeout=3000)
    assert "http.request.method" in window.statusBar().currentMessage()
    assert "background" in window.filter_edit.styleSheet()
    assert model.rowCount() == shown  # the last valid filter stays
    window.filter_edit.setText("tcp.port == 1")
    qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=3000)
    assert window.filter_edit.styleSheet() == ""
    assert "no session matches the filter" in window.summary.text()


def test_the_count_is_right_once_the_payload_is_searched(qtbot, window: MainWindow) -> None:
    """The summary's "(N shown)" counts the rows a payload search leaves, and no "searching"
    stays once the search ended, or after a filter without payload replaced it mid-way."""
    load(qtbot, window, capture("http_many.pcap"))
    document, model = window.document, window.tree_model
    assert document is not None
    word = b"GET /text/1"
    expected = {s.id for s in document.conversations() if any(word in m.data() for m in s.monologues)}
    assert 0 < len(expected) < len(document)
    window.filter_edit.setText(f'"{word.decode()}"')
    window.filtering.apply()
    assert window.session_filter.searching and "searching the payload" in window.summary.text()
    qtbot.waitUntil(lambda: not window.session_filter.searching, timeout=20_000)
    assert set(model.shown_ids()) == expected
    assert f"({len(expected):,} shown)" in window.summary.text() and "searching" not in window.summary.text()
    window.filter_edit.setText('"Not Found"')
    window.filtering.apply()
    assert window.session_filter.searching
    window.filter_edit.setText("tcp.port == 1")  # no payload: the search is stopped
    window.filtering.apply()
    assert not window.session_filter.searching
    assert "searching" not in window.summary.text() and "no session matches" in window.summary.text()


def test_dropping_a_file_opens_it(qtbot, window: MainWindow) -> None:
    from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
    from PySide6.QtGui import QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(capture("http_keepalive.pcap")))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        window.dropEvent(event)
    assert window.windowTitle().startswith("http_keepalive.pcap")
    assert window.tree_model.total == len(oracle("http_keepalive.pcap")["streams"])


def test_recent_files_menu_reopens(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    window.close_capture()
    assert window.stack.currentIndex() == PAGE_WELCOME
    window.recent_menu.fill()
    first = window.recent_menu.actions()[0]
    assert "http_keepalive.pcap" in first.text()
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        first.trigger()
    assert window.stack.currentIndex() == PAGE_CAPTURE


def test_sorting_by_a_column_keeps_the_current_session(qtbot, window: MainWindow) -> None:
    streams = oracle("http_many.pcap")["streams"]
    load(qtbot, window, capture("http_many.pcap"))
    model = window.tree_model
    window.tree.header().setSortIndicator(Column.S2C, Qt.SortOrder.DescendingOrder)
    sizes = [int(model.index(r, Column.S2C).data().replace(",", "")) for r in range(model.rowCount())]
    assert sizes == sorted((s["s2c"]["len"] for s in streams), reverse=True)
    current = window.current_session
    assert current is not None and window.tree_model.session_id_at(window.tree.currentIndex()) == current.id
    window.tree.header().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    assert model.index(0, 0).data() == "1"
    assert window.tree_model.session_id_at(window.tree.currentIndex()) == current.id  # it followed its row


def test_the_filter_applies_to_the_next_capture_too(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_many.pcap"))
    window.filter_edit.setText("tcp.stream == 3")
    window.filtering.apply()
    assert window.tree_model.rowCount() == 1
    window.close_capture()
    load(qtbot, window, capture("http_keepalive.pcap"))  # two sessions: none is tcp.stream 3
    assert window.filter_edit.text() == "tcp.stream == 3"
    assert window.tree_model.rowCount() == 0 and window.tree_model.total == 2
    assert "no session matches the filter" in window.summary.text()


@pytest.mark.parametrize("damaged", [False, True])
def test_a_compressed_capture_opens_like_the_plain_one(
    qtbot, window: MainWindow, tmp_path: Path, damaged: bool
) -> None:
    """A .pcap.gz is decompressed by the load (not refused by the header check); a damaged one
    is the load's one sentence, and the welcome page stays."""
    import gzip

    from tests.conftest import DATA

    packed = gzip.compress((DATA / "chatter.pcap").read_bytes())
    path = tmp_path / "chatter.pcap.gz"
    path.write_bytes(packed[:300] if damaged else packed)
    if damaged:
        with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
            assert window.open_path(path)
        assert window.message_bar.level == "error" and "gzip-compressed" in window.message_bar.text
        assert window.tree_model.rowCount() == 0
        return
    load(qtbot, window, path)
    assert window.stack.currentIndex() == PAGE_CAPTURE
    assert window.tree_model.rowCount() == 1
    (stream,) = json.loads((DATA / "chatter.oracle.json").read_text())["streams"]
    assert window.tree_model.index(0, Column.C2S).data() == f"{stream['c2s']['len']:,}"
