"""The session list of a capture: every session of every flow, summarised.

Clean flows are summarised all at once by numpy (``simple``); the others are
replayed through the exact reassembler (``tcp.replay``), whose fast lane takes
their plain runs, except flows of one bare packet (``lone``: one replay per
kind).  Sessions are listed in order of their first packet, which gives them
their ids, so the list does not depend on how the work was split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from monoview.core.capture.captureset import opened
from monoview.core.capture.index import FlowTable, IndexParts
from monoview.core.capture.records import PayloadBuffer, part_frames
from monoview.core.executor import Progress, gather
from monoview.core.flows.bigflows import big_flow_sessions
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.hints import run_hints
from monoview.core.flows.lone import lone_groups, lone_sessions
from monoview.core.flows.simple import clean_sessions
from monoview.core.flows.streamed import streamed_flow
from monoview.core.flows.summary import SESSION, SessionRows, empty, summarise
from monoview.core.sets import setdiff
from monoview.core.tcp.replay import FlowReplay, replay_flow
from monoview.core.tcp.session import Endpoint
from monoview.core.tcp.table import LINGER_NS

if TYPE_CHECKING:
    from monoview.core.flows.shardnames import SessionNames, ShardNames

I64 = npt.NDArray[np.int64]
# Rows of grouped flows the vectorised pass takes at a time (its temporaries are a few
# dozen arrays of this many int64s); a flow with more rows is fed to ``flows.streamed``
# this many rows at a time.
CHUNK_ROWS = 1 << 16
# Rows of such a flow replayed at a time, when it is not clean: the window's rows and run hints
# (a few hundred bytes a row) are in memory, not the flow's.
REPLAY_ROWS = 1 << 14
# Shards per worker process when the session list is built in parallel.
SHARDS_PER_WORKER = 4


def endpoints_of(flows: FlowTable, flow: int) -> tuple[Endpoint, Endpoint]:
    """The flow's endpoints as Endpoint values (the lower one first)."""
    (a_ip, a_port), (b_ip, b_port) = flows.endpoints(flow)
    return Endpoint(a_ip, a_port), Endpoint(b_ip, b_port)


def session_rows(
    grouped: GroupedRows,
    buf: PayloadBuffer,
    flows: FlowTable,
    *,
    max_session_size: int | None = None,
    linger_ns: int = LINGER_NS,
    vectorised: bool = True,
    fast: bool = True,
    runs: bool = True,
    chunk: int = CHUNK_ROWS,
) -> SessionRows:
    """The sessions of the grouped flows, in order of first packet.

    ``vectorised``, ``fast`` and ``runs`` choose the paths (the exact replay
    alone when all are off); every choice gives the same rows, and so does
    any ``chunk`` (the rows the vectorised pass takes at a time).
    """
    if vectorised and max_session_size is None:
        done = [_clean_chunk(grouped, a, b, linger_ns, buf, chunk) for a, b in grouped.chunks(chunk)]
        clean = np.concatenate([c for c, _ in done]) if done else np.zeros(0, dtype=np.bool_)
        summaries = done[0][1] if len(done) == 1 else np.concatenate([r for _, r in done] or [empty()])
        del done  # the rows are 168 bytes a session: no copy is kept longer than it is needed
    else:
        clean, summaries = np.zeros(len(grouped), dtype=np.bool_), empty(len(grouped))
    dirty = np.flatnonzero(~clean)
    lone = np.zeros(0, dtype=np.int64)
    if vectorised and max_session_size is None:
        # One packet, no payload, no SYN: copied from one exact replay of its kind.
        is_lone = lone_groups(grouped, dirty)
        lone, dirty = dirty[is_lone], dirty[~is_lone]

    def replay(groups: npt.NDArray[np.int64]) -> SessionRows:
        replayed: list[tuple[object, ...]] = []
        counts = grouped.counts[groups]
        for group in groups[counts > chunk].tolist():
            replayed.extend(_replay_windows(grouped, group, buf, flows, min(chunk, REPLAY_ROWS),
                                            max_session_size, linger_ns, fast, fast and runs))  # fmt: skip
        groups = groups[counts <= chunk]
        rows, spans, columns = grouped.flow_rows(groups)
        hints = run_hints(columns, spans, part_frames(grouped.parts)) if fast and runs else None
        for span, (group, (start, stop)) in enumerate(zip(groups.tolist(), spans, strict=True)):
            flow = int(grouped.flows[group])
            for r in replay_flow(
                buf, rows, flows.context(flow), endpoints_of(flows, flow), start=start, stop=stop,
                max_session_size=max_session_size, linger_ns=linger_ns, fast=fast, hints=hints, span=span,
            ):  # fmt: skip
                replayed.append(summarise(r.session, flow, r.first - start, r.stop - start, r.flipped))
        return np.array(replayed, dtype=SESSION)

    parts = [summaries if clean.all() else summaries[clean], replay(dirty)]
    del summaries
    if len(lone):
        parts.append(lone_sessions(grouped, flows, lone, replay))
    return in_frame_order(parts)


