"""The window's commands: the action table's slots and the window's public calls.

Each hands over to the controller that does the work (``window/*.py``), so that
``MainWindow`` only composes.  A mixin of ``MainWindow``: the attributes below are
the controllers it makes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from monoview.core.blob import Blob
from monoview.core.tcp.monologue import Monologue
from monoview.gui.window.menus import shortcut_rows

if TYPE_CHECKING:
    from monoview.gui.dialogs.http_objects import HttpObjectsDialog
    from monoview.gui.window.capture import CaptureController
    from monoview.gui.window.detail import DetailController
    from monoview.gui.window.export_flow import ExportController
    from monoview.gui.window.filter_box import FilterController
    from monoview.gui.window.finding import FindController
    from monoview.gui.window.memory import WindowMemory
    from monoview.gui.window.origin import OriginController
    from monoview.gui.window.plots_dock import PlotsDock
    from monoview.gui.window.selection import SelectionController
    from monoview.gui.window.show_as import ShowAsController


class WindowCommands:
    """The slots of the window's actions, by the names the action table gives them."""

    actions_by_id: dict[str, QAction]
    memory: WindowMemory
    capture: CaptureController
    selection: SelectionController
    detail: DetailController
    show_as: ShowAsController
    origin: OriginController
    finder: FindController
    filtering: FilterController
    plots_dock: PlotsDock
    exporter: ExportController

    def save_state(self) -> None:
        """Remember geometry, docks, splitters and the tree header."""
        self.memory.save()

    def open_dialog(self) -> None:
        """File › Open: pick a capture."""
        self.capture.open_dialog()

    def open_folder_dialog(self) -> None:
        """File › Open Folder: a folder of captures (a rotated set) as one capture."""
        self.capture.open_folder_dialog()

    def open_sample(self) -> None:
        """Open the bundled sample capture."""
        self.capture.open_sample()

    def open_path(self, path: str | Path) -> bool:
        """Start opening ``path``; False (with the reason shown) if it is no capture."""
        return self.capture.open_path(path)

    def close_capture(self) -> None:
        """File › Close: back to the welcome page."""
        self.capture.close_capture()

    def cancel_load(self) -> None:
        """View › Stop Loading: stop opening the capture (nothing of it is kept)."""
        self.capture.cancel_load()

    def select_session(self, session_id: int) -> bool:
        """Make a session current in the list (and everywhere else); False if it is not listed."""
        return self.selection.select_session(session_id)

    def select_monologue(self, monologue: Monologue) -> None:
        """Make a monologue current in the conversation and the detail views (its session in the list)."""
        self.selection.select_monologue(monologue)

    def next_monologue(self) -> None:
        """View › Next Monologue."""
        self.selection.next_monologue()

    def previous_monologue(self) -> None:
        """View › Previous Monologue."""
        self.selection.previous_monologue()

    def session_blob(self) -> Blob:
        """The whole conversation of the current session (cached until it grows)."""
        return self.detail.session_blob()

    def show_hex(self) -> None:
        """View › Hex View."""
        self.detail.show_hex()

    def show_text(self) -> None:
        """View › Text View."""
        self.detail.show_text()

    def copy_selection(self) -> None:
        """Edit › Copy: from the hex or text view, or the selected monologues as text."""
        self.detail.copy_selection()

    def save_bytes_as(self) -> None:
        """File › Save Shown Bytes As."""
        self.show_as.ask_and_save()

    def go_to_frame(self) -> None:
        """Edit › Go to Frame."""
        self.origin.ask()

    def show_find(self) -> None:
        """Edit › Find: open the find bar, pre-filled with a short text selection."""
        self.finder.show_find()

    def find_next(self) -> None:
        """Edit › Find Next."""
        self.finder.find_next()

    def find_previous(self) -> None:
        """Edit › Find Previous."""
        self.finder.find_previous()

    def find_bytes(self, pattern: bytes, forward: bool = True, case_sensitive: bool = False) -> int:
        """Select the next match of ``pattern`` in the conversation; its session-blob position or -1."""
        return self.finder.find_bytes(pattern, forward, case_sensitive)

    def focus_filter(self) -> None:
        """Edit › Filter Sessions."""
        self.filtering.focus()

    def filter_out_stream(self) -> None:
        """Edit › Filter Out This Stream: hide the current session, as Wireshark's button does."""
        session = self.selection.current_session
        if session is not None:
            self.filtering.filter_out_session(session.id)

    def toggle_plots(self) -> None:
        """View › Plots."""
        self.plots_dock.toggle()

    def export_monologues(self) -> None:
        """File › Export Monologue: the selected monologue(s), one file each."""
        self.exporter.export_monologues()

    def export_session(self) -> None:
        """File › Export Session: a direction, the transcript or all files of the current session."""
        self.exporter.export_session()

    def export_all(self) -> None:
        """File › Export All Sessions: every session into a folder with manifest.json."""
        self.exporter.export_all()

    def export_packets(self) -> None:
        """File › Export Packets: the selected sessions' packets as a capture."""
        self.exporter.export_packets()

    def export_http_objects(self) -> HttpObjectsDialog | None:
        """File › Export HTTP Objects: the capture's HTTP objects, to choose and save."""
        return self.exporter.export_http_objects()

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(command, keys) for every action that has a shortcut, in menu order."""
        return shortcut_rows(self.actions_by_id)

    def shortcut_table(self) -> dict[str, list[QKeySequence]]:
        """Action id -> shortcuts in effect (for tests and the About box)."""
        return {key: action.shortcuts() for key, action in self.actions_by_id.items()}
