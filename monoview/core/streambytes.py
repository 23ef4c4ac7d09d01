"""A direction's bytes laid out under a gap policy, read straight from the capture.

The layout answers two questions the export and the views both ask: what are
the bytes (as chunks, never one big copy), and where does stream offset N land
once gaps are omitted, zero-filled or replaced by a marker.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import Final, TypeAlias

from monoview.core.tcp.gaps import ZERO_FILL_PER_DIRECTION, fit_in_budget
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.records import Gap
from monoview.core.tcp.session import TcpSession
from monoview.core.tcp.stream import DirectionStream

# Stream bytes as handed out: views into the capture (no copy) or fillers.
Chunk: TypeAlias = bytes | memoryview
ZERO_CHUNK: Final = 1 << 20
BLOCK: Final = 1 << 20  # captured pieces are joined into chunks of about this size
# ... or of this many pieces: a view of each piece waits to be joined (about 200 bytes
# apiece), and 1 MiB of one-byte segments would be a million of them.
BLOCK_PIECES: Final = 4096
# The zeros written for one direction's gaps, in all: a gap that does not fit in
# what is left (in stream order) gets the marker instead, and the manifest says
# so.  A corrupt sequence number can claim gigabytes in one gap, and a hostile
# capture of a kilobyte as many gaps just under any per-gap limit.
MAX_ZERO_FILL: Final = ZERO_FILL_PER_DIRECTION


class GapPolicy(Enum):
    """What an export writes where bytes are missing."""

    OMIT = "omit"  # nothing: the captured bytes back to back
    ZERO = "zero"  # as many zero bytes as are missing (tcpflow's choice)
    MARKER = "marker"  # the text "[N bytes missing]"


def marker(length: int) -> bytes:
    """The text written in place of a gap under the marker policy."""
    return b"[%d bytes missing]" % length


def filler_length(gap_length: int, policy: GapPolicy, fits: bool) -> int:
    """Bytes written for a gap of ``gap_length`` under ``policy`` (``fits``: the gap is within
    its direction's zero budget, ``zero_budget``)."""
    if policy is GapPolicy.OMIT:
        return 0
    if policy is GapPolicy.ZERO and fits:
        return gap_length
    return len(marker(gap_length))


def filler(gap_length: int, policy: GapPolicy, fits: bool) -> Iterator[bytes]:
    """The bytes written for a gap, in chunks of at most 1 MiB (``fits`` as for ``filler_length``)."""
    if policy is GapPolicy.OMIT:
        return
    if policy is GapPolicy.ZERO and fits:
        left = gap_length
        while left > 0:
            n = min(left, ZERO_CHUNK)
            yield bytes(n)
            left -= n
        return
    yield marker(gap_length)


def zero_budget(lengths: Iterable[int]) -> list[bool]:
    """For gaps of one direction (their lengths, in stream order), whether each is written as
    zeros under the zero policy: while the zeros stay within ``MAX_ZERO_FILL`` in all."""
    return fit_in_budget(lengths, MAX_ZERO_FILL)


def gap_fits(stream: DirectionStream, gap: Gap) -> bool:
    """Whether one of ``stream``'s gaps is within its direction's zero budget."""
    i = bisect.bisect_left(stream.gap_offsets(), gap.offset)
    return stream.zero_fits()[i]


def zero_filled(stream: DirectionStream, gap: Gap, policy: GapPolicy) -> bool:
    """True when the gap is written as zeros (not omitted, within the direction's budget)."""
    return policy is GapPolicy.ZERO and gap_fits(stream, gap)


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
        for gap, fits in zip(self.gaps, self._fits, strict=True):
            shifts.append(shifts[-1] + filler_length(gap.length, self.policy, fits) - gap.length)
        return offsets, shifts

    @property
    def _fits(self) -> list[bool]:
        return self.session.stream(self.direction).zero_fits()

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
        them by offset gives the stream.  Consecutive pieces are joined into
        blocks of about 1 MiB straight from the capture: one copy, and a few
        large chunks for the writer instead of one per segment.
        """
        stream = self.session.stream(self.direction)
        origin = stream.origin()
        starts, lengths, files = stream.p_start, stream.p_len, stream.p_file
        gaps, fits = self.gaps, self._fits
        g = 0
        next_gap = gaps[0].offset + origin if gaps else None
        parts: list[memoryview] = []
        size = 0
        with self.session.capture_view() as view:
            for j in stream.order():
                if next_gap is not None and next_gap < starts[j]:
                    while g < len(gaps) and gaps[g].offset + origin < starts[j]:
                        if filler_length(gaps[g].length, self.policy, fits[g]):
                            if parts:
                                yield b"".join(parts)
                                parts, size = [], 0
                            yield from filler(gaps[g].length, self.policy, fits[g])
                        g += 1
                    next_gap = gaps[g].offset + origin if g < len(gaps) else None
                at, length = files[j], lengths[j]
                parts.append(view[at : at + length])
                size += length
                if size >= BLOCK or len(parts) >= BLOCK_PIECES:
                    yield b"".join(parts)
                    parts, size = [], 0
            if parts:
                yield b"".join(parts)
                parts = []
        for gap, gap_fits_budget in zip(gaps[g:], fits[g:], strict=True):
            yield from filler(gap.length, self.policy, gap_fits_budget)


def monologue_chunks(monologue: Monologue, policy: GapPolicy) -> Iterator[bytes]:
    """A monologue's bytes, in blocks of about 1 MiB; the gaps between its pieces filled by ``policy``."""
    gaps = monologue.stream.gaps
    gap_starts = monologue.stream.gap_offsets()  # shared by the session's monologues
    fits = monologue.stream.zero_fits()  # so is this
    end: int | None = None
    parts: list[memoryview] = []
    size = 0
    with monologue.session.capture_view() as view:
        for offset, length, file_offset, _frame in monologue.pieces():
            if end is not None and offset > end:
                i = bisect.bisect_left(gap_starts, end)
                while i < len(gaps) and gaps[i].offset < offset:
                    if filler_length(gaps[i].length, policy, fits[i]):
                        if parts:
                            yield b"".join(parts)
                            parts, size = [], 0
                        yield from filler(gaps[i].length, policy, fits[i])
                    i += 1
            parts.append(view[file_offset : file_offset + length])
            size += length
            if size >= BLOCK or len(parts) >= BLOCK_PIECES:
                yield b"".join(parts)
                parts, size = [], 0
            end = offset + length
        if parts:
            yield b"".join(parts)
            parts = []


def direction_bytes(session: TcpSession, direction: str, policy: GapPolicy = GapPolicy.OMIT) -> bytes:
    """The whole exported stream of one direction as bytes (for small sessions and tests)."""
    return b"".join(DirectionLayout(session, direction, policy).chunks())
