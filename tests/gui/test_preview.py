"""A big file's beginning is listed while the whole is read (``CaptureOpener.previewed``).

The preview's sizes are made small here so that a small shared capture has one;
the checks: the provisional rows come first, the status bar says they are
provisional, they are the whole list's first sessions (same ids, same first
frames), the whole list replaces them, and a session picked meanwhile is shown
once the whole is in.
"""

from __future__ import annotations

import numpy as np
import pytest

from monoview.core import opening
from monoview.gui.mainwindow import MainWindow
from tests.gui.conftest import LOAD_TIMEOUT_MS, capture


@pytest.fixture
def small_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opening, "PREVIEW_BYTES", 20 << 10)
    monkeypatch.setattr(opening, "PREVIEW_FROM_BYTES", 0)


@pytest.mark.usefixtures("small_preview")
def test_the_beginning_is_listed_then_the_whole(qtbot, window: MainWindow) -> None:
    listed: list[tuple[int, list[int], str]] = []
    model = window.tree_model

    def reset() -> None:
        if model.rowCount() and model.columns is not None:
            first = model.columns.rows["first_frame"].tolist()
            listed.append((model.rowCount(), first, window.status_line.summary.text()))

    model.modelReset.connect(reset)
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(capture("http_many.pcap"))
    assert len(listed) == 2, "the beginning, then the whole"
    (early, early_ts, early_text), (whole, whole_ts, _text) = listed
    assert 0 < early < whole == len(window.document)
    assert "Still reading" in early_text and "provisional" in early_text
    assert np.array_equal(early_ts, whole_ts[:early])  # the same sessions in the same order
    assert window.capture.preview is None
    assert "sessions" in window.status_line.summary.text()


@pytest.mark.usefixtures("small_preview")
def test_a_session_picked_before_the_whole_is_shown_after(qtbot, window: MainWindow) -> None:
    model = window.tree_model
    picked: list[int] = []

    def pick() -> None:
        if window.loading and model.rowCount() > 3 and not picked:
            picked.append(3)
            assert window.select_session(3)
            assert "when the whole capture is read" in window.conversation_title.text()

    model.modelReset.connect(pick)
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(capture("http_many.pcap"))
    assert picked == [3]
    qtbot.waitUntil(lambda: window.current_session is not None, timeout=LOAD_TIMEOUT_MS)
    assert window.current_session is not None and window.current_session.id == 3


def test_a_small_file_is_listed_once(qtbot, window: MainWindow) -> None:
    resets: list[int] = []
    window.tree_model.modelReset.connect(lambda: resets.append(window.tree_model.rowCount()))
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(capture("http_many.pcap"))
    assert [n for n in resets if n] == [len(window.document)]


@pytest.mark.usefixtures("small_preview")
def test_a_screenshot_pictures_the_whole_list_without_a_preview(qapp, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from monoview.gui import app
    from monoview.gui.loading import CaptureOpener

    previews: list[object] = []
    real = CaptureOpener.open

    def spying(self: CaptureOpener, path: object) -> None:
        self.previewed.connect(previews.append)
        real(self, path)  # type: ignore[arg-type]

    monkeypatch.setattr(CaptureOpener, "open", spying)
    out = tmp_path / "shot.png"
    assert app.main(["--screenshot", str(out), "--size", "800x600", str(capture("http_many.pcap"))]) == 0
    assert out.exists()
    assert previews == []


@pytest.mark.usefixtures("small_preview")
def test_no_unfiltered_preview_under_a_filter(qtbot, window: MainWindow) -> None:
    window.filter_edit.setText("tcp.port == 80")
    window.filtering.apply()
    counts: list[int] = []
    window.tree_model.modelReset.connect(lambda: counts.append(window.tree_model.total))
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(capture("http_many.pcap"))
    assert window.capture.preview is None
    assert all(n in (0, len(window.document)) for n in counts)  # the whole list only, filtered
