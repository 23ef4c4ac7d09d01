"""Sessions' events, handed to a dispatcher while each session is replayed.

``CaptureDocument.dispatch`` hands its sessions here (``dispatch_sessions``): their
flows' rows are read from the index a chunk of flows at a time, and one ``SessionEvents``
per session replays it row by row and hands each event on as it happens (with the
TcpPacket it names made once, on demand), so listeners see the session as it was at that
moment.  Kept apart from the document, which it reads through the document's own row and
replay helpers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

import numpy as np

from monoview.core.flows.grouped import REPLAY_COLUMNS, as_q
from monoview.core.flows.table import CHUNK_ROWS
from monoview.core.packet import SegmentKind, TcpPacket
from monoview.core.sets import unique
from monoview.core.tcp.replay import FlowRows

if TYPE_CHECKING:
    from monoview.core.dispatcher import Dispatcher
    from monoview.core.document import CaptureDocument
    from monoview.core.tcp.replay import Replayed

# What a TcpPacket needs beyond the replay's columns.
_PACKET_COLUMNS: Final = ("interface", "window")


def dispatch_sessions(document: CaptureDocument, dispatcher: Dispatcher, ids: np.ndarray) -> None:
    """Replay the sessions ``ids`` (checked, ascending) to ``dispatcher``, a chunk of their
    flows read from the index at once."""
    flow_of = document.rows["flow"]
    for chunk in _chunks(ids, flow_of, document.flows.rows):
        rows_of = _prefetched(document, unique(flow_of[chunk - 1]))
        for session_id in chunk.tolist():
            SessionEvents(document, dispatcher, session_id, *rows_of[int(flow_of[session_id - 1])]).run()


def _prefetched(
    document: CaptureDocument, flows: np.ndarray
) -> dict[int, tuple[FlowRows, dict[str, memoryview]]]:
    """Each of ``flows``' rows and packet columns, read in one gather (``select_flows``)."""
    parts = document.parts
    names = (*REPLAY_COLUMNS, *_PACKET_COLUMNS)
    columns, bounds = document.locator.select_flows(parts, flows, names)
    views = {name: as_q(values) for name, values in columns.items()}
    out = {}
    for flow, a, b in zip(flows.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        rows = FlowRows(**{n: views[n][a:b] for n in REPLAY_COLUMNS}, parts=parts.payload_parts)
        out[flow] = (rows, {n: views[n][a:b] for n in _PACKET_COLUMNS})
    return out


def _chunks(ids: np.ndarray, flow_of: np.ndarray, flow_rows: np.ndarray) -> Iterator[np.ndarray]:
    """``ids`` (ascending session ids) in consecutive chunks whose flows hold about
    ``CHUNK_ROWS`` rows (a session in a bigger flow alone): what is read at once."""
    if not len(ids):
        return
    sizes = np.cumsum(flow_rows[flow_of[ids - 1]], dtype=np.int64)
    first = 0
    while first < len(ids):
        done = int(sizes[first - 1]) if first else 0
        stop = int(np.searchsorted(sizes, done + CHUNK_ROWS, side="right"))
        stop = min(max(stop, first + 1), len(ids))
        yield ids[first:stop]
        first = stop


class SessionEvents:
    """One session's events, handed to a dispatcher while the session is replayed."""

    def __init__(
        self,
        document: CaptureDocument,
        dispatcher: Dispatcher,
        session_id: int,
        rows: FlowRows,
        extra: dict[str, memoryview],
    ) -> None:
        self.document = document
        self.dispatcher = dispatcher
        self.session_id = session_id
        self.packets = bool(dispatcher.handlers("tcp_packet"))
        self.rows = rows  # the session's flow (read for many sessions at once by ``dispatch``)
        self.extra = extra
        self.made: dict[int, TcpPacket] = {}
        self.emitted = 0

    def run(self) -> None:
        """Replay the session, emitting as it goes; then the events of its end."""
        replayed, _rows = self.document._replay(self.session_id, fast=False, rows=self.rows, on_row=self._row)
        self._flush(replayed)

    def _row(self, replayed: Replayed, row: int, kind: SegmentKind) -> None:
        replayed.session.id = self.session_id  # before anyone sees it
        if self.packets:
            packet = self._made(replayed, row, kind)
            self.dispatcher.emit("tcp_packet", packet=packet, session=replayed.session)
        self._flush(replayed)

    def _flush(self, replayed: Replayed) -> None:
        events = replayed.events
        for name, args in events[self.emitted :]:
            ref = args.get("packet")
            if isinstance(ref, int):
                args = {**args, "packet": self._made(replayed, ref, replayed.kinds.get(ref))}
            self.dispatcher.emit(name, **args)
        self.emitted = len(events)

    def _made(self, replayed: Replayed, ref: int, kind: SegmentKind | None) -> TcpPacket:
        found = self.made.get(ref)
        if found is None:
            found = self.made[ref] = self._packet(replayed, ref)
            found.kind = kind
        return found

    def _packet(self, replayed: Replayed, ref: int) -> TcpPacket:
        """The TcpPacket of row ``ref`` of the session's flow."""
        rows, extra, session = self.rows, self.extra, replayed.session
        side = rows.dir[ref] ^ replayed.flipped
        src, dst = session.endpoints[side], session.endpoints[1 - side]
        frame = rows.frame[ref]
        vlan = session.context[:-1] if self.document.options.split_interfaces else session.context
        packet = TcpPacket(
            frame, rows.ts[ref], int(extra["interface"][ref]), vlan, src.ip, dst.ip, src.port, dst.port,
            rows.seq[ref], rows.ack[ref], rows.flags[ref], int(extra["window"][ref]), rows.payload[ref],
            rows.caplen[ref], rows.wirelen[ref],
        )  # fmt: skip
        packet.payload_parts = rows.parts.get((frame, rows.payload[ref]))
        packet.session = session
        return packet
