"""A connection whose two directions carry different VLAN tags is one session.

Found on suricata-verify's ``bug-4376`` capture (the issue took it for a SYN
retransmitted with the same ISN splitting the connection): the client's
packets are tagged VLAN 3136, the server's are not, so keyed by endpoints and
VLAN the request and the response became two one-way sessions.  tshark, which
ignores VLANs, has one stream.  The same endpoints in two VLANs that each
carry both directions stay two sessions (zeek's vlan-collisions, in
test_known_differences.py).  Both session paths must agree, whatever the split.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.executor import local_executor
from monoview.core.export import Exporter, ExportOptions
from monoview.core.streambytes import direction_bytes
from tests.pcapgen import SYN, Conversation, Frame, ethernet, tcp_ip, write_pcap

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + b"r" * 5000


def _tagged_one_way(conversation: Conversation, vlan_of_client: tuple[int, ...]) -> list[Frame]:
    """The conversation's frames with the client's packets in ``vlan_of_client``, the server's untagged."""
    client_ip = bytes(int(x) for x in conversation.client[0].split("."))
    out = []
    for frame in conversation.frames:
        ip = frame.data[14:]
        if ip[12:16] == client_ip:
            frame = Frame(frame.ts_ns, ethernet(ip, vlan_of_client))
        out.append(frame)
    return out


def _retransmitted_syn_conversation() -> Conversation:
    """bug-4376's shape: a SYN unanswered, the same SYN a second later, then the exchange."""
    c = Conversation()
    c._frame(tcp_ip(c.client, c.server, c.client_isn, 0, SYN))
    c._t += 1_000_000_000
    c.handshake().send(True, REQUEST).send(False, RESPONSE).close()
    return c


def _describe(source: object) -> dict[str, object]:
    options = ExportOptions(directions=False, monologues=False, transcript=False)
    return Exporter(source, "unused", options).describe()  # type: ignore[arg-type]


@pytest.fixture
def one_way_vlan(tmp_path: Path) -> Path:
    return write_pcap(tmp_path / "oneway.pcap", _tagged_one_way(_retransmitted_syn_conversation(), (3136,)))


def test_directions_in_different_vlans_are_one_session(one_way_vlan: Path) -> None:
    (session,) = analyse(one_way_vlan).sessions
    assert session.context == (3136,)  # the first packet's
    assert session.handshake and session.state == "closed"
    assert direction_bytes(session, "c2s") == REQUEST
    assert direction_bytes(session, "s2c") == RESPONSE
    assert session.packets == len(_retransmitted_syn_conversation().frames)


def test_the_document_joins_them_whatever_the_split(one_way_vlan: Path) -> None:
    reference = _describe(analyse(one_way_vlan))
    size = one_way_vlan.stat().st_size
    for workers, min_range, batch in ((1, 1 << 40, 8192), (2, size // 5, 3), (2, 1, 1)):
        with local_executor(workers) as pool:
            document = CaptureDocument(
                one_way_vlan, workers=workers, executor=pool, min_range=min_range, batch=batch
            )
        assert len(document.rows) == 1
        assert _describe(document) == reference
        document.close()


def test_vlans_that_each_carry_both_ways_stay_apart(tmp_path: Path) -> None:
    """The same connection in VLAN 10 and in VLAN 20 (a router seen on both legs): two sessions."""
    frames = []
    for vlan in (10, 20):
        c = Conversation(vlans=(vlan,), start_ns=1_700_000_000_000_000_000 + vlan)
        frames += c.handshake().send(True, REQUEST).send(False, RESPONSE).close().frames
    path = write_pcap(tmp_path / "twolegs.pcap", sorted(frames, key=lambda f: f.ts_ns))
    sessions = analyse(path).sessions
    assert sorted(s.context for s in sessions) == [(10,), (20,)]
    assert all(direction_bytes(s, "s2c") == RESPONSE for s in sessions)
    assert _describe(CaptureDocument(path, workers=1)) == _describe(analyse(path))


def test_one_way_flows_going_the_same_way_stay_apart(tmp_path: Path) -> None:
    """Client packets in VLAN 5 and again in VLAN 6, no answer in either: nothing answers anything."""
    c = Conversation()
    c.handshake().send(True, REQUEST)
    client_only = [f for f in c.frames if f.data[14 + 12 : 14 + 16] == bytes([10, 0, 0, 1])]
    frames = [Frame(f.ts_ns, ethernet(f.data[14:], (5,))) for f in client_only]
    frames += [Frame(f.ts_ns + 1, ethernet(f.data[14:], (6,))) for f in client_only]
    path = write_pcap(tmp_path / "sameway.pcap", sorted(frames, key=lambda f: f.ts_ns))
    assert sorted(s.context for s in analyse(path).sessions) == [(5,), (6,)]
    assert _describe(CaptureDocument(path, workers=1)) == _describe(analyse(path))
