"""MessageReader: the HTTP/1.x messages of one direction, read as its bytes arrive.

Each byte is looked at once: the search for a line's end resumes where it stopped,
each header line is parsed once whole, and body bytes are counted off (kept in a
:class:`~monoview.core.http_bodybytes.BodyBytes`).  The old parser handed the whole
buffer to dpkt after every monologue, so a header arriving a line per monologue or a
body in many pieces cost the square of its size (20,000 lines: 57 s).

Messages are asked for at *parse points*, where the old parser ran: after each
monologue of the direction and at the end of the session.  What it did there with a
message cut short is kept, because captures depend on it (``lab/snaplen96``):

* a header not finished at a parse point is judged on what has arrived, as dpkt
  did: the message ends there unless it announced a body (``Content-Length`` above
  0), when its header goes on with the next monologue.  It is judged once, at its
  first parse point (judging again at every one was the quadratic cost);
* a body not complete at a parse point waits for more, a chunked one included;
* a body that runs until the close ends at the end of the session; one cut by the
  end of the capture ends there, incomplete.

What the old parser did not do: a gap (bytes the capture lacks) inside a body
makes the message *incomplete*, with the first gap's stream offset and size, and
the missing bytes count towards ``Content-Length`` or the chunk, so the message
after it is found where it begins; and bytes that are no message where one should
begin (a keep-alive byte before ``GET``, a capture starting inside a body, a head
that does not parse) are skipped to the next request or status line, each searched
once (:meth:`MessageReader._sync`); a direction with none in its first
``SCAN_LIMIT`` bytes is given up.

Why this reader and not h11 or httptools: :mod:`monoview.core.http`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum, auto
from typing import Final

from monoview.core.http_bodybytes import BodyBytes
from monoview.core.http_head import (
    LONGEST_START,
    Body,
    HeaderFields,
    HeadError,
    StartLine,
    body_framing,
    chunk_size,
    ends_head,
    find_start,
    request_line,
    status_line,
)

# A direction holding more unread bytes than this (a header that never ends, responses
# queued for requests that never come) is not followed further.  Body bytes are only
# counted, never held, so a body of any size is read.
MAX_PENDING: Final = 256 << 20
# Body bytes kept of one message (the rest is counted, and the message says it was cut).
BODY_CAP: Final = 64 << 20
# A direction that holds no request or status line in this many bytes is not HTTP.
SCAN_LIMIT: Final = 1 << 20


@dataclass(frozen=True)
class Message:
    """One request or response: its start line, headers (lower-case names) and body size."""

    start: StartLine
    headers: dict[str, str]
    body_length: int  # bytes of the body on the wire, de-chunked, missing ones included
    ts_ns: int  # first packet of the monologue that carried its first byte
    monologue: int  # index of that monologue in the session
    body: bytes | bytearray = b""  # the body's captured bytes (at most BODY_CAP), de-chunked
    gap: tuple[int, int] | None = None  # (stream offset, size) of the first gap in the body
    missing: int = 0  # body bytes the capture lacks
    body_capped: bool = False  # more than BODY_CAP body bytes: ``body`` is their start
    end_monologue: int = 0  # index of the monologue holding its last byte
    end_index: int = 0  # that byte's index in the monologue's data


class _Phase(Enum):
    IDLE = auto()  # between messages
    START = auto()  # the request or status line
    FIELDS = auto()  # header lines, up to the empty one
    LENGTH = auto()  # Content-Length bytes left
    CHUNK_SIZE = auto()
    CHUNK_DATA = auto()
    CHUNK_END = auto()  # the empty line after a chunk's data
    LAST_LINE = auto()  # the line after the last chunk (dpkt skips one, blank or trailer)
    UNTIL_CLOSE = auto()
    DONE = auto()


class MessageReader:
    """Reads requests (``response=False``) or responses from the bytes fed to it."""

    def __init__(self, response: bool, body_cap: int = BODY_CAP) -> None:
        self.response = response
        self.body_cap = body_cap
        self.broken = False
        self.found = 0  # messages read so far
        self.skipped = 0  # bytes skipped looking for a message
        self.ts_ns = 0
        self.monologue = 0
        self._buf = bytearray()
        self._base = 0  # stream position of _buf[0]
        # (stream position, time, monologue) where each fed monologue's bytes begin: a message
        # is dated by the one holding its first byte, even when a body ended inside it
        self._marks: deque[tuple[int, int, int]] = deque()
        self._pos = 0  # first byte of _buf not read yet
        self._searched = 0  # _buf holds no b"\n" from _pos up to here
        self._phase = _Phase.IDLE
        self._start: StartLine | None = None
        self._fields = HeaderFields()
        self._head_size = 0
        self._judged = False  # the header was judged at a parse point and waits for more
        self._left = 0  # body bytes (or chunk bytes) still to come
        self._bb = BodyBytes(body_cap)
        # (stream position in _buf's terms, stream offset, size) of each gap not yet read past
        self._gaps: deque[tuple[int, int, int]] = deque()
        self._unsynced = False  # the next message is to be searched for

    def feed(
        self, data: bytes, ts_ns: int, monologue: int, gaps: tuple[tuple[int, int, int], ...] = ()
    ) -> None:
        """Append a monologue's bytes; a message starting in them is dated by it.

        ``gaps``: ``(index in data, stream offset, size)`` of each gap in or right
        before them (the bytes before that index and those from it are not adjacent).
        """
        if self.broken:
            return
        if self._pos:
            del self._buf[: self._pos]  # bytearray drops a prefix without copying the rest
            self._searched = max(0, self._searched - self._pos)
            self._base += self._pos
            self._pos = 0
        self._forget_marks()  # a long body must not pile up a mark per monologue
        at = self._base + len(self._buf)
        self._marks.append((at, ts_ns, monologue))
        self._gaps.extend((at + index, offset, size) for index, offset, size in gaps)
        self._buf += data

    def held(self) -> int:
        """Bytes fed and not read yet."""
        return len(self._buf) - self._pos

    def active(self) -> bool:
        """Whether there is anything to read: unread bytes, or a message begun."""
        return not self.broken and (self._phase is not _Phase.IDLE or self.held() > 0)

    def begun(self) -> bool:
        """Whether a message has begun and is not complete yet."""
        return not self.broken and self._phase is not _Phase.IDLE

    def stop(self) -> None:
        """Follow this direction no further (garbage, an upgrade to another protocol)."""
        self.broken = True
        self._marks.clear()
        self._gaps.clear()
        self._bb = BodyBytes(self.body_cap)
        self._buf = bytearray()
        self._pos = self._searched = 0

    def next(self, answers_head: bool = False, at_end: bool = False, end_offset: int = 0) -> Message | None:
        """The next message if it is complete at this parse point, else None.

        ``answers_head``: the response answers a HEAD request (no body).  ``at_end``: no
        more bytes will come (the direction's captured bytes end at stream offset
        ``end_offset``); a message whose body is under way is returned incomplete, the
        bytes it still expected missing at the end; one still in its head is dropped.
        Either way the direction is read no further.
        """
        while not self.broken:
            if self._phase is _Phase.IDLE:
                if not self.held() or not self._sync():
                    return None
                self._begin()
            try:
                complete = self._advance(answers_head, at_end)
            except HeadError:
                # not a message after all: look for the next one after the line that failed
                self._phase = _Phase.IDLE
                self._unsynced = True
                continue
            if not complete:
                if at_end:
                    return self._cut_at_end(end_offset)
                return None
            return self._finish()
        return None

    def _cut_at_end(self, end_offset: int) -> Message | None:
        """The message under way when the bytes ended, its body incomplete; None if it was
        still in its head (nothing of it is known for sure)."""
        phase = self._phase
        message = None
        if phase not in (_Phase.START, _Phase.FIELDS, _Phase.IDLE) and self._start is not None:
            lost = self._left if phase in (_Phase.LENGTH, _Phase.CHUNK_DATA) else 0
            if lost or self._bb.gap is None:
                self._bb.lose(end_offset, lost, lost)
            message = self._finish()
        self.stop()
        return message

    def _finish(self) -> Message:
        assert self._start is not None
        self._forget_marks()
        message = Message(
            self._start,
            self._fields.headers(),
            self._bb.length,
            self.ts_ns,
            self.monologue,
            self._bb.data,  # handed over, not copied: a body of megabytes is held once
            self._bb.gap,
            self._bb.missing,
            self._bb.capped,
            *self._last_byte(self._base + self._pos),
        )
        self._bb = BodyBytes(self.body_cap)
        self._phase = _Phase.IDLE
        self.found += 1
        return message

    def _last_byte(self, at: int) -> tuple[int, int]:
        """The monologue holding the byte just before position ``at``, and its index there."""
        found = (self.monologue, 0)
        for start, _ts, monologue in self._marks:
            if start >= at:
                break
            found = (monologue, at - 1 - start)
        return found

    def _sync(self) -> bool:
        """Skip to where the next message begins; False if none is in the bytes yet.

        A message is expected where the last one ended; only bytes that do not parse
        as its start line there (or after a failure) are searched, each once: all but
        the last few bytes, which may be a start line's beginning, are dropped.
        """
        if not self._unsynced:
            end = self._buf.find(b"\n", self._pos)
            line = bytes(self._buf[self._pos : end + 1 if end >= 0 else len(self._buf)])
            try:
                status_line(line) if self.response else request_line(line)
                return True
            except HeadError:
                if end < 0 and len(line) < LONGEST_START:
                    return False  # the line may yet become one
            self._unsynced = True
        found = find_start(self._buf, self._pos, self.response)
        if found is not None:
            self._skip(found - self._pos)
            self._unsynced = False
            return True
        self._skip(max(0, self.held() - LONGEST_START))
        if not self.found and self.skipped > SCAN_LIMIT:
            self.stop()
        return False

    def _skip(self, count: int) -> None:
        self._pos += count
        self._searched = max(self._searched, self._pos)
        self.skipped += count

    def _forget_marks(self) -> None:
        """Drop the marks of monologues read past: the one holding the next unread byte is first."""
        at = self._base + self._pos
        while len(self._marks) > 1 and self._marks[1][0] <= at:
            self._marks.popleft()

    def _begin(self) -> None:
        self._forget_marks()
        if self._marks:
            _start, self.ts_ns, self.monologue = self._marks[0]
        self._phase = _Phase.START
        self._start = None
        self._fields = HeaderFields()
        self._head_size = 0
        self._judged = False
        self._left = 0
        self._bb = BodyBytes(self.body_cap)

    def _advance(self, answers_head: bool, at_end: bool) -> bool:
        """Read as far as the bytes go; True once the message is complete."""
        while True:
            phase = self._phase
            if phase is _Phase.DONE:
                return True
            if phase is _Phase.START or phase is _Phase.FIELDS:
                line = self._line()
                if line is None:
                    return self._cut_short(answers_head)
                self._head_size += len(line)
                if self._head_size > MAX_PENDING:
                    raise HeadError("header too long")
                if phase is _Phase.START:
                    self._start = status_line(line) if self.response else request_line(line)
                    self._phase = _Phase.FIELDS
                elif ends_head(line):
                    self._begin_body(answers_head)
                else:
                    self._fields.add(line)
            elif phase is _Phase.LENGTH or phase is _Phase.CHUNK_DATA:
                self._left -= self._take(self._left)
                if self._left:
                    return False
                self._phase = _Phase.DONE if phase is _Phase.LENGTH else _Phase.CHUNK_END
            elif phase is _Phase.UNTIL_CLOSE:
                self._take_all()
                return at_end
            else:
                line = self._line()
                if line is None:
                    return at_end and phase is _Phase.LAST_LINE
                self._chunk_line(phase, line)

    def _begin_body(self, answers_head: bool) -> None:
        assert self._start is not None
        framing, length = body_framing(self._fields, self._start, answers_head)
        if framing is Body.LENGTH:
            self._phase, self._left = _Phase.LENGTH, length
        elif framing is Body.CHUNKED:
            self._phase = _Phase.CHUNK_SIZE
        elif framing is Body.UNTIL_CLOSE:
            self._phase = _Phase.UNTIL_CLOSE
        else:
            if framing is Body.REST:  # dpkt's reading: whatever has arrived
                self._take_all()
            self._phase = _Phase.DONE

    def _chunk_line(self, phase: _Phase, line: bytes) -> None:
        if phase is _Phase.CHUNK_SIZE:
            self._left = chunk_size(line)
            self._phase = _Phase.CHUNK_DATA if self._left else _Phase.LAST_LINE
        elif phase is _Phase.CHUNK_END:
            if line.strip():
                raise HeadError("a chunk's data runs past its size")
            self._phase = _Phase.CHUNK_SIZE
        else:  # LAST_LINE
            self._phase = _Phase.DONE

    def _cut_short(self, answers_head: bool) -> bool:
        """The header is unfinished at a parse point: judge it once, as dpkt read it.

        dpkt took the end of the data for the end of the header: the message ends here,
        with no body, unless the header announced one.
        """
        if self._judged:
            return False
        partial = bytes(self._buf[self._pos :])
        start, fields = self._start, self._fields
        if start is None:
            start = status_line(partial) if self.response else request_line(partial)
        elif partial and not ends_head(partial):
            fields = fields.copy()
            fields.add(partial)
        framing, length = body_framing(fields, start, answers_head)
        if framing is Body.CHUNKED:
            raise HeadError("missing chunk size")
        if framing is Body.LENGTH and length > 0:
            self._judged = True
            return False
        self._start, self._fields = start, fields
        self._pos = len(self._buf)  # the cut-off line belonged to the header
        return True

    def _line(self) -> bytes | None:
        """The next whole line (with its ``\\n``), or None if it has not all arrived."""
        end = self._buf.find(b"\n", max(self._pos, self._searched))
        if end < 0:
            self._searched = len(self._buf)
            return None
        line = bytes(self._buf[self._pos : end + 1])
        self._pos = self._searched = end + 1
        return line

    def _take(self, wanted: int) -> int:
        """Read up to ``wanted`` body bytes; how many of them there were, gaps included.

        A gap the body runs into counts as body bytes (as many as it lacks, up to
        ``wanted``), so the framing stays where the sender put it.
        """
        done = 0
        while done < wanted:
            here = self._base + self._pos
            while self._gaps and self._gaps[0][0] < here:
                self._gaps.popleft()  # read past (in a header, or between messages)
            room = min(wanted - done, self.held())
            if self._gaps and self._gaps[0][0] - here <= room and self._gaps[0][0] - here < wanted - done:
                at, offset, size = self._gaps.popleft()
                self._keep(at - here)
                done += at - here
                lost = min(size, wanted - done)
                self._bb.lose(offset, size, lost)
                done += lost
                continue
            if not room:
                break
            self._keep(room)
            done += room
        return done

    def _take_all(self) -> None:
        """Read every byte held as body (it has no length: it runs until the close), and
        every gap among them whole."""
        end = self._base + len(self._buf)
        while self.held():
            here = self._base + self._pos
            while self._gaps and self._gaps[0][0] < here:
                self._gaps.popleft()
            if self._gaps and self._gaps[0][0] < end:
                at, offset, size = self._gaps.popleft()
                self._keep(at - here)
                self._bb.lose(offset, size, size)
                continue
            self._keep(self.held())

    def _keep(self, count: int) -> None:
        """Count ``count`` body bytes from the buffer as read, keeping them up to the cap."""
        if count > 0:
            self._bb.keep(self._buf, self._pos, count)
            self._pos += count
