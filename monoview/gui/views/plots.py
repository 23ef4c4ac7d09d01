"""Plots: a timeline of every session, and bytes over time of the selected one.

pyqtgraph is imported here only, when the plots are first shown, so starting
monoview does not pay for it.  Arrays come from ``monoview.core.stats``; each
plot item is created once and updated with ``setData``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from monoview.core import stats
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.core.verdict import VERDICTS, legend
from monoview.gui.views import palette

MAX_BOUNDARY_LINES: Final = 5000
# The selected session's outline: near-black, no verdict's colour (the find yellow, darkened,
# read as "open" around a reset's bar).
SELECTED: Final = QColor(30, 30, 30)


def pyqtgraph() -> Any:
    """pyqtgraph, imported and set up on first use (see the module docstring)."""
    import pyqtgraph as pg

    pg.setConfigOptions(background="w", foreground="k", antialias=False)
    return pg


def session_axis(pg: Any) -> Any:
    """The timeline's left axis: pyqtgraph's own tick spacing, which keeps the labels apart
    at any height and zoom (one label per session overlapped from a dozen sessions in the
    dock), on whole session numbers only (it would label 1.5 between two sessions)."""

    class SessionAxis(pg.AxisItem):  # type: ignore[misc]
        def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
            """Override AxisItem.tickValues: the levels of whole numbers, else every session."""
            levels = [
                (spacing, [v for v in values if float(v).is_integer() and v >= 1])
                for spacing, values in super().tickValues(minVal, maxVal, size)
                if spacing >= 1
            ]
            if levels:
                return levels
            low, high = sorted((minVal, maxVal))  # the timeline's axis is inverted
            return [(1.0, [float(v) for v in range(max(math.ceil(low), 1), math.floor(high) + 1)])]

    return SessionAxis(orientation="left")


class PlotsView(QWidget):
    """The two plots side by side.

    Signals:
        session_clicked(int): the id of the session whose timeline bar was clicked.
    """

    session_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg = pyqtgraph()
        self._pg = pg
        self.setObjectName("plots")
        self.timeline = pg.PlotWidget(
            title="Sessions over time (click one to select it)", axisItems={"left": session_axis(pg)}
        )
        # The key is a label of its own, which wraps: in the plot's title it was cut at the dock's width.
        self.legend = QLabel(
            "&nbsp;&nbsp;".join(
                f'<span style="color:{palette.verdict_colour(v).name()}">■</span>&nbsp;{v}' for v in VERDICTS
            ),
            self,
        )
        self.legend.setObjectName("timeline_legend")
        self.legend.setWordWrap(True)
        self.legend.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.legend.setStyleSheet("background: white; color: black;")
        self.timeline.setLabel("bottom", "time since first packet", units="s")
        self.timeline.setLabel("left", "session")
        meaning = "Each bar's colour, as the session list's dot:\n" + "\n".join(
            f"{v}: {m}" for v, m in legend()
        )
        self.timeline.setToolTip(meaning)
        self.legend.setToolTip(meaning)
        self.timeline.invertY(True)
        self.timeline.showGrid(x=False, y=False)
        self.timeline.setMouseEnabled(x=True, y=True)
        self._bars = pg.BarGraphItem(x0=[], width=[], y=[], height=0.7)
        self._chosen = pg.BarGraphItem(
            x0=[], width=[], y=[], height=0.9, brush=None, pen=pg.mkPen(SELECTED, width=2)
        )
        self.timeline.addItem(self._bars)
        self.timeline.addItem(self._chosen)
        self._marked: int | None = None
        self.bytes = pg.PlotWidget(title="Bytes over time")
        self.bytes.setLabel("bottom", "time since first packet", units="s")
        self.bytes.setLabel("left", "bytes sent", units="B")
        self.bytes.showGrid(x=True, y=True, alpha=0.2)
        self.bytes.addLegend(offset=(10, 10))
        options = {"clipToView": True, "autoDownsample": True, "skipFiniteCheck": True}
        self._curves = {
            d: self.bytes.plot(
                [],
                [],
                pen=pg.mkPen(palette.stripe(d), width=2),
                stepMode=None,
                name="client → server" if d == "c2s" else "server → client",
                **options,
            )
            for d in ("c2s", "s2c")
        }
        self._boundaries = {
            d: self.bytes.plot(
                [],
                [],
                connect="pairs",
                pen=pg.mkPen(
                    QColor(palette.stripe(d).red(), palette.stripe(d).green(), palette.stripe(d).blue(), 90),
                    width=1,
                ),
            )
            for d in ("c2s", "s2c")
        }
        self._current = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen(palette.FIND_BG.darker(160), width=2)
        )
        self._current.hide()
        self.bytes.addItem(self._current, ignoreBounds=True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(0)
        left.addWidget(self.legend)
        left.addWidget(self.timeline, 1)
        layout.addLayout(left, 1)
        layout.addWidget(self.bytes, 1)
        self._timeline = stats.session_timeline([])
        self.timeline.scene().sigMouseClicked.connect(self._clicked)

    @property
    def base_ns(self) -> int:
        """Time zero of both plots (the first packet of the capture)."""
        return self._timeline.base_ns

    def set_timeline(self, t: stats.Timeline | None) -> None:
        """Redraw the capture's timeline (None: no capture)."""
        t = t if t is not None else stats.session_timeline([])
        self._timeline = t
        span = float(t.end.max() - t.start.min()) if len(t.ids) else 1.0
        width = np.maximum(t.end - t.start, max(span * 0.003, 1e-6))  # keep short sessions visible
        brushes = [palette.verdict_colour(VERDICTS[i]) for i in t.verdict.tolist()]
        self._bars.setOpts(
            x0=t.start,
            width=width,
            y=t.ids.astype(float),
            height=0.7,
            brushes=brushes or None,  # an empty list trips pyqtgraph 0.14's colour update
            pen=self._pg.mkPen(None),
        )
        self.mark_session(self._marked)

    def mark_session(self, session_id: int | None) -> None:
        """Outline the bar of the selected session."""
        self._marked = session_id
        t = self._timeline
        hits: list[int] = np.nonzero(t.ids == session_id)[0].tolist() if session_id is not None else []
        if len(hits):
            i = int(hits[0])
            span = float(t.end.max() - t.start.min()) or 1.0
            pad = span * 0.004  # the outline stands around the bar, never over a thin one
            self._chosen.setOpts(
                x0=[t.start[i] - pad],
                width=[max(t.end[i] - t.start[i], span * 0.003) + 2 * pad],
                y=[float(t.ids[i])],
                height=0.95,
                brush=None,
            )
        else:
            self._chosen.setOpts(x0=[], width=[], y=[], height=0.95)

    def show_session(self, session: TcpSession | None, monologues: Sequence[Monologue]) -> None:
        """Plot the cumulative bytes of each direction and the monologue starts."""
        self.mark_session(session.id if session else None)
        if session is None:
            for item in (*self._curves.values(), *self._boundaries.values()):
                item.setData([], [])
            self.bytes.setTitle("Bytes over time (select a session)")
            return
        base = self.base_ns or session.first_ts_ns
        top = 1
        for d, curve in self._curves.items():
            series = stats.bytes_over_time(session, d, base)
            x = np.concatenate(([(session.first_ts_ns - base) / 1e9], series.seconds))
            y = np.concatenate(([0], series.cumulative))
            # a staircase: the total only changes when a packet is captured
            curve.setData(np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1])
            top = max(top, int(y[-1]))
        for d, item in self._boundaries.items():
            chosen = [m for m in monologues if m.direction == d][:MAX_BOUNDARY_LINES]
            starts = stats.monologue_starts(chosen, base)
            item.setData(np.repeat(starts, 2), np.tile([0.0, float(top)], len(starts)))
        self.bytes.setTitle(f"Bytes over time, session {session.id} (lines: monologue starts)")
        self.bytes.enableAutoRange()

    def mark_monologue(self, monologue: Monologue | None) -> None:
        """A line at the start of the selected monologue."""
        if monologue is None:
            self._current.hide()
            return
        self._current.setValue((monologue.first_ts_ns - (self.base_ns or monologue.first_ts_ns)) / 1e9)
        self._current.show()

    def _clicked(self, event: Any) -> None:
        vb = self.timeline.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        point: QPointF = vb.mapSceneToView(event.scenePos())
        t = self._timeline
        if not len(t.ids):
            return
        rows = np.nonzero(np.abs(t.ids - point.y()) <= 0.5)[0]
        if not len(rows):
            return
        i = int(rows[0])
        slack = (vb.viewRange()[0][1] - vb.viewRange()[0][0]) * 0.01
        if t.start[i] - slack <= point.x() <= t.end[i] + slack:
            self.session_clicked.emit(int(t.ids[i]))
