"""TcpListener: packets in, sessions and monologues out (Net::Analysis Listener::TCP).

For every decoded packet it finds the session, reassembles, marks the packet
with its session and kind, emits ``tcp_packet``, then whatever the packet
caused: ``tcp_session_start``, ``tcp_monologue``, ``tcp_session_end``.

Options, as in Net::Analysis:

* ``v``: verbosity bitmask; 0x01 a line per packet, 0x02 per monologue,
  0x04 per session start and end;
* ``k``: a session key (or id) to be verbose about, packet by packet;
* ``dump``: a folder; each monologue is written there as ``s<id>_<key>.<n>``,
  as export writes its files (``force`` to overwrite existing ones);
* ``max_session_size``: keep at most this many payload bytes per session
  (the session is marked truncated; its state is still tracked).

A closed session is finished (its end event emitted) when its flow's next
packet comes more than ``linger_ns`` of capture time after its last one, when
its 4-tuple is reused, or when the capture ends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from monoview.core.capture.records import PayloadBuffer
from monoview.core.listener import Listener
from monoview.core.packet import TcpPacket
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import Event, TcpSession
from monoview.core.tcp.table import LINGER_NS, SessionTable
from monoview.core.tcp.trace import (
    VERBOSE_MONOLOGUE,
    VERBOSE_PACKET,
    VERBOSE_SESSION,
    dump_monologue,
    monologue_line,
    packet_line,
    session_line,
    watched,
)


@dataclass(frozen=True)
class TcpOptions:
    """Configuration of the TCP listener (see the module docstring)."""

    v: int = 0
    k: str | None = None
    dump: Path | None = None
    force: bool = False  # dumps may overwrite existing files
    max_session_size: int | None = None
    split_interfaces: bool = False
    linger_ns: int = LINGER_NS


class TcpListener(Listener):
    """Reassembles every TCP session and emits session and monologue events."""

    def __init__(
        self,
        buf: PayloadBuffer,
        options: TcpOptions | None = None,
        trace: Callable[[str], None] | None = None,
    ) -> None:
        self.options = options or TcpOptions()
        self.table = SessionTable(
            buf,
            split_interfaces=self.options.split_interfaces,
            max_session_size=self.options.max_session_size,
            linger_ns=self.options.linger_ns,
        )
        self._trace = trace or (lambda line: sys.stderr.write(line + "\n"))
        opts = self.options
        self._quiet = not opts.v & VERBOSE_PACKET and opts.k is None  # no per-packet trace
        self._packets_wanted = True  # until setup() finds out

    @property
    def sessions(self) -> list[TcpSession]:
        """Every session so far, in order of first packet."""
        return self.table.sessions

    def packet(self, packet: TcpPacket) -> None:
        """Override Listener.packet: reassemble and emit the derived events."""
        events: list[Event] = []
        session, side = self.table.lookup(packet, events)
        packet.kind = session.process(
            side, packet.frame, packet.ts_ns, packet.flags, packet.seq, packet.ack, packet.payload_offset,
            packet.payload_caplen, packet.payload_len, packet.payload_parts, packet, events,
        )  # fmt: skip
        packet.session = session
        if packet.path:
            session.path_set.add(packet.path)
        elif not session.plain_too:
            session.plain_too = True
        if self._quiet:
            if self._packets_wanted and self.dispatcher is not None:
                self.dispatcher.emit("tcp_packet", packet=packet, session=session)
        else:
            self._emit("tcp_packet", {"packet": packet, "session": session})
        for name, args in events:
            self._emit(name, args)

    def setup(self) -> None:
        """Override Listener.setup: note whether any listener takes ``tcp_packet``."""
        if self.dispatcher is not None:
            self._packets_wanted = bool(self.dispatcher.handlers("tcp_packet"))

    def teardown(self) -> None:
        """Override Listener.teardown: finish every open session (the capture ran out)."""
        events: list[Event] = []
        for session in self.table.open_sessions():
            session.finish(events)
        for name, args in events:
            self._emit(name, args)

    # -- events and the Net::Analysis options --------------------------------

    def _emit(self, name: str, args: dict[str, object]) -> None:
        self._verbose(name, args)
        if self.dispatcher is not None:
            self.dispatcher.emit(name, **args)

    def _verbose(self, name: str, args: dict[str, object]) -> None:
        v = self.options.v
        session = args["session"]
        assert isinstance(session, TcpSession)
        if name == "tcp_packet":
            if v & VERBOSE_PACKET or watched(session, self.options.k):
                packet = args["packet"]
                assert isinstance(packet, TcpPacket)
                self._trace(packet_line(session, packet))
        elif name == "tcp_monologue":
            monologue = args["monologue"]
            assert isinstance(monologue, Monologue)
            if v & VERBOSE_MONOLOGUE:
                self._trace(monologue_line(session, monologue))
            if self.options.dump is not None:
                dump_monologue(self.options.dump, session, monologue, self.options.force)
        elif v & VERBOSE_SESSION:
            self._trace(session_line(session, "start" if name == "tcp_session_start" else "end"))
