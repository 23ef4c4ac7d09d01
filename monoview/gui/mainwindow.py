"""The main window: session tree, conversation, hex/text detail, plots, menus.

It owns one capture document at a time.  Opening builds it in the window's
worker processes (``CaptureOpener``) while the window stays usable; the tree
then lists its sessions from the document's columns, and a session's
conversation is reassembled when it is selected or expanded
(``ConversationFetcher``; big ones off the GUI thread).  Exports run in a
``BackgroundCall`` with a progress dialog, their work in the same worker
processes.  Layout and choices are remembered through ``Settings``.
"""

from __future__ import annotations

import gc
import threading
from pathlib import Path
from typing import Any, Final

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from monoview.core.document import CaptureDocument
from monoview.core.errors import MonoviewError
from monoview.core.export import Format
from monoview.core.flows.columns import Column, SessionColumns
from monoview.core.render import decode_text
from monoview.core.streambytes import GapPolicy
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.gui.actions import ACTIONS, MENUS, build_actions
from monoview.gui.collector import CapturePause
from monoview.gui.conversations import ConversationFetcher
from monoview.gui.dialogs import export as export_dialog
from monoview.gui.dialogs.about import show_about, show_shortcuts
from monoview.gui.dialogs.errors import show_error
from monoview.gui.dialogs.export import ExportKind, ExportRequest
from monoview.gui.exporting import clashes, run_export
from monoview.gui.filtering import SessionFilter
from monoview.gui.icons import app_icon, sample_capture
from monoview.gui.loading import CaptureOpener, check_capture
from monoview.gui.models.format import human_size
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.search import Searcher
from monoview.gui.settings import Settings
from monoview.gui.views.blob import EMPTY, Blob, direction_blob, monologue_blob, session_blob
from monoview.gui.views.conversation import ConversationView
from monoview.gui.views.findbar import FindBar
from monoview.gui.views.hexview import HexView
from monoview.gui.views.messagebar import MessageBar
from monoview.gui.views.progress import LazyProgressBar
from monoview.gui.views.session_tree import SessionTreeView
from monoview.gui.views.textview import TextView
from monoview.gui.views.welcome import WelcomePage
from monoview.gui.worker import BackgroundCall

SCOPES: Final = (
    ("monologue", "Selected monologue"),
    ("c2s", "Client → server stream"),
    ("s2c", "Server → client stream"),
    ("session", "Whole conversation"),
)
CAPTURE_FILTER: Final = "Captures (*.pcap *.pcapng *.cap *.dmp *.pcap.* *.pcapng.*);;All files (*)"
PAGE_WELCOME, PAGE_CAPTURE = 0, 1
# ID, client, server, start, duration, packets, bytes c->s, bytes s->c (status stretches)
SP = QStyle.StandardPixmap
TOOLBAR_ICONS: Final = {
    "open": SP.SP_DialogOpenButton,
    "export_monologue": SP.SP_DialogSaveButton,
    "find": SP.SP_FileDialogContentsView,
    "toggle_plots": SP.SP_FileDialogDetailedView,
    "cancel_load": SP.SP_BrowserStop,
}
SHUTDOWN_MS: Final = 5000
INVALID_FILTER_BG: Final = "#ffd7d7"  # Wireshark's invalid-filter red
FILTER_HELP: Final = (
    "Addresses match exactly (10.1.1.6, 10.1.0.0/16, [2001:db8::1]:443), :port or a port number,\n"
    "#id for a session, \"quoted text\" or a word for payload (case ignored).\n"
    "Display-filter forms: ip.addr, ip.src (client), ip.dst (server), tcp.port, tcp.srcport,\n"
    "tcp.dstport, tcp.stream, vlan.id with ==, !=, <, >; frame contains \"text\" (case kept);\n"
    "&& and, || or, ! not, parentheses. Terms side by side must all match."
)


def _keep_width(label: QLabel) -> None:
    """Let ``label`` show a longer text without widening its pane (the text is cut instead).

    A title that grows (``Whole conversation of session 24, 19,283,644 bytes``)
    raised the right pane's minimum width, so the splitter squeezed the session
    tree: a relayout and a full repaint of the tree for choosing what the hex
    view shows, and a pane that jumps under the user's eyes.  The label still
    asks for its whole text (its size hint); it just no longer insists on it.
    """
    label.setMinimumWidth(1)


