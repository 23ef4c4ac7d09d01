"""Tunnels that carry IP or Ethernet: where the inner packet starts, and what it is.

A tunnel is found by the outer packet's IP protocol, or by its UDP port (the
lower port first, then the higher, as Wireshark tries them; not the higher when
the lower is a well-known port, which tshark gives its own dissector), or inside
GRE by its protocol type.  A port is only a guess: any datagram may use one, so
the decoders reached by a port (``UDP_PORTS``) take the header only when its
version, reserved bits and lengths check out, and ``decode.decode_any`` takes
what it carries only when that is a sound packet; otherwise it is plain UDP.

Each decoder takes the mapped file, where its header starts and where the
outer packet ends, and returns ``(offset, Next)``: the inner
packet's start and kind, which ``ethernet.follow`` turns into an IP offset.
It returns None when the bytes are not that tunnel's user data (a control
message, a header cut short) and a name (a ``str``) for an encapsulation that
is known but not decoded, so the capture summary can count it by name.

The inner endpoints name the session; the outer headers are not part of it, but
``tunnel_of`` names the tunnel it found (``TUNNEL_NAMES``, ``PORT_NAMES``) so the
decoder can record the session's outer path (``capture.outerpath``).
These frames are rare, so the vectorised scanner leaves them to the per-frame
decoder (``decode.decode_any``), except the IP protocols only named
(``UNDECODED_IP_PROTOCOLS``), which it counts itself; the tables here tell it which.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from monoview.core.capture.capwap import capwap_data
from monoview.core.capture.records import Buffer
from monoview.core.capture.tunnelkind import Inner, Next, TunnelResult

__all__ = ["Inner", "Next", "TunnelResult"]  # also here for the decoders that take them from here


# What a tunnel header is followed by, and a decoder's answer (``tunnelkind``, which the
# tunnels of their own module, CAPWAP's, share).
TunnelDecoder = Callable[[Buffer, int, int], TunnelResult]
# A decoder reached by a UDP port: also the datagram's end on the wire, for its length checks.
PortDecoder = Callable[[Buffer, int, int, int], TunnelResult]

_u16 = struct.Struct(">H").unpack_from
_u16x2 = struct.Struct(">HH").unpack_from
_u16x3 = struct.Struct(">HHH").unpack_from

# EtherType-valued protocol fields (GRE, Geneve) that name what follows.
ETHERTYPE_NEXT: Final = {
    0x0800: Next.IPV4,
    0x86DD: Next.IPV6,
    0x6558: Next.ETHERNET,  # transparent Ethernet bridging
    0x8847: Next.MPLS,
    0x8848: Next.MPLS,
    0x894F: Next.NSH,
}
# The next-protocol numbers of NSH (RFC 8300) and VXLAN-GPE.
_NEXT_PROTOCOL: Final = {1: Next.IPV4, 2: Next.IPV6, 3: Next.ETHERNET, 4: Next.NSH, 5: Next.MPLS}

# Shims between an Ethernet header and its EtherType (``ethernet.follow`` steps over them):
# bytes after the shim's EtherType up to the next EtherType.
ETAG: Final = 0x893F  # 802.1BR E-Tag: 6 more bytes
PBB: Final = 0x88E7  # 802.1ah I-TAG (4 bytes), then the customer's addresses (12)
NSH_ETHERTYPE: Final = 0x894F
ETHER_SHIMS: Final = {ETAG: 6, PBB: 16}
UNDECODED_ETHERTYPES: Final = {0x88E5: "MACsec (encrypted)"}
# EtherTypes the vectorised scanner must leave to the per-frame decoder.
PER_FRAME_ETHERTYPES: Final = (*ETHER_SHIMS, NSH_ETHERTYPE, *UNDECODED_ETHERTYPES)


def nsh(buf: Buffer, pos: int, end: int) -> TunnelResult:
    """Network Service Header (RFC 8300): its length in 4-byte words, then a next protocol."""
    if pos + 8 > end:
        return None
    words = buf[pos + 1] & 0x3F
    if words < 2:
        return None
    found = _NEXT_PROTOCOL.get(buf[pos + 3])
    return (pos + 4 * words, found) if found is not None else f"NSH next protocol {buf[pos + 3]}"


def _erspan_iii(buf: Buffer, pos: int, end: int) -> TunnelResult:
    """ERSPAN type III: 12 bytes, 8 more when the O bit says a platform subheader follows."""
    if pos + 12 > end:
        return None
    frame_type = (buf[pos + 10] >> 2) & 0x1F
    if frame_type:
        return f"ERSPAN type III frame type {frame_type}"
    return pos + 12 + 8 * (buf[pos + 11] & 1), Next.ETHERNET


WCCP: Final = 0x883E
# Aruba's access points tunnel their clients' 802.11 frames in GRE 0x8200 to 0x8370 (as tshark).
ARUBA_WLAN: Final = frozenset(range(0x8200, 0x8371, 0x10))


def _wccp(buf: Buffer, pos: int, end: int) -> TunnelResult:
    """WCCP redirection in GRE: version 2 adds a 4-byte redirect header, version 1 none.
    Nothing says which; like tshark, a first nibble other than IPv4's means the header."""
    if pos >= end:
        return None
    return (pos if buf[pos] >> 4 == 4 else pos + 4), Next.IP


