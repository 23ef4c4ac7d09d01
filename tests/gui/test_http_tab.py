"""The HTTP tab: a session's transactions, their bodies as tshark exports them, a picture
drawn, and transactions and monologues choosing each other."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from monoview.gui.mainwindow import MainWindow
from tests.gui.conftest import capture, load

OBJECTS = json.loads((Path(__file__).parents[1] / "reference" / "http_objects.json").read_text())["captures"]


def _show_http(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.detail_tabs.setCurrentWidget(window.http.pane)
    qtbot.waitUntil(lambda: not window.http.busy and window.http.model.rowCount() > 0, timeout=20000)


def test_the_tab_lists_the_session_and_shows_what_tshark_exports(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("tcpflow_bug8.pcap"))
    assert window.select_session(1)
    _show_http(qtbot, window)
    http = window.http
    uris = [t.uri for t in http.model.transactions]
    assert uris == ["/", "/header.shtml", "/images/logo.jpg"]
    reference = {o["name"]: o["sha256"] for o in OBJECTS["wild/tcpflow_bug8.pcap"]}
    http.pane.table.selectRow(2)
    response = http.pane.response
    assert response.kind == "image" and not response.picture.pixmap().isNull()
    logo = http.model.transactions[2].response
    assert logo is not None and logo.decoded is not None
    assert hashlib.sha256(bytes(logo.decoded)).hexdigest() == reference["logo.jpg"]
    http.pane.table.selectRow(1)
    assert response.kind == "text" and "<" in response.text.toPlainText()


def test_transactions_and_monologues_choose_each_other(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("tcpflow_bug8.pcap"))
    assert window.select_session(1)
    _show_http(qtbot, window)
    http = window.http
    http.pane.table.selectRow(1)
    request = http.model.transactions[1].request
    assert request is not None
    current = window.conversation.current_monologue
    qtbot.waitUntil(lambda: current() is not None and current().index == request.monologue, timeout=3000)
    session = window.current_session
    assert session is not None
    window.select_monologue(session.monologues[5])  # the logo's response
    assert http.pane.table.selectionModel().selectedRows()[0].row() == 2


def test_a_session_without_http_says_so(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("tcpflow_local.pcap"))  # SSH sessions
    window.detail_tabs.setCurrentWidget(window.http.pane)
    qtbot.waitUntil(lambda: not window.http.busy, timeout=20000)
    qtbot.waitUntil(lambda: "No HTTP" in window.http.pane.status.text(), timeout=5000)
    assert window.http.model.rowCount() == 0


def test_export_http_objects_lists_and_saves_the_checked_ones(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    load(qtbot, window, capture("tcpflow_bug8.pcap"))
    dialog = window.export_http_objects()
    assert dialog is not None
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30000)
    reference = {o["name"]: o["sha256"] for o in OBJECTS["wild/tcpflow_bug8.pcap"]}
    names = [dialog.table.item(row, 4).text() for row in range(dialog.table.rowCount())]
    assert sorted(names) == sorted(reference)  # the files tshark's --export-objects writes
    dialog.filter.setText("jpeg")
    shown = [row for row in range(dialog.table.rowCount()) if not dialog.table.isRowHidden(row)]
    assert shown and all("jpeg" in dialog.table.item(row, 2).text() for row in shown)
    logo = names.index("logo.jpg")
    dialog.table.item(logo, 0).setCheckState(Qt.CheckState.Checked)
    chosen = dialog.chosen(checked_only=True)
    assert len(chosen) == 1
    out = tmp_path / "objects"
    out.mkdir()
    dialog.save_to(out, chosen)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=30000)
    written = sorted(p.name for p in out.iterdir())
    assert written == ["logo.jpg", "manifest.json"]
    assert hashlib.sha256((out / "logo.jpg").read_bytes()).hexdigest() == reference["logo.jpg"]
    dialog.close()


def test_the_detail_tabs_stay_reachable_on_a_narrow_window(qtbot, window: MainWindow) -> None:
    """The corner's long title once left the tab bar no room (the tabs vanished)."""
    window.resize(1000, 700)
    load(qtbot, window, capture("http_many.pcap"))
    qtbot.wait(50)
    bar = window.detail_tabs.tabBar()
    assert bar.isVisible() and bar.count() == 3
    assert all(bar.tabRect(k).right() <= bar.width() for k in range(bar.count()))
    assert bar.width() >= bar.sizeHint().width() - 2


def test_export_packets_writes_the_selected_sessions_frames(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    """File › Export Packets: the written capture holds the chosen sessions' frames, untouched:
    it re-opens with the same sessions and bytes (and tshark reads it, when it is installed)."""
    import shutil
    import subprocess

    from monoview.core.document import CaptureDocument

    path = capture("http_many.pcap")
    load(qtbot, window, path)
    out = tmp_path / "two.pcapng"
    job = window.exporter.write_packets(out, [2, 5])
    assert job is not None
    qtbot.waitUntil(lambda: window.exporter.job is None, timeout=30000)
    original = window.document
    assert original is not None
    with CaptureDocument(out, workers=1) as written:
        assert len(written) == 2
        for new_id, old_id in ((1, 2), (2, 5)):
            old, new = original.conversation(old_id), written.conversation(new_id)
            assert [m.data() for m in new.monologues] == [m.data() for m in old.monologues]
            assert new.packets == old.packets
    if shutil.which("tshark"):
        shown = subprocess.run(
            ["tshark", "-r", str(out), "-q", "-z", "conv,tcp"], capture_output=True, text=True
        )
        assert shown.returncode == 0 and shown.stdout.count("<->") == 2


def test_the_transactions_model_passes_the_model_tester(qtbot, qtmodeltester, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """The HTTP tab's model, empty, filled and emptied again (every model of the window is
    checked by qtmodeltester: the session list and the conversation in their own tests)."""
    from monoview.gui.models.http_model import HttpTransactionsModel

    load(qtbot, window, capture("tcpflow_bug8.pcap"))
    assert window.select_session(1)
    _show_http(qtbot, window)
    transactions = window.http.model.transactions
    model = HttpTransactionsModel()
    qtmodeltester.check(model)
    model.set_transactions(transactions)
    qtmodeltester.check(model)
    assert model.rowCount() == 3 and model.index(2, 3).data() == "/images/logo.jpg"
    model.set_transactions([])
    qtmodeltester.check(model)
