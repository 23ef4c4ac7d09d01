"""HTTP objects: the bodies of the transactions, decoded, and named as tshark names them.

An object is a message's body (a response's, or a request's such as a POST's form, as
tshark's ``--export-objects http`` also lists them) with its Content-Encoding undone
(:mod:`monoview.core.http_body`).  Its facts (session, monologues, times, method, host,
URI, status, content type, encoded and decoded sizes, sha256 of the decoded body, and
whether a gap or the size cap cut it) go in the export's manifest.

File names follow tshark's, so that a Wireshark user finds what they expect: the last
segment of the URI (``g_path_get_basename``), or ``object<frame>.<content type>`` for a
response whose request the capture lacks; every character Windows refuses in a name
(``<>:"/\\|?*`` and controls) as ``%xx``; at most 255 bytes keeping the extension;
``name(1).ext``, ``name(2).ext``... for repeats.  Names are also kept clear of what
tshark does not guard against: ``.`` and ``..``, names Windows reserves (``CON``,
``NUL``, ``COM1``...) and a trailing dot or space, which Windows drops.
"""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from monoview.core.http import HttpMessage, HttpTransaction

MAX_NAME: Final = 255  # tshark's EXPORT_OBJECT_MAXFILELEN
_REJECT: Final = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED: Final = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)


class HttpObject(NamedTuple):
    """One body of a transaction and what the manifest says of it (picklable: no session)."""

    session: int
    transaction: int  # position in the session, 0-based
    direction: str  # "response" or "request"
    ts_ns: int  # the message's first packet
    request_monologue: int | None
    response_monologue: int | None
    frame: int  # the frame that brought the message's last byte (tshark's "packet")
    method: str
    host: str
    uri: str | None  # None: the response answers no request in the capture
    status: int | None
    content_type: str
    content_encoding: str
    encoded_size: int  # on the wire, de-chunked (missing bytes counted)
    decoded_size: int
    sha256: str  # of the decoded body
    complete: bool  # every byte captured, decoded in full
    gap: tuple[int, int] | None  # (stream offset, size) of the first gap the body crosses
    missing: int  # body bytes the capture lacks
    note: str | None  # why the body is not decoded, cut or incomplete
    data: bytes | bytearray | None  # the decoded body, when kept for an export
    part: str | None = None  # or the file a worker wrote it to (http_export)


def _note(message: HttpMessage, error: str | None, capped: bool, cut_short: bool) -> str | None:
    """Why the object is not the whole body, decoded; None if it is."""
    notes = []
    if message.gap is not None:
        offset, size = message.gap
        notes.append(f"{message.missing} bytes missing (first gap: {size} bytes at stream offset {offset})")
    if message.body_capped:
        notes.append(f"body longer than kept ({len(message.body)} of {message.body_length} bytes)")
    if error:
        notes.append(f"not decoded: {error}")
    if capped:
        notes.append("decoded body cut at the size cap (a decompression bomb?)")
    if cut_short:
        notes.append("coded stream ends early")
    return "; ".join(notes) or None


def _frame_of_last_byte(t: HttpTransaction, message: HttpMessage) -> int:
    """The frame that brought the message's last byte (where tshark's reassembly ends)."""
    monologues = t.session.monologues
    if message.end_monologue >= len(monologues):
        return 0
    last = monologues[message.end_monologue]
    try:
        return last.frame_at(message.end_index)
    except IndexError:
        return last.frames[-1] if last.frames else 0


def objects_of(transaction: HttpTransaction, keep_data: bool) -> list[HttpObject]:
    """The transaction's bodies that hold bytes (request first), decoded.

    ``keep_data`` needs a listener that kept the bodies (``HttpListener(keep_bodies=True)``).
    """
    found = []
    t = transaction
    for direction, message in (("request", t.request), ("response", t.response)):
        if message is None or message.body_length == 0:
            continue
        if keep_data and message.decoded is None:
            raise ValueError("the listener kept no bodies: HttpListener(keep_bodies=True)")
        note = _note(message, message.decode_error, message.decode_capped, message.decode_cut_short)
        complete = message.complete and note is None
        found.append(
            HttpObject(
                t.session.id,
                t.index,
                direction,
                message.ts_ns,
                None if t.request is None else t.request.monologue,
                None if t.response is None else t.response.monologue,
                _frame_of_last_byte(t, message),
                t.method,
                t.host,
                None if t.request is None else t.uri,
                t.status,
                message.headers.get("content-type", ""),
                message.headers.get("content-encoding", ""),
                message.body_length,
                message.decoded_length,
                message.sha256,
                complete,
                message.gap,
                message.missing,
                note,
                message.decoded if keep_data else None,
            )
        )
    return found


def _basename(uri: str) -> str:
    """glib's ``g_path_get_basename``: the last segment, trailing slashes aside; ``/`` for none."""
    stripped = uri.rstrip("/")
    if not stripped:
        return "/" if uri else "."
    return stripped.rsplit("/", 1)[-1]


def _content_extension(content_type: str) -> str:
    """tshark's ``eo_ct2ext`` as it behaves: the media type without its parameters."""
    return content_type.split(";", 1)[0].strip()


def base_name(obj: HttpObject) -> str:
    """The name tshark gives the object, before making it unique."""
    if obj.uri is not None:
        return _basename(obj.uri)
    extension = _content_extension(obj.content_type)
    return f"object{obj.frame}.{extension}" if extension else f"object{obj.frame}"


def _massage(name: str) -> str:
    """tshark's ``eo_massage_str``: refused characters as ``%xx``, at most MAX_NAME bytes."""
    safe = _REJECT.sub(lambda m: f"%{ord(m.group()):02x}", name)
    stem, dot, extension = safe.rpartition(".")
    if safe.encode("utf-8", "surrogateescape") and len(safe.encode("utf-8", "surrogateescape")) > MAX_NAME:
        if dot and len(extension) < MAX_NAME // 2:
            safe = _cut(stem, MAX_NAME - len(extension.encode()) - 1) + "." + extension
        else:
            safe = _cut(safe, MAX_NAME)
    # what tshark does not guard against: names no system can hold, or that Windows changes
    if safe in ("", ".", ".."):
        safe = safe.replace(".", "%2e") or "object"
    if safe[-1] in ". ":
        safe = safe[:-1] + f"%{ord(safe[-1]):02x}"
    if safe.split(".", 1)[0].upper() in _RESERVED:
        safe = "_" + safe
    return safe


def _cut(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character."""
    return text.encode("utf-8", "surrogateescape")[:limit].decode("utf-8", "ignore")


def _numbered(name: str, n: int) -> str:
    """tshark's ``eo_rename``: ``(n)`` before the extension."""
    stem, dot, extension = name.rpartition(".")
    tag = f"({n})"
    if dot and stem:
        return _cut(stem, MAX_NAME - len(tag) - len(extension.encode()) - 1) + tag + "." + extension
    return _cut(name, MAX_NAME - len(tag)) + tag


def unique_names(objects: list[HttpObject]) -> list[str]:
    """A file name for each object, in order, each different (case ignored, as on Windows)."""
    taken: set[str] = set()
    names = []
    for obj in objects:
        name = base = _massage(base_name(obj))
        n = 0
        while name.lower() in taken:
            n += 1
            name = _numbered(base, n)
        taken.add(name.lower())
        names.append(name)
    return names
