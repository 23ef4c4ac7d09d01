"""File › Export: the export dialog, then the writing in a thread with a progress dialog.

The dialog asks what to write and where (``dialogs/export.py``); existing
files are only overwritten after asking.  The writing itself runs in a
``BackgroundCall`` whose work goes to the window's worker processes
(``gui/exporting.py``), so the window stays usable and the dialog's Cancel
stops it.  The last folder, format and gap policy are remembered.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QMainWindow, QProgressDialog

from monoview.core.document import CaptureDocument
from monoview.core.streambytes import GapPolicy
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.gui.dialogs.errors import show_error
from monoview.gui.loading import CaptureOpener
from monoview.gui.models.session_list import SessionListModel
from monoview.gui.settings import Settings
from monoview.gui.views.conversation import ConversationView
from monoview.gui.window.capture import SHUTDOWN_MS, CaptureController
from monoview.gui.window.selection import SelectionController
from monoview.gui.worker import BackgroundCall

if TYPE_CHECKING:  # the export code is imported when an export is asked for: the window starts sooner
    from monoview.gui.dialogs.export import ExportKind, ExportRequest
    from monoview.gui.dialogs.http_objects import HttpObjectsDialog


class _ProgressRelay(QObject):
    """Carries progress from the export thread to the dialog (a queued signal)."""

    progressed = Signal(int, int)


class ExportController(QObject):
    """Runs one export at a time; ``job`` is the one running (None: none).

    Signals:
        finished(object): an export completed; the summary dict from ``run_export``.
        failed(str): an export stopped with this message.
        busy_changed(): an export started or ended.
    """

    finished = Signal(object)
    failed = Signal(str)
    busy_changed = Signal()

    def __init__(
        self,
        window: QMainWindow,
        *,
        capture: CaptureController,
        selection: SelectionController,
        opener: CaptureOpener,
        conversation: ConversationView,
        tree: QAbstractItemView,
        model: SessionListModel,
        settings: Settings,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._capture = capture
        self._selection = selection
        self._opener = opener
        self._conversation = conversation
        self._tree = tree
        self._model = model
        self._settings = settings
        self.job: BackgroundCall | None = None

    def stop(self) -> None:
        """Stop the running export and wait for its thread (what it wrote stays)."""
        if self.job is not None:
            self.job.shutdown(SHUTDOWN_MS)

    def export_monologues(self) -> None:
        """File › Export Monologue: the selected monologue(s), one file each."""
        monologues = self._selected_monologues()
        if not monologues or self._capture.document is None:
            self._window.statusBar().showMessage("Select a monologue to export", 5000)
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
        from monoview.gui.dialogs.export import ExportKind

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
        session = self._selection.current_session
        if session is None or self._capture.document is None:
            self._window.statusBar().showMessage("Select a session to export", 5000)
            return
        from monoview.gui.dialogs.export import ExportKind

        summary = f"Session {session.id}: {session.client} ⇄ {session.server}"
        self._export(ExportKind.SESSION, summary, f"session{session.id:05d}", folder=True, sessions=[session])

    def export_http_objects(self) -> HttpObjectsDialog | None:
        """File › Export HTTP Objects: a list of the capture's HTTP objects to save from
        (not modal, as Wireshark's; it closes with the window)."""
        document = self._capture.document
        if document is None:
            return None
        from monoview.gui.dialogs.http_objects import HttpObjectsDialog

        dialog = HttpObjectsDialog(document, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._capture.stopping.connect(dialog.close)
        dialog.show()
        return dialog

    def export_packets(self) -> None:
        """File › Export Packets: the frames of the selected sessions (else the current one),
        untouched, as a pcapng or pcap file (Wireshark's Export Specified Packets)."""
        document = self._capture.document
        chosen = self.selected_sessions()
        current = self._selection.current_session
        if not chosen and current is not None:
            chosen = [current.id]
        if document is None or not chosen:
            self._window.statusBar().showMessage("Select the sessions whose packets to export", 5000)
            return
        stem = (
            f"{document.path.stem}_s{chosen[0]:05d}"
            if len(chosen) == 1
            else f"{document.path.stem}_{len(chosen)}_sessions"
        )
        suffix = ".pcapng" if document.format == "pcapng" else ".pcap"
        path, _kind = QFileDialog.getSaveFileName(
            self._window, "Export Packets", str(Path.home() / (stem + suffix)),
            "pcapng (*.pcapng);;pcap (*.pcap);;All files (*)",
        )  # fmt: skip
        if path:
            self.write_packets(Path(path), chosen)  # the dialog asked before replacing a file

    def write_packets(self, path: Path, ids: list[int]) -> BackgroundCall | None:
        """Write the packets of sessions ``ids`` to ``path`` in the background (replacing it)."""
        document = self._capture.document
        if document is None or self.job is not None:
            return None

        from monoview.core.export.packets import write_session_packets

        def work(_cancelled: threading.Event) -> dict[str, Any]:
            wanted, written = write_session_packets(document, ids, path, force=True)
            return {"target": str(path), "packets": len(wanted.frames), "bytes": written.length}

        job = BackgroundCall(work, self)
        self.job = job
        status = self._window.statusBar()
        status.showMessage(f"Writing the packets of {len(ids)} session(s) to {path.name}…")
        job.succeeded.connect(
            lambda r: status.showMessage(
                f"Wrote {r['packets']:,} packets ({r['bytes']:,} bytes) to {r['target']}", 10000
            )
        )
        job.failed.connect(lambda message: show_error(self._window, "Export failed", message))
        job.finished.connect(lambda: self._thread_ended(job))
        self.busy_changed.emit()
        job.start()
        return job

    def export_all(self) -> None:
        """File › Export All Sessions: every session into a folder with manifest.json; with
        several sessions selected in the list, those."""
        document = self._capture.document
        if document is None:
            return
        from monoview.gui.dialogs.export import ExportKind

        chosen = self.selected_sessions()
        if len(chosen) > 1:
            summary = f"The {len(chosen):,} selected sessions of {document.name}, with manifest.json"
            name = f"{document.path.stem}_{len(chosen)}_sessions"
            self._export(ExportKind.ALL, summary, name, folder=True, sessions=chosen)
            return
        summary = f"All {len(document):,} sessions of {document.name}, with manifest.json"
        self._export(ExportKind.ALL, summary, f"{document.path.stem}_export", folder=True, sessions=None)

    def selected_sessions(self) -> list[int]:
        """Ids of the sessions selected in the list (whole rows, one or many)."""
        ids = [self._model.session_id_at(index) for index in self._tree.selectionModel().selectedRows()]
        return sorted({i for i in ids if i is not None})

    def _selected_monologues(self) -> list[Monologue]:
        """Those selected in the conversation, else its current one."""
        chosen = self._conversation.selected_monologues()
        if chosen:
            return chosen
        current = self._conversation.current_monologue()
        return [current] if current else []

    def _export(
        self,
        kind: ExportKind,
        summary: str,
        name: str,
        folder: bool,
        sessions: list[TcpSession] | list[int] | None,
        monologues: list[Monologue] | None = None,
    ) -> None:
        document = self._capture.document
        if document is None or self._capture.loading or self.job is not None:
            return
        from monoview.core.export import Format
        from monoview.gui.dialogs import export as export_dialog
        from monoview.gui.dialogs.export import ExportRequest
        from monoview.gui.exporting import clashes

        s = self._settings
        request = export_dialog.ask_export(
            self._window,
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
            if not export_dialog.confirm_overwrite(self._window, request.target):
                return
            request = ExportRequest(
                request.kind, request.target, request.fmt, request.gaps, request.part, True
            )
        # The folder the export went into, not the export's own folder: the next default
        # target is beside this export, never inside it.
        s.export_dir = str(request.target.parent)
        s.export_format = request.fmt.value
        s.export_gaps = request.gaps.value
        self._start(request, document, sessions, chosen_monologues)

    def _start(
        self,
        request: ExportRequest,
        document: CaptureDocument,
        sessions: list[TcpSession] | list[int] | None,
        monologues: list[Monologue],
    ) -> None:
        dialog = QProgressDialog("Exporting…", "Cancel", 0, 0, self._window)
        dialog.setWindowTitle("Export")
        dialog.setMinimumDuration(400)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        relay = _ProgressRelay(self)

        def show_progress(done: int, total: int) -> None:
            dialog.setMaximum(total)
            dialog.setValue(done)

        relay.progressed.connect(show_progress)
        from monoview.gui.exporting import run_export

        pool = self._opener.pool

        def work(cancelled: threading.Event) -> dict[str, Any]:
            return run_export(request, document, sessions, monologues, relay.progressed.emit, cancelled, pool)

        job = BackgroundCall(work, self)
        self.job = job
        dialog.canceled.connect(job.cancel)
        job.succeeded.connect(lambda result: self._done(result, dialog))
        job.failed.connect(lambda message: self._failed(message, dialog))
        job.finished.connect(lambda: self._thread_ended(job))
        self.busy_changed.emit()
        job.start()

    def _done(self, result: dict[str, Any], dialog: QProgressDialog) -> None:
        dialog.reset()
        manifest = result.get("manifest")
        status = self._window.statusBar()
        if manifest is not None and not manifest["export"]["complete"]:
            status.showMessage(f"Export cancelled; partial export in {result['target']}", 10000)
        else:
            status.showMessage(f"Exported to {result['target']}", 10000)
        self.finished.emit(result)

    def _failed(self, message: str, dialog: QProgressDialog) -> None:
        dialog.reset()
        self.failed.emit(message)
        show_error(self._window, "Export failed", message)

    def _thread_ended(self, job: BackgroundCall) -> None:
        if self.job is job:
            self.job = None
        job.deleteLater()
        self.busy_changed.emit()
