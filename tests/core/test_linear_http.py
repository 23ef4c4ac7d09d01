"""HTTP messages that arrive in many monologues cost work in proportion to their size.

The old listener gave dpkt the whole unparsed buffer again after every monologue,
so a header arriving one line per monologue, or a body in many pieces, cost the
square of its size (issue 12: 5,000 / 10,000 / 20,000 header lines took 3.1 /
11.7 / 57 s).  Each test builds the shape at two sizes, checks what is found, and
counts the function calls of the HTTP listener alone (the monologue events are
replayed into it), as tests/core/test_linear_time.py does for the TCP layer; the
body in pieces also bounds the memory the listener holds, since copying a
growing buffer is quadratic in bytes but not in calls.
"""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

from monoview.core.analyse import analyse
from monoview.core.http import HttpListener, HttpTransaction
from monoview.core.tcp.session import TcpSession
from tests.core.test_linear_time import GROWTH, calls
from tests.pcapgen import Conversation, write_pcap

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _session(path: Path) -> TcpSession:
    (session,) = analyse(path).sessions
    return session


def _replay(session: TcpSession) -> list[HttpTransaction]:
    """The listener's view of the session: its monologues, then its end."""
    http = HttpListener()
    for monologue in session.monologues:
        http.tcp_monologue(session, monologue)
    http.tcp_session_end(session, None)
    return http.transactions


def _growth(small: Path, large: Path) -> float:
    small_session, large_session = _session(small), _session(large)
    return calls(lambda: _replay(large_session)) / calls(lambda: _replay(small_session))


