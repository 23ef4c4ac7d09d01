"""One session's HTTP, for a pane that shows it: its transactions and a readable body.

The window's HTTP tab shows the transactions of the selected session, already
reassembled: its monologues are fed to an :class:`~monoview.core.http.HttpListener`
that keeps the bodies (decoded, capped as for an export), exactly as the
``http`` command and the object export read them.  ``body_view`` turns a body
into what a person reads: text in its charset, JSON pretty-printed, a picture,
or a hex dump of the start of anything else.  Nothing here knows about Qt.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Final

from monoview.core.http import HttpListener, HttpMessage, HttpTransaction
from monoview.core.render import hexdump
from monoview.core.tcp.session import TcpSession

# Text shown of a body at most (a pane is not an editor; the export has every byte).
TEXT_LIMIT: Final = 2 << 20
# Bytes of a binary body shown as a hex dump.
HEX_LIMIT: Final = 16 << 10
_CHARSET: Final = re.compile(r"charset=\"?([A-Za-z0-9._-]+)", re.IGNORECASE)
_TEXTUAL: Final = ("text/", "application/javascript", "application/x-javascript", "application/xml",
                   "application/x-www-form-urlencoded", "image/svg+xml")  # fmt: skip


def session_transactions(session: TcpSession) -> list[HttpTransaction]:
    """The HTTP transactions of a reassembled session, bodies kept and decoded."""
    listener = HttpListener(keep_bodies=True)
    for monologue in session.monologues:
        listener.tcp_monologue(session, monologue)
    listener.tcp_session_end(session, None)
    return listener.transactions


@dataclass(frozen=True)
class BodyView:
    """A body as shown: ``kind`` is ``empty``, ``text``, ``json``, ``image`` or ``binary``;
    ``text`` what to print (nothing for a picture), ``data`` the decoded bytes, ``note``
    what is missing or undecoded (empty when the body is whole)."""

    kind: str
    text: str
    data: bytes
    note: str


def body_view(message: HttpMessage) -> BodyView:
    """What a person reads of ``message``'s body."""
    data = bytes(message.decoded if message.decoded is not None else message.body)
    note = _note(message)
    if not data:
        return BodyView("empty", "", data, note)
    content_type = message.headers.get("content-type", "").lower()
    if content_type.startswith("image/") and not content_type.startswith("image/svg"):
        return BodyView("image", "", data, note)
    if "json" in content_type or (not content_type and data[:1] in (b"{", b"[")):
        try:
            pretty = json.dumps(json.loads(data), indent=2, ensure_ascii=False)
        except ValueError:
            pass
        else:
            return BodyView("json", _cut(pretty), data, note)
    if content_type.startswith(_TEXTUAL) or "xml" in content_type or _looks_like_text(data):
        return BodyView("text", _cut(data.decode(_charset(content_type), "replace")), data, note)
    shown = hexdump(data[:HEX_LIMIT])
    if len(data) > HEX_LIMIT:
        shown += f"\n… {len(data) - HEX_LIMIT:,} more bytes"
    return BodyView("binary", shown, data, note)


def head_text(message: HttpMessage) -> str:
    """The start line and header fields, one per line (names as the reader keeps them)."""
    lines = [message.start_line]
    lines += [f"{name}: {value}" for name, value in message.headers.items()]
    return "\n".join(lines)


def _note(message: HttpMessage) -> str:
    notes = []
    if message.missing:
        notes.append(f"{message.missing:,} bytes of the body are missing from the capture")
    if message.decode_error:
        notes.append(f"not decoded: {message.decode_error}")
    if message.decode_capped or message.body_capped:
        notes.append("cut at the size kept for a body")
    if message.decode_cut_short:
        notes.append("the encoded body ends early")
    return "; ".join(notes)


def _charset(content_type: str) -> str:
    found = _CHARSET.search(content_type)
    name = found.group(1) if found else "utf-8"
    try:
        "".encode(name)
    except LookupError:
        return "latin-1"
    return name


def _looks_like_text(data: bytes) -> bool:
    """Mostly printable ASCII or UTF-8 in its first kilobyte."""
    head = data[:1024]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not only a character cut at the end
            return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return controls * 20 < len(head)


def _cut(text: str) -> str:
    if len(text) <= TEXT_LIMIT:
        return text
    return text[:TEXT_LIMIT] + f"\n… {len(text) - TEXT_LIMIT:,} more characters (export the object for all)"


__all__ = ["BodyView", "body_view", "head_text", "session_transactions"]