def in_frame_order(parts: list[SessionRows]) -> SessionRows:
    """The rows of ``parts`` as one list in order of first packet (stable: ties keep the parts'
    order, as a stable sort of their concatenation does), ``parts`` emptied as they are placed.

    A session row is 168 bytes: concatenating and then sorting held three copies of the list
    at once (300,000 SYN-only sessions: 150 MB).  Here the rows are copied once, straight to
    their place, each part let go once it is placed; rows already in order are not copied.
    """
    parts[:] = [part for part in parts if len(part)]
    if not parts:
        return empty()
    frames = np.concatenate([part["first_frame"] for part in parts])
    if bool(np.all(frames[1:] >= frames[:-1])):
        table = parts[0] if len(parts) == 1 else np.concatenate(parts)
        parts.clear()
        return table
    place = np.empty(len(frames), dtype=np.int64)
    place[np.argsort(frames, kind="stable")] = np.arange(len(frames), dtype=np.int64)
    del frames
    table = np.empty(len(place), dtype=SESSION)
    at = 0
    while parts:
        part = parts.pop(0)
        table[place[at : at + len(part)]] = part
        at += len(part)
    return table


def _replay_windows(
    grouped: GroupedRows, group: int, buf: PayloadBuffer, flows: FlowTable, window: int,
    max_session_size: int | None, linger_ns: int, fast: bool, runs: bool,
) -> list[tuple[object, ...]]:  # fmt: skip
    """The summaries of a flow of more rows than a chunk, replayed ``window`` rows at a time:
    its rows as Python-readable columns and their run hints are then a window's, not the
    flow's (a giant flow's are a few hundred bytes a row)."""
    flow = int(grouped.flows[group])
    replay = FlowReplay(
        buf, flows.context(flow), endpoints_of(flows, flow), max_session_size=max_session_size,
        linger_ns=linger_ns, fast=fast,
    )  # fmt: skip
    count = int(grouped.counts[group])
    for lo in range(0, count, window):
        hi = min(lo + window, count)
        rows, columns = grouped.window(group, lo, hi)
        hints = run_hints(columns, [(0, hi - lo)], part_frames(grouped.parts)) if runs else None
        replay.feed(rows, 0, hi - lo, hints=hints, base=lo)
        del rows, columns, hints
    return [summarise(r.session, flow, r.first, r.stop, r.flipped) for r in replay.close()]


def _clean_chunk(
    grouped: GroupedRows, first: int, stop: int, linger_ns: int, buf: PayloadBuffer, chunk: int
) -> tuple[npt.NDArray[np.bool_], SessionRows]:
    """Which of groups ``first``..``stop``-1 are clean, and their sessions: all at once, or
    a bigger flow alone a chunk of rows at a time, so the temporaries stay small."""
    if stop == first + 1 and int(grouped.bounds[stop] - grouped.bounds[first]) > chunk:
        streamed = streamed_flow(grouped, first, linger_ns, chunk)
        return np.array([streamed.ok]), streamed.finish()
    return clean_sessions(grouped.slice(first, stop), linger_ns, buf)


def concatenated(parts: Sequence[SessionRows]) -> SessionRows:
    """Session rows of several shards as one list in order of first packet (``parts`` given
    as a list is emptied: each shard's rows are let go once placed)."""
    return in_frame_order(parts if isinstance(parts, list) else list(parts))


@dataclass(frozen=True)
class ShardTask:
    """Summarise the sessions of some flows of an index (runs in a worker process)."""

    parts: IndexParts
    flows: I64  # the flows of this shard
    max_session_size: int | None = None
    linger_ns: int = LINGER_NS
    # The endpoints key of each of ``flows`` (``tcpstream.endpoint_keys``) when the sessions'
    # applications and tshark's streams are wanted too (``shardnames``); None: not wanted.
    keys: I64 | None = None
    chunk: int = CHUNK_ROWS  # as ``session_rows``'; a flow of more rows is read a chunk at a time


