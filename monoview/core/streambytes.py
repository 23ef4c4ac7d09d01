"""A direction's bytes laid out under a gap policy, read straight from the capture.

The layout answers two questions the export and the views both ask: what are
the bytes (as chunks, never one big copy), and where does stream offset N land
once gaps are omitted, zero-filled or replaced by a marker.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import Final

from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.records import Gap
from monoview.core.tcp.session import TcpSession

ZERO_CHUNK: Final = 1 << 20
# A gap bigger than this is not zero-filled (a corrupt sequence number can
# claim gigabytes); it gets the marker instead and the manifest says so.
MAX_ZERO_FILL: Final = 64 << 20


class GapPolicy(Enum):
    """What an export writes where bytes are missing."""

    OMIT = "omit"  # nothing: the captured bytes back to back
    ZERO = "zero"  # as many zero bytes as are missing (tcpflow's choice)
    MARKER = "marker"  # the text "[N bytes missing]"


def marker(length: int) -> bytes:
    """The text written in place of a gap under the marker policy."""
    return b"[%d bytes missing]" % length


def filler_length(gap_length: int, policy: GapPolicy) -> int:
    """Bytes written for a gap of ``gap_length`` under ``policy``."""
    if policy is GapPolicy.OMIT:
        return 0
    if policy is GapPolicy.ZERO and gap_length <= MAX_ZERO_FILL:
        return gap_length
    return len(marker(gap_length))


def filler(gap_length: int, policy: GapPolicy) -> Iterator[bytes]:
    """The bytes written for a gap, in chunks of at most 1 MiB."""
    if policy is GapPolicy.OMIT:
        return
    if policy is GapPolicy.ZERO and gap_length <= MAX_ZERO_FILL:
        left = gap_length
        while left > 0:
            n = min(left, ZERO_CHUNK)
            yield bytes(n)
            left -= n
        return
    yield marker(gap_length)


def zero_filled(gap: Gap, policy: GapPolicy) -> bool:
    """True when the gap is written as zeros (not omitted, not too big)."""
    return policy is GapPolicy.ZERO and gap.length <= MAX_ZERO_FILL


@dataclass(frozen=True)
class DirectionLayout:
    """Where stream offsets land in the exported file of one direction."""

    session: TcpSession
    direction: str
    policy: GapPolicy

    @property
    def gaps(self) -> list[Gap]:
        """The direction's gaps in stream order."""
        return self.session.gaps(self.direction)

    @cached_property
    def _shifts(self) -> tuple[list[int], list[int]]:
        """Gap offsets, and the exported-minus-stream shift after the first n gaps."""
        offsets = [g.offset for g in self.gaps]
        shifts = [0]
        for gap in self.gaps:
            shifts.append(shifts[-1] + filler_length(gap.length, self.policy) - gap.length)
        return offsets, shifts

    def position(self, offset: int) -> int:
        """Exported file position of stream offset ``offset``."""
        offsets, shifts = self._shifts
        return offset + shifts[bisect.bisect_left(offsets, offset)]

    def gap_positions(self) -> list[int]:
        """Exported position where each gap (or its filler) starts."""
        offsets, shifts = self._shifts
        return [offset + shifts[i] for i, offset in enumerate(offsets)]

    def chunks(self) -> Iterator[bytes]:
        """The exported bytes: captured pieces in stream order, fillers in the holes.

        Pieces never overlap (reassembly delivers only new bytes), so sorting
        them by offset gives the stream.
        """
        stream = self.session.stream(self.direction)
        origin = stream.origin()
        order = stream.order()
        gaps = self.gaps
        g = 0
        read = self.session.read
        for j in order:
            start = stream.p_start[j] - origin
            while g < len(gaps) and gaps[g].offset < start:
                yield from filler(gaps[g].length, self.policy)
                g += 1
            yield read(stream.p_file[j], stream.p_len[j])
        while g < len(gaps):
            yield from filler(gaps[g].length, self.policy)
            g += 1


def monologue_chunks(monologue: Monologue, policy: GapPolicy) -> Iterator[bytes]:
    """A monologue's bytes; the gaps between its pieces filled by ``policy``."""
    gaps = monologue.stream.gaps
    gap_starts = [g.offset for g in gaps]
    end: int | None = None
    read = monologue.session.read
    for offset, length, file_offset, _frame in monologue.pieces():
        if end is not None and offset > end:
            i = bisect.bisect_left(gap_starts, end)
            while i < len(gaps) and gaps[i].offset < offset:
                yield from filler(gaps[i].length, policy)
                i += 1
        yield read(file_offset, length)
        end = offset + length


def direction_bytes(session: TcpSession, direction: str, policy: GapPolicy = GapPolicy.OMIT) -> bytes:
    """The whole exported stream of one direction as bytes (for small sessions and tests)."""
    return b"".join(DirectionLayout(session, direction, policy).chunks())
