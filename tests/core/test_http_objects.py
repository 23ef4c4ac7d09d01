"""HTTP objects: Content-Encoding, gaps, re-synchronisation, names, and ``monoview http --export``.

Expected bodies are the bytes the test compressed itself (with Python's gzip, zlib,
brotli and zstandard encoders), or tshark's objects (tests/reference/http_objects.json);
never monoview's own output.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import zlib
from pathlib import Path

import brotli
import pytest
import zstandard

from monoview.core.analyse import analyse
from monoview.core.http import HttpListener, HttpTransaction
from monoview.core.http_body import decode
from monoview.core.http_objects import HttpObject, objects_of, unique_names
from tests.conftest import shared_capture
from tests.pcapgen import Conversation, write_pcap

REFERENCE = json.loads((Path(__file__).parent.parent / "reference" / "http_objects.json").read_text())
TEXT = b"".join(b"line %d of a body that compresses well\n" % i for i in range(3000))


def sha(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()


def transactions(path: Path) -> list[HttpTransaction]:
    http = HttpListener(keep_bodies=True)
    analyse(path, listeners=[http])
    return http.transactions


def objects(path: Path) -> list[HttpObject]:
    return [o for t in transactions(path) for o in objects_of(t, keep_data=True)]


def _raw_deflate(data: bytes) -> bytes:
    encoder = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return encoder.compress(data) + encoder.flush()


@pytest.mark.parametrize(
    ("coding", "encoded"),
    [
        ("gzip", gzip.compress(TEXT)),
        ("x-gzip", gzip.compress(TEXT)),
        ("deflate", zlib.compress(TEXT)),
        ("deflate", _raw_deflate(TEXT)),  # what some servers send for deflate
        ("br", brotli.compress(TEXT)),
        ("zstd", zstandard.ZstdCompressor().compress(TEXT)),
        ("gzip, br", brotli.compress(gzip.compress(TEXT))),  # applied in order: undone last first
        ("identity", TEXT),
    ],
)
def test_content_encodings_decode(coding: str, encoded: bytes) -> None:
    decoded = decode(encoded, coding)
    assert decoded.error is None and not decoded.capped and not decoded.cut_short
    assert decoded.data == TEXT


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("br", brotli.compress),
        ("zstd", zstandard.ZstdCompressor().compress),
    ],
)
def test_a_decompression_bomb_stops_at_the_cap(coding: str, encode: object) -> None:
    bomb = encode(b"\0" * (16 << 20))  # type: ignore[operator]
    assert len(bomb) < 1 << 20
    decoded = decode(bomb, coding, cap=1 << 20)
    assert decoded.capped and len(decoded.data) == 1 << 20 and set(decoded.data) == {0}


def test_undecodable_and_unknown_codings_keep_the_body() -> None:
    assert decode(b"not gzip", "gzip").data == b"not gzip"
    assert decode(b"not gzip", "gzip").error
    assert decode(b"x", "compress").error == "unknown Content-Encoding 'compress'"
    cut = decode(gzip.compress(TEXT)[:-200], "gzip")  # the stream ends early: what it held
    assert cut.cut_short and TEXT.startswith(cut.data) and len(cut.data) > 0


def _response(body: bytes, coding: str | None = None, chunked: bool = False) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
    if coding:
        head += b"Content-Encoding: " + coding.encode() + b"\r\n"
    if chunked:
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + 700]), body[i : i + 700]) for i in range(0, len(body), 700)
        )
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def test_a_chunked_gzip_body_is_dechunked_and_decoded(tmp_path: Path) -> None:
    conv = Conversation().handshake()
    conv.send(True, b"GET /a/b/page.txt?x=1 HTTP/1.1\r\nHost: example.org\r\n\r\n")
    conv.send(False, _response(gzip.compress(TEXT), "gzip", chunked=True))
    conv.close()
    (obj,) = objects(write_pcap(tmp_path / "c.pcap", conv.frames))
    assert obj.data == TEXT and obj.sha256 == sha(TEXT) and obj.complete
    assert (obj.encoded_size, obj.decoded_size) == (len(gzip.compress(TEXT)), len(TEXT))
    assert (obj.method, obj.host, obj.uri, obj.status, obj.content_type) == (
        "GET",
        "example.org",
        "/a/b/page.txt?x=1",
        200,
        "text/plain",
    )
    assert (obj.request_monologue, obj.response_monologue) == (0, 1)
    assert unique_names([obj]) == ["page.txt%3fx=1"]  # tshark's name: the last segment, '?' escaped


def test_a_body_across_a_gap_is_incomplete_with_the_gap(tmp_path: Path) -> None:
    """A segment inside the body is missing: the object says where and how much, counts the
    missing bytes towards Content-Length, and the next response is still found."""
    body = bytes(range(256)) * 20  # 5,120 bytes
    conv = Conversation().handshake()
    conv.send(True, b"GET /one HTTP/1.1\r\nHost: h\r\n\r\n")
    response = _response(body)
    before = len(conv.frames)
    conv.send(False, response, mss=1000)
    del conv.frames[before + 2]  # the segment at stream offset 2000 of the server
    conv.send(True, b"GET /two HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, _response(b"second"))
    conv.close()
    first, second = objects(write_pcap(tmp_path / "gap.pcap", conv.frames))
    assert not first.complete and first.gap == (2000, 1000) and first.missing == 1000
    head = len(response) - len(body)
    assert first.encoded_size == len(body)
    assert first.data == body[: 2000 - head] + body[3000 - head :]  # the captured bytes, in order
    assert first.note and "1000 bytes missing" in first.note
    assert second.complete and second.data == b"second" and second.uri == "/two"


def test_garbage_before_a_request_and_a_response_is_skipped(tmp_path: Path) -> None:
    conv = Conversation().handshake()
    conv.send(True, b"\x00")  # a keep-alive byte, as in wild/scapy_http_chunk
    conv.send(True, b"\r\nnoise\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, b"junk" + _response(b"body"))
    conv.send(True, b"NOT HTTP AT ALL\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, _response(b"more"))
    conv.close()
    found = transactions(write_pcap(tmp_path / "junk.pcap", conv.frames))
    assert [(t.uri, t.status) for t in found] == [("/x", 200), ("/y", 200)]
    assert [t.response.body for t in found if t.response] == [b"body", b"more"]


def test_a_session_that_starts_with_a_response(tmp_path: Path) -> None:
    """The first response answers a request the capture lacks: a transaction of its own,
    not paired with the request that comes after it."""
    conv = Conversation().handshake()
    conv.send(False, _response(b"orphan"))
    conv.send(True, b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, _response(b"answer"))
    conv.close()
    orphan, paired = transactions(write_pcap(tmp_path / "first.pcap", conv.frames))
    assert orphan.request is None and orphan.response is not None and orphan.response.body == b"orphan"
    assert paired.uri == "/next" and paired.response is not None and paired.response.body == b"answer"
    (name, _) = unique_names([o for t in (orphan, paired) for o in objects_of(t, False)])
    assert name.startswith("object") and name.endswith(".text%2fplain")  # tshark's form


def test_scapy_http_chunk_keep_alive_byte_before_get() -> None:
    """The client's stream starts with a 1-byte keep-alive segment, then GET (issue 8)."""
    capture = shared_capture("wild/scapy_http_chunk.pcap")
    found = transactions(capture)
    (t,) = [t for t in found if t.session.id == 1]
    assert (
        t.method == "GET" and t.uri.startswith("/httpgallery/chunked/chunkedimage.aspx") and t.status == 200
    )
    (want,) = REFERENCE["captures"]["wild/scapy_http_chunk.pcap"]
    (obj,) = objects_of(t, False)
    assert (obj.sha256, obj.decoded_size) == (want["sha256"], want["size"])


