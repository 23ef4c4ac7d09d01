"""Many conversations at once: the exact reassembly of chosen sessions, flow by flow.

Export needs the whole conversation of every session.  Building them here,
grouped by flow, reads each flow's rows once; plain flows are hydrated from
their rows (``flows.hydrate``), the others replayed with the run hints of all
of them computed in one numpy pass.  It runs in a worker process as well as
in this one (it opens nothing but what it is given).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import FlowTable, IndexParts
from monoview.core.capture.records import PayloadBuffer, part_frames
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.hints import run_hints
from monoview.core.flows.hydrate import PLAIN_ROWS, PlainFlows, hydrate, hydrate_streamed, plain_flows
from monoview.core.flows.streamed import streamed_flow
from monoview.core.flows.summary import SessionRows
from monoview.core.flows.table import CHUNK_ROWS, endpoints_of
from monoview.core.sets import unique
from monoview.core.tcp.replay import FlowRows, Replayed, replay_flow
from monoview.core.tcp.runs import RunHints
from monoview.core.tcp.table import LINGER_NS

I64 = npt.NDArray[np.int64]
# Rows of replayed flows whose rows and run hints are made at once (a few hundred bytes a row:
# 8,192 rows are 3 MB; 32,768 were 10 MB more at an export worker's peak, issue 6).
REPLAY_BATCH_ROWS = 1 << 13


def replay_sessions(
    parts: IndexParts,
    buf: PayloadBuffer,
    rows: SessionRows,
    ids: I64,
    *,
    max_session_size: int | None = None,
    linger_ns: int = LINGER_NS,
    hydrated: bool = True,
    chunk: int = CHUNK_ROWS,
) -> Iterator[Replayed]:
    """The finished sessions ``ids`` (1-based positions in ``rows``), in the order given.

    A replayed session comes with its events; a hydrated one (``hydrated``,
    plain flows, no ``max_session_size``) with none.  The session's ``id`` is set.
    A flow of more than ``chunk`` rows is judged, and hydrated, only when its
    session's turn comes, a chunk of rows at a time (``flows.streamed``): only
    one such session's pieces are in memory at once.
    """
    if not len(ids):
        return
    chosen = rows[ids - 1]
    flows = unique(chosen["flow"])
    grouped = GroupedRows.of_parts(parts, flows)
    group_of = {int(flow): g for g, flow in enumerate(grouped.flows.tolist())}
    counts = grouped.counts
    big = counts > chunk
    plain: dict[int, tuple[int, int]] = {}  # group -> its batch (in ``judged``), group there
    judged: dict[int, PlainFlows] = {}  # a batch's plain flows, while some are still to hydrate
    hydrating = hydrated and max_session_size is None
    if hydrating:
        for a, b in grouped.chunks(min(chunk, PLAIN_ROWS)):
            if b == a + 1 and big[a]:
                continue  # streamed when its turn comes
            found = plain_flows(grouped.slice(a, b), linger_ns, buf)
            for k in np.flatnonzero(found.plain).tolist():
                plain[a + k] = (a, k)
            if found.plain.any():
                judged[a] = found
    table: FlowTable = parts.flows
    groups = [group_of[flow] for flow in chosen["flow"].tolist()]
    whole = (chosen["first_row"] == 0) & (chosen["stop_row"] == counts[groups])
    by_rows = [bool(w) and g in plain for g, w in zip(groups, whole, strict=True)]
    streamed = [hydrating and bool(w) and bool(big[g]) for g, w in zip(groups, whole, strict=True)]
    # the groups replayed, in the order their first session comes
    replayed_groups = list(
        dict.fromkeys(g for g, h, t in zip(groups, by_rows, streamed, strict=True) if not h and not t)
    )
    # Each batch's pieces go once its last session is hydrated, and a group hydrated whole
    # needs its rows no more: the replay and the streamed flows keep the rest (issue 6: the
    # rows of a shard's flows and the pieces of its plain ones were held to the end, most of
    # an export worker's own memory).
    to_hydrate = Counter(plain[g][0] for g, h in zip(groups, by_rows, strict=True) if h)
    if plain:
        needed = np.zeros(len(grouped), dtype=np.bool_)
        needed[[g for g, h in zip(groups, by_rows, strict=True) if not h]] = True
        grouped = grouped.keeping(needed)
    replaying = _Replaying(grouped, replayed_groups)
    names = chosen.dtype.names or ()
    for session_id, row, group, hydrate_it, stream_it in zip(
        ids.tolist(), chosen, groups, by_rows, streamed, strict=True
    ):
        if hydrate_it:
            batch, k = plain[group]
            found = judged[batch]
            to_hydrate[batch] -= 1
            if not to_hydrate[batch]:
                del judged[batch]  # the session keeps its own copy of its pieces
            session = hydrate(found, k, dict(zip(names, row.tolist(), strict=True)), table, buf, session_id)
            del found
            yield Replayed(session, 0, int(counts[group]), int(row["flipped"]), [])
            continue
        if stream_it:
            fed = streamed_flow(grouped, group, linger_ns, chunk, pieces=True)
            if fed.plain:
                values = dict(zip(names, row.tolist(), strict=True))
                yield Replayed(hydrate_streamed(fed, values, table, buf, session_id), 0, int(counts[group]),
                               int(row["flipped"]), [])  # fmt: skip
                continue
            del fed
        flow = int(row["flow"])
        flow_rows, base, end, hints, span = replaying.of(group)
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


class _Replaying:
    """The rows (and run hints) the replay reads: of the groups known to need it, a batch of
    them at a time in the order they are needed (``REPLAY_BATCH_ROWS`` rows), and of a group
    needed again once its batch is passed, or of a big flow that turned out not plain, on its
    own (the latest one kept).

    All the replayed groups' rows and hints at once were a few hundred bytes a row of half a
    capture in each export worker (184 MB of own memory exporting the 1 GB capture, issue 6).
    The sessions are the same whichever rows are read with a group's: hints only make the
    replay faster, and it checks each one before it uses it.
    """

    def __init__(self, grouped: GroupedRows, groups: list[int], batch_rows: int | None = None) -> None:
        self.grouped, self.groups = grouped, groups
        self.batch_rows = REPLAY_BATCH_ROWS if batch_rows is None else batch_rows
        self.place = {g: k for k, g in enumerate(groups)}
        self.reach = np.cumsum(grouped.counts[np.array(groups, dtype=np.int64)]) if groups else None
        self._batch: tuple[int, int, FlowRows, list[tuple[int, int]], RunHints] | None = None
        self._alone: tuple[int, FlowRows, RunHints] | None = None

    def of(self, group: int) -> tuple[FlowRows, int, int, RunHints | None, int]:
        """The rows holding ``group``'s, where its rows lie in them, the hints and its span."""
        k = self.place.get(group)
        batch = self._batch
        if k is not None and (batch is None or k >= batch[1]):
            batch = self._load(k)
        if k is not None and batch is not None and batch[0] <= k < batch[1]:
            first, _stop, rows, spans, hints = batch
            base, end = spans[k - first]
            return rows, base, end, hints, k - first
        if self._alone is None or self._alone[0] != group:
            self._alone = None  # the previous one's rows go first
            rows, spans, columns = self.grouped.flow_rows([group])
            self._alone = (group, rows, run_hints(columns, spans, part_frames(self.grouped.parts)))
        _group, rows, hints = self._alone
        return rows, 0, len(rows), hints, 0

    def _load(self, k: int) -> tuple[int, int, FlowRows, list[tuple[int, int]], RunHints]:
        """The batch of groups from the ``k``-th needed on, up to ``batch_rows`` rows (one at least)."""
        assert self.reach is not None
        self._batch = None  # the previous batch's rows go first
        before = int(self.reach[k - 1]) if k else 0
        stop = int(np.searchsorted(self.reach, before + self.batch_rows, side="right"))
        stop = max(stop, k + 1)
        rows, spans, columns = self.grouped.flow_rows(self.groups[k:stop])
        hints = run_hints(columns, spans, part_frames(self.grouped.parts))
        del columns
        self._batch = (k, stop, rows, spans, hints)
        return self._batch
