"""Capture formats and link types: the same conversation, framed every way we read.

Each case writes a capture with pcapgen, reads it back through the whole
pipeline and checks that the conversation's bytes, times and endpoints come
out unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from monoview.core.analyse import analyse
from monoview.core.streambytes import direction_bytes
from tests.pcapgen import Conversation, Frame, pcap_bytes, pcapng_bytes

REQUEST = b"GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" * 3


def conversation(**kwargs: object) -> Conversation:
    conv = Conversation(**kwargs)  # type: ignore[arg-type]
    conv.handshake().send(True, REQUEST).send(False, RESPONSE, mss=40).close()
    return conv


def reframe(frames: list[Frame], wrap: Callable[[bytes], bytes]) -> list[Frame]:
    """Replace each Ethernet frame by ``wrap(ip_packet)``."""
    out = []
    for f in frames:
        ip_packet = f.data[14:]
        out.append(Frame(f.ts_ns, wrap(ip_packet), interface=f.interface))
    return out


def check(path: Path, conv: Conversation) -> None:
    analysis = analyse(path)
    assert analysis.read_error is None
    (session,) = analysis.sessions
    assert direction_bytes(session, "c2s") == REQUEST
    assert direction_bytes(session, "s2c") == RESPONSE
    assert str(session.client) in (
        f"{conv.client[0]}:{conv.client[1]}",
        f"[{conv.client[0]}]:{conv.client[1]}",
    )
    assert session.first_ts_ns == conv.frames[0].ts_ns
    assert session.handshake and session.state == "closed"
    assert [m.direction for m in session.monologues] == ["c2s", "s2c"]


def _af(family: int, order: str) -> Callable[[bytes], bytes]:
    return lambda ip: struct.pack(order + "I", family) + ip


def _eth_type(ip: bytes) -> int:
    return 0x86DD if ip[0] >> 4 == 6 else 0x0800


def _dot11(ip: bytes, qos: bool = False) -> bytes:
    """An unprotected 802.11 data frame (to the AP) carrying ``ip`` in LLC/SNAP."""
    fc = bytes([0x88 if qos else 0x08, 0x01])
    header = fc + b"\x00\x00" + b"\x02" * 6 + b"\x04" * 6 + b"\x06" * 6 + b"\x10\x00"
    if qos:
        header += b"\x00\x00"
    return header + b"\xaa\xaa\x03\x00\x00\x00" + struct.pack(">H", _eth_type(ip)) + ip


def _nflog(ip: bytes) -> bytes:
    """NFLOG: header, a packet-header TLV, then the payload TLV (little-endian lengths)."""
    hdr_tlv = struct.pack("<HH", 8, 1) + b"\x08\x00\x01\x00"
    payload = struct.pack("<HH", 4 + len(ip), 9) + ip
    return bytes([2, 0, 0, 0]) + hdr_tlv + payload + b"\x00" * (-len(payload) % 4)


LINK_TYPES: dict[str, tuple[int, Callable[[bytes], bytes]]] = {
    "ieee802_11": (105, _dot11),
    "ieee802_11-qos": (105, lambda ip: _dot11(ip, qos=True)),
    "radiotap": (127, lambda ip: b"\x00\x00" + struct.pack("<H", 12) + b"\x00" * 8 + _dot11(ip)),
    "ppi": (192, lambda ip: struct.pack("<BBHI", 0, 0, 8, 105) + _dot11(ip)),
    "pflog": (117, lambda ip: bytes([61, 2]) + b"\x00" * 62 + ip),
    "enc": (109, lambda ip: struct.pack("<III", 2, 0, 0) + ip),
    "nflog": (239, _nflog),
    "raw-101": (101, lambda ip: ip),
    "raw-12": (12, lambda ip: ip),
    "raw-14": (14, lambda ip: ip),
    "ipv4-228": (228, lambda ip: ip),
    "null-le": (0, _af(2, "<")),
    "null-be": (0, _af(2, ">")),
    "loop": (108, _af(2, ">")),
    "sll": (113, lambda ip: struct.pack(">HHH8sH", 0, 1, 6, b"\x00" * 8, _eth_type(ip)) + ip),
    "sll2": (276, lambda ip: struct.pack(">HHIHBB8s", _eth_type(ip), 0, 3, 1, 0, 6, b"\x00" * 8) + ip),
    "chdlc": (104, lambda ip: struct.pack(">BBH", 0x0F, 0, _eth_type(ip)) + ip),
    "ppp": (9, lambda ip: b"\xff\x03\x00\x21" + ip),
    "ppp-mpls": (9, lambda ip: b"\xff\x03\x02\x81" + struct.pack(">I", (16 << 12) | 0x100 | 64) + ip),
    "pppoe": (
        1,
        lambda ip: (
            b"\x00" * 12 + b"\x88\x64" + struct.pack(">BBHH", 0x11, 0, 1, len(ip) + 2) + b"\x00\x21" + ip
        ),
    ),
    "mpls": (1, lambda ip: b"\x00" * 12 + b"\x88\x47" + struct.pack(">I", (16 << 12) | 0x100 | 64) + ip),
}


@pytest.mark.parametrize("name", sorted(LINK_TYPES))
def test_link_types(tmp_path: Path, name: str) -> None:
    linktype, wrap = LINK_TYPES[name]
    conv = conversation()
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(reframe(conv.frames, wrap), linktype=linktype))
    check(path, conv)


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("nanos", [False, True])
def test_pcap_byte_orders_and_resolutions(tmp_path: Path, big_endian: bool, nanos: bool) -> None:
    start, step = (1_700_000_000_123_456_789, 1_001) if nanos else (1_700_000_000_123_456_000, 1_001_000)
    conv = conversation(start_ns=start, step_ns=step)
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(conv.frames, nanos=nanos, big_endian=big_endian))
    check(path, conv)


def _outer(proto: int, prefix: bytes = b"") -> Callable[[bytes], bytes]:
    """Wrap an IP packet in an outer IPv4 packet of protocol ``proto`` (after ``prefix``)."""
    import dpkt

    def wrap(ip: bytes) -> bytes:
        outer = dpkt.ip.IP(
            src=b"\xc0\x00\x02\x01", dst=b"\xc0\x00\x02\x02", p=proto, ttl=64, data=prefix + ip
        )
        outer.len = 20 + len(prefix) + len(ip)
        return bytes(outer)

    return wrap


def _vxlan(ip: bytes) -> bytes:
    inner = b"\x00" * 12 + struct.pack(">H", _eth_type(ip)) + ip
    udp = struct.pack(">HHHH", 50000, 4789, 16 + len(inner), 0) + b"\x08\x00\x00\x00\x00\x00\x01\x00"
    return _outer(17, udp)(inner)


TUNNELS: dict[str, Callable[[bytes], bytes]] = {
    "ipip": _outer(4),
    "gre": _outer(47, struct.pack(">HH", 0, 0x0800)),
    "gre-key-seq": _outer(47, struct.pack(">HHII", 0x3000, 0x0800, 7, 1)),
    "gre-ethernet": lambda ip: _outer(47, struct.pack(">HH", 0, 0x6558))(b"\x00" * 12 + b"\x08\x00" + ip),
    "gre-pptp-ppp": _outer(47, struct.pack(">HHHHI", 0x3001, 0x880B, 0, 0, 1) + b"\xff\x03\x00\x21"),
    "vxlan": _vxlan,
}


@pytest.mark.parametrize("name", sorted(TUNNELS))
def test_tunnels(tmp_path: Path, name: str) -> None:
    """TCP inside IP-in-IP, GRE (with options, bridged Ethernet, PPTP) and VXLAN."""
    conv = conversation()
    path = tmp_path / "t.pcap"
    path.write_bytes(pcap_bytes(reframe(conv.frames, TUNNELS[name]), linktype=101))
    check(path, conv)


def test_ipv6_in_ipv4(tmp_path: Path) -> None:
    conv = conversation(client=("fd00::1", 40000), server=("fd00::2", 80))
    path = tmp_path / "t.pcap"
    path.write_bytes(pcap_bytes(reframe(conv.frames, _outer(41)), linktype=101))
    check(path, conv)


@pytest.mark.parametrize("big_endian", [False, True])
def test_modified_pcap(tmp_path: Path, big_endian: bool) -> None:
    """Kuznetsov's patched libpcap: 24-byte record headers."""
    conv = conversation(step_ns=1_000_000)
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(conv.frames, big_endian=big_endian, modified=True))
    check(path, conv)


