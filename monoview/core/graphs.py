"""TCP stream graphs of one session, as Wireshark draws them: Stevens time/sequence,
throughput, round-trip time and window, per direction.

Everything comes from the index rows of the session's packets (times, sequence
and acknowledgement numbers, payload lengths, windows), with numpy; only the
window-scale options are read from the two SYNs in the file.  Sequence numbers
are relative to the direction's first byte (``seq`` of its SYN plus one, or its
first data segment) and unwrapped within ±2 GiB of it.

* A data segment is a *retransmission* when all its bytes were seen before,
  *out of order* when it brings bytes below the highest seen so far (a late
  segment, or a retransmission of bytes that were never captured).
* *Holes* are the bytes of the direction never captured, with the time of the
  first segment after them (the reassembly's gaps, seen from the wire).
* A round-trip sample is the time from a data segment (not a retransmission,
  Karn's rule) to the first later acknowledgement that covers its last byte.
* The window is the receiver's advertised window, scaled when both SYNs offered
  scaling; beside it, the bytes in flight (sent and not yet acknowledged).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.document import CaptureDocument
from monoview.core.flows.packets import packet_columns, tcp_header

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

SYN: Final = 0x02
ACK: Final = 0x10
THROUGHPUT_BINS: Final = 200
WRAP: Final = 1 << 32
HALF: Final = 1 << 31
_COLUMNS: Final = ("ts", "seq", "ack", "flags", "window", "wirelen", "payload")


@dataclass(frozen=True)
class DirectionGraphs:
    """What the graphs of one direction plot (times in seconds after the session's start)."""

    seconds: F64  # each data segment
    seq: I64  # its first byte, relative
    end: I64  # just after its last byte
    retransmitted: Mask
    out_of_order: Mask
    holes: list[tuple[float, int, int]]  # (seconds, relative offset, bytes missing)
    rtt_seconds: F64
    rtt: F64  # seconds
    throughput_seconds: F64
    throughput: F64  # bytes per second
    window_seconds: F64
    window: I64  # the receiver's advertised window, bytes
    in_flight_seconds: F64
    in_flight: I64  # bytes sent and not acknowledged yet
    window_scale: int | None  # the shift both SYNs agreed on for the receiver, if any


def stream_graphs(document: CaptureDocument, session_id: int) -> dict[str, DirectionGraphs]:
    """The graphs of both directions of a session (``c2s`` and ``s2c``)."""
    columns = packet_columns(document, session_id, _COLUMNS)
    ts = columns["ts"].astype(np.int64)
    start = int(ts.min()) if len(ts) else 0
    seconds = (ts - start).astype(np.float64) / 1e9
    client = columns["from_client"]
    scales = {side: _scale(document, session_id, columns, side) for side in (True, False)}
    agreed = scales[True] is not None and scales[False] is not None
    out = {}
    for direction, sender in (("c2s", True), ("s2c", False)):
        receiver_scale = scales[not sender] if agreed else None
        out[direction] = _direction(columns, seconds, client == sender, receiver_scale)
    return out


def _direction(
    columns: dict[str, np.ndarray], seconds: F64, mine: Mask, receiver_scale: int | None
) -> DirectionGraphs:
    flags = columns["flags"].astype(np.int64)
    seq = columns["seq"].astype(np.int64)
    length = columns["wirelen"].astype(np.int64)
    syn = mine & ((flags & SYN) != 0)
    data = mine & (length > 0)
    if syn.any():
        base = int(seq[np.flatnonzero(syn)[0]]) + 1
    elif data.any():
        base = int(seq[np.flatnonzero(data)[0]])
    else:
        base = 0
    rel = _relative(seq, base)
    t, s, e = seconds[data], rel[data], rel[data] + length[data]
    retransmitted, out_of_order, holes = _classify(t, s, e)
    theirs = ~mine & ((flags & ACK) != 0)
    acked = _relative(columns["ack"].astype(np.int64), base)[theirs]
    ack_seconds = seconds[theirs]
    rtt_seconds, rtt = _round_trips(t[~retransmitted], e[~retransmitted], ack_seconds, acked)
    throughput_seconds, throughput = _throughput(t, e - s)
    shift = receiver_scale or 0
    window = columns["window"].astype(np.int64)[theirs] << shift
    flight_seconds, flight = _in_flight(t, e, ack_seconds, acked)
    return DirectionGraphs(
        t, s, e, retransmitted, out_of_order, holes, rtt_seconds, rtt, throughput_seconds, throughput,
        ack_seconds, window, flight_seconds, flight, receiver_scale,
    )  # fmt: skip


def _relative(values: I64, base: int) -> I64:
    """Sequence numbers relative to ``base``, unwrapped to ±2 GiB of it."""
    rel: I64 = ((values - base + HALF) % WRAP) - HALF
    return rel


def _classify(t: F64, s: I64, e: I64) -> tuple[Mask, Mask, list[tuple[float, int, int]]]:
    """Retransmissions, out-of-order segments and the holes left at the end."""
    n = len(s)
    retransmitted = np.zeros(n, dtype=np.bool_)
    out_of_order = np.zeros(n, dtype=np.bool_)
    starts: list[int] = []  # covered intervals, disjoint, sorted
    ends: list[int] = []
    high = None
    for k, (a, b) in enumerate(zip(s.tolist(), e.tolist(), strict=True)):
        if high is not None and a < high:
            i = bisect.bisect_right(starts, a) - 1
            if i >= 0 and ends[i] >= b:
                retransmitted[k] = True
                continue
            out_of_order[k] = True
        _cover(starts, ends, a, b)
        high = b if high is None else max(high, b)
    holes = []
    for left_end, right_start in zip(ends, starts[1:], strict=False):
        after = int(np.argmax(s >= right_start)) if n else 0
        holes.append((float(t[after]) if n else 0.0, left_end, right_start - left_end))
    return retransmitted, out_of_order, holes


def _cover(starts: list[int], ends: list[int], a: int, b: int) -> None:
    """Add ``[a, b)`` to the sorted disjoint intervals, merging what it touches."""
    i = bisect.bisect_left(ends, a)
    j = bisect.bisect_right(starts, b)
    if i < j:
        a, b = min(a, starts[i]), max(b, ends[j - 1])
    starts[i:j] = [a]
    ends[i:j] = [b]


def _round_trips(t: F64, e: I64, ack_seconds: F64, acked: I64) -> tuple[F64, F64]:
    """For each segment, the first acknowledgement after it that covers its last byte."""
    if not len(t) or not len(acked):
        return np.zeros(0), np.zeros(0)
    highest = np.maximum.accumulate(acked)
    after = np.searchsorted(ack_seconds, t, side="left")
    covering = np.searchsorted(highest, e, side="left")
    first = np.maximum(after, covering)
    found = first < len(acked)
    return t[found], ack_seconds[first[found]] - t[found]


def _throughput(t: F64, sizes: I64) -> tuple[F64, F64]:
    """Bytes per second in ``THROUGHPUT_BINS`` equal slices of the direction's time."""
    if not len(t):
        return np.zeros(0), np.zeros(0)
    span = float(t.max() - t.min()) or 1e-3
    width = span / THROUGHPUT_BINS
    bins = np.minimum(((t - t.min()) / width).astype(np.int64), THROUGHPUT_BINS - 1)
    totals = np.bincount(bins, weights=sizes.astype(np.float64), minlength=THROUGHPUT_BINS)
    centres = t.min() + (np.arange(THROUGHPUT_BINS) + 0.5) * width
    return centres, totals / width


def _in_flight(t: F64, e: I64, ack_seconds: F64, acked: I64) -> tuple[F64, I64]:
    """At each segment: the highest byte sent so far minus the highest acknowledged before it."""
    if not len(t):
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    sent = np.maximum.accumulate(e)
    before = np.searchsorted(ack_seconds, t, side="right") - 1
    highest = np.maximum.accumulate(acked) if len(acked) else np.zeros(0, dtype=np.int64)
    acknowledged = np.where(before >= 0, highest[np.maximum(before, 0)] if len(acked) else 0, 0)
    flight: I64 = np.maximum(sent - acknowledged, 0).astype(np.int64)
    return t, flight


def _scale(
    document: CaptureDocument, session_id: int, columns: dict[str, np.ndarray], client: bool
) -> int | None:
    """The window-scale shift in this side's SYN (read from the file), None without one."""
    flags = columns["flags"].astype(np.int64)
    syns = np.flatnonzero((columns["from_client"] == client) & ((flags & SYN) != 0))
    if not len(syns):
        return None
    header = tcp_header(document, session_id, int(columns["payload"][syns[0]]))
    return None if header is None else _window_scale_option(header)


def _window_scale_option(header: bytes) -> int | None:
    """The shift of a window-scale option (kind 3) in a TCP header, if there is one."""
    options, i = header[20:], 0
    while i < len(options):
        kind = options[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2:
            break
        size = options[i + 1]
        if kind == 3 and size == 3 and i + 2 < len(options):
            return min(options[i + 2], 14)  # RFC 7323: larger shifts are taken as 14
        i += size
    return None


__all__ = ["DirectionGraphs", "stream_graphs"]
