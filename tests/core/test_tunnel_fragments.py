"""TCP in a tunnel whose own datagrams were fragmented on the way, as tshark reassembles it.

A GTP-U or ERSPAN link fragments its 1,500-byte user packets all the time (the
tunnel's headers make them too big for the path): tshark reassembles the outer
datagram and decodes the tunnel inside it (``zeek_tunnels-gtp-*``, ``zeek_erspan``
of the widened corpus).  Each case here takes one HTTP exchange through one
encapsulation (``tests/encapgen.py``), then cuts every outer IPv4 packet into
24-byte fragments, so the tunnel's header, the inner IP and TCP headers straddle
fragments, sent last first (and the last twice).  tshark must find the inner stream's
bytes in them (so the frames are known to be right); the per-packet analysis, the
document (whole, and in ranges) and the scanner must all find the one session,
its bytes and its outer path.

A GTP-U datagram may also hold less of its user packet than the packet's IP length
says: tshark decodes the bytes it holds ("IPv4 total length exceeds packet length"),
and so does monoview, counting the packet as cut.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.document import CaptureDocument
from monoview.core.streambytes import direction_bytes
from tests.core.test_fragments import fragment_ipv4
from tests.core.test_outer_path import OUTER, _everywhere
from tests.core.test_readers import REQUEST, RESPONSE, check, conversation
from tests.core.test_scan import _compare
from tests.core.test_tunnels import TSHARK, tshark_payloads
from tests.encapgen import ENCAPSULATIONS, IPV4, ether, over_udp
from tests.pcapgen import Frame, pcap_bytes

# (encapsulation, the outer path it gives)
CASES = {
    "gtp-u": "GTP-U",
    "gtp-u-extension": "GTP-U",
    "erspan-ii": "ERSPAN",
    "erspan-iii": "ERSPAN",
    "gre-checksum-key-seq": "GRE",
    "geneve-ethernet": "Geneve",
    "vxlan-gpe-ip": "VXLAN-GPE",
    "l2tp-v2": "L2TP",
    "mpls-udp": "MPLS-in-UDP",
    "etherip": "EtherIP",
    "mpls-in-ip": "MPLS-in-IP",
}


def fragmented(tmp_path: Path, wrap: Callable[[bytes], bytes]) -> Path:
    """Every frame's outer IPv4 packet in 24-byte fragments, last first, and that one twice."""
    frames = []
    for ident, f in enumerate(conversation().frames):
        outer = wrap(f.data[14:])
        assert struct.unpack(">H", outer[12:14])[0] == IPV4
        pieces = fragment_ipv4(outer[14:], 24, ident)[::-1]
        for piece in [pieces[0], *pieces]:
            frames.append(Frame(f.ts_ns, ether(IPV4, piece)))
    path = tmp_path / "tunnel-fragments.pcap"
    path.write_bytes(pcap_bytes(frames))
    return path


def assert_the_whole_conversation(path: Path) -> None:
    """tshark (where installed), the per-packet analysis and the document all find the one
    conversation of ``path`` whole: its bytes, every packet, no fragment left over."""
    conv = conversation()
    if TSHARK:
        assert tshark_payloads(path) == {("0", conv.client[1]): REQUEST, ("0", conv.server[1]): RESPONSE}
    check(path, conv)
    with CaptureDocument(path, workers=1) as document:
        (session,) = document.conversations()
        assert direction_bytes(session, "c2s") == REQUEST
        assert direction_bytes(session, "s2c") == RESPONSE
        assert document.stats.tcp_packets == len(conv.frames)
        assert document.stats.incomplete_fragments == 0


@pytest.mark.parametrize("case", sorted(CASES))
def test_tcp_in_a_fragmented_tunnel_datagram_is_found(tmp_path: Path, case: str) -> None:
    path = fragmented(tmp_path, ENCAPSULATIONS[case])
    assert_the_whole_conversation(path)
    assert _everywhere(path) == [[(f"{CASES[case]} {OUTER}",)]]


def test_a_fragmented_udp_datagram_that_is_no_tunnel_is_not_tcp(tmp_path: Path) -> None:
    """A big datagram to port 2152 that is not GTP-U: reassembled, nothing in it, nothing left."""
    frames = [
        Frame(1_000_000_000, ether(IPV4, p)) for p in fragment_ipv4(over_udp(2152, b"\x00" * 3000)[14:], 1480)
    ]
    path = tmp_path / "udp-fragments.pcap"
    path.write_bytes(pcap_bytes(frames))
    with CaptureDocument(path, workers=1) as document:
        assert document.sessions == []
        assert document.stats.incomplete_fragments == 0
    assert analyse(path).stats.incomplete_fragments == 0
    _compare(path.read_bytes(), path.name)


def _gtp_u_holding(ip: bytes, held: int) -> bytes:
    """A GTP-U G-PDU whose datagram holds only the user packet's first ``held`` bytes."""
    body = ip[:held]
    return over_udp(2152, struct.pack(">BBHI", 0x30, 0xFF, len(body), 0x1234) + body, sport=2152)


def test_a_user_packet_longer_than_its_gtp_datagram_is_decoded_cut(tmp_path: Path) -> None:
    """The response's first data segment cut after 10 of its 40 bytes by the tunnel: tshark
    decodes those 10 bytes (and then the rest of the response after the hole), and so does
    monoview, counting one cut packet; before, the segment was taken for plain UDP."""
    conv = conversation()
    first_response = next(
        i for i, f in enumerate(conv.frames) if f.data[34:36] == b"\x00\x50" and len(f.data) > 54 + 12
    )
    frames = []
    for i, f in enumerate(conv.frames):
        ip = f.data[14:]
        held = len(ip) - 30 if i == first_response else len(ip)
        frames.append(Frame(f.ts_ns, _gtp_u_holding(ip, held)))
    path = tmp_path / "gtp-cut.pcap"
    path.write_bytes(pcap_bytes(frames))
    if TSHARK:
        payloads = tshark_payloads(path)
        assert payloads[("0", conv.server[1])] == RESPONSE[:10] + RESPONSE[40:]
    with CaptureDocument(path, workers=1) as document:
        (session,) = document.conversations()
        assert document.stats.tcp_packets == len(conv.frames)
        assert document.stats.cut == 1
        s2c = direction_bytes(session, "s2c")
        assert s2c == RESPONSE[:10] + RESPONSE[40:]  # the 30 bytes never seen are not made up
    assert _compare(path.read_bytes(), path.name) == len(conv.frames)
