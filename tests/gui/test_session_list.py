"""The session list's columns, the column chooser, the stream spin box and Filter Out This Stream."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from monoview.core.flows.columns import HEADERS, Column
from monoview.gui.mainwindow import MainWindow
from monoview.gui.views.session_tree import HIDDEN_BY_DEFAULT
from tests.gui.conftest import LOAD_TIMEOUT_MS, capture, load


def _oracle(name: str) -> dict:
    path = capture(name)
    return json.loads(path.with_name(path.name.rsplit(".", 1)[0] + ".oracle.json").read_text())


def test_the_column_chooser_lists_every_column_and_toggles_it(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    header = window.tree.header()
    assert [c for c in Column if header.isSectionHidden(c)] == list(HIDDEN_BY_DEFAULT)
    menu = window.tree.column_menu()
    actions = {a.text(): a for a in menu.actions()}
    assert set(actions) == set(HEADERS)
    assert not actions["ID"].isEnabled()
    actions["Stream"].setChecked(True)
    assert not header.isSectionHidden(Column.STREAM) and header.sectionSize(Column.STREAM) >= 20
    assert window.tree_model.index(1, Column.STREAM).data() == "1"  # Wireshark counts from 0
    actions["Status"].setChecked(False)
    assert header.isSectionHidden(Column.STATUS)


def _tshark_follow_records(path: Path) -> tuple[int, int]:
    """What Wireshark's Follow TCP Stream counts as client and server packets for stream 0:
    its records (packets that brought new payload), one line each in tshark's raw follow
    output, the server's indented (a line saying bytes are missing is none)."""
    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed")
    out = subprocess.run(
        ["tshark", "-r", str(path), "-q", "-z", "follow,tcp,raw,0"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    body = out.split("Node 1:", 1)[1].splitlines()[1:]
    gap = b"bytes missing in capture file"  # tshark's own record for a gap: no packet
    records = [
        line
        for line in body
        if line.strip() and not line.startswith("===") and gap not in bytes.fromhex(line.strip())
    ]
    server = sum(1 for line in records if line.startswith("\t"))
    return len(records) - server, server


@pytest.mark.parametrize("name", ["http_keepalive.pcap", "bulk_loss_reorder.pcap", "gaps.pcap"])
def test_the_title_sums_the_stream_up_as_wiresharks_follow_dialog(
    qtbot, window: MainWindow, name: str
) -> None:
    """Wireshark's "N client pkts, N server pkts, N turns": its follow records (not every
    packet: bulk_loss_reorder's 3,514 client packets are one record) and the changes of
    direction (two monologues are one turn)."""
    path = capture(name)
    client, server = _tshark_follow_records(path)
    load(qtbot, window, path)
    qtbot.waitUntil(lambda: window.current_session is not None, timeout=LOAD_TIMEOUT_MS)  # a big one
    session = window.current_session
    assert session is not None and session.id == 1
    title = window.conversation_summary.text()
    assert f"{client:,} client pkts, {server:,} server pkts" in title, title
    turns = len(session.monologues) - 1
    assert f"{turns:,} turn{'s' if turns != 1 else ''} " in title


def test_the_stream_spin_box_and_filter_out_this_stream(qtbot, window: MainWindow) -> None:
    streams = _oracle("http_many.pcap")["streams"]
    load(qtbot, window, capture("http_many.pcap"))
    assert window.stream_spin.isEnabled() and window.stream_spin.maximum() == len(streams) - 1
    window.stream_spin.setValue(5)
    assert window.current_session is not None and window.current_session.id == 6
    window.filter_out_stream()
    assert window.filter_edit.text() == "!(tcp.stream == 5)"
    model = window.tree_model
    assert model.rowCount() == len(streams) - 1 and 6 not in model.shown_ids()
    window.stream_spin.setValue(4)
    assert window.current_session.id == 5
    window.stream_spin.setValue(5)  # a hidden stream: the filter goes, the session shows
    assert window.current_session.id == 6 and window.filter_edit.text() == ""


def test_the_list_is_a_flat_table_of_rows_as_tall_as_the_tree_had_them(qtbot, window: MainWindow) -> None:
    from PySide6.QtWidgets import QStyleOptionViewItem, QTableView

    load(qtbot, window, capture("http_many.pcap"))
    tree, model = window.tree, window.tree_model
    assert isinstance(tree, QTableView) and not tree.showGrid() and tree.alternatingRowColors()
    assert not tree.verticalHeader().isVisible()
    option = QStyleOptionViewItem()
    tree.initViewItemOption(option)
    # The height the delegate asks for a status cell (a text and the status dot): what the
    # tree's uniform rows were.
    wanted = tree.itemDelegate().sizeHint(option, model.index(0, Column.STATUS)).height()
    assert [tree.rowHeight(r) for r in range(3)] == [wanted] * 3
    assert all(not model.rowCount(model.index(r, 0)) for r in range(model.rowCount()))


def test_rows_are_chosen_with_the_keyboard_and_several_with_shift(qtbot, window: MainWindow) -> None:
    from PySide6.QtCore import Qt

    load(qtbot, window, capture("http_many.pcap"))
    tree = window.tree
    assert window.select_session(3)
    tree.setFocus()
    qtbot.keyClick(tree.viewport(), Qt.Key.Key_Down)
    assert window.current_session is not None and window.current_session.id == 4
    assert window.exporter.selected_sessions() == [4]
    qtbot.keyClick(tree.viewport(), Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(tree.viewport(), Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert window.exporter.selected_sessions() == [4, 5, 6]
    # Whole rows: every column of a selected row is selected.
    assert tree.selectionModel().isRowSelected(model_row(window, 5), tree.rootIndex())
    qtbot.keyClick(tree.viewport(), Qt.Key.Key_Up)
    assert window.exporter.selected_sessions() == [5] and window.current_session.id == 5


def model_row(window: MainWindow, session_id: int) -> int:
    return window.tree_model.session_index(session_id).row()
