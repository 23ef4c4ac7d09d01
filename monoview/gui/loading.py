"""Opening captures for the window: the document is built in worker processes.

The window keeps one lasting pool of worker processes (started with the
window, so the first open does not wait for it); opening a capture indexes
and summarises it there (``CaptureDocument``), while a thread of this process
only waits for the workers and relays their progress.  The GUI thread gets
the finished document: columns to list, conversations on demand.

A big file's beginning is listed first, as Wireshark lists packets while it
reads: while the workers start and index the whole, a thread of this process
reads the first ``PREVIEW_BYTES`` on its own (``CaptureDocument(prefix=...)``,
some 50 ms on a quiet machine) and hands that document over as ``previewed``.
It is the document of the capture cut there, made by the same code: its sessions are the
whole capture's first ones with the same ids, in the same order; only a session
still going at the cut has fewer packets and bytes than it will (it grows when
the whole list replaces the preview), and sessions that begin later are not
there yet.

The build itself is Qt-free (``core.opening.DocumentBuild``), so that ``monoview FILE``
starts it before Qt is imported; the first open of that file takes it over
(``opening.claim``) instead of starting a second build.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from monoview.core import opening
from monoview.core.capture.source import CaptureFile
from monoview.core.capture.unpacked import needs_copy
from monoview.core.document import CaptureDocument
from monoview.core.opening import WORKER_NICENESS, DocumentBuild, WindowPool
from monoview.gui.worker import BackgroundCall

# Progress is relayed when it moved by at least this fraction (queued signals are not free).
PROGRESS_STEP = 0.01


def check_capture(path: Path) -> None:
    """Raise CaptureFormatError (a sentence naming the file) unless ``path`` starts as a capture.

    Only the header is read: the window refuses a wrong file at once instead of
    after a round trip through its workers.  A compressed capture or a pipe is
    decompressed by the load itself, which reports what is wrong with it.
    """
    if needs_copy(path):
        return
    CaptureFile.open(path).close()


class _Relay(QObject):
    """Carries progress from the opening thread to the GUI thread (a queued signal)."""

    progressed = Signal(float)
    previewed = Signal(object)  # (the job it belongs to, the document of the file's beginning)


class CaptureOpener(QObject):
    """Opens one capture at a time into a ``CaptureDocument``.

    Signals:
        progressed(float): how far the current open is (0..1).
        previewed(object): the document of the beginning of the capture being opened
            (``CaptureDocument`` with ``prefix``), to list until ``opened`` follows; whoever
            takes it closes it.  Sent at most once per open, only for a big plain file.
        opened(object): the document of the capture ``open`` was given.
        failed(str): the open stopped with this message (not sent after ``cancel``).
        cancelled(): the open was cancelled; nothing was kept.
    """

    progressed = Signal(float)
    previewed = Signal(object)
    opened = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None, workers: int | None = None) -> None:
        super().__init__(parent)
        # The pool and the build the command line started before Qt was imported, if any
        # (taken once, by the program's window; a window with other workers does not use them).
        early = opening.claim()
        if early is not None and workers is not None and workers != early[0].workers:
            early[1].discard()
            early[0].shutdown()
            early = None
        self._workers = WindowPool(workers, WORKER_NICENESS) if early is None else early[0]
        self._early: DocumentBuild | None = None if early is None else early[1]
        self.workers = self._workers.workers
        # Whether a big file's beginning is listed first (off for ``--screenshot``, which
        # pictures the whole list: the preview would only take a core's time from it).
        self.previews = True
        self._job: BackgroundCall | None = None
        self._relay = _Relay(self)
        self._relay.progressed.connect(self._relay_progress)
        self._relay.previewed.connect(self._relay_preview)

    @property
    def pool(self) -> Executor:
        """The window's worker processes (started on first use, by the first open's thread:
        starting the fork server waits for it to import the core, half a second the GUI
        thread must not wait)."""
        return self._workers.get()

    @property
    def busy(self) -> bool:
        """A capture is being opened."""
        return self._job is not None

    def open(self, path: Path | list[Path]) -> None:
        """Start building the document of ``path`` (several: one capture; a running open is
        stopped first).  The build started before the window for this file is taken over."""
        self.stop()
        relay, previews, early, self._early = self._relay, self.previews, self._early, None
        if early is not None and not early.matches(path, previews):
            early.discard()
            early = None
        last = [0.0]

        def report(fraction: float) -> None:
            if fraction - last[0] >= PROGRESS_STEP or fraction >= 1.0:
                last[0] = fraction
                relay.progressed.emit(fraction)

        def preview(beginning: CaptureDocument) -> None:
            relay.previewed.emit((job, beginning))

        def work(cancelled: threading.Event) -> CaptureDocument:
            if early is not None:  # under way already: its cancel flag is this job's
                early.listen(report, preview)
                return early.result()
            build = DocumentBuild(path, self._workers, previews=previews, cancelled=cancelled)
            build.listen(report, preview)
            return build.run()

        job = BackgroundCall(work, self, cancelled=None if early is None else early.cancelled)
        self._job = job
        job.succeeded.connect(lambda document: self._succeeded(job, document))
        job.failed.connect(lambda message: self._failed(job, message))
        job.finished.connect(job.deleteLater)
        job.start()

    def _relay_progress(self, fraction: float) -> None:
        if self._job is not None:
            self.progressed.emit(fraction)

    def _relay_preview(self, sent: tuple[BackgroundCall, CaptureDocument]) -> None:
        job, beginning = sent
        if job is self._job:
            self.previewed.emit(beginning)
        else:  # the open ended or was stopped meanwhile: nobody wants it
            beginning.close()

    def _succeeded(self, job: BackgroundCall, document: CaptureDocument) -> None:
        if job is not self._job:  # stopped meanwhile: nobody wants it
            document.close()
            return
        self._job = None
        self.opened.emit(document)

    def _failed(self, job: BackgroundCall, message: str) -> None:
        if job is not self._job:
            return
        self._job = None
        if job.cancelled.is_set():
            self.cancelled.emit()
        else:
            self.failed.emit(message if message.endswith(".") else message + ".")

    def cancel(self) -> None:
        """Ask the running open to stop; ``cancelled`` follows."""
        if self._job is not None:
            self._job.cancel()

    def stop(self, timeout_ms: int = 5000) -> None:
        """Stop the running open and wait for its thread (its result, if any, is dropped)."""
        job, self._job = self._job, None
        if job is not None:
            job.shutdown(timeout_ms)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Stop, and end the worker processes (the window is closing)."""
        self.stop(timeout_ms)
        early, self._early = self._early, None
        if early is not None:  # never opened
            early.discard()
        self._workers.shutdown()
