"""The session list's application names, against tshark and hand-built first bytes.

``tests/reference/app_names.json`` holds what tshark's dissectors find first in
each stream of the shared captures (ClientHello server name and ALPN, HTTP
Host, SSH banner), keyed by the stream's first frame; monoview must name the
session that starts at that frame the same.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monoview.core.appnames import application_name, client_hello
from monoview.core.document import CaptureDocument
from monoview.core.flows.applications import application_names
from tests.conftest import SHARED
from tests.pcapgen import Conversation, write_pcap

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "app_names.json").read_text())
# A ClientHello after STARTTLS belongs to a session that began as something else.
STARTTLS = ("IMAP", "SMTP", "POP3", "FTP", "IRC")


def _names(path: Path) -> dict[int, str]:
    document = CaptureDocument(path, workers=1)
    try:
        names = application_names(document.parts, document.rows, document.buffer)
        return dict(zip(document.rows["first_frame"].tolist(), names, strict=True))
    finally:
        document.close()


@pytest.mark.parametrize("capture", sorted(REFERENCE))
def test_names_agree_with_tshark(capture: str) -> None:
    path = SHARED / "captures" / capture
    if not path.exists():
        pytest.skip("shared captures not available")
    names = _names(path)
    for frame, found in REFERENCE[capture].items():
        name = names.get(int(frame))
        assert name is not None, f"no session starts at frame {frame}"
        if "tls" in found and not name.startswith(STARTTLS):
            expected = "TLS" + (f" {found['sni']}" if found["sni"] else "")
            expected += f" ({found['alpn']})" if found["alpn"] else ""
            assert name == expected, frame
        elif "ssh" in found:
            assert name in ["SSH " + banner.split("-", 2)[2].split(" ")[0] for banner in found["ssh"]], frame
        elif "host" in found:
            assert name == "HTTP " + found["host"], frame


def test_the_reference_covers_every_kind() -> None:
    kinds = {kind for streams in REFERENCE.values() for found in streams.values() for kind in found}
    assert {"tls", "host", "ssh"} <= kinds


def _client_hello(sni: str, alpn: str, pad: int = 0) -> bytes:
    """A TLS 1.3-style ClientHello: a padding extension of ``pad`` bytes (a large key share)
    before the server name, then ALPN."""

    def ext(kind: int, body: bytes) -> bytes:
        return struct.pack("!HH", kind, len(body)) + body

    name = sni.encode()
    server_name = struct.pack("!HBH", len(name) + 3, 0, len(name)) + name
    protocol = alpn.encode()
    alpn_body = struct.pack("!HB", len(protocol) + 1, len(protocol)) + protocol
    extensions = ext(21, b"\x00" * pad) + ext(0, server_name) + ext(16, alpn_body)
    body = b"\x03\x03" + b"\x11" * 32 + b"\x20" + b"\x22" * 32 + b"\x00\x02\x13\x01" + b"\x01\x00"
    body += struct.pack("!H", len(extensions)) + extensions
    handshake = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(handshake)) + handshake


def test_a_client_hello_in_two_segments_is_named(tmp_path: Path) -> None:
    hello = _client_hello("www.example.org", "h2", pad=1500)
    assert len(hello) > 1460
    conv = Conversation()
    conv.handshake().send(True, hello, mss=1400).send(False, b"\x16\x03\x03\x00\x10" + b"\x02" * 16).close()
    path = write_pcap(tmp_path / "tls.pcap", conv.frames)
    assert list(_names(path).values()) == ["TLS www.example.org (h2)"]


def test_client_hello_cut_short_or_corrupt_gives_what_it_holds() -> None:
    hello = _client_hello("a.example", "http/1.1")
    assert client_hello(hello) == ("a.example", "http/1.1")
    assert client_hello(hello[:60]) == ("", "")  # cut before the extensions
    assert client_hello(b"\x16\x03\x01\x00\x05\x02\x00\x00\x01\x00") is None  # a ServerHello
    assert client_hello(b"GET / HTTP/1.1\r\n") is None


@pytest.mark.parametrize(
    ("client", "server", "name"),
    [
        (b"GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n", b"HTTP/1.1 200 OK\r\n", "HTTP example.com"),
        (b"", b"HTTP/1.0 404 Not Found\r\n", "HTTP"),
        (b"\x00GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", b"", "HTTP a.example"),  # keep-alive byte first
        (b"x" * 40 + b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", b"", ""),
        (b"SSH-2.0-PuTTY_Release_0.80\r\n", b"SSH-2.0-OpenSSH_9.6p1 Debian\r\n", "SSH OpenSSH_9.6p1"),
        (b"EHLO me\r\n", b"220 mail.example.com ESMTP Postfix\r\n", "SMTP"),
        (b"USER anonymous\r\n", b"220 (vsFTPd 3.0.3)\r\n", "FTP"),
        (b"NICK bob\r\nUSER bob 0 * :Bob\r\n", b"", "IRC"),
        (b"a1 CAPABILITY\r\n", b"* OK IMAP4rev1 ready\r\n", "IMAP"),
        (b"USER bob\r\n", b"+OK POP3 ready\r\n", "POP3"),
        (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", b"", "HTTP/2"),
        (b"\x00\x01binary", b"\xff\xfe", ""),
        (b"GET / HTTP/1.1\r\nHost: evil\x1b[31m\r\n\r\n", b"", "HTTP evil?[31m"),
    ],
)
def test_first_bytes_name_the_application(client: bytes, server: bytes, name: str) -> None:
    assert application_name(client, server) == name


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_any_bytes_are_named_without_raising(client: bytes, server: bytes) -> None:
    assert isinstance(application_name(client, server), str)
    assert isinstance(application_name(b"\x16\x03\x01" + client, server), str)


def _monoview(*args: str) -> str:
    command = [sys.executable, "-m", "monoview", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout


def test_sessions_lists_the_applications_on_request(tmp_path: Path) -> None:
    conv = Conversation()
    conv.handshake().send(True, b"GET / HTTP/1.1\r\nHost: www.example.net\r\n\r\n")
    conv.send(False, b"HTTP/1.1 204 No Content\r\n\r\n").close()
    path = write_pcap(tmp_path / "http.pcap", conv.frames)
    table = _monoview("sessions", "-a", str(path))
    header, line = table.splitlines()
    assert header.endswith("  application") and line.endswith("  HTTP www.example.net")
    listing = _monoview("sessions", "--json", "--application", str(path))
    assert [s["application"] for s in json.loads(listing)["sessions"]] == ["HTTP www.example.net"]


def test_the_filter_reads_the_application_column() -> None:
    from monoview.core.flows.columns import SessionColumns
    from monoview.core.flows.query import QueryError, parse_query

    path = SHARED / "captures" / "wild" / "zeek_smtp.pcap"
    if not path.exists():
        pytest.skip("shared captures not available")
    document = CaptureDocument(path, workers=1)
    try:
        columns = SessionColumns(document.rows, document.flows)
        query = parse_query('app == "SMTP" || application contains "ICLOUD"')
        assert query is not None
        none = query.mask(columns, lambda _p: np.zeros(len(columns), dtype=np.bool_))
        assert not none.any()  # not named yet: nothing matches, nothing is guessed
        columns.applications = application_names(document.parts, document.rows, document.buffer)
        hit = query.mask(columns, lambda _p: np.zeros(len(columns), dtype=np.bool_))
        expected = [n == "SMTP" or "icloud" in n.lower() for n in columns.applications]
        assert hit.tolist() == expected and sum(expected) == 3
        other = parse_query('app != "smtp"')
        assert other is not None
        assert (
            other.mask(columns, lambda _p: hit) == ~np.array([n == "SMTP" for n in columns.applications])
        ).all()
        with pytest.raises(QueryError, match="needs a comparison"):
            parse_query("app")
    finally:
        document.close()
