"""Tunnel and encapsulation headers, built with struct around an inner IP packet.

Each entry of :data:`ENCAPSULATIONS` turns the IP packet of a TCP segment into a
whole Ethernet frame that carries it through one encapsulation, laid out as its
RFC (or the vendor's documentation) says; the tests check that tshark decodes
each of them down to the inner TCP segment, so the frames are known to be right.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import dpkt

MACS = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb"
OUTER_SRC, OUTER_DST = b"\xc0\x00\x02\x01", b"\xc0\x00\x02\x02"
IPV4, IPV6, TEB, MPLS_UNICAST = 0x0800, 0x86DD, 0x6558, 0x8847

Wrap = Callable[[bytes], bytes]


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071), as dpkt computes it for the frames it builds."""
    return int(dpkt.in_cksum(data))


def ipv4(
    proto: int, payload: bytes, options: bytes = b"", src: bytes = OUTER_SRC, dst: bytes = OUTER_DST
) -> bytes:
    """An IPv4 packet of protocol ``proto`` (options padded to 4 bytes), its checksum right."""
    options += b"\x00" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    header = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), 1, 0, 64, proto, 0, src, dst)
    header += options
    return header[:10] + struct.pack(">H", checksum(header)) + header[12:] + payload


def ethertype_of(packet: bytes) -> int:
    return IPV6 if packet[0] >> 4 == 6 else IPV4


def ether(ethertype: int, payload: bytes) -> bytes:
    """An Ethernet II frame."""
    return MACS + struct.pack(">H", ethertype) + payload


def inner_ether(ip: bytes) -> bytes:
    """The Ethernet frame a layer-2 tunnel carries."""
    return ether(ethertype_of(ip), ip)


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    """A UDP header without checksum (allowed over IPv4)."""
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def over_ipv4(proto: int, payload: bytes) -> bytes:
    """An Ethernet frame carrying ``payload`` as IPv4 protocol ``proto``."""
    return ether(IPV4, ipv4(proto, payload))


def over_udp(dport: int, payload: bytes, sport: int = 50000) -> bytes:
    return over_ipv4(17, udp(sport, dport, payload))


def gre(
    ptype: int, payload: bytes, *, key: int | None = None, seq: int | None = None, csum: bool = False
) -> bytes:
    """A GRE (RFC 2784/2890) header: checksum, key and sequence number when given."""
    flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    header = struct.pack(">HH", flags, ptype)
    if csum:
        header += b"\x00\x00\x00\x00"
    if key is not None:
        header += struct.pack(">I", key)
    if seq is not None:
        header += struct.pack(">I", seq)
    if csum:
        total = checksum(header + payload)
        header = header[:4] + struct.pack(">H", total) + header[6:]
    return header + payload


def mpls(payload: bytes, labels: tuple[int, ...] = (16,)) -> bytes:
    """An MPLS label stack, the last entry with bottom-of-stack set."""
    out = b""
    for i, label in enumerate(labels):
        out += struct.pack(">I", label << 12 | (0x100 if i == len(labels) - 1 else 0) | 64)
    return out + payload


def erspan_ii(ip: bytes) -> bytes:
    """ERSPAN type II: GRE with a sequence number, protocol 0x88BE, an 8-byte header (version 1)."""
    header = struct.pack(">HHI", 0x1000 | 10, 0x0000 | 77, 0)  # version 1, VLAN 10; session 77; index 0
    return over_ipv4(47, gre(0x88BE, header + inner_ether(ip), seq=1))


def erspan_i(ip: bytes) -> bytes:
    """ERSPAN type I: GRE without a sequence number, protocol 0x88BE, the mirrored frame at once."""
    return over_ipv4(47, gre(0x88BE, inner_ether(ip)))


def erspan_iii(ip: bytes, subheader: bool = False) -> bytes:
    """ERSPAN type III: GRE protocol 0x22EB, a 12-byte header (version 2), an optional 8-byte subheader."""
    last = 0x01 if subheader else 0x00  # O: the platform-specific subheader follows
    header = struct.pack(">HHIHBB", 0x2000 | 10, 77, 123456, 0, 0, last)
    if subheader:
        header += struct.pack(">II", 3 << 26, 0)  # platform ID 3
    return over_ipv4(47, gre(0x22EB, header + inner_ether(ip), seq=1))


