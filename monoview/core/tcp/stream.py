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
* bytes that arrive for a hole already passed over (before the first
  captured segment when no SYN was seen, or a gap given up because the peer
  acknowledged past it, or bytes snaplen cut from an earlier copy) fill it;
* a retransmission whose bytes differ from the first copy is recorded as a
  conflict (the first copy wins, as in every mainstream reassembler);
* bytes cut off by snaplen are gaps, not silently shortened segments.
"""

from __future__ import annotations

import bisect
from array import array
from typing import Final

from monoview.core.capture.records import PayloadBuffer
from monoview.core.packet import SegmentKind
from monoview.core.tcp.gaps import ZERO_FILL_PER_DIRECTION, covered, find_gaps, fit_in_budget
from monoview.core.tcp.records import Conflict, ConflictList, Gap
from monoview.core.tcp.seq import SEQ_HALF, SEQ_MOD
from monoview.core.tcp.waiting import SCAN_LIMIT, WaitingQueue


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
# More bytes than any receive window holds: waiting beyond a hole this long, the
# hole is given up (a one-sided capture never shows the ACKs that would).
MAX_WAITING_BYTES: Final = 64 << 20
# Lower end of the hole before the first captured byte when no SYN fixes the start: what
# arrives for it is a retransmission of bytes sent before the capture began, within one
# receive window of the captured ones, and no window exceeds 2**30 bytes (RFC 7323, window
# scale 14).  A segment from further back is a stray copy (tshark: a spurious
# retransmission), not the stream's start, which would put a gap of gigabytes after it.
BEFORE_START: Final = -(1 << 30)


class DirectionStream:
    """Reassembly state and delivered pieces of one direction.

    Offsets are relative to ``base_seq`` (the first data byte's sequence number,
    or ISN+1 once the SYN is seen).  Public offsets are relative to ``origin()``.
    Pieces are kept in delivery order; once one is delivered below an earlier
    one (a hole filled late), a sorted index is kept beside them.
    """

    def __init__(self, buf: PayloadBuffer, budget: Budget = UNLIMITED) -> None:
        self._buf = buf
        self._budget = budget
        self.base_seq: int | None = None
        self.syn_offset: int | None = None  # offset of ISN+1 once the SYN is seen
        self.isn: int | None = None
        self.next = 0  # next offset expected in order
        self.low = 0  # lowest delivered offset
        self.max_ack: int | None = None  # highest offset the peer acknowledged
        # The peer's latest ACK number before this direction's first byte (or FIN), this side's
        # latest sequence number on a packet without data before it, and what they prove when
        # no SYN fixes the start: the offset (negative) from which bytes were sent before the
        # first captured one (``_set_base``).
        self._early_ack: int | None = None
        self._early_seq: int | None = None  # this side's latest sequence number on a bare packet
        self._acked_start = 0
        self._last_ack = -1  # the peer's last raw ACK number, to skip repeats cheaply
        self._highest = 0  # end of the furthest segment seen
        self.fin_offset: int | None = None
        # Segments held back, in arrival order; with many of them, also indexed by
        # (offset, arrival) so a release never sorts them all (``tcp.waiting``).
        self.waiting = WaitingQueue()
        self._waiting_bytes = 0
        # Holes below ``next`` that later bytes may still fill: sorted, disjoint.
        self._hole_lo: list[int] = []
        self._hole_hi: list[int] = []
        self.p_start = array("q")
        self.p_len = array("q")
        self.p_file = array("q")
        self.p_frame = array("q")
        self.p_ts = array("q")
        self._sorted_starts: array[int] | None = None  # set once pieces are out of order
        self._sorted_index: array[int] | None = None
        self.snaplen_holes: list[tuple[int, int]] = []
        self.conflicts = ConflictList()
        self.cut_at: int | None = None  # offset where max_session_size stopped keeping bytes
        self.bytes_seen = 0  # payload bytes of every data segment, duplicates included
        self.kept = 0  # bytes delivered into pieces
        self.gaps: list[Gap] = []  # origin-relative, filled by finish()
        self._gap_index: tuple[list[Gap], list[int]] | None = None  # gaps and their offsets
        self._fits: tuple[list[Gap], int, list[bool]] | None = None  # gaps, budget, which fit
        # Zeros this direction may be written with; an export lowers it to share its own
        # budget out among its sessions (``export.zeros``).
        self.zero_budget = ZERO_FILL_PER_DIRECTION

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the capture's mapping (see ``TcpSession.__getstate__``)."""
        state = self.__dict__.copy()
        state["_buf"] = None
        return state

    def rebind(self, buf: PayloadBuffer) -> None:
        """Read payload from ``buf`` (the same file, mapped by this process)."""
        self._buf = buf

    # -- sequence numbers -------------------------------------------------

    def _offset(self, seq: int) -> int:
        """Stream offset of ``seq``: the one within 2**31 of ``next``, so that a
        stream wrapping past 2**32 keeps growing instead of jumping back to zero."""
        assert self.base_seq is not None
        nxt = self.next
        return nxt + ((seq - self.base_seq - nxt + SEQ_HALF) % SEQ_MOD) - SEQ_HALF

    def origin(self) -> int:
        """Offset of the stream's first byte: ISN+1 if the SYN was seen, else the lowest byte,
        or where the peer's ACK before it says the direction's bytes began."""
        if self.syn_offset is not None:
            return min(self.syn_offset, self.low)
        return min(0, self.low, self._acked_start)

    @property
    def has_data(self) -> bool:
        """Some payload was delivered or is waiting."""
        return bool(self.p_start or self.waiting or self.bytes_seen)

    @property
    def in_order(self) -> bool:
        """Pieces are sorted by offset (no hole was filled late)."""
        return self._sorted_index is None

    def order(self) -> range | array[int]:
        """Piece indices in stream order."""
        return range(len(self.p_start)) if self._sorted_index is None else self._sorted_index

    def piece_ends_at(self, offset: int) -> bool:
        """Does a delivered piece end exactly at (internal) ``offset``?  Pieces never overlap,
        so only the last one starting before it can."""
        if self._sorted_starts is None or self._sorted_index is None:
            starts: array[int] = self.p_start
            index: range | array[int] = range(len(starts))
        else:
            starts, index = self._sorted_starts, self._sorted_index
        k = bisect.bisect_left(starts, offset) - 1
        if k < 0:
            return False
        j = index[k]
        return self.p_start[j] + self.p_len[j] == offset

    def _set_base(self, seq: int) -> None:
        """The first byte (or FIN) of a direction whose SYN was not seen fixes its offsets.

        Sequence space has no holes: if the peer had already acknowledged a number below it,
        or this side had sent a packet without data numbered below it (its next byte then),
        the bytes from there to this one were sent and not captured.  The stream begins
        there, with a gap (tshark's "bytes missing" at a stream's start, which it takes from
        the sender's own earlier number only).  A number one below is a keep-alive probe's
        (RFC 9293 §3.8.4: SND.NXT-1), not a missing byte; one further back than a window
        (``BEFORE_START``) is a stray copy's, as for segments."""
        self.base_seq = seq % SEQ_MOD
        if self.syn_offset is None:
            self._hole_lo, self._hole_hi = [BEFORE_START], [0]
            evidence = [(self._early_ack, 0), (self._early_seq, -1)]  # (number, what it cannot be)
            for number, probe in evidence:
                if number is not None:
                    before = (number - self.base_seq + SEQ_HALF) % SEQ_MOD - SEQ_HALF
                    if BEFORE_START <= before < 0 and before != probe:
                        self._acked_start = min(self._acked_start, before)

    def note_bare(self, seq: int) -> None:
        """A packet of this side without data, SYN, FIN or RST: before its first byte, its
        sequence number is where that side's bytes stood (``_set_base``)."""
        if self.base_seq is None:
            self._early_seq = seq

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
            self._last_ack = -1
            self._highest = 0
            self._hole_lo, self._hole_hi = [], []
            return
        self.syn_offset = syn = self._offset(isn + 1)
        # Nothing lies before ISN+1: shrink the hole before the first captured byte.
        while self._hole_lo and self._hole_lo[0] < syn:
            if self._hole_hi[0] <= syn:
                del self._hole_lo[0], self._hole_hi[0]
            else:
                self._hole_lo[0] = syn
                break

    def note_fin(self, seq_after_data: int) -> None:
        """Record where the FIN sits (the offset after the last data byte)."""
        if self.base_seq is None:
            self._set_base(seq_after_data)
        self.fin_offset = self._offset(seq_after_data)

    # -- segments ---------------------------------------------------------

    def add_segment(
        self, seq: int, caplen: int, wirelen: int, file_offset: int, frame: int, ts_ns: int
    ) -> SegmentKind:
        """Take a data segment whose first byte has sequence number ``seq``."""
        self.bytes_seen += wirelen
        if self.base_seq is None:
            self._set_base(seq)
        start = self._offset(seq)
        end = start + wirelen
        if end > self._highest:
            self._highest = end
        nxt = self.next
        filled = False
        if start < nxt:
            if wirelen == 1 and start == nxt - 1:
                # A keep-alive probe: one garbage byte just below next (Wireshark's rule);
                # never data, even where that byte is a hole.
                return SegmentKind.KEEPALIVE
            if self._hole_lo:
                filled = self._fill(start, min(start + caplen, nxt), file_offset, frame, ts_ns)
            if end <= nxt:
                # Bytes that were not a hole's are a second copy: compare them.
                self._check_overlap(start, caplen, file_offset, frame)
                return SegmentKind.FILL if filled else SegmentKind.DUPLICATE
        if start <= nxt:
            self._deliver(start, caplen, wirelen, file_offset, frame, ts_ns)
            self._release(None)
            return SegmentKind.DATA
        self.wait(start, caplen, wirelen, file_offset, frame, ts_ns)
        if self._waiting_bytes > MAX_WAITING_BYTES:
            # No receive window holds this much: the hole is lost, not late.
            self._release(None, give_up=True)
        return SegmentKind.FUTURE

    def peer_ack(self, ack: int) -> None:
        """The other side acknowledged up to sequence ``ack``: release what it proves lost."""
        if self.base_seq is None:
            self._early_ack = ack  # where this direction's bytes began, once they come
            return
        if ack == self._last_ack and not self.waiting:
            return
        self._last_ack = ack
        offset = self._offset(ack)
        if offset > max(self.next, self._highest, self.fin_offset or 0) + MAX_WAITING_BYTES:
            # No receiver acknowledges that far beyond every byte the sender was seen
            # to send: an old connection's ACK on a reused 4-tuple, or garbage.
            return
        if self.max_ack is None or offset > self.max_ack:
            self.max_ack = offset
        if self.waiting:
            self._release(offset)

    def first_waiting_frame(self) -> int:
        """The earliest frame of a segment still waiting (a huge number if none)."""
        return self.waiting.first_frame()

    def finish(self) -> None:
        """End of the stream: deliver everything still waiting, then list the gaps."""
        self._release(None, give_up=True)
        self.gaps = find_gaps(self)

    def gap_offsets(self) -> list[int]:
        """The gaps' offsets (origin-relative, ascending), computed once per list of gaps."""
        gaps = self.gaps
        if self._gap_index is None or self._gap_index[0] is not gaps:
            self._gap_index = (gaps, [g.offset for g in gaps])
        return self._gap_index[1]

    def fits_in(self, budget: int) -> list[bool]:
        """For each gap in stream order, whether it fits in what is left of ``budget`` after
        the gaps before it that fitted: how a zero-filling export spends its bytes of zeros
        (``streambytes.MAX_ZERO_FILL``); computed once per list of gaps and budget."""
        gaps = self.gaps
        if self._fits is None or self._fits[0] is not gaps or self._fits[1] != budget:
            self._fits = (gaps, budget, fit_in_budget((g.length for g in gaps), budget))
        return self._fits[2]

    def zero_fits(self) -> list[bool]:
        """For each gap, whether a zero-filling writer writes it as zeros (``fits_in`` of this
        direction's ``zero_budget``)."""
        return self.fits_in(self.zero_budget)

    def gaps_near(self, start: int, end: int) -> list[Gap]:
        """The gaps that may touch origin-relative ``[start, end]``: the last one that starts
        before ``start`` and those that start from it to ``end``, found by bisection (a
        monologue asking for its gaps must not scan all of them: quadratic over a session).
        Gaps are sorted and disjoint, so no earlier one can reach ``start``."""
        offsets = self.gap_offsets()
        lo = max(bisect.bisect_left(offsets, start) - 1, 0)
        return self.gaps[lo : bisect.bisect_right(offsets, end)]

    def covered(self) -> tuple[list[tuple[int, int]], int]:
        """The holes between delivered pieces from the origin on, and where the last piece
        ends (``tcp.gaps.covered``)."""
        return covered(self)

    def public_conflicts(self, limit: int | None = None) -> list[Conflict]:
        """Conflicts with origin-relative offsets (the first ``limit`` of them if given)."""
        origin = self.origin()
        chosen = self.conflicts if limit is None else self.conflicts[:limit]
        return [c._replace(offset=c.offset - origin) for c in chosen]

    # -- internals --------------------------------------------------------

    def _append(self, start: int, length: int, file_offset: int, frame: int, ts_ns: int) -> None:
        if self._budget.remaining is None:
            granted = length
        else:
            if self.cut_at is not None:
                return
            granted = self._budget.take(length)
            if granted < length:
                self.cut_at = start + granted
            if granted <= 0:
                return
        index = len(self.p_start)
        if self._sorted_starts is None and index and start < self.p_start[-1]:
            self._sorted_starts = array("q", self.p_start)
            self._sorted_index = array("q", range(index))
        if self._sorted_starts is not None and self._sorted_index is not None:
            pos = bisect.bisect_right(self._sorted_starts, start)
            self._sorted_starts.insert(pos, start)
            self._sorted_index.insert(pos, index)
        self.p_start.append(start)
        self.p_len.append(granted)
        self.p_file.append(file_offset)
        self.p_frame.append(frame)
        self.p_ts.append(ts_ns)
        self.kept += granted
        self.low = min(self.low, start)

    def _add_hole(self, lo: int, hi: int) -> None:
        if hi > lo:
            pos = bisect.bisect_left(self._hole_lo, lo)
            self._hole_lo.insert(pos, lo)
            self._hole_hi.insert(pos, hi)

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
            cut = start + max(caplen, skip)
            self.snaplen_holes.append((cut, start + wirelen))
            self._add_hole(cut, start + wirelen)
        self.next = start + wirelen

    def _fill(self, start: int, stop: int, file_offset: int, frame: int, ts_ns: int) -> bool:
        """Deliver the captured bytes [start, stop) that fall in holes; True if any did."""
        lows, highs = self._hole_lo, self._hole_hi
        i = bisect.bisect_right(highs, start)
        filled = False
        while i < len(lows) and lows[i] < stop:
            lo, hi = max(lows[i], start), min(highs[i], stop)
            if hi <= lo:
                i += 1
                continue
            self._append(lo, hi - lo, file_offset + (lo - start), frame, ts_ns)
            filled = True
            # Keep what is left of the hole on either side.
            left, right = (lows[i], lo), (hi, highs[i])
            del lows[i], highs[i]
            for a, b in (right, left):
                if b > a:
                    lows.insert(i, a)
                    highs.insert(i, b)
            i += (left[1] > left[0]) + (right[1] > right[0])
        return filled

    def _take(self, slot: int) -> None:
        """Deliver (or compare) one waiting segment that starts at or before ``next``."""
        offset, caplen, wirelen, file_offset, frame, ts_ns = self.waiting.take(slot)
        self._waiting_bytes -= wirelen
        if offset < self.next and self._hole_lo:
            self._fill(offset, min(offset + caplen, self.next), file_offset, frame, ts_ns)
        if offset + wirelen > self.next:
            self._deliver(offset, caplen, wirelen, file_offset, frame, ts_ns)
        else:
            self._check_overlap(offset, caplen, file_offset, frame)

    def _skip_to(self, offset: int) -> None:
        """Give the bytes up to ``offset`` up as a gap (a late copy may still fill it)."""
        self._add_hole(self.next, offset)
        self.next = offset

    def wait(self, start: int, caplen: int, wirelen: int, file_offset: int, frame: int, ts_ns: int) -> None:
        """Hold a segment that starts beyond ``next`` (internal offset ``start``) until it fits."""
        self._waiting_bytes += wirelen
        self.waiting.add(start, caplen, wirelen, file_offset, frame, ts_ns)

    def lowest_waiting(self) -> int:
        """The lowest offset a waiting segment starts at (the stream must have one)."""
        return self.waiting.lowest()

    def _release(self, ack: int | None, give_up: bool = False) -> None:
        """Deliver waiting segments that now fit, in Wireshark's order (arrival order first).

        A hole is passed over when the peer acknowledged past it (``ack``) or
        when ``give_up`` is set.  With many segments waiting the scan would be
        quadratic, so they are taken by offset instead.
        """
        waiting = self.waiting
        while waiting:
            if len(waiting) > SCAN_LIMIT:
                self._release_sorted(ack, give_up)
                return
            slot = waiting.first_within(self.next)
            if slot is not None:
                self._take(slot)
                continue
            lowest = waiting.lowest()
            if give_up or (ack is not None and ack > lowest):
                # The receiver had the missing bytes (or the capture ended):
                # a gap in the capture, unless a late copy fills it.
                self._skip_to(lowest)
                continue
            return

    def _release_sorted(self, ack: int | None, give_up: bool) -> None:
        """``_release`` for many waiting segments: by offset, arrival order among equals.

        The index makes a call that releases nothing O(1), so an ACK per segment
        behind a long-lasting hole costs nothing like a sort of the queue each.
        """
        waiting = self.waiting
        while waiting:
            offset, slot = waiting.peek()
            if offset > self.next:
                if not (give_up or (ack is not None and ack > offset)):
                    return
                self._skip_to(offset)
            self._take(slot)

    def _check_overlap(self, start: int, caplen: int, file_offset: int, frame: int) -> None:
        """Compare a second copy of bytes with the delivered first copy; record differences."""
        if caplen <= 0 or not self.p_start:
            return
        end = start + caplen
        if self._sorted_starts is None or self._sorted_index is None:
            starts: array[int] = self.p_start
            index: range | array[int] = range(len(starts))
        else:
            starts, index = self._sorted_starts, self._sorted_index
        lens, files, buf = self.p_len, self.p_file, self._buf
        first = max(bisect.bisect_right(starts, start) - 1, 0)
        for k in range(first, len(starts)):
            p_start = starts[k]
            if p_start >= end:
                break
            j = index[k]
            lo = max(start, p_start)
            hi = min(end, p_start + lens[j])
            if hi <= lo:
                continue
            kept_at = files[j] + (lo - p_start)
            other_at = file_offset + (lo - start)
            if kept_at != other_at and buf[kept_at : kept_at + hi - lo] != buf[other_at : other_at + hi - lo]:
                self.conflicts.add(lo, hi - lo, self.p_frame[j], kept_at, frame, other_at)
