"""One session's HTTP as the window's tab reads it: transactions from a reassembled
session, and bodies turned into what a person reads."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from monoview.core.document import CaptureDocument
from monoview.core.http import HttpMessage
from monoview.core.http_session import HEX_LIMIT, body_view, head_text, session_transactions
from tests.pcapgen import Conversation, write_pcap


def _message(content_type: str, body: bytes, **kwargs: object) -> HttpMessage:
    headers = {"content-type": content_type} if content_type else {}
    return HttpMessage("HTTP/1.1 200 OK", headers, len(body), 0, 1, body=body, decoded=body, **kwargs)  # type: ignore[arg-type]


def test_a_reassembled_session_gives_its_transactions_with_bodies(tmp_path: Path) -> None:
    page = b"<html>" + "café".encode("latin-1") + b"</html>"
    packed = gzip.compress(page)
    conv = Conversation()
    conv.handshake().send(True, b"GET /a HTTP/1.1\r\nHost: x.example\r\n\r\n")
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=latin-1\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {len(packed)}\r\n\r\n"
    )
    conv.send(False, head.encode() + packed, mss=40).close()
    with CaptureDocument(write_pcap(tmp_path / "h.pcap", conv.frames), workers=1) as document:
        (t,) = session_transactions(document.conversation(1))
    assert (t.method, t.uri, t.host, t.status) == ("GET", "/a", "x.example", 200)
    assert t.response is not None and bytes(t.response.decoded or b"") == page
    view = body_view(t.response)
    assert view.kind == "text" and view.text == "<html>café</html>" and view.note == ""
    assert head_text(t.response).splitlines()[0] == "HTTP/1.1 200 OK"


@pytest.mark.parametrize(
    ("content_type", "body", "kind"),
    [
        ("application/json", b'{"a": [1, 2]}', "json"),
        ("", b"[1]", "json"),
        ("application/json", b"{not json", "text"),
        ("image/png", b"\x89PNG\r\n\x1a\n....", "image"),
        ("image/svg+xml", b"<svg/>", "text"),
        ("application/octet-stream", bytes(range(256)) * 4, "binary"),
        ("", b"plain words\n", "text"),
        ("text/plain", b"", "empty"),
    ],
)
def test_bodies_are_shown_as_what_they_are(content_type: str, body: bytes, kind: str) -> None:
    view = body_view(_message(content_type, body))
    assert view.kind == kind
    if kind == "json":
        assert json.loads(view.text) == json.loads(body) and "\n" in view.text


def test_a_big_binary_body_shows_its_start_and_says_how_much_more() -> None:
    view = body_view(_message("application/zip", b"\x00\x01" * HEX_LIMIT))
    assert view.kind == "binary" and view.text.endswith(f"… {2 * HEX_LIMIT - HEX_LIMIT:,} more bytes")


def test_what_is_missing_is_said() -> None:
    view = body_view(
        _message("text/plain", b"abc", missing=10, gap=(3, 10), decode_error="unknown coding 'x'")
    )
    assert "10 bytes of the body are missing" in view.note and "not decoded" in view.note
