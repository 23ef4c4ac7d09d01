"""The capture the window holds: opening one, closing it, and what the window says meanwhile.

Opening reads only the file's header at once, so a wrong file is refused with
a sentence; then the document is built in the worker processes
(``CaptureOpener``) while progress and Cancel show in the status bar and the
window stays usable; a big file's beginning is listed meanwhile (provisional
rows, replaced by the whole list when it is in: ``CaptureOpener.previewed``;
their conversations wait for the whole).  The session list, the filter and the
conversations are handed the document here; what the other panes do when a capture comes and
goes, ``MainWindow`` wires to this controller's signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow

from monoview.core.display import human_size
from monoview.core.document import CaptureDocument
from monoview.core.errors import MonoviewError
from monoview.core.flows.columns import SessionColumns
from monoview.gui.collector import CapturePause
from monoview.gui.conversations import ConversationFetcher
from monoview.gui.filtering import SessionFilter
from monoview.gui.icons import sample_capture
from monoview.gui.loading import CaptureOpener, check_capture
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.settings import Settings
from monoview.gui.views.messagebar import MessageBar
from monoview.gui.views.welcome import WelcomePage
from monoview.gui.window.pages import PageStack
from monoview.gui.window.panes import StatusLine

CAPTURE_FILTER: Final = "Captures (*.pcap *.pcapng *.cap *.dmp *.pcap.* *.pcapng.*);;All files (*)"
# How long stopping waits for a thread (an export, a search, an open) before going on.
SHUTDOWN_MS: Final = 5000


class CaptureController(QObject):
    """Opens and closes captures for the window; ``document`` is the one open (None: none).

    Signals:
        stopping(): whatever else reads the current capture (an export) must stop now:
            another opens, this one closes or the window does.
        dropped(): the current capture is being let go: the views forget it.
        opened(object): a capture's document (CaptureDocument) is listed and its problems
            are said: show it.
        finished(): an open ended: read, cancelled or failed.
        state_changed(): a capture came or went, or an open began or ended.
    """

    stopping = Signal()
    dropped = Signal()
    opened = Signal(object)
    finished = Signal()
    state_changed = Signal()

    def __init__(
        self,
        window: QMainWindow,
        *,
        opener: CaptureOpener,
        model: SessionListModel,
        session_filter: SessionFilter,
        fetcher: ConversationFetcher,
        status: StatusLine,
        message_bar: MessageBar,
        pages: PageStack,
        welcome: WelcomePage,
        settings: Settings,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._opener = opener
        self._model = model
        self._session_filter = session_filter
        self._fetcher = fetcher
        self._status = status
        self._message_bar = message_bar
        self._pages = pages
        self._welcome = welcome
        self._settings = settings
        self.document: CaptureDocument | None = None
        self.loading = False
        self.loading_path: Path | None = None
        # The document of the beginning of the capture being read, listed until the whole is in.
        self.preview: CaptureDocument | None = None
        self._collector = CapturePause()
        opener.progressed.connect(self._show_progress)
        opener.previewed.connect(self._previewed)
        opener.opened.connect(self._opened)
        opener.failed.connect(self._open_stopped)
        opener.cancelled.connect(self._open_cancelled)
        status.cancel_button.clicked.connect(self.cancel_load)

    # -- opening ----------------------------------------------------------------

    def open_dialog(self) -> None:
        """File › Open: pick a capture, or several files that are one capture (a rotated set)."""
        recent = self._settings.recent_files
        start = recent[0] if recent else str(Path.home())
        paths, _ = QFileDialog.getOpenFileNames(
            self._window, "Open Capture", str(Path(start).parent), CAPTURE_FILTER
        )
        if paths:
            self.open_paths(paths)

    def open_folder_dialog(self) -> None:
        """File › Open Folder: every capture file in a folder, as one capture."""
        recent = self._settings.recent_files
        start = recent[0] if recent else str(Path.home())
        folder = QFileDialog.getExistingDirectory(
            self._window, "Open a Folder of Captures", str(Path(start).parent)
        )
        if folder:
            self.open_path(folder)

    def open_sample(self) -> None:
        """Open the bundled sample capture."""
        sample = sample_capture()
        if sample is None:
            self._message_bar.show_message("The sample capture is not installed with this copy of monoview.")
            return
        self.open_path(sample)

    def open_path(self, path: str | Path) -> bool:
        """Start opening ``path`` (a capture file, or a folder of them); False (with the reason
        shown) if it is no capture."""
        return self.open_paths([path])

    def open_paths(self, paths: Sequence[str | Path]) -> bool:
        """Start opening ``paths`` as one capture (several files: a set, ordered by their first
        packet's time); False (with the reason shown) if one is no capture."""
        chosen = [Path(p) for p in paths]
        for path in chosen:
            try:
                if not path.is_dir():
                    check_capture(path)
            except MonoviewError as exc:
                self._refuse(path, str(exc))
                return False
            except OSError as exc:
                self._refuse(path, f"{path.name} cannot be read: {exc.strerror or exc}.")
                return False
        self.stop_work()
        self._drop()
        path = chosen[0]
        self.loading_path = path
        if len(chosen) == 1:  # a set is not one entry to open again
            self._settings.add_recent_file(path)
            self._welcome.set_recent(self._settings.recent_files)
        self._message_bar.hide()
        self._pages.show_capture()
        self.loading = True
        more = (
            f" and {len(chosen) - 1} more file" + ("s" if len(chosen) > 2 else "") if len(chosen) > 1 else ""
        )
        self._status.summary.setText(f"Reading {path.name}{more}…")
        self._show_progress(0.0)
        self.update_title()
        self.state_changed.emit()
        self._collector.pause()
        self._opener.open(chosen[0] if len(chosen) == 1 else chosen)
        return True

    def cancel_load(self) -> None:
        """Stop opening the capture (nothing of it is kept)."""
        if self.loading:
            self._opener.cancel()
            self._status.progress_label.setText("Stopping…")

    def _refuse(self, path: Path, message: str) -> None:
        self._message_bar.show_message(message if message.endswith(".") else message + ".", "error")
        self._window.statusBar().showMessage(f"Could not open {path.name}", 8000)

    def _previewed(self, beginning: CaptureDocument) -> None:
        """The beginning of the capture is read: list its sessions until the whole list comes
        (not under a filter kept from the last capture: the filter applies to the whole)."""
        if not self.loading or self._session_filter.text.strip():
            beginning.close()
            return
        self._drop_preview()
        self.preview = beginning
        prefix = human_size(beginning.prefix or 0)
        self._status.summary.setText(
            f"Still reading: {len(beginning):,} sessions so far, from the first {prefix} "
            "(provisional: the last ones may still grow)"
        )
        self._model.set_columns(SessionColumns(beginning.rows, beginning.flows))

    def _drop_preview(self) -> None:
        if self.preview is not None:
            self.preview.close()
            self.preview = None

    def _opened(self, document: CaptureDocument) -> None:
        """The document is built: list its sessions, say what went wrong, show it."""
        self._drop_preview()
        self.loading = False
        self.loading_path = None
        self.document = document
        self._model.set_columns(SessionColumns(document.rows, document.flows))
        self._session_filter.set_document(document)
        self._fetcher.set_document(document)
        self._collector.settle()
        self._status.hide_progress()
        self._say_what_went_wrong(document)
        self.opened.emit(document)
        self.update_title()
        self.update_summary()
        self.state_changed.emit()
        self.finished.emit()

    def _say_what_went_wrong(self, document: CaptureDocument) -> None:
        """Damage, warnings, or no TCP at all: the message bar says so (no dialog to click away)."""
        n = len(document)
        stats = document.stats
        if document.read_error:
            kept = "The session read before the damage is"
            if n != 1:
                kept = f"The {n:,} sessions read before it are"
            message = f"{document.read_error}. {kept} shown and can be exported."
            self._message_bar.show_message(message, "error")
        elif stats.warnings():
            self._message_bar.show_message("; ".join(stats.warnings()) + ".", "warning")
        elif n == 0:
            self._message_bar.show_message("This capture holds no TCP session.", "info")

    def _open_stopped(self, message: str) -> None:
        """Opening failed half-way (the file went away, an internal error): back to the start."""
        path = self.loading_path
        self._end_loading()
        self._message_bar.show_message(message, "error")
        if path is not None:
            self._window.statusBar().showMessage(f"Could not open {path.name}", 8000)
        self.finished.emit()

    def _open_cancelled(self) -> None:
        path = self.loading_path
        self._end_loading()
        name = path.name if path is not None else "the capture"
        self._message_bar.show_message(f"Opening {name} was cancelled.", "info")
        self.finished.emit()

    def _end_loading(self) -> None:
        self._drop_preview()
        self._model.clear()
        self.loading = False
        self.loading_path = None
        self._collector.settle()
        self._status.hide_progress()
        self._pages.show_welcome()
        self._status.summary.setText("No capture open")
        self.update_title()
        self.state_changed.emit()

    # -- closing ----------------------------------------------------------------

    def close_capture(self) -> None:
        """File › Close: back to the welcome page."""
        self.stop_work()
        self._drop()
        self.loading = False
        self.loading_path = None
        self._status.hide_progress()
        self._message_bar.hide()
        self._pages.show_welcome()
        self._status.summary.setText("No capture open")
        self.update_title()
        self.state_changed.emit()

    def stop_work(self) -> None:
        """Stop whatever reads the current capture: an export, a payload search, reassembly,
        an open under way."""
        self.stopping.emit()
        self._session_filter.stop_search(SHUTDOWN_MS)
        self._fetcher.stop(SHUTDOWN_MS)
        self._opener.stop(SHUTDOWN_MS)
        self._collector.settle()

    def shut_down(self) -> None:
        """The window closes: stop the work, close the document, end the worker processes."""
        self.stop_work()
        if self.document is not None:
            self.document.close()
            self.document = None
        self._fetcher.shutdown(SHUTDOWN_MS)
        self._opener.shutdown(SHUTDOWN_MS)

    def _drop(self) -> None:
        """Let go of the current capture everywhere (its work is already stopped)."""
        self.dropped.emit()
        self._drop_preview()
        self._session_filter.set_document(None)
        self._fetcher.set_document(None)
        self._model.clear()
        if self.document is not None:
            self.document.close()
            self.document = None
        QTimer.singleShot(0, self._collector.release)

    # -- what the window says -----------------------------------------------------

    def _show_progress(self, fraction: float) -> None:
        path = self.loading_path
        self._status.show_progress(fraction, f"Reading {path.name} · {fraction:.0%}" if path else "Reading…")

    def update_summary(self) -> None:
        """The status bar's line: sessions (shown of them), packets, payload, what was skipped."""
        document = self.document
        if document is None:
            return
        total = self._model.total
        payload = int(document.rows["kept0"].sum() + document.rows["kept1"].sum()) if total else 0
        stats = document.stats
        shown = self._model.rowCount()
        filtered = ""
        if self._session_filter.active:
            filtered = f" ({shown:,} shown)" if shown else " (no session matches the filter)"
            if self._session_filter.searching:
                filtered = f" ({shown:,} shown so far; searching the payload…)"
        self._status.summary.setText(
            f"{total:,} sessions{filtered} · {stats.tcp_packets:,} TCP packets · "
            f"{human_size(payload)} of payload · {stats.non_tcp:,} non-TCP frames skipped"
        )

    def update_title(self) -> None:
        """The window's title names the capture open or being opened."""
        path = self.document.path if self.document is not None else self.loading_path
        if path is None:
            self._window.setWindowTitle("monoview")
            self._window.setWindowFilePath("")
        else:
            name = self.document.name if self.document is not None else path.name
            self._window.setWindowTitle(f"{name} — monoview")
            self._window.setWindowFilePath(str(path))
