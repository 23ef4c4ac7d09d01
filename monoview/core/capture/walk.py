"""Walk the records of a capture in batches of numpy columns, over any byte range.

A Python loop does only what cannot be vectorised, finding where the next
record starts; each batch of a few thousand record offsets is then turned into
columns (time, captured and wire length, link type, interface) by numpy while
those headers are still in the processor's cache.  ``pcap.PcapWalk`` and
``pcapng.PcapngWalk`` know the two formats; ``frames`` picks one.

A walk can start anywhere (``frames.find_start`` re-synchronises on a record
boundary), so worker processes can each take a range of a big file.  Every
walk reports its ``handoff``, the first record at or after the end of its
range reached by walking, which the caller compares with where the next range
started: a false synchronisation is detected and redone, so the result never
depends on how the file was cut.  Damage is a :class:`Damage` whose frame
numbers count from the walk's start; it becomes the user's sentence once the
frames before the range are known.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.layout import Layout
from monoview.core.capture.records import Buffer, Record
from monoview.core.errors import CaptureReadError

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
BATCH_RECORDS: Final = 8192
INT64_MAX: Final = (1 << 63) - 1


@dataclass(frozen=True)
class Damage:
    """Where and how the file is damaged, with frame numbers relative to the walk's start.

    ``template`` names the file as ``{name}``, the damaged frame as ``{frame}``
    and the last good one as ``{after}``.
    """

    template: str
    frame: int  # the first frame not read (relative, 1-based)
    offset: int

    def error(self, name: str, frames_before: int = 0) -> CaptureReadError:
        """The CaptureReadError for a walk that began after ``frames_before`` frames."""
        frame = frames_before + self.frame
        return CaptureReadError(
            self.template.format(name=name, frame=frame, after=frame - 1), frame, self.offset
        )


@dataclass
class FrameBatch:
    """Consecutive frames as columns; ``data`` is the file offset of each frame's first byte."""

    first_frame: int  # relative number of the first frame in the batch
    data: I64
    caplen: I64
    origlen: I64
    ts_ns: I64
    linktype: I32
    interface: I32

    def __len__(self) -> int:
        return len(self.data)

    def records(self, frames_before: int = 0) -> Iterator[Record]:
        """The frames as Record tuples (for per-frame consumers and tests)."""
        first = frames_before + self.first_frame
        for i, (data, caplen, origlen, ts, link, iface) in enumerate(
            zip(
                self.data.tolist(),
                self.caplen.tolist(),
                self.origlen.tolist(),
                self.ts_ns.tolist(),
                self.linktype.tolist(),
                self.interface.tolist(),
                strict=True,
            )
        ):
            yield Record(first + i, ts, link, iface, data, caplen, origlen)

    @classmethod
    def join(cls, pieces: list[FrameBatch]) -> FrameBatch:
        """Consecutive batches as one (the first's numbering)."""
        if len(pieces) == 1:
            return pieces[0]
        return cls(
            pieces[0].first_frame,
            *(
                np.concatenate([getattr(p, name) for p in pieces])
                for name in ("data", "caplen", "origlen", "ts_ns", "linktype", "interface")
            ),
        )


def coalesced(pieces: Iterator[FrameBatch], size: int) -> Iterator[FrameBatch]:
    """Consecutive ``pieces`` joined into batches of at least ``size`` frames (the last may be
    smaller).

    A batch costs its consumer a few dozen numpy calls whatever its length, so a
    file whose records break the fast loop at every turn (obsolete or simple
    packet blocks, a custom block between every two packets) must not reach the
    scanner one frame at a time: 5,000 one-frame batches cost seconds, one
    batch of 5,000 frames a few milliseconds.  Joining costs one copy.
    """
    pending: list[FrameBatch] = []
    count = 0
    for piece in pieces:
        if not len(piece):
            continue
        pending.append(piece)
        count += len(piece)
        if count >= size:
            yield FrameBatch.join(pending)
            pending, count = [], 0
    if pending:
        yield FrameBatch.join(pending)


def header_view(buf: Buffer, width: int) -> npt.NDArray[np.void]:
    """Every byte offset of ``buf`` as the start of a ``width``-byte item (no copy).

    Fancy-indexing this view with record offsets copies each header as one
    item, far faster than gathering its fields byte by byte.
    """
    count = max(len(buf) - width + 1, 0)
    return np.ndarray((count,), dtype=np.dtype(f"V{width}"), buffer=buf, offset=0, strides=(1,))


def u32_casts(buf: Buffer, skip: int = 0) -> list[memoryview] | None:
    """Little-endian uint32 views of ``buf`` at its four alignments: ``casts[o & 3][o >> 2]``
    is the 32-bit value at byte ``o + skip`` (faster than ``struct`` in the walking loop;
    ``skip``, a field's place in a header, saves the loop adding it to every offset)."""
    if struct.pack("=I", 1) != struct.pack("<I", 1):
        return None
    view = memoryview(buf)[skip:]
    return [view[k : k + (len(view) - k) // 4 * 4].cast("I") for k in range(4)]


class Walk:
    """One walk over the records that start in ``[start, stop)`` of a capture.

    Iterate ``batches()``; afterwards ``handoff`` is the offset of the first
    record at or beyond ``stop`` (or the end of the file), ``frames`` the
    number of frames walked, ``damage`` what stopped the walk early (None if
    nothing did) and ``needs_whole`` whether a section header or interface
    description was met that only a walk from the start can interpret.
    """

    def __init__(
        self, buf: Buffer, layout: Layout, start: int, stop: int, batch: int = BATCH_RECORDS
    ) -> None:
        self._buf = buf
        self.layout = layout
        self.start = start
        self.stop = min(stop, layout.size)
        self._batch = batch
        self.handoff = start
        self.frames = 0
        self.damage: Damage | None = None
        self.needs_whole = False
        self.clamped_timestamps = 0  # pcapng times beyond int64 nanoseconds, clamped

    def batches(self) -> Iterator[FrameBatch]:
        """The frames of the range in order, a few thousand at a time."""
        raise NotImplementedError
