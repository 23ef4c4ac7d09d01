"""HttpListener: HTTP/1.x requests and responses from monologues (Net::Analysis Listener::HTTP).

It listens to ``tcp_monologue`` and emits ``http_transaction`` for each
request paired with its response (pipelined requests are answered in order).
Each direction's bytes go to a :class:`~monoview.core.http_reader.MessageReader`,
which reads every byte once, so a message that spans monologues (a body sent
after ``100 Continue``, a header arriving line by line) costs its size, not its
square.  Bytes that are not a message where one should begin are skipped to
the next request or status line (the reader's ``_sync``), so a keep-alive byte
before ``GET`` or a capture that starts inside a body costs one message at
most; a direction with no start line in its first megabyte is left alone.

A response is paired with the oldest request not yet answered.  Responses that
come before any request of the session (a capture that starts after the
request, a server seen without its client) are *orphans*: transactions with no
request, as tshark lists them.

Why not h11 or httptools (issue 8 asked for a well-kept parser; both were tried,
h11 0.16 and httptools 0.9, on the cases this reader must handle):

* httptools (llhttp) frames an answer to ``HEAD`` wrongly: ``on_headers_complete``
  cannot tell it that no body follows (its return value is ignored), so a
  ``Content-Length: 5`` answer eats 5 bytes of the next response; it has no
  end-of-stream call, so a body that runs until the close never completes.
* h11 pauses after each request until "its" response is sent, so pipelined
  requests need a new connection per message fed the previous one's trailing
  bytes (a copy per message); a response can only be read after a request is
  sent to it (an orphan needs an invented one); it refuses what captures hold
  and the old parser read: an HTTP/1.1 request without ``Host``, a header
  name with a space, ``Transfer-Encoding: gzip, chunked``, a status of four
  digits.
* Both stop for good at the first error, and neither can be told that bytes
  are missing, nor keep dpkt's reading of a header cut at a parse point on
  which ``lab/snaplen96`` depends.

The re-synchronisation, gaps, orphans and parse points would all stay around
either one; what they would take over is the framing of a clean message, the
part that is small here (``http_head``).  So the framing stays in
:mod:`monoview.core.http_reader`.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from monoview.core.http_body import decode
from monoview.core.http_reader import MAX_PENDING, Message, MessageReader
from monoview.core.listener import Listener
from monoview.core.packet import TcpPacket
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession


@dataclass(frozen=True)
class HttpMessage:
    """One request or response: its start line, headers (lower-case names) and body size.

    Bytes that are not ASCII are kept: the URI shows them as UTF-8 or ``%XX``, the
    headers as UTF-8 or ``\\xNN`` (:mod:`monoview.core.http_text`).
    """

    start_line: str
    headers: dict[str, str]
    body_length: int  # on the wire, de-chunked (missing bytes counted)
    ts_ns: int  # first packet of the monologue that carried its first byte
    monologue: int  # index of that monologue in the session
    body: bytes | bytearray = b""  # the captured body, de-chunked, still Content-Encoded (kept_bodies)
    gap: tuple[int, int] | None = None  # (stream offset, size) of the first gap in the body
    missing: int = 0  # body bytes the capture lacks
    body_capped: bool = False  # the body was longer than the reader keeps
    end_monologue: int = 0  # the monologue holding its last byte
    end_index: int = 0  # that byte's index in the monologue's data()
    decoded_length: int = 0  # the body with its Content-Encoding undone
    sha256: str = ""  # of the decoded body
    decode_error: str | None = None  # the coding is unknown or the bytes do not decode
    decode_capped: bool = False  # decoding stopped at the cap (http_body.DEFAULT_CAP)
    decode_cut_short: bool = False  # the coded stream ends early
    decoded: bytes | bytearray | None = None  # the decoded body (keep_bodies)

    @property
    def complete(self) -> bool:
        """Whether every byte of the body was captured and kept."""
        return self.gap is None and not self.body_capped


@dataclass(frozen=True)
class HttpTransaction:
    """A request and the response to it (None if the capture holds none)."""

    session: TcpSession
    index: int  # position in the session, 0-based
    request: HttpMessage | None  # None: a response whose request the capture lacks
    response: HttpMessage | None

    @property
    def method(self) -> str:
        """``GET``, ``POST``... (empty for an orphan response)."""
        return "" if self.request is None else self.request.start_line.split(" ", 1)[0]

    @property
    def uri(self) -> str:
        """The request target as sent."""
        if self.request is None:
            return ""
        parts = self.request.start_line.split(" ")
        return parts[1] if len(parts) > 1 else ""

    @property
    def host(self) -> str:
        """The request's ``Host`` field."""
        return "" if self.request is None else self.request.headers.get("host", "")

    @property
    def ts_ns(self) -> int:
        """When it began: the request's first packet, or the orphan response's."""
        message = self.request or self.response
        assert message is not None
        return message.ts_ns

    @property
    def status(self) -> int | None:
        """The response status code."""
        if self.response is None:
            return None
        parts = self.response.start_line.split(" ")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() and len(parts[1]) <= 3 else None

    @property
    def duration_ns(self) -> int | None:
        """From the request's first packet to the response's first packet."""
        if self.response is None or self.request is None:
            return None
        return self.response.ts_ns - self.request.ts_ns


