"""Open a capture file: map it into memory and read its layout from the magic.

The format is decided by the first four bytes, never by the file name
(tcpflow's test files named ``.pcap`` are pcapng inside).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from monoview.core.capture.frames import read_records
from monoview.core.capture.layout import Layout, read_layout
from monoview.core.capture.records import Record
from monoview.core.errors import CaptureFormatError


@dataclass
class CaptureFile:
    """A capture mapped read-only; packet bytes are sliced from it on demand."""

    path: Path
    size: int
    layout: Layout
    _file: object = field(repr=False)
    _map: mmap.mmap = field(repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> CaptureFile:
        """Map ``path`` and check its header; raise CaptureFormatError if it is no capture."""
        path = Path(path)
        name = path.name
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise CaptureFormatError(f"{name}: cannot open ({exc.strerror})") from exc
        try:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                raise CaptureFormatError(f"{name}: the file is empty")
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (CaptureFormatError, OSError, ValueError) as exc:
            handle.close()
            if isinstance(exc, CaptureFormatError):
                raise
            raise CaptureFormatError(f"{name}: cannot be mapped into memory ({exc})") from exc
        try:
            layout = read_layout(data, name)
        except CaptureFormatError:
            data.close()
            handle.close()
            raise
        return cls(path, size, layout, handle, data)

    @property
    def name(self) -> str:
        """The file's base name, used in every message about it."""
        return self.path.name

    @property
    def format(self) -> str:
        """``pcap``, ``pcap-ns`` or ``pcapng``."""
        return self.layout.format

    def records(self) -> Iterator[Record]:
        """Yield every frame's record; raise CaptureReadError where the file is damaged."""
        return read_records(self._map, self.layout, self.name)

    def read(self, offset: int, length: int) -> bytes:
        """Return ``length`` bytes at ``offset`` of the file."""
        return self._map[offset : offset + length]

    @property
    def buffer(self) -> mmap.mmap:
        """The mapped file, for decoders that unpack fields in place."""
        return self._map

    def close(self) -> None:
        """Unmap and close the file; later reads fail."""
        self._map.close()
        close = getattr(self._file, "close", None)
        if close is not None:
            close()
