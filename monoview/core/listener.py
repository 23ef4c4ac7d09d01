"""The base class of every listener: a no-op method per event.

Net::Analysis dispatches an event to each listener that has a method of the
event's name; subclasses override only what they need, and the dispatcher
skips listeners whose method is still this no-op.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monoview.core.dispatcher import Dispatcher
    from monoview.core.packet import TcpPacket
    from monoview.core.tcp.monologue import Monologue
    from monoview.core.tcp.session import TcpSession


class Listener:
    """Receives events from a Dispatcher.

    Events (in the order they occur for a session): ``setup``; per decoded TCP
    packet ``packet`` (raw) then ``tcp_packet`` (with ``packet.session`` and
    ``packet.kind`` set); ``tcp_session_start``; ``tcp_monologue`` each time
    the talking side changes; ``tcp_session_end``; finally ``teardown``.
    """

    dispatcher: Dispatcher | None = None

    def setup(self) -> None:
        """Before the first packet."""

    def packet(self, packet: TcpPacket) -> None:
        """A decoded TCP packet, before reassembly (the TCP listener consumes it)."""

    def tcp_packet(self, packet: TcpPacket, session: TcpSession) -> None:
        """A TCP packet after the TCP listener classified it."""

    def tcp_session_start(self, session: TcpSession, packet: TcpPacket | None) -> None:
        """The session is established; ``packet`` completed the handshake (None if never)."""

    def tcp_monologue(self, session: TcpSession, monologue: Monologue) -> None:
        """One side finished talking (the other side's data arrived, or the session ended)."""

    def tcp_session_end(self, session: TcpSession, packet: TcpPacket | None) -> None:
        """The session is over; ``packet`` closed it, None when the capture ran out."""

    def teardown(self) -> None:
        """After the last packet."""