def test_suricata_start_from_response() -> None:
    """The session's first monologue is a response: it is kept, and so is the complete
    transaction after it (issue 8: both were lost)."""
    capture = shared_capture("wild/suricata_http-start-from-response.pcap")
    orphan, favicon = transactions(capture)
    assert orphan.request is None and orphan.status == 200
    assert favicon.uri == "/favicon.ico" and favicon.response is not None
    got = sorted(o.sha256 for t in (orphan, favicon) for o in objects_of(t, False))
    assert got == sorted(
        o["sha256"] for o in REFERENCE["captures"]["wild/suricata_http-start-from-response.pcap"]
    )


def test_ndpi_asymmetric_response_only_session_is_parsed() -> None:
    """Requests and responses were captured as two sessions: 3 requests in one, 3 responses
    (orphans) in the other (issue 8: the responses were never parsed)."""
    capture = shared_capture("wild/ndpi_http_asymmetric.pcapng")
    found = transactions(capture)
    requests = [t for t in found if t.request is not None]
    responses = [t for t in found if t.request is None]
    assert [t.uri for t in requests] == ["/", "/icons/ubuntu-logo.png", "/favicon.ico"]
    assert all(t.response is None for t in requests)
    assert len(responses) == 3 and {t.session.id for t in responses} != {t.session.id for t in requests}
    mine = [o for t in responses for o in objects_of(t, False)]
    reference = REFERENCE["captures"]["wild/ndpi_http_asymmetric.pcapng"]
    assert sorted(o.sha256 for o in mine) == sorted(o["sha256"] for o in reference)
    assert sorted(unique_names(mine)) == sorted(o["name"] for o in reference)  # object<frame>.<type>