@pytest.mark.parametrize("vlans", [(42,), (10, 20)])
def test_vlan_tags(tmp_path: Path, vlans: tuple[int, ...]) -> None:
    conv = conversation(vlans=vlans)
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(conv.frames))
    check(path, conv)
    assert analyse(path).sessions[0].context == vlans


def test_ipv6(tmp_path: Path) -> None:
    conv = conversation(client=("fd00::1", 40000), server=("fd00::2", 80))
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(conv.frames))
    check(path, conv)
    assert str(analyse(path).sessions[0].server) == "[fd00::2]:80"


def _with_ipv6_extensions(ip: bytes) -> bytes:
    """Insert hop-by-hop and destination-options headers before TCP."""
    plen, nxt = struct.unpack_from(">HB", ip, 4)
    hop = bytes([60, 0]) + b"\x01\x04\x00\x00\x00\x00"  # next: dest options; PadN
    dst = bytes([nxt, 0]) + b"\x01\x04\x00\x00\x00\x00"
    header = ip[:4] + struct.pack(">HB", plen + 16, 0) + ip[7:40]
    return header + hop + dst + ip[40:]


def _with_ipv4_options(ip: bytes) -> bytes:
    """Add 4 bytes of options (NOPs and an end marker) to an IPv4 header."""
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack_from(">H", ip, 2)[0] + 4
    return bytes([0x46]) + ip[1:2] + struct.pack(">H", total) + ip[4:ihl] + b"\x01\x01\x01\x00" + ip[ihl:]


