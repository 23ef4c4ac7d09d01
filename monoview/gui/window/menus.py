"""Menus, the toolbar and the shortcut list, all from the one action table (``gui/actions.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from monoview.gui.actions import ACTIONS, MENUS
from monoview.gui.settings import Settings


class RecentMenu(QMenu):
    """File › Open Recent: the captures opened last, filled afresh each time it opens.

    Signals:
        open_requested(str): this capture was chosen.
        cleared(): the list was emptied (Clear Menu).
    """

    open_requested = Signal(str)
    cleared = Signal()

    def __init__(self, settings: Settings, parent: QWidget) -> None:
        super().__init__("Open &Recent", parent)
        self.setObjectName("recent_menu")
        self._settings = settings
        self.aboutToShow.connect(self.fill)
        self.fill()

    def fill(self) -> None:
        """One entry per recent capture, numbered for the keyboard."""
        self.clear()
        files = self._settings.recent_files
        for number, path in enumerate(files, start=1):
            action = self.addAction(f"&{number % 10}  {Path(path).name}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_requested.emit(p))
        if not files:
            self.addAction("No recent captures").setEnabled(False)
        else:
            self.addSeparator()
            self.addAction("&Clear Menu", self._clear)

    def _clear(self) -> None:
        self._settings.clear_recent_files()
        self.cleared.emit()


def build_menus(window: QMainWindow, actions: Mapping[str, QAction], recent: QMenu) -> None:
    """The menu bar in table order; Open Recent follows Open."""
    menus = {name: window.menuBar().addMenu(name) for name in MENUS}
    for spec in ACTIONS:
        menu = menus[spec.menu]
        if spec.separator_before:
            menu.addSeparator()
        menu.addAction(actions[spec.id])
        if spec.id == "open":
            menu.addMenu(recent)


def build_toolbar(window: QMainWindow, actions: Mapping[str, QAction]) -> QToolBar:
    """The main toolbar: the table's ``toolbar`` actions, text beside their icons."""
    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("main_toolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for spec in ACTIONS:
        if spec.toolbar:
            toolbar.addAction(actions[spec.id])
    window.addToolBar(toolbar)
    return toolbar


# Keys Qt binds to standard commands that few keyboards have (Sun's and multimedia keyboards'
# Open, Copy, Find, Save, Help keys: Qt.Key_Back and above, and Key_Help): they stay bound, but
# "Open" or "Shift+Save" in the shortcut list reads as a key nobody can find.
_FIRST_SPECIAL_KEY: Final = Qt.Key.Key_Back.value


def typeable(sequence: QKeySequence) -> bool:
    """Whether every key of ``sequence`` is on an ordinary keyboard."""
    combinations: Any = sequence  # PySide6's stubs lack QKeySequence's indexing
    keys = [combinations[i].key() for i in range(sequence.count())]
    return all(key.value < _FIRST_SPECIAL_KEY and key != Qt.Key.Key_Help for key in keys)


def shortcut_rows(actions: Mapping[str, QAction]) -> list[tuple[str, str]]:
    """(command, keys) for every action that has a shortcut, in menu order (the keys an
    ordinary keyboard has: ``typeable``)."""
    rows = []
    for spec in ACTIONS:
        keys = [k for k in actions[spec.id].shortcuts() if typeable(k)]
        if keys:
            text = spec.text.replace("&", "").rstrip("…")
            rows.append((text, ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)))
    return rows


# Nothing to find, plot, save or go to without a capture.
CAPTURE_ACTIONS: Final = (
    "find", "find_next", "find_previous", "toggle_plots", "save_bytes_as", "go_to_frame", "filter_out_stream",
)  # fmt: skip
EXPORT_ACTIONS: Final = (
    "export_monologue", "export_session", "export_all", "export_packets", "export_http_objects",
)  # fmt: skip


def enable_actions(actions: dict[str, QAction], has_capture: bool, loading: bool, exporting: bool) -> None:
    """Close needs a capture (or one opening), Stop Loading an open under way, the capture's
    commands a capture, exports a capture at rest."""
    actions["close"].setEnabled(has_capture or loading)
    actions["cancel_load"].setEnabled(loading)
    for key in CAPTURE_ACTIONS:
        actions[key].setEnabled(has_capture and not loading)
    for key in EXPORT_ACTIONS:
        actions[key].setEnabled(has_capture and not loading and not exporting)
