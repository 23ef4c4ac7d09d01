"""Where walks start: the whole file, a range of it, and the frame-by-frame view.

``find_start`` re-synchronises on a record boundary after any byte offset, so
a big file can be cut into ranges for worker processes; ``read_records`` is the
per-frame reader the streaming analysis uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

import numpy as np

from monoview.core.capture.layout import Layout
from monoview.core.capture.pcap import PcapWalk, plausible_record
from monoview.core.capture.pcapng import PcapngWalk, plausible_block
from monoview.core.capture.records import Buffer, Record
from monoview.core.capture.walk import BATCH_RECORDS, Walk

# Plausible records in a row that make a re-synchronisation believable; the
# caller's handoff check catches the rest.
SYNC_CHAIN: Final = 16
# A classic pcap record header is 16 bytes (the modified format's extra 8 are not looked at).
_PCAP_HEADER: Final = 16
# Bytes looked at per numpy call while skipping zeros.
_ZERO_CHUNK: Final = 1 << 16


def walk_range(buf: Buffer, layout: Layout, start: int, stop: int, batch: int = BATCH_RECORDS) -> Walk:
    """A walk over the records that start in ``[start, stop)`` (``start`` must be a boundary)."""
    kind = PcapngWalk if layout.format == "pcapng" else PcapWalk
    return kind(buf, layout, start, stop, batch)


def whole_file(buf: Buffer, layout: Layout, batch: int = BATCH_RECORDS) -> Walk:
    """A walk over every record of the file (pcapng from its first section header)."""
    start = 0 if layout.format == "pcapng" else layout.first_record
    return walk_range(buf, layout, start, layout.size, batch)


def read_records(buf: Buffer, layout: Layout, name: str) -> Iterator[Record]:
    """Every frame of the capture as a Record; raises CaptureReadError, after the
    last good frame, where the file is damaged."""
    walk = whole_file(buf, layout)
    for batch in walk.batches():
        yield from batch.records()
    if walk.damage is not None:
        raise walk.damage.error(name)


_Plausible = Callable[[Buffer, Layout, int], "int | None"]


def find_start(buf: Buffer, layout: Layout, offset: int, stop: int) -> int | None:
    """The first plausible record boundary in ``[offset, stop)``, or None.

    A boundary is believed when :data:`SYNC_CHAIN` records in a row look sane
    (or the chain ends exactly at the end of the file).  It can still be wrong
    on a hostile file; the previous range's ``Walk.handoff`` tells.
    """
    if offset <= layout.first_record:
        return layout.first_record
    end = min(stop, layout.size)
    if layout.format == "pcapng":
        offset += -offset % 4  # blocks are 32-bit aligned from the start of the file
        for candidate in range(offset, end, 4):
            if _chain(buf, layout, candidate, plausible_block):
                return candidate
        return None
    candidate = offset
    while candidate < end:
        candidate = _past_zeros(buf, candidate, end)
        if candidate < end and _chain(buf, layout, candidate, _sync_record):
            return candidate
        candidate += 1
    return None


def _sync_record(buf: Buffer, layout: Layout, offset: int) -> int | None:
    """``plausible_record`` for re-synchronising: an all-zero header is not believed.

    Zeros are a plausible record (no time, no bytes), sixteen bytes long, so
    any zero-filled stretch of a frame (padding, an extension header's
    options, a zeroed payload) chained as hundreds of false records that each
    range walked and scanned to its end before the handoff check threw them
    away.  No capture tool writes such a record; if one is there, the
    previous range's handoff still finds it.
    """
    if not any(bytes(buf[offset : offset + _PCAP_HEADER])):
        return None
    return plausible_record(buf, layout, offset)


def _past_zeros(buf: Buffer, offset: int, end: int) -> int:
    """The first offset from ``offset`` whose record header is not all zeros (``end`` if none
    before it): a zero-filled stretch is skipped by numpy, in chunks that grow, not byte by
    byte in Python."""
    if any(bytes(buf[offset : offset + _PCAP_HEADER])):
        return offset
    size, at, chunk = len(buf), offset, 256
    while at < end:
        count = min(chunk, size - at)
        if count <= 0:
            break
        nonzero = np.flatnonzero(np.frombuffer(buf, dtype=np.uint8, count=count, offset=at))
        if len(nonzero):
            return max(offset, at + int(nonzero[0]) - (_PCAP_HEADER - 1))
        at += count
        chunk = min(chunk * 4, _ZERO_CHUNK)
    return end


def _chain(buf: Buffer, layout: Layout, offset: int, plausible: _Plausible) -> bool:
    for _ in range(SYNC_CHAIN):
        if offset == layout.size:
            return True
        following = plausible(buf, layout, offset)
        if following is None:
            return False
        offset = following
    return True
