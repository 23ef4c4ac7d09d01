"""What application a session speaks, named from the first bytes each side sent.

The session list's "Application" column: ``HTTP example.com``, ``TLS
example.com (h2)``, ``SSH OpenSSH_9.6``, ``SMTP``, ``FTP``, ``POP3``,
``IMAP``, ``HTTP/2``; empty when nothing is recognised.  Like Wireshark's
heuristic dissectors it looks at what is said, not at the port (a web server
on port 8443 is still HTTP, SSH on 443 is still SSH), and it reads only the
start of each direction (a few kilobytes), so naming 20,000 sessions costs a
few milliseconds each at most.

Hand-written on purpose: the only parsers needed are a TLS ClientHello's
extension list and a few banner lines, for which the well-kept libraries
(``cryptography``, ``scapy``, ``dpkt.ssl``) are either far larger than the job
or, for dpkt, raise on the truncated hellos a first segment often holds.  Each
parser reads at most what it was given and never raises on bad input.
"""

from __future__ import annotations

import re
from typing import Final

# Bytes of each direction read to name a session: a ClientHello with a post-quantum key
# share is about 1.8 kB, two segments, and its SNI may come after the key share.
HEAD_BYTES: Final = 4096

_METHODS: Final = (
    rb"(?:GET|POST|HEAD|PUT|DELETE|OPTIONS|PATCH|CONNECT|TRACE|PROPFIND|SUBSCRIBE|NOTIFY|M-SEARCH) "
)
_HTTP_METHOD: Final = re.compile(_METHODS)
_HTTP_REQUEST: Final = re.compile(_METHODS + rb"\S+ HTTP/1\.[019]\r?\n")
# Bytes a client may send before its first request line: a keep-alive byte, a stray CRLF.
_HTTP_SLACK: Final = 16
_HTTP_STATUS: Final = re.compile(rb"HTTP/1\.[019] \d{3}[ \r\n]")
_HOST: Final = re.compile(rb"\r?\nhost:[ \t]*([^\r\n]{1,255})", re.IGNORECASE)
_SSH: Final = re.compile(rb"SSH-(\d\.\d+)-([\x21-\x7e]{1,64})")
_H2_PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_TLS_HANDSHAKE: Final = 0x16
_CLIENT_HELLO: Final = 1
_SNI: Final = 0
_ALPN: Final = 16
# Mail and file-transfer banners: (server's first line, client's first word) -> name.
_SERVER_BANNERS: Final = (
    (re.compile(rb"220[ -][^\r\n]*\b(?:E?SMTP|Postfix|Exim|Sendmail|mail)\b", re.IGNORECASE), "SMTP"),
    (re.compile(rb"220[ -][^\r\n]*\bFTP\b", re.IGNORECASE), "FTP"),
    (re.compile(rb"\+OK\b"), "POP3"),
    (re.compile(rb"\* (?:OK|PREAUTH)\b"), "IMAP"),
    (re.compile(rb":[\x21-\x7e]+ (?:NOTICE|\d{3}) "), "IRC"),
)
_CLIENT_WORDS: Final = (
    (re.compile(rb"(?:EHLO|HELO) ", re.IGNORECASE), "SMTP"),
    (re.compile(rb"(?:NICK|PASS|CAP LS)\b|USER \S+ \S+ \S+ :"), "IRC"),  # before FTP's USER
    (re.compile(rb"(?:USER|AUTH TLS|FEAT)\b", re.IGNORECASE), "FTP"),
    (re.compile(rb"[A-Za-z0-9.]{1,16} (?:CAPABILITY|LOGIN|STARTTLS)\b", re.IGNORECASE), "IMAP"),
)


def application_name(client: bytes, server: bytes) -> str:
    """The application of a session whose client began with ``client`` and server with
    ``server`` (either may be empty); empty when neither is recognised."""
    if client.startswith(_H2_PREFACE[: len(client)]) and len(client) >= 8:
        return "HTTP/2"
    tls = client_hello(client)
    if tls is not None:
        sni, alpn = tls
        name = f"TLS {sni}" if sni else "TLS"
        return f"{name} ({alpn})" if alpn else name
    ssh = _SSH.match(server) or _SSH.match(client)
    if ssh:
        return f"SSH {_text(ssh.group(2))}"
    method = _HTTP_METHOD.search(client, 0, _HTTP_SLACK + 16)
    request = (
        _HTTP_REQUEST.match(client, method.start()) if method and method.start() <= _HTTP_SLACK else None
    )
    if request is not None:
        head_end = client.find(b"\r\n\r\n", request.start())
        host = _HOST.search(client, request.start(), head_end if head_end >= 0 else len(client))
        return f"HTTP {_text(host.group(1)).strip()}" if host else "HTTP"
    if _HTTP_STATUS.match(server) or _HTTP_STATUS.match(client):
        return "HTTP"
    for pattern, name in _SERVER_BANNERS:
        if pattern.match(server):
            return name
    for pattern, name in _CLIENT_WORDS:
        if pattern.match(client):
            return name
    return ""


def client_hello(data: bytes) -> tuple[str, str] | None:
    """``(server name, first ALPN protocol)`` of a TLS ClientHello at the start of ``data``
    (either may be empty: a hello without them, or cut off before them); None when
    ``data`` does not start with one.

    Only the first record is read; a hello longer than it (rare: a record holds
    16 kB) is read as far as the record goes.
    """
    if len(data) < 9 or data[0] != _TLS_HANDSHAKE or data[1] != 3 or data[5] != _CLIENT_HELLO:
        return None
    record = data[5 : 5 + int.from_bytes(data[3:5], "big")]
    # handshake header (4), client version (2), random (32), then the session id
    at = 4 + 2 + 32
    at = _skip(record, at, 1)  # session id
    at = _skip(record, at, 2)  # cipher suites
    at = _skip(record, at, 1)  # compression methods
    if at < 0 or at + 2 > len(record):
        return "", ""
    end = min(len(record), at + 2 + int.from_bytes(record[at : at + 2], "big"))
    at += 2
    sni = alpn = ""
    while at + 4 <= end:
        kind, size = (
            int.from_bytes(record[at : at + 2], "big"),
            int.from_bytes(record[at + 2 : at + 4], "big"),
        )
        body = record[at + 4 : at + 4 + size]
        if kind == _SNI:
            sni = _server_name(body)
        elif kind == _ALPN:
            alpn = _first_protocol(body)
        at += 4 + size
    return sni, alpn


def _skip(record: bytes, at: int, width: int) -> int:
    """Past a vector whose length takes ``width`` bytes at ``at``; -1 if it runs out."""
    if at < 0 or at + width > len(record):
        return -1
    return at + width + int.from_bytes(record[at : at + width], "big")


def _server_name(body: bytes) -> str:
    """The host name of a server_name extension (list length, type 0, name length, name)."""
    if len(body) < 5 or body[2] != 0:
        return ""
    size = int.from_bytes(body[3:5], "big")
    return _text(body[5 : 5 + size])


def _first_protocol(body: bytes) -> str:
    """The first protocol an ALPN extension offers (list length, then length-prefixed names)."""
    if len(body) < 3:
        return ""
    return _text(body[3 : 3 + body[2]])


def _text(raw: bytes) -> str:
    """Printable ASCII of a name a peer sent (anything else escaped, never trusted)."""
    return raw.decode("ascii", "backslashreplace").translate(_CONTROLS)


_CONTROLS: Final = {c: "?" for c in (*range(32), 127)}

__all__ = ["HEAD_BYTES", "application_name", "client_hello"]
