"""Flows of one packet without payload or SYN, summarised without replaying each one.

A lone ACK or RST from a server port (a scan's answers, a reset storm) is a
session of its own, as tshark gives it a stream.  Storms of them are common
and each used to cost a full replay (a session, two streams, their gaps: about
40 us).  Such a session's row depends only on the packet's flags, its
direction in the flow and which side the ports make the client: no stream has
a base sequence number, so neither the sequence nor the ACK number changes
anything.  So one flow of each kind is replayed exactly and the others copy
its row with their own flow, frame and time (``test_session_table.py`` holds
the result to the exact replay).  The template flows are replayed together, in
one call: a call costs its run hints and row gathering whatever its size
(2 ms), and a storm of lone packets with random flags has hundreds of kinds in
each shard of a ranged build (fuzz 41:46864: 2,152 calls, 4 s of its 4.5 s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import FlowTable
from monoview.core.capture.records import part_frames
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.summary import SESSION, SessionRows
from monoview.core.tcp.session import SERVER_PORTS

I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]
SYN: Final = 0x02
_SERVER_PORTS: Final = np.fromiter(sorted(SERVER_PORTS), dtype=np.int64)


def lone_groups(grouped: GroupedRows, groups: I64) -> Bool:
    """Which of ``groups`` are one packet with no payload and no SYN (nor from IP fragments)."""
    start = grouped.bounds[groups]
    one = grouped.bounds[groups + 1] - start == 1
    flags, wirelen, frame = (
        grouped.columns[n][start].astype(np.int64) for n in ("flags", "wirelen", "frame")
    )
    lone: Bool = one & (wirelen == 0) & (flags & SYN == 0)
    if grouped.parts:
        lone &= ~np.isin(frame, np.fromiter(part_frames(grouped.parts), dtype=np.int64))
    return lone


def client_by_ports(sender: I64, receiver: I64) -> tuple[I64, I64]:
    """``tcp.session.guess_client_side`` for many (sender, receiver) port pairs: the client
    side (0: the sender) and the basis (0: ports, 1: equal ports, so the first sender)."""
    client = np.zeros(len(sender), dtype=np.int64)
    decided = np.zeros(len(sender), dtype=np.bool_)
    for is_server in (lambda p: p < 1024, lambda p: np.isin(p, _SERVER_PORTS)):
        s_srv, r_srv = is_server(sender), is_server(receiver)
        tells = (s_srv != r_srv) & ~decided
        client = np.where(tells, s_srv.astype(np.int64), client)
        decided |= tells
    lower = ~decided & (sender != receiver)
    client = np.where(lower, (sender < receiver).astype(np.int64), client)
    decided |= lower
    return client, np.where(decided, 0, 1)


def lone_sessions(
    grouped: GroupedRows,
    flows: FlowTable,
    groups: I64,
    replay: Callable[[I64], SessionRows],
) -> SessionRows:
    """The session rows of ``groups`` (all lone, see ``lone_groups``); ``replay(some)`` gives
    the exact rows of the groups ``some``, replayed: one a group (a lone packet is one
    session), in their order."""
    start = grouped.bounds[groups]
    flow = grouped.flows[groups]
    direction = grouped.columns["dir"][start].astype(np.int64)
    flags = grouped.columns["flags"][start].astype(np.int64)
    keys = flows.keys
    a_port, b_port = keys.a_port[flow], keys.b_port[flow]
    sender, receiver = np.where(direction == 1, b_port, a_port), np.where(direction == 1, a_port, b_port)
    client, basis = client_by_ports(sender, receiver)
    kind = ((flags * 2 + direction) * 2 + client) * 2 + basis
    kinds, first, which = np.unique(kind, return_index=True, return_inverse=True)
    out: SessionRows = np.zeros(len(groups), dtype=SESSION)
    if not len(kinds):
        return out
    templates = replay(groups[first])
    if len(templates) != len(kinds):
        raise AssertionError(f"{len(kinds)} lone flows replayed as {len(templates)} sessions")
    out[:] = templates[which.ravel()]
    out["flow"] = flow
    frame, ts = grouped.columns["frame"][start], grouped.columns["ts"][start]
    out["first_frame"], out["last_frame"] = frame, frame
    out["first_ts"], out["last_ts"] = ts, ts
    return out
