"""The window's panes: the widgets of each, made and laid out in one place.

Nothing here decides anything; the controllers beside this module act on
these widgets, and ``MainWindow`` puts the panes in its splitters.  Widgets
are made in the order the Tab key should visit them: Qt's focus chain follows
the order in which a window's widgets were created.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from monoview.core.flows.columns import Column
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.views.conversation import ConversationView
from monoview.gui.views.findbar import FindBar
from monoview.gui.views.hexview import HexView
from monoview.gui.views.progress import LazyProgressBar
from monoview.gui.views.session_tree import SessionTreeView
from monoview.gui.views.textview import TextView

# Which bytes the hex and text views show: (key, what the chooser says).
SCOPES: Final = (
    ("monologue", "Selected monologue"),
    ("c2s", "Client → server stream"),
    ("s2c", "Server → client stream"),
    ("session", "Whole conversation"),
)
FILTER_PLACEHOLDER: Final = (
    'Filter: 10.0.0.1, :443, "payload text", ip.addr == A && tcp.port == 80 … (Ctrl+L)'
)
FILTER_HELP: Final = (
    "Addresses match exactly (10.1.1.6, 10.1.0.0/16, [2001:db8::1]:443), :port or a port number,\n"
    '#id for a session, "quoted text" or a word for payload (case ignored).\n'
    "Display-filter forms: ip.addr, ip.src (client), ip.dst (server), tcp.port, tcp.srcport,\n"
    'tcp.dstport, tcp.stream, vlan.id with ==, !=, <, >; frame contains "text" (case kept);\n'
    "&& and, || or, ! not, parentheses. Terms side by side must all match."
)


def keep_width(label: QLabel) -> None:
    """Let ``label`` show a longer text without widening its pane (the text is cut instead).

    A title that grows (``Whole conversation of session 24, 19,283,644 bytes``)
    raised the right pane's minimum width, so the splitter squeezed the session
    tree: a relayout and a full repaint of the tree for choosing what the hex
    view shows, and a pane that jumps under the user's eyes.  The label still
    asks for its whole text (its size hint); it just no longer insists on it.
    """
    label.setMinimumWidth(1)


def named_splitter(
    name: str, orientation: Qt.Orientation, panes: Sequence[QWidget], stretch: Sequence[int], parent: QWidget
) -> QSplitter:
    """A named splitter (its sizes are remembered by name) holding ``panes``."""
    splitter = QSplitter(orientation, parent)
    splitter.setObjectName(name)
    for pane in panes:
        splitter.addWidget(pane)
    for i, factor in enumerate(stretch):
        splitter.setStretchFactor(i, factor)
    return splitter


class SessionsPane(QWidget):
    """The left pane: the filter box above the session list."""

    def __init__(self, model: SessionListModel, parent: QWidget) -> None:
        super().__init__(parent)
        self.tree = SessionTreeView(self)
        self.tree.setModel(model)
        self.tree.lay_out_columns()
        # The model sorts (a numpy argsort of the column): a header click is one call.
        self.tree.header().setSortIndicator(Column.ID, Qt.SortOrder.AscendingOrder)
        self.tree.setSortingEnabled(True)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("filter")
        self.filter_edit.setPlaceholderText(FILTER_PLACEHOLDER)
        self.filter_edit.setToolTip(FILTER_HELP)
        self.filter_edit.setClearButtonEnabled(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.tree, 1)


class ConversationPane(QWidget):
    """The conversation of the current session: title, stream box, summary line, monologues, find bar."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.conversation = ConversationView(self)
        self.find_bar = FindBar(self)
        self.find_bar.hide()
        self.title = QLabel("Select a session", self)
        self.title.setObjectName("conversation_title")
        self.title.setContentsMargins(6, 3, 6, 3)
        self.title.setStyleSheet("font-weight: bold;")
        keep_width(self.title)
        self.stream_spin = QSpinBox(self)
        self.stream_spin.setObjectName("stream_spin")
        self.stream_spin.setToolTip("Wireshark's tcp.stream of the shown session: step through the sessions")
        self.stream_spin.setEnabled(False)
        stream_label = QLabel("S&tream", self)
        stream_label.setBuddy(self.stream_spin)
        self.stream_spin.setMinimumWidth(self.stream_spin.fontMetrics().horizontalAdvance("0000000") + 24)
        self.summary = QLabel("", self)
        self.summary.setObjectName("conversation_summary")
        self.summary.setContentsMargins(6, 0, 6, 3)
        keep_width(self.summary)
        title_row = QHBoxLayout()
        title_row.setContentsMargins(0, 0, 6, 0)
        title_row.addWidget(self.title, 1)
        title_row.addWidget(stream_label)
        title_row.addWidget(self.stream_spin)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(title_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.conversation, 1)
        layout.addWidget(self.find_bar)


