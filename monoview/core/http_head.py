"""The head of an HTTP/1.x message (start line, header fields) and the body framing it implies.

The rules are dpkt 1.9.8's (``dpkt.http``, which parsed these messages before),
restated line by line so that a message can be read as its bytes arrive:

* a line ends at ``\\n``; the header ends at the first line that holds nothing
  but ASCII whitespace (``\\r\\n``, a bare ``\\n``...) or bytes above 0x7f;
* words are split on ASCII whitespace and ``\\x1c``-``\\x1f`` (what
  ``str.split`` does to an ASCII line); a field name must be one word;
* the body is chunked when ``Transfer-Encoding`` is ``chunked``, else
  ``Content-Length`` bytes, else (with a ``Content-Type``) the rest, else none;
  1xx, 204 and 304 responses and answers to HEAD have none.

dpkt itself is not called, because it is in the way twice: it decodes every
line as ASCII and drops the other bytes (``GET /café`` showed as ``/caf``),
and it only parses a whole buffer (header and body at once) from its start,
which made a message arriving in many pieces cost the square of its size.
Field names and values are kept twice: as dpkt saw them (ASCII, for the
framing, so that it is decided exactly as before) and in full for display
(:mod:`monoview.core.http_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Final

from monoview.core.http_text import field_text, uri_text

# The request methods dpkt 1.9.8 accepts (dpkt.http.Request's list).
METHODS: Final = frozenset(
    b"GET PUT ICY COPY HEAD LOCK MOVE POLL POST BCOPY BMOVE MKCOL TRACE LABEL MERGE DELETE SEARCH "
    b"UNLOCK REPORT UPDATE NOTIFY BDELETE CONNECT OPTIONS CHECKIN PROPFIND CHECKOUT CCM_POST "
    b"SUBSCRIBE PROPPATCH BPROPFIND BPROPPATCH UNCHECKOUT MKACTIVITY MKWORKSPACE UNSUBSCRIBE "
    b"RPC_CONNECT VERSION-CONTROL BASELINE-CONTROL".split()
)
# What str.split() splits an ASCII line on.
_SPACE: Final = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_WORD_BREAK: Final = re.compile(rb"[\t\n\x0b\x0c\r\x1c-\x1f ]+")
# Where a message may begin when bytes are skipped: a request line of a known method, or
# a status line.  Only a match's start matters; the line itself is then parsed as always.
_METHOD: Final = b"|".join(re.escape(m) for m in sorted(METHODS, key=len, reverse=True))
_REQUEST_START: Final = re.compile(rb"(?:" + _METHOD + rb") [^\s]+ HTTP/\d\.\d\r?\n")
_STATUS_START: Final = re.compile(rb"HTTP/\d\.\d \d{3}[ \r\n]")
LONGEST_START: Final = 64  # bytes kept when searching, so a start split across monologues is found


class HeadError(ValueError):
    """The bytes are not an HTTP message head dpkt would have accepted."""


def _words(text: bytes, limit: int = 0) -> list[bytes]:
    """``text`` split into at most ``limit + 1`` words (all of them if 0), leading space ignored."""
    text = text.lstrip(_SPACE)
    if not text:
        return []
    words = _WORD_BREAK.split(text, limit)
    return words[:-1] if words[-1] == b"" else words


@dataclass(frozen=True)
class StartLine:
    """A request or status line, as shown (``GET /x HTTP/1.1``) and as far as framing cares."""

    text: str
    method: str | None  # a request's
    status: int | None  # a response's


def request_line(line: bytes) -> StartLine:
    """Parse ``METHOD TARGET [HTTP/x.y]`` (two words: HTTP/0.9); raise HeadError if it is not one."""
    words = _words(line.strip(_SPACE))
    if len(words) < 2 or words[0] not in METHODS:
        raise HeadError(f"invalid request line: {line[:80]!r}")
    if len(words) == 2:
        version = "0.9"
    elif words[2].startswith(b"HTTP"):
        version = field_text(words[2][5:])
    else:
        raise HeadError(f"invalid http version: {words[2][:80]!r}")
    method = words[0].decode("ascii")
    return StartLine(f"{method} {uri_text(words[1])} HTTP/{version}", method, None)


def status_line(line: bytes) -> StartLine:
    """Parse ``HTTP/x.y CODE [REASON]``; raise HeadError if it is not one."""
    words = _words(line.strip(), 2)
    # a status code is three digits (RFC 9110); thousands of them once escaped as a ValueError
    # from int() (Python's limit on digits), not a HeadError
    if len(words) < 2 or not words[0].startswith(b"HTTP") or not words[1].isdigit() or len(words[1]) > 3:
        raise HeadError(f"invalid status line: {line[:80]!r}")
    reason = field_text(words[2]) if len(words) > 2 else ""
    code = words[1].decode("ascii")
    text = f"HTTP/{field_text(words[0][5:])} {code} {reason}".rstrip()
    return StartLine(text, None, int(code))


def find_start(buf: bytearray, pos: int, response: bool) -> int | None:
    """Where the first request (or status) line at or after ``pos`` begins, if any."""
    found = (_STATUS_START if response else _REQUEST_START).search(buf, pos)
    return None if found is None else found.start()


def ends_head(line: bytes) -> bool:
    """Whether ``line`` is the empty line that ends a header (dpkt: nothing ASCII but space)."""
    return not line.strip().decode("ascii", "ignore")


@dataclass
class HeaderFields:
    """The fields of a header so far: as dpkt read them (for framing) and in full (for display)."""

    framing: dict[str, str | list[str]] = field(default_factory=dict)
    shown: dict[str, list[str]] = field(default_factory=dict)

    def add(self, line: bytes) -> None:
        """Add the field on ``line`` (not an end-of-header line); raise HeadError if malformed."""
        stripped = line.strip()
        name, colon, value = stripped.partition(b":")
        ascii_name = name.decode("ascii", "ignore")
        if len(ascii_name.split()) != 1:
            raise HeadError(f"invalid header: {stripped[:80]!r}")
        key = ascii_name.lower()
        ascii_value = value.decode("ascii", "ignore").lstrip() if colon else ""
        seen = self.framing.get(key)
        if seen is None:
            self.framing[key] = ascii_value
        elif isinstance(seen, list):
            seen.append(ascii_value)
        else:
            self.framing[key] = [seen, ascii_value]
        shown_value = field_text(value.lstrip(_SPACE)) if colon else ""
        self.shown.setdefault(field_text(name).lower(), []).append(shown_value)

    def copy(self) -> HeaderFields:
        """An independent copy (to judge a header cut short without changing this one)."""
        framing = {k: list(v) if isinstance(v, list) else v for k, v in self.framing.items()}
        return HeaderFields(framing, {k: list(v) for k, v in self.shown.items()})

    def headers(self) -> dict[str, str]:
        """Lower-case name → value; a repeated field's values joined by ``, `` (RFC 9110 5.3)."""
        return {k: ", ".join(v) for k, v in self.shown.items()}


