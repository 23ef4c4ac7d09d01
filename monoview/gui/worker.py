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
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from monoview.core.analyse import Analysis, Batch

BREATHE_EVERY_S = 0.002
BREATHE_FOR_S = 0.0002
BREATHE_LONG_S = 0.003
GUI_LATE_S = 0.025
HEARTBEAT_MS = 10


class Breather:
    """Hands the GIL to the GUI thread every couple of milliseconds of reading.

    The reader is pure Python and holds the GIL; the GUI thread needs it for
    every call from Qt into Python (each ``data()``, each paint), and CPython
    makes a waiting thread wait a whole switch interval (5 ms) before it forces
    a hand-over.  Hundreds of such calls per repaint then add up to a frozen
    window.  A short sleep every couple of milliseconds releases the GIL voluntarily, so
    the GUI thread gets it at once.  When the machine is busy the GUI thread
    may still miss those short windows; its heartbeat (``gui_seen``, set by a
    timer on the GUI thread) then goes stale and the reader pauses longer.
    The reader pays for it: loading takes about twice as long as without it
    (measured on a 63 MB capture: 0.30 s without, 0.67 s with, while the worst
    wait between 10 ms GUI ticks drops from 136 ms to 46 ms).
    """

    def __init__(self) -> None:
        self._last = time.perf_counter()
        self.gui_seen = self._last

    def heartbeat(self) -> None:
        """Called on the GUI thread: it is getting its turn."""
        self.gui_seen = time.perf_counter()

    def tick(self) -> None:
        """Called by the reader every 32 frames: maybe pause."""
        now = time.perf_counter()
        if now - self._last >= BREATHE_EVERY_S:
            starving = now - self.gui_seen > GUI_LATE_S
            time.sleep(BREATHE_LONG_S if starving else BREATHE_FOR_S)
            self._last = time.perf_counter()


class _LoadJob(QObject):
    """Runs ``Analysis.run`` in the worker thread, one signal per batch."""

    batch_ready = Signal(object)  # Batch
    failed = Signal(str)
    done = Signal()

    def __init__(self, analysis: Analysis, cancelled: threading.Event, breather: Breather | None) -> None:
        super().__init__()
        self._analysis: Analysis | None = analysis
        self._cancelled = cancelled
        self._tick = breather.tick if breather is not None else None

    def forget(self) -> None:
        """The run is over: drop the analysis, so that what it read can be collected."""
        self._analysis = None

    @Slot()
    def run(self) -> None:
        analysis = self._analysis
        try:
            assert analysis is not None, "a load job runs once, before it is told to forget"
            for batch in analysis.run(cancel=self._cancelled.is_set, tick=self._tick):
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
        """Start the thread (the job's ``run`` follows) at the normal priority.

        Not a lower one: on Linux ``IdlePriority`` means SCHED_IDLE, and a
        reader starved by other processes while it holds the GIL freezes the
        GUI thread waiting for that GIL (measured: 1.3 s gaps with two busy
        processes on two cores).  ``Breather`` is what keeps the GUI fed.
        """
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

    def __init__(
        self, analysis: Analysis, parent: QObject | None = None, breather: Breather | None = None
    ) -> None:
        cancelled = threading.Event()
        job = _LoadJob(analysis, cancelled, breather)
        super().__init__(job, cancelled, parent)
        self.analysis: Analysis | None = analysis
        self._load_job = job
        job.batch_ready.connect(self._relay_batch)
        job.failed.connect(self.failed)
        self._heartbeat = QTimer(self)
        self._heartbeat.setInterval(HEARTBEAT_MS)
        if breather is not None:
            self._heartbeat.timeout.connect(breather.heartbeat)
            self._thread.started.connect(self._heartbeat.start)
            self.finished.connect(self._heartbeat.stop)

    @Slot(object)
    def _relay_batch(self, batch: Batch) -> None:
        self.batch_ready.emit(batch)

    def dispose(self) -> None:
        """After a successful ``shutdown``: let go of the analysis and delete this loader.

        The loader is a child of the window, so without this every capture
        opened stayed in memory, reachable from its loader, after it was closed.
        """
        self.analysis = None
        self._load_job.forget()
        self.deleteLater()


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
