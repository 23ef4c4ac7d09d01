"""Replay one flow's rows of the packet index through the exact reassembler.

A flow (both endpoints and a context) holds one session, or several when its
4-tuple is reused; they follow each other in the flow's rows, so a session is
a contiguous run of them and can be replayed on its own.  The decisions are
the ones the per-packet table makes (``table.starts_new_session``,
``table.outlived``) and the reassembly is ``TcpSession`` itself, so a replayed
session is the session the per-packet path builds, bit for bit
(``tests/core/test_replay.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from monoview.core.capture.records import PayloadBuffer, PayloadParts
from monoview.core.packet import SegmentKind
from monoview.core.tcp.runs import RunHints, apply_plain, apply_run, apply_waiting, ready, waiting
from monoview.core.tcp.session import Endpoint, Event, TcpSession
from monoview.core.tcp.table import LINGER_NS, outlived, starts_new_session

# Runs shorter than this are cheaper one row at a time.
RUN_MIN = 8


@dataclass
class FlowRows:
    """One flow's rows in capture order, as Python lists (what the replay loop reads)."""

    frame: Sequence[int]
    ts: Sequence[int]
    flags: Sequence[int]
    seq: Sequence[int]
    ack: Sequence[int]
    payload: Sequence[int]
    caplen: Sequence[int]
    wirelen: Sequence[int]
    dir: Sequence[int]  # 1 when sent by the flow's second endpoint
    parts: PayloadParts = field(default_factory=dict)  # (frame, payload) -> pieces (IP fragments)

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class Replayed:
    """A session replayed from rows ``first``..``stop``-1 of its flow, with the events it caused."""

    session: TcpSession
    first: int
    stop: int
    flipped: int  # 1 when side 0 (the first packet's sender) is the flow's second endpoint
    events: list[Event]
    kinds: dict[int, SegmentKind] = field(default_factory=dict)  # of the rows that events name


def replay_flow(
    buf: PayloadBuffer,
    rows: FlowRows,
    context: tuple[int, ...],
    endpoints: tuple[Endpoint, Endpoint],
    *,
    start: int = 0,
    stop: int | None = None,
    max_session_size: int | None = None,
    linger_ns: int = LINGER_NS,
    end_reason: str = "capture end",
    fast: bool = True,
    hints: RunHints | None = None,
    span: int = 0,
    log: list[tuple[int, SegmentKind, int]] | None = None,
    on_row: Callable[[Replayed, int, SegmentKind], None] | None = None,
) -> list[Replayed]:
    """The sessions of rows ``start``..``stop``-1 of a flow, finished, in order.

    ``end_reason`` is what ends the last one if nothing in the rows does (the
    capture ran out, or the row after ``stop`` reuses the 4-tuple).  Events
    name packets by their row number in the flow.  ``fast`` lets runs of plain
    rows take the fast lanes of ``tcp.runs``: with ``hints`` (computed for these
    rows; ``span`` is this flow's place among them) long runs are applied whole.
    The result is the same either way.  ``log`` (with ``fast`` off) gets, for
    every row, its kind and how many of its session's events came before it.
    ``on_row`` is called after each row (the rows are then taken one by one),
    so whoever hands the events on sees each session as it was at that row.
    """
    replay = FlowReplay(
        buf, context, endpoints, max_session_size=max_session_size, linger_ns=linger_ns, fast=fast, log=log,
        on_row=on_row,
    )  # fmt: skip
    replay.feed(rows, start, len(rows) if stop is None else stop, hints=hints, span=span)
    return replay.close(end_reason)


