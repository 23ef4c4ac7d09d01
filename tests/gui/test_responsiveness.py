"""The GUI thread keeps ticking while a large capture loads, is sorted and its biggest session
opens, even with two other CPU-bound processes running (the test starts and stops them)."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer

from monoview.core.flows.columns import Column
from monoview.gui.mainwindow import MainWindow
from tests.gui.conftest import LOAD_TIMEOUT_MS

TICK_MS = 10
WORST_ALLOWED_MS = 100
# A busy machine (other processes on both cores) can delay one run; the
# measurement is repeated once before it counts as a failure.
ATTEMPTS = 2


class TickRecorder:
    """A 10 ms timer on the GUI thread that remembers the longest wait between ticks."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.last = 0.0
        self.worst_ms = 0.0
        self.ticks = 0
        self.long_gaps: list[tuple[float, float]] = []  # (gap ms, ms since start) above 40 ms
        self.started = 0.0

    def start(self) -> None:
        self.last = self.started = time.perf_counter()
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self.last) * 1000
        self.worst_ms = max(self.worst_ms, gap)
        if gap > 40:
            self.long_gaps.append((round(gap, 1), round((now - self.started) * 1000)))
        self.last = now
        self.ticks += 1

    def stop(self) -> None:
        self.timer.stop()


def _spin(seconds: float) -> None:
    """Keep one core busy (a process of its own)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


@contextmanager
def two_busy_processes() -> Iterator[None]:
    """Two CPU-bound processes for as long as the block runs: the machine as busy as a
    developer's is while a build runs beside the window."""
    context = multiprocessing.get_context("spawn")
    hogs = [context.Process(target=_spin, args=(120.0,), daemon=True) for _ in range(2)]
    for hog in hogs:
        hog.start()
    try:
        yield
    finally:
        for hog in hogs:
            hog.terminate()
            hog.join(5)


def _totals(window: MainWindow) -> np.ndarray:
    columns = window.tree_model.columns
    assert columns is not None
    return columns.c2s_bytes + columns.s2c_bytes


def _select_and_wait(qtbot, window: MainWindow, session_id: int) -> None:  # type: ignore[no-untyped-def]
    """Select a session; a big one is reassembled off the GUI thread: wait until it is shown."""
    assert window.select_session(session_id)
    qtbot.waitUntil(
        lambda: window.current_session is not None and window.current_session.id == session_id,
        timeout=LOAD_TIMEOUT_MS,
    )


def test_timer_never_starves_while_loading(
    qtbot, window: MainWindow, huge_capture: Path, record_property
) -> None:
    for _attempt in range(ATTEMPTS):
        # Closing a capture collects what it left (at the user's click, before the next open).
        window.close_capture()
        qtbot.wait(100)
        with two_busy_processes():
            load_worst, recorder = _load_and_open_biggest(qtbot, window, huge_capture, record_property)
        if max(load_worst, recorder.worst_ms) < WORST_ALLOWED_MS:
            break
    assert recorder.ticks > 10
    assert load_worst < WORST_ALLOWED_MS
    assert recorder.worst_ms < WORST_ALLOWED_MS


def _load_and_open_biggest(qtbot, window: MainWindow, huge_capture: Path, record_property):  # type: ignore[no-untyped-def]
    recorder = TickRecorder()
    recorder.start()
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(huge_capture)
    load_worst = recorder.worst_ms
    window.tree.header().setSortIndicator(Column.S2C, Qt.SortOrder.DescendingOrder)
    qtbot.wait(50)
    totals = _totals(window)
    biggest = int(np.argmax(totals)) + 1
    size = int(totals[biggest - 1])
    # tens of MB: the conversation and the views must open at once (one user action at a time)
    _select_and_wait(qtbot, window, biggest)
    qtbot.wait(50)
    window.show_text()
    qtbot.wait(50)
    window.scope.setCurrentIndex(window.scope.findData("session"))
    qtbot.wait(200)
    recorder.stop()
    print(
        f"\nworst gap between 10 ms ticks: {load_worst:.1f} ms while loading "
        f"{huge_capture.stat().st_size / 1e6:.0f} MB; {recorder.worst_ms:.1f} ms including sorting and "
        f"opening session {biggest} ({size / 1e6:.1f} MB); {recorder.ticks} ticks; "
        f"gaps over 40 ms (ms, at ms): {recorder.long_gaps}"
    )
    record_property("worst_tick_gap_ms_loading", round(load_worst, 1))
    record_property("worst_tick_gap_ms_total", round(recorder.worst_ms, 1))
    return load_worst, recorder


