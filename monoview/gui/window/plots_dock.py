"""The plots dock: the capture's session timeline and the current session's bytes over time
(one tab), and the current session's TCP stream graphs (another).

pyqtgraph is imported the first time the dock shows, not at start-up: most
sessions are browsed without the plots, and the import costs a noticeable
part of a second.  Until then the dock only remembers the current session, so
the plots show it when they appear.  The stream graphs are computed only while
their tab is the one shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QTabWidget

from monoview.core.document import CaptureDocument
from monoview.core.flows.columns import SessionColumns
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.views.conversation import ConversationView

if TYPE_CHECKING:
    from monoview.gui.views.plots import PlotsView
    from monoview.gui.views.stream_graphs import StreamGraphsView


class PlotsDock(QDockWidget):
    """A dock at the bottom (or top) of the window holding the plots, made when first shown.

    Signals:
        session_clicked(int): a session's bar on the timeline was clicked (its id).
    """

    session_clicked = Signal(int)

    def __init__(self, window: QMainWindow, model: SessionListModel, conversation: ConversationView) -> None:
        super().__init__("Plots", window)
        self.setObjectName("plots_dock")
        self.setAllowedAreas(Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.TopDockWidgetArea)
        self.setWidget(QLabel("", self))
        self.plots: PlotsView | None = None
        self.graphs: StreamGraphsView | None = None
        self.tabs: QTabWidget | None = None
        self.document: CaptureDocument | None = None
        self._window = window
        self._model = model
        self._conversation = conversation
        self._session: TcpSession | None = None
        self.visibilityChanged.connect(self._visibility_changed)

    def toggle(self) -> None:
        """View › Plots: show or hide the dock."""
        self.setVisible(not self.isVisible())

    def show_capture(self, columns: SessionColumns | None) -> None:
        """Draw the timeline of these sessions (None: no capture)."""
        if self.plots is not None:
            self.plots.set_timeline(columns.timeline() if columns is not None else None)

    def set_document(self, document: CaptureDocument | None) -> None:
        """The capture the stream graphs read (None: none)."""
        if self.graphs is not None:
            self.graphs.stop()
            self.graphs.show_session(None, None)
        self.document = document

    def show_session(self, session: TcpSession | None) -> None:
        """Plot this session's bytes over time (None: no session), and its stream graphs if shown."""
        self._session = session
        if self.plots is not None:
            self.plots.show_session(session, session.monologues if session else [])
        self._update_graphs()

    def _update_graphs(self) -> None:
        graphs, session = self.graphs, self._session
        if graphs is None or self.tabs is None or self.tabs.currentWidget() is not graphs:
            return
        wanted = session.id if session is not None else None
        if wanted != graphs.session_id or (wanted is not None and graphs.graphs is None and not graphs.busy):
            graphs.show_session(self.document if session is not None else None, wanted)

    def mark_monologue(self, monologue: Monologue | None) -> None:
        """Mark the current monologue's start on the bytes plot."""
        if self.plots is not None:
            self.plots.mark_monologue(monologue)

    def _visibility_changed(self, visible: bool) -> None:
        if visible and self.plots is None:
            from monoview.gui.views.plots import PlotsView  # pyqtgraph only when wanted
            from monoview.gui.views.stream_graphs import StreamGraphsView

            self.tabs = QTabWidget(self)
            self.tabs.setDocumentMode(True)
            self.plots = PlotsView(self.tabs)
            self.graphs = StreamGraphsView(self.tabs)
            self.tabs.addTab(self.plots, "&Capture")
            self.tabs.addTab(self.graphs, "TCP &Stream Graphs")
            self.tabs.currentChanged.connect(lambda _i: self._update_graphs())
            self.setWidget(self.tabs)
            window = self._window
            window.resizeDocks([self], [max(220, window.height() // 3)], Qt.Orientation.Vertical)
            self.plots.session_clicked.connect(self.session_clicked)
            self.show_capture(self._model.columns)
            self.show_session(self._session)
            self.mark_monologue(self._conversation.current_monologue())
