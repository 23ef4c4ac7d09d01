"""Captures that are not a plain file: compressed (gzip, bzip2, xz, zstd), a pipe, or ``-``.

Everything in monoview reads a capture from a file it can map: the index is
built by worker processes that each open the file and read a range of it, and
a session's bytes stay in the file until they are asked for.  A pipe cannot
be read twice and a compressed file cannot be read from the middle, so such
input is first written, decompressed, to a temporary file, which then *is* the
capture until the document is closed.  That costs one sequential pass and the
disk space of the capture; it keeps every fast path and the exact reassembly,
where reading the stream once would give both up.  (Wireshark reads gzip the
same way in spirit: it keeps an index of restart points to seek in the
decompressed stream.)

The temporary file keeps the capture's name without the compression suffix
(``x.pcap.gz`` becomes ``x.pcap``), so messages, the manifest and the window
name the same capture as the plain file would; standard input is ``stdin``.

Decompression uses the standard library for gzip, bzip2 and xz, and
``zstandard`` (the maintained binding of the reference library; Python 3.11
has no zstd of its own) for zstd.
"""

from __future__ import annotations

import atexit
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final, Protocol

from monoview.core.errors import Cancelled, CaptureFormatError, MonoviewError
from monoview.core.terminate import tracked, untracked

BLOCK: Final = 1 << 20
# magic -> (name, suffixes a file of it usually has)
COMPRESSIONS: Final = (
    (b"\x1f\x8b", "gzip", (".gz", ".gzip")),
    (b"\x28\xb5\x2f\xfd", "zstd", (".zst", ".zstd")),
    (b"\xfd7zXZ\x00", "xz", (".xz",)),
    (b"BZh", "bzip2", (".bz2",)),
)
STDIN: Final = "-"


def compression_of(head: bytes) -> str | None:
    """The compression a file's first bytes announce, if any."""
    for magic, how, _suffixes in COMPRESSIONS:
        if head.startswith(magic):
            return how
    return None


def _decompressed_name(name: str, how: str | None) -> str:
    for _magic, known, suffixes in COMPRESSIONS:
        if known == how:
            for suffix in suffixes:
                if name.lower().endswith(suffix) and len(name) > len(suffix):
                    return name[: -len(suffix)]
    return name


