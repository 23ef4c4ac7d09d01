"""Work that must not run on the GUI thread: reading a capture, writing an export.

Each job is a QObject moved to its own QThread.  Results travel to the GUI
thread through queued ``Signal(object)`` emissions; cancellation is a plain
flag the job polls (the core checks it between batches).  The thread's
``quit`` is called directly from the worker thread when the job ends
(``QThread.quit`` is thread-safe), never queued to the GUI thread, so that
``shutdown()`` can wait for the thread without dead-locking on a ``quit`` that
sits behind it in the GUI event queue (research/toolchain.md §3).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from monoview.core.analyse import Analysis, Batch


class _LoadJob(QObject):
    """Runs ``Analysis.run`` in the worker thread, one signal per batch."""

    batch_ready = Signal(object)  # Batch
    failed = Signal(str)
    done = Signal()

    def __init__(self, analysis: Analysis, cancelled: threading.Event) -> None:
        super().__init__()
        self._analysis = analysis
        self._cancelled = cancelled

    @Slot()
    def run(self) -> None:
        try:
            for batch in self._analysis.run(cancel=self._cancelled.is_set):
                self.batch_ready.emit(batch)
        except Exception as exc:  # an unexpected bug must not kill the thread silently
            traceback.print_exc()
            self.failed.emit(f"Reading stopped because of an internal error: {exc}")
        finally:
            self.done.emit()


class _CallJob(QObject):
    """Runs one callable in the worker thread; reports its result or error message."""

    succeeded = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__()
        self._work = work

    @Slot()
    def run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:
            self.failed.emit(str(exc))
        else:
            self.succeeded.emit(result)
        finally:
            self.done.emit()


class _ThreadHost(QObject):
    """Owns a QThread and the job living in it; cancel and shutdown are shared."""

    finished = Signal()

    def __init__(self, job: QObject, cancelled: threading.Event, parent: QObject | None) -> None:
        super().__init__(parent)
        self.cancelled = cancelled
        self._thread = QThread(self)
        self._thread.setObjectName(type(job).__name__)
        self._job = job
        job.moveToThread(self._thread)
        self._thread.started.connect(job.run)  # type: ignore[attr-defined]
        # Direct: quit() runs in the worker thread as soon as the job ends.
        job.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)  # type: ignore[attr-defined]
        self._thread.finished.connect(self.finished)

    def start(self) -> None:
        """Start the thread (the job's ``run`` follows)."""
        self._thread.start()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self.cancelled.set()

    @property
    def running(self) -> bool:
        """True until the thread has ended."""
        return self._thread.isRunning()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel, stop the thread and wait for it at most ``timeout_ms``; True if it ended."""
        self.cancel()
        self._thread.quit()
        return self._thread.wait(timeout_ms)


class CaptureLoader(_ThreadHost):
    """Reads an opened Analysis in a worker thread.

    Signals:
        batch_ready(Batch): sessions and monologues found since the last batch
            (the last one has ``done`` set, and ``error`` for a damaged file).
        failed(str): an unexpected error ended the reading.
        finished(): the worker thread has ended.
    """

    batch_ready = Signal(object)
    failed = Signal(str)

    def __init__(self, analysis: Analysis, parent: QObject | None = None) -> None:
        cancelled = threading.Event()
        job = _LoadJob(analysis, cancelled)
        super().__init__(job, cancelled, parent)
        self.analysis = analysis
        job.batch_ready.connect(self._relay_batch)
        job.failed.connect(self.failed)

    @Slot(object)
    def _relay_batch(self, batch: Batch) -> None:
        self.batch_ready.emit(batch)


class BackgroundCall(_ThreadHost):
    """Runs ``work(cancelled)`` in a worker thread (exports).

    Signals:
        succeeded(object): the return value of ``work``.
        failed(str): the message of the exception ``work`` raised.
        finished(): the worker thread has ended.
    """

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[threading.Event], Any], parent: QObject | None = None) -> None:
        cancelled = threading.Event()
        job = _CallJob(lambda: work(cancelled))
        super().__init__(job, cancelled, parent)
        job.succeeded.connect(self.succeeded)
        job.failed.connect(self.failed)
