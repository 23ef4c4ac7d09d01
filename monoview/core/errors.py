"""Exceptions the core raises, each carrying a sentence a user can act on.

Everything that reads a capture converts low-level failures (struct errors, dpkt
exceptions, OS errors) into one of these at the edge, so callers never have to
know which library failed.
"""

from __future__ import annotations


class MonoviewError(Exception):
    """Base class of every error monoview reports to a user."""


class CaptureFormatError(MonoviewError):
    """The file is not a capture monoview can read (empty, unknown magic, bad header)."""


class CaptureReadError(MonoviewError):
    """The capture is damaged after its start: cut off mid-packet or a corrupt record.

    Every packet before ``frame`` was read and is kept; the message names the
    file and the frame where reading stopped.
    """

    def __init__(self, message: str, frame: int, offset: int) -> None:
        super().__init__(message)
        self.frame = frame
        self.offset = offset


class ExportError(MonoviewError):
    """An export could not be written (target exists without force, I/O error)."""


class UnknownSessionError(MonoviewError):
    """A session id that the capture does not contain."""


class Cancelled(MonoviewError):
    """The user stopped the work (a window's Cancel): nothing of it is kept."""