@dataclass
class _SessionState:
    """Per-session parsing state: both directions and the requests awaiting answers."""

    requests: MessageReader = field(default_factory=lambda: MessageReader(response=False))
    responses: MessageReader = field(default_factory=lambda: MessageReader(response=True))
    unanswered: deque[HttpMessage] = field(default_factory=deque)
    count: int = 0
    orphan: bool = False  # the response being read answers no request the capture holds
    ends: list[int] = field(default_factory=lambda: [0, 0])  # stream offset reached: requests, responses


def _message(message: Message, keep_body: bool) -> HttpMessage:
    """The message for a transaction: its body decoded and hashed now, and kept only if asked
    (a listing of a large capture would otherwise hold every body until the end)."""
    decoded = decode(message.body, message.headers.get("content-encoding", ""))
    return HttpMessage(
        message.start.text,
        message.headers,
        message.body_length,
        message.ts_ns,
        message.monologue,
        message.body if keep_body else b"",
        message.gap,
        message.missing,
        message.body_capped,
        message.end_monologue,
        message.end_index,
        len(decoded.data),
        hashlib.sha256(decoded.data).hexdigest(),
        decoded.error,
        decoded.capped,
        decoded.cut_short,
        decoded.data if keep_body else None,
    )


def _gaps(monologue: Monologue, expected: int) -> tuple[tuple[tuple[int, int, int], ...], int]:
    """``(index in data(), stream offset, size)`` of each hole before or between the
    monologue's pieces, the direction's bytes so far ending at ``expected``; and where its
    own bytes end.

    Worked out from the pieces' offsets, not ``Monologue.gaps()``: when the event comes the
    stream has not classified its gaps yet (a gap is known once the session is over).
    """
    gaps = []
    index = 0
    for offset, length, _file, _frame in monologue.pieces():
        if offset > expected:
            gaps.append((index, expected, offset - expected))
        index += length
        expected = max(expected, offset + length)
    return tuple(gaps), expected


