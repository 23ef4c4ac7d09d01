"""Sessions of plainly clean flows, computed for all of them at once with numpy.

A flow is *clean* when the exact reassembler would only ever deliver its
segments in order: it opens with a SYN, every SYN repeats that one and every
SYN/ACK answers it with one ISN, the server's first packet is the SYN/ACK, each
data segment starts exactly where its direction's bytes so far end and was
captured whole, no payload came in IP fragments, and it is never quiet for the
linger time once closed (so it is one session).  For such a flow every field
of its session follows from sums, counts and firsts over its rows, which numpy
computes for every clean flow in one pass.  Anything else (a retransmission,
a hole, a keep-alive, a missing handshake) goes to the exact replay.

The conditions are deliberately strict; what matters is that a flow judged
clean gets exactly the values the replay gives, which
``tests/core/test_session_table.py`` checks on every shared capture and on
random flows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.records import PayloadBuffer, part_frames
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.reordered import tile
from monoview.core.flows.summary import SessionRows, empty
from monoview.core.tcp.seq import SEQ_HALF, SEQ_MASK
from monoview.core.tcp.stream import MAX_WAITING_BYTES

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
_NONE: Final = np.iinfo(np.int64).max  # "no such row"
# Stream offsets this far from 0 are left to the exact replay (the running maximum
# below stacks groups apart by multiples of this).
_SPREAD: Final = 1 << 44
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


class _Groups:
    """Per-group reductions over rows laid out group after group."""

    def __init__(self, bounds: I64) -> None:
        self.starts = bounds[:-1]
        self.counts = np.diff(bounds)
        self.of_row = np.repeat(np.arange(len(self.starts)), self.counts)
        self.position = np.arange(int(bounds[-1]), dtype=np.int64)

    def any(self, mask: Bool) -> Bool:
        out: Bool = np.add.reduceat(mask.astype(np.int64), self.starts) > 0
        return out

    def sum(self, values: I64) -> I64:
        out: I64 = np.add.reduceat(values, self.starts)
        return out

    def first(self, mask: Bool) -> I64:
        """Position of each group's first row where ``mask`` holds (``_NONE`` if none)."""
        out: I64 = np.minimum.reduceat(np.where(mask, self.position, _NONE), self.starts)
        return out

    def last(self, mask: Bool) -> I64:
        """Position of each group's last row where ``mask`` holds (-1 if none)."""
        out: I64 = np.maximum.reduceat(np.where(mask, self.position, -1), self.starts)
        return out

    def before(self, values: I64) -> I64:
        """Each row's sum of ``values`` over the earlier rows of its group."""
        total = np.cumsum(values)
        exclusive = total - values
        out: I64 = exclusive - exclusive[self.starts][self.of_row]
        return out

    def latest(self, mask: Bool) -> I64:
        """Each row's position of the latest row at or before it, in its group, where ``mask``
        holds (-1 if none)."""
        seen = np.maximum.accumulate(np.where(mask, self.position, -1))
        out: I64 = np.where(seen >= self.starts[self.of_row], seen, -1)
        return out


def signed_offset(nxt: I64, number: I64, base: I64 | int) -> I64:
    """``DirectionStream._offset``: the stream offset of ``number`` nearest ``nxt``."""
    out: I64 = nxt + ((number - base - nxt + SEQ_HALF) & SEQ_MASK) - SEQ_HALF
    return out


