"""The Application and Stream columns, worked out with the session list, shard by shard.

A window shows every session's application (``applications``) and tshark's
stream number (``tcpstream``).  Worked out over the whole index once the list
was in, they were a phase of their own that the window waited for (0.6 s on the
1 GB bench capture: the index's columns read and sorted by flow once more, a
Python loop per session).  Here the worker that summarises a shard's sessions
also names them and numbers the shard's streams, from the grouped rows it
already holds (each flow's rows in capture order, as both need them); the
parent only merges: session ids and stream numbers both follow first frames, so
they are ranked once every shard is back.

tshark keys a stream on its endpoints alone, so the shards are first made to hold
every flow of their endpoints (``keep_endpoints_together``: flows with equal
endpoints in different VLANs, or interfaces kept apart, go to one shard).

Only asked for by the window (``CaptureDocument(names=True)``) and ``sessions
--application``: the plain ``sessions`` listing does none of it.  The results
equal ``applications.application_names`` and ``tcpstream.tcp_streams(...)
.session_pairs()`` (``tests/core/test_shard_names.py``, every shared capture, one
and two worker processes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monoview.core.capture.records import PayloadBuffer
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.summary import SessionRows
from monoview.core.flows.tcpstream import stream_starts

I64 = npt.NDArray[np.int64]
_MASK32 = 0xFFFFFFFF


@dataclass(frozen=True)
class ShardNames:
    """A shard's application names and streams, numbered within the shard.

    ``names[i]`` is the application of the shard's session row ``i``.  Each of
    the shard's streams is given by its first frame, its endpoints' key and its
    place among that key's streams: what ranks it among all streams as tshark
    numbers them.  ``pair_session``/``pair_stream``: each (session row, stream)
    that some index row joins.
    """

    names: list[str]
    first_frame: I64
    key: I64
    ordinal: I64
    pair_session: I64
    pair_stream: I64


@dataclass(frozen=True)
class SessionNames:
    """Every session's application (``""``: none recognised; entry ``i`` is session ``i + 1``),
    and each (session id, stream number) pair some row joins, sorted by session then stream
    (``TcpStreams.session_pairs``)."""

    applications: list[str]
    streams: tuple[I64, I64]


def keep_endpoints_together(shards: list[I64], keys: I64) -> list[I64]:
    """``shards`` (flows) changed so that flows with equal endpoint ``keys`` share one: the
    first shard holding one of them takes them all.  Nothing moves when every flow has
    endpoints of its own (keys are numbered by first appearance: all distinct when the
    largest is the last)."""
    if not len(keys) or int(keys.max()) == len(keys) - 1:
        return shards
    owner = np.zeros(int(keys.max()) + 1, dtype=np.int64)
    for number in range(len(shards) - 1, -1, -1):  # the first shard's claim written last
        owner[keys[shards[number]]] = number
    of_flow = owner[keys]
    return [np.flatnonzero(of_flow == number).astype(np.int64) for number in range(len(shards))]


def shard_names(grouped: GroupedRows, rows: SessionRows, keys: I64, buf: PayloadBuffer) -> ShardNames:
    """The names and streams of a shard: its flows' rows ``grouped``, their sessions ``rows``,
    ``keys`` the endpoints key of each group's flow (``tcpstream.endpoint_keys``)."""
    session = _session_of_rows(grouped, rows)
    names = _names(grouped, rows, session, buf)
    return _streams(grouped, keys, session, names)


def _session_of_rows(grouped: GroupedRows, rows: SessionRows) -> I64:
    """The shard session row holding each grouped row (-1: none); a session holds rows
    ``[first_row, stop_row)`` of its flow."""
    out = np.full(int(grouped.bounds[-1]), -1, dtype=np.int64)
    if not len(rows):
        return out
    base = grouped.bounds[np.searchsorted(grouped.flows, rows["flow"].astype(np.int64))]
    first = base + rows["first_row"].astype(np.int64)
    counts = rows["stop_row"].astype(np.int64) - rows["first_row"].astype(np.int64)
    ends = np.cumsum(counts)
    at = np.repeat(first - (ends - counts), counts) + np.arange(int(ends[-1]), dtype=np.int64)
    out[at] = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
    return out


