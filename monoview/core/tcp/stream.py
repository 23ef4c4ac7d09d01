"""One direction of a TCP connection: segments in, an ordered byte stream out.

The stream never copies payload.  What it delivers is a list of *pieces*, each
a run of stream bytes found at some offset of the capture file, kept in five
parallel ``array`` columns (about 40 bytes a segment).

Delivery follows the order in which a receiver would have read the bytes, the
way Wireshark's Follow TCP Stream does, because monologue boundaries depend on
it: in-order bytes are delivered at once, bytes beyond a hole wait until the
hole fills or until the peer acknowledges past it (then the hole becomes a gap
and the waiting bytes go on).  Unlike Wireshark, nothing is ever dropped:

* bytes still waiting when the stream ends are delivered after a gap;
* bytes from before the first captured segment (no SYN seen, segments stored
  out of order) are kept as *early* pieces;
* a retransmission whose bytes differ from the first copy is recorded as a
  conflict (the first copy wins, as in every mainstream reassembler);
* bytes cut off by snaplen are gaps, not silently shortened segments.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass
from typing import Final

from monoview.core.packet import SegmentKind
from monoview.core.tcp.records import Conflict, Gap, GapCause
from monoview.core.tcp.seq import SEQ_MOD, unwrap

Buffer = bytes | memoryview


@dataclass(slots=True)
class _Waiting:
    """A segment held back because bytes before it are missing."""

    offset: int
    caplen: int
    wirelen: int
    file_offset: int
    frame: int
    ts_ns: int


class Budget:
    """Bytes a session may still keep (``max_session_size``), shared by both directions."""

    __slots__ = ("remaining",)

    def __init__(self, limit: int | None) -> None:
        self.remaining = limit

    def take(self, wanted: int) -> int:
        """Grant up to ``wanted`` bytes and charge them."""
        if self.remaining is None:
            return wanted
        granted = min(wanted, self.remaining)
        self.remaining -= granted
        return granted


UNLIMITED: Final = Budget(None)


class DirectionStream:
    """Reassembly state and delivered pieces of one direction.

    Offsets are relative to ``base_seq`` (the first data byte's sequence number,
    or ISN+1 once the SYN is seen).  Public offsets (``origin``-relative) are
    produced by ``offset_of``.
    """

    def __init__(self, buf: Buffer, budget: Budget = UNLIMITED) -> None:
        self._buf = buf
        self._budget = budget
        self.base_seq: int | None = None
        self.syn_offset: int | None = None  # offset of ISN+1 once the SYN is seen
        self.isn: int | None = None
        self.next = 0  # next offset expected in order
        self.low = 0  # lowest delivered offset (below 0 only with early bytes)
        self.max_ack: int | None = None  # highest offset the peer acknowledged
        self.fin_offset: int | None = None
        self.waiting: list[_Waiting] = []
        self.p_start = array("q")
        self.p_len = array("q")
        self.p_file = array("q")
        self.p_frame = array("q")
        self.p_ts = array("q")
        self.in_order = True  # pieces sorted by start (false once early bytes arrive)
        self.snaplen_holes: list[tuple[int, int]] = []
        self.conflicts: list[Conflict] = []
        self.cut_at: int | None = None  # offset where max_session_size stopped keeping bytes
        self.bytes_seen = 0  # payload bytes of every data segment, duplicates included
        self.kept = 0  # bytes delivered into pieces
        self.gaps: list[Gap] = []  # origin-relative, filled by finish()

    # -- sequence numbers -------------------------------------------------

    def _offset(self, seq: int) -> int:
        assert self.base_seq is not None
        return unwrap(seq, (self.base_seq + self.next) % SEQ_MOD, self.next)

    def origin(self) -> int:
        """Offset of the stream's first byte: ISN+1 if the SYN was seen, else the lowest byte."""
        if self.syn_offset is not None:
            return min(self.syn_offset, self.low)
        return min(0, self.low)

    @property
    def has_data(self) -> bool:
        """Some payload was delivered or is waiting."""
        return bool(self.p_start or self.waiting or self.bytes_seen)

    def note_syn(self, isn: int) -> None:
        """Record this direction's SYN: its ISN+1 is stream offset zero.

        Sequence numbers seen before the SYN on packets without payload (an
        injected RST or FIN) are forgotten: the SYN is the authority.
        """
        self.isn = isn
        if self.base_seq is None or not self.has_data:
            self.base_seq = (isn + 1) % SEQ_MOD
            self.syn_offset = 0
            self.next = self.low = 0
            self.fin_offset = None
            self.max_ack = None
        else:
            self.syn_offset = self._offset(isn + 1)

    def note_fin(self, seq_after_data: int) -> None:
        """Record where the FIN sits (the offset after the last data byte)."""
        if self.base_seq is None:
            self.base_seq = seq_after_data % SEQ_MOD
        self.fin_offset = self._offset(seq_after_data)

    # -- segments ---------------------------------------------------------

    def add_segment(
        self, seq: int, caplen: int, wirelen: int, file_offset: int, frame: int, ts_ns: int
    ) -> SegmentKind:
        """Take a data segment whose first byte has sequence number ``seq``."""
        self.bytes_seen += wirelen
        if self.base_seq is None:
            self.base_seq = seq % SEQ_MOD
        start = self._offset(seq)
        end = start + wirelen
        kind = SegmentKind.DUPLICATE
        if start < self.low and (self.syn_offset is None or self.syn_offset < self.low):
            floor = start if self.syn_offset is None else max(start, self.syn_offset)
            if floor < self.low:
                self._deliver_early(floor, start, caplen, wirelen, file_offset, frame, ts_ns)
                kind = SegmentKind.EARLY
        if end <= self.next:
            if kind is SegmentKind.EARLY:
                return kind
            if wirelen == 1 and start == self.next - 1:
                return SegmentKind.KEEPALIVE
            self._check_overlap(start, caplen, file_offset, frame)
            return SegmentKind.DUPLICATE
        if start <= self.next:
            self._deliver(start, caplen, wirelen, file_offset, frame, ts_ns)
            self._release(None)
            return SegmentKind.DATA if kind is not SegmentKind.EARLY else kind
        self.waiting.append(_Waiting(start, caplen, wirelen, file_offset, frame, ts_ns))
        return SegmentKind.FUTURE

    def peer_ack(self, ack: int) -> None:
        """The other side acknowledged up to sequence ``ack``: release what it proves lost."""
        if self.base_seq is None:
            return
        offset = self._offset(ack)
        if self.max_ack is None or offset > self.max_ack:
            self.max_ack = offset
        if self.waiting:
            self._release(offset)

    def finish(self) -> None:
        """End of the stream: deliver everything still waiting, then list the gaps."""
        while self.waiting:
            self._release(None)
            if not self.waiting:
                break
            lowest = min(w.offset for w in self.waiting)
            if lowest > self.next:
                self.next = lowest
        self.gaps = self._find_gaps()

    def public_conflicts(self) -> list[Conflict]:
        """Conflicts with origin-relative offsets."""
        origin = self.origin()
        return [c._replace(offset=c.offset - origin) for c in self.conflicts]

    # -- internals --------------------------------------------------------

    def _append(self, start: int, length: int, file_offset: int, frame: int, ts_ns: int) -> None:
        if self.cut_at is not None:
            return
        granted = self._budget.take(length)
        if granted < length:
            self.cut_at = start + granted
        if granted <= 0:
            return
        if self.p_start and start < self.p_start[-1]:
            self.in_order = False
        self.p_start.append(start)
        self.p_len.append(granted)
        self.p_file.append(file_offset)
        self.p_frame.append(frame)
        self.p_ts.append(ts_ns)
        self.kept += granted

    def _deliver(
        self, start: int, caplen: int, wirelen: int, file_offset: int, frame: int, ts_ns: int
    ) -> None:
        """Deliver the part of a segment at or after ``next`` (``start <= next``)."""
        skip = self.next - start
        if skip > 0:
            self._check_overlap(start, min(caplen, skip), file_offset, frame)
        if caplen > skip:
            self._append(self.next, caplen - skip, file_offset + skip, frame, ts_ns)
        if caplen < wirelen:
            self.snaplen_holes.append((start + max(caplen, skip), start + wirelen))
        self.next = start + wirelen

    def _deliver_early(
        self, floor: int, start: int, caplen: int, wirelen: int, file_offset: int, frame: int, ts_ns: int
    ) -> None:
        """Keep the bytes of a segment that lie below everything delivered so far."""
        top = min(start + wirelen, self.low)
        cap_top = min(start + caplen, top)
        if cap_top > floor:
            self._append(floor, cap_top - floor, file_offset + (floor - start), frame, ts_ns)
        if start + caplen < top:
            self.snaplen_holes.append((max(floor, start + caplen), top))
        self.low = floor

    def _release(self, ack: int | None) -> None:
        """Deliver waiting segments that now fit, Wireshark's order (arrival order first)."""
        waiting = self.waiting
        while waiting:
            for i, w in enumerate(waiting):
                if w.offset <= self.next:
                    del waiting[i]
                    if w.offset + w.wirelen > self.next:
                        self._deliver(w.offset, w.caplen, w.wirelen, w.file_offset, w.frame, w.ts_ns)
                    else:
                        self._check_overlap(w.offset, w.caplen, w.file_offset, w.frame)
                    break
            else:
                lowest = min(w.offset for w in waiting)
                if ack is not None and ack > lowest:
                    # The receiver had the missing bytes: they are a gap in the capture.
                    self.next = lowest
                    continue
                return

    def _check_overlap(self, start: int, caplen: int, file_offset: int, frame: int) -> None:
        """Compare a second copy of bytes with the delivered first copy; record differences."""
        if caplen <= 0 or not self.p_start:
            return
        end = start + caplen
        starts, lens = self.p_start, self.p_len
        if self.in_order:
            i = max(bisect.bisect_right(starts, start) - 1, 0)
            indices: range | list[int] = range(i, len(starts))
        else:
            indices = [j for j in range(len(starts)) if starts[j] < end and starts[j] + lens[j] > start]
        buf = self._buf
        for j in indices:
            p_start = starts[j]
            if p_start >= end:
                break
            lo = max(start, p_start)
            hi = min(end, p_start + lens[j])
            if hi <= lo:
                continue
            kept_at = self.p_file[j] + (lo - p_start)
            other_at = file_offset + (lo - start)
            if buf[kept_at : kept_at + hi - lo] != buf[other_at : other_at + hi - lo]:
                self.conflicts.append(Conflict(lo, hi - lo, self.p_frame[j], kept_at, frame, other_at))

    def _find_gaps(self) -> list[Gap]:
        """Holes between delivered pieces, before the first and after the last."""
        count = len(self.p_start)
        order: range | list[int] = (
            range(count) if self.in_order else sorted(range(count), key=self.p_start.__getitem__)
        )
        holes: list[tuple[int, int, bool]] = []  # (start, end, after the last captured byte)
        pos = self.origin()
        for j in order:
            start = self.p_start[j]
            if start > pos:
                holes.append((pos, start, False))
            pos = max(pos, start + self.p_len[j])
        if self.next > pos:
            holes.append((pos, self.next, False))
        tail = max(pos, self.next)
        end = self.fin_offset if self.fin_offset is not None else self.max_ack
        if end is not None and end > tail:
            holes.append((tail, end, True))
        gaps = []
        origin = self.origin()
        for lo, hi, trailing in holes:
            if self.cut_at is not None and lo >= self.cut_at:
                break
            acked = self.max_ack is not None and self.max_ack >= hi
            if trailing:
                cause = GapCause.END
            elif any(a < hi and b > lo for a, b in self.snaplen_holes):
                cause = GapCause.SNAPLEN
            else:
                cause = GapCause.NOT_CAPTURED
            gaps.append(Gap(lo - origin, hi - lo, acked, cause))
        return gaps
