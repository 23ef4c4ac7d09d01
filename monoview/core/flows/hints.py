"""Run hints for the exact replay: computed by numpy for every row of many flows at once.

For rows laid out flow after flow this finds, without any session state,
where runs of plain in-order rows end and what applying each one would do:
each direction's data segments unwrapped into *hint* offsets from its first
data byte, the running end of what it sent, the offset every ACK
acknowledges, and prefix counts and sums that make any run's effect a few
lookups (``tcp.runs.RunHints``).  The replay checks at each run that the
session's real state agrees before it uses them, so a wrong hint can only
cost speed, never change a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.flows.grouped import as_q
from monoview.core.tcp.runs import NO_ACK, RunHints
from monoview.core.tcp.seq import SEQ_HALF, SEQ_MASK
from monoview.core.tcp.stream import MAX_WAITING_BYTES

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
# A flow direction whose unwrapped offsets spread wider than this gets no hints.
MAX_HINT_SPAN: Final = 1 << 44


def _prefix(mask: Bool) -> I64:
    """How many of ``mask`` hold before each position (and one past the end)."""
    out = np.zeros(len(mask) + 1, dtype=np.int64)
    np.cumsum(mask, out=out[1:])
    return out


def _latest(mask: Bool, group_start: I64) -> I64:
    """Per row, the latest row at or before it in its group where ``mask`` holds (-1 if none)."""
    position = np.arange(len(mask), dtype=np.int64)
    seen = np.maximum.accumulate(np.where(mask, position, -1))
    out: I64 = np.where(seen >= group_start, seen, -1)
    return out


@dataclass
class _Direction:
    """One direction's share of the hints (see RunHints)."""

    rows: I64
    count: I64
    before: I64
    start: I64
    acked: I64
    far: I64
    last_ack: I64
    origin: I64


def run_hints(columns: dict[str, I64], spans: list[tuple[int, int]], parts: set[int]) -> RunHints:
    """Hints for rows laid out flow after flow (``spans``: each flow's rows)."""
    n = len(columns["frame"])
    starts = np.array([a for a, _b in spans], dtype=np.int64)
    lengths = np.array([b - a for a, b in spans], dtype=np.int64)
    of_row = np.repeat(np.arange(len(spans)), lengths)
    group_start = starts[of_row]
    group_end = group_start + lengths[of_row]
    flags, seq, ack = columns["flags"], columns["seq"], columns["ack"]
    caplen, wirelen, direction = columns["caplen"], columns["wirelen"], columns["dir"]
    data = wirelen > 0
    plain = (flags & 0x07 == 0) & (~data | (caplen == wirelen))
    if parts:
        plain &= ~np.isin(columns["frame"], np.fromiter(parts, dtype=np.int64))
    in_order = ~data
    hinted = np.ones(len(spans), dtype=np.bool_)
    per_dir: list[_Direction] = []
    for d in (0, 1):
        rows = np.flatnonzero(data & (direction == d))
        group = of_row[rows]
        first = np.ones(len(rows), dtype=np.bool_)
        first[1:] = group[1:] != group[:-1]
        step = np.zeros(len(rows), dtype=np.int64)
        step[1:] = ((seq[rows][1:] - seq[rows][:-1] + SEQ_HALF) & SEQ_MASK) - SEQ_HALF
        step[first] = 0
        unwrapped = np.cumsum(step)
        unwrapped -= np.repeat(unwrapped[first], np.diff(np.append(np.flatnonzero(first), len(rows))))
        end = unwrapped + wirelen[rows]
        # Flows whose offsets spread too wide for the running maximum below get no hints.
        spread = np.zeros(len(spans), dtype=np.int64)
        np.maximum.at(spread, group, np.abs(end))
        hinted &= spread < MAX_HINT_SPAN
        ladder = end + group * (2 * MAX_HINT_SPAN)
        running = np.maximum.accumulate(np.where(hinted[group], ladder, 0)) - group * (2 * MAX_HINT_SPAN)
        before_data = np.empty(len(rows), dtype=np.int64)
        before_data[1:] = running[:-1]
        before_data[first] = 0
        in_order[rows] = unwrapped == before_data
        # The hint next offset before every row, and what each ACK acknowledges.
        count = _prefix(data & (direction == d))
        last = count[:-1] - 1
        if len(rows):
            valid = (last >= 0) & (rows[np.maximum(last, 0)] >= group_start)
            before = np.where(valid, running[np.maximum(last, 0)], 0)
        else:
            before = np.zeros(n, dtype=np.int64)
        origin = np.full(len(spans), -1, dtype=np.int64)
        origin[group[first]] = seq[rows[first]]
        syn_rows = np.flatnonzero((flags & 0x02 != 0) & (direction == d))
        no_data = origin < 0
        if len(syn_rows):
            first_syn = np.full(len(spans), -1, dtype=np.int64)
            np.maximum.at(first_syn, of_row[syn_rows[::-1]], syn_rows[::-1])  # any SYN row will do
            syn_origin = (seq[np.maximum(first_syn, 0)] + 1) & SEQ_MASK
            origin = np.where(no_data & (first_syn >= 0), syn_origin, origin)
        acks = (flags & 0x10 != 0) & (direction != d)
        row_origin = origin[of_row]
        acked = before + ((ack - row_origin - before + SEQ_HALF) & SEQ_MASK) - SEQ_HALF
        acked = np.where(acks & (row_origin >= 0), acked, NO_ACK)
        far = (acked != NO_ACK) & (acked > before + MAX_WAITING_BYTES)
        per_dir.append(
            _Direction(
                rows, count, before, unwrapped, acked, _prefix(far), _latest(acks, group_start), origin
            )
        )
    ok = plain & in_order & hinted[of_row]
    # Each row's run ends at the next row that is not ok, or at its flow's end.
    breaks = np.append(np.flatnonzero(~ok), n)
    run_end = np.minimum(breaks[np.searchsorted(breaks, np.arange(n))], group_end)
    turns = np.zeros(n, dtype=np.bool_)
    data_rows = np.flatnonzero(data)
    if len(data_rows):
        same_group = of_row[data_rows][1:] == of_row[data_rows][:-1]
        turns[data_rows[1:]] = same_group & (direction[data_rows][1:] != direction[data_rows][:-1])

    def both(key: str) -> tuple[memoryview, memoryview]:
        return as_q(getattr(per_dir[0], key)), as_q(getattr(per_dir[1], key))

    def gathered(name: str) -> tuple[memoryview, memoryview]:
        return as_q(columns[name][per_dir[0].rows]), as_q(columns[name][per_dir[1].rows])

    def sent(d: int) -> memoryview:
        return as_q(np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(wirelen[per_dir[d].rows])]))

    return RunHints(
        run_end=as_q(run_end),
        before=both("before"),
        data_before=both("count"),
        row=both("rows"),
        start=both("start"),
        length=gathered("wirelen"),
        payload=gathered("payload"),
        frame=gathered("frame"),
        ts=gathered("ts"),
        sent_before=(sent(0), sent(1)),
        acked=(per_dir[0].acked, per_dir[1].acked),
        far_before=both("far"),
        last_ack=both("last_ack"),
        turns_before=as_q(_prefix(turns)),
        turns=turns,
        origin=both("origin"),
    )
