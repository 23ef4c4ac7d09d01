"""SIGTERM and SIGHUP end monoview as Ctrl-C does: its temporary files removed, quietly.

By default either signal kills the process on the spot: no ``finally`` runs,
no ``atexit`` handler, so the decompressed copy of a compressed or piped
capture (``capture.unpacked``), the index's column files of a big capture
(``capture.index``) and an export's temporary sibling files (``atomic``) stay
in ``TMPDIR`` or the output folder for good.  Raising :class:`Terminated`
from the handler instead unwinds the program as ``KeyboardInterrupt`` does,
through the same ``except BaseException`` clean-ups; the command line then
exits with 128 + the signal's number, as a shell reports a process the signal
killed.  :func:`tracked` folders are a second net: whatever an unwinding did
not reach is removed by :func:`remove_tracked` (at exit, and by the command
line's fast exit, which runs no ``atexit`` handler).
"""

from __future__ import annotations

import atexit
import signal
import threading
from contextlib import suppress
from types import FrameType
from typing import Final

# The signals that end a run quietly, besides SIGINT (Python's KeyboardInterrupt).
ENDING: Final = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(BaseException):
    """The process was asked to end (SIGTERM, SIGHUP): not an error, so not an Exception
    that an ``except Exception`` would take for one."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"ended by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def status(self) -> int:
        """The exit status a shell gives a process ended by this signal."""
        return 128 + self.signum


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Terminated(signum)


def raise_on_termination() -> None:
    """From now on SIGTERM and SIGHUP raise :class:`Terminated` in the main thread (a call
    from another thread, where Python allows no handler, does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in ENDING:
        signal.signal(signum, _raise)


def ignore_endings() -> None:
    """Ignore SIGINT, SIGTERM and SIGHUP (a program that is ending already: a second signal
    must not interrupt its clean-up with a traceback)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGINT, *ENDING):
        signal.signal(signum, signal.SIG_IGN)


# Temporary folders this process made and has not removed yet.
_TRACKED: set[str] = set()


def tracked(folder: str) -> str:
    """Note ``folder`` (a temporary folder just made) for :func:`remove_tracked`; returns it."""
    _TRACKED.add(folder)
    return folder


def untracked(folder: str) -> None:
    """``folder`` was removed (or handed on): forget it."""
    _TRACKED.discard(folder)


@atexit.register
def remove_tracked() -> None:
    """Remove every tracked folder still there."""
    if not _TRACKED:
        return
    import shutil  # every command imports this module; few leave a folder behind

    for folder in list(_TRACKED):
        with suppress(OSError):
            shutil.rmtree(folder, ignore_errors=True)
        _TRACKED.discard(folder)
