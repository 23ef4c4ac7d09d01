"""Open a capture file: map it into memory and pick the reader from its magic.

The format is decided by the first four bytes, never by the file name
(tcpflow's test files named ``.pcap`` are pcapng inside).
"""

from __future__ import annotations

import mmap
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from monoview.core.capture.pcap import MAGICS, read_pcap
from monoview.core.capture.pcapng import BLOCK_SHB, check_pcapng_header, read_pcapng
from monoview.core.capture.records import Record
from monoview.core.errors import CaptureFormatError


@dataclass
class CaptureFile:
    """A capture mapped read-only; packet bytes are sliced from it on demand."""

    path: Path
    size: int
    format: str  # "pcap", "pcap-ns", "pcapng"
    _file: object = field(repr=False)
    _map: mmap.mmap | bytes = field(repr=False)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> CaptureFile:
        """Map ``path`` and check its magic; raise CaptureFormatError if it is no capture."""
        path = Path(path)
        name = path.name
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise CaptureFormatError(f"{name}: cannot open ({exc.strerror})") from exc
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            handle.close()
            raise CaptureFormatError(f"{name}: the file is empty")
        data: mmap.mmap | bytes = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if size < 4:
            raise CaptureFormatError(f"{name}: {size} bytes is too short to be a capture")
        (magic,) = struct.unpack_from("<I", data, 0)
        if magic in MAGICS:
            fmt = "pcap-ns" if MAGICS[magic][1] else "pcap"
        elif magic == BLOCK_SHB:
            check_pcapng_header(data, name)
            fmt = "pcapng"
        else:
            handle.close()
            raise CaptureFormatError(
                f"{name}: not a pcap or pcapng capture (the file starts with {bytes(data[:4]).hex()})"
            )
        return cls(path, size, fmt, handle, data)

    @property
    def name(self) -> str:
        """The file's base name, used in every message about it."""
        return self.path.name

    def records(self) -> Iterator[Record]:
        """Yield every frame's record; raise CaptureReadError where the file is damaged."""
        if self.format == "pcapng":
            return read_pcapng(self._map, self.name)
        return read_pcap(self._map, self.name)

    def read(self, offset: int, length: int) -> bytes:
        """Return ``length`` bytes at ``offset`` of the file."""
        return self._map[offset : offset + length]

    @property
    def buffer(self) -> mmap.mmap | bytes:
        """The mapped file, for decoders that unpack fields in place."""
        return self._map

    def close(self) -> None:
        """Unmap and close the file; later reads fail."""
        if isinstance(self._map, mmap.mmap):
            self._map.close()
        close = getattr(self._file, "close", None)
        if close is not None:
            close()