@dataclass
class _Stream:
    """One direction of every group's stream, as the reassembler would build it."""

    offset: I64  # per row: stream offset of a data row's first byte (0 elsewhere)
    before: I64  # per row: the direction's next offset before the row
    after: I64  # per row: ... after it
    delivering: Bool  # data rows that add bytes
    hole: Bool  # data rows that start beyond ``next`` (clean only if the group is ``tiled``)
    compared: Bool  # data rows whose bytes (or part of them) repeat delivered ones
    spread: Bool  # per group: offsets too far apart for the vectorised running maximum
    tiled: Bool  # per group: holes that fill exactly (``reordered``)
    waiting: Bool  # per row: bytes of this direction wait beyond a hole before the row
    piece: Bool  # per row: the row's bytes [piece_start, piece_end) are a delivered piece
    piece_start: I64
    piece_end: I64
    compare_end: I64  # per compared row: the end of the bytes it repeats

    @classmethod
    def of(cls, g: _Groups, mine: Bool, seq: I64, wirelen: I64, base: I64) -> _Stream:
        """The direction whose data rows are ``mine``; ``base`` per group: its ISN + 1."""
        n = len(mine)
        rows = np.flatnonzero(mine)
        group = g.of_row[rows]
        first = np.ones(len(rows), dtype=np.bool_)
        first[1:] = group[1:] != group[:-1]
        step = np.empty(len(rows), dtype=np.int64)
        step[1:] = ((seq[rows][1:] - seq[rows][:-1] + SEQ_HALF) & SEQ_MASK) - SEQ_HALF
        step[first] = ((seq[rows][first] - base[group[first]] + SEQ_HALF) & SEQ_MASK) - SEQ_HALF
        total = np.cumsum(step)
        lengths = np.diff(np.append(np.flatnonzero(first), len(rows)))
        offset = total - np.repeat((total - step)[first], lengths)
        end = offset + wirelen[rows]
        spread = np.zeros(len(g.starts), dtype=np.bool_)
        far = (np.abs(offset) >= _SPREAD) | (np.abs(end) >= _SPREAD)
        spread[group[far]] = True
        ladder = np.where(far, 0, end) + group * (4 * _SPREAD)
        reach = np.maximum.accumulate(ladder) - group * (4 * _SPREAD)  # running maximum of ends
        before = np.empty(len(rows), dtype=np.int64)
        before[1:] = reach[:-1]
        before[first] = 0
        before = np.maximum(before, 0)
        after = np.maximum(before, end)
        hole = (offset > before) | (before - offset >= SEQ_HALF)
        keepalive = (wirelen[rows] == 1) & (offset == before - 1)
        per_row = np.zeros(n, dtype=np.int64)
        out_offset, out_before = per_row.copy(), per_row.copy()
        out_offset[rows], out_before[rows] = offset, before
        at = g.latest(mine)
        after_rows = per_row.copy()
        after_rows[rows] = after
        after_all = np.where(at >= 0, after_rows[np.maximum(at, 0)], 0)
        first_row = g.position == g.starts[g.of_row]
        before_all = np.where(first_row, 0, after_all[np.maximum(g.position - 1, 0)])
        before_all = np.where(mine, out_before, before_all)

        def mask(values: Bool) -> Bool:
            out = np.zeros(n, dtype=np.bool_)
            out[rows] = values
            return out

        def column_of(values: I64) -> I64:
            out = per_row.copy()
            out[rows] = values
            return out

        delivering = mask(end > before)
        compared = mask((offset < before) & ~keepalive)
        piece_start, piece_end = out_before, after_rows
        compare_end = column_of(np.minimum(end, before))
        # Groups with holes: do their segments tile the stream (``reordered``)?
        candidates = np.zeros(len(g.starts), dtype=np.bool_)
        candidates[group[hole]] = True
        candidates &= ~spread
        tiled = np.zeros(len(g.starts), dtype=np.bool_)
        waiting = np.zeros(n, dtype=np.bool_)
        if candidates.any():
            t = tile(g.of_row, rows, offset, wirelen[rows], candidates, len(g.starts))
            tiled, inside = t.ok, t.rows
            before_all[inside], after_all[inside] = t.before, t.after
            piece = delivering.copy()
            for column, at_rows in ((delivering, t.delivering), (compared, t.compared), (piece, t.pieces)):
                column[inside] = False
                column[at_rows] = True
            piece_start, piece_end = piece_start.copy(), piece_end.copy()
            piece_start[t.pieces], piece_end[t.pieces] = t.piece_start, t.piece_end
            compare_end[t.compared] = t.compare_end
            # Bytes wait before a row when some earlier segment reaches beyond ``next``.
            reached = column_of(reach)
            previous = at[np.maximum(inside - 1, 0)]
            previous = np.where(first_row[inside], -1, previous)
            reached_before = np.where(previous >= 0, reached[np.maximum(previous, 0)], 0)
            waiting[inside] = reached_before > t.before
        else:
            piece = delivering
        return cls(
            out_offset, before_all, after_all, delivering, mask(hole), compared, spread, tiled, waiting,
            piece, piece_start, piece_end, compare_end,
        )  # fmt: skip

    def conflicts(self, g: _Groups, buf: PayloadBuffer, payload: I64, wirelen: I64, wanted: Bool) -> I64:
        """Per group: repeated bytes that differ from the delivered copy, counted as the
        reassembler counts them (once per delivered piece they overlap)."""
        out = np.zeros(len(g.starts), dtype=np.int64)
        compared = np.flatnonzero(self.compared & wanted[g.of_row])
        if not len(compared):
            return out
        # The delivered pieces, each from its row's payload.
        pieces = np.flatnonzero(self.piece)
        if not len(pieces):
            return out
        piece_group = g.of_row[pieces]
        piece_start, piece_end = self.piece_start[pieces], self.piece_end[pieces]
        piece_file = payload[pieces] + (piece_start - self.offset[pieces])
        key = piece_group * (4 * _SPREAD) + piece_start
        if len(key) > 1 and bool((key[1:] < key[:-1]).any()):  # reordered: pieces by offset
            order = np.argsort(key, kind="stable")
            key, piece_group, piece_file = key[order], piece_group[order], piece_file[order]
            piece_start, piece_end = piece_start[order], piece_end[order]
        groups = g.of_row[compared]
        los, his = self.offset[compared], self.compare_end[compared]
        firsts = np.searchsorted(key, groups * (4 * _SPREAD) + los, side="right") - 1
        firsts += (firsts < 0) | (piece_group[np.maximum(firsts, 0)] != groups)
        # A few pieces per compared row: read them one by one (``item`` gives Python ints).
        count = len(pieces)
        rows = zip(
            groups.tolist(), los.tolist(), his.tolist(), payload[compared].tolist(), firsts.tolist(),
            strict=True,
        )  # fmt: skip
        conflicting = [0] * len(out)
        for group, lo, hi, other, k in rows:
            while k < count and piece_group.item(k) == group and piece_start.item(k) < hi:
                start = piece_start.item(k)
                a, b = max(lo, start), min(hi, piece_end.item(k))
                if b > a:
                    kept_at = piece_file.item(k) + a - start
                    other_at = other + a - lo
                    differ = buf[kept_at : kept_at + b - a] != buf[other_at : other_at + b - a]
                    if kept_at != other_at and differ:
                        conflicting[group] += 1
                k += 1
        out[:] = conflicting
        return out


