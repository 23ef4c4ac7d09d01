"""Manifest lines that workers write to disk as they make them, for the manifest to copy.

A worker exporting a session of 200,000 monologues, or 300,000 sessions, made
each session's manifest line as one string and sent them all back to the main
process, which held them until the manifest was written: memory grew with
the capture.  Instead a worker writes each line, piece by piece as its files are
written, to a spool file of its own in the output folder, and sends back only
where each line is.  The main process copies the lines into ``manifest.json``
in session order, a block at a time, and removes the spools.  It reads them
the way they were written: each spool opened once, and a run of short lines
that lie one after another in it read with one ``pread`` (``SpooledLines.each``);
an export of 20,000 tiny sessions opened, read and closed a spool for every
line, 60,000 system calls.

A spool is a hidden file with the atomic writer's temporary suffix, named
after its export (``spool_tag``): an export removes its own spools, and a
killed one's are removed by the next export into the folder once the process
that made them is gone.
"""

from __future__ import annotations

import itertools
import os
import secrets
from array import array
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import overload

import numpy as np
import numpy.typing as npt

from monoview.core.atomic import PART_SUFFIX

I64 = npt.NDArray[np.int64]

BLOCK = 1 << 20
SPOOL_PREFIX = ".manifest-lines."
_numbers = itertools.count()


@dataclass(frozen=True)
class SpooledLine:
    """Where a worker wrote one session's manifest line (ASCII: json.dumps escapes the rest)."""

    path: str
    offset: int
    length: int

    def blocks(self, fd: int | None = None) -> Iterator[bytes]:
        """The line, in blocks of at most ``BLOCK`` bytes (read from ``fd``, its spool opened
        already, if given)."""
        own = fd is None
        spool = _open_spool(self.path) if fd is None else fd
        try:
            done = 0
            while done < self.length:
                size = min(BLOCK, self.length - done)
                yield _read(spool, self.path, size, self.offset + done)
                done += size
        finally:
            if own:
                os.close(spool)

    def text(self) -> str:
        """The whole line (for small ones and tests)."""
        return b"".join(self.blocks()).decode("ascii")


@dataclass(frozen=True)
class SpooledLines(Sequence[SpooledLine]):
    """Where the spools hold many sessions' lines, as arrays (ascending ids once ``joined``).

    A worker of an export of 300,000 sessions sent back a tuple and a ``SpooledLine`` per
    session (some 300 bytes each in the main process, which kept them until the manifest
    was written); three numbers a session in arrays are 24 bytes.
    """

    paths: tuple[str, ...]
    ids: I64
    spool: I64  # index into ``paths``
    offsets: I64
    lengths: I64

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, k: int) -> SpooledLine: ...

    @overload
    def __getitem__(self, k: slice) -> Sequence[SpooledLine]: ...

    def __getitem__(self, k: int | slice) -> SpooledLine | Sequence[SpooledLine]:
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(len(self)))]
        return SpooledLine(self.paths[int(self.spool[k])], int(self.offsets[k]), int(self.lengths[k]))

    def each(self, window: int = 4096) -> Generator[bytes | Iterator[bytes], None, None]:
        """Every line in order: a short one as its bytes, one of ``BLOCK`` bytes or more as an
        iterator of its blocks (consume it before the next).  Each spool is opened once, and
        short lines that follow one another in a spool, up to ``BLOCK`` bytes of them, are
        read at once; ``window`` lines' positions are Python ints at a time, not all."""
        fds: dict[int, int] = {}
        try:
            for low in range(0, len(self), window):
                spools = self.spool[low : low + window].tolist()
                offsets = self.offsets[low : low + window].tolist()
                lengths = self.lengths[low : low + window].tolist()
                k, n = 0, len(spools)
                while k < n:
                    which = spools[k]
                    if which not in fds:
                        fds[which] = _open_spool(self.paths[which])
                    if lengths[k] >= BLOCK:
                        yield self[low + k].blocks(fds[which])
                        k += 1
                        continue
                    stop, end = k + 1, offsets[k] + lengths[k]
                    while (
                        stop < n and spools[stop] == which and offsets[stop] == end
                        and end + lengths[stop] - offsets[k] <= BLOCK
                    ):  # fmt: skip
                        end += lengths[stop]
                        stop += 1
                    data = _read(fds[which], self.paths[which], end - offsets[k], offsets[k])
                    at = 0
                    for length in lengths[k:stop]:
                        yield data[at : at + length]
                        at += length
                    k = stop
        finally:
            for fd in fds.values():
                os.close(fd)

    @classmethod
    def joined(cls, parts: Sequence[SpooledLines]) -> SpooledLines:
        """The lines of every part, by ascending session id."""
        paths = tuple(path for part in parts for path in part.paths)
        bases = np.cumsum([0] + [len(part.paths) for part in parts])
        ids = np.concatenate([part.ids for part in parts] or [np.zeros(0, dtype=np.int64)])
        order = np.argsort(ids, kind="stable")
        spool = np.concatenate([part.spool + base for part, base in zip(parts, bases.tolist(), strict=False)]
                               or [np.zeros(0, dtype=np.int64)])  # fmt: skip
        offsets = np.concatenate([part.offsets for part in parts] or [np.zeros(0, dtype=np.int64)])
        lengths = np.concatenate([part.lengths for part in parts] or [np.zeros(0, dtype=np.int64)])
        return cls(paths, ids[order], spool[order], offsets[order], lengths[order])


