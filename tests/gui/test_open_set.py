"""The window opens several files (File › Open with several chosen, a folder, a drop) as one
capture: the sessions of the whole file, whatever the order the files came in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from monoview.core.document import CaptureDocument
from monoview.gui.mainwindow import MainWindow
from tests.gui.conftest import LOAD_TIMEOUT_MS, capture


def _split(path: Path, folder: Path, packets: int) -> list[Path]:
    if shutil.which("editcap") is None:
        pytest.skip("editcap not installed")
    folder.mkdir()
    subprocess.run(["editcap", "-c", str(packets), str(path), str(folder / "part.pcap")], check=True)
    return sorted(folder.iterdir())


def _open(qtbot, window: MainWindow, paths: list[Path]) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.capture.open_paths(paths)


def test_several_files_open_as_the_whole_capture(qtbot, window: MainWindow, tmp_path: Path) -> None:
    whole = capture("http_many.pcap")
    parts = _split(whole, tmp_path / "parts", 150)
    assert len(parts) >= 3
    with CaptureDocument(whole, workers=1) as document:
        expected = sorted(
            (s.client.port, s.server.port, s.packets, s.kept("c2s"), s.kept("s2c")) for s in document.sessions
        )
    _open(qtbot, window, list(reversed(parts)))  # any order: the files are ordered by time
    document = window.document
    assert document is not None and len(document.files) == len(parts)
    got = sorted(
        (s.client.port, s.server.port, s.packets, s.kept("c2s"), s.kept("s2c")) for s in document.sessions
    )
    assert got == expected
    assert window.tree_model.rowCount() == len(expected)
    assert "more" in window.windowTitle() or str(len(parts)) in window.windowTitle()


def test_a_folder_opens_as_one_capture(qtbot, window: MainWindow, tmp_path: Path) -> None:
    whole = capture("http_many.pcap")
    _split(whole, tmp_path / "parts", 200)
    with CaptureDocument(whole, workers=1) as document:
        count = len(document)
    _open(qtbot, window, [tmp_path / "parts"])
    assert window.tree_model.rowCount() == count


def test_a_set_with_a_file_that_is_no_capture_is_refused_by_name(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.pcap"
    bad.write_text("not a capture at all\n")
    assert not window.capture.open_paths([capture("http_many.pcap"), bad])
    assert "notes.pcap" in window.message_bar.text
