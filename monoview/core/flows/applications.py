"""The application of every session, named from the first bytes of each direction.

The names come from ``appnames.application_name``; this module finds what to
give it without reassembling anything: for each session and direction, the
first few payload-carrying rows in capture order, joined while their sequence
numbers follow on (a ClientHello in two segments), up to ``HEAD_BYTES``.  Rows
are matched to sessions and ranked with numpy over the whole index at once,
so only those few rows per session are read from the file.  A retransmission
or a reordered first segment ends the head early; the name is a hint, as
Wireshark's heuristics are, and never changes a stream.

It runs in a worker process for the window (``name_applications``): it opens
nothing but the capture file it is handed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.appnames import HEAD_BYTES, application_name
from monoview.core.capture.index import IndexParts
from monoview.core.capture.records import Parts, PayloadBuffer
from monoview.core.flows.summary import SessionRows

I64 = npt.NDArray[np.int64]
# Payload rows read per session and direction at most.
HEAD_ROWS: Final = 4
_SEQ_MOD: Final = 1 << 32


def session_heads(parts: IndexParts, rows: SessionRows, buf: PayloadBuffer) -> list[tuple[bytes, bytes]]:
    """``(client's first bytes, server's first bytes)`` of every session (row ``i`` is
    session ``i + 1``), each at most ``HEAD_BYTES``."""
    heads = [[b"", b""] for _ in range(len(rows))]
    if not len(rows):
        return []
    c = parts.select(None, ("flow", "dir", "payload", "caplen", "seq", "frame"))
    flow = c["flow"].astype(np.int64)
    order = np.argsort(flow, kind="stable")  # by flow, each flow's rows in capture order
    by_flow = flow[order]
    first_of_flow = np.searchsorted(by_flow, by_flow, side="left")
    position = np.arange(len(order), dtype=np.int64) - first_of_flow  # row's place in its flow
    data = c["caplen"][order].astype(np.int64) > 0
    at, position, by_flow = order[data], position[data], by_flow[data]
    # The session whose rows first_row..stop_row-1 of the flow hold each data row.
    starts = rows["flow"].astype(np.int64) * _SEQ_MOD + rows["first_row"].astype(np.int64)
    by_start = np.argsort(starts, kind="stable")
    found = np.searchsorted(starts[by_start], by_flow * _SEQ_MOD + position, side="right") - 1
    session = by_start[np.maximum(found, 0)]
    inside = (found >= 0) & (rows["flow"][session] == by_flow) & (position < rows["stop_row"][session])
    at, session = at[inside], session[inside]
    side = c["dir"][at].astype(np.int64) ^ rows["flipped"][session].astype(np.int64)
    from_client = (side == rows["client_side"][session]).astype(np.int64)
    key = session * 2 + (1 - from_client)  # client's head first
    by_key = np.argsort(key, kind="stable")
    key, at = key[by_key], at[by_key]
    rank = np.arange(len(key)) - np.searchsorted(key, key, side="left")
    kept = rank < HEAD_ROWS
    key, at = key[kept], at[kept]
    read_heads(heads, key.tolist(), at, c, parts.payload_parts, buf)
    return [(client, server) for client, server in heads]


def read_heads(
    heads: list[list[bytes]], keys: list[int], at: I64, c: Mapping[str, npt.NDArray[np.generic]],
    pieces: Mapping[tuple[int, int], Parts], buf: PayloadBuffer,
) -> None:  # fmt: skip
    """Join each head's rows while their sequence numbers follow on: ``keys`` (session * 2,
    + 1 for the server's side) sorted, each key's rows ``at`` of columns ``c`` in capture
    order, at most ``HEAD_ROWS`` of them; ``pieces``: the payload parts of rows
    reassembled from IP fragments, by frame and payload offset."""
    offsets, lengths = c["payload"][at].tolist(), c["caplen"][at].tolist()
    seqs, frames = c["seq"][at].tolist(), c["frame"][at].tolist()
    previous, expected = -1, 0
    for key, offset, length, seq, frame in zip(keys, offsets, lengths, seqs, frames, strict=True):
        session, which = divmod(key, 2)
        head = heads[session][which]
        if key == previous and (seq != expected or len(head) >= HEAD_BYTES):
            continue
        previous, expected = key, (seq + length) % _SEQ_MOD
        want = min(length, HEAD_BYTES - len(head))
        found = pieces.get((frame, offset)) if pieces else None
        if found is not None:  # reassembled from IP fragments: in several places
            data = b"".join(bytes(buf[o : o + n]) for o, n, _wire in found)[:want]
        else:
            data = bytes(buf[offset : offset + want])
        heads[session][which] = head + data


def application_names(parts: IndexParts, rows: SessionRows, buf: PayloadBuffer) -> list[str]:
    """The application of every session, ``""`` where none is recognised."""
    return [application_name(client, server) for client, server in session_heads(parts, rows, buf)]


@dataclass(frozen=True)
class ApplicationTask:
    """Name the applications of a document's sessions, in a worker process."""

    path: str
    parts: IndexParts
    rows: SessionRows


def name_applications(task: ApplicationTask) -> list[str]:
    """In a worker: ``application_names`` of the task's capture."""
    from monoview.core.capture.captureset import opened

    with opened(task.parts.source or task.path) as buf:
        return application_names(task.parts, task.rows, buf)


def number_streams(task: ApplicationTask) -> tuple[I64, I64]:
    """In a worker: tshark's stream numbers of the task's sessions, as (session, stream) pairs
    (``tcpstream.TcpStreams.session_pairs``); beside ``name_applications``, in another worker."""
    from monoview.core.flows.tcpstream import tcp_streams

    return tcp_streams(task.parts, task.parts.flows, task.rows).session_pairs()


__all__ = [
    "HEAD_ROWS", "ApplicationTask", "application_names", "name_applications", "number_streams",
    "read_heads", "session_heads",
]  # fmt: skip
