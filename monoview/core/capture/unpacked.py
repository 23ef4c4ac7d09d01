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
import bz2
import gzip
import lzma
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Final, Protocol, cast

from monoview.core.errors import Cancelled, CaptureFormatError

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
    """What is read from: a file, standard input, a decompressor."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def _reader(raw: Readable, how: str | None) -> Readable:
    if how is None:
        return raw
    fileobj = cast("IO[bytes]", raw)  # the stubs ask for a file; reading is all they do
    if how == "gzip":
        return gzip.GzipFile(fileobj=fileobj, mode="rb")
    if how == "bzip2":
        return bz2.BZ2File(fileobj, mode="rb")
    if how == "xz":
        return lzma.LZMAFile(fileobj, mode="rb")
    import zstandard  # only when a zstd capture is opened

    reader: Readable = zstandard.ZstdDecompressor().stream_reader(fileobj, read_across_frames=True)
    return reader


def needs_copy(path: Path) -> bool:
    """Whether ``path`` is read through a decompressed copy (compressed, a pipe, or ``-``)."""
    return str(path) == STDIN or not _regular(path) or compression_of(_head(path)) is not None


class LocalCopy:
    """The file monoview reads for ``path``: ``path`` itself when it is a plain capture, else a
    temporary, decompressed copy of it, removed by ``close``."""

    def __init__(self, path: Path, cancel: Callable[[], bool] | None = None) -> None:
        self.source = path
        self.path = path
        self._folder: str | None = None
        if not needs_copy(path):
            return  # a plain capture: read in place
        piped = str(path) == STDIN or not _regular(path)
        how = None if piped else compression_of(_head(path))
        name = "stdin" if str(path) == STDIN else _decompressed_name(path.name, how)
        self._folder = tempfile.mkdtemp(prefix="monoview-")
        _LIVE.add(self)
        self.path = Path(self._folder) / name
        try:
            self._copy(path, how, piped, cancel)
        except BaseException:
            self.close()
            raise

    @property
    def copied(self) -> bool:
        """Whether ``path`` is a temporary copy."""
        return self._folder is not None

    def _copy(self, path: Path, how: str | None, piped: bool, cancel: Callable[[], bool] | None) -> None:
        raw: Readable = sys.stdin.buffer if str(path) == STDIN else open(path, "rb")  # noqa: SIM115
        try:
            if piped:  # the compression is known only once the first bytes have come
                first = raw.read(6)
                how = compression_of(first)
                raw = _Prefixed(first, raw)
                if how is not None:
                    self.path = self.path.with_name(_decompressed_name(self.path.name, how))
            stream = _reader(raw, how)
            try:
                with open(self.path, "xb") as out:
                    while block := stream.read(BLOCK):
                        out.write(block)
                        if cancel is not None and cancel():
                            raise Cancelled("cancelled")
            finally:
                if stream is not raw:
                    stream.close()
        except Cancelled:
            raise
        except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
            if how is None or isinstance(exc, (FileNotFoundError, PermissionError)):
                raise
            raise CaptureFormatError(
                f"{path.name}: the {how}-compressed capture cannot be decompressed ({exc})"
            ) from None
        except Exception as exc:  # zstandard.ZstdError and the like: damaged data
            raise CaptureFormatError(
                f"{path.name}: the {how}-compressed capture cannot be decompressed ({exc})"
            ) from None
        finally:
            if raw is not sys.stdin.buffer:
                raw.close()

    def close(self) -> None:
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        _LIVE.discard(self)


# Copies not closed yet: removed at exit, also by the command line's fast exit (``os._exit``
# runs no atexit handler, so it calls ``remove_all`` itself).
_LIVE: set[LocalCopy] = set()


@atexit.register
def remove_all() -> None:
    """Remove every temporary copy still there."""
    for copy in list(_LIVE):
        copy.close()


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

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._rest is not sys.stdin.buffer:
            self._rest.close()


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # let the reader say what is wrong with it


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(6)
    except OSError:
        return b""