def _names(grouped: GroupedRows, rows: SessionRows, session: I64, buf: PayloadBuffer) -> list[str]:
    """``applications.application_names`` of the shard's sessions, from its grouped rows
    (already by flow, each flow's rows in capture order, as that function sorts them)."""
    # Imported where the names are worked out, a worker (the window's preloads them): the
    # parent only merges, and its first rows do not wait for the recognisers' regexes.
    from monoview.core.appnames import application_name
    from monoview.core.flows.applications import HEAD_ROWS, read_heads

    c = grouped.columns
    at = np.flatnonzero((c["caplen"].astype(np.int64) > 0) & (session >= 0))
    owner = session[at]
    side = c["dir"][at].astype(np.int64) ^ rows["flipped"][owner].astype(np.int64)
    from_client = (side == rows["client_side"][owner]).astype(np.int64)
    key = owner * 2 + (1 - from_client)  # client's head first
    by_key = np.argsort(key, kind="stable")
    key, at = key[by_key], at[by_key]
    rank = np.arange(len(key), dtype=np.int64) - np.searchsorted(key, key, side="left")
    kept = rank < HEAD_ROWS
    heads = [[b"", b""] for _ in range(len(rows))]
    read_heads(heads, key[kept].tolist(), at[kept], c, grouped.parts, buf)
    # a session without payload (a SYN storm's: most of them) names nothing: not asked
    return [application_name(client, server) if client or server else "" for client, server in heads]


def _streams(grouped: GroupedRows, keys: I64, session: I64, names: list[str]) -> ShardNames:
    """tshark's streams of the shard's rows, as ``tcpstream.tcp_streams`` cuts them."""
    c = grouped.columns
    frame = c["frame"].astype(np.int64)
    counts = np.diff(grouped.bounds)
    key = np.repeat(keys, counts)
    order = _by_endpoints(keys, frame, grouped.bounds)
    k = key[order]
    starts = stream_starts(
        k, order, c["flags"].astype(np.int64), lambda: (c["dir"].astype(np.int64), c["seq"].astype(np.int64))
    )
    segment = np.cumsum(starts) - 1
    stream = np.empty(len(order), dtype=np.int64)
    stream[order] = segment
    first_key = k[starts]
    ordinal = np.arange(len(first_key), dtype=np.int64) - np.searchsorted(first_key, first_key, side="left")
    held = session >= 0
    pairs = np.unique(session[held] * (1 << 32) + stream[held])
    return ShardNames(names, frame[order][starts], first_key, ordinal, pairs >> 32, pairs & _MASK32)


def _by_endpoints(keys: I64, frame: I64, bounds: I64) -> I64:
    """The rows by endpoints key, each key's in frame order (``np.lexsort((frame, key))``):
    the grouped order itself when each group has a key of its own, rising, and its rows
    are in frame order (most shards), without sorting them."""
    rising_keys = bool(np.all(keys[1:] > keys[:-1]))
    steps = frame[1:] >= frame[:-1]
    steps[bounds[1:-1] - 1] = True  # a group's first row after another's last: any frame
    if rising_keys and bool(steps.all()):
        return np.arange(len(frame), dtype=np.int64)
    return np.lexsort((frame, np.repeat(keys, np.diff(bounds)))).astype(np.int64)


def merged(parts: Sequence[SessionRows], named: Sequence[ShardNames]) -> SessionNames:
    """Every session's names and streams from the shards' (``parts``: each shard's session rows,
    before ``table.concatenated`` puts them in order of first frame, as it is done here:
    a stable sort of their first frames)."""
    frames = np.concatenate([part["first_frame"] for part in parts]) if parts else np.zeros(0, np.int64)
    place = np.empty(len(frames), dtype=np.int64)
    place[np.argsort(frames, kind="stable")] = np.arange(len(frames), dtype=np.int64)
    applications = [""] * len(frames)
    first = np.concatenate([n.first_frame for n in named]) if named else np.zeros(0, np.int64)
    key = np.concatenate([n.key for n in named]) if named else np.zeros(0, np.int64)
    ordinal = np.concatenate([n.ordinal for n in named]) if named else np.zeros(0, np.int64)
    number = np.empty(len(first), dtype=np.int64)  # streams numbered by their first frame
    number[np.lexsort((ordinal, key, first))] = np.arange(len(first), dtype=np.int64)
    pairs, sessions_at, streams_at = [], 0, 0
    for part, shard in zip(parts, named, strict=True):
        ids = place[sessions_at : sessions_at + len(part)]
        for i, name in zip(ids.tolist(), shard.names, strict=True):
            applications[i] = name
        pairs.append((ids[shard.pair_session] + 1) * (1 << 32) + number[streams_at + shard.pair_stream])
        sessions_at += len(part)
        streams_at += len(shard.first_frame)
    joined = np.unique(np.concatenate(pairs)) if pairs else np.zeros(0, dtype=np.int64)
    return SessionNames(applications, ((joined >> 32).astype(np.int64), (joined & _MASK32).astype(np.int64)))


__all__ = ["SessionNames", "ShardNames", "keep_endpoints_together", "merged", "shard_names"]
