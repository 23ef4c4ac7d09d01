"""The session's fast lanes: whole runs of plain rows applied at once.

Most rows of a connection are *plain*: no SYN, FIN or RST, and either no
payload or a whole segment exactly at its direction's next offset, while the
session is established and not closed, nothing waits behind a hole, no late
bytes wait for a monologue and no size limit applies.  For such a row
``TcpSession.process`` only advances counters, appends a piece, raises the
peer's highest acknowledgement and perhaps turns the monologue.

Two lanes do exactly that for a run of such rows: :func:`apply_plain` in a
Python loop with the state in local variables, and :func:`apply_run` in a
few operations for the whole run, from :class:`RunHints` computed by numpy
for every row beforehand (``flows.hints``), after checking that the
session's real state agrees with what the hints assumed.  Both stop where a
row needs anything more; ``process`` takes that one.  This module is part of
the session's implementation and reaches into its state;
``tests/core/test_fast_path_properties.py`` holds both lanes against the
row-by-row path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from monoview.core.packet import ACK, FIN, RST, SYN
from monoview.core.tcp.seq import SEQ_HALF, SEQ_MOD
from monoview.core.tcp.stream import MAX_WAITING_BYTES

if TYPE_CHECKING:
    from monoview.core.capture.records import PayloadParts
    from monoview.core.tcp.session import Event, TcpSession


class PlainRows(Protocol):
    """Rows of a flow as the fast lane reads them (``replay.FlowRows``)."""

    frame: Sequence[int]
    ts: Sequence[int]
    flags: Sequence[int]
    seq: Sequence[int]
    ack: Sequence[int]
    payload: Sequence[int]
    caplen: Sequence[int]
    wirelen: Sequence[int]
    dir: Sequence[int]
    parts: PayloadParts


def _steady(session: TcpSession) -> bool:
    """Established and in no state the lanes leave to ``TcpSession.process``: not closing,
    no late-filled bytes pending, no size limit (what ``ready`` and ``waiting`` share)."""
    return not (
        session.finished
        or not session.started
        or session.closed
        or session._last_fin_offset is not None
        or session._orphans[0] is not None
        or session._orphans[1] is not None
        or session.budget.remaining is not None
    )


def ready(session: TcpSession) -> bool:
    """Can runs of plain rows be applied to ``session`` as it is now?"""
    s0, s1 = session.streams
    return _steady(session) and not (s0.waiting or s1.waiting)


def apply_plain(
    session: TcpSession, rows: PlainRows, start: int, stop: int, flipped: int, events: list[Event],
    row_base: int = 0,
) -> int:  # fmt: skip
    """Apply rows ``start``.. while they are plain, one by one; return the first row not applied.
    Events name row ``i`` as ``row_base + i`` (``replay.FlowReplay``: rows fed a window at a time)."""
    if not ready(session) or rows.parts:
        return start
    s0, s1 = session.streams
    frames, times, flag_list, seqs, acks = rows.frame, rows.ts, rows.flags, rows.seq, rows.ack
    payloads, caplens, wirelens, dirs = rows.payload, rows.caplen, rows.wirelen, rows.dir
    base = [s0.base_seq, s1.base_seq]
    nxt = [s0.next, s1.next]
    last_ack = [s0._last_ack, s1._last_ack]
    max_ack = [s0.max_ack, s1.max_ack]
    early_ack, early_seq = [s0._early_ack, s1._early_ack], [s0._early_seq, s1._early_seq]
    highest = [s0._highest, s1._highest]
    fin = [s0.fin_offset or 0, s1.fin_offset or 0]
    added = [0, 0]
    count = [0, 0]
    ordered = (s0._sorted_starts is None, s1._sorted_starts is None)
    columns = (
        (s0.p_start.append, s0.p_len.append, s0.p_file.append, s0.p_frame.append, s0.p_ts.append),
        (s1.p_start.append, s1.p_len.append, s1.p_file.append, s1.p_frame.append, s1.p_ts.append),
    )
    size = [len(s0.p_start), len(s1.p_start)]
    i = start
    while i < stop:
        flags = flag_list[i]
        if flags & (SYN | FIN | RST):
            break
        side = dirs[i] ^ flipped
        wirelen = wirelens[i]
        if wirelen:
            own_base = base[side]
            if own_base is None or caplens[i] != wirelen or (seqs[i] - own_base - nxt[side]) % SEQ_MOD:
                break
        elif base[side] is None:
            early_seq[side] = seqs[i]  # as note_bare keeps it
        if flags & ACK:
            peer = 1 - side
            peer_base = base[peer]
            ack = acks[i]
            if peer_base is not None and ack != last_ack[peer]:
                last_ack[peer] = ack
                peer_next = nxt[peer]
                offset = peer_next + ((ack - peer_base - peer_next + SEQ_HALF) % SEQ_MOD) - SEQ_HALF
                limit = max(peer_next, highest[peer], fin[peer]) + MAX_WAITING_BYTES
                highest_ack = max_ack[peer]
                if offset <= limit and (highest_ack is None or offset > highest_ack):
                    max_ack[peer] = offset
            elif peer_base is None:
                early_ack[peer] = ack  # as peer_ack keeps it
        if wirelen:
            offset = nxt[side]
            end = offset + wirelen
            if end > highest[side]:
                highest[side] = end
            piece = size[side]
            if not ordered[side]:
                stream = session.streams[side]
                assert stream._sorted_starts is not None and stream._sorted_index is not None
                stream._sorted_starts.append(offset)  # every piece lies below ``next``
                stream._sorted_index.append(piece)
            add_start, add_len, add_file, add_frame, add_ts = columns[side]
            add_start(offset)
            add_len(wirelen)
            add_file(payloads[i])
            add_frame(frames[i])
            add_ts(times[i])
            size[side] = piece + 1
            nxt[side] = end
            added[side] += wirelen
            count[side] += 1
            current = session._current_side
            if current is None:
                session._current_side, session._current_first = side, piece
            elif current != side:
                session._close_monologue(events, row_base + i)
                session._current_side, session._current_first = side, piece
        i += 1
    if i == start:
        return start
    for side, stream in enumerate(session.streams):
        stream.next = nxt[side]
        stream._last_ack = last_ack[side]
        stream.max_ack = max_ack[side]
        stream._early_ack, stream._early_seq = early_ack[side], early_seq[side]
        stream._highest = highest[side]
        stream.kept += added[side]
        stream.bytes_seen += added[side]
        session.data_packets[side] += count[side]
    session.packets += i - start
    session.last_ts_ns = times[i - 1]
    session.last_frame = frames[i - 1]
    return i


@dataclass
class RunHints:
    """What numpy worked out beforehand for rows laid out flow after flow.

    Offsets here are *hint* offsets: counted from the first data byte each
    flow direction sent, unwrapped along its data segments.  ``apply_run``
    turns them into the session's own offsets with one shift per direction,
    after checking that the two agree.  Per-direction arrays are indexed by
    the direction relative to the flow (0: sent by its first endpoint).
    """

    run_end: memoryview  # per row: first row at or after it that a run must stop at
    before: tuple[memoryview, memoryview]  # per row: hint next offset of each direction before the row
    data_before: tuple[memoryview, memoryview]  # per row and one more: data rows of the direction before it
    row: tuple[memoryview, memoryview]  # per data row of the direction, in order: its row
    start: tuple[memoryview, memoryview]  # per data row of the direction, in order: hint offset
    length: tuple[memoryview, memoryview]
    payload: tuple[memoryview, memoryview]
    frame: tuple[memoryview, memoryview]
    ts: tuple[memoryview, memoryview]
    sent_before: tuple[memoryview, memoryview]  # per data row and one more: bytes of the direction before it
    acked: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]  # per row: hint offset it ACKs, or NO_ACK
    far_before: tuple[
        memoryview, memoryview
    ]  # per row and one more: ACKs beyond hint next + 64 MiB before it
    last_ack: tuple[memoryview, memoryview]  # per row: the latest row of its flow at or before it that ACKs
    turns_before: (
        memoryview  # per row and one more: data rows before it whose direction differs from the last
    )
    turns: npt.NDArray[np.bool_]  # per row: a data row whose direction differs from the flow's previous one
    origin: tuple[memoryview, memoryview]  # per flow (span): sequence number at hint offset 0, -1 if unknown


NO_ACK = np.iinfo(np.int64).min


def apply_run(
    session: TcpSession, hints: RunHints, rows: PlainRows, span: int, i: int, j: int, flipped: int,
    events: list[Event],
) -> bool:  # fmt: skip
    """Apply rows ``i``..``j``-1, all plain by the hints, in one go; False (and nothing
    changed) if the session's state does not agree with the hints.  The session must
    be :func:`ready`."""
    streams = session.streams
    plan = []
    early = []  # ACKs of directions that have sent nothing yet: only the latest is kept
    for side in (0, 1):
        d = side ^ flipped
        stream = streams[side]
        a, b = hints.data_before[d][i], hints.data_before[d][j]
        acks = hints.last_ack[d][j - 1] >= i
        if a == b and not acks:
            continue
        if stream.base_seq is None:
            if a != b:
                return False
            # Kept as peer_ack and note_bare keep them, once the run is sure to be applied.
            last_bare = next((k for k in range(j - 1, i - 1, -1) if rows.dir[k] == d), None)
            if acks or last_bare is not None:
                early.append((stream, rows.ack[hints.last_ack[d][j - 1]] if acks else None, last_bare))
            continue
        origin = hints.origin[d][span]
        hint_next = hints.before[d][i]
        if origin < 0 or (stream.base_seq + stream.next - origin - hint_next) % SEQ_MOD:
            return False
        if acks and hints.far_before[d][j] != hints.far_before[d][i]:
            return False
        plan.append((side, d, a, b, stream.next - hint_next, acks))
    if not plan:
        return False
    for stream, ack, bare in early:
        if ack is not None:
            stream._early_ack = int(ack)
        if bare is not None:
            stream._early_seq = int(rows.seq[bare])
    sizes = [len(streams[0].p_start), len(streams[1].p_start)]
    for side, d, a, b, shift, acks in plan:
        stream = streams[side]
        if acks:
            offset = shift + int(hints.acked[d][i:j].max())
            if stream.max_ack is None or offset > stream.max_ack:
                stream.max_ack = offset
            stream._last_ack = rows.ack[hints.last_ack[d][j - 1]]
        if a == b:
            continue
        starts = hints.start[d][a:b]
        if shift:
            starts = (np.frombuffer(starts, dtype=np.int64) + shift).data
        if stream._sorted_starts is not None and stream._sorted_index is not None:
            stream._sorted_starts.frombytes(starts.cast("B"))  # every piece lies below ``next``
            stream._sorted_index.extend(range(sizes[side], sizes[side] + b - a))
        stream.p_start.frombytes(starts.cast("B"))
        stream.p_len.frombytes(hints.length[d][a:b].cast("B"))
        stream.p_file.frombytes(hints.payload[d][a:b].cast("B"))
        stream.p_frame.frombytes(hints.frame[d][a:b].cast("B"))
        stream.p_ts.frombytes(hints.ts[d][a:b].cast("B"))
        sent = hints.sent_before[d][b] - hints.sent_before[d][a]
        stream.kept += sent
        stream.bytes_seen += sent
        stream.next = shift + hints.start[d][b - 1] + hints.length[d][b - 1]
        if stream.next > stream._highest:
            stream._highest = stream.next
        session.data_packets[side] += b - a
    _turns(session, hints, rows, i, j, flipped, sizes, events)
    session.packets += j - i
    session.last_ts_ns = rows.ts[j - 1]
    session.last_frame = rows.frame[j - 1]
    return True


def _turns(
    session: TcpSession, hints: RunHints, rows: PlainRows, i: int, j: int, flipped: int, sizes: list[int],
    events: list[Event],
) -> None:  # fmt: skip
    """Turn the monologue where the run's data changes direction, as each delivery would have."""
    first = -1
    for d in (0, 1):
        a = hints.data_before[d][i]
        if a < hints.data_before[d][j] and (first < 0 or hints.row[d][a] < first):
            first = hints.row[d][a]
    if first < 0:
        return
    side = rows.dir[first] ^ flipped
    _deliver(session, side, sizes[side], sizes[1 - side], events)
    if hints.turns_before[j] == hints.turns_before[first + 1]:
        return
    for q in (np.flatnonzero(hints.turns[first + 1 : j]) + first + 1).tolist():
        side = rows.dir[q] ^ flipped
        d, other = side ^ flipped, (1 - side) ^ flipped
        piece = sizes[side] + hints.data_before[d][q] - hints.data_before[d][i]
        closing = sizes[1 - side] + hints.data_before[other][q] - hints.data_before[other][i]
        _deliver(session, side, piece, closing, events)


