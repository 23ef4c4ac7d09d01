"""The session filter: exact address semantics, the display-filter forms, payload phrases.

Every mask is checked against a reference computed another way: Python's
``ipaddress`` and plain comparisons on the replayed sessions (``TcpSession``),
and the bytes of their monologues.  The capture is made here, with addresses
that share prefixes (``10.1.1.6`` / ``10.1.1.60``), IPv6, VLANs and payload.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import numpy as np
import pytest

from monoview.core.document import CaptureDocument
from monoview.core.flows.columns import SessionColumns
from monoview.core.flows.query import Phrase, QueryError, parse_query
from monoview.core.tcp.session import TcpSession
from tests.conftest import CAPTURES
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import Conversation, write_pcap

ENDPOINTS = [
    (("10.1.1.6", 40001), ("10.9.0.1", 80), (), b"GET /index.html HTTP/1.1\r\nHost: alpha\r\n\r\n"),
    (("10.1.1.60", 40002), ("10.9.0.1", 80), (), b"GET /Other HTTP/1.1\r\nHost: beta\r\n\r\n"),
    (("10.1.1.61", 40003), ("10.9.0.2", 443), (7,), b"\x16\x03\x01 hello"),
    (("10.1.2.6", 51000), ("10.9.0.1", 8080), (7, 100), b"POST /x HTTP/1.1\r\n\r\nbody"),
    (("2001:db8::6", 40005), ("2001:db8::80", 80), (), b"GET /v6 HTTP/1.1\r\nHost: alpha\r\n\r\n"),
    (("10.9.0.1", 80), ("10.1.1.6", 40006), (), b"SSH-2.0-test"),  # 10.1.1.6 as the server
]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    frames = []
    for k, (client, server, vlans, payload) in enumerate(ENDPOINTS):
        conv = Conversation(
            client=client, server=server, vlans=vlans, start_ns=1_700_000_000_000_000_000 + k * 10**9
        )
        conv.handshake().send(True, payload).send(False, b"HTTP/1.1 200 OK\r\n\r\nreply " + bytes([65 + k]))
        frames.extend(conv.close().frames)
    path = write_pcap(tmp_path_factory.mktemp("query") / "query.pcap", sorted(frames, key=lambda f: f.ts_ns))
    with CaptureDocument(path, workers=1) as doc:
        yield doc


def _sessions(document: CaptureDocument) -> list[TcpSession]:
    return [document.conversation(i) for i in range(1, len(document) + 1)]


def _payload(sessions: list[TcpSession]) -> Callable[[Phrase], np.ndarray]:
    return lambda phrase: np.array([any(phrase.found_in(m.data()) for m in s.monologues) for s in sessions])


def _shown(document: CaptureDocument, text: str) -> list[int]:
    query = parse_query(text)
    assert query is not None
    columns = SessionColumns(document.rows, document.flows)
    mask = query.mask(columns, _payload(_sessions(document)))
    return (np.flatnonzero(mask) + 1).tolist()


def _where(document: CaptureDocument, test: Callable[[TcpSession], bool]) -> list[int]:
    return [s.id for s in _sessions(document) if test(s)]


def _in(endpoint_ip: bytes, network: str) -> bool:
    return ipaddress.ip_address(endpoint_ip) in ipaddress.ip_network(network, strict=False)


def test_an_address_matches_exactly_on_either_side(document: CaptureDocument) -> None:
    ip = ipaddress.ip_address("10.1.1.6").packed
    expected = _where(document, lambda s: ip in (s.client.ip, s.server.ip))
    assert len(expected) == 2  # 10.1.1.60 and 10.1.1.61 are not 10.1.1.6
    assert _shown(document, "10.1.1.6") == expected
    assert _shown(document, "ip.addr == 10.1.1.6") == expected
    assert _shown(document, "ip.addr eq 10.1.1.6") == expected


def test_networks_sides_and_negation(document: CaptureDocument) -> None:
    assert _shown(document, "10.1.1.0/24") == _where(
        document, lambda s: _in(s.client.ip, "10.1.1.0/24") or _in(s.server.ip, "10.1.1.0/24")
    )
    assert _shown(document, "ip.src == 10.1.1.6") == _where(
        document, lambda s: s.client.ip == bytes([10, 1, 1, 6])
    )
    assert _shown(document, "ip.dst == 10.1.1.6") == _where(
        document, lambda s: s.server.ip == bytes([10, 1, 1, 6])
    )
    every = _where(document, lambda s: True)
    matched = set(_shown(document, "ip.addr == 10.1.1.6"))
    assert _shown(document, "ip.addr != 10.1.1.6") == [i for i in every if i not in matched]
    assert _shown(document, "!10.1.1.6") == [i for i in every if i not in matched]
    v6 = ipaddress.ip_address("2001:db8::6").packed
    assert _shown(document, "ipv6.addr == 2001:db8::6") == _where(
        document, lambda s: v6 in (s.client.ip, s.server.ip)
    )
    assert _shown(document, "[2001:db8::6]:40005") == _where(document, lambda s: s.client == (v6, 40005))


def test_ports_endpoints_streams_and_ids(document: CaptureDocument) -> None:
    http = _where(document, lambda s: 80 in (s.client.port, s.server.port))
    assert _shown(document, ":80") == http
    assert _shown(document, "80") == http
    assert _shown(document, "tcp.port == 80") == http
    assert _shown(document, "tcp.dstport == 443") == _where(document, lambda s: s.server.port == 443)
    assert _shown(document, "tcp.srcport >= 40003") == _where(document, lambda s: s.client.port >= 40003)
    assert _shown(document, "tcp.port != 80") == _where(
        document, lambda s: 80 not in (s.client.port, s.server.port)
    )
    assert _shown(document, "10.1.1.6:40001") == _where(
        document, lambda s: (bytes([10, 1, 1, 6]), 40001) in (tuple(s.client), tuple(s.server))
    )
    assert _shown(document, "tcp.stream == 2") == [3]  # Wireshark's index counts from 0
    assert _shown(document, "#4") == [4]


def test_vlans(document: CaptureDocument) -> None:
    assert _shown(document, "vlan.id == 7") == _where(document, lambda s: 7 in s.context)
    assert _shown(document, "vlan.id == 100") == _where(document, lambda s: 100 in s.context)
    assert _shown(document, "vlan.id != 7") == _where(document, lambda s: 7 not in s.context)


def test_payload_phrases_and_logic(document: CaptureDocument) -> None:
    def has(text: bytes, case: bool = False) -> Callable[[TcpSession], bool]:
        if case:
            return lambda s: any(text in m.data() for m in s.monologues)
        return lambda s: any(text.lower() in m.data().lower() for m in s.monologues)

    assert _shown(document, "post") == _where(document, has(b"POST"))
    assert _shown(document, '"host: alpha"') == _where(document, has(b"Host: alpha"))
    assert _shown(document, 'frame contains "other"') == _where(document, has(b"other", case=True))
    assert _shown(document, 'frame contains "Other"') == _where(document, has(b"Other", case=True))
    alpha = set(_where(document, has(b"host: alpha")))
    http = set(_where(document, lambda s: 80 in (s.client.port, s.server.port)))
    assert _shown(document, '"host: alpha" && !tcp.port == 80') == sorted(alpha - http)
    assert _shown(document, "(10.1.1.6 || 10.1.1.60) and tcp.port == 80") == _where(
        document,
        lambda s: (
            bool({s.client.ip, s.server.ip} & {bytes([10, 1, 1, 6]), bytes([10, 1, 1, 60])})
            and 80 in (s.client.port, s.server.port)
        ),
    )
    assert _shown(document, "10.9.0.1 get") == _where(  # terms side by side must all match
        document, lambda s: bytes([10, 9, 0, 1]) in (s.client.ip, s.server.ip) and has(b"get")(s)
    )


def test_payload_is_only_read_where_it_can_change_the_answer(document: CaptureDocument) -> None:
    columns = SessionColumns(document.rows, document.flows)
    query = parse_query("tcp.port == 443 || post")
    assert query is not None
    decided, answer = query.decided(columns)
    https = np.array([s.server.port == 443 for s in _sessions(document)])
    assert decided.tolist() == https.tolist()  # only the non-443 sessions need their bytes
    assert answer[decided].all()
    query = parse_query("tcp.port == 443")
    assert query is not None and query.decided(columns)[0].all() and not query.phrases


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("http.host == x", "http.host"),
        ("ip.addr == 10.1.1", "not an IP address"),
        ("tcp.port == eighty", "needs a number"),
        ("(10.1.1.6", "not closed"),
        ("10.1.1.6 &&", "ends too early"),
        ("ip.addr", "needs a comparison"),
        ('tcp.flags contains "x"', "frame contains"),
        ("ip.addr > 10.1.1.6", "== or !="),
    ],
)
def test_what_is_not_understood_is_said(text: str, says: str) -> None:
    with pytest.raises(QueryError, match=says) as raised:
        parse_query(text)
    message = str(raised.value)
    assert message.endswith(".") and len(message.splitlines()) == 1


def test_empty_text_is_no_filter() -> None:
    assert parse_query("   ") is None


@pytest.mark.skipif(not CAPTURES.exists(), reason="the shared captures are not beside the checkout")
def test_stream_numbers_are_tsharks_where_the_sessions_agree() -> None:
    import json

    checked = 0
    for path in CAPTURE_FILES:
        oracle_path = path.with_name(path.name.rsplit(".", 1)[0] + ".oracle.json")
        if not oracle_path.exists():
            continue
        streams = json.loads(oracle_path.read_text())["streams"]
        with CaptureDocument(path, workers=1) as document:
            if len(document) != len(streams) or not streams:
                continue  # the known differences split sessions another way (captures/README.md)
            columns = SessionColumns(document.rows, document.flows)
            for stream in streams[:5]:
                query = parse_query(f"tcp.stream == {stream['tshark_stream']}")
                assert query is not None
                (number,) = np.flatnonzero(
                    query.mask(columns, lambda _p: np.zeros(len(document), dtype=bool))
                )
                ends = {columns.endpoint(int(number), side).port for side in (True, False)}
                assert ends == {stream["client"]["port"], stream["server"]["port"]}, path.name
                assert int(document.rows["packets"][number]) == stream["packets"], path.name
                checked += 1
    assert checked > 20
