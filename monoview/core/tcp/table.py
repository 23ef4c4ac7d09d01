"""Which session a packet belongs to: keyed by both endpoints and VLAN context.

A new SYN on a 4-tuple whose session is over, or a SYN whose initial sequence
number differs from the one already seen, starts a new session (port reuse).
A closed session is over once its flow has been quiet for the linger time:
decided by the flow's own packets and times, never by what else is in the file.
A flow whose packets so far all went one way in one context is joined by the
other way's packets from another context (``capture.oneway``, which the
capture document applies to its flows in the same way).
"""

from __future__ import annotations

from typing import Final

from monoview.core.capture.records import PayloadBuffer
from monoview.core.packet import ACK, SYN, TcpPacket
from monoview.core.tcp.seq import SEQ_MOD
from monoview.core.tcp.session import Endpoint, Event, TcpSession

# A late SYN whose ISN+1 lies at most this far before data already seen from
# its side belongs to the same connection (shuffled or reordered capture).
LATE_SYN_WINDOW: Final = 1 << 24
# A closed connection whose flow is quiet this long (capture time) is over: what
# comes next on its 4-tuple is late, or a new connection.
LINGER_NS: Final = 60 * 1_000_000_000

SessionKey = tuple[tuple[int, ...], bytes, int, bytes, int]
Endpoints = tuple[bytes, int, bytes, int]  # the lower endpoint first


def outlived(session: TcpSession, ts_ns: int, linger_ns: int = LINGER_NS) -> bool:
    """Is a closed session over by the time its flow's next packet comes at ``ts_ns``?"""
    return session.closed and not session.finished and ts_ns - session.last_ts_ns > linger_ns


def starts_new_session(session: TcpSession, side: int, flags: int, seq: int, ack: int, wirelen: int) -> bool:
    """Does a packet from ``side`` of ``session``'s flow open a new connection on it?"""
    if flags & SYN:
        return _is_new_connection(session, side, flags, seq, ack)
    # Data on a 4-tuple whose session is over: a connection whose SYN was not
    # captured.  Its bytes must not be dropped as late.
    return session.finished and wirelen > 0


def _is_new_connection(session: TcpSession, side: int, flags: int, seq: int, ack: int) -> bool:
    """Does this SYN (or SYN/ACK) open a new connection on the same 4-tuple?"""
    if session.finished:
        return True
    stream = session.streams[side]
    if flags & ACK:
        # A SYN/ACK answering this session's SYN belongs to it, whatever came before
        # (an injected RST or FIN does not end a connection the peers go on using).
        peer_isn = session.streams[1 - side].isn
        if peer_isn is not None and ack == (peer_isn + 1) % SEQ_MOD:
            return False
        if stream.isn is not None:
            return seq != stream.isn
        return session.closed
    if stream.isn is not None:
        return seq != stream.isn
    if stream.base_seq is not None and stream.has_data:
        # Data from this side came before its SYN (a shuffled capture): the same
        # connection if the SYN sits just before that data.  A reused port gets
        # a fresh ISN, which is not just below the old connection's bytes.
        distance = (stream.base_seq + stream.low - (seq + 1)) % SEQ_MOD
        return distance >= LATE_SYN_WINDOW
    return session.closed


class SessionTable:
    """Sessions in order of their first packet, and the lookup that finds them."""

    def __init__(
        self,
        buf: PayloadBuffer,
        *,
        split_interfaces: bool = False,
        max_session_size: int | None = None,
        linger_ns: int = LINGER_NS,
    ) -> None:
        self._buf = buf
        self._split_interfaces = split_interfaces
        self._max_size = max_session_size
        self._linger_ns = linger_ns
        # The keys that have carried a packet, each with its session and the side that
        # sends with it; the other way's key of a session until that way sends.
        self._by_key: dict[SessionKey, tuple[TcpSession, int]] = {}
        self._unanswered: dict[SessionKey, tuple[TcpSession, int]] = {}
        self.sessions: list[TcpSession] = []
        # Per pair of endpoints, the context of its flow (a list once it has several,
        # in order of appearance); a one-way flow's context -> the one it joined
        # (see capture/oneway.py).
        self._contexts: dict[Endpoints, tuple[int, ...] | list[tuple[int, ...]]] = {}
        self._joined: dict[tuple[tuple[int, ...], Endpoints], tuple[int, ...]] = {}

    def lookup(self, packet: TcpPacket, events: list[Event]) -> tuple[TcpSession, int]:
        """Return the packet's session and the side that sent it, creating it if new."""
        context = (*packet.vlan, -1 - packet.interface) if self._split_interfaces else packet.vlan
        key = (context, packet.src, packet.sport, packet.dst, packet.dport)
        found = self._by_key.get(key)
        if found is None:
            found = self._unanswered.pop(key, None)
            if found is None:
                context = self._context_of_new_key(context, packet)
                key = (context, packet.src, packet.sport, packet.dst, packet.dport)
                found = self._by_key.get(key) or self._unanswered.pop(key, None)
            if found is not None:
                self._by_key[key] = found  # this way has sent now
        if found is not None:
            session, side = found
            if outlived(session, packet.ts_ns, self._linger_ns):
                session.finish(events)
            flags, seq, ack = packet.flags, packet.seq, packet.ack
            if not starts_new_session(session, side, flags, seq, ack, packet.payload_len):
                return found
            session.finish(events, "reused")
        session = TcpSession(
            len(self.sessions) + 1,
            context,
            Endpoint(packet.src, packet.sport),
            Endpoint(packet.dst, packet.dport),
            self._buf,
            self._max_size,
        )
        self.sessions.append(session)
        self._by_key[key] = (session, 0)
        reverse = (context, packet.dst, packet.dport, packet.src, packet.sport)
        (self._by_key if reverse in self._by_key else self._unanswered)[reverse] = (session, 1)
        return session, 0

    def _context_of_new_key(self, context: tuple[int, ...], packet: TcpPacket) -> tuple[int, ...]:
        """The context a packet is keyed by when its own key has no session: the one its
        flow joined, if its flow is a one-way flow that joins another context's."""
        a, b = (packet.src, packet.sport), (packet.dst, packet.dport)
        ends = (*a, *b) if a <= b else (*b, *a)
        joined = self._joined.get((context, ends))
        if joined is not None:
            return joined
        known = self._contexts.get(ends)
        if known is None:  # the first flow of these endpoints (nearly always the only one)
            self._contexts[ends] = context
            return context
        contexts = known if isinstance(known, list) else [known]
        if context in contexts:
            return context
        # The flow's first packet: does it answer a flow that so far went only the other way?
        interface = context[-1:] if context and context[-1] < 0 else ()
        for other in contexts:
            if (other[-1:] if other and other[-1] < 0 else ()) != interface:
                continue
            if (other, *b, *a) in self._by_key and (other, *a, *b) not in self._by_key:
                self._joined[(context, ends)] = other
                return other
        self._contexts[ends] = [*contexts, context]
        return context

    def open_sessions(self) -> list[TcpSession]:
        """Sessions not yet finished, in order of id."""
        return [s for s in self.sessions if not s.finished]
