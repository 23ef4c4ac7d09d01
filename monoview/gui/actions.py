"""The single table of every menu command: id, text, shortcut, slot, toolbar icon.

The main window builds its menus, toolbar and context menus from this table,
and a test checks that no two actions share a shortcut.  Standard keys (Open,
Quit, Find, Copy) follow the platform's conventions through
``QKeySequence.StandardKey``; the rest are spelled out.  Icons are the style's
standard pixmaps, so they match the platform too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QApplication, QStyle, QWidget

StandardKey = QKeySequence.StandardKey
Pixmap = QStyle.StandardPixmap


@dataclass(frozen=True)
class ActionSpec:
    """One command: where it shows, what it says, which key triggers it, which slot runs.

    ``toolbar`` puts it on the main toolbar too; ``icon`` is the style's picture for it
    (shown in the toolbar and beside the menu entry).
    """

    id: str
    menu: str
    text: str
    slot: str
    shortcut: StandardKey | str | None = None
    tip: str = ""
    toolbar: bool = False
    separator_before: bool = False
    icon: QStyle.StandardPixmap | None = None

    def key_sequences(self) -> list[QKeySequence]:
        """The concrete key sequences of this action on this platform."""
        if self.shortcut is None:
            return []
        if isinstance(self.shortcut, str):
            return [QKeySequence(self.shortcut)]
        return list(QKeySequence.keyBindings(self.shortcut))


MENUS = ("&File", "&Edit", "&View", "&Help")

ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "open",
        "&File",
        "&Open…",
        "open_dialog",
        StandardKey.Open,
        "Open a capture file",
        toolbar=True,
        icon=Pixmap.SP_DialogOpenButton,
    ),
    ActionSpec(
        "open_folder",
        "&File",
        "Open &Folder…",
        "open_folder_dialog",
        None,
        "Open every capture in a folder (a rotated set) as one capture",
    ),
    ActionSpec(
        "open_sample",
        "&File",
        "Open &Sample Capture",
        "open_sample",
        None,
        "Open the HTTP capture that ships with monoview",
    ),
    ActionSpec("close", "&File", "&Close Capture", "close_capture", StandardKey.Close, "Close the capture"),
    ActionSpec(
        "export_monologue",
        "&File",
        "Export &Monologue…",
        "export_monologues",
        "Ctrl+E",
        "Write the selected monologue(s) to files",
        toolbar=True,
        separator_before=True,
        icon=Pixmap.SP_DialogSaveButton,
    ),
    ActionSpec(
        "export_session",
        "&File",
        "Export S&ession…",
        "export_session",
        "Ctrl+Shift+E",
        "Write the selected session: a direction, the transcript or all its files",
    ),
    ActionSpec(
        "export_all",
        "&File",
        "Export &All Sessions…",
        "export_all",
        "Ctrl+Alt+E",
        "Write every session into a folder with manifest.json",
    ),
    ActionSpec(
        "export_packets",
        "&File",
        "Export &Packets…",
        "export_packets",
        None,
        "Write the packets of the selected sessions, untouched, as a pcapng or pcap file",
    ),
    ActionSpec(
        "export_http_objects",
        "&File",
        "Export &HTTP Objects…",
        "export_http_objects",
        None,
        "List the capture's HTTP bodies (decoded) and save the ones chosen, as Wireshark's Export Objects",
    ),
    ActionSpec(
        "save_bytes_as",
        "&File",
        "Save Shown &Bytes As…",
        "save_bytes_as",
        StandardKey.SaveAs,
        "Write the bytes the hex and text views show: raw, or as Wireshark's Show data as formats",
    ),
    ActionSpec("quit", "&File", "&Quit", "close", "Ctrl+Q", "Quit monoview", separator_before=True),
    ActionSpec(
        "copy",
        "&Edit",
        "&Copy",
        "copy_selection",
        StandardKey.Copy,
        "Copy the selection of the hex or text view",
    ),
    ActionSpec(
        "find",
        "&Edit",
        "&Find…",
        "show_find",
        StandardKey.Find,
        "Find text or hex bytes in the conversation",
        toolbar=True,
        separator_before=True,
        icon=Pixmap.SP_FileDialogContentsView,
    ),
    ActionSpec("find_next", "&Edit", "Find &Next", "find_next", StandardKey.FindNext, "Next match"),
    ActionSpec(
        "find_previous",
        "&Edit",
        "Find &Previous",
        "find_previous",
        StandardKey.FindPrevious,
        "Previous match",
    ),
    ActionSpec(
        "go_to_frame",
        "&Edit",
        "&Go to Frame…",
        "go_to_frame",
        "Ctrl+Alt+G",
        "Show the session holding a frame, with the frame's first byte selected",
    ),
    ActionSpec(
        "filter",
        "&Edit",
        "F&ilter Sessions",
        "focus_filter",
        "Ctrl+L",
        "Filter sessions by address, port or payload text",
    ),
    ActionSpec(
        "filter_out_stream",
        "&Edit",
        "Filter &Out This Stream",
        "filter_out_stream",
        None,
        "Hide the selected session: adds !(tcp.stream == N) to the filter",
    ),
    ActionSpec(
        "cancel_load",
        "&View",
        "&Stop Loading",
        "cancel_load",
        "Ctrl+.",
        "Stop opening the capture (nothing of it is kept)",
        icon=Pixmap.SP_BrowserStop,
    ),
    ActionSpec(
        "next_monologue",
        "&View",
        "Ne&xt Monologue",
        "next_monologue",
        "Alt+Down",
        "Select the next monologue of the session",
        separator_before=True,
    ),
    ActionSpec(
        "previous_monologue",
        "&View",
        "Pre&vious Monologue",
        "previous_monologue",
        "Alt+Up",
        "Select the previous monologue of the session",
    ),
    ActionSpec(
        "show_hex", "&View", "&Hex View", "show_hex", "Ctrl+1", "Show the hex view", separator_before=True
    ),
    ActionSpec("show_text", "&View", "&Text View", "show_text", "Ctrl+2", "Show the text view"),
    ActionSpec(
        "toggle_plots",
        "&View",
        "&Plots",
        "toggle_plots",
        "Ctrl+3",
        "Show or hide the session timeline and the bytes-over-time plot",
        toolbar=True,
        icon=Pixmap.SP_FileDialogDetailedView,
    ),
    ActionSpec(
        "shortcuts",
        "&Help",
        "&Keyboard Shortcuts",
        "show_shortcuts",
        StandardKey.HelpContents,
        "Every command and its key",
    ),
    ActionSpec("about", "&Help", "&About monoview", "show_about", None, "Versions and licence"),
)


def build_actions(owner: QObject, specs: tuple[ActionSpec, ...] = ACTIONS) -> dict[str, QAction]:
    """Make a QAction per spec, parented to and connected to ``owner``'s slots.

    Icons come from ``owner``'s style when it is a widget (the window), else the application's.
    """
    style = owner.style() if isinstance(owner, QWidget) else QApplication.style()
    actions: dict[str, QAction] = {}
    for spec in specs:
        action = QAction(spec.text, owner)
        action.setObjectName(f"action_{spec.id}")
        if spec.icon is not None:
            action.setIcon(style.standardIcon(spec.icon))
        keys = spec.key_sequences()
        if keys:
            action.setShortcuts(keys)
        if spec.tip:
            action.setStatusTip(spec.tip)
            action.setToolTip(spec.tip + (f" ({keys[0].toString()})" if keys else ""))
        slot: Callable[[], object] = getattr(owner, spec.slot)
        action.triggered.connect(lambda _checked=False, slot=slot: slot())
        actions[spec.id] = action
    return actions