class Body(Enum):
    """How the end of a message's body is found."""

    NONE = "none"
    LENGTH = "length"  # Content-Length bytes
    CHUNKED = "chunked"
    REST = "rest"  # a request with a Content-Type but no length: what has arrived so far
    UNTIL_CLOSE = "until close"  # a response with a Content-Type but no length (RFC 9112 6.3)


def body_framing(fields: HeaderFields, start: StartLine, answers_head: bool) -> tuple[Body, int]:
    """The body's framing and, for ``Body.LENGTH``, its size; raise HeadError on a bad length."""
    if start.status is not None and (answers_head or start.status < 200 or start.status in (204, 304)):
        return Body.NONE, 0
    framing = fields.framing
    encoding = framing.get("transfer-encoding", "")
    if (encoding if isinstance(encoding, str) else ", ".join(encoding)).lower() == "chunked":
        return Body.CHUNKED, 0
    if "content-length" in framing:
        value = framing["content-length"]
        if isinstance(value, list):  # repeated: acceptable only if all agree (RFC 9112 6.3)
            if len(set(value)) != 1:
                raise HeadError(f"conflicting Content-Length: {value[:4]!r}")
            value = value[0]
        try:
            length = int(value)
        except ValueError:
            raise HeadError(f"invalid Content-Length: {value[:80]!r}") from None
        if length < 0:
            raise HeadError(f"negative Content-Length: {length}")
        return Body.LENGTH, length
    if "content-type" in framing:
        return (Body.REST if start.status is None else Body.UNTIL_CLOSE), 0
    return Body.NONE, 0


def chunk_size(line: bytes) -> int:
    """The size on a chunk-size line (hexadecimal, dpkt's reading: no extensions)."""
    words = line.split(None, 1)
    if not words:
        raise HeadError("missing chunk size")
    try:
        size = int(words[0], 16)
    except ValueError:
        raise HeadError(f"invalid chunk size: {words[0][:40]!r}") from None
    if size < 0:
        raise HeadError(f"negative chunk size: {size}")
    return size
