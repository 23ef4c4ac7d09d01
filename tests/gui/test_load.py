"""Loading through the worker: the conversation equals the oracle, cancel, damage, model sanity."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex

from monoview.core import analyse
from monoview.core.analyse import Analysis
from monoview.gui.mainwindow import PAGE_CAPTURE, PAGE_WELCOME, MainWindow
from monoview.gui.models.session_filter import SessionFilterProxy
from monoview.gui.models.session_tree import SessionTreeModel
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


def test_cancel_half_way_keeps_what_was_read(qtbot, window: MainWindow, big_capture: Path) -> None:
    def cancel_on_first_sessions(*_args: object) -> None:
        window.cancel_load()

    window.tree_model.rowsInserted.connect(cancel_on_first_sessions)
    load(qtbot, window, big_capture)
    analysis = window.analysis
    assert analysis is not None and analysis.cancelled
    assert analysis.stats.bytes_read < analysis.capture.size
    assert 0 < len(window.tree_model.sessions) < 600
    assert window.message_bar.isVisible() and window.message_bar.level == "info"
    assert window.loader is not None
    qtbot.waitUntil(lambda: not window.loader.running, timeout=5000)
    assert window.actions_by_id["export_all"].isEnabled()


def test_closing_during_a_load_stops_the_worker(qtbot, settings, big_capture: Path) -> None:
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.show()
    assert w.open_path(big_capture)
    loader = w.loader
    assert loader is not None
    qtbot.waitUntil(lambda: len(w.tree_model.sessions) > 0, timeout=LOAD_TIMEOUT_MS)
    w.close()
    assert not loader.running


@pytest.mark.parametrize("name", ["suricata_smtp-to-comma.pcap", "suricata_http-mime-truncated.pcap"])
def test_damaged_capture_shows_the_error_and_keeps_the_sessions(qtbot, window: MainWindow, name: str) -> None:
    expected = oracle(name)
    load(qtbot, window, capture(name))
    assert window.message_bar.isVisible() and window.message_bar.level == "error"
    assert name in window.message_bar.text
    sessions = window.tree_model.sessions
    assert len(sessions) == len(expected["streams"])
    for session, stream in zip(sessions, expected["streams"], strict=True):
        assert str(session.client) == f"{stream['client']['ip']}:{stream['client']['port']}"
        assert str(session.server) == f"{stream['server']['ip']}:{stream['server']['port']}"
        assert session.stream("c2s").kept == stream["c2s"]["len"]
        assert session.stream("s2c").kept == stream["s2c"]["len"]


def test_not_a_capture_is_refused_with_a_sentence(window: MainWindow, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    assert not window.open_path(empty)
    assert window.message_bar.isVisible() and window.message_bar.level == "error"
    assert window.message_bar.text.startswith("empty.pcap") and window.message_bar.text.endswith(".")
    assert window.stack.currentIndex() == PAGE_WELCOME


def test_model_passes_the_model_tester_after_every_batch(qtmodeltester, monkeypatch) -> None:
    monkeypatch.setattr(analyse, "FIRST_BATCH_PACKETS", 64)
    model = SessionTreeModel()
    proxy = SessionFilterProxy()
    proxy.setSourceModel(model)
    analysis = Analysis(capture("http_many.pcap"))
    batches = 0
    try:
        for batch in analysis.run():
            model.append_batch(batch)
            qtmodeltester.check(model)
            batches += 1
    finally:
        analysis.close()
    assert batches > 1
    assert model.rowCount() == len(oracle("http_many.pcap")["streams"])
    assert all(model.rowCount(model.index(r, 0)) == 2 for r in range(model.rowCount()))
    proxy.set_filter_text(":80")
    qtmodeltester.check(proxy)
    assert model.rowCount(QModelIndex()) == 32


def test_filter_by_port_and_by_payload(qtbot, window: MainWindow) -> None:
    streams = oracle("http_keepalive.pcap")["streams"]
    load(qtbot, window, capture("http_keepalive.pcap"))
    port = streams[1]["client"]["port"]
    window.filter_edit.setText(str(port))
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 1, timeout=3000)
    window.filter_edit.setText("POST")  # only the second connection carries a POST (captures/lab/README.md)
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 1, timeout=3000)
    session = window.tree_model.session_at(window.proxy.mapToSource(window.proxy.index(0, 0)))
    assert session is not None and session.client.port == port
    window.filter_edit.setText("")
    qtbot.waitUntil(lambda: window.proxy.rowCount() == len(streams), timeout=3000)


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
    assert len(window.tree_model.sessions) == len(oracle("http_keepalive.pcap")["streams"])


def test_recent_files_menu_reopens(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    window.close_capture()
    assert window.stack.currentIndex() == PAGE_WELCOME
    window._fill_recent_menu()
    first = window.recent_menu.actions()[0]
    assert "http_keepalive.pcap" in first.text()
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        first.trigger()
    assert window.stack.currentIndex() == PAGE_CAPTURE


def test_sorting_by_a_column_keeps_monologues_in_order(qtbot, window: MainWindow) -> None:
    from PySide6.QtCore import Qt

    from monoview.gui.models.session_tree import COL_S2C

    streams = oracle("http_many.pcap")["streams"]
    load(qtbot, window, capture("http_many.pcap"))
    window.tree.header().setSortIndicator(COL_S2C, Qt.SortOrder.DescendingOrder)
    proxy = window.proxy
    shown = [
        window.tree_model.session_at(proxy.mapToSource(proxy.index(r, 0))) for r in range(proxy.rowCount())
    ]
    sizes = [s.stream("s2c").kept for s in shown if s is not None]
    assert sizes == sorted((s["s2c"]["len"] for s in streams), reverse=True)
    top = proxy.index(0, 0)
    children = [proxy.index(r, 0, top).data() for r in range(proxy.rowCount(top))]
    assert children == ["#0", "#1"]
    window.tree.header().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    assert proxy.index(0, 0).data() == "1"