@dataclass
class CleanFlows:
    """What the vectorised pass found: which groups are clean, their sessions, and (for
    ``flows.hydrate``) each row's session side and the two direction streams."""

    clean: Bool  # per group
    sessions: SessionRows  # per group (meaningful where clean)
    side: I64  # per row: 0 when sent by the sender of the group's first row
    streams: tuple[_Stream, _Stream] | None  # by side; None for no rows
    isn: tuple[I64, I64]  # per group: each side's ISN (side 1's where ``has_synack``)
    has_synack: Bool  # per group


def clean_sessions(rows: GroupedRows, linger_ns: int, buf: PayloadBuffer) -> tuple[Bool, SessionRows]:
    """Which groups are clean flows, and the session of each of them (``buf``: the capture,
    whose bytes tell which repeated segments conflict with what was delivered)."""
    found = clean_flows(rows, linger_ns, buf)
    return found.clean, found.sessions


def clean_flows(rows: GroupedRows, linger_ns: int, buf: PayloadBuffer) -> CleanFlows:
    """``clean_sessions``, with the per-row streams it built on the way."""
    c = rows.wide()
    if not len(rows):
        none = np.zeros(0, dtype=np.int64)
        return CleanFlows(np.zeros(0, dtype=np.bool_), empty(), none, None, (none, none), none.astype(bool))
    g = _Groups(rows.bounds)
    starts, of_row = g.starts, g.of_row
    frame, ts, flags, seq, ack = c["frame"], c["ts"], c["flags"], c["seq"], c["ack"]
    caplen, wirelen, direction = c["caplen"], c["wirelen"], c["dir"]
    side = direction ^ direction[starts][of_row]
    is0, is1 = side == 0, side == 1
    syn, has_ack = flags & SYN != 0, flags & ACK != 0
    fin, rst = flags & FIN != 0, flags & RST != 0
    syn_only, syn_ack = syn & ~has_ack, syn & has_ack
    data = wirelen > 0

    isn0 = seq[starts]
    first_synack = g.first(syn_ack)
    has_synack = first_synack != _NONE
    isn1 = seq[np.where(has_synack, first_synack, 0)]
    isn0_r, isn1_r = isn0[of_row], isn1[of_row]
    # The handshake: one SYN (repeats allowed), answered with one ISN; the server starts with it.
    bad = data & (caplen != wirelen)
    if rows.parts:
        bad |= np.isin(frame, np.fromiter(part_frames(rows.parts), dtype=np.int64))
    bad |= syn_only & (is1 | (seq != isn0_r) | data | fin | rst)
    bad |= syn_ack & (is0 | (seq != isn1_r) | (ack != (isn0_r + 1) & SEQ_MASK) | data | fin | rst)
    first_server = g.first(is1)
    clean = ~g.any(bad) & syn_only[starts] & ((first_server == _NONE) | (first_server == first_synack))
    # Every segment delivers at once, or repeats bytes already delivered: no hole ever opens.
    streams = [
        _Stream.of(g, data & own, seq, wirelen, base) for own, base in ((is0, isn0 + 1), (is1, isn1 + 1))
    ]
    delivering = streams[0].delivering | streams[1].delivering
    for stream in streams:
        clean &= ~(g.any(stream.hole) & ~stream.tiled) & ~stream.spread
    # One session: never quiet for the linger time once closed.
    rst_so_far = g.before(rst.astype(np.int64)) + rst
    fin0_so_far = g.before((fin & is0).astype(np.int64)) + (fin & is0)
    fin1_so_far = g.before((fin & is1).astype(np.int64)) + (fin & is1)
    closed_after = (rst_so_far > 0) | ((fin0_so_far > 0) & (fin1_so_far > 0))
    first_row = g.position == starts[of_row]
    previous = np.maximum(g.position - 1, 0)
    closed_before = ~first_row & closed_after[previous]
    lingered = closed_before & (ts - ts[previous] > linger_ns)
    clean &= ~g.any(lingered)

    out = empty(len(rows))
    out["flow"] = rows.flows
    out["stop_row"] = g.counts
    out["flipped"] = direction[starts]
    out["packets"] = g.counts
    out["first_frame"], out["last_frame"] = frame[starts], frame[starts + g.counts - 1]
    out["first_ts"], out["last_ts"] = ts[starts], ts[starts + g.counts - 1]
    out["data_packets0"], out["data_packets1"] = (
        g.sum((data & is0).astype(np.int64)),
        g.sum((data & is1).astype(np.int64)),
    )
    kept = (streams[0].after[starts + g.counts - 1], streams[1].after[starts + g.counts - 1])
    out["kept0"], out["kept1"] = kept
    out["syn0"] = True
    out["synack1"] = has_synack
    fins = (g.any(fin & is0), g.any(fin & is1))
    out["fin0"], out["fin1"] = fins
    resets = (g.any(rst & is0), g.any(rst & is1))
    out["rst0"], out["rst1"] = resets
    out["ended_by"] = np.where(resets[0] | resets[1], 1, np.where(fins[0] & fins[1], 2, 0))
    # End gaps: the FIN, else the peer's highest ACK, beyond the last byte.
    bases = (isn0 + 1, isn1 + 1)
    for s in (0, 1):
        own = is0 if s == 0 else is1
        stream = streams[s]
        fin_at = signed_offset(stream.after, seq + wirelen, bases[s][of_row] & SEQ_MASK)
        last_fin = g.last(fin & own)
        fin_offset = fin_at[np.maximum(last_fin, 0)]
        latest_fin = g.latest(fin & own)
        fin_so_far = np.where(latest_fin >= 0, fin_at[np.maximum(latest_fin, 0)], 0)
        acking = has_ack & ~own
        if s == 1:
            acking &= has_synack[of_row] & (g.position > first_synack[of_row])
        nxt = stream.before
        acked = signed_offset(nxt, ack, bases[s][of_row] & SEQ_MASK)
        # While bytes wait beyond a hole, an ACK past ``next`` would give the hole up.
        clean &= ~g.any(acking & stream.waiting & (acked > nxt))
        counted = acking & (acked <= np.maximum(nxt, fin_so_far) + MAX_WAITING_BYTES)
        max_ack = np.maximum.reduceat(np.where(counted, acked, np.iinfo(np.int64).min), starts)
        has_max = g.any(counted)
        has_end = (last_fin >= 0) | has_max
        end = np.where(last_fin >= 0, fin_offset, max_ack)
        gap = has_end & (end > kept[s])
        out[f"gaps{s}"] = gap
        out[f"gap_bytes{s}"] = np.where(gap, end - kept[s], 0)
        out[f"missing{s}"] = gap
    # The handshake completes on the client's ACK of the SYN/ACK, unless a monologue
    # (the server's data) came first.
    completes = has_ack & ~syn & ~rst & is0 & (ack == (isn1_r + 1) & SEQ_MASK)
    completes &= has_synack[of_row] & (g.position > first_synack[of_row])
    first_data = g.first(delivering)
    first_side = side[np.where(first_data != _NONE, first_data, 0)]
    turn = g.first(delivering & (side != first_side[of_row]))
    handshake_at = g.first(completes)
    out["handshake"] = (handshake_at != _NONE) & (handshake_at < turn)
    # Monologues: runs of deliveries from one side (repeated bytes deliver nothing).
    latest_data = g.latest(delivering)
    before_data = np.where(first_row, -1, latest_data[previous])
    flips = delivering & (before_data >= 0) & (side != side[np.maximum(before_data, 0)])
    out["monologues"] = (first_data != _NONE).astype(np.int64) + g.sum(flips.astype(np.int64))
    for s in (0, 1):
        out[f"conflicts{s}"] = streams[s].conflicts(g, buf, c["payload"], wirelen, clean)
    return CleanFlows(clean, out, side, (streams[0], streams[1]), (isn0, isn1), has_synack)
