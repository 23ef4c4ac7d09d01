"""One session's events, handed to a dispatcher while the session is replayed.

``CaptureDocument.dispatch`` runs one of these per session: it replays the
session from the document's index row by row and hands each event on as it
happens (with the TcpPacket it names made once, on demand), so listeners see
the session as it was at that moment.  Kept apart from the document, which
it reads through the document's own row and replay helpers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monoview.core.packet import SegmentKind, TcpPacket

if TYPE_CHECKING:
    from monoview.core.dispatcher import Dispatcher
    from monoview.core.document import CaptureDocument
    from monoview.core.tcp.replay import FlowRows, Replayed


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
            found = self.made[ref] = self.document._packet(replayed, self.rows, self.extra, ref)
            found.kind = kind
        return found