class HttpListener(Listener):
    """Emits ``http_transaction(transaction=HttpTransaction)``; keeps them in ``transactions``.

    ``keep_bodies``: the messages keep their bodies, as captured and decoded (for an export);
    otherwise only their sizes and hashes.  ``sink``: each transaction goes through it before
    it is kept and emitted (an export writes the bodies there and keeps them no longer).
    """

    def __init__(
        self, keep_bodies: bool = False, sink: Callable[[HttpTransaction], HttpTransaction] | None = None
    ) -> None:
        self.keep_bodies = keep_bodies
        self.sink = sink
        self.transactions: list[HttpTransaction] = []
        self._sessions: dict[int, _SessionState | None] = {}

    def tcp_monologue(self, session: TcpSession, monologue: Monologue) -> None:
        """Override Listener.tcp_monologue: parse what this monologue completes."""
        state = self._sessions.get(session.id)
        if state is None:
            state = self._sessions[session.id] = _SessionState()
        side = state.requests if monologue.direction == "c2s" else state.responses
        if side.broken:
            return
        gaps, state.ends[side.response] = _gaps(monologue, state.ends[side.response])
        side.feed(monologue.data(), monologue.first_ts_ns, monologue.index, gaps)
        if side is state.requests:
            self._parse_requests(state)
        else:
            self._parse_responses(session, state)
        if side.held() > MAX_PENDING:
            side.stop()

    def tcp_session_end(self, session: TcpSession, packet: TcpPacket | None) -> None:
        """Override Listener.tcp_session_end: a response that ran to the close, unanswered requests."""
        state = self._sessions.pop(session.id, None)
        if not state:
            return
        if state.requests.begun():  # a request cut by the end of the capture: incomplete
            request = state.requests.next(at_end=True, end_offset=state.ends[0])
            if request is not None:
                state.unanswered.append(_message(request, self.keep_bodies))
        if state.responses.active() and (state.unanswered or self._orphans(state)):
            self._parse_responses(session, state, at_end=True)
        while state.unanswered:
            self._emit(session, state, state.unanswered.popleft(), None)

    def _parse_requests(self, state: _SessionState) -> None:
        while (request := state.requests.next()) is not None:
            state.unanswered.append(_message(request, self.keep_bodies))

    @staticmethod
    def _orphans(state: _SessionState) -> bool:
        """Whether responses are read with no request waiting: none was seen yet (not even
        begun: a request still arriving gets its answer), or one such response is under way."""
        return state.orphan or (state.requests.found == 0 and not state.requests.begun())

    def _parse_responses(self, session: TcpSession, state: _SessionState, at_end: bool = False) -> None:
        side = state.responses
        while state.unanswered or self._orphans(state):
            orphan = self._orphans(state) and not state.unanswered
            state.orphan = orphan
            head = not orphan and state.unanswered[0].start_line.startswith("HEAD ")
            response = side.next(answers_head=head, at_end=at_end, end_offset=state.ends[1])
            if response is None:
                if not side.begun():
                    state.orphan = False
                return
            state.orphan = False
            status = response.start.status
            assert status is not None
            if 100 <= status < 200 and status != 101:
                continue  # interim response (100 Continue): the final one follows
            request = None if orphan else state.unanswered.popleft()
            self._emit(session, state, request, _message(response, self.keep_bodies))
            tunnel = request is not None and request.start_line.startswith("CONNECT ") and status // 100 == 2
            if status == 101 or tunnel:  # switched protocols, or a tunnel (RFC 9110 9.3.6): no more HTTP
                side.stop()
                state.requests.stop()
                return

    def _emit(
        self,
        session: TcpSession,
        state: _SessionState,
        request: HttpMessage | None,
        response: HttpMessage | None,
    ) -> None:
        transaction = HttpTransaction(session, state.count, request, response)
        state.count += 1
        if self.sink is not None:
            transaction = self.sink(transaction)
        self.transactions.append(transaction)
        if self.dispatcher is not None:
            self.dispatcher.emit("http_transaction", transaction=transaction)


class HttpRow(NamedTuple):
    """What ``monoview http`` prints of a transaction (picklable: no session in it)."""

    session: int
    number: int  # the transaction's position in its session, 0-based
    ts_ns: int  # the request's (an orphan response's own)
    method: str  # empty for a response whose request the capture lacks
    uri: str
    status: int | None
    body_length: int | None  # the response's, on the wire
    duration_ns: int | None
    decoded_length: int | None = None  # the response's body with its Content-Encoding undone
    host: str = ""
    content_type: str = ""


def http_listeners() -> list[Listener]:
    """A fresh HttpListener (what each worker of ``fanout.map_sessions`` runs)."""
    return [HttpListener()]


def http_row(t: HttpTransaction, decoded_length: int | None) -> HttpRow:
    """The row of a transaction whose response body decodes to ``decoded_length`` bytes."""
    size = None if t.response is None else t.response.body_length
    content_type = "" if t.response is None else t.response.headers.get("content-type", "")
    return HttpRow(
        t.session.id,
        t.index,
        t.ts_ns,
        t.method,
        t.uri,
        t.status,
        size,
        t.duration_ns,
        decoded_length,
        t.host,
        content_type,
    )


def http_rows(listeners: list[Listener]) -> list[tuple[int, HttpRow]]:
    """The transactions the HttpListener among ``listeners`` found, by session id."""
    out: list[tuple[int, HttpRow]] = []
    for listener in listeners:
        if isinstance(listener, HttpListener):
            for t in listener.transactions:
                decoded = None if t.response is None else t.response.decoded_length
                out.append((t.session.id, http_row(t, decoded)))
    return out
