"""Many conversations at once: the exact reassembly of chosen sessions, flow by flow.

Export and the protocol listeners need the whole conversation of every
session.  Replaying them here, grouped by flow, reads each flow's rows once,
computes the run hints for all of them in one numpy pass, and runs in a
worker process as well as in this one (it opens nothing but what it is given).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import FlowTable, IndexParts
from monoview.core.capture.records import Buffer
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.hints import run_hints
from monoview.core.flows.summary import SessionRows
from monoview.core.flows.table import endpoints_of
from monoview.core.tcp.replay import Replayed, replay_flow
from monoview.core.tcp.table import LINGER_NS

I64 = npt.NDArray[np.int64]


def replay_sessions(
    parts: IndexParts,
    buf: Buffer,
    rows: SessionRows,
    ids: I64,
    *,
    max_session_size: int | None = None,
    linger_ns: int = LINGER_NS,
) -> Iterator[Replayed]:
    """The replayed sessions ``ids`` (1-based positions in ``rows``), in the order given.

    Each comes with its events; the session's ``id`` is set.
    """
    if not len(ids):
        return
    chosen = rows[ids - 1]
    flows = np.unique(chosen["flow"])
    grouped = GroupedRows.of_parts(parts, flows)
    flow_rows, spans, columns = grouped.flow_rows(np.arange(len(grouped)))
    hints = run_hints(columns, spans, set(grouped.parts))
    span_of = {int(flow): k for k, flow in enumerate(grouped.flows.tolist())}
    table: FlowTable = parts.flows
    for session_id, row in zip(ids.tolist(), chosen, strict=True):
        flow = int(row["flow"])
        span = span_of[flow]
        base, end = spans[span]
        first, stop = base + int(row["first_row"]), base + int(row["stop_row"])
        (replayed,) = replay_flow(
            buf, flow_rows, table.context(flow), endpoints_of(table, flow), start=first, stop=stop,
            max_session_size=max_session_size, linger_ns=linger_ns,
            end_reason="reused" if stop < end else "capture end", hints=hints, span=span,
        )  # fmt: skip
        replayed.session.id = session_id
        yield replayed
