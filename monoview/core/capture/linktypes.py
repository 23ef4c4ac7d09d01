"""Link-layer headers: find where the IP packet starts in a frame, and where it must end.

Each decoder takes the mapped file, the frame's first byte, its captured
length and where the frame ended on the wire, and returns a ``Link`` (IP
offset, IP version or 0 for "read the first nibble", VLAN tags, the wire end
that bounds the IP packet) or None when the frame carries no IP (ARP, LLC,
PPP control...), ``MALFORMED_LINK`` (a negative offset) for a header it
refuses, or a name (``str``) for a known encapsulation that is not decoded
(see ``tunnels``).  Ethernet and what it may stack are ``ethernet.follow``'s; 802.11
(``wlan``) may also return an ``Aggregate``, the several packets of an A-MSDU.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from monoview.core.capture.ethernet import (
    ETH_VLAN_TAGS,
    MALFORMED_LINK,
    MAX_LINK_STEPS,
    NO_TAGS,
    Buffer,
    Link,
    LinkResult,
    by_ethertype,
    follow,
    llc_frame,
)
from monoview.core.capture.tunnels import Next
from monoview.core.capture.wlan import Aggregate, WlanResult, ieee802_11

__all__ = [
    "MALFORMED_LINK", "MAX_LINK_STEPS", "NO_TAGS", "Aggregate", "Buffer", "Link", "LinkResult", "WlanResult",
    "follow", "ieee802_11",
]  # fmt: skip

# (mapped file, offset of the frame's first byte, captured length, where the frame ended on the wire)
LinkDecoder = Callable[[Buffer, int, int, int], WlanResult]
MAX_VLAN_TAGS: Final = MAX_LINK_STEPS
_u16 = struct.Struct(">H").unpack_from
_u32be = struct.Struct(">I").unpack_from
_u32le = struct.Struct("<I").unpack_from


def ethernet(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """Ethernet II or 802.3 with LLC/SNAP, with any stack of 802.1Q/802.1ad tags, E-Tags,
    802.1ah I-TAGs, FabricPath, NSH, PPPoE sessions and MPLS (``ethernet.follow``)."""
    return follow(buf, offset, Next.ETHERNET, offset + caplen, NO_TAGS, wire_end)


def linux_sll(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """Linux cooked capture v1: 16-byte header, protocol in the last two bytes."""
    if caplen < 16:
        return None
    (proto,) = _u16(buf, offset + 14)
    if proto in ETH_VLAN_TAGS and caplen >= 20:
        tag = (_u16(buf, offset + 16)[0] & 0xFFF,)
        return by_ethertype(_u16(buf, offset + 18)[0], offset + 20, tag, wire_end)
    return by_ethertype(proto, offset + 16, NO_TAGS, wire_end)


def linux_sll2(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """Linux cooked capture v2: 20-byte header, protocol in the first two bytes."""
    if caplen < 20:
        return None
    return by_ethertype(_u16(buf, offset)[0], offset + 20, NO_TAGS, wire_end)


def raw_ip(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """Raw IP (DLT_RAW in its several numberings): the version nibble decides."""
    return Link(offset, 0, NO_TAGS, wire_end) if caplen > 0 else None


def raw_ipv4(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """LINKTYPE_IPV4: always IPv4."""
    return Link(offset, 4, NO_TAGS, wire_end) if caplen > 0 else None


def raw_ipv6(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """LINKTYPE_IPV6: always IPv6."""
    return Link(offset, 6, NO_TAGS, wire_end) if caplen > 0 else None


# BSD address families that mean IPv6 on one platform or another.
_AF_INET6: Final = frozenset({10, 24, 28, 30})


def _family(family: int, offset: int, wire_end: int) -> LinkResult:
    if family == 2:
        return Link(offset, 4, NO_TAGS, wire_end)
    if family in _AF_INET6:
        return Link(offset, 6, NO_TAGS, wire_end)
    return None


def bsd_null(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """BSD loopback: a 4-byte address family in the *capturing host's* byte order."""
    if caplen < 4:
        return None
    (family,) = _u32le(buf, offset)
    if family > 0xFFFF:  # written by a big-endian host
        (family,) = _u32be(buf, offset)
    return _family(family, offset + 4, wire_end)