def gre(buf: Buffer, pos: int, end: int) -> TunnelResult:
    """GRE version 0 (RFC 2784/2890: checksum, key and sequence number words when flagged) and
    version 1 (PPTP's, with PPP).  WCCP (0x883E) redirects IP.  ERSPAN type I is GRE 0x88BE
    without a sequence number and has no header of its own; type II has one, of 8 bytes;
    type III is GRE 0x22EB; Aruba's 0x8200 to 0x8370 carry 802.11 frames."""
    if pos + 4 > end:
        return None
    flags, ptype = _u16x2(buf, pos)
    version = flags & 0x7
    if version == 1:
        if ptype != 0x880B:
            return None
        return pos + 8 + 4 * bool(flags & 0x1000) + 4 * bool(flags & 0x0080), Next.PPP
    if version:
        return None
    if flags & 0x4000:
        return "GRE with source routing"
    start = pos + 4 + 4 * bool(flags & 0x8000) + 4 * bool(flags & 0x2000) + 4 * bool(flags & 0x1000)
    if ptype == 0x88BE:
        return (start + 8 if flags & 0x1000 else start), Next.ETHERNET
    if ptype == 0x22EB:
        return _erspan_iii(buf, start, end)
    if ptype == WCCP:
        return _wccp(buf, start, end)
    if ptype in ARUBA_WLAN:
        return start, Next.IEEE802_11
    found = ETHERTYPE_NEXT.get(ptype)
    return (start, found) if found is not None else f"GRE protocol 0x{ptype:04X}"


def _etherip(buf: Buffer, pos: int, end: int) -> TunnelResult:
    """EtherIP (RFC 3378): a 2-byte header of version 3, then an Ethernet frame."""
    if pos + 2 > end or buf[pos] >> 4 != 3:
        return None
    return pos + 2, Next.ETHERNET


