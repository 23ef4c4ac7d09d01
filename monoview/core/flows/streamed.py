"""One big flow's session, computed a bounded chunk of rows at a time.

``flows.simple`` judges and summarises many flows at once, holding a few
dozen int64 temporaries per row of them: fine for chunks of small flows, but
one flow of millions of rows (200,000 one-byte monologues) would make its
memory grow with the flow.  Here one flow's rows are fed in chunks and
everything ``simple`` computes across rows is carried from chunk to chunk as
a few numbers: each direction's last sequence number, stream offset and
reach (the running maximum of segment ends), the FIN and RST counts, the
latest FIN offset and highest counted ACK, the first SYN/ACK, data and
handshake rows, and the side of the latest delivery.  Memory is then the
chunk's, plus, when asked for (``pieces``), the finished session's pieces
and monologues, which export needs anyway.

The conditions are ``simple``'s, made stricter where a chunk cannot see
what it would need: a segment that starts past its direction's bytes so far
(a hole, which ``reordered`` tiles across the whole flow) or that repeats
delivered bytes (compared with pieces of any earlier chunk) makes the flow
unclean, and it goes to the exact replay, as any unclean flow does.  What a
clean flow gets is what ``simple`` gives it, field for field:
``tests/core/test_streamed.py`` checks that at chunk sizes that cut
everywhere, on the shared captures and on random flows.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.records import part_frames
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.simple import signed_offset
from monoview.core.flows.summary import SessionRows, empty
from monoview.core.tcp.seq import SEQ_HALF, SEQ_MASK
from monoview.core.tcp.stream import MAX_WAITING_BYTES

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
# As ``simple._SPREAD``: offsets this far from 0 are left to the exact replay.
_SPREAD: Final = 1 << 44
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
PIECE_COLUMNS: Final = ("start", "length", "file", "frame", "ts")
# Rows fed at a time: a few dozen int64 temporaries of this many rows (a few MB), while a
# chunk's numpy calls still take far longer than the Python around them.
STREAM_ROWS: Final = 1 << 14


def _signed(values: I64) -> I64:
    """A sequence-number difference as the signed distance nearest 0."""
    out: I64 = ((values + SEQ_HALF) & SEQ_MASK) - SEQ_HALF
    return out


@dataclass
class _Direction:
    """What one direction carries from chunk to chunk."""

    last_seq: int | None = None  # sequence number of its latest data row
    last_offset: int = 0  # that row's stream offset
    reach: int = 0  # the stream's next offset so far (the furthest segment end, at least 0)
    data_packets: int = 0
    fin_count: int = 0
    rst: bool = False
    fin_offset: int | None = None  # stream offset of its latest FIN
    max_ack: int | None = None  # the peer's highest ACK counted so far
    delivered: int = 0  # pieces so far (a piece's index in this direction's stream)
    pieces: dict[str, array[int]] = field(default_factory=lambda: {n: array("q") for n in PIECE_COLUMNS})


class StreamedFlow:
    """The session of one flow whose rows arrive in chunks (``feed``), as ``simple`` would
    summarise it if it is clean (``finish``).

    ``pieces``: also keep the delivered pieces, side by side, and the runs of
    one side's pieces (the monologues), for ``hydrate``.
    """

    def __init__(self, flow: int, linger_ns: int, fragments: set[int], *, pieces: bool = False) -> None:
        self.flow, self.linger_ns, self.pieces = flow, linger_ns, pieces
        self._fragments = np.fromiter(fragments, dtype=np.int64) if fragments else None
        self.ok = True  # clean so far
        self.rows = 0
        self.sides = (_Direction(), _Direction())
        self.dir0 = self.isn0 = self.first_frame = self.first_ts = self.last_frame = self.last_ts = 0
        self.isn1: int | None = None
        self.first_synack: int | None = None
        self.first_server: int | None = None
        self.closed = False  # after the latest row
        self.handshake_at: int | None = None
        self.first_side: int | None = None  # side of the first delivery
        self.turn: int | None = None  # first delivery by the other side
        self.last_side: int | None = None  # side of the latest delivery
        self.monologues = 0
        # The monologues (``pieces``): runs of one side's pieces; while the latest run is
        # open, it has no stop yet.
        self._run_side, self._run_first, self._run_stop = array("b"), array("q"), array("q")

    def feed(self, c: dict[str, I64]) -> None:
        """The flow's next rows (int64 columns ``grouped.REPLAY_COLUMNS``)."""
        m = len(c["frame"])
        if not m or not self.ok:
            self.rows += m
            return
        frame, ts, flags, seq, ack = c["frame"], c["ts"], c["flags"], c["seq"], c["ack"]
        caplen, wirelen, direction = c["caplen"], c["wirelen"], c["dir"]
        first = self.rows == 0
        position = np.arange(self.rows, self.rows + m, dtype=np.int64)
        if first:
            self.dir0, self.isn0 = int(direction[0]), int(seq[0])
            self.first_frame, self.first_ts = int(frame[0]), int(ts[0])
            if not (flags[0] & SYN and not flags[0] & ACK):
                self.ok = False  # it must open with a SYN
        previous_ts = np.concatenate([[ts[0] if first else self.last_ts], ts[:-1]])
        self.last_frame, self.last_ts = int(frame[-1]), int(ts[-1])
        side = direction ^ self.dir0
        is0, is1 = side == 0, side == 1
        syn, has_ack = flags & SYN != 0, flags & ACK != 0
        fin, rst = flags & FIN != 0, flags & RST != 0
        syn_only, syn_ack = syn & ~has_ack, syn & has_ack
        data = wirelen > 0
        if self.first_synack is None:
            at = np.flatnonzero(syn_ack)
            if len(at):
                self.first_synack, self.isn1 = self.rows + int(at[0]), int(seq[at[0]])
        if self.first_server is None:
            at = np.flatnonzero(is1)
            if len(at):
                self.first_server = self.rows + int(at[0])
                self.ok &= self.first_server == self.first_synack
        isn0 = self.isn0
        isn1 = self.isn1 if self.isn1 is not None else isn0  # rows that need it come after it
        bad = data & (caplen != wirelen)
        if self._fragments is not None:
            bad |= np.isin(frame, self._fragments)
        bad |= syn_only & (is1 | (seq != isn0) | data | fin | rst)
        bad |= syn_ack & (is0 | (seq != isn1) | (ack != (isn0 + 1) & SEQ_MASK) | data | fin | rst)
        self.ok &= not bool(bad.any())
        after_synack = (
            position > self.first_synack if self.first_synack is not None else np.zeros(m, dtype=np.bool_)
        )
        # The linger time: never quiet that long once closed (that would end the session).
        counts = [np.cumsum(fin & own) + d.fin_count for own, d in zip((is0, is1), self.sides, strict=True)]
        rst_so_far = np.cumsum(rst) + sum(d.rst for d in self.sides)
        closed_after = (rst_so_far > 0) | ((counts[0] > 0) & (counts[1] > 0))
        closed_before = np.concatenate([[self.closed], closed_after[:-1]])
        self.ok &= not bool((closed_before & (ts - previous_ts > self.linger_ns)).any())
        self.closed = bool(closed_after[-1])
        if not self.ok:
            self.rows += m
            return
        delivering = np.zeros(m, dtype=np.bool_)
        for s, (own, d) in enumerate(zip((is0, is1), self.sides, strict=True)):
            base = (isn0 if s == 0 else isn1) + 1
            before_all, rows, delivers = self._direction(d, data & own, seq, wirelen, base)
            if not self.ok:
                self.rows += m
                return
            delivering[rows[delivers]] = True
            if self.pieces:
                at = rows[delivers]
                starts = before_all[at]
                for name, values in zip(
                    PIECE_COLUMNS, (starts, wirelen[at], c["payload"][at], frame[at], ts[at]), strict=True
                ):
                    d.pieces[name].frombytes(np.ascontiguousarray(values, dtype=np.int64).tobytes())
            after_all = np.concatenate([before_all[1:], [d.reach]])
            # End gaps: the latest FIN, else the peer's highest ACK, beyond the last byte.
            fins = fin & own
            fin_at = signed_offset(after_all, seq + wirelen, base & SEQ_MASK)
            latest = np.maximum.accumulate(np.where(fins, np.arange(m), -1))
            carried = d.fin_offset if d.fin_offset is not None else 0
            fin_so_far = np.where(latest >= 0, fin_at[np.maximum(latest, 0)], carried)
            if fins.any():
                d.fin_offset = int(fin_at[latest[-1]])
            d.fin_count = int(counts[s][-1])
            d.rst |= bool((rst & own).any())
            acking = has_ack & ~own
            if s == 1:
                acking &= after_synack
            acked = signed_offset(before_all, ack, base & SEQ_MASK)
            counted = acking & (acked <= np.maximum(before_all, fin_so_far) + MAX_WAITING_BYTES)
            if counted.any():
                top = int(acked[counted].max())
                d.max_ack = top if d.max_ack is None else max(d.max_ack, top)
        # The handshake completes on the client's ACK of the SYN/ACK, unless the server spoke first.
        if self.handshake_at is None:
            completes = has_ack & ~syn & ~rst & is0 & (ack == (isn1 + 1) & SEQ_MASK) & after_synack
            at = np.flatnonzero(completes)
            if len(at):
                self.handshake_at = self.rows + int(at[0])
        self._monologues(np.flatnonzero(delivering), side, position)
        self.rows += m

    def _direction(
        self, d: _Direction, mine: Bool, seq: I64, wirelen: I64, base: int
    ) -> tuple[I64, I64, Bool]:
        """One direction's chunk: every row's next offset before it, the direction's data
        rows and which of them deliver; ``ok`` turns false on a hole or a repeat."""
        m = len(mine)
        rows = np.flatnonzero(mine)
        if not len(rows):
            return np.full(m, d.reach, dtype=np.int64), rows, np.zeros(0, dtype=np.bool_)
        numbers, lengths = seq[rows], wirelen[rows]
        step = np.empty(len(rows), dtype=np.int64)
        step[1:] = _signed(numbers[1:] - numbers[:-1])
        since = d.last_seq if d.last_seq is not None else base
        step[0] = ((int(numbers[0]) - since + SEQ_HALF) & SEQ_MASK) - SEQ_HALF
        offset = d.last_offset + np.cumsum(step)
        end = offset + lengths
        reach = np.maximum.accumulate(np.concatenate([[d.reach], end]))
        before = reach[:-1]
        hole = (offset > before) | (before - offset >= SEQ_HALF)
        keepalive = (lengths == 1) & (offset == before - 1)
        far = (np.abs(offset) >= _SPREAD) | (np.abs(end) >= _SPREAD)
        if bool((hole | far | ((offset < before) & ~keepalive)).any()):
            self.ok = False
            return np.zeros(m, dtype=np.int64), rows, np.zeros(0, dtype=np.bool_)
        after_rows = np.full(m, d.reach, dtype=np.int64)
        after_rows[rows] = reach[1:]
        after_all = np.maximum.accumulate(after_rows)
        before_all = np.concatenate([[d.reach], after_all[:-1]])
        d.last_seq, d.last_offset, d.reach = int(numbers[-1]), int(offset[-1]), int(reach[-1])
        d.data_packets += len(rows)
        return before_all, rows, end > before

    def _monologues(self, delivered: I64, side: I64, position: I64) -> None:
        """Deliveries in row order: the first one's side, the turn, the monologue runs."""
        if not len(delivered):
            return
        sides = side[delivered]
        if self.first_side is None:
            self.first_side = int(sides[0])
        if self.turn is None:
            other = np.flatnonzero(sides != self.first_side)
            if len(other):
                self.turn = int(position[delivered[other[0]]])
        previous = np.concatenate([[sides[0] if self.last_side is None else self.last_side], sides[:-1]])
        flips = sides != previous
        if self.last_side is None:
            flips[0] = True  # the first monologue
        self.monologues += int(flips.sum())
        self.last_side = int(sides[-1])
        if not self.pieces:
            return
        # Each delivery's index in its own side's stream; a run of one side starts at a flip.
        own = np.empty(len(sides), dtype=np.int64)
        delivered_before = [d.delivered for d in self.sides]
        for s, d in enumerate(self.sides):
            mine = sides == s
            own[mine] = d.delivered + np.arange(int(mine.sum()))
            d.delivered += int(mine.sum())
        starts = np.flatnonzero(flips)
        if not len(starts):
            return
        stops = own[starts[1:] - 1] + 1
        if len(self._run_side) > len(self._run_stop):  # the run still open from the chunk before
            open_side = self._run_side[-1]
            first_stop = own[starts[0] - 1] + 1 if starts[0] > 0 else delivered_before[open_side]
            stops = np.concatenate([[first_stop], stops])
        self._run_side.frombytes(sides[starts].astype(np.int8).tobytes())
        self._run_first.frombytes(own[starts].tobytes())
        self._run_stop.frombytes(stops.astype(np.int64).tobytes())

    def finish(self) -> SessionRows:
        """The session row (one row; meaningful when ``ok``: clean)."""
        out = empty(1)
        if not self.ok:
            return out
        out["flow"], out["stop_row"], out["packets"] = self.flow, self.rows, self.rows
        out["flipped"] = self.dir0
        out["first_frame"], out["last_frame"] = self.first_frame, self.last_frame
        out["first_ts"], out["last_ts"] = self.first_ts, self.last_ts
        out["syn0"], out["synack1"] = True, self.first_synack is not None
        for s, d in enumerate(self.sides):
            out[f"data_packets{s}"], out[f"kept{s}"] = d.data_packets, d.reach
            out[f"fin{s}"], out[f"rst{s}"] = d.fin_count > 0, d.rst
            end = d.fin_offset if d.fin_offset is not None else d.max_ack
            gap = end is not None and end > d.reach
            out[f"gaps{s}"], out[f"missing{s}"] = gap, gap
            out[f"gap_bytes{s}"] = end - d.reach if gap and end is not None else 0
        reset = self.sides[0].rst or self.sides[1].rst
        closed = self.sides[0].fin_count > 0 and self.sides[1].fin_count > 0
        out["ended_by"] = 1 if reset else 2 if closed else 0
        at, turn = self.handshake_at, self.turn
        out["handshake"] = at is not None and (turn is None or at < turn)
        out["monologues"] = self.monologues
        return out

    @property
    def plain(self) -> bool:
        """Clean, and no bytes missing at either end (``hydrate``'s plain flows)."""
        row = self.finish()
        return self.ok and not int(row["gaps0"][0]) and not int(row["gaps1"][0])

    def monologue_runs(self) -> tuple[npt.NDArray[np.int8], I64, I64]:
        """The runs of one side's pieces (``pieces`` on): side, first and stop piece of each."""
        if len(self._run_side) > len(self._run_stop):
            self._run_stop.append(self.sides[self._run_side[-1]].delivered)
        side = np.frombuffer(self._run_side, dtype=np.int8)
        return (
            side,
            np.frombuffer(self._run_first, dtype=np.int64),
            np.frombuffer(self._run_stop, dtype=np.int64),
        )


def streamed_flow(
    grouped: GroupedRows, group: int, linger_ns: int, chunk: int, *, pieces: bool = False
) -> StreamedFlow:
    """Feed group ``group`` of ``grouped`` through a :class:`StreamedFlow`, ``chunk`` rows
    (at most ``STREAM_ROWS``) at a time, stopping early once it is not clean."""
    flow = StreamedFlow(int(grouped.flows[group]), linger_ns, part_frames(grouped.parts), pieces=pieces)
    lo, hi = int(grouped.bounds[group]), int(grouped.bounds[group + 1])
    step = max(1, min(chunk, STREAM_ROWS))
    for at in range(lo, hi, step):
        flow.feed(grouped.wide(at, min(at + step, hi)))
        if not flow.ok:
            break
    return flow


__all__ = ["PIECE_COLUMNS", "StreamedFlow", "streamed_flow"]
