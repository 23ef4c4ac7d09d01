"""The unit every capture reader produces: one captured frame, located in the file.

A record never holds packet bytes: it names where they are in the mapped file,
so a reader walks a gigabyte capture without copying its payload.
"""

from __future__ import annotations

import mmap
from typing import NamedTuple

from monoview.core.capture.captureset import SetBuffer

# Anything the readers and decoders can unpack fields from in place.
Buffer = bytes | bytearray | memoryview | mmap.mmap
# What payload is sliced from: one file, or the files of a set at their virtual offsets.
PayloadBuffer = Buffer | SetBuffer


class Record(NamedTuple):
    """One frame of the capture.

    ``offset`` is the file position of the first captured byte; ``caplen`` bytes
    are present there, ``origlen`` were on the wire.  ``ts_ns`` is the capture
    time in integer nanoseconds since the epoch (exact for every format).
    """

    frame: int
    ts_ns: int
    linktype: int
    interface: int
    offset: int
    caplen: int
    origlen: int


# (file offset, captured, wire length) of each piece of a TCP payload that came in
# several places: a segment reassembled from IP fragments.
Parts = tuple[tuple[int, int, int], ...]
# The pieces of every reassembled packet, by its frame and its payload's file offset (a row's
# ``payload``: its first piece).  Not by frame alone: one frame may complete several datagrams
# (an 802.11 A-MSDU of fragments, a fragmented tunnel datagram holding an A-MSDU) and carry
# whole packets beside them; keyed by frame, one datagram's pieces replaced another's, and a
# whole packet of that frame was read from them.
PayloadParts = dict[tuple[int, int], Parts]


def part_frames(parts: PayloadParts) -> set[int]:
    """The frames that hold a reassembled packet (their rows are left to the exact paths)."""
    return {frame for frame, _payload in parts}


# A record claiming more than this is corrupt: no link layer carries frames this
# large (BIG TCP tops out at 512 KiB; pcap's own maximum snaplen is 256 KiB).
MAX_RECORD_BYTES = 16 * 1024 * 1024
