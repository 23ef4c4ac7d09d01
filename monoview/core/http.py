"""HttpListener: HTTP/1.x requests and responses from monologues (Net::Analysis Listener::HTTP).

It listens to ``tcp_monologue`` and emits ``http_transaction`` for each
request paired with its response (pipelined requests are answered in order).
Messages are parsed with dpkt's HTTP parser; a message that spans monologues
(a body sent after ``100 Continue``) waits for the rest.  Sessions whose client
does not start with an HTTP request line are left alone.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from io import BytesIO
from typing import Final, NamedTuple

import dpkt

from monoview.core.listener import Listener
from monoview.core.packet import TcpPacket
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession

_REQUEST_LINE: Final = re.compile(rb"^[A-Z][A-Z-]{1,15} \S+ HTTP/\d\.\d\r?\n")
# A direction whose unparsed bytes grow past this is not followed further.
MAX_PENDING: Final = 256 << 20


@dataclass(frozen=True)
class HttpMessage:
    """One request or response: its start line, headers (lower-case names) and body size."""

    start_line: str
    headers: dict[str, str]
    body_length: int
    ts_ns: int  # first packet of the monologue that carried its first byte
    monologue: int  # index of that monologue in the session


@dataclass(frozen=True)
class HttpTransaction:
    """A request and the response to it (None if the capture holds none)."""

    session: TcpSession
    index: int  # position in the session, 0-based
    request: HttpMessage
    response: HttpMessage | None

    @property
    def method(self) -> str:
        """``GET``, ``POST``..."""
        return self.request.start_line.split(" ", 1)[0]

    @property
    def uri(self) -> str:
        """The request target as sent."""
        parts = self.request.start_line.split(" ")
        return parts[1] if len(parts) > 1 else ""

    @property
    def status(self) -> int | None:
        """The response status code."""
        if self.response is None:
            return None
        parts = self.response.start_line.split(" ")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None

    @property
    def duration_ns(self) -> int | None:
        """From the request's first packet to the response's first packet."""
        return None if self.response is None else self.response.ts_ns - self.request.ts_ns


class _HeadResponse(dpkt.http.Response):  # type: ignore[misc]
    """A response to HEAD: headers only, whatever Content-Length says (RFC 9110 9.3.2)."""

    def unpack(self, buf: bytes) -> None:
        """Parse the status line and headers; never a body."""
        f = BytesIO(buf)
        line = f.readline()
        parts = line.strip().decode("ascii", "ignore").split(None, 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP") or not parts[1].isdigit():
            raise dpkt.UnpackError(f"invalid response: {line!r}")
        self.version, self.status = parts[0][5:], parts[1]
        self.reason = parts[2] if len(parts) > 2 else ""
        dpkt.http.Message.unpack(self, f.read(), False)


@dataclass
class _Direction:
    """Bytes of one direction not yet parsed into messages, and where they began."""

    pending: bytearray = field(default_factory=bytearray)
    ts_ns: int = 0
    monologue: int = 0
    broken: bool = False


@dataclass
class _SessionState:
    """Per-session parsing state: both directions and the requests awaiting answers."""

    requests: _Direction = field(default_factory=_Direction)
    responses: _Direction = field(default_factory=_Direction)
    unanswered: deque[HttpMessage] = field(default_factory=deque)
    count: int = 0


def _message(parsed: dpkt.http.Message, start_line: str, ts_ns: int, monologue: int) -> HttpMessage:
    headers = {k.lower(): v if isinstance(v, str) else ", ".join(v) for k, v in parsed.headers.items()}
    return HttpMessage(start_line, headers, len(parsed.body or b""), ts_ns, monologue)


class HttpListener(Listener):
    """Emits ``http_transaction(transaction=HttpTransaction)``; keeps them in ``transactions``."""

    def __init__(self) -> None:
        self.transactions: list[HttpTransaction] = []
        self._sessions: dict[int, _SessionState | None] = {}

    def tcp_monologue(self, session: TcpSession, monologue: Monologue) -> None:
        """Override Listener.tcp_monologue: parse what this monologue completes."""
        state = self._sessions.get(session.id, ...)
        data = monologue.data()
        if state is ...:
            state = _SessionState() if monologue.direction == "c2s" and _REQUEST_LINE.match(data) else None
            self._sessions[session.id] = state
        if state is None:
            return
        side = state.requests if monologue.direction == "c2s" else state.responses
        if side.broken:
            return
        if not side.pending:
            side.ts_ns, side.monologue = monologue.first_ts_ns, monologue.index
        side.pending += data
        if len(side.pending) > MAX_PENDING:
            side.broken = True
            side.pending.clear()
            return
        if side is state.requests:
            self._parse_requests(session, state)
        else:
            self._parse_responses(session, state)

    def tcp_session_end(self, session: TcpSession, packet: TcpPacket | None) -> None:
        """Override Listener.tcp_session_end: a response that ran to the close, unanswered requests."""
        state = self._sessions.pop(session.id, None)
        if not state:
            return
        if state.responses.pending and not state.responses.broken and state.unanswered:
            self._parse_responses(session, state, at_end=True)
        while state.unanswered:
            self._emit(session, state, state.unanswered.popleft(), None)

    def _parse_requests(self, session: TcpSession, state: _SessionState) -> None:
        side = state.requests
        while side.pending:
            try:
                request = dpkt.http.Request(bytes(side.pending))
            except dpkt.NeedData:
                return
            except (dpkt.UnpackError, ValueError):
                side.broken = True
                return
            line = f"{request.method} {request.uri} HTTP/{request.version}"
            state.unanswered.append(_message(request, line, side.ts_ns, side.monologue))
            side.pending = bytearray(request.data)

    def _parse_responses(self, session: TcpSession, state: _SessionState, at_end: bool = False) -> None:
        side = state.responses
        while side.pending and state.unanswered:
            head = state.unanswered[0].start_line.startswith("HEAD ")
            try:
                response = (_HeadResponse if head else dpkt.http.Response)(bytes(side.pending))
            except dpkt.NeedData:
                if not at_end:
                    return
                side.broken = True
                return
            except (dpkt.UnpackError, ValueError):
                side.broken = True
                return
            line = f"HTTP/{response.version} {response.status} {response.reason}".rstrip()
            message = _message(response, line, side.ts_ns, side.monologue)
            side.pending = bytearray(response.data)
            if 100 <= int(response.status) < 200 and int(response.status) != 101:
                continue  # interim response (100 Continue): the final one follows
            self._emit(session, state, state.unanswered.popleft(), message)
            if int(response.status) == 101:
                side.broken = state.requests.broken = True  # switched protocols: no more HTTP
                return

    def _emit(
        self, session: TcpSession, state: _SessionState, request: HttpMessage, response: HttpMessage | None
    ) -> None:
        transaction = HttpTransaction(session, state.count, request, response)
        state.count += 1
        self.transactions.append(transaction)
        if self.dispatcher is not None:
            self.dispatcher.emit("http_transaction", transaction=transaction)


class HttpRow(NamedTuple):
    """What ``monoview http`` prints of a transaction (picklable: no session in it)."""

    session: int
    number: int  # the transaction's position in its session, 0-based
    ts_ns: int  # the request's
    method: str
    uri: str
    status: int | None
    body_length: int | None  # the response's
    duration_ns: int | None


def http_listeners() -> list[Listener]:
    """A fresh HttpListener (what each worker of ``fanout.map_sessions`` runs)."""
    return [HttpListener()]


def http_rows(listeners: list[Listener]) -> list[tuple[int, HttpRow]]:
    """The transactions the HttpListener among ``listeners`` found, by session id."""
    out: list[tuple[int, HttpRow]] = []
    for listener in listeners:
        if isinstance(listener, HttpListener):
            for t in listener.transactions:
                size = None if t.response is None else t.response.body_length
                row = HttpRow(
                    t.session.id, t.index, t.request.ts_ns, t.method, t.uri, t.status, size, t.duration_ns
                )
                out.append((t.session.id, row))
    return out