def bsd_loop(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """OpenBSD loopback: the address family in network byte order."""
    if caplen < 4:
        return None
    return _family(_u32be(buf, offset)[0], offset + 4, wire_end)


def cisco_hdlc(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """Cisco HDLC: address, control, then an Ethernet type."""
    if caplen < 4:
        return None
    return by_ethertype(_u16(buf, offset + 2)[0], offset + 4, NO_TAGS, wire_end)


def ppp(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """PPP, with or without the HDLC-like framing bytes."""
    return follow(buf, offset, Next.PPP, offset + caplen, NO_TAGS, wire_end)


def fddi(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """FDDI: frame control and two addresses (13 bytes), then an 802.2 LLC frame."""
    return llc_frame(buf, offset + 13, offset + caplen, wire_end) if caplen > 13 else None


_IPOIB_HEADER: Final = 44  # the pcap pseudo-header: 40 bytes of addresses, type, reserved


def ipoib(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """IP over InfiniBand (RFC 4391) as libpcap writes it: an EtherType at byte 40, the
    packet after byte 44 (as tcpdump and tshark read it)."""
    if caplen < _IPOIB_HEADER:
        return None
    return by_ethertype(_u16(buf, offset + 40)[0], offset + _IPOIB_HEADER, NO_TAGS, wire_end)


# ARCNET protocol ids: RFC 1051's IP has no more header; RFC 1201's (and RFC 2497's IPv6) a
# split flag and a 2-byte sequence number first.
_ARCNET_IP_1051: Final = 0xF0
_ARCNET_RFC1201: Final = {0xD4: 4, 0xC4: 6}


def _arcnet(buf: Buffer, pos: int, end: int, wire_end: int) -> LinkResult:
    """An ARCNET packet's IP from its protocol id at ``pos``.  Only whole packets: a split
    flag other than 0 (a fragment, or an exception packet) is not decoded."""
    if pos >= end:
        return None
    protocol = buf[pos]
    if protocol == _ARCNET_IP_1051:
        return Link(pos + 1, 4, NO_TAGS, wire_end)
    version = _ARCNET_RFC1201.get(protocol)
    if version is None or pos + 4 > end or buf[pos + 1]:
        return None
    return Link(pos + 4, version, NO_TAGS, wire_end)


_JUNIPER_MAGIC: Final = b"MGC"
_JUNIPER_EXTENSIONS: Final = 0x80
_JUNIPER_NO_L2: Final = 0x02


def juniper_ether(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """Juniper's Ethernet captures: "MGC", flags, the extensions' length and TLVs when
    flagged, then the Ethernet frame.  A capture without its layer-2 header is named, not
    decoded."""
    if caplen < 4 or bytes(buf[offset : offset + 3]) != _JUNIPER_MAGIC:
        return None
    flags, header = buf[offset + 3], 4
    if flags & _JUNIPER_EXTENSIONS:
        if caplen < 6:
            return None
        header += 2 + _u16(buf, offset + 4)[0]
    if flags & _JUNIPER_NO_L2:
        return "Juniper capture without its layer-2 header"
    if header >= caplen:
        return None
    return ethernet(buf, offset + header, caplen - header, wire_end)


def arcnet(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """BSD ARCNET: source and destination ids, then the protocol id."""
    return _arcnet(buf, offset + 2, offset + caplen, wire_end)


def arcnet_linux(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """Linux ARCNET: source and destination ids, a 2-byte offset, then the protocol id."""
    return _arcnet(buf, offset + 4, offset + caplen, wire_end)


_u16le = struct.Struct("<H").unpack_from
_u16u32le = struct.Struct("<HI").unpack_from


def radiotap(buf: Buffer, offset: int, caplen: int, wire_end: int) -> WlanResult:
    """Radiotap: a little-endian length at byte 2, then an 802.11 frame."""
    if caplen < 8:
        return None
    (length,) = _u16le(buf, offset + 2)
    if not 8 <= length < caplen:
        return None
    return ieee802_11(buf, offset + length, caplen - length, wire_end)


def ppi(buf: Buffer, offset: int, caplen: int, wire_end: int) -> WlanResult:
    """Per-Packet Information: a little-endian length and the link type of what follows."""
    if caplen < 8:
        return None
    length, inner_type = _u16u32le(buf, offset + 2)
    inner = DECODERS.get(inner_type)
    if not 8 <= length < caplen or inner is None or inner is ppi:
        return None
    return inner(buf, offset + length, caplen - length, wire_end)


def pflog(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """OpenBSD/FreeBSD pf log: header length (padded to 4 bytes) and address family first."""
    if caplen < 4:
        return None
    length = (buf[offset] + 3) & ~3
    if length >= caplen:
        return None
    return _family(buf[offset + 1], offset + length, wire_end)


def bsd_enc(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """OpenBSD IPsec enc(4): a 12-byte header (family, SPI, flags), then the IP packet."""
    return Link(offset + 12, 0, NO_TAGS, wire_end) if caplen > 12 else None


_NFULA_PAYLOAD: Final = 9


def nflog(buf: Buffer, offset: int, caplen: int, wire_end: int) -> LinkResult:
    """Linux NFLOG: a 4-byte header, then TLVs (host byte order); the payload TLV holds the packet."""
    if caplen < 8:
        return None
    family = buf[offset]
    end = offset + caplen
    pos = offset + 4
    while pos + 4 <= end:
        length, tlv_type = _u16le(buf, pos)[0], _u16le(buf, pos + 2)[0]
        if length < 4:
            return None
        if tlv_type & 0x7FFF == _NFULA_PAYLOAD:
            version = 4 if family == 2 else 6 if family == 10 else 0
            return Link(pos + 4, version, NO_TAGS, wire_end)
        pos += (length + 3) & ~3
    return None


DECODERS: Final[dict[int, LinkDecoder]] = {
    0: bsd_null,
    1: ethernet,
    7: arcnet,
    9: ppp,
    10: fddi,
    12: raw_ip,
    14: raw_ip,
    50: ppp,
    101: raw_ip,
    104: cisco_hdlc,
    105: ieee802_11,
    108: bsd_loop,
    109: bsd_enc,
    113: linux_sll,
    117: pflog,
    127: radiotap,
    129: arcnet_linux,
    178: juniper_ether,
    192: ppi,
    228: raw_ipv4,
    229: raw_ipv6,
    239: nflog,
    242: ipoib,
    276: linux_sll2,
}

# Names of link types seen in the wild, so an unsupported one is reported by name.
LINKTYPE_NAMES: Final = {
    0: "NULL",
    1: "ETHERNET",
    6: "IEEE802_5",
    7: "ARCNET_BSD",
    9: "PPP",
    10: "FDDI",
    12: "RAW",
    14: "RAW",
    50: "PPP_HDLC",
    101: "RAW",
    104: "C_HDLC",
    105: "IEEE802_11",
    108: "LOOP",
    109: "ENC",
    113: "LINUX_SLL",
    117: "PFLOG",
    119: "PRISM_HEADER",
    127: "IEEE802_11_RADIOTAP",
    129: "ARCNET_LINUX",
    178: "JUNIPER_ETHER",
    143: "DOCSIS",
    147: "USER0",
    163: "IEEE802_11_AVS",
    187: "BLUETOOTH_HCI_H4",
    189: "USB_LINUX",
    192: "PPI",
    195: "IEEE802_15_4",
    201: "BLUETOOTH_HCI_H4_WITH_PHDR",
    215: "IEEE802_15_4_NONASK_PHY",
    220: "USB_LINUX_MMAPPED",
    227: "CAN_SOCKETCAN",
    228: "IPV4",
    229: "IPV6",
    249: "NETLINK",
    252: "WIRESHARK_UPPER_PDU",
    239: "NFLOG",
    242: "IPOIB",
    276: "LINUX_SLL2",
}


def linktype_name(linktype: int) -> str:
    """Human name of a link type, e.g. ``IEEE802_11_RADIOTAP (127)``."""
    return f"{LINKTYPE_NAMES.get(linktype, 'unknown')} ({linktype})"