class MainWindow(QMainWindow):
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
        self.document: CaptureDocument | None = None
        self.loading_path: Path | None = None
        self.export_job: BackgroundCall | None = None
        self.loading = False
        self.current_session: TcpSession | None = None
        self._wanted_session: int | None = None  # selected, its conversation not here yet
        self._session_blob: tuple[int, int, Blob] | None = None
        self._find_pos = -1
        self._detail_dirty = {"hex": True, "text": True}
        self._blob = EMPTY
        self._pending_text_selection: tuple[int, int] | None = None
        self._splitters_restored = False
        self._tree_follows = True
        self._collector = CapturePause()
        self.opener = CaptureOpener(self)
        self.fetcher = ConversationFetcher(self)
        self.plots: Any = None
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.actions_by_id = build_actions(self)
        self._build_views()
        self._build_menus()
        self._build_status()
        self._connect()
        self._restore()
        self._update_title()
        self._update_enabled()
        # Everything alive now (Qt bindings, the widgets, imported modules) lives
        # as long as the window: take it out of the garbage collector's full
        # passes, which otherwise walk ~90,000 objects and pause the GUI ~50 ms.
        gc.freeze()

    # -- construction ---------------------------------------------------------

    def _build_views(self) -> None:
        self.tree_model = SessionListModel(self)
        self.session_filter = SessionFilter(
            self.tree_model, self, pool=lambda: (self.opener.pool, self.opener.workers)
        )
        self.tree = SessionTreeView(self)
        self.tree.setModel(self.tree_model)
        self.tree.lay_out_columns()
        # The model sorts (a numpy argsort of the column): a header click is one call.
        self.tree.header().setSortIndicator(Column.ID, Qt.SortOrder.AscendingOrder)
        self.tree.setSortingEnabled(True)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("filter")
        self.filter_edit.setPlaceholderText(
            'Filter: 10.0.0.1, :443, "payload text", ip.addr == A && tcp.port == 80 … (Ctrl+L)'
        )
        self.filter_edit.setToolTip(FILTER_HELP)
        self.filter_edit.setClearButtonEnabled(True)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(250)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(3)
        left_layout.addWidget(self.filter_edit)
        left_layout.addWidget(self.tree, 1)

        self.conversation = ConversationView(self)
        self.find_bar = FindBar(self)
        self.find_bar.hide()
        conversation_box = QWidget(self)
        conversation_layout = QVBoxLayout(conversation_box)
        conversation_layout.setContentsMargins(0, 0, 0, 0)
        conversation_layout.setSpacing(0)
        self.conversation_title = QLabel("Select a session", self)
        self.conversation_title.setObjectName("conversation_title")
        self.conversation_title.setContentsMargins(6, 3, 6, 3)
        self.conversation_title.setStyleSheet("font-weight: bold;")
        _keep_width(self.conversation_title)
        self.stream_spin = QSpinBox(self)
        self.stream_spin.setObjectName("stream_spin")
        self.stream_spin.setToolTip("Wireshark's tcp.stream of the shown session: step through the sessions")
        self.stream_spin.setEnabled(False)
        stream_label = QLabel("S&tream", self)
        stream_label.setBuddy(self.stream_spin)
        self.stream_spin.setMinimumWidth(self.stream_spin.fontMetrics().horizontalAdvance("0000000") + 24)
        self.conversation_summary = QLabel("", self)
        self.conversation_summary.setObjectName("conversation_summary")
        self.conversation_summary.setContentsMargins(6, 0, 6, 3)
        _keep_width(self.conversation_summary)
        title_row = QHBoxLayout()
        title_row.setContentsMargins(0, 0, 6, 0)
        title_row.addWidget(self.conversation_title, 1)
        title_row.addWidget(stream_label)
        title_row.addWidget(self.stream_spin)
        conversation_layout.addLayout(title_row)
        conversation_layout.addWidget(self.conversation_summary)
        conversation_layout.addWidget(self.conversation, 1)
        conversation_layout.addWidget(self.find_bar)

        self.hex = HexView(self)
        self.hex.setObjectName("hex_view")
        self.text = TextView(self.settings.text_encoding, self)
        self.text.setObjectName("text_view")
        self.conversation.conversation.encoding = self.text.current_encoding
        self.detail_tabs = QTabWidget(self)
        self.detail_tabs.setObjectName("detail_tabs")
        self.detail_tabs.setDocumentMode(True)
        self.detail_tabs.addTab(self.hex, "&Hex")
        self.detail_tabs.addTab(self.text, "&Text")
        self.scope = QComboBox(self)
        self.scope.setObjectName("scope")
        for key, label in SCOPES:
            self.scope.addItem(label, key)
        self.scope.setToolTip("Which bytes the hex and text views show")
        self.detail_title = QLabel(self)
        self.detail_title.setObjectName("detail_title")
        _keep_width(self.detail_title)
        corner = QWidget(self)
        corner_layout = QHBoxLayout(corner)
        corner_layout.setContentsMargins(6, 0, 6, 0)
        corner_layout.addWidget(self.detail_title)
        corner_layout.addSpacing(10)
        show = QLabel("&Show:", corner)
        show.setBuddy(self.scope)
        corner_layout.addWidget(show)
        corner_layout.addWidget(self.scope)
        self.detail_tabs.setCornerWidget(corner, Qt.Corner.TopRightCorner)

        self.right_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.right_splitter.setObjectName("right_splitter")
        self.right_splitter.addWidget(conversation_box)
        self.right_splitter.addWidget(self.detail_tabs)
        self.right_splitter.setStretchFactor(0, 3)
        self.right_splitter.setStretchFactor(1, 2)
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.setObjectName("main_splitter")
        self.main_splitter.addWidget(left)
        self.main_splitter.addWidget(self.right_splitter)
        self.main_splitter.setStretchFactor(0, 2)
        self.main_splitter.setStretchFactor(1, 3)
        self.main_splitter.setSizes([700, 700])

        self.message_bar = MessageBar(self)
        self.welcome = WelcomePage(self)
        self.welcome.set_sample_available(sample_capture() is not None)
        self.welcome.set_recent(self.settings.recent_files)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.welcome)
        self.stack.addWidget(self.main_splitter)
        central = QWidget(self)
        central_layout = QVBoxLayout(central)
        central_layout.setContentsMargins(4, 4, 4, 0)
        central_layout.setSpacing(4)
        central_layout.addWidget(self.message_bar)
        central_layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.plots_dock = QDockWidget("Plots", self)
        self.plots_dock.setObjectName("plots_dock")
        self.plots_dock.setAllowedAreas(
            Qt.DockWidgetArea.BottomDockWidgetArea | Qt.DockWidgetArea.TopDockWidgetArea
        )
        self.plots_dock.setWidget(QLabel("", self.plots_dock))
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.plots_dock)
        self.plots_dock.hide()

    def _build_menus(self) -> None:
        menus = {name: self.menuBar().addMenu(name) for name in MENUS}
        self.recent_menu = QMenu("Open &Recent", self)
        self.recent_menu.setObjectName("recent_menu")
        for spec in ACTIONS:
            menu = menus[spec.menu]
            if spec.separator_before:
                menu.addSeparator()
            menu.addAction(self.actions_by_id[spec.id])
            if spec.id == "open":
                menu.addMenu(self.recent_menu)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        toolbar = QToolBar("Main", self)
        toolbar.setObjectName("main_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        style = self.style()
        for key, pixmap in TOOLBAR_ICONS.items():
            self.actions_by_id[key].setIcon(style.standardIcon(pixmap))
        for spec in ACTIONS:
            if spec.toolbar:
                toolbar.addAction(self.actions_by_id[spec.id])
        toolbar.addAction(self.actions_by_id["toggle_plots"])
        self.addToolBar(toolbar)
        a = self.actions_by_id
        for action in (a["export_monologue"], a["export_session"], a["export_all"]):
            self.tree.addAction(action)
        for action in (a["copy"], a["export_monologue"], a["export_session"], a["find"]):
            self.conversation.addAction(action)

    def _build_status(self) -> None:
        status = self.statusBar()
        self.summary = QLabel("No capture open", self)
        self.summary.setObjectName("summary")
        status.addWidget(self.summary, 1)
        self.progress_label = QLabel(self)
        self.progress_bar = LazyProgressBar(self)
        self.progress_bar.setObjectName("load_progress")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancel_load")
        self.cancel_button.setToolTip("Stop reading; keep the sessions read so far (Ctrl+.)")
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            status.addPermanentWidget(widget)
            widget.hide()

    def _connect(self) -> None:
        self.tree.selectionModel().currentChanged.connect(self._tree_current_changed)
        self.tree.header().sortIndicatorChanged.connect(lambda _c, _o: self._keep_current_in_view())
        self.conversation.monologue_activated.connect(self._monologue_activated)
        self.conversation.doubleClicked.connect(lambda _i: self.show_text())
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self._filter_timer.timeout.connect(self._apply_filter)
        self.session_filter.searching_changed.connect(self._show_searching)
        self.session_filter.changed.connect(self._filter_changed)
        self.session_filter.invalid.connect(self._filter_invalid)
        self.tree_model.monologues_wanted.connect(self._fetch_monologues)
        self.opener.progressed.connect(self._show_progress)
        self.opener.opened.connect(self._opened)
        self.opener.failed.connect(self._open_stopped)
        self.opener.cancelled.connect(self._open_cancelled)
        self.fetcher.ready.connect(self._conversation_ready)
        self.fetcher.failed.connect(self._conversation_failed)
        self.fetcher.busy_changed.connect(self._show_reassembling)
        self.stream_spin.valueChanged.connect(self._stream_chosen)
        self.scope.currentIndexChanged.connect(lambda _i: self._update_detail())
        self.detail_tabs.currentChanged.connect(lambda _i: self._render_visible_detail())
        self.hex.selection_changed.connect(self._hex_selected)
        self.text.selection_changed.connect(self._text_selected)
        self.text.encoding_changed.connect(self._encoding_changed)
        self.find_bar.find_requested.connect(self.find_bytes)
        self.cancel_button.clicked.connect(self.cancel_load)
        self.welcome.open_requested.connect(self.open_dialog)
        self.welcome.sample_requested.connect(self.open_sample)
        self.welcome.path_requested.connect(self.open_path)
        self.plots_dock.visibilityChanged.connect(self._plots_visibility)

    # -- remembered state -------------------------------------------------------

    def _restore(self) -> None:
        if not self.remember:
            return
        s = self.settings
        if s.geometry is not None:
            self.restoreGeometry(s.geometry)  # Qt keeps it on a visible screen
        else:
            screen = QGuiApplication.primaryScreen().availableGeometry()
            self.resize(min(1400, int(screen.width() * 0.9)), min(880, int(screen.height() * 0.9)))
        if s.window_state is not None:
            self.restoreState(s.window_state)
        header = s.layout("tree_header")
        if header is not None:
            self.tree.header().restoreState(header)

    def _show_capture_page(self) -> None:
        """Switch to the capture page; the first time, restore the splitters.

        A splitter restored while its page was never shown forgets the sizes
        once it is laid out, so this waits until the page is visible.
        """
        first_time = self.stack.currentIndex() != PAGE_CAPTURE and not self._splitters_restored
        self.stack.setCurrentIndex(PAGE_CAPTURE)
        if first_time and self.remember:
            self._splitters_restored = True
            QTimer.singleShot(0, self._restore_splitters)  # after the page's first layout

    def _restore_splitters(self) -> None:
        for name, widget in (("main_splitter", self.main_splitter), ("right_splitter", self.right_splitter)):
            state = self.settings.layout(name)
            if state is not None:
                widget.restoreState(state)

    def save_state(self) -> None:
        """Remember geometry, docks, splitters and the tree header."""
        if not self.remember:
            return
        s = self.settings
        s.geometry = self.saveGeometry()
        s.window_state = self.saveState()
        if self._splitters_restored or self.stack.currentIndex() == PAGE_CAPTURE:
            s.set_layout("main_splitter", self.main_splitter.saveState())
            s.set_layout("right_splitter", self.right_splitter.saveState())
        s.set_layout("tree_header", self.tree.header().saveState())
        s.text_encoding = self.text.current_encoding
        s.sync()

    # -- opening ----------------------------------------------------------------

    def open_dialog(self) -> None:
        """File › Open: pick a capture."""
        start = self.settings.recent_files[0] if self.settings.recent_files else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open Capture", str(Path(start).parent), CAPTURE_FILTER)
        if path:
            self.open_path(path)

    def open_sample(self) -> None:
        """Open the bundled sample capture."""
        sample = sample_capture()
        if sample is None:
            self.message_bar.show_message("The sample capture is not installed with this copy of monoview.")
            return
        self.open_path(sample)

    def open_path(self, path: str | Path) -> bool:
        """Start opening ``path``; False (with the reason shown) if it is no capture."""
        path = Path(path)
        try:
            check_capture(path)
        except MonoviewError as exc:
            self._open_failed(path, str(exc))
            return False
        except OSError as exc:
            self._open_failed(path, f"{path.name} cannot be read: {exc.strerror or exc}.")
            return False
        self._stop_work()
        self._forget_capture()
        self.loading_path = path
        self.settings.add_recent_file(path)
        self.welcome.set_recent(self.settings.recent_files)
        self.message_bar.hide()
        self._show_capture_page()
        self.loading = True
        self.summary.setText(f"Reading {path.name}…")
        self._show_progress(0.0)
        self._update_title()
        self._update_enabled()
        self._collector.pause()
        self.opener.open(path)
        return True

    def _open_failed(self, path: Path, message: str) -> None:
        self.message_bar.show_message(message if message.endswith(".") else message + ".", "error")
        self.statusBar().showMessage(f"Could not open {path.name}", 8000)

    def _opened(self, document: CaptureDocument) -> None:
        """The document is built: list its sessions, show the first, say what went wrong."""
        self.loading = False
        self.loading_path = None
        self.document = document
        self.tree_model.set_columns(SessionColumns(document.rows, document.flows))
        self.session_filter.set_document(document)
        self.fetcher.set_document(document)
        self.stream_spin.setRange(0, max(len(document) - 1, 0))
        self.stream_spin.setEnabled(len(document) > 0)
        self._collector.settle()
        self._hide_progress()
        n = len(document)
        stats = document.stats
        if document.read_error:
            kept = "The session read before the damage is"
            if n != 1:
                kept = f"The {n:,} sessions read before it are"
            message = f"{document.read_error}. {kept} shown and can be exported."
            self.message_bar.show_message(message, "error")
        elif stats.warnings():
            self.message_bar.show_message("; ".join(stats.warnings()) + ".", "warning")
        elif n == 0:
            self.message_bar.show_message("This capture holds no TCP session.", "info")
        if self.plots is not None:
            self.plots.set_timeline(self.tree_model.columns.timeline() if self.tree_model.columns else None)
        if self.tree_model.rowCount():
            self.tree.setCurrentIndex(self.tree_model.index(0, 0))
        self._update_title()
        self._update_summary()
        self._update_enabled()
        self.load_finished.emit()

    def _open_stopped(self, message: str) -> None:
        """Opening failed half-way (the file went away, an internal error): back to the start."""
        path = self.loading_path
        self._end_loading()
        self.message_bar.show_message(message, "error")
        if path is not None:
            self.statusBar().showMessage(f"Could not open {path.name}", 8000)
        self.load_finished.emit()

    def _open_cancelled(self) -> None:
        path = self.loading_path
        self._end_loading()
        name = path.name if path is not None else "the capture"
        self.message_bar.show_message(f"Opening {name} was cancelled.", "info")
        self.load_finished.emit()

    def _end_loading(self) -> None:
        self.loading = False
        self.loading_path = None
        self._collector.settle()
        self._hide_progress()
        self.stack.setCurrentIndex(PAGE_WELCOME)
        self.summary.setText("No capture open")
        self._update_title()
        self._update_enabled()

    def _forget_capture(self) -> None:
        """Drop the current capture from every view (its work is already stopped)."""
        self.current_session = None
        self._wanted_session = None
        self._session_blob = None
        self._find_pos = -1
        self.conversation.conversation.set_session(None, [])
        self.session_filter.set_document(None)
        self.fetcher.set_document(None)
        self.tree_model.clear()
        self._set_blob(EMPTY)
        self.conversation_title.setText("Select a session")
        self.conversation_summary.setText("")
        self.stream_spin.setEnabled(False)
        if self.plots is not None:
            self.plots.set_timeline(None)
            self.plots.show_session(None, [])
        if self.document is not None:
            self.document.close()
            self.document = None
        QTimer.singleShot(0, self._collector.release)

    def close_capture(self) -> None:
        """File › Close: back to the welcome page."""
        self._stop_work()
        self._forget_capture()
        self.loading = False
        self.loading_path = None
        self._hide_progress()
        self.message_bar.hide()
        self.stack.setCurrentIndex(PAGE_WELCOME)
        self.summary.setText("No capture open")
        self._update_title()
        self._update_enabled()

    def _stop_work(self) -> None:
        """Stop whatever reads the current capture: an export, a payload search, reassembly,
        an open under way."""
        if self.export_job is not None:
            self.export_job.shutdown(SHUTDOWN_MS)
        self.session_filter.stop_search(SHUTDOWN_MS)
        self.fetcher.stop(SHUTDOWN_MS)
        self.opener.stop(SHUTDOWN_MS)
        self._collector.settle()

    def cancel_load(self) -> None:
        """Stop opening the capture (nothing of it is kept)."""
        if self.loading:
            self.opener.cancel()
            self.progress_label.setText("Stopping…")

    # -- loading ------------------------------------------------------------------

    def _show_progress(self, fraction: float) -> None:
        self.progress_bar.set_fraction(fraction)
        path = self.loading_path
        self.progress_label.setText(f"Reading {path.name} · {fraction:.0%}" if path else "Reading…")
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.show()

    def _hide_progress(self) -> None:
        for widget in (self.progress_label, self.progress_bar, self.cancel_button):
            widget.hide()

    def _update_summary(self) -> None:
        document = self.document
        if document is None:
            return
        total = self.tree_model.total
        payload = int(document.rows["kept0"].sum() + document.rows["kept1"].sum()) if total else 0
        stats = document.stats
        shown = self.tree_model.rowCount()
        filtered = ""
        if self.session_filter.active:
            filtered = f" ({shown:,} shown)" if shown else " (no session matches the filter)"
            if self.session_filter.searching:
                filtered = f" ({shown:,} shown so far; searching the payload…)"
        self.summary.setText(
            f"{total:,} sessions{filtered} · {stats.tcp_packets:,} TCP packets · "
            f"{human_size(payload)} of payload · {stats.non_tcp:,} non-TCP frames skipped"
        )

    def _update_title(self) -> None:
        path = self.document.path if self.document is not None else self.loading_path
        if path is None:
            self.setWindowTitle("monoview")
            self.setWindowFilePath("")
        else:
            self.setWindowTitle(f"{path.name} — monoview")
            self.setWindowFilePath(str(path))

    def _update_enabled(self) -> None:
        a = self.actions_by_id
        has_capture = self.document is not None
        ready = has_capture and not self.loading and self.export_job is None
        a["close"].setEnabled(has_capture or self.loading)
        a["cancel_load"].setEnabled(self.loading)
        for key in ("export_monologue", "export_session", "export_all"):
            a[key].setEnabled(ready)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files
        for number, path in enumerate(files, start=1):
            action = self.recent_menu.addAction(f"&{number % 10}  {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        if not files:
            self.recent_menu.addAction("No recent captures").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("&Clear Menu", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self.welcome.set_recent([])

    # -- selection ---------------------------------------------------------------

    def select_session(self, session_id: int) -> bool:
        """Make a session current in the tree (and everywhere else)."""
        index = self.tree_model.session_index(session_id)
        if not index.isValid():
            return False
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)
        return True

    def select_monologue(self, monologue: Monologue) -> None:
        """Make a monologue current in the tree, the conversation and the detail views."""
        index = self.tree_model.monologue_index(monologue)
        if index.isValid():
            self.tree.expand(index.parent())
            self.tree.setCurrentIndex(index)
            self.tree.scrollTo(index)
        else:
            self._monologue_activated(monologue)

    def _tree_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        session_id = self.tree_model.session_id_at(current)
        if session_id is None:
            return
        if self.current_session is None or session_id != self.current_session.id:
            session = self.fetcher.fetch(session_id)
            if session is None:  # a big one: reassembled in a worker thread
                self._wanted_session = session_id
                self.conversation_title.setText(f"Session {session_id}: reassembling…")
                return
            self._show_session(session)
        monologue = self.tree_model.monologue_at(current)
        if monologue is not None:
            self.conversation.show_monologue(monologue)
        elif self.conversation.current_monologue() is None:
            first = self.conversation.conversation.monologues()[:1]
            if first:
                self._show_quietly(first[0])

    def _conversation_ready(self, session_id: int, session: TcpSession) -> None:
        """A big session's conversation arrived: its monologues in the tree; shown if still wanted."""
        self.tree_model.set_monologues(session_id, session.monologues)
        if session_id == self._wanted_session:
            self._tree_current_changed(self.tree.currentIndex(), QModelIndex())

    def _conversation_failed(self, session_id: int, message: str) -> None:
        if session_id == self._wanted_session:
            self._wanted_session = None
            self.conversation_title.setText(f"Session {session_id} could not be reassembled")
        self.message_bar.show_message(message, "error")

    def _show_reassembling(self, busy: bool) -> None:
        """Say in the status bar that a big session is being reassembled."""
        if busy:
            self.statusBar().showMessage("Reassembling the session…")
        else:
            self.statusBar().clearMessage()

    def _fetch_monologues(self, session_id: int) -> None:
        """The tree expanded a session: its monologues, now or when reassembled."""
        session = self.fetcher.fetch(session_id)
        if session is not None:
            self.tree_model.set_monologues(session_id, session.monologues)

    def _show_quietly(self, monologue: Monologue) -> None:
        """Make a monologue current in the conversation, leaving the tree's selection alone.

        Selecting a session shows its first monologue below, but the tree
        stays on the session row instead of jumping into (and expanding) it.
        """
        self._tree_follows = False
        try:
            self.conversation.show_monologue(monologue)
        finally:
            self._tree_follows = True

    def _show_session(self, session: TcpSession) -> None:
        self._wanted_session = None
        self.current_session = session
        self._session_blob = None
        self._find_pos = -1
        monologues = session.monologues
        self.tree_model.set_monologues(session.id, monologues)
        self.conversation.conversation.set_session(session, monologues)
        self.conversation.conversation.finish()
        self.conversation_title.setText(
            f"Session {session.id}:  client {session.client}  ⇄  server {session.server}"
        )
        self.conversation_summary.setText(self._session_summary(session))
        self.stream_spin.blockSignals(True)
        self.stream_spin.setValue(session.id - 1)
        self.stream_spin.blockSignals(False)
        if self.plots is not None:
            self.plots.show_session(session, monologues)
        self._update_detail()

    def _session_summary(self, session: TcpSession) -> str:
        """``12 client pkts, 9 server pkts, 4 turns · 1,234 bytes sent, 56,789 bytes received``
        (by the client), as Wireshark's Follow dialog sums a stream up."""
        if self.document is None:
            return ""
        client, server = self.document.packets_by_direction(session.id)
        turns = len(session.monologues)
        plural = "s" if turns != 1 else ""
        c2s, s2c = session.stream("c2s").kept, session.stream("s2c").kept
        return (
            f"{client:,} client pkts, {server:,} server pkts, {turns:,} turn{plural}"
            f"   ·   {c2s:,} bytes sent, {s2c:,} bytes received   ·   tcp.stream {session.id - 1}"
        )

    def _stream_chosen(self, stream: int) -> None:
        """The stream spin box moved: show that session (clearing a filter that hides it)."""
        if not self.select_session(stream + 1) and self.document is not None and stream < len(self.document):
            self.filter_edit.clear()
            self._apply_filter()
            self.select_session(stream + 1)

    def filter_out_stream(self) -> None:
        """Edit › Filter Out This Stream: hide the current session, as Wireshark's button does."""
        session = self.current_session
        if session is None:
            return
        term = f"!(tcp.stream == {session.id - 1})"
        old = self.filter_edit.text().strip()
        self.filter_edit.setText(f"({old}) && {term}" if old else term)
        self._apply_filter()

    def _monologue_activated(self, monologue: Monologue) -> None:
        index = self.tree_model.monologue_index(monologue)
        if self._tree_follows and index.isValid() and self.tree.currentIndex() != index:
            self.tree.expand(index.parent())
            self.tree.selectionModel().setCurrentIndex(
                index,
                self.tree.selectionModel().SelectionFlag.ClearAndSelect
                | self.tree.selectionModel().SelectionFlag.Rows,
            )
            self.tree.scrollTo(index)
        if self.scope.currentData() == "monologue":
            self._update_detail()
        if self.plots is not None:
            self.plots.mark_monologue(monologue)

    def next_monologue(self) -> None:
        """View › Next Monologue."""
        self._step_monologue(1)

    def previous_monologue(self) -> None:
        """View › Previous Monologue."""
        self._step_monologue(-1)

    def _step_monologue(self, step: int) -> None:
        monologues = self.conversation.conversation.monologues()
        if not monologues:
            return
        current = self.conversation.current_monologue()
        i = monologues.index(current) + step if current in monologues else 0
        self.conversation.show_monologue(monologues[max(0, min(i, len(monologues) - 1))])

    # -- detail views ---------------------------------------------------------

    def session_blob(self) -> Blob:
        """The whole conversation of the current session (cached until it grows)."""
        session = self.current_session
        if session is None:
            return EMPTY
        monologues = self.conversation.conversation.monologues()
        cached = self._session_blob
        if cached is None or cached[0] != session.id or cached[1] != len(monologues):
            self._session_blob = (session.id, len(monologues), session_blob(session, monologues))
        assert self._session_blob is not None
        return self._session_blob[2]

    def _update_detail(self) -> None:
        session = self.current_session
        scope = self.scope.currentData()
        if session is None:
            blob = EMPTY
        elif scope == "monologue":
            monologue = self.conversation.current_monologue()
            blob = monologue_blob(monologue) if monologue else Blob("Select a monologue")
        elif scope in ("c2s", "s2c"):
            blob = direction_blob(session, scope, self.conversation.conversation.monologues())
        else:
            blob = self.session_blob()
        self._set_blob(blob)

    def _set_blob(self, blob: Blob) -> None:
        self._blob = blob
        self._pending_text_selection = None
        self.detail_title.setText(blob.title)
        self._detail_dirty = {"hex": True, "text": True}
        self._render_visible_detail()

    def _render_visible_detail(self) -> None:
        """Only the visible tab is rendered; the other catches up when shown."""
        if self.detail_tabs.currentWidget() is self.hex and self._detail_dirty["hex"]:
            self.hex.set_blob(self._blob)
            self._detail_dirty["hex"] = False
        elif self.detail_tabs.currentWidget() is self.text and self._detail_dirty["text"]:
            self.text.set_blob(self._blob)
            self._detail_dirty["text"] = False
            start, end = self.hex.selection()
            if end > start:
                self.text.select(start, end)

    def _hex_selected(self, start: int, end: int) -> None:
        if not self._detail_dirty["text"]:
            self.text.select(start, end)

    def _text_selected(self, start: int, end: int) -> None:
        if self._detail_dirty["hex"]:
            self.hex.set_blob(self._blob)
            self._detail_dirty["hex"] = False
        self.hex.select(start, end)

    def _encoding_changed(self, encoding: str) -> None:
        self.conversation.conversation.set_encoding(encoding)
        self.settings.text_encoding = encoding

    def show_hex(self) -> None:
        """View › Hex View."""
        self.detail_tabs.setCurrentWidget(self.hex)
        self.hex.setFocus()

    def show_text(self) -> None:
        """View › Text View."""
        self.detail_tabs.setCurrentWidget(self.text)
        self.text.editor.setFocus()

    def copy_selection(self) -> None:
        """Edit › Copy: from the hex or text view, or the selected monologues as text."""
        focus = QGuiApplication.focusObject()
        if focus is self.text.editor:
            self.text.copy()
        elif focus is self.conversation or focus is self.tree:
            monologues = self.conversation.selected_monologues()
            encoding = self.text.current_encoding
            text = "\n".join(decode_text(m.data(), encoding) for m in monologues)
            if text:
                QGuiApplication.clipboard().setText(text)
        else:
            self.hex.copy()

    # -- filter ---------------------------------------------------------------

    def focus_filter(self) -> None:
        """Edit › Filter Sessions."""
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    def _show_searching(self, _searching: bool) -> None:
        """The summary line says while payload matches are still being looked for (and no
        longer once the search ended)."""
        self._update_summary()

    def _apply_filter(self) -> None:
        self.filter_edit.setStyleSheet("")
        self.filter_edit.setToolTip(FILTER_HELP)
        self.session_filter.set_text(self.filter_edit.text())

    def _filter_invalid(self, message: str) -> None:
        """Not a filter: the box turns red and says why; the last filter stays applied."""
        self.filter_edit.setStyleSheet(f"QLineEdit {{ background: {INVALID_FILTER_BG}; }}")
        self.filter_edit.setToolTip(message)
        self.statusBar().showMessage(message, 10000)

    def _keep_current_in_view(self) -> None:
        """After a sort the current row is elsewhere: scroll to it."""
        current = self.tree.currentIndex()
        if current.isValid():
            self.tree.scrollTo(current)

    @property
    def reassembling(self) -> bool:
        """The selected session's conversation is being made in a worker thread."""
        return self._wanted_session is not None

    def _filter_changed(self) -> None:
        """The shown sessions changed: keep the current one in view if it is still shown."""
        session = self.current_session
        if session is not None:
            index = self.tree_model.session_index(session.id)
            if index.isValid():
                flags = self.tree.selectionModel().SelectionFlag
                self.tree.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)
                self.tree.scrollTo(index)
        self._update_summary()

    # -- find -----------------------------------------------------------------

    def show_find(self) -> None:
        """Edit › Find: open the find bar, pre-filled with a short text selection."""
        selected = self.text.editor.textCursor().selectedText() if self.text.editor.hasFocus() else ""
        self.find_bar.open(selected if 0 < len(selected) < 80 else None)

    def find_next(self) -> None:
        """Edit › Find Next."""
        self._find_again(True)

    def find_previous(self) -> None:
        """Edit › Find Previous."""
        self._find_again(False)

    def _find_again(self, forward: bool) -> None:
        if not self.find_bar.pattern.text():
            self.show_find()
            return
        self.find_bar.show()
        self.find_bar.request(forward)

    def find_bytes(self, pattern: bytes, forward: bool = True, case_sensitive: bool = False) -> int:
        """Select the next match of ``pattern`` in the conversation; its session-blob position or -1."""
        blob = self.session_blob()
        if not blob.size:
            self.find_bar.set_status("No conversation to search", error=True)
            return -1
        start = self._find_pos + 1 if forward else (self._find_pos if self._find_pos >= 0 else blob.size)
        found = Searcher(blob.data).find(pattern, start, forward, case_sensitive)
        if found is None:
            self.find_bar.set_status("Not found", error=True)
            return -1
        position, wrapped = found
        self._find_pos = position
        span = blob.span_at(position)
        scope = self.scope.currentData()
        if scope in ("c2s", "s2c"):
            self.scope.setCurrentIndex(0)
            scope = "monologue"
        if span is not None:
            self.conversation.show_monologue(span.monologue)
        local = position - span.start if (scope == "monologue" and span is not None) else position
        self.hex.select(local, local + len(pattern))
        if not self._detail_dirty["text"]:
            self.text.select(local, local + len(pattern))
        where = f"in monologue #{span.monologue.index}" if span else ""
        self.find_bar.set_status(f"Found {where}" + (" (wrapped)" if wrapped else ""))
        return position

    # -- plots ----------------------------------------------------------------

    def toggle_plots(self) -> None:
        """View › Plots."""
        self.plots_dock.setVisible(not self.plots_dock.isVisible())

    def _plots_visibility(self, visible: bool) -> None:
        if visible and self.plots is None:
            from monoview.gui.views.plots import PlotsView  # pyqtgraph only when wanted

            self.plots = PlotsView(self.plots_dock)
            self.plots_dock.setWidget(self.plots)
            self.resizeDocks([self.plots_dock], [max(220, self.height() // 3)], Qt.Orientation.Vertical)
            self.plots.session_clicked.connect(self.select_session)
            columns = self.tree_model.columns
            self.plots.set_timeline(columns.timeline() if columns is not None else None)
            session = self.current_session
            self.plots.show_session(session, session.monologues if session else [])
            self.plots.mark_monologue(self.conversation.current_monologue())

    # -- export ---------------------------------------------------------------

    def _selected_monologues(self) -> list[Monologue]:
        chosen = self.conversation.selected_monologues()
        if chosen:
            return chosen
        picked = []
        for index in self.tree.selectionModel().selectedRows():
            monologue = self.tree_model.monologue_at(index)
            if monologue is not None:
                picked.append(monologue)
        current = self.conversation.current_monologue()
        return picked or ([current] if current else [])

    def export_monologues(self) -> None:
        """File › Export Monologue: the selected monologue(s), one file each."""
        monologues = self._selected_monologues()
        if not monologues or self.document is None:
            self.statusBar().showMessage("Select a monologue to export", 5000)
            return
        first = monologues[0]
        one = len(monologues) == 1
        summary = (
            f"Monologue #{first.index} of session {first.session.id} ({first.length:,} bytes)"
            if one
            else f"{len(monologues)} monologues of session {first.session.id}"
        )
        name = (
            f"s{first.session.id:05d}_m{first.index:05d}_{first.direction}"
            if one
            else f"s{first.session.id:05d}_monologues"
        )
        self._export(
            ExportKind.MONOLOGUES,
            summary,
            name,
            folder=not one,
            sessions=[first.session],
            monologues=monologues,
        )

    def export_session(self) -> None:
        """File › Export Session: a direction, the transcript or all files of the current session."""
        session = self.current_session
        if session is None or self.document is None:
            self.statusBar().showMessage("Select a session to export", 5000)
            return
        summary = f"Session {session.id}: {session.client} ⇄ {session.server}"
        self._export(ExportKind.SESSION, summary, f"session{session.id:05d}", folder=True, sessions=[session])

    def export_all(self) -> None:
        """File › Export All Sessions: every session into a folder with manifest.json."""
        document = self.document
        if document is None:
            return
        summary = f"All {len(document):,} sessions of {document.name}, with manifest.json"
        self._export(ExportKind.ALL, summary, f"{document.path.stem}_export", folder=True, sessions=None)

    def _export(
        self,
        kind: ExportKind,
        summary: str,
        name: str,
        folder: bool,
        sessions: list[TcpSession] | None,
        monologues: list[Monologue] | None = None,
    ) -> None:
        document = self.document
        if document is None or self.loading or self.export_job is not None:
            return
        s = self.settings
        request = export_dialog.ask_export(
            self,
            kind,
            summary,
            Path(s.export_dir),
            name,
            Format(s.export_format),
            GapPolicy(s.export_gaps),
            folder,
        )
        if request is None:
            return
        chosen_monologues = monologues or []
        if not request.force and clashes(request, document, sessions, chosen_monologues):
            if not export_dialog.confirm_overwrite(self, request.target):
                return
            request = ExportRequest(
                request.kind, request.target, request.fmt, request.gaps, request.part, True
            )
        s.export_dir = str(request.target if request.to_folder else request.target.parent)
        s.export_format = request.fmt.value
        s.export_gaps = request.gaps.value
        self._start_export(request, document, sessions, chosen_monologues)

    def _start_export(
        self,
        request: ExportRequest,
        document: CaptureDocument,
        sessions: list[TcpSession] | None,
        monologues: list[Monologue],
    ) -> None:
        dialog = QProgressDialog("Exporting…", "Cancel", 0, 0, self)
        dialog.setWindowTitle("Export")
        dialog.setMinimumDuration(400)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        relay = _ProgressRelay(self)

        def show_progress(done: int, total: int) -> None:
            dialog.setMaximum(total)
            dialog.setValue(done)

        relay.progressed.connect(show_progress)

        pool = self.opener.pool

        def work(cancelled: threading.Event) -> dict[str, Any]:
            return run_export(request, document, sessions, monologues, relay.progressed.emit, cancelled, pool)

        job = BackgroundCall(work, self)
        self.export_job = job
        dialog.canceled.connect(job.cancel)
        job.succeeded.connect(lambda result: self._export_done(result, dialog))
        job.failed.connect(lambda message: self._export_error(message, dialog))
        job.finished.connect(lambda: self._export_thread_ended(job))
        self._update_enabled()
        job.start()

    def _export_done(self, result: dict[str, Any], dialog: QProgressDialog) -> None:
        dialog.reset()
        manifest = result.get("manifest")
        if manifest is not None and not manifest["export"]["complete"]:
            self.statusBar().showMessage(f"Export cancelled; partial export in {result['target']}", 10000)
        else:
            self.statusBar().showMessage(f"Exported to {result['target']}", 10000)
        self.export_finished.emit(result)

    def _export_error(self, message: str, dialog: QProgressDialog) -> None:
        dialog.reset()
        self.export_failed.emit(message)
        show_error(self, "Export failed", message)

    def _export_thread_ended(self, job: BackgroundCall) -> None:
        if self.export_job is job:
            self.export_job = None
        job.deleteLater()
        self._update_enabled()

    # -- misc -----------------------------------------------------------------

    def show_about(self) -> None:
        """Help › About."""
        show_about(self)

    def show_shortcuts(self) -> None:
        """Help › Keyboard Shortcuts, from the action table (so it cannot go stale)."""
        show_shortcuts(self, self.shortcut_rows())

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(command, keys) for every action that has a shortcut, in menu order."""
        rows = []
        for spec in ACTIONS:
            keys = self.actions_by_id[spec.id].shortcuts()
            if keys:
                text = spec.text.replace("&", "").rstrip("…")
                rows.append(
                    (text, ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys))
                )
        return rows

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Override QWidget::dragEnterEvent: accept local files."""
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        """Override QWidget::dropEvent: open the first dropped file."""
        for url in event.mimeData().urls():
            if url.isLocalFile():
                event.acceptProposedAction()
                self.open_path(url.toLocalFile())
                return

    def closeEvent(self, event: QCloseEvent) -> None:
        """Override QWidget::closeEvent: stop the threads (bounded wait), remember the layout."""
        self.save_state()
        self._stop_work()
        if self.document is not None:
            self.document.close()
            self.document = None
        self.opener.shutdown(SHUTDOWN_MS)
        super().closeEvent(event)

    def shortcut_table(self) -> dict[str, list[QKeySequence]]:
        """Action id -> shortcuts in effect (for tests and the About box)."""
        return {key: action.shortcuts() for key, action in self.actions_by_id.items()}


class _ProgressRelay(QObject):
    """Carries progress from the export thread to the dialog (a queued signal)."""

    progressed = Signal(int, int)
