"""Segments behind a hole: what they cost while they wait, and the order they leave in (issue 6).

The memory test counts bytes with tracemalloc (it sees ``array`` buffers and
Python objects alike); the order test holds the compact queue against a
plain model of what it replaced: a dict in arrival order, and a sort by
(offset, arrival) once more than ``SCAN_LIMIT`` wait.
"""

from __future__ import annotations

import pickle
import random
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from monoview.core.capture.ranges import mapped
from monoview.core.document import CaptureDocument
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.table import session_rows
from monoview.core.packet import SegmentKind
from monoview.core.tcp import waiting as waiting_module
from monoview.core.tcp.stream import DirectionStream
from monoview.core.tcp.waiting import SCAN_LIMIT, WaitingQueue
from tests.core.test_linear_time import _lossy_with_dup_acks

SIZE = 100
ISN = 1000


def _held(n: int, order: str) -> tuple[float, DirectionStream]:
    """Bytes allocated (and still held) per segment while ``n`` segments wait behind a lost
    first one, and the stream."""
    offsets = list(range(SIZE, (n + 1) * SIZE, SIZE))
    if order == "descending":
        offsets.reverse()
    elif order == "shuffled":
        random.Random(n).shuffle(offsets)
    stream = DirectionStream(bytes((n + 1) * SIZE))
    stream.note_syn(ISN)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for frame, offset in enumerate(offsets):
            seq = ISN + 1 + offset
            kind = stream.add_segment(seq, SIZE, SIZE, offset, frame, frame * 1000)
            assert kind is SegmentKind.FUTURE
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return held / n, stream


@pytest.mark.parametrize(
    ("order", "per_segment"), [("ascending", 60), ("descending", 60), ("shuffled", 100)]
)
def test_waiting_segments_cost_tens_of_bytes(order: str, per_segment: int) -> None:
    """A segment waiting behind a hole once cost ~340 bytes of Python objects (a dataclass,
    its ints, a dict entry and a heap tuple); now a slot of a few ``array`` columns and of
    the ascending run or the descending stack, or a packed heap key when it arrives in no
    order.  The cost per segment does not grow
    with their number, and filling the hole delivers them all, in offset order."""
    small, _ = _held(4_000, order)
    large, stream = _held(16_000, order)
    assert large < per_segment, f"{large:.0f} B a waiting segment"
    assert large < small * 1.1 + 4
    assert stream.add_segment(ISN + 1, SIZE, SIZE, 0, 99_999, 0) is SegmentKind.DATA
    assert not stream.waiting and stream.next == 16_001 * SIZE
    assert list(stream.p_start) == list(range(0, 16_001 * SIZE, SIZE))


# Rows a chunk holds in the listing tests: the flows there are many chunks long, as a giant
# flow is many of the real ones (``flows.table.CHUNK_ROWS``).
CHUNK = 1_000


def _listing_peak(path: Path, reverse: bool) -> int:
    """Peak bytes allocated while the session list of ``path`` is made from its rows read
    (tracemalloc sees numpy's buffers too); checks it against the whole (unchunked) pass."""
    document = CaptureDocument(path, workers=1)
    try:
        grouped = GroupedRows.of_parts(document.parts)
        with mapped(str(path)) as buf:
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                rows = session_rows(grouped, buf, document.flows, chunk=CHUNK)
                peak = tracemalloc.get_traced_memory()[1] - base
            finally:
                tracemalloc.stop()
            # The whole pass takes this flow as clean, by the vectorised tiling of
            # ``flows.reordered``: an independent reckoning of the same row.
            assert np.array_equal(rows, session_rows(grouped, buf, document.flows))
        (row,) = rows
        assert row["gaps0"] == 0 and row["kept0"] == (len(document.parts) - 4) // 2 * 100 + 100, reverse
        return peak
    finally:
        document.close()


@pytest.mark.parametrize("reverse", [False, True])
def test_listing_a_flow_behind_a_hole_costs_tens_of_bytes_a_segment(tmp_path: Path, reverse: bool) -> None:
    """One lost segment, sent last, then thousands each answered by a duplicate ACK
    (``bench/linear_shapes.py dup-acks``): in a flow of many chunks every later segment
    waits for the exact reassembler, which holds it until the end.  The listing's peak
    once grew by ~730 bytes a segment (Python objects in the queue, the whole flow's rows
    and run hints as int64 columns); now by the queue's slot (49 bytes) and the delivered
    piece (40) as the one gives way to the other.  82 B a segment before the gaps' pass
    and the queue's compactions were cut in blocks and the queue compacted sooner (issue 6:
    their temporaries over every piece at once were the peak), 67 after."""
    small = _listing_peak(_lossy_with_dup_acks(tmp_path, 4_000, reverse), reverse)
    large = _listing_peak(_lossy_with_dup_acks(tmp_path, 16_000, reverse), reverse)
    per_segment = (large - small) / 12_000
    assert per_segment < 75, f"{per_segment:.0f} B a segment"


