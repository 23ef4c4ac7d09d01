"""The main window: session list, conversation, hex/text detail, plots, menus, put together.

It owns one capture document at a time, built in the window's worker
processes while the window stays usable; a session's conversation is
reassembled when it is selected, big ones off the GUI thread.

This module only composes: the widgets are made in ``window/panes.py``, each
job is a controller in ``window/`` that wires its own widgets, and here the
controllers are made and told about each other.  The window's public face (the
action table's slots, what ``app.py`` and the tests call) is ``WindowCommands``
(``window/commands.py``), each command handing over to the controller that does
the work; here are only the state properties and the Qt events.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow, QVBoxLayout, QWidget

from monoview.core.document import CaptureDocument
from monoview.core.opening import WORKER_NICENESS
from monoview.core.tcp.session import TcpSession
from monoview.gui.actions import build_actions
from monoview.gui.applications import ApplicationNamer
from monoview.gui.conversations import ConversationFetcher
from monoview.gui.dialogs.about import show_about, show_shortcuts
from monoview.gui.filtering import SessionFilter
from monoview.gui.icons import app_icon, sample_capture
from monoview.gui.loading import CaptureOpener
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.settings import Settings
from monoview.gui.views.messagebar import MessageBar
from monoview.gui.views.welcome import WelcomePage
from monoview.gui.window.capture import CaptureController
from monoview.gui.window.commands import WindowCommands
from monoview.gui.window.detail import DetailController
from monoview.gui.window.export_flow import ExportController
from monoview.gui.window.filter_box import FilterController
from monoview.gui.window.finding import FindController
from monoview.gui.window.http_tab import HttpController
from monoview.gui.window.memory import WindowMemory
from monoview.gui.window.menus import RecentMenu, build_menus, build_toolbar, enable_actions
from monoview.gui.window.origin import OriginController
from monoview.gui.window.pages import PageStack
from monoview.gui.window.panes import ConversationPane, DetailPane, SessionsPane, StatusLine, named_splitter
from monoview.gui.window.plots_dock import PlotsDock
from monoview.gui.window.selection import SelectionController
from monoview.gui.window.show_as import ShowAsController
from monoview.gui.worker import BackgroundCall

if TYPE_CHECKING:
    from monoview.gui.views.plots import PlotsView


# A frame at 60 Hz: what the window waits between two pieces of work that would stutter as one.
FRAME_MS: Final = 16


class MainWindow(WindowCommands, QMainWindow):
    """One capture, browsed.

    Signals:
        load_finished(): the current capture was read to its end (or cancelled or damaged).
        export_finished(object): an export completed; the summary dict from ``run_export``.
        export_failed(str): an export stopped with this message.
    """

    load_finished = Signal()
    export_finished = Signal(object)
    export_failed = Signal(str)

    def __init__(self, settings: Settings | None = None, remember: bool = True) -> None:
        super().__init__()
        self.settings = settings if settings is not None else Settings()
        self.remember = remember
        self.opener = CaptureOpener(self)
        self.fetcher = ConversationFetcher(self, niceness=WORKER_NICENESS)
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.actions_by_id = build_actions(self)
        self._build_panes()
        self._build_menus()
        self._build_status()
        self._build_controllers()
        self._connect()
        self.memory = WindowMemory(self, self.settings, self.remember, self.stack, self.tree, self.text)
        self.memory.restore()
        self.capture.update_title()
        self._update_enabled()
        # Everything alive now (Qt bindings, the widgets, imported modules) lives
        # as long as the window: take it out of the garbage collector's full
        # passes, which otherwise walk ~90,000 objects and pause the GUI ~50 ms.
        gc.freeze()

    # -- construction ---------------------------------------------------------

    def _build_panes(self) -> None:
        self.tree_model = SessionListModel(self)
        self.session_filter = SessionFilter(
            self.tree_model, self, pool=lambda: (self.opener.pool, self.opener.workers)
        )
        self.namer = ApplicationNamer(
            self.tree_model, self.session_filter, self, pool=lambda: self.opener.pool
        )
        self.sessions_pane = SessionsPane(self.tree_model, self)
        self.tree, self.filter_edit = self.sessions_pane.tree, self.sessions_pane.filter_edit
        self.conversation_pane = talk = ConversationPane(self)
        self.conversation, self.find_bar = talk.conversation, talk.find_bar
        self.conversation_title, self.conversation_summary = talk.title, talk.summary
        self.stream_spin = talk.stream_spin
        self.detail_pane = detail = DetailPane(self, self.settings.text_encoding)
        self.hex, self.text, self.scope = detail.hex, detail.text, detail.scope
        self.detail_tabs, self.detail_title = detail.tabs, detail.title
        vertical, horizontal = Qt.Orientation.Vertical, Qt.Orientation.Horizontal
        self.right_splitter = named_splitter("right_splitter", vertical, (talk, detail.tabs), (3, 2), self)
        self.main_splitter = named_splitter(
            "main_splitter", horizontal, (self.sessions_pane, self.right_splitter), (2, 3), self
        )
        self.main_splitter.setSizes([700, 700])
        self.message_bar = MessageBar(self)
        self.welcome = WelcomePage(self)
        self.welcome.set_sample_available(sample_capture() is not None)
        self.welcome.set_recent(self.settings.recent_files)
        splitters = {"main_splitter": self.main_splitter, "right_splitter": self.right_splitter}
        self.stack = PageStack(
            self.welcome, self.main_splitter, splitters, self.settings, self.remember, self
        )
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(4, 4, 4, 0)
        central_layout.setSpacing(4)
        central_layout.addWidget(self.message_bar)
        central_layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.plots_dock = PlotsDock(self, self.tree_model, self.conversation)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.plots_dock)
        self.plots_dock.hide()

    def _build_menus(self) -> None:
        self.recent_menu = RecentMenu(self.settings, self)
        build_menus(self, self.actions_by_id, self.recent_menu)
        build_toolbar(self, self.actions_by_id)
        a = self.actions_by_id
        for action in (a["export_monologue"], a["export_session"], a["export_all"]):
            self.tree.addAction(action)
        for action in (a["copy"], a["export_monologue"], a["export_session"], a["find"]):
            self.conversation.addAction(action)

    def _build_status(self) -> None:
        self.status_line = status = StatusLine(self)
        self.summary, self.progress_label = status.summary, status.progress_label
        self.progress_bar, self.cancel_button = status.progress_bar, status.cancel_button

    def _build_controllers(self) -> None:
        self.filtering = FilterController(self.filter_edit, self.session_filter, self.statusBar(), self)
        self.selection = SelectionController(
            self,
            tree=self.tree,
            model=self.tree_model,
            pane=self.conversation_pane,
            fetcher=self.fetcher,
            filtering=self.filtering,
            message_bar=self.message_bar,
        )
        self.detail = DetailController(self.detail_pane, self.conversation, self.tree, self.settings, self)
        self.finder = FindController(self.find_bar, self.detail, self.conversation, self.text, self)
        self.show_as = ShowAsController(self.detail, self.detail.shown_monologues, self)
        self.origin = OriginController(self.detail, self.selection, self.statusBar(), self)
        self.http = HttpController(self.detail_tabs, self.select_monologue, self)
        self.capture = CaptureController(
            self,
            opener=self.opener,
            model=self.tree_model,
            session_filter=self.session_filter,
            fetcher=self.fetcher,
            status=self.status_line,
            message_bar=self.message_bar,
            pages=self.stack,
            welcome=self.welcome,
            settings=self.settings,
        )
        self.exporter = ExportController(
            self,
            capture=self.capture,
            selection=self.selection,
            opener=self.opener,
            conversation=self.conversation,
            tree=self.tree,
            model=self.tree_model,
            settings=self.settings,
        )

    def _connect(self) -> None:
        """How the controllers follow one another (each wires its own widgets itself)."""
        capture, selection, detail, plots = self.capture, self.selection, self.detail, self.plots_dock
        capture.stopping.connect(self.exporter.stop)
        capture.stopping.connect(self.namer.stop)
        self.namer.named.connect(lambda: selection.show_stream_of(selection.current_session))
        self.namer.named.connect(self.fetcher.start_workers)  # ready before the first big session
        capture.stopping.connect(self.http.stop)
        capture.dropped.connect(self._forget_capture)
        capture.opened.connect(self._show_capture)
        capture.state_changed.connect(self._update_enabled)
        capture.finished.connect(self.load_finished)
        selection.session_shown.connect(self.finder.reset)
        selection.session_shown.connect(plots.show_session)
        selection.session_shown.connect(detail.show_session)
        selection.session_shown.connect(self.http.show_session)
        selection.monologue_shown.connect(self.http.monologue_shown)
        selection.monologue_shown.connect(detail.monologue_shown)
        selection.monologue_shown.connect(plots.mark_monologue)
        # The summary line counts the sessions shown, and says while the payload is searched.
        self.session_filter.searching_changed.connect(lambda _searching: capture.update_summary())
        self.session_filter.changed.connect(selection.keep_current_selected)
        self.session_filter.changed.connect(capture.update_summary)
        self.exporter.busy_changed.connect(self._update_enabled)
        self.exporter.finished.connect(self.export_finished)
        self.exporter.failed.connect(self.export_failed)
        self.conversation.doubleClicked.connect(lambda _index: self.show_text())
        plots.session_clicked.connect(self.select_session)
        self.recent_menu.open_requested.connect(self.open_path)
        self.recent_menu.cleared.connect(lambda: self.welcome.set_recent([]))
        self.welcome.open_requested.connect(self.open_dialog)
        self.welcome.sample_requested.connect(self.open_sample)
        self.welcome.path_requested.connect(self.open_path)

    def _forget_capture(self) -> None:
        """The capture is being let go: no timeline, no current session (nor its detail)."""
        self.plots_dock.show_capture(None)
        self.plots_dock.set_document(None)
        self.namer.set_document(None)
        self.selection.forget()

    def _show_capture(self, document: CaptureDocument) -> None:
        """A capture was opened: the stream box and the plots take it, its first session shows
        a frame later (listing the sessions and showing one are each a paint's worth of work,
        and in one turn of the event loop they were a stutter on a busy machine)."""
        self.selection.set_document(document)
        self.namer.set_document(document)
        self.plots_dock.set_document(document)
        self.plots_dock.show_capture(self.tree_model.columns)
        QTimer.singleShot(FRAME_MS, lambda: self._show_first_of(document))

    def _show_first_of(self, document: CaptureDocument) -> None:
        if self.document is document and not self.tree.currentIndex().isValid():
            self.selection.show_first()

    def _update_enabled(self) -> None:
        """Close needs a capture, Stop Loading an open under way, exports a capture at rest."""
        capture, exporting = self.capture, self.exporter.job is not None
        enable_actions(self.actions_by_id, capture.document is not None, capture.loading, exporting)

    # -- state, from the controllers that hold it ---------------------------------

    @property
    def document(self) -> CaptureDocument | None:
        """The capture open (None: none, or one still being opened)."""
        return self.capture.document

    @property
    def loading(self) -> bool:
        """A capture is being opened."""
        return self.capture.loading

    @property
    def current_session(self) -> TcpSession | None:
        """The session whose conversation is shown."""
        return self.selection.current_session

    @property
    def reassembling(self) -> bool:
        """The selected session's conversation is being made in a worker thread."""
        return self.selection.reassembling

    @property
    def export_job(self) -> BackgroundCall | None:
        """The export running (None: none)."""
        return self.exporter.job

    @property
    def plots(self) -> PlotsView | None:
        """The plots, once the dock was first shown (pyqtgraph is imported then)."""
        return self.plots_dock.plots

    # -- commands: the action table's slots are in ``WindowCommands``; the Help boxes --

    def show_about(self) -> None:
        """Help › About."""
        show_about(self)

    def show_shortcuts(self) -> None:
        """Help › Keyboard Shortcuts, from the action table (so it cannot go stale)."""
        show_shortcuts(self, self.shortcut_rows())

    # -- Qt events ----------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Override QWidget::dragEnterEvent: accept local files."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Override QWidget::dropEvent: open the dropped files (several: one capture)."""
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.capture.open_paths(paths)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Override QWidget::closeEvent: stop the threads (bounded wait), remember the layout."""
        self.save_state()
        self.capture.shut_down()
        super().closeEvent(event)
