"""HttpListener: HTTP/1.x requests and responses from monologues (Net::Analysis Listener::HTTP).

It listens to ``tcp_monologue`` and emits ``http_transaction`` for each
request paired with its response (pipelined requests are answered in order).
Each direction's bytes go to a :class:`~monoview.core.http_reader.MessageReader`,
which reads every byte once, so a message that spans monologues (a body sent
after ``100 Continue``, a header arriving line by line) costs its size, not its
square.  Sessions whose client does not start with an HTTP request line are
left alone.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from monoview.core.http_reader import MAX_PENDING, Message, MessageReader
from monoview.core.listener import Listener
from monoview.core.packet import TcpPacket
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession

_REQUEST_LINE: Final = re.compile(rb"^[A-Z][A-Z-]{1,15} \S+ HTTP/\d\.\d\r?\n")


@dataclass(frozen=True)
class HttpMessage:
    """One request or response: its start line, headers (lower-case names) and body size.

    Bytes that are not ASCII are kept: the URI shows them as UTF-8 or ``%XX``, the
    headers as UTF-8 or ``\\xNN`` (:mod:`monoview.core.http_text`).
    """

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
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() and len(parts[1]) <= 3 else None

    @property
    def duration_ns(self) -> int | None:
        """From the request's first packet to the response's first packet."""
        return None if self.response is None else self.response.ts_ns - self.request.ts_ns


@dataclass
class _SessionState:
    """Per-session parsing state: both directions and the requests awaiting answers."""

    requests: MessageReader = field(default_factory=lambda: MessageReader(response=False))
    responses: MessageReader = field(default_factory=lambda: MessageReader(response=True))
    unanswered: deque[HttpMessage] = field(default_factory=deque)
    count: int = 0


def _message(message: Message) -> HttpMessage:
    return HttpMessage(
        message.start.text, message.headers, message.body_length, message.ts_ns, message.monologue
    )


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
        side.feed(data, monologue.first_ts_ns, monologue.index)
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
        if state.responses.active() and state.unanswered:
            self._parse_responses(session, state, at_end=True)
        while state.unanswered:
            self._emit(session, state, state.unanswered.popleft(), None)

    def _parse_requests(self, state: _SessionState) -> None:
        while (request := state.requests.next()) is not None:
            state.unanswered.append(_message(request))

    def _parse_responses(self, session: TcpSession, state: _SessionState, at_end: bool = False) -> None:
        side = state.responses
        while state.unanswered:
            head = state.unanswered[0].start_line.startswith("HEAD ")
            response = side.next(answers_head=head, at_end=at_end)
            if response is None:
                return
            status = response.start.status
            assert status is not None
            if 100 <= status < 200 and status != 101:
                continue  # interim response (100 Continue): the final one follows
            self._emit(session, state, state.unanswered.popleft(), _message(response))
            if status == 101:  # switched protocols: no more HTTP
                side.stop()
                state.requests.stop()
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
