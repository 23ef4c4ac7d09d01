"""Wireshark's ``tcp.stream`` numbers, worked out from the index, and how they map to sessions.

monoview's session ids count sessions from 1 in order of first packet, as tshark
counts its streams from 0, so on most captures stream N is session N + 1.  The
two differ where they cut connections differently:

- tshark keys a stream on the two endpoints alone: equal 4-tuples under
  different VLAN tags (or interfaces, with ``--split-interfaces``) are one
  stream, where monoview keeps them apart (one stream, several sessions);
- tshark starts a new stream on a SYN (without ACK) whose sequence number is
  not the base sequence number of that side in the current stream (packet-
  tcp.c's "ports reused"); the base is a SYN's sequence number, or one less
  than the first sequence number seen from that side (the relative sequence
  number 1 of a mid-stream start).  monoview may keep such packets in one
  session (a shuffled capture whose SYN comes last: several streams, one
  session), or split where tshark does not.  (packet-tcp.c's SYN-ACK variant
  of that rule is not followed, no shared capture needing it; nor are the
  preferences, off by default, that key streams on VLANs or interfaces.)

So the numbers are computed the way tshark computes them, on the index's rows,
and each stream names the sessions that hold its frames.  Only the rows of
4-tuples with a SYN after their first packet are walked in Python; the rest is
numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monoview.core.capture.flowkeys import group
from monoview.core.capture.index import FlowTable, IndexParts
from monoview.core.flows.summary import SessionRows
from monoview.core.packet import ACK, SYN
from monoview.core.sets import unique

I64 = npt.NDArray[np.int64]
_MASK32 = 0xFFFFFFFF


@dataclass(frozen=True)
class TcpStreams:
    """tshark's stream number of every indexed row, and the sessions each stream touches.

    ``frame`` and ``stream`` are parallel, in capture order; ``session`` is the
    monoview session id of each row (0 for a row no session holds).
    """

    frame: I64
    stream: I64
    session: I64
    count: int

    def sessions_of(self, stream: int) -> list[int]:
        """The ids of the sessions holding stream ``stream``'s frames, in order of id."""
        chosen = self.session[(self.stream == stream) & (self.session > 0)]
        return sorted({int(s) for s in unique(chosen)})

    def session_pairs(self) -> tuple[I64, I64]:
        """Each (session id, stream number) that some row joins, sorted by session then stream:
        what a session list needs to show and filter by tshark's numbers (a few per session,
        not a row each)."""
        held = self.session > 0
        pairs = unique(self.session[held] * (1 << 32) + self.stream[held])
        return (pairs >> 32).astype(np.int64), (pairs & _MASK32).astype(np.int64)

    def streams_of(self, session_id: int) -> list[int]:
        """The stream numbers whose frames session ``session_id`` holds, in order."""
        return sorted({int(s) for s in unique(self.stream[self.session == session_id])})


def tcp_streams(parts: IndexParts, flows: FlowTable, rows: SessionRows) -> TcpStreams:
    """Number every row as tshark's ``tcp.stream`` does (see the module's docstring)."""
    cols = parts.select(None, ("frame", "flow", "dir", "flags", "seq"))
    frame, flow = cols["frame"].astype(np.int64), cols["flow"].astype(np.int64)
    sender, flags = cols["dir"].astype(np.int64), cols["flags"].astype(np.int64)
    seq = cols["seq"].astype(np.int64)
    key_of_flow = endpoint_keys(flows)
    key = key_of_flow[flow] if len(flow) else np.zeros(0, dtype=np.int64)
    # rows by 4-tuple, each in capture order
    order = np.lexsort((frame, key))
    starts = stream_starts(key[order], order, flags, lambda: (sender, seq))
    # streams numbered by their first frame, as tshark numbers them
    segment = np.cumsum(starts) - 1
    first_frames = frame[order][starts]
    number = np.empty(len(first_frames), dtype=np.int64)
    number[np.argsort(first_frames, kind="stable")] = np.arange(len(first_frames))
    stream = np.empty(len(order), dtype=np.int64)
    stream[order] = number[segment]
    return TcpStreams(frame, stream, _session_of_rows(flow, rows), len(first_frames))


def endpoint_keys(flows: FlowTable) -> I64:
    """A number per flow naming its two endpoints (the context left out, as tshark leaves it),
    numbered by first appearance: flows with equal ``FlowTable.endpoints`` get equal numbers.

    Grouped by numpy over the flow table's key columns (a Python loop over ``endpoints``
    took a quarter of a second for 20,000 flows): an IPv4 address is its low word alone,
    as ``endpoints`` spells it, so the high words are only compared for IPv6.
    """
    k = flows.keys
    if not len(k):
        return np.zeros(0, dtype=np.int64)
    six = k.family == 6
    zero = np.zeros(len(six), dtype=np.uint64)
    columns = [six.astype(np.int64), np.where(six, k.a_hi, zero), k.a_lo, k.a_port,
               np.where(six, k.b_hi, zero), k.b_lo, k.b_port]  # fmt: skip
    return group(columns)[1]


def stream_starts(
    k: I64, order: I64, flags: I64, sender_and_seq: Callable[[], tuple[I64, I64]]
) -> npt.NDArray[np.bool_]:
    """Which of the rows ``order`` (by endpoints key, ``k`` their keys, each key's rows in
    capture order) begin a new stream: a key's first row, and a later SYN that starts the
    4-tuple again (``mark_reused``; ``sender_and_seq`` gives the rows' direction and seq
    columns, only asked for when there is such a SYN)."""
    starts = np.zeros(len(order), dtype=bool)
    if not len(order):
        return starts
    starts[0] = True
    starts[1:] = k[1:] != k[:-1]
    later_syn = ((flags[order] & (SYN | ACK)) == SYN) & ~starts
    if later_syn.any():
        sender, seq = sender_and_seq()
        for group in unique(k[later_syn]).tolist():
            lo, hi = np.searchsorted(k, [group, group + 1]).tolist()
            mark_reused(order[lo:hi], sender, flags, seq, starts, lo)
    return starts


def mark_reused(rows: I64, sender: I64, flags: I64, seq: I64, starts: npt.NDArray[np.bool_], at: int) -> None:
    """Mark in ``starts[at:]`` the SYNs of one 4-tuple's rows that tshark makes a new stream of."""
    base: list[int | None] = [None, None]
    for i, row in enumerate(rows.tolist()):
        side, flag, number = int(sender[row]), int(flags[row]), int(seq[row])
        is_syn = flag & SYN != 0
        if is_syn and not flag & ACK and base[side] is not None and number != base[side]:
            starts[at + i] = True
            base = [None, None]
        if base[side] is None:
            base[side] = number if is_syn else (number - 1) & _MASK32


def _session_of_rows(flow: I64, rows: SessionRows) -> I64:
    """The session id of every row: a session holds rows ``[first_row, stop_row)`` of its flow."""
    out = np.zeros(len(flow), dtype=np.int64)
    if not len(flow):
        return out
    by_flow = np.argsort(flow, kind="stable")  # each flow's rows, in capture order
    bounds = np.searchsorted(flow[by_flow], np.arange(int(flow.max()) + 2))
    for session_id, row in enumerate(rows, start=1):
        base = int(bounds[int(row["flow"])])
        out[by_flow[base + int(row["first_row"]) : base + int(row["stop_row"])]] = session_id
    return out


__all__ = ["TcpStreams", "endpoint_keys", "mark_reused", "tcp_streams"]
