"""Layer-2 chains: from an Ethernet frame (or what a tunnel carries) to the IP packet in it.

A frame may stack 802.1Q/802.1ad tags, E-Tags, 802.1ah I-TAGs, Cisco FabricPath,
NSH, an 802.3 length with LLC/SNAP, PPPoE, PPP and MPLS before its IP packet;
:func:`follow` walks them in one loop with one step budget.  Besides where the
IP packet starts, it says where the packet must end at the latest: every layer
that states its own length (PPPoE's payload length, 802.3's length field,
FabricPath's trailing FCS) bounds what it carries, as tshark bounds it, so the
Ethernet padding after a short PPPoE payload never becomes TCP payload when the
IP header claims more.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from monoview.core.capture.records import Buffer
from monoview.core.capture.tunnels import (
    ETHER_SHIMS,
    NSH_ETHERTYPE,
    UNDECODED_ETHERTYPES,
    Next,
    nsh,
)

__all__ = ["Buffer", "Link", "LinkResult", "follow"]


class Link(NamedTuple):
    """Where a frame's IP packet is: its offset (negative: the frame is malformed), its
    version (0: read the first nibble), the VLAN tags on the way (outermost first), and
    ``end``, where the packet ends at the latest on the wire (the enclosing lengths)."""

    offset: int
    version: int
    tags: tuple[int, ...]
    end: int


# A Link; None: no IP (ARP, LLC, PPP control...); str: a known encapsulation not decoded.
LinkResult = Link | str | None

ETH_IPV4: Final = 0x0800
ETH_IPV6: Final = 0x86DD
ETH_VLAN_TAGS: Final = frozenset({0x8100, 0x88A8, 0x9100, 0x9200})
ETH_PPPOE_SESSION: Final = 0x8864
ETH_MPLS: Final = frozenset({0x8847, 0x8848})
# Cisco FabricPath: outer addresses, then this EtherType (possibly after one 802.1Q/802.1ad
# tag) and FTAG/TTL, then the whole original frame, and the FabricPath FCS last.
ETH_FABRICPATH: Final = 0x8903
_FABRICPATH_TAGS: Final = frozenset({0x8100, 0x88A8})
_FCS: Final = 4
# An EtherType field up to this value is an 802.3 length; LLC follows.
MAX_8023_LENGTH: Final = 1500
_LLC_UI: Final = 0x03
_SAP_SNAP: Final = 0xAA
_SAP_IP: Final = 0x06
# SNAP organisation codes whose protocol id is an EtherType (RFC 1042; Cisco's "90-compatible").
SNAP_ETHERTYPE_OUIS: Final = frozenset({b"\x00\x00\x00", b"\x00\x00\xf8"})
PPP_IPV4: Final = 0x0021
PPP_IPV6: Final = 0x0057
PPP_MPLS: Final = frozenset({0x0281, 0x0283})
NO_TAGS: Final[tuple[int, ...]] = ()
# More stacked 802.1Q/802.1ad tags, E-Tags, I-TAGs, FabricPath and LLC headers and NSH headers
# than this, all told, make a frame malformed (real stacks are one to three deep): without a
# cap, a frame of 10,000 tags took 0.1 s, each tag copying the tuple so far, and NSH carrying
# Ethernet carrying NSH... recursed until Python gave up.
MAX_LINK_STEPS: Final = 8
# What a decoder returns for a link header it refuses (too many tags): the frame is malformed.
MALFORMED_LINK: Final = Link(-1, 0, NO_TAGS, 0)

_u16 = struct.Struct(">H").unpack_from
_u32be = struct.Struct(">I").unpack_from
_PPP_NEXT: Final = {PPP_IPV4: Next.IPV4, PPP_IPV6: Next.IPV6, **dict.fromkeys(PPP_MPLS, Next.MPLS)}
_ETHERTYPE_VERSION: Final = {ETH_IPV4: 4, ETH_IPV6: 6}


def by_ethertype(ethertype: int, offset: int, tags: tuple[int, ...], bound: int) -> LinkResult:
    """The IP packet an EtherType of IPv4 or IPv6 names; None for any other."""
    version = _ETHERTYPE_VERSION.get(ethertype)
    return Link(offset, version, tags, bound) if version is not None else None


def ppp_protocol(buf: Buffer, offset: int, end: int) -> tuple[int, Next] | None:
    """What a PPP protocol field (possibly after the HDLC address/control bytes) leads to."""
    if offset + 2 <= end and buf[offset] == 0xFF and buf[offset + 1] == 0x03:
        offset += 2
    if offset + 1 > end:
        return None
    if buf[offset] & 1:  # protocol-field compression: one byte
        proto, offset = buf[offset], offset + 1
    elif offset + 2 <= end:
        (proto,), offset = _u16(buf, offset), offset + 2
    else:
        return None
    found = _PPP_NEXT.get(proto)
    return (offset, found) if found is not None else None


def mpls(buf: Buffer, pos: int, end: int, tags: tuple[int, ...], bound: int) -> LinkResult:
    """An MPLS label stack: the IP version nibble follows the bottom label."""
    while pos + 4 <= end:
        (label,) = _u32be(buf, pos)
        pos += 4
        if label & 0x100:
            return Link(pos, 0, tags, bound)
    return None


def _fabricpath(buf: Buffer, pos: int, end: int) -> int:
    """The FabricPath header's length (16, or 20 with a tag) if the Ethernet frame at ``pos``
    is FabricPath, else 0: tshark's heuristic, tried on every Ethernet frame."""
    if pos + 14 > end:
        return 0
    (first,) = _u16(buf, pos + 12)
    if first == ETH_FABRICPATH:
        return 16
    if first in _FABRICPATH_TAGS and pos + 18 <= end and _u16(buf, pos + 16)[0] == ETH_FABRICPATH:
        return 20
    return 0


