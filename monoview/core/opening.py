"""A window's capture document built in a thread, Qt-free: so that it can start before Qt is
imported, and be handed to the window once it is up.

``monoview FILE`` knows the file before it imports Qt (``cli.window``).  The
window's process then spends most of a second importing Qt and building the
window, on one core, while the document it will show could already be built by
the worker processes on the other: ``start_early`` starts that build at once,
in a thread of this process (its part of the build is waiting for workers and
merging what they send, a tenth of its CPU), and ``CaptureOpener`` (the
window's) takes it over with ``claim`` instead of starting a second one.  The
build is the same either way (``DocumentBuild.run``): the whole in the pool's
workers, with the names and stream numbers, and the flow locator the first
conversation needs; and, for a big plain file, its beginning read first by a
thread of this process, listed while the whole is read (``PREVIEW_BYTES``).
What it reports before anyone listens (how far it is, that beginning) is kept
for the listener that comes later (``DocumentBuild.listen``); a build nobody
claims is stopped and its documents closed (``DocumentBuild.discard``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Final

from monoview.core.capture.source import CaptureFile
from monoview.core.capture.unpacked import needs_copy
from monoview.core.document import CaptureDocument
from monoview.core.errors import MonoviewError
from monoview.core.executor import default_workers, lasting_pool, warm_up

# How much of a big file's beginning is listed while the whole is read (screens of rows: 156
# sessions of the 1 GB bench capture, some 50 ms of work), and how big a file must be for it.
PREVIEW_BYTES: Final = 4 << 20
PREVIEW_FROM_BYTES: Final = 4 * PREVIEW_BYTES

# How much lower than the window the worker processes run (os.nice): on a busy machine the
# window's thread is scheduled first; on a quiet one the workers have the cores to themselves.
WORKER_NICENESS: Final = 5


def previewable(path: Path | list[Path]) -> bool:
    """Whether the window lists the beginning of ``path`` before the whole: one plain file,
    big enough that the whole takes a while (a compressed one is decompressed whole first,
    a set is ordered by its files' first packets first)."""
    if isinstance(path, list) or path.is_dir() or needs_copy(path):
        return False
    try:
        return path.stat().st_size >= PREVIEW_FROM_BYTES
    except OSError:
        return False


class WindowPool:
    """A window's lasting worker processes, started by the first thread that asks for them.

    Not by the GUI thread: starting them waits for the fork server to import the core
    (half a second).  The same pool serves every capture the window opens.
    """

    def __init__(self, workers: int | None = None, niceness: int = WORKER_NICENESS) -> None:
        self.workers = default_workers() if workers is None else workers
        self._niceness = niceness
        self._pool: Executor | None = None
        self._lock = threading.Lock()

    def get(self) -> Executor:
        """The pool (started now if it was not)."""
        with self._lock:
            if self._pool is None:
                self._pool = lasting_pool(self.workers, niceness=self._niceness)
                warm_up(self._pool, self.workers)
            return self._pool

    def shutdown(self) -> None:
        """End the worker processes (without waiting for them)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


Progress = Callable[[float], None]
Previewed = Callable[[CaptureDocument], None]


class DocumentBuild:
    """The document of one capture, being built in ``pool``'s workers; for a big plain file
    (with ``previews``) its beginning too, by a thread of this process.

    ``run`` builds it in the calling thread; ``start`` in a thread of its own, whose result
    ``result`` waits for.  Setting ``cancelled`` stops it (``Cancelled`` is raised).
    """

    def __init__(
        self,
        path: Path | list[Path],
        pool: WindowPool,
        *,
        previews: bool = True,
        cancelled: threading.Event | None = None,
    ) -> None:
        self.path, self.pool, self.previews = path, pool, previews
        self.cancelled = threading.Event() if cancelled is None else cancelled
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._previewed: Previewed | None = None
        self._fraction: float | None = None  # the last progress nobody heard yet
        self._beginning: CaptureDocument | None = None  # the beginning nobody took yet
        self._discarded = False
        self._thread: threading.Thread | None = None
        self._document: CaptureDocument | None = None
        self._error: BaseException | None = None

    def matches(self, path: Path | list[Path], previews: bool) -> bool:
        """Whether this is the build an open of ``path`` (with or without a preview) asks for."""
        return previews == self.previews and _same(path, self.path)

    # -- what it reports ----------------------------------------------------------

    def listen(self, progress: Progress, previewed: Previewed) -> None:
        """From now on tell ``progress`` and ``previewed`` (a document the callee owns);
        what was reported before is told at once."""
        with self._lock:
            self._progress, self._previewed = progress, previewed
            fraction, self._fraction = self._fraction, None
            beginning, self._beginning = self._beginning, None
        if fraction is not None:
            progress(fraction)
        if beginning is not None:
            previewed(beginning)

    def _report(self, fraction: float) -> None:
        with self._lock:
            listener = self._progress
            if listener is None:
                self._fraction = fraction
        if listener is not None:
            listener(fraction)

    def _preview(self) -> None:
        try:
            cancel = self.cancelled.is_set
            beginning = CaptureDocument(self.path, workers=1, prefix=PREVIEW_BYTES, cancel=cancel)
        except Exception:  # noqa: BLE001 - cancelled, or damage: the whole build says what is wrong
            return
        with self._lock:
            listener, kept = self._previewed, False
            if listener is None and not self._discarded:
                self._beginning, kept = beginning, True
        if listener is not None:
            listener(beginning)
        elif not kept:  # discarded: nobody wants it
            beginning.close()

    # -- building -------------------------------------------------------------------

    def run(self) -> CaptureDocument:
        """Build the document here (and its beginning meanwhile, in a thread)."""
        previewing = None
        # in a thread of its own: the pool's start does not wait for it
        if self.previews and previewable(self.path):
            previewing = threading.Thread(target=self._preview, name="preview", daemon=True)
            previewing.start()
        try:
            pool = self.pool.get()
            # names: the Application and Stream columns come with the list, worked out
            # by the workers that summarise the sessions (``core.flows.shardnames``)
            document = CaptureDocument(
                self.path, executor=pool, workers=self.pool.workers, progress=self._report,
                cancel=self.cancelled.is_set, names=True,
            )  # fmt: skip
            # The first conversation needs the flow locator (a sort of the whole flow column:
            # a tenth of a second on a gigabyte): made here, not on the GUI thread at the first click.
            _ = document.locator
        finally:
            if previewing is not None:
                previewing.join()
        return document

    def start(self) -> None:
        """Run it in a thread of its own (``result`` waits for it)."""
        self._thread = threading.Thread(target=self._run_kept, name="document-build", daemon=True)
        self._thread.start()

    def _run_kept(self) -> None:
        try:
            document = self.run()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits in ``result``
            self._error = exc
            return
        with self._lock:
            kept = not self._discarded
            if kept:
                self._document = document
        if not kept:  # discarded meanwhile: nobody wants it
            document.close()

    def result(self) -> CaptureDocument:
        """The document ``start`` builds, once it is built (its error, if it failed)."""
        if self._thread is None:
            raise RuntimeError("the build was not started")
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._document is not None
        document, self._document = self._document, None
        return document

    def discard(self) -> None:
        """Nobody wants it: stop it, and close what it made or makes (in its own thread)."""
        self.cancelled.set()
        with self._lock:
            self._discarded = True
            beginning, self._beginning = self._beginning, None
            document, self._document = self._document, None
        for made in (beginning, document):
            if made is not None:
                made.close()


def _same(a: Path | list[Path], b: Path | list[Path]) -> bool:
    def absolute(p: Path | list[Path]) -> list[str]:
        return [os.path.abspath(x) for x in (p if isinstance(p, list) else [p])]

    return absolute(a) == absolute(b)


# -- the early start -------------------------------------------------------------------

_early: tuple[WindowPool, DocumentBuild] | None = None
_early_lock = threading.Lock()


def start_early(path: Path, *, previews: bool) -> bool:
    """Start the window's pool and the build of ``path``'s document now, for the window to
    ``claim`` once it is up; False (nothing started) unless ``path`` is a plain capture file
    whose header reads (a folder, a compressed file or a pipe, and a file that is no capture,
    are left to the window, which says what is wrong with it)."""
    global _early
    try:
        if path.is_dir() or needs_copy(path):
            return False
        CaptureFile.open(path).close()
    except (MonoviewError, OSError):
        return False
    pool = WindowPool()
    build = DocumentBuild(path, pool, previews=previews)
    with _early_lock:
        if _early is not None:
            return False
        _early = (pool, build)
    build.start()
    return True


def claim() -> tuple[WindowPool, DocumentBuild] | None:
    """The pool and the build ``start_early`` started, once (None: none, or claimed already)."""
    global _early
    with _early_lock:
        early, _early = _early, None
    return early


__all__ = [
    "PREVIEW_BYTES", "PREVIEW_FROM_BYTES", "WORKER_NICENESS", "DocumentBuild", "WindowPool",
    "claim", "previewable", "start_early",
]  # fmt: skip
