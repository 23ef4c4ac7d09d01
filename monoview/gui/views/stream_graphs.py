"""TCP stream graphs of the selected session, as Wireshark's Statistics › TCP Stream Graphs.

Stevens time/sequence (each segment's last byte over time: retransmissions in
the warning colour, late segments lighter, holes as red bars in the gap
colour), throughput, round-trip time and window (the receiver's, scaled, with
the bytes in flight), for either direction.  The numbers come from
``core.graphs``, computed in a worker thread (the biggest session takes a
tenth of a second); the colours are the tree's and the conversation's.
"""

from __future__ import annotations

import threading
from typing import Any, Final

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from monoview.core.document import CaptureDocument
from monoview.core.graphs import DirectionGraphs, stream_graphs
from monoview.gui.views import palette
from monoview.gui.views.plots import pyqtgraph
from monoview.gui.worker import BackgroundCall

KINDS: Final = (
    ("stevens", "Time / Sequence (Stevens)"),
    ("throughput", "Throughput"),
    ("rtt", "Round Trip Time"),
    ("window", "Window Scaling"),
)
DIRECTIONS: Final = (("c2s", "client → server"), ("s2c", "server → client"))
# Near-black: not one of the verdict colours (orange is "open" in the list and the timeline).
RETRANSMITTED: Final = QColor(40, 40, 40)
HOLE: Final = palette.verdict_colour("bytes missing")  # red, as in the list and the timeline


