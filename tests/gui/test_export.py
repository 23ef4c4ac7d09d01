"""Exports through the same slots the menus use (dialog replaced), checked against the oracle."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from monoview.core.export import Format
from monoview.core.streambytes import GapPolicy
from monoview.gui.dialogs import export as export_dialog
from monoview.gui.dialogs.export import ExportKind, ExportRequest
from monoview.gui.mainwindow import MainWindow
from tests.gui.conftest import capture, load

CHATTER_ORACLE = capture("chatter.pcap").with_name("chatter.oracle.json")


@pytest.fixture
def chatter(qtbot, window: MainWindow) -> MainWindow:
    load(qtbot, window, capture("chatter.pcap"))
    window.select_session(1)
    return window


@pytest.fixture
def expected() -> dict:
    return json.loads(CHATTER_ORACLE.read_text())["streams"][0]


def answer_dialog(monkeypatch: pytest.MonkeyPatch, request: ExportRequest, asked: list | None = None) -> None:
    def fake_ask(parent, kind, summary, default_dir, default_name, fmt, gaps, folder):  # type: ignore[no-untyped-def]
        if asked is not None:
            asked.append(kind)
        return request

    monkeypatch.setattr(export_dialog, "ask_export", fake_ask)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(qtbot, window: MainWindow, slot) -> dict:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.export_finished, timeout=30_000) as blocker:
        slot()
    qtbot.waitUntil(lambda: window.export_job is None, timeout=5000)
    return blocker.args[0]


def test_export_one_monologue(
    qtbot, monkeypatch, chatter: MainWindow, expected: dict, tmp_path: Path
) -> None:
    target = tmp_path / "m7.bin"
    asked: list = []
    answer_dialog(
        monkeypatch, ExportRequest(ExportKind.MONOLOGUES, target, Format.RAW, GapPolicy.OMIT), asked
    )
    chatter.select_monologue(chatter.conversation.conversation.monologues()[7])
    run(qtbot, chatter, chatter.export_monologues)
    assert asked == [ExportKind.MONOLOGUES]
    assert sha256(target) == expected["monologues"][7]["sha256"]
    assert chatter.settings.export_dir == str(tmp_path)


@pytest.mark.parametrize("direction", ["c2s", "s2c"])
def test_export_session_direction(
    qtbot, monkeypatch, chatter: MainWindow, expected: dict, tmp_path: Path, direction: str
) -> None:
    target = tmp_path / f"{direction}.bin"
    request = ExportRequest(ExportKind.SESSION, target, Format.RAW, GapPolicy.OMIT, part=direction)
    answer_dialog(monkeypatch, request)
    run(qtbot, chatter, chatter.export_session)
    assert sha256(target) == expected[direction]["sha256"]


def test_export_all_writes_a_manifest(
    qtbot, monkeypatch, chatter: MainWindow, expected: dict, tmp_path: Path
) -> None:
    out = tmp_path / "all"
    answer_dialog(monkeypatch, ExportRequest(ExportKind.ALL, out, Format.RAW, GapPolicy.OMIT))
    run(qtbot, chatter, chatter.export_all)
    manifest = json.loads((out / "manifest.json").read_text())
    stream = manifest["streams"][0]
    assert stream["c2s"]["sha256"] == expected["c2s"]["sha256"]
    assert [m["sha256"] for m in stream["monologues"]] == [m["sha256"] for m in expected["monologues"]]
    assert manifest["export"]["complete"] is True


def test_overwrite_needs_confirmation(
    qtbot, monkeypatch, chatter: MainWindow, expected: dict, tmp_path: Path
) -> None:
    target = tmp_path / "c2s.bin"
    target.write_bytes(b"keep me")
    answer_dialog(
        monkeypatch, ExportRequest(ExportKind.SESSION, target, Format.RAW, GapPolicy.OMIT, part="c2s")
    )
    monkeypatch.setattr(export_dialog, "confirm_overwrite", lambda parent, path: False)
    chatter.export_session()
    assert chatter.export_job is None and target.read_bytes() == b"keep me"
    monkeypatch.setattr(export_dialog, "confirm_overwrite", lambda parent, path: True)
    run(qtbot, chatter, chatter.export_session)
    assert sha256(target) == expected["c2s"]["sha256"]


def test_transcript_in_hex_with_markers(qtbot, monkeypatch, chatter: MainWindow, tmp_path: Path) -> None:
    target = tmp_path / "t.hex"
    answer_dialog(
        monkeypatch,
        ExportRequest(ExportKind.SESSION, target, Format.HEX, GapPolicy.MARKER, part="transcript"),
    )
    run(qtbot, chatter, chatter.export_session)
    text = target.read_text()
    assert text.count("=== #") == 200
    assert "00000000  " in text


def test_cancelling_the_dialog_writes_nothing(monkeypatch, chatter: MainWindow, tmp_path: Path) -> None:
    monkeypatch.setattr(export_dialog, "ask_export", lambda *args: None)
    chatter.export_all()
    assert chatter.export_job is None
    assert list(tmp_path.iterdir()) == [tmp_path / "monoview.ini"] or not any(
        p.name == "manifest.json" for p in tmp_path.rglob("*")
    )


def test_export_several_monologues_into_a_folder(
    qtbot, monkeypatch, chatter: MainWindow, expected: dict, tmp_path: Path
) -> None:
    out = tmp_path / "several"
    answer_dialog(monkeypatch, ExportRequest(ExportKind.MONOLOGUES, out, Format.RAW, GapPolicy.OMIT))
    view = chatter.conversation
    selection = view.selectionModel()
    for index in (3, 4, 10):
        row = view.conversation.row_of(view.conversation.monologues()[index])
        selection.select(view.conversation.index(row), selection.SelectionFlag.Select)
    picked = view.selected_monologues()
    assert {3, 4, 10} <= {m.index for m in picked}  # with the current monologue, selected too
    result = run(qtbot, chatter, chatter.export_monologues)
    files = sorted(out.iterdir())
    assert len(files) == len(picked) == len(result["files"])
    for m in picked:
        name = f"s00001_m{m.index:05d}_{m.direction}.bin"
        assert sha256(out / name) == expected["monologues"][m.index]["sha256"]


def test_export_all_writes_only_the_selected_sessions(
    qtbot, monkeypatch, window: MainWindow, tmp_path: Path
) -> None:
    from PySide6.QtCore import QItemSelectionModel

    streams = json.loads(capture("http_many.pcap").with_name("http_many.oracle.json").read_text())["streams"]
    load(qtbot, window, capture("http_many.pcap"))
    selection = window.tree.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    selection.clearSelection()
    for session_id in (3, 7, 20):
        selection.select(window.tree_model.session_index(session_id), flags)
    asked: list = []
    out = tmp_path / "picked"
    answer_dialog(monkeypatch, ExportRequest(ExportKind.ALL, out, Format.RAW, GapPolicy.OMIT), asked)
    run(qtbot, window, window.export_all)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [s["id"] for s in manifest["streams"]] == [3, 7, 20]
    for entry in manifest["streams"]:
        assert entry["c2s"]["sha256"] == streams[entry["id"] - 1]["c2s"]["sha256"]
    # The next export's default folder is beside this one, not inside it.
    assert window.settings.export_dir == str(tmp_path)


@pytest.mark.parametrize("kind", list(ExportKind))
def test_the_dialog_paints_no_widget_over_its_summary(qtbot, kind: ExportKind, tmp_path: Path) -> None:
    """Every widget shown is one the layout placed: none lies over the summary line (the
    session part's combo box once did, in the dialogs that do not offer it)."""
    from PySide6.QtWidgets import QLabel, QWidget

    summary = "Monologue #1 of session 1 (300 bytes)"
    dialog = export_dialog.ExportDialog(
        kind, summary, tmp_path, "x", Format.RAW, GapPolicy.OMIT, kind is not ExportKind.MONOLOGUES
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    label = next(w for w in dialog.findChildren(QLabel) if w.text() == summary)
    shown = [w for w in dialog.findChildren(QWidget) if w.isVisible() and w.parentWidget() is dialog]
    overlapping = [w for w in shown if w is not label and w.geometry().intersects(label.geometry())]
    assert not overlapping, [type(w).__name__ for w in overlapping]
    assert dialog.part.isVisible() == (kind is ExportKind.SESSION)
