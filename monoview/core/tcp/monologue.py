"""A monologue: everything one side said before the other side said anything.

It is a run of consecutive pieces of one direction's stream, so it stores only
the index range; bytes, times and frames are read from the stream's columns.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from monoview.core.tcp.records import Gap, GapCause

if TYPE_CHECKING:
    from monoview.core.tcp.session import TcpSession
    from monoview.core.tcp.stream import DirectionStream


class MonologueFacts(NamedTuple):
    """A monologue's measures (``Monologue.facts``)."""

    length: int
    packets: int
    frames: list[int]
    first_ts_ns: int
    last_ts_ns: int


@dataclass(frozen=True, eq=False)
class Monologue:
    """Pieces ``first``..``stop``-1 of the stream sent by ``side`` (0 = session side A).

    ``index`` is the monologue's position in its session (0-based).  Those
    pieces never change once the monologue exists, so its length, packets,
    frames and times are computed once; its offset is not cached because the
    stream's origin moves if bytes from before the first segment arrive later.
    """

    session: TcpSession
    side: int
    index: int
    first: int
    stop: int

    @property
    def stream(self) -> DirectionStream:
        """The direction stream the bytes belong to."""
        return self.session.streams[self.side]

    @property
    def direction(self) -> str:
        """``c2s`` or ``s2c`` (decided by the session's client choice)."""
        return "c2s" if self.side == self.session.client_side else "s2c"

    def _indices(self) -> list[int] | range:
        """Piece indices in stream order (delivery order, unless a hole was filled late)."""
        indices = range(self.first, self.stop)
        if self.stream.in_order:
            return indices
        return sorted(indices, key=self.stream.p_start.__getitem__)

    @property
    def offset(self) -> int:
        """Stream offset (counting every byte on the wire) of the first byte."""
        s = self.stream
        if s.in_order:  # pieces ascending: the first starts lowest
            return s.p_start[self.first] - s.origin()
        return min(s.p_start[self.first : self.stop]) - s.origin()

    @property
    def end(self) -> int:
        """Stream offset just after the last byte."""
        s = self.stream
        if s.in_order:  # pieces ascending and disjoint: the last ends highest
            last = self.stop - 1
            return s.p_start[last] + s.p_len[last] - s.origin()
        return max(s.p_start[i] + s.p_len[i] for i in range(self.first, self.stop)) - s.origin()

    @cached_property
    def length(self) -> int:
        """Captured bytes in the monologue (gaps not counted)."""
        return sum(self.stream.p_len[self.first : self.stop])

    @cached_property
    def packets(self) -> int:
        """Segments that contributed bytes."""
        return len(set(self.stream.p_frame[self.first : self.stop]))

    @cached_property
    def frames(self) -> list[int]:
        """Frame numbers that carried the bytes, in stream order, each once."""
        frames = self.stream.p_frame
        if self.stream.in_order:
            return list(dict.fromkeys(frames[self.first : self.stop]))
        return list(dict.fromkeys(frames[i] for i in self._indices()))

    @cached_property
    def first_ts_ns(self) -> int:
        """Capture time of the earliest packet that carried the bytes."""
        return min(self.stream.p_ts[self.first : self.stop])

    @cached_property
    def last_ts_ns(self) -> int:
        """Capture time of the latest packet that carried the bytes."""
        return max(self.stream.p_ts[self.first : self.stop])

    def facts(self) -> MonologueFacts:
        """Length, packets, frames and times, worked out again unless already kept.

        The properties keep what they compute on the monologue (a window shows it again
        and again); an export reads each once, and keeping them would cost 400 bytes on
        each of 200,000 monologues for nothing.
        """
        kept, cls = self.__dict__, type(self)
        values = [
            kept[name] if name in kept else getattr(cls, name).func(self)
            for name in ("length", "packets", "frames", "first_ts_ns", "last_ts_ns")
        ]
        return MonologueFacts(*values)

    def piece_indices(self) -> list[int] | range:
        """Indices of its pieces in the stream's columns, in stream order."""
        return self._indices()

    def piece_columns(self) -> tuple[list[int], list[int]]:
        """Lengths and file offsets of the pieces, in stream order (as :meth:`pieces`), as lists."""
        s = self.stream
        if s.in_order:
            return s.p_len[self.first : self.stop].tolist(), s.p_file[self.first : self.stop].tolist()
        indices = self._indices()
        return [s.p_len[i] for i in indices], [s.p_file[i] for i in indices]

    def pieces(self) -> Iterator[tuple[int, int, int, int]]:
        """``(stream offset, length, file offset, frame)`` of each piece, in stream order."""
        s = self.stream
        origin = s.origin()
        for i in self._indices():
            yield s.p_start[i] - origin, s.p_len[i], s.p_file[i], s.p_frame[i]

    def gaps(self) -> list[Gap]:
        """The gaps that belong to this monologue, in stream order.

        Those between its pieces; the one right before its first byte; and bytes
        snaplen cut from its own last segment, which start where it ends.  A
        snaplen cut belongs to the monologue whose captured bytes end where the
        cut begins, never to the next one.
        """
        start, end = self.offset, self.end
        return [gap for gap in self.stream.gaps_near(start, end) if self._owns(gap, start, end)]

    def _owns(self, gap: Gap, start: int, end: int) -> bool:
        if start <= gap.offset < end:
            return True  # between its pieces
        if gap.offset == end:
            return gap.cause is GapCause.SNAPLEN  # the cut tail of its own last segment
        if gap.offset < start <= gap.offset + gap.length:  # right before its first byte
            return not (gap.cause is GapCause.SNAPLEN and self._captured_until(gap.offset))
        return False

    def _captured_until(self, offset: int) -> bool:
        """Does some delivered piece of this direction end exactly at ``offset``?"""
        return self.stream.piece_ends_at(offset + self.stream.origin())

    def data(self) -> bytes:
        """The captured bytes, gaps omitted."""
        read = self.session.read
        return b"".join(read(f, n) for _o, n, f, _fr in self.pieces())

    def frame_at(self, byte_index: int) -> int:
        """Frame that carried byte ``byte_index`` of ``data()``."""
        return self.locate(byte_index)[0]

    def locate(self, byte_index: int) -> tuple[int, int, int]:
        """Where byte ``byte_index`` of ``data()`` came from: its frame, that frame's capture
        time, and the byte's offset in the capture file."""
        if not 0 <= byte_index < self.length:
            raise IndexError(byte_index)
        s = self.stream
        indices = list(self._indices())
        ends: list[int] = []
        total = 0
        for i in indices:
            total += s.p_len[i]
            ends.append(total)
        k = bisect.bisect_right(ends, byte_index)
        piece = indices[k]
        into = byte_index - (ends[k] - s.p_len[piece])
        return s.p_frame[piece], s.p_ts[piece], s.p_file[piece] + into

    def byte_of_frame(self, frame: int) -> int | None:
        """Index in ``data()`` of the first byte frame ``frame`` brought, None if it brought none."""
        s = self.stream
        total = 0
        for i in self._indices():
            if s.p_frame[i] == frame:
                return total
            total += s.p_len[i]
        return None

    def __repr__(self) -> str:
        return (
            f"Monologue(session={self.session.id}, #{self.index}, {self.direction}, "
            f"offset={self.offset}, len={self.length})"
        )