def _gre_in_udp(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """GRE in UDP (RFC 8086): version 0 with its reserved bits (and the routing bit) clear, and
    a protocol it decodes: two bytes of flags are weak evidence, and a datagram that merely
    starts with zeros must not be reported as "GRE protocol 0x...", named by its next bytes."""
    if pos + 4 > end or _u16(buf, pos)[0] & 0x4FFF:
        return None
    found = gre(buf, pos, end)
    return found if isinstance(found, tuple) else None


def _vxlan(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """VXLAN (RFC 7348): 8 bytes with the I flag (a valid VNI) set; then Ethernet.

    The reserved bits and bytes are not checked: RFC 7348 has receivers ignore them, the
    group-policy extension (and others) use them, and tshark decodes whatever they hold;
    the soundness of the inner packet is the evidence that decides a guessed port."""
    if pos + 8 > end or not buf[pos] & 0x08:
        return None
    return pos + 8, Next.ETHERNET


def _vxlan_gpe(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """VXLAN-GPE: 8 bytes whose fourth is the next protocol; version 0, the P flag set (a next
    protocol is present), the reserved bits and bytes clear."""
    if pos + 8 > end or buf[pos] & 0xF4 != 0x04 or buf[pos + 1] or buf[pos + 2] or buf[pos + 7]:
        return None
    found = _NEXT_PROTOCOL.get(buf[pos + 3])
    return (pos + 8, found) if found is not None else f"VXLAN-GPE next protocol {buf[pos + 3]}"


def _geneve(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """Geneve (RFC 8926): 8 bytes and the options' length, an EtherType-valued protocol;
    version 0, the reserved bits and byte clear, the options inside the datagram."""
    if pos + 8 > end or buf[pos] >> 6 or buf[pos + 1] & 0x3F or buf[pos + 7]:
        return None
    inner = pos + 8 + 4 * (buf[pos] & 0x3F)
    if inner > wire_end:
        return None
    found = ETHERTYPE_NEXT.get(_u16(buf, pos + 2)[0])
    if found is None:
        return f"Geneve protocol 0x{_u16(buf, pos + 2)[0]:04X}"
    return inner, found


def _gtp_u(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """GTP-U version 1 G-PDUs (the user's IP packets); a sequence number, N-PDU number and
    extension headers (each its length in 4-byte words, the next type last) when flagged.
    The spare bit is clear and the length (past the first 8 bytes) inside the datagram."""
    if pos + 8 > end:
        return None
    flags, message = buf[pos], buf[pos + 1]
    if flags & 0xF8 != 0x30 or message != 0xFF or pos + 8 + _u16(buf, pos + 2)[0] > wire_end:
        return None
    at = pos + 8
    if flags & 0x07:
        if at + 4 > end:
            return None
        extension = buf[at + 3] if flags & 0x04 else 0
        at += 4
        while extension:
            if at >= end or not buf[at] or at + 4 * buf[at] > end:
                return None
            at += 4 * buf[at]
            extension = buf[at - 1]
    return at, Next.IP


def _teredo(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """Teredo (RFC 4380): IPv6, after an authentication and an origin indication if present."""
    at = pos
    for _ in range(2):
        if at + 2 > end:
            return None
        indicator = _u16(buf, at)[0]
        if indicator == 1 and at + 4 <= end:
            at += 4 + buf[at + 2] + buf[at + 3] + 9
        elif indicator == 0:
            at += 8
        else:
            break
    return (at, Next.IPV6) if at < end and buf[at] >> 4 == 6 else None


def _l2tp(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """L2TPv2 data messages (RFC 2661): optional length, tunnel and session, optional Ns/Nr and
    offset, then PPP; the reserved bits clear, the length and offset inside the datagram.
    Control messages carry no user data; L2TPv3 data messages (RFC 3931: only the version
    set in the first 4 bytes) are named, not decoded."""
    if pos + 4 > end:
        return None
    flags, second = _u16x2(buf, pos)
    if flags == 0x0003 and not second:
        return "L2TPv3"
    if flags & 0xB4FF != 0x0002:  # version 2; not a control message; reserved bits clear
        return None
    at = pos + 2
    if flags & 0x4000:
        if pos + second > wire_end or second < 6:
            return None
        at += 2
    at += 4 + 4 * bool(flags & 0x0800)
    if flags & 0x0200:
        if at + 2 > end:
            return None
        at += 2 + _u16(buf, at)[0]
    return (at, Next.PPP) if at <= wire_end else None


def _at(kind: Next) -> TunnelDecoder:
    return lambda buf, pos, end: (pos, kind)


IP_PROTOCOLS: Final[dict[int, TunnelDecoder]] = {
    4: _at(Next.IPV4),  # IP in IP
    41: _at(Next.IPV6),  # IPv6 in IP
    47: gre,
    97: _etherip,
    137: _at(Next.MPLS),  # MPLS in IP (RFC 4023)
}
UNDECODED_IP_PROTOCOLS: Final = {50: "ESP (encrypted)", 115: "L2TPv3"}
TUNNEL_PROTOCOLS: Final = (*IP_PROTOCOLS, *UNDECODED_IP_PROTOCOLS)
IPPROTO_UDP: Final = 17


def _mpls_in_udp(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """MPLS in UDP (RFC 7510): a label stack has no field to check; what follows it must be
    a sound IP packet (``decode.decode_any`` sees to that)."""
    return pos, Next.MPLS


_AYIYA_FORWARD: Final = 1
_AYIYA_NEXT: Final = {4: Next.IPV4, 41: Next.IPV6}


def _ayiya(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """AYIYA ("anything in anything", UDP 5072): 8 bytes, an identity of 2**n bytes and a
    signature of 4*m; only "forward" messages carry a packet, its IP protocol in byte 3."""
    if pos + 8 > end or buf[pos + 2] & 0x0F != _AYIYA_FORWARD:
        return None
    found = _AYIYA_NEXT.get(buf[pos + 3])
    inner = pos + 8 + (1 << (buf[pos] >> 4)) + 4 * (buf[pos + 1] >> 4)
    return (inner, found) if found is not None and inner < wire_end else None


UDP_PORTS: Final[dict[int, PortDecoder]] = {
    1701: _l2tp,
    2152: _gtp_u,
    3544: _teredo,
    4754: _gre_in_udp,
    4789: _vxlan,
    4790: _vxlan_gpe,
    5072: _ayiya,
    5247: capwap_data,
    6081: _geneve,
    6635: _mpls_in_udp,
}
# Port tunnels whose header, checked, confirms the port's guess: GTP-U's version, protocol
# type, message type and length (agreeing with the datagram's) leave no doubt, so what it
# carries is decoded as tshark decodes it even when it is cut short or malformed (a 1,480-byte
# user packet of which a short datagram holds the first 172 bytes is a cut TCP segment).
CONFIRMING_PORTS: Final = frozenset({"GTP-U"})
# Below this, a port is tshark's well-known one, its dissector takes the datagram: DNS from 53
# to a client's port 6081 is DNS, and the higher port is not tried.
WELL_KNOWN_PORTS: Final = 1024


# What the outer path calls each tunnel (as tshark's protocol names, where it has one).
TUNNEL_NAMES: Final = {4: "IP-in-IP", 41: "IPv6-in-IP", 47: "GRE", 97: "EtherIP", 137: "MPLS-in-IP"}
PORT_NAMES: Final = {
    1701: "L2TP",
    2152: "GTP-U",
    3544: "Teredo",
    4754: "GRE-in-UDP",
    4789: "VXLAN",
    4790: "VXLAN-GPE",
    5072: "AYIYA",
    5247: "CAPWAP",
    6081: "Geneve",
    6635: "MPLS-in-UDP",
}
_GRE_NAMES: Final = {
    0x88BE: "ERSPAN", 0x22EB: "ERSPAN", WCCP: "WCCP", **dict.fromkeys(ARUBA_WLAN, "Aruba GRE"),
}  # fmt: skip
# (inner offset, kind, the tunnel's name); None: not user data; str: known, not decoded.
Tunnel = tuple[int, Next, str]


def tunnel_of(buf: Buffer, proto: int, l4: int, end: int, wire_end: int) -> Tunnel | str | None:
    """The inner packet of an IP packet of protocol ``proto`` whose payload is ``l4``..``end``
    as captured, ``l4``..``wire_end`` on the wire, and the tunnel's name."""
    decoder = IP_PROTOCOLS.get(proto)
    if decoder is not None:
        found = decoder(buf, l4, end)
        if not isinstance(found, tuple):
            return found
        name = TUNNEL_NAMES[proto]
        if proto == 47:  # GRE: ERSPAN, WCCP and PPTP (version 1) are GRE of their own kind
            ptype = _u16(buf, l4 + 2)[0]
            name = "PPTP" if buf[l4 + 1] & 0x7 == 1 else _GRE_NAMES.get(ptype, name)
        return (*found, name)
    if proto == IPPROTO_UDP:
        return _udp(buf, l4, end, wire_end)
    return UNDECODED_IP_PROTOCOLS.get(proto)


def datagram_end(buf: Buffer, l4: int) -> int:
    """Where the UDP datagram at ``l4`` ends, by its length (checked by ``tunnel_of``)."""
    (length,) = _u16(buf, l4 + 4)
    return l4 + int(length)


def _udp(buf: Buffer, l4: int, end: int, wire_end: int) -> Tunnel | str | None:
    if l4 + 8 > end:
        return None
    sport, dport, length = _u16x3(buf, l4)
    if length < 8 or l4 + length > wire_end:  # tshark: a bad length, the payload not decoded
        return None
    wire_end = l4 + length
    end = min(end, wire_end)
    for port in (sport, dport) if sport < dport else (dport, sport):
        decoder = UDP_PORTS.get(port)
        if decoder is not None:
            found = decoder(buf, l4 + 8, end, wire_end)
            if isinstance(found, tuple):
                return (*found, PORT_NAMES[port])
            if found is not None:
                return found
        elif 0 < port < WELL_KNOWN_PORTS:
            return None
    return None