def test_ipv6_extension_headers(tmp_path: Path) -> None:
    conv = conversation(client=("fd00::1", 40000), server=("fd00::2", 80))
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(reframe(conv.frames, _with_ipv6_extensions), linktype=101))
    check(path, conv)


def test_ipv4_options(tmp_path: Path) -> None:
    conv = conversation()
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(reframe(conv.frames, _with_ipv4_options), linktype=101))
    check(path, conv)


@pytest.mark.parametrize("big_endian", [False, True])
def test_pcapng_sections_and_interfaces(tmp_path: Path, big_endian: bool) -> None:
    """Two sections; interfaces with their own link type and timestamp resolution."""
    first = conversation(start_ns=1_700_000_000_000_000_000)
    second = conversation(client=("10.9.9.9", 5555), start_ns=1_700_000_100_123_456_789)
    raw_frames = reframe(second.frames, lambda ip: ip)
    for f in raw_frames:
        f.interface = 1  # the raw-IP interface, nanosecond resolution
    path = tmp_path / "c.pcapng"
    path.write_bytes(
        pcapng_bytes(
            [
                ([(1, 6)], first.frames),  # Ethernet, microseconds
                ([(1, 6), (101, 9)], raw_frames),  # second section: Ethernet and raw IP (ns)
            ],
            big_endian=big_endian,
        )
    )
    analysis = analyse(path)
    assert analysis.read_error is None
    one, two = analysis.sessions
    assert direction_bytes(one, "s2c") == direction_bytes(two, "s2c") == RESPONSE
    assert one.first_ts_ns == first.frames[0].ts_ns
    assert two.first_ts_ns == second.frames[0].ts_ns  # nanoseconds kept exactly
    assert str(two.client) == "10.9.9.9:5555"


def test_non_tcp_frames_are_counted(tmp_path: Path) -> None:
    conv = conversation()
    arp = Frame(conv.frames[0].ts_ns, b"\xff" * 6 + b"\x00" * 6 + b"\x08\x06" + b"\x00" * 28)
    udp = Frame(conv.frames[0].ts_ns, conv.frames[0].data[:23] + b"\x11" + conv.frames[0].data[24:])
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes([arp, udp, *conv.frames]))
    analysis = analyse(path)
    assert len(analysis.sessions) == 1
    assert analysis.stats.non_tcp == 2
    assert analysis.stats.tcp_packets == len(conv.frames)


def test_unsupported_link_type_is_reported_by_name(tmp_path: Path) -> None:
    conv = conversation()
    path = tmp_path / "c.pcap"
    path.write_bytes(pcap_bytes(conv.frames, linktype=195))
    analysis = analyse(path)
    assert analysis.sessions == []
    assert analysis.stats.unsupported_link_types == {"IEEE802_15_4 (195)": len(conv.frames)}
    assert analysis.stats.warnings() == [
        f"{len(conv.frames)} frames of unsupported link type IEEE802_15_4 (195) were skipped"
    ]


def test_same_conversation_on_two_interfaces(tmp_path: Path) -> None:
    """By default, as Wireshark: one session whose second copies are retransmissions.
    With split_interfaces, one session per interface."""
    from monoview.core.analyse import Analysis
    from monoview.core.tcp.listener import TcpOptions

    conv = conversation()
    copies = [Frame(f.ts_ns + 10, f.data, interface=1) for f in conv.frames]
    frames = sorted([*conv.frames, *copies], key=lambda f: f.ts_ns)
    path = tmp_path / "two.pcapng"
    path.write_bytes(pcapng_bytes([([(1, 6), (1, 6)], frames)]))
    (merged,) = analyse(path).sessions
    assert merged.packets == 2 * len(conv.frames)
    assert direction_bytes(merged, "s2c") == RESPONSE
    split = Analysis(path, TcpOptions(split_interfaces=True)).run_to_end().sessions
    assert len(split) == 2
    assert all(direction_bytes(s, "s2c") == RESPONSE for s in split)