class _Model:
    """The queue as it was: a dict in arrival order, by (offset, arrival) with many waiting."""

    def __init__(self) -> None:
        self.held: dict[int, int] = {}  # arrival -> offset
        self.arrivals = 0
        self.by_offset = False

    def add(self, offset: int) -> None:
        self.held[self.arrivals] = offset
        self.arrivals += 1
        if len(self.held) > SCAN_LIMIT:
            self.by_offset = True

    def first_within(self, limit: int) -> int | None:
        return next((k for k, offset in self.held.items() if offset <= limit), None)

    def peek(self) -> tuple[int, int]:
        return min((offset, k) for k, offset in self.held.items())

    def take(self, number: int) -> int:
        offset = self.held.pop(number)
        if not self.held:
            self.by_offset = False
        return offset


@pytest.mark.parametrize("block", [1 << 15, 1, 3])
@pytest.mark.parametrize("seed", range(12))
def test_queue_leaves_in_the_order_of_the_dict_and_heap_it_replaced(
    seed: int, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Random adds and takes (by scan or by offset, as the stream takes them), across the
    switch to the index, the compactions (their copies cut in blocks of any size) and the
    resets: the same segments, in the same order."""
    monkeypatch.setattr(waiting_module, "COMPACT_BLOCK", block)
    rng = random.Random(seed)
    queue, model = WaitingQueue(), _Model()
    slot_of: dict[int, int] = {}  # the model's arrival -> the queue's current slot
    for _step in range(3_000):
        if not model.held or rng.random() < 0.55:
            offset = rng.choice([rng.randrange(-50, 5_000), model.arrivals * 3, -model.arrivals])
            queue.add(offset, 7, 9, offset + 40, model.arrivals, model.arrivals * 10)
            model.add(offset)
            assert len(queue) == len(model.held) and queue.by_offset == model.by_offset
            continue
        slots = _slots(queue)
        slot_of = dict(zip(model.held, slots, strict=True))
        if model.by_offset and rng.random() < 0.8:
            offset, number = model.peek()
            assert queue.peek() == (offset, slot_of[number])
        else:
            limit = rng.randrange(-60, 5_100)
            number_or_none = model.first_within(limit)
            found = queue.first_within(limit)
            assert found == (None if number_or_none is None else slot_of[number_or_none])
            if number_or_none is None:
                assert queue.lowest() == min(model.held.values())
                continue
            number = number_or_none
        expected = model.take(number)
        offset, caplen, wirelen, file_offset, frame, ts = queue.take(slot_of[number])
        assert (offset, caplen, wirelen, file_offset, frame, ts) == (expected, 7, 9, expected + 40, number,
                                                                     number * 10)  # fmt: skip
    assert len(queue) == len(model.held)


def _slots(queue: WaitingQueue) -> list[int]:
    """The queue's live slots in arrival order (what ``first_within`` scans)."""
    return [slot for slot, live in enumerate(queue._live) if live]


def test_a_stream_with_waiting_segments_pickles() -> None:
    """Sessions go between processes pickled: the queue goes with them."""
    _per, stream = _held(200, "shuffled")
    copy = pickle.loads(pickle.dumps(stream))
    copy.rebind(bytes(201 * SIZE))
    assert len(copy.waiting) == 200 and copy.lowest_waiting() == SIZE
    assert copy.add_segment(ISN + 1, SIZE, SIZE, 0, 99_999, 0) is SegmentKind.DATA
    assert list(copy.p_start) == list(range(0, 201 * SIZE, SIZE))


def test_a_queue_that_holds_nothing_costs_almost_nothing() -> None:
    """Most directions never hold a segment back, yet each made its queue's ten columns (a
    storm of 6,000 tiny sessions made 12,000 queues: a tenth of its replay's CPU when
    dispatched, fuzz 41:143563); now an empty queue shares empty columns, and gets its own at
    its first segment (fails before: ~700 bytes a queue).  Queues filled and emptied again
    beside one that stays empty keep their segments apart."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        queues = [WaitingQueue() for _ in range(1_000)]
        held = (tracemalloc.get_traced_memory()[0] - before) / len(queues)
    finally:
        tracemalloc.stop()
    assert held < 150, f"{held:.0f} B an empty queue"
    empty, used = queues[0], queues[1]
    for round_ in range(3):
        used.add(10 * round_, 5, 5, 100, 7 + round_, 1)
        assert len(used) == 1 and used.first_frame() == 7 + round_ and used.lowest() == 10 * round_
        assert used.take(0) == (10 * round_, 5, 5, 100, 7 + round_, 1)
        assert not used and not empty and empty.first_frame() == 1 << 62
    for other in queues[2:]:
        assert not other and other.first_within(1 << 40) is None
