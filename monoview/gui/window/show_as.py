"""Save As and Copy As for the bytes the detail pane shows, in Wireshark's Show data as formats.

Save As writes what ``monoview follow --show-as`` prints for the same
monologues (one renderer, ``core.showas``), or the bytes themselves; the file
is written by the core's atomic writer.  Copy As puts the selected bytes (all
of them without a selection) on the clipboard as raw bytes, a hex stream,
escaped text, a C array or the text view's decoding.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from PySide6.QtCore import QMimeData, QObject, QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from monoview.core.atomic import AtomicWriter
from monoview.core.blob import Blob
from monoview.core.render import decode_text, escape_text
from monoview.core.showas import ShowAs, render, turns
from monoview.core.tcp.monologue import Monologue
from monoview.gui.window.detail import DetailController

BYTES: Final = "Bytes"  # Save As the bytes themselves
SAVE_FORMATS: Final = (BYTES, *(how.value for how in ShowAs))
C_ARRAY_WIDTH: Final = 8


def c_array(data: bytes, name: str = "selection") -> str:
    """The bytes as a C array, eight to a line (Wireshark's Copy as C Array)."""
    rows = [data[i : i + C_ARRAY_WIDTH] for i in range(0, len(data), C_ARRAY_WIDTH)]
    body = ",\n".join(", ".join(f"0x{b:02x}" for b in row) for row in rows)
    return f"unsigned char {name}[{len(data)}] = {{\n{body}\n}};\n"


class ShowAsController(QObject):
    """Save As and Copy As of the detail pane's bytes; the context menu of the hex and text views."""

    def __init__(
        self, detail: DetailController, shown: Callable[[], list[Monologue]], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self._detail = detail
        self._shown = shown  # the monologues the detail pane shows, in conversation order
        self._window = parent
        for view in (detail.hex, detail.text.editor):
            view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
            view.customContextMenuRequested.connect(lambda point, v=view: self._context_menu(v, point))

    # -- Save As -------------------------------------------------------------------

    def rendered(self, how: str) -> bytes:
        """What Save As writes for format ``how`` (one of ``SAVE_FORMATS``)."""
        if how == BYTES:
            blob = self._detail.blob
            return blob.read(0, blob.size)
        session = self._detail.session
        if session is None:
            return b""
        text = render(session, turns(self._shown()), ShowAs(how))
        return text.encode("utf-8", errors="surrogateescape")

    def save_as(self, path: Path, how: str) -> Path:
        """Write the shown bytes as ``how`` to ``path`` (replacing it: the dialog asked)."""
        AtomicWriter(path.parent, path.name, force=True).write([self.rendered(how)])
        return path

    def ask_and_save(self) -> None:
        """File › Save Shown Bytes As: pick a file and a format."""
        if self._detail.session is None:
            return
        filters = ";;".join(f"{how} (*{self._suffix(how)})" for how in SAVE_FORMATS)
        name = f"session{self._detail.session.id:05d}_{self._detail.scope}"
        path, chosen = QFileDialog.getSaveFileName(self._window, "Save Shown Bytes As", name, filters)
        if path:
            how = chosen.split(" (", 1)[0] if chosen else BYTES
            target = Path(path)
            if not target.suffix:
                target = target.with_suffix(self._suffix(how))
            self.save_as(target, how)

    @staticmethod
    def _suffix(how: str) -> str:
        return ".bin" if how == BYTES else ShowAs(how).suffix

    # -- Copy As -------------------------------------------------------------------

    def selected(self) -> bytes:
        """The bytes selected in the hex view (or the text view), all of them without a selection."""
        blob: Blob = self._detail.blob
        start, end = self._detail.hex.selection()
        if end <= start:
            start, end = 0, blob.size
        return blob.read(start, end - start)

    def copies(self) -> dict[str, Callable[[bytes], str]]:
        """Copy As's choices: name -> the text for some bytes."""
        encoding = self._detail.text.current_encoding
        return {
            "…as Hex Stream": lambda data: data.hex(),
            "…as Escaped Text": escape_text,
            "…as C Array": c_array,
            "…as Text (the text view's decoding)": lambda data: decode_text(data, encoding),
        }

    def copy_as(self, name: str) -> None:
        """Put the selected bytes on the clipboard in the form ``name`` (``copies()`` or ``Bytes``)."""
        data = self.selected()
        mime = QMimeData()
        if name == BYTES:
            mime.setData("application/octet-stream", data)
            mime.setText(escape_text(data))
        else:
            mime.setText(self.copies()[name](data))
        QGuiApplication.clipboard().setMimeData(mime)

    def _copier(self, name: str) -> Callable[[], None]:
        return lambda: self.copy_as(name)

    def _context_menu(self, view: QWidget, point: QPoint) -> None:
        self.context_menu(view).exec(view.mapToGlobal(point))

    def context_menu(self, view: QWidget) -> QMenu:
        """The right-click menu of the hex and text views: Copy, Copy As, Save Shown Bytes As."""
        menu = QMenu(view)
        menu.addAction("&Copy", self._detail.copy_selection)
        copy_as = menu.addMenu("Copy &As")
        copy_as.addAction("…as Bytes", lambda: self.copy_as(BYTES))
        for name in self.copies():
            copy_as.addAction(name, self._copier(name))
        menu.addSeparator()
        menu.addAction("&Save Shown Bytes As…", self.ask_and_save)
        return menu