class DetailPane:
    """The hex and text views in tabs; ``scope`` in the tabs' corner says which bytes they show.

    Not a ``QTabWidget`` subclass: the views are made before their tab widget,
    so Tab reaches them before the tab bar, as it always has.  ``tabs`` is the
    widget to lay out.
    """

    def __init__(self, parent: QWidget, encoding: str) -> None:
        self.hex = HexView(parent)
        self.hex.setObjectName("hex_view")
        self.text = TextView(encoding, parent)
        self.text.setObjectName("text_view")
        self.tabs = QTabWidget(parent)
        self.tabs.setObjectName("detail_tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.hex, "&Hex")
        self.tabs.addTab(self.text, "&Text")
        self.scope = QComboBox(parent)
        self.scope.setObjectName("scope")
        for key, label in SCOPES:
            self.scope.addItem(label, key)
        self.scope.setToolTip("Which bytes the hex and text views show")
        self.title = QLabel(parent)
        self.title.setObjectName("detail_title")
        keep_width(self.title)
        corner = _Corner(parent)
        corner_layout = QHBoxLayout(corner)
        corner_layout.setContentsMargins(6, 0, 6, 0)
        corner_layout.addWidget(self.title)
        corner_layout.addSpacing(10)
        show = QLabel("&Show:", corner)
        show.setBuddy(self.scope)
        corner_layout.addWidget(show)
        corner_layout.addWidget(self.scope)
        self.tabs.setCornerWidget(corner, Qt.Corner.TopRightCorner)
        self.tabs.installEventFilter(_CornerFit(self.tabs, corner, self.tabs))


class _Corner(QWidget):
    """The tabs' corner (title, Show box), asking for no more than the tabs leave it.

    QTabWidget gives its corner widget the width the corner asks for and the
    tab bar what is left: on a narrow pane a long title left no room for the
    Hex, Text and HTTP tabs at all, and they could not be reached.  ``room``
    (set by ``_CornerFit`` before each resize is laid out) caps what it asks;
    the title is cut instead.
    """

    room = 10_000

    def sizeHint(self) -> QSize:
        """Override QWidget::sizeHint: at most ``room`` wide."""
        hint = super().sizeHint()
        return QSize(min(hint.width(), self.room), hint.height())


class _CornerFit(QObject):
    """Sets the corner's ``room`` from the tabs' width, before the tabs lay themselves out."""

    def __init__(self, tabs: QTabWidget, corner: _Corner, parent: QObject) -> None:
        super().__init__(parent)
        self._tabs, self._corner = tabs, corner

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Override QObject::eventFilter: fit the corner when the tabs are resized."""
        if event.type() == QEvent.Type.Resize:
            self._corner.room = max(60, self._tabs.width() - self._tabs.tabBar().sizeHint().width() - 12)
            self._corner.updateGeometry()
        return False


class StatusLine:
    """The status bar: the capture's summary line, and progress with Cancel while one opens."""

    def __init__(self, window: QMainWindow) -> None:
        status = window.statusBar()
        self.summary = QLabel("No capture open", window)
        self.summary.setObjectName("summary")
        status.addWidget(self.summary, 1)
        self.progress_label = QLabel(window)
        self.progress_bar = LazyProgressBar(window)
        self.progress_bar.setObjectName("load_progress")
        self.cancel_button = QPushButton("Cancel", window)
        self.cancel_button.setObjectName("cancel_load")
        self.cancel_button.setToolTip("Stop reading; keep the sessions read so far (Ctrl+.)")
        for widget in self._progress_widgets():
            status.addPermanentWidget(widget)
            widget.hide()

    def _progress_widgets(self) -> tuple[QWidget, ...]:
        return (self.progress_label, self.progress_bar, self.cancel_button)

    def show_progress(self, fraction: float, text: str) -> None:
        """Show how far an open is, with ``text`` beside the bar."""
        self.progress_bar.set_fraction(fraction)
        self.progress_label.setText(text)
        for widget in self._progress_widgets():
            widget.show()

    def hide_progress(self) -> None:
        """No open under way: the bar, its text and Cancel go."""
        for widget in self._progress_widgets():
            widget.hide()