class Readable(Protocol):
    """What is read from: a file or standard input."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class Decompressor(Protocol):
    """One member, stream or frame of compressed data, fed piece by piece (zlib, bz2, lzma and
    zstandard all have this shape, so one loop handles them and knows when a stream ends early)."""

    @property
    def eof(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, /) -> bytes: ...


def _decompressor(how: str) -> Decompressor:
    """The decompressor of ``how``; its module imported here, as a plain capture (nearly every
    one) needs none of them (``bz2``, ``lzma`` and ``zlib`` are some 3 ms of every start)."""
    if how == "gzip":
        import zlib

        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    if how == "bzip2":
        import bz2

        return bz2.BZ2Decompressor()
    if how == "xz":
        import lzma

        return lzma.LZMADecompressor()
    import zstandard  # only when a zstd capture is opened

    zstd: Decompressor = zstandard.ZstdDecompressor().decompressobj()
    return zstd


def inflate(raw: Readable, how: str, write: Callable[[bytes], object], check: Callable[[], None]) -> bool:
    """Decompress ``raw`` into ``write``, member after member (gzip, bzip2 and xz files may hold
    several; zstd frames follow one another); ``check`` runs after each block.  False if the
    data ends inside a member: everything before is written, the rest is not there."""
    decompressor, fed = _decompressor(how), False
    while block := raw.read(BLOCK):
        data = block
        while data:
            write(decompressor.decompress(data))
            fed = True
            if not decompressor.eof:
                break
            data = decompressor.unused_data
            if how == "gzip" and not data.strip(b"\0"):
                data = b""  # zeros after the last member pad a gzip file (gzip ignores them)
            decompressor, fed = _decompressor(how), False
        check()
    return not fed or decompressor.eof


def needs_copy(path: Path) -> bool:
    """Whether ``path`` is read through a decompressed copy (compressed, a pipe, or ``-``)."""
    return str(path) == STDIN or _piped(path) or compression_of(_head(path)) is not None


class LocalCopy:
    """The file monoview reads for ``path``: ``path`` itself when it is a plain capture, else a
    temporary, decompressed copy of it, removed by ``close``.  ``note`` says when compressed
    data ended early (the copy holds what came before: read as a cut-off capture is)."""

    def __init__(self, path: Path, cancel: Callable[[], bool] | None = None) -> None:
        self.path = path
        self.note: str | None = None
        self._folder: str | None = None
        if not needs_copy(path):
            return  # a plain capture: read in place
        piped = str(path) == STDIN or _piped(path)
        how = None if piped else compression_of(_head(path))
        self.name = "stdin" if str(path) == STDIN else path.name
        raw = _standard_input(self.name) if str(path) == STDIN else None
        import tempfile  # only for a copy: a plain capture, read in place, needs none

        self._folder = tracked(tempfile.mkdtemp(prefix="monoview-"))
        _LIVE.add(self)
        self.path = Path(self._folder) / (
            "stdin" if str(path) == STDIN else _decompressed_name(path.name, how)
        )
        try:
            self._copy(path if raw is None else raw, how, piped, cancel)
        except BaseException:
            self.close()
            raise

    def _copy(
        self, source: Path | Readable, how: str | None, piped: bool, cancel: Callable[[], bool] | None
    ) -> None:
        if isinstance(source, Path):
            raw: Readable = _Fifo(source, cancel) if piped else open(source, "rb")  # noqa: SIM115
        else:
            raw = source
        try:
            if piped:  # the compression is known only once the first bytes have come
                first = b""
                while len(first) < 6 and (more := raw.read(6 - len(first))):
                    first += more  # a pipe gives what has come so far
                how = compression_of(first)
                raw = _Prefixed(first, raw)
                if how is not None:
                    self.path = self.path.with_name(_decompressed_name(self.path.name, how))
            with open(self.path, "xb") as out:
                write = self._writer(out)

                def check() -> None:
                    if cancel is not None and cancel():
                        raise Cancelled("cancelled")

                if how is None:
                    while block := raw.read(BLOCK):
                        write(block)
                        check()
                elif not inflate(raw, how, write, check):
                    if not out.tell():
                        raise CaptureFormatError(
                            f"{self.name}: the {how}-compressed data ends early, before any of the capture"
                        )
                    self.note = (
                        f"{self.name}: the {how}-compressed data ends early, after "
                        f"{out.tell():,} bytes of capture; what came before is read"
                    )
        except (Cancelled, MonoviewError):
            raise
        except Exception as exc:  # zlib.error, lzma.LZMAError, OSError, zstandard.ZstdError...
            if how is None or isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
                raise CaptureFormatError(f"{self.name}: cannot be read ({exc})") from None
            raise CaptureFormatError(
                f"{self.name}: the {how}-compressed capture cannot be decompressed ({exc})"
            ) from None
        finally:
            if isinstance(source, Path):
                raw.close()

    def _writer(self, out: IO[bytes]) -> Callable[[bytes], object]:
        """``out.write``, its failure a sentence: the disk holding ``TMPDIR`` is what fills up.

        A decompression bomb (a small file that expands without end) stops at
        ``unpack_limit`` before it fills that disk, with a sentence saying so.
        """
        assert self._folder is not None
        limit = unpack_limit(self._folder)

        def write(data: bytes) -> None:
            if out.tell() + len(data) > limit:
                raise MonoviewError(
                    f"{self.name}: its decompressed copy would grow past {limit:,} bytes, leaving too "
                    f"little room in {self._folder}; set TMPDIR to a larger disk, or {LIMIT_VARIABLE} "
                    "to allow more"
                )
            try:
                out.write(data)
            except OSError as exc:
                raise MonoviewError(
                    f"{self.name}: no room to decompress it into {self._folder} after {out.tell():,} "
                    f"bytes ({exc.strerror}); set TMPDIR to a folder on a larger disk"
                ) from None

        return write

    def close(self) -> None:
        if self._folder is not None:
            import shutil  # only where there is a copy to remove

            shutil.rmtree(self._folder, ignore_errors=True)
            untracked(self._folder)
            self._folder = None
        _LIVE.discard(self)


LIMIT_VARIABLE: Final = "MONOVIEW_UNPACK_LIMIT"
# Room a decompressed copy leaves on its disk: a gibibyte, or a twentieth of the disk if more.
RESERVE_BYTES: Final = 1 << 30


def unpack_limit(folder: str) -> int:
    """How many bytes a decompressed copy in ``folder`` may take: ``$MONOVIEW_UNPACK_LIMIT``
    if set, else the free space of its disk less a reserve (a copy never fills the disk)."""
    chosen = os.environ.get(LIMIT_VARIABLE)
    if chosen:
        try:
            return max(0, int(chosen))
        except ValueError:
            raise MonoviewError(f"{LIMIT_VARIABLE} must be a number of bytes, not {chosen!r}") from None
    import shutil  # only for a copy

    usage = shutil.disk_usage(folder)
    return max(0, usage.free - max(RESERVE_BYTES, usage.total // 20))


def _standard_input(name: str) -> Readable:
    """Standard input, if a capture can come from it."""
    if sys.stdin is None:
        raise CaptureFormatError(f"{name}: standard input is closed")
    if sys.stdin.isatty():
        raise CaptureFormatError(f"{name}: standard input is a terminal; pipe a capture into it")
    return sys.stdin.buffer


# Copies not closed yet: removed at exit, also by the command line's fast exit (``os._exit``
# runs no atexit handler, so it calls ``remove_all`` itself).
_LIVE: set[LocalCopy] = set()


@atexit.register
def remove_all() -> None:
    """Remove every temporary copy still there."""
    for copy in list(_LIVE):
        copy.close()


class _Fifo:
    """A named pipe, read as it comes, that can be given up on.

    ``open`` of a FIFO waits for a writer, and a read for its next bytes: a
    window opening one that nobody writes to could neither cancel nor close.
    Opened without blocking and polled, it waits in steps of ``POLL_MS`` and
    raises ``Cancelled`` when ``cancel`` says so.  Until some writer has come
    and gone, an empty read is "nothing yet", not the end.
    """

    POLL_MS: Final = 100

    def __init__(self, path: Path, cancel: Callable[[], bool] | None) -> None:
        import select  # only for a pipe

        self._fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self._hangup = select.POLLHUP
        self._poll = select.poll()
        self._poll.register(self._fd, select.POLLIN)
        self._cancel = cancel

    def read(self, size: int = -1) -> bytes:
        want = BLOCK if size < 0 else size
        while True:
            events = self._poll.poll(self.POLL_MS)
            if self._cancel is not None and self._cancel():
                raise Cancelled("cancelled")
            if not events:
                continue  # no writer yet, or a writer with nothing to say yet
            try:
                data = os.read(self._fd, want)
            except BlockingIOError:
                continue
            if data or events[0][1] & self._hangup:
                return data  # b"" with the writer gone: the end

    def close(self) -> None:
        os.close(self._fd)


class _Prefixed:
    """A stream with bytes already read from it put back in front."""

    def __init__(self, first: bytes, rest: Readable) -> None:
        self._first, self._rest = first, rest

    def read(self, size: int = -1) -> bytes:
        if self._first:
            data, self._first = self._first, b""
            if size < 0:
                return data + self._rest.read()
            if len(data) >= size:
                data, self._first = data[:size], data[size:]
                return data
            return data + self._rest.read(size - len(data))
        return self._rest.read(size)

    def close(self) -> None:
        self._rest.close()


def _piped(path: Path) -> bool:
    """A named pipe (FIFO): read once, as it comes.  Anything else that is not a plain file
    (a folder, a device) is left to the reader to refuse."""
    try:
        return stat.S_ISFIFO(os.stat(path).st_mode)
    except OSError:
        return False


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(6)
    except OSError:
        return b""
