"""Plots: the numbers come from core.stats and match the oracle; clicking a bar selects a session."""

from __future__ import annotations

import json

import numpy as np
import pytest

from monoview.core import stats
from monoview.core.analyse import analyse
from monoview.gui.mainwindow import MainWindow
from tests.gui.conftest import capture, load


@pytest.fixture
def keepalive_oracle() -> dict:
    path = capture("http_keepalive.pcap")
    return json.loads(path.with_name("http_keepalive.oracle.json").read_text())


def test_series_end_at_the_oracle_totals(keepalive_oracle: dict) -> None:
    analysis = analyse(capture("http_keepalive.pcap"))
    try:
        timeline = stats.session_timeline(analysis.sessions)
        streams = keepalive_oracle["streams"]
        assert timeline.ids.tolist() == list(range(1, len(streams) + 1))
        base = int(round(min(s["first_ts_f"] for s in streams) * 1e6)) * 1000
        assert abs(timeline.base_ns - base) < 1000
        assert np.allclose(
            timeline.end - timeline.start, [s["last_ts_f"] - s["first_ts_f"] for s in streams], atol=1e-6
        )
        for session, stream in zip(analysis.sessions, streams, strict=True):
            for direction in ("c2s", "s2c"):
                series = stats.bytes_over_time(session, direction, timeline.base_ns)
                assert int(series.cumulative[-1]) == stream[direction]["len"]
                assert np.all(np.diff(series.seconds) >= 0) and np.all(np.diff(series.cumulative) >= 0)
            starts = stats.monologue_starts(session.monologues, timeline.base_ns)
            assert len(starts) == len(stream["monologues"])
    finally:
        analysis.close()


def test_plots_dock_follows_the_selection(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("http_keepalive.pcap"))
    window.toggle_plots()
    qtbot.waitUntil(lambda: window.plots is not None, timeout=5000)
    plots = window.plots
    assert len(plots._timeline.ids) == 2
    plots.session_clicked.emit(2)  # what a click on the second bar emits
    assert window.current_session is not None and window.current_session.id == 2
    assert plots._marked == 2
    c2s = plots._curves["c2s"].getData()[1]
    assert c2s[-1] == window.current_session.stream("c2s").kept
    window.toggle_plots()
    assert not window.plots_dock.isVisible()


def test_keyboard_moves_between_monologues(qtbot, window: MainWindow) -> None:
    load(qtbot, window, capture("chatter.pcap"))
    window.select_session(1)
    first = window.conversation.current_monologue()
    assert first is not None and first.index == 0
    window.next_monologue()
    window.next_monologue()
    current = window.conversation.current_monologue()
    assert current is not None and current.index == 2
    assert window.hex.blob.data == current.data()
    window.previous_monologue()
    current = window.conversation.current_monologue()
    assert current is not None and current.index == 1


def test_clicking_a_timeline_bar_selects_its_session(qtbot, window: MainWindow) -> None:
    from PySide6.QtCore import QPointF, Qt

    load(qtbot, window, capture("http_keepalive.pcap"))
    window.select_session(1)
    window.toggle_plots()
    qtbot.waitUntil(lambda: window.plots is not None, timeout=5000)
    plots = window.plots
    qtbot.wait(100)
    t = plots._timeline
    view_box = plots.timeline.getPlotItem().getViewBox()
    middle = QPointF(float((t.start[1] + t.end[1]) / 2), float(t.ids[1]))
    scene_point = view_box.mapViewToScene(middle)
    widget_point = plots.timeline.mapFromScene(scene_point)
    qtbot.mouseClick(plots.timeline.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)
    qtbot.waitUntil(
        lambda: window.current_session is not None and window.current_session.id == 2, timeout=3000
    )


def test_stream_graphs_show_the_selected_session(qtbot, window: MainWindow) -> None:
    from monoview.core.graphs import stream_graphs

    load(qtbot, window, capture("http_keepalive.pcap"))
    window.select_session(2)
    window.toggle_plots()
    dock = window.plots_dock
    qtbot.waitUntil(lambda: dock.graphs is not None, timeout=5000)
    assert dock.tabs is not None and dock.graphs is not None
    dock.tabs.setCurrentWidget(dock.graphs)
    graphs = dock.graphs
    qtbot.waitUntil(lambda: graphs.graphs is not None and graphs.session_id == 2, timeout=5000)
    expected = stream_graphs(window.document, 2)
    assert graphs.graphs["s2c"].end.tolist() == expected["s2c"].end.tolist()
    for kind in range(graphs.kind.count()):
        graphs.kind.setCurrentIndex(kind)
        for direction in range(graphs.direction.count()):
            graphs.direction.setCurrentIndex(direction)
            assert graphs.plot.getPlotItem().listDataItems(), (kind, direction)
    assert "Session 2" in graphs.status.text()
    window.select_session(1)
    qtbot.waitUntil(lambda: graphs.session_id == 1 and graphs.graphs is not None, timeout=5000)


@pytest.mark.parametrize(("name", "sessions"), [("http_keepalive.pcap", 2), ("http_many.pcap", 32)])
def test_the_timelines_session_labels_never_overlap(
    qtbot, window: MainWindow, name: str, sessions: int
) -> None:
    """The left axis labels whole session numbers (never 1.5, never 0), as many as fit
    without two labels overlapping (one per session overlapped from a dozen in the dock)."""
    from PySide6.QtGui import QPainter, QPixmap

    load(qtbot, window, capture(name))
    window.toggle_plots()
    qtbot.waitUntil(lambda: window.plots is not None, timeout=5000)
    plots = window.plots
    assert plots is not None and len(plots._timeline.ids) == sessions
    qtbot.waitUntil(lambda: plots.timeline.height() > 100, timeout=5000)
    qtbot.wait(50)
    axis = plots.timeline.getAxis("left")
    pixmap = QPixmap(10, 10)
    painter = QPainter(pixmap)
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    labels = [text for _rect, _flags, text in texts]
    _low, high = sorted(axis.range)
    assert labels and all(label.isdigit() and 1 <= int(label) <= high for label in labels), labels
    rects = [rect for rect, _flags, _text in texts]
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :]), labels
    if sessions == 2:
        assert labels == ["1", "2"]
