"""The session list's Application column: filled in after the list shows, filterable,
and the same names tshark finds (``tests/reference/app_names.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from monoview.core.flows.columns import Column
from monoview.gui.mainwindow import MainWindow
from tests.gui.conftest import capture, load

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "app_names.json").read_text())


def _named(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.tree_model.columns is not None
                    and window.tree_model.columns.applications is not None, timeout=20000)  # fmt: skip


def _cell(window: MainWindow, row: int) -> str:
    model = window.tree_model
    return str(model.data(model.index(row, Column.APPLICATION), Qt.ItemDataRole.DisplayRole))


def test_the_column_names_each_session_as_tshark_does(qtbot, window: MainWindow) -> None:
    path = capture("zeek_wikipedia.pcap")
    load(qtbot, window, path)
    _named(qtbot, window)
    model = window.tree_model
    hosts = {int(frame): found["host"] for frame, found in REFERENCE["wild/zeek_wikipedia.pcap"].items()}
    first_frames = window.document.rows["first_frame"].tolist()  # type: ignore[union-attr]
    checked = 0
    for row in range(model.rowCount()):
        number = int(model.data(model.index(row, Column.ID), Qt.ItemDataRole.DisplayRole)) - 1
        frame = first_frames[number]
        if frame in hosts:
            assert _cell(window, row) == f"HTTP {hosts[frame]}"
            checked += 1
    assert checked == len(hosts) >= 5
    assert model.headerData(Column.APPLICATION, Qt.Orientation.Horizontal) == "Application"
    assert not window.tree.isColumnHidden(Column.APPLICATION)


def test_an_application_filter_applies_once_the_names_arrive(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("zeek_smtp.pcap"))
    _named(qtbot, window)
    model = window.tree_model
    total = model.rowCount()
    window.filter_edit.setText('app == "smtp"')
    qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=3000)
    assert all(_cell(window, row) == "SMTP" for row in range(2))
    window.filter_edit.setText('app contains "icloud"')
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=3000)
    assert _cell(window, 0).startswith("TLS p31-keyvalueservice.icloud.com")
    window.filter_edit.setText("")
    qtbot.waitUntil(lambda: model.rowCount() == total, timeout=3000)


def test_rows_painted_before_the_names_are_painted_again(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_many.pcap"))
    _named(qtbot, window)
    window.tree.viewport().grab()
    assert len(window.tree._rows._kept) > 0
    window.tree_model.set_applications(["renamed"] * window.tree_model.rowCount())
    assert len(window.tree._rows._kept) == 0  # the kept pixmaps showed the old names
    assert _cell(window, 0) == "renamed"


def _tshark_stream_of_frames(path: Path) -> dict[int, int]:
    import shutil
    import subprocess

    import pytest

    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed")
    out = subprocess.run(
        ["tshark", "-r", str(path), "-Y", "tcp", "-T", "fields", "-e", "frame.number", "-e", "tcp.stream"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {int(f): int(s) for f, s in (line.split("\t") for line in out.splitlines() if "\t" in line)}


def test_the_stream_column_and_filter_use_tsharks_numbers(qtbot, window: MainWindow) -> None:
    """On zeek_vlan-collisions tshark has one stream where monoview keeps three VLAN sessions
    apart: all three are stream 0, ``tcp.stream == 0`` shows them all, the box says 0."""
    path = capture("zeek_vlan-collisions.pcap")
    tshark = _tshark_stream_of_frames(path)
    load(qtbot, window, path)
    _named(qtbot, window)
    model, columns = window.tree_model, window.tree_model.columns
    assert columns is not None and columns.stream_pairs is not None
    firsts = window.document.rows["first_frame"].tolist()  # type: ignore[union-attr]
    texts = [
        str(model.data(model.index(row, Column.STREAM), Qt.ItemDataRole.DisplayRole)) for row in range(3)
    ]
    assert texts == [str(tshark[f]) for f in firsts] == ["0", "0", "0"]
    window.filter_edit.setText("tcp.stream == 0")
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=3000)
    window.filter_edit.setText("")
    assert window.select_session(3)
    qtbot.waitUntil(
        lambda: window.current_session is not None and window.current_session.id == 3, timeout=3000
    )
    assert window.stream_spin.value() == 0


def test_a_session_tshark_cuts_in_two_shows_both_streams(qtbot, window: MainWindow) -> None:
    path = capture("tcpflow_test5-lines-randomized.pcap")
    tshark = _tshark_stream_of_frames(path)
    load(qtbot, window, path)
    _named(qtbot, window)
    model = window.tree_model
    assert model.rowCount() == 1
    text = str(model.data(model.index(0, Column.STREAM), Qt.ItemDataRole.DisplayRole))
    assert text == ", ".join(str(s) for s in sorted(set(tshark.values()))) == "0, 1"
    window.filter_edit.setText("tcp.stream == 2")
    qtbot.waitUntil(lambda: model.rowCount() == 0, timeout=3000)
    window.filter_edit.setText("tcp.stream == 1")  # the session's second stream: id - 1 would be 0 only
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=3000)
    # The stream box reaches tshark's last stream (one session: the box would stop at 0).
    assert window.stream_spin.maximum() == 1
    window.stream_spin.setValue(1)
    assert window.current_session is not None and window.current_session.id == 1


def test_the_names_come_with_the_list(qtbot, window: MainWindow, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The window's document is named by the workers that list it (``core.flows.shardnames``):
    the columns are filled when the list is shown, and no naming job runs after it (issue 7:
    the screenshot of a gigabyte waited 0.6 s for one)."""
    import monoview.gui.applications as applications

    jobs: list[object] = []
    real = applications.BackgroundCall
    monkeypatch.setattr(applications, "BackgroundCall", lambda *a, **k: jobs.append(a) or real(*a, **k))
    load(qtbot, window, capture("zeek_smtp.pcap"))
    columns = window.tree_model.columns
    assert columns is not None and columns.applications is not None and columns.stream_pairs is not None
    assert jobs == [] and not window.namer.busy
    assert columns.applications.count("SMTP") == 2


def test_a_document_without_names_is_named_after_the_list(qtbot, window: MainWindow) -> None:
    """A document opened without them (``CaptureDocument(names=False)``) is still named, by
    the naming job, the same."""
    from monoview.core.document import CaptureDocument

    path = capture("zeek_smtp.pcap")
    load(qtbot, window, path)
    columns = window.tree_model.columns
    assert columns is not None and columns.applications is not None and columns.stream_pairs is not None
    names, (sessions, streams) = list(columns.applications), columns.stream_pairs
    with CaptureDocument(path, workers=1) as plain:
        assert plain.names is None
        columns.applications, columns.stream_pairs = None, None
        window.namer.set_document(plain)
        assert window.namer.busy
        qtbot.waitUntil(lambda: not window.namer.busy, timeout=20000)
        assert columns.applications == names
        got = columns.stream_pairs
        assert got is not None and np.array_equal(got[0], sessions) and np.array_equal(got[1], streams)
        window.namer.set_document(None)
