"""The gaps of a direction stream: holes between its delivered pieces, before the
first and after the last, each with its cause (not captured, snaplen, end).

Computed once, when the stream finishes (``DirectionStream.finish``).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

import numpy as np

from monoview.core.tcp.records import Gap, GapCause

if TYPE_CHECKING:
    from monoview.core.tcp.stream import DirectionStream

# Above this many pieces, gaps are found by numpy rather than by a Python loop.
VECTOR_PIECES: Final = 256
# Pieces the numpy way takes at a time (its temporaries: a few arrays of this many int64s).
COVER_BLOCK: Final = 1 << 14


def touches_snaplen(stream: DirectionStream, lo: int, hi: int) -> bool:
    """Does [lo, hi) overlap bytes that snaplen cut? (snaplen_holes is sorted, disjoint)"""
    i = bisect.bisect_right(stream.snaplen_holes, (lo, lo))
    return any(a < hi and b > lo for a, b in stream.snaplen_holes[max(i - 1, 0) : i + 1])


def covered(stream: DirectionStream) -> tuple[list[tuple[int, int]], int]:
    """The holes between delivered pieces from the origin on, and where the last piece ends.

    With many pieces this is done by numpy (a running maximum of piece
    ends in stream order), ``COVER_BLOCK`` pieces at a time with the maximum
    carried from block to block: its temporaries over all the pieces at once
    were some 50 bytes a piece, the peak of a flow's whole reassembly when a
    hole held 320,000 segments back (issue 6).  ``tests/core/test_stream_gaps.py``
    holds the ways against each other.
    """
    pos = stream.origin()
    if len(stream.p_start) <= VECTOR_PIECES:
        holes = []
        for j in stream.order():
            start = stream.p_start[j]
            if start > pos:
                holes.append((pos, start))
            pos = max(pos, start + stream.p_len[j])
        return holes, pos
    all_starts = np.frombuffer(stream.p_start, dtype=np.int64)
    all_lens = np.frombuffer(stream.p_len, dtype=np.int64)
    order = stream.order()
    index = None if isinstance(order, range) else np.frombuffer(order, dtype=np.int64)
    found: list[tuple[int, int]] = []
    for lo in range(0, len(all_starts), COVER_BLOCK):
        hi = lo + COVER_BLOCK
        if index is None:
            starts, lens = all_starts[lo:hi], all_lens[lo:hi]
        else:
            starts, lens = all_starts[index[lo:hi]], all_lens[index[lo:hi]]
        reach = np.maximum.accumulate(np.maximum(starts + lens, pos))
        before = np.concatenate([[pos], reach[:-1]])
        at = np.flatnonzero(starts > before)
        found += zip(before[at].tolist(), starts[at].tolist(), strict=True)
        pos = int(reach[-1])
    return found, pos


def find_gaps(stream: DirectionStream) -> list[Gap]:
    """Holes between delivered pieces, before the first and after the last."""
    found, pos = covered(stream)
    holes: list[tuple[int, int, bool]] = [(lo, hi, False) for lo, hi in found]  # (start, end, trailing)
    if stream.next > pos:
        holes.append((pos, stream.next, False))
    tail = max(pos, stream.next)
    end = stream.fin_offset if stream.fin_offset is not None else stream.max_ack
    if end is not None and end > tail:
        holes.append((tail, end, True))
    gaps = []
    origin = stream.origin()
    for lo, hi, trailing in holes:
        if stream.cut_at is not None and lo >= stream.cut_at:
            break
        acked = stream.max_ack is not None and stream.max_ack >= hi
        if trailing:
            cause = GapCause.END
        elif touches_snaplen(stream, lo, hi):
            cause = GapCause.SNAPLEN
        else:
            cause = GapCause.NOT_CAPTURED
        gaps.append(Gap(lo - origin, hi - lo, acked, cause))
    return gaps


# Bytes of zeros one direction's gaps may be written as, in all (an export of a small hostile
# file must not write gigabytes): ``streambytes.MAX_ZERO_FILL`` re-exports it.
ZERO_FILL_PER_DIRECTION = 64 << 20


def fit_in_budget(lengths: Iterable[int], budget: int) -> list[bool]:
    """For each length in order, whether it fits in what is left of ``budget`` after the
    lengths before it that fitted (how an export spends its bytes of zeros on gaps)."""
    left, fits = budget, []
    for length in lengths:
        fits.append(length <= left)
        if fits[-1]:
            left -= length
    return fits
