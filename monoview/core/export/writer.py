"""Writing exported files: through a temporary name, renamed into place.

An interrupted export never leaves half a file under its final name; the
temporary names say what they are (``.NAME.PID.monoview-part``).  Files are
created with the user's umask, and nothing is synced file by file (the
exporter can sync once at the end).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from typing import IO, Final

from monoview.core.errors import ExportError
from monoview.core.streambytes import Chunk

PART_SUFFIX: Final = ".monoview-part"
BLOCK: Final = 1 << 20  # bytes gathered before each write
IOV_MAX: Final = 1024  # buffers per writev (the POSIX minimum is 16; Linux and macOS allow 1024)


@dataclass
class WrittenFile:
    """A file the export wrote: its path relative to the output folder, size and hash."""

    path: str
    length: int
    sha256: str


class AtomicWriter:
    """Write a file through a temporary sibling and ``os.replace`` it into place."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        relative: str,
        force: bool,
        *,
        checked: bool = False,
        made: set[str] | None = None,
    ) -> None:
        """``checked``: the caller refused existing targets already; ``made``: folders known
        to exist (updated here), so a folder is created once, not once per file.

        Paths are plain strings: with tens of thousands of files, ``pathlib``
        costs as much as the writing.
        """
        self.root = os.fspath(root)
        self.relative = relative
        self.target = os.path.join(self.root, relative)
        if not checked and not force and os.path.exists(self.target):
            raise ExportError(f"{self.target} exists; use --force to overwrite it")
        self.parent, self.name = os.path.split(self.target)
        if made is None or self.parent not in made:
            os.makedirs(self.parent, exist_ok=True)
            if made is not None:
                made.add(self.parent)

    def write(self, chunks: Iterable[Chunk]) -> WrittenFile:
        """Write all chunks, hashing them; return what was written.

        Chunks (a segment's payload each, often, as views into the capture)
        go to the file a batch at a time with ``writev``: copied once, by the
        kernel, and one system call per MiB or so.
        """
        digest = hashlib.sha256()
        length = 0
        tmp = os.path.join(self.parent, f".{self.name}.{os.getpid()}{PART_SUFFIX}")
        # 0o666 and O_EXCL: the user's umask applies, and nothing there is followed or reused.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666)
        try:
            try:
                pending: list[Chunk] = []
                size = 0
                for chunk in chunks:
                    if not chunk:
                        continue
                    digest.update(chunk)
                    pending.append(chunk)
                    size += len(chunk)
                    if size >= BLOCK or len(pending) >= IOV_MAX:
                        _write_all(fd, pending)
                        length += size
                        pending, size = [], 0
                if pending:
                    _write_all(fd, pending)
                    length += size
            finally:
                os.close(fd)
            os.replace(tmp, self.target)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return WrittenFile(self.relative, length, digest.hexdigest())


def _write_all(fd: int, chunks: list[Chunk]) -> None:
    """``writev`` until every byte of ``chunks`` is written (a write may be partial)."""
    first = 0
    while first < len(chunks):
        written = os.writev(fd, chunks[first:] if first else chunks)
        while first < len(chunks) and written >= len(chunks[first]):
            written -= len(chunks[first])
            first += 1
        if written:
            chunks[first] = memoryview(chunks[first])[written:]


def write_chunks(handle: IO[bytes], chunks: Iterable[Chunk]) -> int:
    """Write chunks to an open binary stream (stdout for ``follow``); return the byte count."""
    total = 0
    for chunk in chunks:
        handle.write(chunk)
        total += len(chunk)
    return total