class StreamGraphsView(QWidget):
    """One graph of one direction of the selected session, chosen with two combo boxes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg = pyqtgraph()
        self._pg = pg
        self.setObjectName("stream_graphs")
        self.kind = QComboBox(self)
        self.kind.setObjectName("graph_kind")
        for key, label in KINDS:
            self.kind.addItem(label, key)
        self.direction = QComboBox(self)
        self.direction.setObjectName("graph_direction")
        for key, label in DIRECTIONS:
            self.direction.addItem(label, key)
        self.status = QLabel("Select a session", self)
        bar = QHBoxLayout()
        bar.addWidget(self.kind)
        bar.addWidget(self.direction)
        bar.addWidget(self.status, 1)
        self.plot = pg.PlotWidget()
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(10, 10))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        self.graphs: dict[str, DirectionGraphs] | None = None
        self.session_id: int | None = None
        self._job: BackgroundCall | None = None
        self.kind.currentIndexChanged.connect(lambda _i: self.redraw())
        self.direction.currentIndexChanged.connect(lambda _i: self.redraw())

    @property
    def busy(self) -> bool:
        """The graphs of a session are being computed."""
        return self._job is not None

    def show_session(self, document: CaptureDocument | None, session_id: int | None) -> None:
        """Compute and draw the graphs of this session (None: none)."""
        self.session_id, self.graphs = session_id, None
        if document is None or session_id is None:
            self.status.setText("Select a session")
            self.redraw()
            return
        self.status.setText(f"Session {session_id}: computing…")

        def work(_cancelled: threading.Event) -> dict[str, DirectionGraphs]:
            return stream_graphs(document, session_id)

        job = BackgroundCall(work, self)
        self._job = job
        job.succeeded.connect(lambda graphs: self._arrived(job, session_id, graphs))
        job.failed.connect(lambda message: self.status.setText(message))
        job.finished.connect(lambda: self._ended(job))
        job.start()

    def _arrived(self, job: BackgroundCall, session_id: int, graphs: dict[str, DirectionGraphs]) -> None:
        if job is self._job and session_id == self.session_id:
            self.graphs = graphs
            # The busier direction first (the one a person means: a download's data, an upload's).
            busier = max(graphs, key=lambda d: int(graphs[d].end.max()) if len(graphs[d].end) else 0)
            self.direction.blockSignals(True)
            self.direction.setCurrentIndex(self.direction.findData(busier))
            self.direction.blockSignals(False)
            self.redraw()

    def _ended(self, job: BackgroundCall) -> None:
        if job is self._job:
            self._job = None
        job.deleteLater()

    def stop(self) -> None:
        """Wait for a computation under way (the capture is closing)."""
        job, self._job = self._job, None
        if job is not None:
            job.shutdown()

    def redraw(self) -> None:
        """Draw the chosen graph of the chosen direction."""
        plot = self.plot
        plot.clear()
        graphs = self.graphs
        if graphs is None:
            return
        direction = str(self.direction.currentData())
        g = graphs[direction]
        kind = str(self.kind.currentData())
        colour = palette.stripe(direction)
        plot.setLabel("bottom", "time since the session's first packet", units="s")
        draw = {"stevens": self._stevens, "throughput": self._throughput}
        draw.update(rtt=self._rtt, window=self._window)
        draw[kind](g, colour)
        where = dict(DIRECTIONS)[direction]
        self.status.setText(f"Session {self.session_id}, {where}: {self._summary(g, kind)}")
        plot.enableAutoRange()

    def _stevens(self, g: DirectionGraphs, colour: QColor) -> None:
        pg, plot = self._pg, self.plot
        plot.setLabel("left", "sequence number (relative)", units="B")
        normal = ~(g.retransmitted | g.out_of_order)
        for mask, brush, name in (
            (normal, colour, "segments"),
            (g.out_of_order, colour.lighter(150), "late segments"),
            (g.retransmitted, RETRANSMITTED, "retransmissions"),
        ):
            if mask.any():
                plot.plot(g.seconds[mask], g.end[mask], pen=None, symbol="o", symbolSize=4,
                          symbolBrush=brush, symbolPen=None, name=name)  # fmt: skip
        if g.holes:
            x = np.repeat([t for t, _o, _s in g.holes], 2)
            y = np.array([[o, o + s] for _t, o, s in g.holes], dtype=np.float64).ravel()
            plot.plot(x, y, connect="pairs", pen=pg.mkPen(HOLE, width=3), name="bytes never captured")

    def _throughput(self, g: DirectionGraphs, colour: QColor) -> None:
        self.plot.setLabel("left", "throughput", units="B/s")
        pen = self._pg.mkPen(colour, width=2)
        self.plot.plot(g.throughput_seconds, g.throughput, pen=pen, name="throughput")

    def _rtt(self, g: DirectionGraphs, colour: QColor) -> None:
        self.plot.setLabel("left", "round-trip time", units="s")
        self.plot.plot(g.rtt_seconds, g.rtt, pen=None, symbol="o", symbolSize=4, symbolBrush=colour,
                       symbolPen=None, name="round trips (Karn)")  # fmt: skip

    def _window(self, g: DirectionGraphs, colour: QColor) -> None:
        pg, plot = self._pg, self.plot
        plot.setLabel("left", "bytes", units="B")
        scale = f" (scale 2^{g.window_scale})" if g.window_scale else ""
        window_pen = pg.mkPen(QColor(46, 160, 67), width=2)
        plot.plot(g.window_seconds, g.window, pen=window_pen, name=f"receiver's window{scale}")
        plot.plot(g.in_flight_seconds, g.in_flight, pen=pg.mkPen(colour, width=1), name="bytes in flight")

    @staticmethod
    def _summary(g: DirectionGraphs, kind: str) -> str:
        parts: list[Any] = [f"{len(g.seq):,} segment{'s' if len(g.seq) != 1 else ''}"]
        if kind == "stevens":
            parts += [f"{int(g.retransmitted.sum()):,} retransmitted", f"{len(g.holes):,} holes"]
        elif kind == "rtt" and len(g.rtt):
            parts.append(f"median RTT {float(np.median(g.rtt)) * 1000:.2f} ms")
        elif kind == "window":
            parts.append(f"window scale {g.window_scale if g.window_scale is not None else 'none'}")
        return ", ".join(parts)