def _llc(buf: Buffer, pos: int, end: int, tags: tuple[int, ...], bound: int) -> Link | int | None:
    """An 802.2 LLC header at ``pos``: the IP SAP's IPv4 packet, where SNAP's EtherType
    protocol id is, or None for what carries no IP (spanning tree, CDP, supervisory and
    unnumbered frames...).

    Only information frames carry a protocol's data, as tshark reads them
    (``XDLC_IS_INFORMATION``): an unnumbered information (UI) frame, control 0x03 exactly
    (with the poll/final bit set it is not), and an I-frame (control's low bit clear),
    whose control field is two bytes; S-frames and the other U-frames (XID, TEST...) are data.
    """
    if pos + 3 > end:
        return None
    control = buf[pos + 2]
    if control == _LLC_UI:
        header = 3
    elif not control & 1:
        header = 4  # an I-frame: 2-byte control
    else:
        return None
    if buf[pos] == _SAP_IP:  # the destination SAP decides, as in tshark, whatever the source's
        return Link(pos + header, int(Next.IPV4), tags, bound) if pos + header <= end else None
    snap = buf[pos] == buf[pos + 1] == _SAP_SNAP and pos + header + 5 <= end
    if snap and bytes(buf[pos + header : pos + header + 3]) in SNAP_ETHERTYPE_OUIS:
        return pos + header + 3
    return None


def llc_frame(buf: Buffer, pos: int, end: int, bound: int) -> LinkResult:
    """The IP packet of an 802.2 LLC frame at ``pos`` (FDDI's, Token Ring's): the IP SAP's,
    or SNAP's with an EtherType of IPv4 or IPv6; None for the rest."""
    found = _llc(buf, pos, end, NO_TAGS, bound)
    if not isinstance(found, int):
        return found
    return by_ethertype(_u16(buf, found)[0], found + 2, NO_TAGS, bound)


def follow(buf: Buffer, pos: int, kind: Next, end: int, tags: tuple[int, ...], bound: int) -> LinkResult:
    """The IP packet in what starts at ``pos``: an IP packet, an Ethernet frame, an MPLS
    stack, PPP, or NSH in front of one of them (what a tunnel carries, or a whole frame).

    ``end`` is where the captured bytes end, ``bound`` where the enclosing packet ended
    on the wire; the Link's ``end`` is ``bound`` narrowed by every length on the way.
    One loop, and one budget of ``MAX_LINK_STEPS`` for every VLAN tag, shim, LLC and NSH
    header on the way, however they nest (NSH carrying Ethernet carrying NSH...): a frame
    that needs more steps is malformed.  Each step moves forward, so the work is bounded
    by the budget, never by the frame's length, and nothing recurses.
    """
    steps = 0
    while True:
        if kind is Next.NSH:
            steps += 1
            if steps > MAX_LINK_STEPS:
                return MALFORMED_LINK
            found = nsh(buf, pos, end)
            if not isinstance(found, tuple):
                return found
            pos, kind = found
            continue
        if kind is Next.MPLS:
            return mpls(buf, pos, end, tags, bound)
        if kind is Next.PPP:
            after = ppp_protocol(buf, pos, end)
            if after is None:
                return None
            pos, kind = after
            continue
        if kind is not Next.ETHERNET:
            return Link(pos, int(kind), tags, bound)
        header = _fabricpath(buf, pos, end)
        if header:
            steps += 1
            if steps > MAX_LINK_STEPS:
                return MALFORMED_LINK
            if header == 20:
                tags = (*tags, _u16(buf, pos + 14)[0] & 0x0FFF)
            pos, bound = pos + header, bound - _FCS
            continue
        pos += 12  # the addresses; then EtherTypes, each naming the header that follows
        while True:
            if pos + 2 > end:
                return None
            (ethertype,) = _u16(buf, pos)
            pos += 2
            if ethertype == NSH_ETHERTYPE:
                kind = Next.NSH
                break
            skip = ETHER_SHIMS.get(ethertype)
            if skip is None and ethertype not in ETH_VLAN_TAGS and ethertype > MAX_8023_LENGTH:
                if ethertype == ETH_PPPOE_SESSION:
                    if pos + 6 > end:
                        return None
                    bound = min(bound, pos + 6 + _u16(buf, pos + 4)[0])  # the PPPoE payload's length
                    pos, kind = pos + 6, Next.PPP
                    break
                if ethertype in ETH_MPLS:
                    return mpls(buf, pos, end, tags, bound)
                if ethertype in UNDECODED_ETHERTYPES:
                    return UNDECODED_ETHERTYPES[ethertype]
                return by_ethertype(ethertype, pos, tags, bound)
            steps += 1
            if steps > MAX_LINK_STEPS:
                return MALFORMED_LINK
            if ethertype <= MAX_8023_LENGTH:  # an 802.3 length: it bounds the LLC frame
                bound = min(bound, pos + ethertype)
                llc = _llc(buf, pos, end, tags, bound)
                if not isinstance(llc, int):
                    return llc  # the IP SAP's packet, or no IP
                pos = llc  # the SNAP protocol id: an EtherType
                continue
            if skip is not None:
                pos += skip  # E-Tag; I-TAG and the customer's addresses
                continue
            if pos + 2 > end:
                return None
            tags = (*tags, _u16(buf, pos)[0] & 0x0FFF)
            pos += 2