def _names(pairs: list[tuple[str, str | None]]) -> list[str]:
    fake = [
        HttpObject(
            1, i, "response", i, 0, 1, 7, "GET", "h", uri, 200, ctype, "", 1, 1, "", True, None, 0, None, None
        )
        for i, (uri, ctype) in enumerate(pairs)
    ]
    return unique_names(fake)  # type: ignore[arg-type]


def test_names_follow_tshark_and_are_safe_everywhere() -> None:
    assert _names([("/", ""), ("/", ""), ("/a/b/", ""), ("/x.tar.gz", ""), ("/x.tar.gz", "")]) == [
        "%2f",
        "%2f(1)",
        "b",
        "x.tar.gz",
        "x.tar(1).gz",
    ]
    assert _names([('/q?a=<b>:"c"|*', "")]) == ["q%3fa=%3cb%3e%3a%22c%22%7c%2a"]
    # what tshark leaves alone but Windows refuses or changes
    assert _names([("/CON", ""), ("/nul.txt", ""), ("/a.", ""), ("/..", ""), ("/A", ""), ("/a", "")]) == [
        "_CON",
        "_nul.txt",
        "a%2e",
        "%2e%2e",
        "A",
        "a(1)",
    ]
    (long,) = _names([("/" + "é" * 300 + ".html", "")])
    assert len(long.encode()) <= 255 and long.endswith(".html")