def test_a_50_mb_session_opens_without_freezing(
    qtbot, window: MainWindow, fifty_mb_session_capture: Path, record_property
) -> None:
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(fifty_mb_session_capture)
    totals = _totals(window)
    biggest = int(np.argmax(totals)) + 1
    size = int(totals[biggest - 1])
    assert size > 50e6
    for _attempt in range(ATTEMPTS):
        recorder = _open_session_views(qtbot, window, biggest, size, record_property)
        if recorder.worst_ms < WORST_ALLOWED_MS:
            break
    assert window.hex.blob.size >= size
    assert len(window.text.window_text()) < 1 << 20  # a window of the text, never all of it
    assert recorder.worst_ms < WORST_ALLOWED_MS


def _open_session_views(qtbot, window: MainWindow, biggest: int, size: int, record_property) -> TickRecorder:  # type: ignore[no-untyped-def]
    # Start from another session so that every attempt opens the big one afresh.
    smallest = int(np.argmin(_totals(window))) + 1
    _select_and_wait(qtbot, window, smallest)
    window.show_text()
    qtbot.wait(50)
    recorder = TickRecorder()
    recorder.start()
    _select_and_wait(qtbot, window, biggest)
    qtbot.wait(50)
    window.scope.setCurrentIndex(window.scope.findData("session"))
    qtbot.wait(50)
    window.show_text()
    qtbot.wait(50)
    window.text.go_to_end()  # the text's end at once, as the hex view's
    assert window.text.selection() == (window.detail.blob.size, window.detail.blob.size)
    qtbot.wait(50)
    window.show_hex()
    bar = window.hex.verticalScrollBar()
    bar.setValue(bar.maximum())  # the last rows, read lazily
    window.hex.grab()
    qtbot.wait(50)
    recorder.stop()
    print(
        f"\nworst gap between 10 ms ticks while opening a {size / 1e6:.1f} MB session: "
        f"{recorder.worst_ms:.1f} ms; gaps over 40 ms (ms, at ms): {recorder.long_gaps}"
    )
    record_property("worst_tick_gap_ms_50mb_session", round(recorder.worst_ms, 1))
    return recorder


def test_payload_filter_searches_in_the_background(
    qtbot, window: MainWindow, huge_capture: Path, record_property
) -> None:
    """Filtering a large capture by payload text keeps the window ticking; the rows
    shown in the end are exactly the sessions whose payload holds the word."""
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(huge_capture)
    document = window.document
    assert document is not None
    sessions = list(document.conversations())
    sample = next(s for s in sessions if s.monologues and b"Host:" in s.monologues[0].data()[:400])
    # The request's Host header: shared by some sessions, not all.
    head = sample.monologues[0].data()[:400].decode("latin-1")
    word = next(
        line.split(":", 1)[1].strip().lower() for line in head.split("\r\n") if line.startswith("Host:")
    )
    expected = {s.id for s in sessions if any(word.encode() in m.data().lower() for m in s.monologues)}
    assert sample.id in expected and len(expected) < len(sessions)
    recorder = TickRecorder()
    recorder.start()
    window.filter_edit.setText(word)
    model = window.tree_model
    qtbot.waitUntil(
        lambda: not window.session_filter.searching and model.rowCount() == len(expected), timeout=30_000
    )
    recorder.stop()
    shown = set(model.shown_ids())
    print(f"\nworst gap between 10 ms ticks while filtering by payload: {recorder.worst_ms:.1f} ms")
    record_property("worst_tick_gap_ms_payload_filter", round(recorder.worst_ms, 1))
    assert shown == expected
    assert recorder.worst_ms < WORST_ALLOWED_MS * 2
