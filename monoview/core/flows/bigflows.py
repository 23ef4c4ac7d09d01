"""The sessions of a big flow, its rows read from the index's ranges a bounded chunk at a time.

A shard's flows were all copied out of the index into ``GroupedRows`` first
(about 35 bytes a row): for one giant flow (320,000 segments held behind a
hole and as many duplicate ACKs) that copy was the flow's size again in the
worker's own memory, while the vectorised pass (``flows.streamed``) and the
replay (``replay.FlowReplay``) of such a flow only ever look at a chunk of it.
Here a flow of more rows than a chunk never is in ``GroupedRows``: its rows
are found in each range's flow column (mapped from the index's files) a block
at a time, and fed to the same two paths as they are found, so the same
sessions come out (``tests/core/test_bigflows.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import IndexParts
from monoview.core.capture.records import PayloadBuffer, part_frames
from monoview.core.flows.grouped import REPLAY_COLUMNS, as_q
from monoview.core.flows.hints import run_hints
from monoview.core.flows.streamed import STREAM_ROWS, StreamedFlow
from monoview.core.flows.summary import SESSION, SessionRows, summarise
from monoview.core.tcp.replay import FlowReplay, FlowRows
from monoview.core.tcp.session import Endpoint

I64 = npt.NDArray[np.int64]
# Rows of a range's flow column compared at a time while a flow's rows are looked for.
SCAN_ROWS: Final = 1 << 14


def flow_chunks(parts: IndexParts, flow: int, rows: int) -> Iterator[dict[str, I64]]:
    """Flow ``flow``'s rows in capture order as int64 columns ``REPLAY_COLUMNS`` (frames and
    payload offsets as the capture numbers them), ``rows`` of them at a time (the last fewer)."""
    if parts.extra is not None and bool((parts.extra["flow"] == flow).any()):
        # Rows from IP fragments merge in by frame: the whole flow at once (rare).
        wanted = np.zeros(len(parts.flows), dtype=np.bool_)
        wanted[flow] = True
        whole = {n: v.astype(np.int64) for n, v in parts.select(wanted, REPLAY_COLUMNS).items()}
        for start in range(0, len(whole["frame"]), rows):
            yield {name: values[start : start + rows] for name, values in whole.items()}
        return
    held: list[dict[str, I64]] = []
    count = 0
    for part, mapping, base in zip(parts.ranges, parts.mappings, parts.bases, strict=True):
        local = np.flatnonzero(mapping == flow)  # the flow's number in this range, if it is there
        if not part.rows or not len(local):
            continue
        column, number = part.column("flow"), int(local[0])
        for lo in range(0, part.rows, SCAN_ROWS):
            at = np.flatnonzero(column[lo : lo + SCAN_ROWS] == number) + lo
            if not len(at):
                continue
            held.append({n: _wide(part.in_capture(n, part.column(n)[at], base)) for n in REPLAY_COLUMNS})
            count += len(at)
            while count >= rows:
                chunk, held, count = _split(held, rows)
                yield chunk
    while count:
        chunk, held, count = _split(held, rows)
        yield chunk


def _wide(values: npt.NDArray[np.generic]) -> I64:
    return np.asarray(values, dtype=np.int64)


def _split(held: list[dict[str, I64]], rows: int) -> tuple[dict[str, I64], list[dict[str, I64]], int]:
    """The first ``rows`` (or all) of ``held`` as one chunk, and what is left."""
    joined = {
        n: np.concatenate([h[n] for h in held]) if len(held) > 1 else held[0][n] for n in REPLAY_COLUMNS
    }
    left = len(joined["frame"]) - rows
    if left <= 0:
        return joined, [], 0
    return (
        {n: v[:rows] for n, v in joined.items()},
        [{n: v[rows:] for n, v in joined.items()}],
        left,
    )


def big_flow_sessions(
    parts: IndexParts,
    flow: int,
    buf: PayloadBuffer,
    endpoints: tuple[Endpoint, Endpoint],
    *,
    chunk: int,
    window: int,
    max_session_size: int | None,
    linger_ns: int,
) -> SessionRows:
    """The sessions of flow ``flow`` (between ``endpoints``) as ``table.session_rows`` gives a
    group of more rows than ``chunk``: summarised by ``streamed`` when it is clean, else
    replayed ``window`` rows at a time (the run hints a window's)."""
    fragments = part_frames(parts.payload_parts)
    if max_session_size is None:
        streamed = StreamedFlow(flow, linger_ns, fragments)
        for columns in flow_chunks(parts, flow, max(1, min(chunk, STREAM_ROWS))):
            streamed.feed(columns)
            if not streamed.ok:
                break
        if streamed.ok:
            return streamed.finish()
    replay = FlowReplay(
        buf, parts.flows.context(flow), endpoints, max_session_size=max_session_size, linger_ns=linger_ns
    )
    fed = 0
    for columns in flow_chunks(parts, flow, window):
        n = len(columns["frame"])
        rows = FlowRows(**{name: as_q(values) for name, values in columns.items()}, parts=parts.payload_parts)
        hints = run_hints(columns, [(0, n)], fragments)
        replay.feed(rows, 0, n, hints=hints, base=fed)
        fed += n
        del rows, hints
    out = [summarise(r.session, flow, r.first, r.stop, r.flipped) for r in replay.close()]
    return np.array(out, dtype=SESSION)

