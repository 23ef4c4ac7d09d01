"""The session list of a capture: every session of every flow, summarised.

Clean flows are summarised all at once by numpy (``simple``); the others are
replayed through the exact reassembler (``tcp.replay``), whose fast lane takes
their plain runs.  Sessions are listed in order of their first packet, which
gives them their ids, so the list does not depend on how the work was split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from monoview.core.capture.index import FlowTable
from monoview.core.capture.records import Buffer
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.simple import clean_sessions
from monoview.core.flows.summary import SESSION, SessionRows, empty, summarise
from monoview.core.tcp.replay import replay_flow
from monoview.core.tcp.session import Endpoint
from monoview.core.tcp.table import LINGER_NS


def endpoints_of(flows: FlowTable, flow: int) -> tuple[Endpoint, Endpoint]:
    """The flow's endpoints as Endpoint values (the lower one first)."""
    (a_ip, a_port), (b_ip, b_port) = flows.endpoints(flow)
    return Endpoint(a_ip, a_port), Endpoint(b_ip, b_port)


def session_rows(
    grouped: GroupedRows,
    buf: Buffer,
    flows: FlowTable,
    *,
    max_session_size: int | None = None,
    linger_ns: int = LINGER_NS,
    vectorised: bool = True,
    fast: bool = True,
) -> SessionRows:
    """The sessions of the grouped flows, in order of first packet.

    ``vectorised`` and ``fast`` choose the paths (the exact replay alone when
    both are off); every choice gives the same rows.
    """
    if vectorised and max_session_size is None:
        clean, summaries = clean_sessions(grouped, linger_ns)
    else:
        clean, summaries = np.zeros(len(grouped), dtype=np.bool_), empty(len(grouped))
    dirty = np.flatnonzero(~clean)
    replayed: list[tuple[object, ...]] = []
    rows, spans = grouped.flow_rows(dirty)
    for group, (start, stop) in zip(dirty.tolist(), spans, strict=True):
        flow = int(grouped.flows[group])
        for r in replay_flow(
            buf, rows, flows.context(flow), endpoints_of(flows, flow), start=start, stop=stop,
            max_session_size=max_session_size, linger_ns=linger_ns, fast=fast,
        ):  # fmt: skip
            replayed.append(summarise(r.session, flow, r.first - start, r.stop - start, r.flipped))
    table = np.concatenate([summaries[clean], np.array(replayed, dtype=SESSION)])
    return table[np.argsort(table["first_frame"], kind="stable")]


def concatenated(parts: Sequence[SessionRows]) -> SessionRows:
    """Session rows of several shards as one list in order of first packet."""
    table = np.concatenate(list(parts)) if parts else empty()
    return table[np.argsort(table["first_frame"], kind="stable")]