def geneve(ptype: int, payload: bytes, options: bool = True) -> bytes:
    """Geneve (RFC 8926) on UDP 6081; with one 8-byte option when ``options``."""
    option = struct.pack(">HBBI", 0x0103, 0x80, 1, 0xDEADBEEF) if options else b""
    header = struct.pack(">BBHI", len(option) // 4, 0, ptype, 0x123400)
    return over_udp(6081, header + option + payload)


def geneve_gre(ip: bytes) -> bytes:
    """GRE inside Geneve: Geneve carries an Ethernet frame whose IP packet is a GRE tunnel."""
    return geneve(TEB, ether(IPV4, ipv4(47, gre(ethertype_of(ip), ip, key=9))))


def etag(ip: bytes) -> bytes:
    """802.1BR: an 8-byte E-Tag (EtherType 0x893F) before the EtherType."""
    return MACS + struct.pack(">HHHH", 0x893F, 0, 0x1005, 0) + struct.pack(">H", ethertype_of(ip)) + ip


def pbb(ip: bytes) -> bytes:
    """802.1ah provider backbone bridging: B-VLAN, the I-TAG, then the customer's frame (C-VLAN 7)."""
    customer = MACS + struct.pack(">HHH", 0x8100, 7, ethertype_of(ip)) + ip
    return MACS + struct.pack(">HHHI", 0x88A8, 100, 0x88E7, 0x00012345) + customer


def gtp_u(ip: bytes, extension: bool = False) -> bytes:
    """GTP-U version 1 G-PDU on UDP 2152; ``extension``: a sequence number and a PDU session container."""
    if extension:
        optional = struct.pack(">HBB", 7, 0, 0x85) + bytes([1, 0x10, 0x09, 0])
        body = optional + ip
        header = struct.pack(">BBHI", 0x36, 0xFF, len(body), 0x1234)
    else:
        body = ip
        header = struct.pack(">BBHI", 0x30, 0xFF, len(body), 0x1234)
    return over_udp(2152, header + body, sport=2152)


def teredo(ip: bytes) -> bytes:
    """Teredo (RFC 4380): IPv6 in UDP from the server port 3544, with an origin indication."""
    origin = struct.pack(">HH4s", 0x0000, 0xFFFF ^ 40000, b"\x3f\xff\xfd\xfe")
    return over_udp(60000, origin + ip, sport=3544)


def vxlan_gpe(next_protocol: int, payload: bytes) -> bytes:
    """VXLAN-GPE on UDP 4790: flags I and P, the next protocol (1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH, 5 MPLS)."""
    return over_udp(4790, struct.pack(">BHBI", 0x0C, 0, next_protocol, 0x123400) + payload)


def vxlan_gbp_reserved(ip: bytes) -> bytes:
    """VXLAN on UDP 4789 with the group-policy extension (flags G and I, a policy ID) and its
    reserved bits and last byte set, as in suricata-verify's vxlan-non-zero-reserved-fields:
    RFC 7348 has receivers ignore the reserved fields, and tshark reads the Ethernet inside."""
    return over_udp(4789, bytes.fromhex("ff01d20900000b01") + inner_ether(ip))


def nsh(next_protocol: int, payload: bytes, md_type: int = 1) -> bytes:
    """Network service header (RFC 8300): MD type 1 (6 words) or 2 (2 words, no metadata)."""
    words = 6 if md_type == 1 else 2
    header = struct.pack(">BBBBI", 0x0F, 0xC0 | words, md_type, next_protocol, 0x000123FF)
    return header + b"\x00" * (4 * words - 8) + payload


def ip_next(ip: bytes) -> int:
    return 2 if ip[0] >> 4 == 6 else 1


def l2tp_v2(ip: bytes) -> bytes:
    """L2TPv2 data message on UDP 1701 with the length field, then PPP in HDLC-like framing."""
    ppp = b"\xff\x03" + struct.pack(">H", 0x0057 if ip[0] >> 4 == 6 else 0x0021) + ip
    body = struct.pack(">HH", 5, 9) + ppp  # tunnel 5, session 9
    return over_udp(1701, struct.pack(">HH", 0x4002, 4 + len(body)) + body, sport=1701)


def pppoe(payload: bytes, protocol: int, tags: tuple[tuple[int, int], ...] = ()) -> bytes:
    """A PPPoE session frame (after ``tags``, each (TPID, VLAN id)) whose PPP protocol is ``protocol``."""
    stack = b"".join(struct.pack(">HH", tpid, vid) for tpid, vid in tags)
    body = struct.pack(">BBHHH", 0x11, 0, 0x0101, len(payload) + 2, protocol) + payload
    return MACS + stack + struct.pack(">H", 0x8864) + body


def ppp_protocol_of(ip: bytes) -> int:
    return 0x0057 if ip[0] >> 4 == 6 else 0x0021


QINQ = ((0x88A8, 100), (0x8100, 200))


def claiming(ip: bytes, extra: int) -> bytes:
    """``ip`` with a length field claiming ``extra`` bytes more than it holds (IPv4's header
    checksum made right again, so only the length is wrong)."""
    if ip[0] >> 4 == 6:
        return ip[:4] + struct.pack(">H", len(ip) - 40 + extra) + ip[6:]
    header = ip[:2] + struct.pack(">H", len(ip) + extra) + ip[4:10] + b"\x00\x00" + ip[12:20]
    return header[:10] + struct.pack(">H", checksum(header)) + header[12:] + ip[20:]


PADDING = b"\xee" * 20


def pppoe_padded(ip: bytes) -> bytes:
    """PPPoE over QinQ whose IP total length claims 20 bytes more than the PPPoE payload
    holds, the frame padded with 20 bytes after it (as in Zeek's pppoe-over-qinq trace):
    the padding is not the IP packet's."""
    claimed = claiming(ip, len(PADDING))
    return pppoe(claimed, ppp_protocol_of(ip), QINQ) + PADDING


def llc_snap(ip: bytes, oui: bytes = b"\x00\x00\x00", tag: bool = False, pad: int = 0) -> bytes:
    """802.3 with an 802.2 LLC/SNAP header (RFC 1042): a length where the EtherType was, then
    AA AA 03, an organisation code and the EtherType; ``pad`` bytes of padding after it."""
    llc = b"\xaa\xaa\x03" + oui + struct.pack(">H", ethertype_of(ip)) + ip
    vlan = struct.pack(">HH", 0x8100, 30) if tag else b""
    return MACS + vlan + struct.pack(">H", len(llc)) + llc + b"\x00" * pad


def llc_ip_sap(ip: bytes) -> bytes:
    """802.3 with a bare LLC header whose destination SAP is IP's (0x06; the source SAP does
    not matter to tshark): IPv4 at once, no SNAP."""
    llc = b"\x06\x07\x03" + ip
    return MACS + struct.pack(">H", len(llc)) + llc


def fabricpath(ip: bytes, tag: bool = False) -> bytes:
    """Cisco FabricPath: hierarchical addresses, EtherType 0x8903 (after an 802.1ad tag when
    ``tag``) and FTAG/TTL, the original Ethernet frame, the FabricPath FCS last."""
    outer = b"\x02\x00\x0a\x00\x00\x01" + b"\x02\x00\x0b\x00\x00\x02"
    vlan = struct.pack(">HH", 0x88A8, 40) if tag else b""
    return outer + vlan + struct.pack(">HH", 0x8903, 0x0041) + inner_ether(ip) + b"\x12\x34\x56\x78"


def wccp(ip: bytes, version: int = 2) -> bytes:
    """WCCP redirection: GRE protocol 0x883E, with the 4-byte redirect header in version 2."""
    redirect = struct.pack(">BBBB", 0x00, 0x00, 0, 17) if version == 2 else b""
    return over_ipv4(47, gre(0x883E, redirect + ip))


def aruba_gre(ip: bytes) -> bytes:
    """An Aruba access point's tunnel: GRE 0x8200 carrying the client's 802.11 QoS data frame
    (to the distribution system) with LLC/SNAP, as in Zeek's tunnels/gre-aruba trace."""
    header = b"\x88\x01\x00\x00" + b"\x02" * 6 + b"\x04" * 6 + b"\x06" * 6 + b"\x10\x00" + b"\x00\x00"
    llc = b"\xaa\xaa\x03\x00\x00\x00" + struct.pack(">H", ethertype_of(ip))
    return over_ipv4(47, gre(0x8200, header + llc + ip))


def ayiya(ip: bytes) -> bytes:
    """AYIYA on UDP 5072: a 16-byte identity, a 20-byte signature, opcode "forward"."""
    next_header = 41 if ip[0] >> 4 == 6 else 4
    header = struct.pack(">BBBBI", 0x41, 0x52, 0x11, next_header, 1_700_000_000)
    return over_udp(5072, header + b"\x20" * 16 + b"\x5a" * 20 + ip, sport=5072)


def capwap(payload: bytes, native: bool = True, radio_mac: bool = False) -> bytes:
    """The CAPWAP data channel (RFC 5415) from an access point's port to the controller's 5247:
    version 0, HLEN words of header (8 bytes, and a radio MAC address padded to 4 when
    ``radio_mac``: the M flag), radio 1; ``native``: T set, wireless binding 1 (IEEE 802.11)."""
    option = bytes([6]) + b"\x02" * 6 + b"\x00" if radio_mac else b""
    hlen = 2 + len(option) // 4
    word = hlen << 19 | 1 << 14 | (1 << 9 | 1 << 8 if native else 0) | (0x10 if radio_mac else 0)
    header = struct.pack(">BBHI", 0, word >> 16, word & 0xFFFF, 0) + option
    return over_udp(5247, header + payload, sport=12222)


def capwap_802_11(ip: bytes, radio_mac: bool = False) -> bytes:
    """An 802.11 QoS data frame (to the distribution system, LLC/SNAP) in CAPWAP, its frame
    control's two bytes swapped as Cisco's access points send them: tshark reads them so by
    default ("Swap Frame Control"), and sees no data frame in a frame sent the other way."""
    dot11 = b"\x01\x88\x00\x00" + b"\x02" * 6 + b"\x04" * 6 + b"\x06" * 6 + b"\x10\x00" + b"\x00\x00"
    llc = b"\xaa\xaa\x03\x00\x00\x00" + struct.pack(">H", ethertype_of(ip))
    return capwap(dot11 + llc + ip, radio_mac=radio_mac)


ENCAPSULATIONS: dict[str, Wrap] = {
    "erspan-i": erspan_i,
    "erspan-ii": erspan_ii,
    "erspan-iii": erspan_iii,
    "erspan-iii-subheader": lambda ip: erspan_iii(ip, subheader=True),
    "geneve-ethernet": lambda ip: geneve(TEB, inner_ether(ip)),
    "geneve-ip": lambda ip: geneve(ethertype_of(ip), ip, options=False),
    "geneve-gre": geneve_gre,
    "etag": etag,
    "pbb": pbb,
    "gtp-u": gtp_u,
    "gtp-u-extension": lambda ip: gtp_u(ip, extension=True),
    "vxlan-gbp-reserved": vxlan_gbp_reserved,
    "vxlan-gpe-ip": lambda ip: vxlan_gpe(ip_next(ip), ip),
    "vxlan-gpe-ethernet": lambda ip: vxlan_gpe(3, inner_ether(ip)),
    "vxlan-gpe-nsh": lambda ip: vxlan_gpe(4, nsh(ip_next(ip), ip)),
    "nsh-ethertype": lambda ip: ether(0x894F, nsh(ip_next(ip), ip, md_type=2)),
    "nsh-ethernet": lambda ip: ether(0x894F, nsh(3, inner_ether(ip))),
    "gre-mpls": lambda ip: over_ipv4(47, gre(MPLS_UNICAST, mpls(ip, (100, 200)))),
    "gre-checksum-key-seq": lambda ip: over_ipv4(47, gre(ethertype_of(ip), ip, key=7, seq=3, csum=True)),
    "mpls-udp": lambda ip: over_udp(6635, mpls(ip)),
    "l2tp-v2": l2tp_v2,
    "etherip": lambda ip: over_ipv4(97, b"\x30\x00" + inner_ether(ip)),
    "mpls-in-ip": lambda ip: over_ipv4(137, mpls(ip)),
    "gre-in-udp": lambda ip: over_udp(4754, gre(ethertype_of(ip), ip)),
    "pppoe-qinq-padded": pppoe_padded,
    "pppoe-mpls": lambda ip: pppoe(mpls(ip, (300,)), 0x0281),
    "llc-snap": llc_snap,
    "llc-snap-tagged-padded": lambda ip: llc_snap(ip, tag=True, pad=30),
    "llc-snap-cisco-oui": lambda ip: llc_snap(ip, oui=b"\x00\x00\xf8"),
    "llc-ip-sap": llc_ip_sap,
    "fabricpath": fabricpath,
    "fabricpath-tagged": lambda ip: fabricpath(ip, tag=True),
    "wccp-v1": lambda ip: wccp(ip, version=1),
    "wccp-v2": wccp,
    "ayiya": ayiya,
    "gre-aruba": aruba_gre,
    "capwap-802.11": capwap_802_11,
    "capwap-802.11-radio-mac": lambda ip: capwap_802_11(ip, radio_mac=True),
    "capwap-ethernet": lambda ip: capwap(inner_ether(ip), native=False),
}
# Teredo carries IPv6 only.
IPV6_ONLY: dict[str, Wrap] = {"teredo": teredo}
