"""Many conversations at once: the exact reassembly of chosen sessions, flow by flow.

Export needs the whole conversation of every session.  Building them here,
grouped by flow, reads each flow's rows once; plain flows are hydrated from
their rows (``flows.hydrate``), the others replayed with the run hints of all
of them computed in one numpy pass.  It runs in a worker process as well as
in this one (it opens nothing but what it is given).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import FlowTable, IndexParts
from monoview.core.capture.records import PayloadBuffer
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.hints import run_hints
from monoview.core.flows.hydrate import PlainFlows, hydrate, plain_flows
from monoview.core.flows.summary import SessionRows
from monoview.core.flows.table import CHUNK_ROWS, endpoints_of
from monoview.core.tcp.replay import Replayed, replay_flow
from monoview.core.tcp.table import LINGER_NS

I64 = npt.NDArray[np.int64]


def replay_sessions(
    parts: IndexParts,
    buf: PayloadBuffer,
    rows: SessionRows,
    ids: I64,
    *,
    max_session_size: int | None = None,
    linger_ns: int = LINGER_NS,
    hydrated: bool = True,
) -> Iterator[Replayed]:
    """The finished sessions ``ids`` (1-based positions in ``rows``), in the order given.

    A replayed session comes with its events; a hydrated one (``hydrated``,
    plain flows, no ``max_session_size``) with none.  The session's ``id`` is set.
    """
    if not len(ids):
        return
    chosen = rows[ids - 1]
    flows = np.unique(chosen["flow"])
    grouped = GroupedRows.of_parts(parts, flows)
    group_of = {int(flow): g for g, flow in enumerate(grouped.flows.tolist())}
    plain: dict[int, tuple[PlainFlows, int]] = {}  # group -> its chunk's plain flows, group there
    if hydrated and max_session_size is None:
        for a, b in grouped.chunks(CHUNK_ROWS):
            found = plain_flows(grouped.slice(a, b), linger_ns, buf)
            for k in np.flatnonzero(found.plain).tolist():
                plain[a + k] = (found, k)
    table: FlowTable = parts.flows
    counts = grouped.counts
    groups = [group_of[flow] for flow in chosen["flow"].tolist()]
    whole = (chosen["first_row"] == 0) & (chosen["stop_row"] == counts[groups])
    by_rows = [bool(w) and g in plain for g, w in zip(groups, whole, strict=True)]
    replayed_groups = sorted({g for g, hydrate_it in zip(groups, by_rows, strict=True) if not hydrate_it})
    flow_rows, spans, columns = grouped.flow_rows(replayed_groups)
    hints = run_hints(columns, spans, set(grouped.parts)) if replayed_groups else None
    span_of = {g: k for k, g in enumerate(replayed_groups)}
    names = chosen.dtype.names or ()
    for session_id, row, group, hydrate_it in zip(ids.tolist(), chosen, groups, by_rows, strict=True):
        flow = int(row["flow"])
        if hydrate_it:
            found, k = plain[group]
            session = hydrate(found, k, dict(zip(names, row.tolist(), strict=True)), table, buf, session_id)
            yield Replayed(session, 0, int(counts[group]), int(row["flipped"]), [])
            continue
        span = span_of[group]
        base, end = spans[span]
        first, stop = base + int(row["first_row"]), base + int(row["stop_row"])
        (replayed,) = replay_flow(
            buf, flow_rows, table.context(flow), endpoints_of(table, flow), start=first, stop=stop,
            max_session_size=max_session_size, linger_ns=linger_ns,
            end_reason="reused" if stop < end else "capture end", hints=hints, span=span,
        )  # fmt: skip
        replayed.session.id = session_id
        replayed.session.path_set = table.outer_path_set(flow)
        replayed.first, replayed.stop = first - base, stop - base  # rows of its own flow
        yield replayed
