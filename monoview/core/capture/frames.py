"""Where walks start: the whole file, a range of it, and the frame-by-frame view.

``find_start`` re-synchronises on a record boundary after any byte offset, so
a big file can be cut into ranges for worker processes; ``read_records`` is the
per-frame reader the streaming analysis uses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Final

from monoview.core.capture.layout import Layout
from monoview.core.capture.pcap import PcapWalk, plausible_record
from monoview.core.capture.pcapng import PcapngWalk, plausible_block
from monoview.core.capture.records import Buffer, Record
from monoview.core.capture.walk import BATCH_RECORDS, Walk

# Plausible records in a row that make a re-synchronisation believable; the
# caller's handoff check catches the rest.
SYNC_CHAIN: Final = 16


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
    plausible: _Plausible
    if layout.format == "pcapng":
        offset += -offset % 4  # blocks are 32-bit aligned from the start of the file
        step, plausible = 4, plausible_block
    else:
        step, plausible = 1, plausible_record
    for candidate in range(offset, min(stop, layout.size), step):
        if _chain(buf, layout, candidate, plausible):
            return candidate
    return None


def _chain(buf: Buffer, layout: Layout, offset: int, plausible: _Plausible) -> bool:
    for _ in range(SYNC_CHAIN):
        if offset == layout.size:
            return True
        following = plausible(buf, layout, offset)
        if following is None:
            return False
        offset = following
    return True