class FlowReplay:
    """``replay_flow`` fed its rows a window at a time (``feed``, then ``close``): the rows of
    one giant flow and their run hints need not all be in memory at once.  Row numbers (the
    events' packets, ``Replayed.first`` and ``stop``) count from the first row fed, whatever
    window a row came in; the result is ``replay_flow``'s on all the rows at once."""

    def __init__(
        self,
        buf: PayloadBuffer,
        context: tuple[int, ...],
        endpoints: tuple[Endpoint, Endpoint],
        *,
        max_session_size: int | None = None,
        linger_ns: int = LINGER_NS,
        fast: bool = True,
        log: list[tuple[int, SegmentKind, int]] | None = None,
        on_row: Callable[[Replayed, int, SegmentKind], None] | None = None,
    ) -> None:
        self.buf, self.context, self.endpoints = buf, context, endpoints
        self.max_session_size, self.linger_ns = max_session_size, linger_ns
        self.log, self.on_row = log, on_row
        self.fast = fast and on_row is None
        self.out: list[Replayed] = []
        self.current: Replayed | None = None
        self.fed = 0  # the default ``base`` of the next window: right after the last one

    def feed(
        self, rows: FlowRows, start: int, stop: int, *, hints: RunHints | None = None, span: int = 0,
        base: int | None = None,
    ) -> None:  # fmt: skip
        """Rows ``start``..``stop``-1 of ``rows`` (``hints`` computed for ``rows``); row ``i``
        is numbered ``base + i`` (by default ``base`` follows on from the rows fed before)."""
        base = self.fed if base is None else base
        self.fed = base + stop
        fast, log, on_row, linger_ns = self.fast, self.log, self.on_row, self.linger_ns
        frames, times, flag_list, seqs, acks = rows.frame, rows.ts, rows.flags, rows.seq, rows.ack
        payloads, caplens, wirelens, dirs = rows.payload, rows.caplen, rows.wirelen, rows.dir
        pieces = rows.parts.get if rows.parts else None  # rows reassembled from IP fragments
        current = self.current
        i = start
        while i < stop:
            if fast and current is not None and ready(current.session):
                if hints is not None:
                    end = min(hints.run_end[i], stop)
                    if end - i >= RUN_MIN and apply_run(
                        current.session, hints, rows, span, i, end, current.flipped, current.events
                    ):
                        i = end
                        continue
                after = apply_plain(current.session, rows, i, stop, current.flipped, current.events, base)
                if after != i:
                    i = after
                    continue
            elif fast and current is not None and waiting(current.session):
                after = apply_waiting(current.session, rows, i, stop, current.flipped)
                if after != i:
                    i = after
                    continue
            ref = base + i
            direction, flags, seq, ack, wirelen = dirs[i], flag_list[i], seqs[i], acks[i], wirelens[i]
            logged = len(current.events) if current is not None else 0
            if current is not None:
                session = current.session
                side = direction ^ current.flipped
                events = current.events
                if session.closed and outlived(session, times[i], linger_ns):
                    session.finish(events)
                if starts_new_session(session, side, flags, seq, ack, wirelen):
                    session.finish(events, "reused")
                    current.stop = ref
                    current = None
            if current is None:
                first, second = self.endpoints if not direction else self.endpoints[::-1]
                session = TcpSession(0, self.context, first, second, self.buf, self.max_session_size)
                current = Replayed(session, ref, base + stop, direction, [])
                self.out.append(current)
                side = 0
            kind = current.session.process(
                side, frames[i], times[i], flags, seq, ack, payloads[i], caplens[i], wirelen,
                pieces((frames[i], payloads[i])) if pieces is not None else None, ref, current.events,
            )  # fmt: skip
            session = current.session
            if len(current.events) != logged or session.end_ref == ref or session.handshake_ref == ref:
                current.kinds[ref] = kind
            if log is not None:
                log.append((ref, kind, logged if current.first != ref else 0))
            if on_row is not None:
                on_row(current, ref, kind)
            i += 1
        if current is not None:
            current.stop = base + stop
        self.current = current

    def close(self, end_reason: str = "capture end") -> list[Replayed]:
        """Finish the last session (``end_reason``: see ``replay_flow``); every session, in order."""
        if self.current is not None:
            self.current.session.finish(self.current.events, end_reason)
            self.current = None
        return self.out
