"""The files a command line or a window names, made ready to be read as one capture.

Each argument is a capture file or a folder of them (a shell glob arrives as
several files).  A compressed member is read from its decompressed copy
(``unpacked.LocalCopy``), as a single compressed capture is; every member's
first packet time (read from its first record only) orders the set.
A member that is no capture at all (an empty file, as a rotation that was
stopped leaves, or a stray file in the folder) is left out and said so in
the read error, as damage is: the others are still read.  Only a set with no
capture in it at all is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from monoview.core.capture.captureset import CaptureSet, expand, ordered
from monoview.core.capture.frames import whole_file
from monoview.core.capture.source import CaptureFile
from monoview.core.capture.unpacked import LocalCopy
from monoview.core.errors import CaptureFormatError


class CaptureFiles:
    """The local files a document reads: one capture (its decompressed copy, if it needed
    one) or the members of a set, in capture order (``copies`` to close).

    ``source`` is the one file, or the set (a folder holding one capture is
    that capture); ``path`` is the file, or the set's first.  ``note`` says
    what decompressing found (compressed data that ended early) and which
    files were left out.
    """

    def __init__(
        self,
        arguments: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        cancel: Callable[[], bool] | None = None,
    ) -> None:
        self.copies: list[LocalCopy] = []
        refused: list[str] = []
        if not is_set(arguments):
            single = arguments if isinstance(arguments, (str, os.PathLike)) else arguments[0]
            self.copies.append(LocalCopy(Path(single), cancel))
            self.path = self.copies[0].path
            self.source: Path | CaptureSet = self.path
        else:
            try:
                listed = [arguments] if isinstance(arguments, (str, os.PathLike)) else arguments
                found = self._set(listed, cancel, refused)
            except BaseException:
                self.close()
                raise
            self.path = found.paths[0]
            self.source = found if len(found.paths) > 1 else self.path
        notes = [c.note for c in self.copies if c.note is not None] + refused
        self.note: str | None = ". ".join(notes) or None

    def _set(
        self,
        arguments: Iterable[str | os.PathLike[str]],
        cancel: Callable[[], bool] | None,
        refused: list[str],
    ) -> CaptureSet:
        for path in expand(arguments):
            self.copies.append(LocalCopy(path, cancel))
        kept, times = [], []
        for copy in self.copies:
            try:
                times.append(first_time(copy.path))
            except CaptureFormatError as exc:
                refused.append(f"{str(exc).rstrip('.')}; it is left out")
                continue
            kept.append(copy.path)
        if not kept:
            raise CaptureFormatError(". ".join(refused))
        return ordered(kept, times)

    def close(self) -> None:
        """Remove the decompressed copies."""
        for copy in self.copies:
            copy.close()


def first_time(path: Path) -> int | None:
    """The capture time of the first frame of ``path`` (None: it has none it can read);
    raises CaptureFormatError, with the file's name, when it is no capture."""
    capture = CaptureFile.open(path)
    try:
        walk = whole_file(capture.buffer, capture.layout, batch=16)  # the first few records only
        for batch in walk.batches():
            for record in batch.records():
                return record.ts_ns
        return None
    finally:
        capture.close()


def is_set(arguments: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> bool:
    """Whether ``arguments`` name a set: several files, or a folder."""
    if isinstance(arguments, (str, os.PathLike)):
        return Path(arguments).is_dir()
    listed = list(arguments)
    return len(listed) > 1 or (len(listed) == 1 and Path(listed[0]).is_dir())


__all__ = ["CaptureFiles", "first_time", "is_set"]