def _header_line_by_line(tmp: Path, n: int) -> Path:
    """A POST whose ``n`` header lines each come in a monologue of their own: the server
    says ``100 Continue`` after every one (its Content-Length comes first, so the header
    waits for its body rather than ending at the first monologue)."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"POST /up HTTP/1.1\r\nContent-Length: 5\r\n")
    for i in range(n):
        conv.send(False, CONTINUE)
        conv.send(True, b"X-Line-%d: value\r\n" % i)
    conv.send(False, CONTINUE)
    conv.send(True, b"\r\nhello")
    conv.send(False, b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    conv.close()
    return write_pcap(tmp / f"lines-{n}.pcap", conv.frames)


def test_header_arriving_line_by_line_costs_linear_work(tmp_path: Path) -> None:
    (post,) = _replay(_session(_header_line_by_line(tmp_path, 50)))
    assert post.method == "POST" and post.uri == "/up" and post.request.body_length == 5
    assert len(post.request.headers) == 51 and post.request.headers["x-line-49"] == "value"
    assert post.status == 201 and post.response is not None and post.response.body_length == 2
    n = 400
    assert _growth(_header_line_by_line(tmp_path, n), _header_line_by_line(tmp_path, 2 * n)) < GROWTH


def _body_in_pieces(tmp: Path, n: int, piece: int) -> Path:
    """A response of ``n`` pieces of Content-Length body; the client pipelines a request
    between pieces, so each is a monologue of its own (those are answered at the end)."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (n * piece))
    for i in range(n):
        conv.send(True, b"GET /next/%d HTTP/1.1\r\nHost: h\r\n\r\n" % i)
        conv.send(False, bytes([i % 256]) * piece)
    conv.send(True, b"GET /last HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, b"HTTP/1.1 204 No Content\r\n\r\n" * (n + 1))
    conv.close()
    return write_pcap(tmp / f"pieces-{n}-{piece}.pcap", conv.frames)


def test_body_in_many_pieces_costs_linear_work(tmp_path: Path) -> None:
    n = 300
    found = _replay(_session(_body_in_pieces(tmp_path, n, 2000)))
    assert [t.uri for t in found] == ["/big"] + [f"/next/{i}" for i in range(n)] + ["/last"]
    assert found[0].status == 200 and found[0].response is not None
    assert found[0].response.body_length == n * 2000
    assert all(t.status == 204 for t in found[1:])
    small, large = _body_in_pieces(tmp_path, n, 2000), _body_in_pieces(tmp_path, 2 * n, 2000)
    assert _growth(small, large) < GROWTH


def test_body_in_many_pieces_is_held_once(tmp_path: Path) -> None:
    """The old listener copied the body again at every piece.  The body is now kept while
    it arrives (to decode and hash it), once: the pieces' buffer is dropped as it is read,
    and the kept bytes are handed over, not copied; a listing keeps only the hash after."""
    n, piece = 40, 50_000
    session = _session(_body_in_pieces(tmp_path, n, piece))
    tracemalloc.start()
    try:
        found = _replay(session)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found[0].response is not None and found[0].response.body_length == n * piece
    assert found[0].response.decoded_length == n * piece and found[0].response.body == b""
    assert (
        found[0].response.sha256
        == hashlib.sha256(b"".join(bytes([i % 256]) * piece for i in range(n))).hexdigest()
    )
    assert peak < n * piece * 3 // 2


def _chunked_in_pieces(tmp: Path, n: int) -> Path:
    """A chunked response of ``n`` 100-byte chunks, each piece ending half-way through a
    chunk's data (the client pipelines a request between pieces)."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n")
    body = b"".join(b"64\r\n" + bytes([65 + i % 26]) * 100 + b"\r\n" for i in range(n)) + b"0\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = len(b"64\r\n") + 100 + 2
    cuts = [len(head) + k * chunk + 4 + 50 for k in range(n)]  # mid-data of chunk k
    stream = head + body
    start = 0
    for i, end in enumerate(cuts):
        conv.send(False, stream[start:end])
        conv.send(True, b"GET /next/%d HTTP/1.1\r\nHost: h\r\n\r\n" % i)
        start = end
    conv.send(False, stream[start:] + b"HTTP/1.1 204 No Content\r\n\r\n" * n)
    conv.close()
    return write_pcap(tmp / f"chunked-{n}.pcap", conv.frames)


def test_chunked_body_in_many_pieces_costs_linear_work(tmp_path: Path) -> None:
    n = 200
    found = _replay(_session(_chunked_in_pieces(tmp_path, n)))
    assert [t.uri for t in found] == ["/chunked"] + [f"/next/{i}" for i in range(n)]
    assert found[0].response is not None and found[0].response.body_length == n * 100
    assert all(t.status == 204 for t in found[1:])
    assert _growth(_chunked_in_pieces(tmp_path, n), _chunked_in_pieces(tmp_path, 2 * n)) < GROWTH


def _chunks_one_per_monologue(tmp: Path) -> Path:
    """A chunked request whose chunks each come in a monologue of their own."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    for piece in (b"5\r\nhello\r\n", b"6\r\n world\r\n", b"0\r\n", b"\r\n"):
        conv.send(False, CONTINUE)
        conv.send(True, piece)
    conv.send(False, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    conv.close()
    return write_pcap(tmp / "chunks.pcap", conv.frames)


def test_chunks_cut_at_their_boundaries_are_read_across_monologues(tmp_path: Path) -> None:
    """dpkt gave up on a chunked body cut between chunks (no chunk size after the cut)."""
    (post,) = _replay(_session(_chunks_one_per_monologue(tmp_path)))
    assert post.request.body_length == 11 and post.status == 201


def _garbage_in_pieces(tmp: Path, n: int) -> Path:
    """A client that sends ``n`` pieces of bytes that are no request (each a monologue: the
    server answers with garbage too), then one real request; the search for the next start
    line must not look at the same bytes again at every piece."""
    conv = Conversation()
    conv.handshake()
    for _i in range(n):
        conv.send(True, b"G" + b"x" * 500 + b"GE")  # almost a method at each end
        conv.send(False, b"y" * 500 + b"HTTP/1.")  # almost a status line at the end
    conv.send(True, b"T /real HTTP/1.1\r\nHost: h\r\n\r\n")  # completes the last piece's "GE"
    conv.send(False, b"1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    conv.close()
    return write_pcap(tmp / f"garbage-{n}.pcap", conv.frames)


def test_skipping_garbage_costs_linear_work(tmp_path: Path) -> None:
    n = 100
    found = _replay(_session(_garbage_in_pieces(tmp_path, n)))
    assert [(t.uri, t.status) for t in found] == [("/real", 200)]
    assert found[0].response is not None and found[0].response.sha256 == hashlib.sha256(b"ok").hexdigest()
    assert _growth(_garbage_in_pieces(tmp_path, n), _garbage_in_pieces(tmp_path, 2 * n)) < GROWTH


def test_skipped_bytes_are_dropped_once_searched() -> None:
    """Call counts cannot see one regular-expression search over a growing buffer; what
    keeps the search linear is that searched bytes are dropped, all but a start's length."""
    from monoview.core.http_head import LONGEST_START
    from monoview.core.http_reader import MessageReader

    reader = MessageReader(response=False)
    for i in range(200):
        reader.feed(b"G" + b"x" * 500 + b"GE", i, i)
        assert reader.next() is None
        assert reader.held() <= LONGEST_START
    reader.feed(b"T /real HTTP/1.1\r\n\r\n", 200, 200)
    message = reader.next()
    assert message is not None and message.start.text == "GET /real HTTP/1.1"
    assert reader.skipped == 200 * 503 - 2  # every byte before the real "GE" was skipped, once
