"""Work that must not run on the GUI thread: opening a capture, reassembling a big session,
writing an export, searching payload.

Each job is a QObject moved to its own QThread; the heavy part of most of
them runs in the core's worker processes, and the thread only waits for it.
Results travel to the GUI thread through queued ``Signal(object)`` emissions;
cancellation is a plain flag the job polls (the core checks it as it goes).  The thread's
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

from monoview.core.errors import MonoviewError


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
        except (MonoviewError, OSError) as exc:  # a sentence for the user
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: say so, and leave its traceback for the report
            traceback.print_exc()
            self.failed.emit(f"An internal error stopped the work: {exc}")
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

        Not a lower one: on Linux ``IdlePriority`` means SCHED_IDLE, and a job
        starved by other processes while it holds the GIL freezes the GUI
        thread waiting for that GIL (measured: 1.3 s gaps with two busy
        processes on two cores).
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


class BackgroundCall(_ThreadHost):
    """Runs ``work(cancelled)`` in a worker thread (``cancelled``: a new event, or the one
    given, when the work runs elsewhere already and stops on that one).

    Signals:
        succeeded(object): the return value of ``work``.
        failed(str): the message of the exception ``work`` raised.
        finished(): the worker thread has ended.
    """

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        work: Callable[[threading.Event], Any],
        parent: QObject | None = None,
        cancelled: threading.Event | None = None,
    ) -> None:
        cancelled = threading.Event() if cancelled is None else cancelled
        job = _CallJob(lambda: work(cancelled))
        super().__init__(job, cancelled, parent)
        job.succeeded.connect(self.succeeded)
        job.failed.connect(self.failed)
