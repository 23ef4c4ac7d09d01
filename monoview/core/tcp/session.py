"""One TCP connection: its two direction streams, its state and its monologues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, NamedTuple

from monoview.core.capture.captureset import SetBuffer, SetView
from monoview.core.capture.outerpath import NO_PATH, OuterPath, known_paths
from monoview.core.capture.records import Parts, PayloadBuffer
from monoview.core.packet import ACK, FIN, RST, SYN, SegmentKind, format_endpoint, format_ts
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.records import Conflict, Gap, GapCause
from monoview.core.tcp.seq import SEQ_MOD
from monoview.core.tcp.stream import Budget, DirectionStream

Event = tuple[str, dict[str, Any]]
# What names a packet in events: the TcpPacket itself when packets are read one by
# one, an index row when a session is replayed from the index (turned into a
# TcpPacket only if a listener asks).  Sessions never look inside it.
PacketRef = object


# Ports that name a server even when the client's port is lower (used only when
# no SYN or SYN/ACK was captured).
SERVER_PORTS: Final = frozenset(
    {
        1080,
        1433,
        1521,
        1723,
        1883,
        2049,
        2181,
        3128,
        3306,
        3389,
        5060,
        5222,
        5432,
        5672,
        5900,
        6379,
        6443,
        6667,
        8000,
        8008,
        8080,
        8081,
        8443,
        8888,
        9000,
        9092,
        9200,
        11211,
        27017,
    }
)


class Endpoint(NamedTuple):
    """An address (4 or 16 raw bytes) and a port."""

    ip: bytes
    port: int

    def __str__(self) -> str:
        return format_endpoint(self.ip, self.port)


class ClientBasis:
    """How the client side was decided (``client_basis`` in the manifest)."""

    SYN: Final = "syn"  # it sent the SYN
    SYNACK: Final = "synack"  # it received the SYN/ACK
    PORT: Final = "port"  # no handshake: the other side's port is a server port
    FIRST_PACKET: Final = "first_packet"  # no handshake, no telling port: it sent first


def guess_client_side(a: Endpoint, b: Endpoint) -> tuple[int, str]:
    """Pick the client of a connection whose handshake was not captured.

    The server is the side with a well-known port (below 1024), else one on the
    list of common service ports, else the lower port; equal ports leave the
    first sender as client.
    """
    for is_server in (lambda p: p < 1024, SERVER_PORTS.__contains__):
        a_srv, b_srv = is_server(a.port), is_server(b.port)
        if a_srv != b_srv:
            return (1 if a_srv else 0), ClientBasis.PORT
    if a.port != b.port:
        return (1 if a.port < b.port else 0), ClientBasis.PORT
    return 0, ClientBasis.FIRST_PACKET


def session_key(context: tuple[int, ...], client: Endpoint, server: Endpoint) -> str:
    """``client-server``, prefixed by the VLAN/interface context when there is one."""
    prefix = "vlan " + ".".join(str(v) for v in context) + " " if context else ""
    return f"{prefix}{client}-{server}"


def connection_state(rst: list[bool], fin: list[bool]) -> str:
    """``reset``, ``closed`` (FIN both ways), ``half-closed`` or ``open``."""
    if any(rst):
        return "reset"
    if all(fin):
        return "closed"
    if any(fin):
        return "half-closed"
    return "open"


class TcpSession:
    """Reassembly and state of one connection.

    Side 0 is the sender of the first captured packet, side 1 its peer;
    ``client_side`` says which of them is the client.
    """

    def __init__(
        self,
        session_id: int,
        context: tuple[int, ...],
        first: Endpoint,
        second: Endpoint,
        buf: PayloadBuffer,
        max_size: int | None = None,
    ) -> None:
        self.id = session_id
        self.context = context
        self.endpoints = (first, second)
        self._buf = buf
        self.budget = Budget(max_size)
        self.streams = (DirectionStream(buf, self.budget), DirectionStream(buf, self.budget))
        self.client_side, self.client_basis = guess_client_side(first, second)
        self.packets = 0
        # The outer paths its packets came through (``capture.outerpath``); whether some came
        # plain (kept apart: the empty path is added only when there are others).
        self.path_set: set[OuterPath] = set()
        self.plain_too = False
        self.data_packets = [0, 0]
        self.first_ts_ns = 0
        self.last_ts_ns = 0
        self.first_frame = 0
        self.last_frame = 0
        self.syn = [False, False]  # a SYN (without ACK) seen from this side
        self.synack = [False, False]
        self.fin = [False, False]
        self.rst = [False, False]
        self.closed = False  # the connection is over: reset, or both sides sent FIN
        self.truncated_packets = 0
        self.handshake_ref: PacketRef | None = None  # the ACK that completed the handshake
        self.end_ref: PacketRef | None = None  # the packet that closed the connection
        self._end_frame = 0
        self._end_side = 0
        self.started = False
        self.finished = False
        self.ended_by: str | None = None  # "reset", "close", "reused" or "capture end"
        self._said: list[Monologue] = []  # the monologues closed so far
        # Every monologue, in order: ``_said`` while the session is reassembled; a hydrated
        # session's are columns instead (``flows.hydrate.HydratedMonologues``).
        self.monologues: Sequence[Monologue] = self._said
        self._current_side: int | None = None
        self._current_first = 0
        # Per side, the first piece of late-filled bytes not yet in a monologue.
        self._orphans: list[int | None] = [None, None]
        self._last_fin_offset: int | None = None

    # -- identity ---------------------------------------------------------

    @property
    def client(self) -> Endpoint:
        """The client endpoint."""
        return self.endpoints[self.client_side]

    @property
    def server(self) -> Endpoint:
        """The server endpoint."""
        return self.endpoints[1 - self.client_side]

    @property
    def key(self) -> str:
        """Readable unique key: ``client-server``, prefixed by VLAN/interface context."""
        return session_key(self.context, self.client, self.server)

    @property
    def outer_paths(self) -> list[OuterPath]:
        """What its packets came through (``capture.outerpath.known_paths``): [] when plain."""
        return known_paths([*self.path_set, *((NO_PATH,) if self.plain_too else ())])

    def stream(self, direction: str) -> DirectionStream:
        """The ``c2s`` or ``s2c`` stream."""
        return self.streams[self.client_side if direction == "c2s" else 1 - self.client_side]

    # -- travel between processes ------------------------------------------------

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the capture's mapping (payload stays in the file): a worker
        process reassembles a session, the window's process ``rebind``s it to its own."""
        state = self.__dict__.copy()
        state["_buf"] = None
        return state

    def forget_monologues(self) -> None:
        """Drop the monologues, and with them the cycle they make with the session (each
        names it): an export that keeps the cyclic collector off frees each session it
        has written at once this way."""
        self._said = []
        self.monologues = ()

    def rebind(self, buf: PayloadBuffer) -> None:
        """Read payload from ``buf`` (the same capture file, mapped by this process)."""
        self._buf = buf
        for stream in self.streams:
            stream.rebind(buf)

    def read(self, file_offset: int, length: int) -> bytes:
        """Bytes of the capture file (payload is never copied into the session)."""
        return bytes(self._buf[file_offset : file_offset + length])

    def capture_view(self) -> memoryview | SetView:
        """The whole capture as a view (no copy; release it before the capture closes): a
        memoryview of one file, or of a set's files by their virtual offsets."""
        if isinstance(self._buf, SetBuffer):
            return self._buf.view()
        return memoryview(self._buf)

    # -- state ------------------------------------------------------------

    @property
    def handshake(self) -> bool:
        """SYN, SYN/ACK and the ACK completing them were all captured."""
        return self.handshake_ref is not None

    @property
    def state(self) -> str:
        """``reset``, ``closed`` (FIN both ways), ``half-closed`` or ``open``."""
        return connection_state(self.rst, self.fin)

    @property
    def truncated(self) -> bool:
        """Payload was cut by snaplen or by ``max_session_size``."""
        return self.truncated_packets > 0 or any(s.cut_at is not None for s in self.streams)

    def gaps(self, direction: str) -> list[Gap]:
        """Gaps of one direction (complete once the session is finished)."""
        return self.stream(direction).gaps

    @property
    def missing_data(self) -> bool:
        """Bytes are missing that snaplen did not cut (those are ``truncated``)."""
        return any(g.cause is not GapCause.SNAPLEN for s in self.streams for g in s.gaps)

    def kept(self, direction: str) -> int:
        """Payload bytes reassembled in one direction."""
        return self.stream(direction).kept

    def gap_count(self, direction: str) -> int:
        """How many gaps one direction has."""
        return len(self.stream(direction).gaps)

    def conflicts(self, direction: str, limit: int | None = None) -> list[Conflict]:
        """Differing retransmissions seen in one direction (the first ``limit`` if given)."""
        return self.stream(direction).public_conflicts(limit)

    def conflict_count(self, direction: str) -> int:
        """How many differing retransmissions one direction has."""
        return len(self.stream(direction).conflicts)

    @property
    def duration_ns(self) -> int:
        """Time from the first to the last packet (zero if the clock went backwards)."""
        return max(self.last_ts_ns - self.first_ts_ns, 0)

    def describe(self) -> str:
        """One line for traces."""
        return f"session {self.id} {self.key} {self.state} start {format_ts(self.first_ts_ns)}"

    # -- packets ----------------------------------------------------------

    def side_of(self, src: bytes, sport: int) -> int:
        """0 when a packet from ``src``:``sport`` was sent by side 0, else 1."""
        a = self.endpoints[0]
        return 0 if sport == a.port and src == a.ip else 1

    def process(
        self,
        side: int,
        frame: int,
        ts_ns: int,
        flags: int,
        seq: int,
        ack: int,
        payload_offset: int,
        caplen: int,
        wirelen: int,
        parts: Parts | None,
        ref: PacketRef,
        events: list[Event],
    ) -> SegmentKind:
        """Apply one packet sent by ``side``; append the events it causes (start, monologue, end).

        The packet is given by its fields (``caplen``/``wirelen`` are the
        payload's captured and wire lengths at ``payload_offset`` of the file,
        or ``parts`` for a payload in several places); ``ref`` names it in events.
        """
        if self.packets == 0:
            self.first_ts_ns = ts_ns
            self.first_frame = frame
        self.packets += 1
        # First and last in capture order, as Wireshark reports them (timestamps in
        # a reordered or damaged capture need not grow).
        self.last_ts_ns = ts_ns
        self.last_frame = frame
        if self.finished:
            return SegmentKind.LATE
        own, peer = self.streams[side], self.streams[1 - side]
        if flags & ACK:
            before = len(peer.p_start)
            peer.peer_ack(ack)
            if len(peer.p_start) != before:
                self._delivered(1 - side, before, events, ref)
        if flags & SYN:
            self._note_syn(side, flags, seq)
        data_seq = (seq + 1) % SEQ_MOD if flags & SYN else seq
        kind = SegmentKind.CONTROL
        if not wirelen and not flags & (SYN | FIN | RST) and own.base_seq is None:
            own.note_bare(seq)
        if wirelen:
            self.data_packets[side] += 1
            if caplen < wirelen:
                self.truncated_packets += 1
            before = len(own.p_start)
            if parts is None:
                kind = own.add_segment(data_seq, caplen, wirelen, payload_offset, frame, ts_ns)
            else:  # reassembled from IP fragments: the parts in order, as one segment
                part_seq = data_seq
                for file_offset, part_caplen, part_len in parts:
                    part_kind = own.add_segment(part_seq, part_caplen, part_len, file_offset, frame, ts_ns)
                    # The packet is new data if any part is; a fill only if every part is.
                    if kind is SegmentKind.CONTROL or part_kind is SegmentKind.DATA:
                        kind = part_kind
                    part_seq = (part_seq + part_len) % SEQ_MOD
            if len(own.p_start) != before:
                if kind is SegmentKind.FILL:
                    self._filled(side, before, events, ref)
                else:
                    self._delivered(side, before, events, ref)
        if flags & FIN:
            own.note_fin((data_seq + wirelen) % SEQ_MOD)
            self.fin[side] = True
            self.closed = self.closed or self.fin[1 - side]
        if flags & RST:
            self.rst[side] = True
            self.closed = True
        if not self.started:
            self._track_handshake(side, flags, ack, wirelen, ref, events)
        if flags & (FIN | RST) or self._last_fin_offset is not None:
            self._track_close(side, frame, flags, ref)
        return kind

    def _note_syn(self, side: int, flags: int, seq: int) -> None:
        own = self.streams[side]
        if own.isn is None or (seq != own.isn and not own.has_data):
            # A SYN/ACK repeated with another ISN (SYN cookies, a lost first answer):
            # the latest one is what the handshake ACK will acknowledge.
            own.note_syn(seq)
        if flags & ACK:
            self.synack[side] = True
            if not any(self.syn):
                self.client_side, self.client_basis = 1 - side, ClientBasis.SYNACK
        else:
            # The first SYN decides: in a split or simultaneous open the peer's SYN comes second.
            if not any(self.syn):
                self.client_side, self.client_basis = side, ClientBasis.SYN
            self.syn[side] = True

    def _track_handshake(
        self, side: int, flags: int, ack: int, wirelen: int, ref: PacketRef, events: list[Event]
    ) -> None:
        server = 1 - self.client_side
        server_isn = self.streams[server].isn
        if (
            flags & ACK
            and not flags & (SYN | RST)
            and side == self.client_side
            and self.synack[server]
            and server_isn is not None
            and ack == (server_isn + 1) % SEQ_MOD
        ):
            self.handshake_ref = ref
            self._start(ref, events)
        elif wirelen and not any(self.syn) and not any(self.synack):
            self._start(ref, events)  # picked up mid-stream: the first data starts it

    def _track_close(self, side: int, frame: int, flags: int, ref: PacketRef) -> None:
        if self.end_ref is None:
            if flags & RST or (flags & FIN and all(self.fin)):
                self._end(side, frame, ref)
                self._last_fin_offset = self.streams[side].fin_offset if flags & FIN else None
        elif (
            self._last_fin_offset is not None
            and flags & ACK
            and not flags & (FIN | RST)
            and self._end_frame != frame
            and self._end_side != side
        ):
            # Net::Analysis ends the session on the ACK of the last FIN.
            self._end(side, frame, ref)
            self._last_fin_offset = None

    def _end(self, side: int, frame: int, ref: PacketRef) -> None:
        self.end_ref, self._end_frame, self._end_side = ref, frame, side

    # -- monologues -------------------------------------------------------

    def _start(self, ref: PacketRef | None, events: list[Event]) -> None:
        self.started = True
        events.append(("tcp_session_start", {"session": self, "packet": ref}))

    def _delivered(self, side: int, before: int, events: list[Event], ref: PacketRef | None) -> None:
        """Bytes were appended to ``side``'s pieces: extend or flip the monologue."""
        if len(self.streams[side].p_start) == before:
            return
        orphan = self._orphans[side]
        if orphan is not None:  # late-filled bytes of this side join its next monologue
            before = min(before, orphan)
            self._orphans[side] = None
        if self._current_side is None:
            self._current_side, self._current_first = side, before
        elif self._current_side != side:
            self._close_monologue(events, ref)
            self._current_side, self._current_first = side, before

    def _filled(self, side: int, before: int, events: list[Event], ref: PacketRef) -> None:
        """Bytes arrived for a hole already passed over: the receiver had them long ago
        (before the capture started, or the peer acknowledged past them), so they do not
        end the other side's monologue; they join the next monologue of their own side."""
        if self._current_side is None or self._current_side == side:
            self._delivered(side, before, events, ref)
        elif self._orphans[side] is None:
            self._orphans[side] = before

    def _close_monologue(self, events: list[Event], ref: PacketRef | None, stop: int | None = None) -> None:
        """End the current monologue at piece ``stop`` of its side (by default its last)."""
        side = self._current_side
        if side is None:
            return
        if stop is None:
            stop = len(self.streams[side].p_start)
        self._current_side = None
        if stop <= self._current_first:
            return
        if not self.started:
            self._start(ref, events)
        monologue = Monologue(self, side, len(self._said), self._current_first, stop)
        self._said.append(monologue)
        events.append(("tcp_monologue", {"session": self, "monologue": monologue}))

    def finish(self, events: list[Event], reason: str = "capture end") -> None:
        """The session is over: closed and lingered, its 4-tuple ``reused``, or the capture ended."""
        if self.finished:
            return
        self.ended_by = "reset" if any(self.rst) else "close" if all(self.fin) else reason
        order = sorted((0, 1), key=lambda side: self.streams[side].first_waiting_frame())
        for side in order:
            stream = self.streams[side]
            before = len(stream.p_start)
            stream.finish()
            if len(stream.p_start) != before:
                self._delivered(side, before, events, None)
        self._close_monologue(events, None)
        for side in (0, 1):  # late-filled bytes that no later monologue took
            orphan = self._orphans[side]
            if orphan is not None:
                self._orphans[side] = None
                self._current_side, self._current_first = side, orphan
                self._close_monologue(events, None)
        if not self.started:
            self._start(None, events)
        self.finished = True
        events.append(("tcp_session_end", {"session": self, "packet": self.end_ref}))

    def __repr__(self) -> str:
        return f"TcpSession({self.describe()})"
