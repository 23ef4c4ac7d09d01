"""The HTTP listener built on tcp_monologue events.

Expected values come from how the captures were made (shared/captures/lab/README.md)
or from the bytes themselves, never from the listener's own output.
"""

from __future__ import annotations

import re
from pathlib import Path

from monoview.core.analyse import analyse
from monoview.core.http import HttpListener, HttpTransaction
from monoview.core.listener import Listener
from monoview.core.streambytes import direction_bytes
from tests.conftest import shared_capture
from tests.pcapgen import Conversation, write_pcap


def transactions(path: Path) -> list[HttpTransaction]:
    http = HttpListener()
    analyse(path, listeners=[http])
    return http.transactions


def test_keepalive_capture() -> None:
    """curl fetched 6 URLs on one connection (the last a 404), then POST and GET on a second."""
    found = transactions(shared_capture("lab/http_keepalive.pcap"))
    first = [t for t in found if t.session.id == 1]
    second = [t for t in found if t.session.id == 2]
    assert [t.method for t in first] == ["GET"] * 6
    assert [t.status for t in first] == [200] * 5 + [404]
    assert [t.method for t in second] == ["POST", "GET"]
    gzip = next(t for t in first if t.response and t.response.headers.get("content-encoding") == "gzip")
    chunked = next(
        t for t in first if t.response and t.response.headers.get("transfer-encoding") == "chunked"
    )
    assert gzip.index < chunked.index
    post = second[0]
    assert post.request.body_length == int(post.request.headers["content-length"])


def test_pipelined_requests_are_answered_in_order() -> None:
    capture = shared_capture("wild/zeek_http-pipelined-requests.pcap")
    found = transactions(capture)
    (session,) = analyse(capture).sessions
    requests = direction_bytes(session, "c2s")
    lines = re.findall(rb"(?:^|\r\n\r\n)(GET \S+)", requests)
    assert [t.method + " " + t.uri for t in found] == [m.decode() for m in lines]
    assert len(found) >= 2
    assert all(t.response is not None for t in found)
    # Each response is paired with the request it answers: the first one is sent
    # before the last request, yet pairs with the first.
    assert found[0].response.ts_ns < found[-1].request.ts_ns


def test_100_continue_and_head(tmp_path: Path) -> None:
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
    conv.send(False, b"HTTP/1.1 100 Continue\r\n\r\n")
    conv.send(True, b"hello")
    conv.send(False, b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    conv.send(True, b"HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n")
    conv.send(True, b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.close()
    events: list[HttpTransaction] = []

    class Collect(Listener):
        def http_transaction(self, transaction: HttpTransaction) -> None:
            events.append(transaction)

    http = HttpListener()
    analyse(write_pcap(tmp_path / "h.pcap", conv.frames), listeners=[http, Collect()])
    assert events == http.transactions
    post, head, unanswered = events
    assert (post.method, post.status, post.request.body_length, post.response.body_length) == (
        "POST",
        201,
        5,
        2,
    )
    assert (head.method, head.status, head.response.body_length) == ("HEAD", 200, 0)
    assert unanswered.uri == "/x" and unanswered.response is None


def test_non_http_sessions_are_ignored() -> None:
    assert transactions(shared_capture("lab/chatter.pcap")) == []


def _non_ascii_capture(tmp_path: Path) -> Path:
    conv = Conversation()
    conv.handshake()
    conv.send(True, "GET /café/漢字?q=ü HTTP/1.1\r\nHost: exämple\r\nX-Bin: a".encode() + b"\xff\r\n\r\n")
    conv.send(False, "HTTP/1.1 200 Ökay\r\nContent-Length: 2\r\n\r\nok".encode())
    conv.send(True, b"GET /raw\xff\xfe/\x1b[2J HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    conv.close()
    return write_pcap(tmp_path / "non-ascii.pcap", conv.frames)


def test_non_ascii_bytes_are_kept(tmp_path: Path) -> None:
    """UTF-8 shows as its characters; other bytes and controls in a URI as %XX (what a
    browser would send for them), in a header value as \\xNN.  dpkt dropped them all."""
    from urllib.parse import quote

    utf8, raw = transactions(_non_ascii_capture(tmp_path))
    assert utf8.uri == "/café/漢字?q=ü"
    assert utf8.request.headers["host"] == "exämple"
    assert utf8.request.headers["x-bin"] == "a\\xff"
    assert utf8.response is not None and utf8.response.start_line == "HTTP/1.1 200 Ökay"
    assert raw.uri == "/raw" + quote(b"\xff\xfe") + "/" + quote(b"\x1b") + "[2J"
    assert (utf8.status, raw.status) == (200, 404)


def test_cli_shows_non_ascii_uris_or_percent_encodes_them(tmp_path: Path) -> None:
    """As UTF-8 where the output is UTF-8; all percent-encoded where it cannot hold them."""
    import os
    import subprocess
    import sys

    path = str(_non_ascii_capture(tmp_path))
    shown = {}
    for encoding in ("utf-8", "ascii"):
        result = subprocess.run(
            [sys.executable, "-m", "monoview", "http", path], capture_output=True, timeout=120,
            env={**os.environ, "PYTHONIOENCODING": encoding},
        )  # fmt: skip
        assert result.returncode == 0 and result.stderr == b"", result.stderr
        shown[encoding] = [line.split()[-1] for line in result.stdout.decode(encoding).splitlines()[1:]]
    assert shown["utf-8"] == ["/café/漢字?q=ü", "/raw%FF%FE/%1B[2J"]
    assert shown["ascii"] == ["/caf%C3%A9/%E6%BC%A2%E5%AD%97?q=%C3%BC", "/raw%FF%FE/%1B[2J"]


def test_a_status_code_of_thousands_of_digits_is_no_response(tmp_path: Path) -> None:
    """Python refuses int() of over 4,300 digits with a ValueError, which escaped the reader
    (a traceback, the direction left half-read); a status code is three digits."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
    conv.send(False, b"HTTP/1.1 " + b"2" * 5000 + b" OK\r\nContent-Length: 0\r\n\r\n")
    conv.close()
    path = write_pcap(tmp_path / "status.pcap", conv.frames)
    (only,) = transactions(path)
    assert only.uri == "/a" and only.response is None
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "monoview", "http", str(path)], capture_output=True, timeout=120
    )
    assert result.returncode == 0 and result.stderr == b"", result.stderr.decode()[-500:]


def test_a_response_starting_inside_a_later_monologue_is_dated_by_it(tmp_path: Path) -> None:
    """Response 1's body ends inside the monologue where response 2 begins: response 2 is dated
    by that monologue, not by the one response 1 began in (a negative duration, once)."""
    conv = Conversation().handshake()
    conv.send(True, b"GET /a HTTP/1.1\r\n\r\n")
    conv.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")
    conv.send(True, b"GET /b HTTP/1.1\r\n\r\n")
    conv.send(False, b"67890HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    conv.close()
    first, second = transactions(write_pcap(tmp_path / "dated.pcap", conv.frames))
    assert first.response is not None and second.response is not None
    assert (first.response.monologue, second.response.monologue) == (1, 3)
    assert second.response.ts_ns > second.request.ts_ns
    assert first.duration_ns is not None and second.duration_ns is not None and second.duration_ns > 0