def _open_spool(path: str) -> int:
    return os.open(path, os.O_RDONLY | os.O_NOFOLLOW)


def _read(fd: int, path: str, size: int, offset: int) -> bytes:
    """``size`` bytes of a spool at ``offset`` (a read may be short)."""
    pieces = []
    while size > 0:
        block = os.pread(fd, size, offset)
        if not block:
            raise OSError(f"{path} ends before the manifest line it should hold")
        pieces.append(block)
        size -= len(block)
        offset += len(block)
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


def spool_tag() -> str:
    """The name part shared by one export's spools: the exporting process and a random token,
    so that two exports into one folder never take (or remove) each other's spools."""
    return f"{os.getpid()}.{secrets.token_hex(4)}"


def live_spool(name: str) -> bool:
    """Whether ``name`` is a spool of an export whose process still runs (leave it alone)."""
    if not (name.startswith(SPOOL_PREFIX) and name.endswith(PART_SUFFIX)):
        return False
    owner = name[len(SPOOL_PREFIX) :].split(".", 1)[0]
    if not owner.isdigit():
        return False
    try:
        os.kill(int(owner), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, and is someone else's
    return True


class LineSpool:
    """A worker's spool file: ``write`` appends a line from its pieces and says where it is."""

    def __init__(self, folder: str | os.PathLike[str], tag: str) -> None:
        name = f"{SPOOL_PREFIX}{tag}.{os.getpid()}.{next(_numbers)}{PART_SUFFIX}"
        self.path = os.path.join(folder, name)
        # never through a planted link, never over an existing file
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        self._file = os.fdopen(fd, "wb", buffering=BLOCK)
        self._size = 0
        self._ids, self._offsets, self._lengths = array("q"), array("q"), array("q")

    def write(self, pieces: Iterable[str]) -> SpooledLine:
        start = self._size
        for piece in pieces:
            data = piece.encode("ascii")
            self._file.write(data)
            self._size += len(data)
        return SpooledLine(self.path, start, self._size - start)

    def record(self, session_id: int, pieces: Iterable[str]) -> None:
        """Append session ``session_id``'s line from its pieces; ``lines`` says where."""
        line = self.write(pieces)
        self._ids.append(session_id)
        self._offsets.append(line.offset)
        self._lengths.append(line.length)

    def lines(self) -> SpooledLines:
        """Where the ``record``ed lines are, in the order recorded."""
        ids = np.array(self._ids, dtype=np.int64)
        offsets, lengths = np.array(self._offsets, dtype=np.int64), np.array(self._lengths, dtype=np.int64)
        return SpooledLines((self.path,), ids, np.zeros(len(ids), dtype=np.int64), offsets, lengths)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> LineSpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def remove_spools(folder: Path, tag: str) -> None:
    """Delete one export's spool files (``tag``): once the manifest holds their lines, or after
    it failed or was cancelled (a worker's spool is not known until it returns)."""
    for path in folder.glob(f"{SPOOL_PREFIX}{tag}.*{PART_SUFFIX}"):
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
