"""Segments held back behind a hole, in compact columns (issue 6).

One lost segment can hold every later segment of a giant flow back until the
hole fills or is given up: hundreds of thousands of them.  Kept as one Python
object each (with its ints, a dict entry and a heap tuple) they cost about
900 bytes a segment, more than the capture's own bytes; here a segment is a
slot in six ``array`` columns and one byte of a live flag (41 bytes), and its
payload stays in the capture file (only its file offset is kept).

Slots are numbered in arrival order.  While few segments wait, the stream
scans them in that order (Wireshark's order); once more than ``SCAN_LIMIT``
wait at once, an index by (offset, arrival) is kept as well, so that a
release never sorts them all: an ``array`` of slots while they arrive in
ascending offset order (8 bytes a segment, the usual shape: everything after
one lost segment), another while they arrive in descending order (a stack:
the lowest is the latest), a heap of packed ints for the others.  Taken
slots are dropped lazily and the columns compacted once most of them are dead.
"""

from __future__ import annotations

import heapq
from array import array
from typing import Final

import numpy as np

# Beyond this many waiting segments, release them by offset rather than by scanning.
SCAN_LIMIT: Final = 64
# Dead slots are dropped once they outnumber this share of the live ones (and 2 * SCAN_LIMIT):
# a scan then reads at most a few hundred slots, and a queue drained gives its memory back as
# it goes, compacted log(n) times.  The delivered pieces grow meanwhile: a quarter (rather than
# as many dead as live) holds a drained hole's peak, queue and pieces, at 67 bytes a segment
# instead of 71 (``test_waiting``), for copies of 4 slots a slot taken instead of 2.
COMPACT_RATIO: Final = 0.25
# Slots a compaction copies at a time (its temporaries: a few hundred kB).
COMPACT_BLOCK: Final = 1 << 15
# Heap keys pack (offset, slot) in one int, offset * SLOT_SPAN + slot: slots stay below it.
SLOT_SPAN: Final = 1 << 32

Segment = tuple[int, int, int, int, int, int]  # offset, caplen, wirelen, file offset, frame, ts_ns
# The columns of a queue that holds nothing: shared by every such queue and never written to
# (``add`` gives a queue its own first).
_NO_Q: Final = array("q")
_NO_I: Final = array("i")
_NO_LIVE: Final = bytearray()
_NO_HEAP: Final[list[int]] = []


