"""What the window remembers between runs: its size and docks, the session list's columns, the
text view's encoding.  The splitters are the capture page's business (``pages.PageStack``)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow

from monoview.core.flows.columns import Column
from monoview.gui.settings import Settings
from monoview.gui.views.session_tree import SessionTreeView
from monoview.gui.views.textview import TextView
from monoview.gui.window.columns_memory import columns_json, hide_unknown_defaults, restore_columns
from monoview.gui.window.pages import PageStack


class WindowMemory:
    """Restores the window as it was last left, and remembers it when asked to.

    With ``remember`` False (screenshots, benchmarks) nothing is read or
    written: a picture must not depend on how someone last left the window.
    """

    def __init__(
        self,
        window: QMainWindow,
        settings: Settings,
        remember: bool,
        pages: PageStack,
        tree: SessionTreeView,
        text: TextView,
    ) -> None:
        self._window = window
        self._settings = settings
        self._remember = remember
        self._pages = pages
        self._tree = tree
        self._text = text

    def restore(self) -> None:
        """Geometry, docks and toolbars, the tree header; a first run gets most of the screen."""
        if not self._remember:
            return
        s, window = self._settings, self._window
        if s.geometry is not None:
            window.restoreGeometry(s.geometry)  # Qt keeps it on a visible screen
        else:
            screen = QGuiApplication.primaryScreen().availableGeometry()
            window.resize(min(1400, int(screen.width() * 0.9)), min(880, int(screen.height() * 0.9)))
        if s.window_state is not None:
            window.restoreState(s.window_state)
        header = self._tree.header()
        columns = s.session_columns
        if columns is None or not restore_columns(header, columns):
            state = s.layout("tree_header")  # what versions before the columns' JSON saved
            if state is not None:
                header.restoreState(state)
                # That state predates the outer-path column, the last one added before.
                hide_unknown_defaults(header, Column.OUTER_PATH)

    def save(self) -> None:
        """Remember geometry, docks, splitters, the tree header and the text encoding."""
        if not self._remember:
            return
        s = self._settings
        s.geometry = self._window.saveGeometry()
        s.window_state = self._window.saveState()
        self._pages.save_splitters()
        s.session_columns = columns_json(self._tree.header())
        s.text_encoding = self._text.current_encoding
        s.sync()