def test_cli_export_writes_the_objects_and_a_manifest(tmp_path: Path) -> None:
    capture = shared_capture("wild/zeek_http-pipelined-requests.pcap")
    out = tmp_path / "objects"
    command = [sys.executable, "-m", "monoview", "http", str(capture), "--export", str(out)]
    result = subprocess.run(command, capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    reference = REFERENCE["captures"]["wild/zeek_http-pipelined-requests.pcap"]
    written = {p.name: sha(p.read_bytes()) for p in out.iterdir() if p.name != "manifest.json"}
    assert written == {o["name"]: o["sha256"] for o in reference}  # tshark's names and bytes
    manifest = json.loads((out / "manifest.json").read_text())
    assert [e["file"] for e in manifest["objects"]] and all(e["complete"] for e in manifest["objects"])
    css = next(e for e in manifest["objects"] if e["file"] == "enhanced.css")
    assert (css["content_encoding"], css["decoded_size"], css["host"]) == ("gzip", 2675, "www.mozilla.org")
    assert css["encoded_size"] < css["decoded_size"]
    again = subprocess.run(command, capture_output=True, timeout=300)
    assert again.returncode == 1 and b"exists" in again.stderr and b"--force" in again.stderr
    (out / "manifest.json").unlink()  # now only the objects' names are in the way
    third = subprocess.run(command, capture_output=True, timeout=300)
    assert third.returncode == 1 and b"exists" in third.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(written)  # no parts folder left behind
    forced = subprocess.run([*command, "--force"], capture_output=True, timeout=300)
    assert forced.returncode == 0, forced.stderr.decode()


def test_cli_sort_by_time_interleaves_sessions() -> None:
    capture = shared_capture("lab/http_keepalive.pcap")
    shown = {}
    for order in ("session", "time"):
        result = subprocess.run(
            [sys.executable, "-m", "monoview", "http", str(capture), "--sort", order],
            capture_output=True,
            timeout=300,
        )
        assert result.returncode == 0
        shown[order] = [line.split() for line in result.stdout.decode().splitlines()[1:]]
    times = [float(row[2]) for row in shown["time"]]
    assert times == sorted(times)
    assert sorted(map(tuple, shown["time"])) == sorted(map(tuple, shown["session"]))
    sessions = [int(row[0]) for row in shown["session"]]
    assert sessions == sorted(sessions)


def test_a_bomb_in_a_capture_is_cut_at_64_mib_and_said_so(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * (80 << 20), compresslevel=9)  # 80 MiB of zeros in ~80 kB
    conv = Conversation().handshake()
    conv.send(True, b"GET /bomb.bin HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, _response(bomb, "gzip"))
    conv.close()
    (obj,) = objects(write_pcap(tmp_path / "bomb.pcap", conv.frames))
    assert obj.encoded_size == len(bomb) and obj.decoded_size == 64 << 20
    assert not obj.complete and obj.note is not None and "cap" in obj.note


def test_a_listing_keeps_hashes_not_bodies() -> None:
    """``monoview http`` without --export must not hold every body of a large capture."""
    capture = shared_capture("wild/zeek_http-pipelined-requests.pcap")
    http = HttpListener()
    analyse(capture, listeners=[http])
    responses = [t.response for t in http.transactions if t.response is not None]
    assert responses and all(r.body == b"" and r.decoded is None for r in responses)
    reference = {o["sha256"] for o in REFERENCE["captures"]["wild/zeek_http-pipelined-requests.pcap"]}
    assert {r.sha256 for r in responses} == reference
    with pytest.raises(ValueError, match="keep_bodies"):
        objects_of(http.transactions[0], keep_data=True)


def test_cli_lists_the_decoded_size() -> None:
    """Issue 8: the byte column showed 946 where the object is 2,675 (gzip)."""
    capture = shared_capture("wild/zeek_http-pipelined-requests.pcap")
    result = subprocess.run(
        [sys.executable, "-m", "monoview", "http", str(capture)], capture_output=True, timeout=300
    )
    assert result.returncode == 0
    css = next(line.split() for line in result.stdout.decode().splitlines() if "enhanced.css" in line)
    assert css[3:6] == ["200", "946", "2675"]  # status, bytes on the wire, decoded


def test_a_response_to_a_request_still_arriving_waits_for_it(tmp_path: Path) -> None:
    """The server answers (401) before the client's announced body is complete: the answer
    belongs to that request, not an orphan; and a HEAD request's answer keeps HEAD framing."""
    conv = Conversation().handshake()
    conv.send(True, b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n12345")
    conv.send(False, _response(b"denied"))
    conv.send(True, b"67890HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n" + _response(b"late"))
    conv.close()
    found = transactions(write_pcap(tmp_path / "early.pcap", conv.frames))
    assert [(t.method, t.status) for t in found] == [("POST", 200), ("HEAD", 200)]
    assert found[0].request is not None and found[0].request.body_length == 10
    assert found[1].response is not None and found[1].response.body_length == 0


def test_a_body_cut_by_the_end_of_the_capture_is_incomplete(tmp_path: Path) -> None:
    """The capture stops 300 bytes before the announced end of a response: the object is
    exported incomplete, the missing bytes at the stream's end, not dropped."""
    body = b"z" * 1000
    conv = Conversation().handshake()
    conv.send(True, b"GET /cut HTTP/1.1\r\nHost: h\r\n\r\n")
    response = _response(body)
    conv.send(False, response[:-300])
    (obj,) = objects(write_pcap(tmp_path / "cut.pcap", conv.frames))
    assert not obj.complete and obj.data == body[:-300] and obj.encoded_size == len(body)
    assert obj.gap == (len(response) - 300, 300) and obj.missing == 300


def test_after_connect_the_tunnel_is_not_http(tmp_path: Path) -> None:
    """A 2xx answer to CONNECT makes the rest of the stream a tunnel (RFC 9110 9.3.6): what
    goes through it is not read as HTTP, even when it looks like it."""
    conv = Conversation().handshake()
    conv.send(True, b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n")
    conv.send(False, b"HTTP/1.1 200 Connection established\r\n\r\n")
    conv.send(True, b"\x16\x03\x01GET /inside HTTP/1.1\r\nHost: h\r\n\r\n")
    conv.send(False, b"\x16\x03\x03" + _response(b"inside"))
    conv.close()
    (connect,) = transactions(write_pcap(tmp_path / "connect.pcap", conv.frames))
    assert (connect.method, connect.status) == ("CONNECT", 200)