class WaitingQueue:
    """The segments one direction holds back; ``len`` is how many."""

    __slots__ = ("_caplen", "_count", "_file", "_frame", "_heap", "_live", "_offset", "_run", "_run_head",
                 "_stack", "_ts", "_wirelen", "by_offset")  # fmt: skip

    def __init__(self) -> None:
        self._empty()

    def _empty(self) -> None:
        """Hold nothing, with the shared empty columns: most directions never hold a segment
        back, and a storm of tiny sessions made two queues' ten columns for each session (a
        tenth of the replay's CPU when its events are dispatched, fuzz 41:143563)."""
        self._offset = self._file = self._frame = self._ts = self._run = self._stack = _NO_Q
        self._caplen = self._wirelen = _NO_I
        self._live = _NO_LIVE
        self._count = 0
        self.by_offset = False
        self._run_head = 0
        self._heap: list[int] = _NO_HEAP

    def _reset(self) -> None:
        """Hold nothing, in columns of this queue's own (what ``add`` writes to)."""
        # Lengths as the index keeps them (int32); offsets, file offsets, frames, times int64.
        self._offset, self._caplen, self._wirelen = array("q"), array("i"), array("i")
        self._file, self._frame, self._ts = array("q"), array("q"), array("q")
        self._live = bytearray()  # per slot: 1 while it waits
        self._count = 0
        self.by_offset = False  # the index by offset is kept (more than SCAN_LIMIT waited at once)
        self._run = array("q")  # slots in ascending (offset, slot) order, from ``_run_head`` on
        self._run_head = 0
        self._stack = array("q")  # slots in descending (offset, slot) order: the last is the lowest
        self._heap = []  # packed keys of the other indexed slots

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def add(self, offset: int, caplen: int, wirelen: int, file_offset: int, frame: int, ts_ns: int) -> None:
        """Hold a segment (it arrived after every one held)."""
        if not self._live:
            self._reset()  # the first segment since the queue was empty: columns of its own
        slot = len(self._live)
        self._offset.append(offset)
        self._caplen.append(caplen)
        self._wirelen.append(wirelen)
        self._file.append(file_offset)
        self._frame.append(frame)
        self._ts.append(ts_ns)
        self._live.append(1)
        self._count += 1
        if self.by_offset:
            self._index(slot)
        elif self._count > SCAN_LIMIT:
            self.by_offset = True
            for held in self._slots():
                self._index(held)

    def _index(self, slot: int) -> None:
        run, stack, offsets = self._run, self._stack, self._offset
        offset = offsets[slot]
        if len(run) == self._run_head or offset >= offsets[run[-1]]:
            run.append(slot)  # slots only grow: (offset, slot) is above the run's last key
        elif not stack or offset < offsets[stack[-1]]:
            stack.append(slot)
        else:
            heapq.heappush(self._heap, offset * SLOT_SPAN + slot)

    def _slots(self) -> list[int]:
        """The waiting slots, in arrival order."""
        live = self._live
        return [slot for slot in range(len(live)) if live[slot]]

    def first_within(self, limit: int) -> int | None:
        """The earliest arrived waiting slot whose segment starts at or before ``limit``."""
        offsets, live = self._offset, self._live
        for slot in range(len(live)):
            if live[slot] and offsets[slot] <= limit:
                return slot
        return None

    def lowest(self) -> int:
        """The lowest offset a waiting segment starts at (one must wait)."""
        if self.by_offset:
            return self.peek()[0]
        offsets = self._offset
        return min(offsets[slot] for slot in self._slots())

    def peek(self) -> tuple[int, int]:
        """(offset, slot) of the waiting segment first by offset, then arrival (``by_offset``
        only, one must wait)."""
        live, run, stack, heap = self._live, self._run, self._stack, self._heap
        head = self._run_head
        while head < len(run) and not live[run[head]]:
            head += 1
        self._run_head = head
        while stack and not live[stack[-1]]:
            stack.pop()
        while heap and not live[heap[0] % SLOT_SPAN]:
            heapq.heappop(heap)
        best: tuple[int, int] | None = None
        if head < len(run):
            slot = run[head]
            best = (self._offset[slot], slot)
        if stack:
            slot = stack[-1]
            if best is None or (self._offset[slot], slot) < best:
                best = (self._offset[slot], slot)
        if heap:
            offset, slot = divmod(heap[0], SLOT_SPAN)
            if best is None or (offset, slot) < best:
                best = (offset, slot)
        assert best is not None
        return best

    def first_frame(self) -> int:
        """The earliest frame of a waiting segment (a huge number if none)."""
        if not self._count:
            return 1 << 62  # (every session's end asks, of both directions)
        frames = self._frame
        return min((frames[slot] for slot in self._slots()), default=1 << 62)

    def take(self, slot: int) -> Segment:
        """Stop holding ``slot``'s segment and return it."""
        segment = (self._offset[slot], self._caplen[slot], self._wirelen[slot], self._file[slot],
                   self._frame[slot], self._ts[slot])  # fmt: skip
        self._live[slot] = 0
        self._count -= 1
        if not self._count:
            self._empty()
        elif len(self._live) - self._count > max(COMPACT_RATIO * self._count, 2 * SCAN_LIMIT):
            self._compact()
        return segment

    def _compact(self) -> None:
        """Drop the dead slots.  The live ones keep their order, so renumbering them keeps
        the run ascending, the stack descending and the heap's keys in the same order."""
        # Its temporaries come on top of the queue and of the pieces it is being delivered into
        # (a hole's 320,000 segments: the peak of the whole flow's reassembly), so they are
        # bounded: each column and index is copied ``COMPACT_BLOCK`` slots at a time, straight
        # into its new array, and the new numbers are int32 (slots stay below 2**32).
        live = np.frombuffer(self._live, dtype=np.bool_)
        for name in ("_offset", "_caplen", "_wirelen", "_file", "_frame", "_ts"):
            column: array[int] = getattr(self, name)
            values = np.frombuffer(column, dtype=np.int32 if column.typecode == "i" else np.int64)
            fresh = array(column.typecode)
            for lo in range(0, len(values), COMPACT_BLOCK):
                fresh.frombytes(values[lo : lo + COMPACT_BLOCK][live[lo : lo + COMPACT_BLOCK]].data.cast("B"))
            del values
            setattr(self, name, fresh)
        renumbered = np.cumsum(live, dtype=np.int32)
        renumbered -= 1
        for name, first in (("_run", self._run_head), ("_stack", 0)):
            slots = np.frombuffer(getattr(self, name), dtype=np.int64)[first:]
            fresh = array("q")
            for lo in range(0, len(slots), COMPACT_BLOCK):
                block = slots[lo : lo + COMPACT_BLOCK]
                fresh.frombytes(renumbered[block[live[block]]].astype(np.int64).data.cast("B"))
            del slots
            setattr(self, name, fresh)
        self._run_head = 0
        count = len(renumbered) and int(renumbered[-1]) + 1
        if self._heap:  # not in the usual shapes (ascending or descending offsets): no Python
            # list of every slot's new number there (a few MB for a few hundred thousand slots)
            heap = [(key - slot, slot) for key in self._heap if live[slot := key % SLOT_SPAN]]
            self._heap = [base + int(renumbered[slot]) for base, slot in heap]
            heapq.heapify(self._heap)
        del live  # a view of the flags, which are replaced
        self._live = bytearray(b"\x01") * count