def _deliver(session: TcpSession, side: int, piece: int, other_pieces: int, events: list[Event]) -> None:
    """``TcpSession._delivered`` for a first piece ``piece`` of ``side`` while the other side
    has ``other_pieces`` (no late bytes wait: the lanes only run without them)."""
    current = session._current_side
    if current is None:
        session._current_side, session._current_first = side, piece
    elif current != side:
        session._close_monologue(events, None, other_pieces)
        session._current_side, session._current_first = side, piece


def waiting(session: TcpSession) -> bool:
    """Is ``session`` established and plain but for segments waiting behind a hole?"""
    s0, s1 = session.streams
    return bool(s0.waiting or s1.waiting) and _steady(session)


def apply_waiting(session: TcpSession, rows: PlainRows, start: int, stop: int, flipped: int) -> int:
    """Apply rows ``start``.. while a hole keeps segments waiting and each row only adds to
    that: a segment beyond its direction's next offset (it waits too), or an ACK that
    releases nothing.  Returns the first row not applied.  The session must be
    :func:`waiting`.
    """
    if rows.parts:
        return start
    streams = session.streams
    frames, times, flag_list, seqs, acks = rows.frame, rows.ts, rows.flags, rows.seq, rows.ack
    payloads, caplens, wirelens, dirs = rows.payload, rows.caplen, rows.wirelen, rows.dir
    i = start
    while i < stop:
        flags = flag_list[i]
        if flags & (SYN | FIN | RST):
            break
        side = dirs[i] ^ flipped
        own = streams[side]
        wirelen = wirelens[i]
        offset = 0
        if wirelen:
            if own.base_seq is None:
                break
            nxt = own.next
            offset = nxt + ((seqs[i] - own.base_seq - nxt + SEQ_HALF) % SEQ_MOD) - SEQ_HALF
            if offset <= nxt or own._waiting_bytes + wirelen > MAX_WAITING_BYTES:
                break
        acked: int | None = None  # the offset acknowledged, if it counts
        peer = streams[1 - side]
        ack = acks[i]
        noted = flags & ACK and peer.base_seq is not None and (ack != peer._last_ack or peer.waiting)
        if noted:
            assert peer.base_seq is not None
            peer_next = peer.next
            acked = peer_next + ((ack - peer.base_seq - peer_next + SEQ_HALF) % SEQ_MOD) - SEQ_HALF
            if acked > max(peer_next, peer._highest, peer.fin_offset or 0) + MAX_WAITING_BYTES:
                acked = None  # ignored, as peer_ack ignores it
            elif peer.waiting and acked > peer.lowest_waiting():
                break  # it would pass over the hole: process() takes it
        # Nothing below can fail: apply the row.
        if noted:
            peer._last_ack = ack
            if acked is not None and (peer.max_ack is None or acked > peer.max_ack):
                peer.max_ack = acked
        elif flags & ACK and peer.base_seq is None:
            peer._early_ack = ack  # as peer_ack keeps it
        if not wirelen and own.base_seq is None:
            own._early_seq = seqs[i]  # as note_bare keeps it
        if wirelen:
            caplen = caplens[i]
            own.bytes_seen += wirelen
            end = offset + wirelen
            if end > own._highest:
                own._highest = end
            own.wait(offset, caplen, wirelen, payloads[i], frames[i], times[i])
            session.data_packets[side] += 1
            if caplen < wirelen:
                session.truncated_packets += 1
        i += 1
    if i != start:
        session.packets += i - start
        session.last_ts_ns = times[i - 1]
        session.last_frame = frames[i - 1]
    return i