def shard_sessions(task: ShardTask) -> tuple[SessionRows, ShardNames | None]:
    """The session rows of a shard's flows (opens the capture itself), and their names and
    streams when the task has ``keys``: worked out from the same grouped rows, in memory now.

    Without names, the flows of more rows than a chunk are not copied out of the
    index with the others: each is read from it a chunk at a time
    (``flows.bigflows``), so the worker holds a chunk of a giant flow's rows, not
    the flow's.  (The names are worked out from every flow's grouped rows.)
    """
    parts, flows = task.parts, task.flows
    if task.keys is not None:
        grouped = GroupedRows.of_parts(parts, flows)
        with opened(parts.source or parts.path) as buf:
            rows = session_rows(grouped, buf, parts.flows, max_session_size=task.max_session_size,
                                linger_ns=task.linger_ns, chunk=task.chunk)  # fmt: skip
            from monoview.core.flows.shardnames import shard_names

            keys = task.keys[np.searchsorted(task.flows, grouped.flows)]
            return rows, shard_names(grouped, rows, keys, buf)
    big = parts.flows.rows[flows] > task.chunk
    with opened(parts.source or parts.path) as buf:
        found = []
        if not big.all():
            grouped = GroupedRows.of_parts(parts, flows[~big])
            found.append(session_rows(grouped, buf, parts.flows, max_session_size=task.max_session_size,
                                      linger_ns=task.linger_ns, chunk=task.chunk))  # fmt: skip
            del grouped
        for flow in flows[big].tolist():
            found.append(big_flow_sessions(
                parts, flow, buf, endpoints_of(parts.flows, flow), chunk=task.chunk,
                window=min(task.chunk, REPLAY_ROWS), max_session_size=task.max_session_size,
                linger_ns=task.linger_ns,
            ))  # fmt: skip
        return in_frame_order(found), None


def shards(rows: I64, count: int) -> list[I64]:
    """Flows split into ``count`` groups of about equal rows, deterministically.

    The biggest flows are dealt first, each to the lightest group; the many
    small ones then fill the groups up in flow order.
    """
    if count <= 1 or len(rows) <= 1:
        return [np.arange(len(rows), dtype=np.int64)]
    order = np.argsort(-rows, kind="stable")
    total = int(rows.sum())
    big = order[rows[order] > max(total // (count * 64), 1)]
    load = [0] * count
    members: list[list[int]] = [[] for _ in range(count)]
    for flow in big.tolist():
        lightest = min(range(count), key=load.__getitem__)
        members[lightest].append(flow)
        load[lightest] += int(rows[flow])
    small = setdiff(np.arange(len(rows)), big)
    # Fill each group up to the same total, small flows in order.
    target = total / count
    room = np.maximum(target - np.array(load, dtype=np.float64), 0)
    edges = np.cumsum(room) / max(room.sum(), 1) * rows[small].sum()
    where = np.searchsorted(edges, np.cumsum(rows[small]) - rows[small] / 2, side="right")
    out = []
    for group in range(count):
        mine = np.concatenate([np.array(members[group], dtype=np.int64), small[where == group]])
        if group == count - 1:
            mine = np.concatenate([mine, small[where >= count]])
        out.append(np.sort(mine).astype(np.int64))
    return out


def session_shards(rows: SessionRows, flow_rows: I64, ids: I64, count: int) -> list[I64]:
    """Sessions ``ids`` (1-based positions in ``rows``) in at most ``count`` shards by flow:
    a flow's sessions stay together, shards balanced by their flows' rows (``flow_rows``:
    index rows per flow); empty shards left out."""
    flows, inverse = np.unique(rows["flow"][ids - 1], return_inverse=True)
    out = []
    for group in shards(flow_rows[flows], count):
        mine = np.isin(inverse, group)
        if mine.any():
            out.append(ids[mine])
    return out


def build_sessions(
    parts: IndexParts,
    executor: Executor,
    count: int,
    *,
    max_session_size: int | None = None,
    linger_ns: int = LINGER_NS,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    names: bool = False,
) -> tuple[SessionRows, SessionNames | None]:
    """Every session of an index, summarised in ``executor`` by ``count`` workers
    (``progress`` and ``cancel`` as for ``executor.gather``), and with ``names`` their
    applications and tshark's stream numbers (``shardnames``; else None).

    Each worker gets a few shards rather than one: a shard's rows are in its
    memory at once, so smaller shards keep each worker's memory small.
    """
    flow_shards = shards(parts.flows.rows, count * SHARDS_PER_WORKER if count > 1 else 1)
    keys = None
    if names:
        from monoview.core.flows.shardnames import keep_endpoints_together
        from monoview.core.flows.tcpstream import endpoint_keys

        keys = endpoint_keys(parts.flows)
        flow_shards = keep_endpoints_together(flow_shards, keys)
    tasks = [
        ShardTask(parts, shard, max_session_size, linger_ns, None if keys is None else keys[shard])
        for shard in flow_shards
        if len(shard)
    ]
    done = gather(executor, shard_sessions, tasks, progress=progress, cancel=cancel)
    rows = [shard_rows for shard_rows, _ in done]
    named = None
    if names:
        from monoview.core.flows.shardnames import merged

        named = merged(rows, [shard for _, shard in done if shard is not None])
    del done
    return concatenated(rows), named
