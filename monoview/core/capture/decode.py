"""From a captured frame to a TcpPacket, or the reason it is not one.

Only the fixed header fields that reassembly needs are unpacked, in place in
the mapped file.  Everything that is not TCP over IP is counted, never an error.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Final

from monoview.core.capture.capwap import CAPWAP_PAYLOADS, TunnelFragment, capwap_fragment
from monoview.core.capture.decoded import Cut, Decoded, Several, Single, Skip, Undecoded
from monoview.core.capture.fragments import Fragment, FragmentReassembler
from monoview.core.capture.iplayer import IPPROTO_TCP, ip_header
from monoview.core.capture.linktypes import (
    DECODERS,
    NO_TAGS,
    Aggregate,
    Buffer,
    LinkResult,
    follow,
    ieee802_11,
)
from monoview.core.capture.outerpath import tunnel_hop, vlan_hops
from monoview.core.capture.records import Record
from monoview.core.capture.tunnels import (
    CONFIRMING_PORTS,
    IP_PROTOCOLS,
    IPPROTO_UDP,
    Next,
    datagram_end,
    tunnel_of,
)
from monoview.core.packet import TcpPacket

# The results are ``decoded``'s; the readers take them from here, with the decoder.
__all__ = [
    "Cut", "Decoded", "Several", "Single", "Skip", "Undecoded", "decode", "decode_any", "reassembler",
    "tunnelled_packets",
]  # fmt: skip

MAX_TUNNEL_DEPTH: Final = 4
# Fragmented datagrams that are reassembled: TCP's, and those of a tunnel that may carry it.
_REASSEMBLED: Final = frozenset({IPPROTO_TCP, IPPROTO_UDP, *IP_PROTOCOLS})
_tcp = struct.Struct(">HHIIHH").unpack_from
_TCP_FIELDS: Final = 16  # ports, sequence and acknowledgment numbers, offset, flags, window

LINKTYPE_ETHERNET: Final = 1
# The common case in one call: Ethernet II (no tag) + IPv4 without options + the
# TCP fixed header, from the frame's first byte.  Yields ethertype, version/IHL,
# total length, flags/fragment offset, protocol, addresses, ports, seq, ack,
# data offset/flags and window; the bytes decode() ignores are skipped ("x").
_eth_ipv4_tcp = struct.Struct(">12xHBxHxxHxBxx4s4sHHIIHH").unpack_from
_ETH_IPV4_TCP_MIN: Final = 14 + 20 + 20  # Ethernet, IPv4 and TCP fixed headers all captured
_ETH_IPV4: Final = 0x0800
_IPV4_NO_OPTIONS: Final = 0x45


def decode(buf: Buffer, record: Record) -> Decoded:
    """Decode ``record`` (bytes in ``buf``) down to TCP.

    Untagged Ethernet + IPv4 without options + TCP, by far the most common frame,
    takes a fused path (one ``unpack_from``); anything else, and any frame the
    fused path would have to reject, goes through :func:`decode_any`, which gives
    the same result for every frame.
    """
    frame, ts_ns, linktype, interface, offset, caplen, origlen = record
    if linktype == LINKTYPE_ETHERNET and caplen >= _ETH_IPV4_TCP_MIN:
        (ethertype, vihl, total, frag, proto, src, dst,
         sport, dport, seq, ack, off_flags, window) = _eth_ipv4_tcp(buf, offset)  # fmt: skip
        if ethertype == _ETH_IPV4 and vihl == _IPV4_NO_OPTIONS and proto == IPPROTO_TCP and not frag & 0x3FFF:
            end = offset + caplen
            wire_end = end + origlen - caplen if origlen > caplen else end
            # total == 0: TSO/BIG TCP; a length beyond the wire is for decode_any to report.
            ip_end = offset + 14 + total if total else wire_end
            doff = (off_flags >> 12) * 4
            payload = offset + 34 + doff
            if doff >= 20 and payload <= ip_end <= wire_end:
                captured_end = ip_end if ip_end < end else end
                return TcpPacket(
                    frame,
                    ts_ns,
                    interface,
                    NO_TAGS,
                    src,
                    dst,
                    sport,
                    dport,
                    seq,
                    ack,
                    off_flags & 0x1FF,
                    window,
                    payload if payload <= end else end,
                    captured_end - payload if captured_end > payload else 0,
                    ip_end - payload,
                )
    return decode_any(buf, record)


def decode_any(buf: Buffer, record: Record) -> Decoded:
    """Decode any frame of any supported link type (the general path of :func:`decode`)."""
    link = DECODERS.get(record.linktype)
    if link is None:
        return Skip.UNSUPPORTED_LINK
    end = record.offset + record.caplen  # captured end
    # Bytes of the IP packet that were on the wire but not captured (snaplen).
    wire_extra = record.origlen - record.caplen if record.origlen > record.caplen else 0
    found = link(buf, record.offset, record.caplen, end + wire_extra)
    if isinstance(found, Aggregate):
        return _several(_linked(buf, record, one, end) for one in found.links)
    return _linked(buf, record, found, end)


def _linked(buf: Buffer, record: Record, found: LinkResult, end: int) -> Decoded:
    """Decode the IP packet a link layer found (``found``) down to TCP."""
    if found is None:
        return Skip.NOT_IP
    if isinstance(found, str):
        return Undecoded(found)
    # outer_end: where the IP packet must end on the wire: the frame's end, or sooner when a
    # layer on the way states a shorter length (PPPoE, 802.3): what lies past it is padding.
    ip_off, version, vlan, outer_end = found
    if ip_off < 0:
        return Skip.MALFORMED
    hops = list(vlan_hops(vlan))  # the outer path (``outerpath``): tags, routes, tunnels
    return _descend(buf, record, (ip_off, version, vlan, outer_end, False), end, hops)


def _several(results: Iterable[Decoded]) -> Several:
    """One ``Several`` of the packets of an aggregate (an aggregate inside one is flattened)."""
    parts: list[Single] = []
    for result in results:
        parts.extend(result.parts if isinstance(result, Several) else (result,))
    return Several(tuple(parts))


# Where an IP packet starts: (offset, IP version or 0, VLAN context, where it must end on the
# wire, found by a UDP port).  A packet found by a port is a guess, which only a sound packet
# confirms; a malformed one, or one longer than the datagram, means the datagram was plain UDP.
Start = tuple[int, int, tuple[int, ...], int, bool]


def _descend(
    buf: Buffer, record: Record, start: Start, end: int, hops: list[str], depth: int = MAX_TUNNEL_DEPTH + 1
) -> Decoded:
    """Decode the IP packet at ``start`` down to TCP, through up to MAX_TUNNEL_DEPTH tunnels
    (``depth`` IP headers in all); ``hops`` gathers the outer path.  A tunnel carrying an
    aggregate gives each of its packets the tunnels left."""
    ip_off, version, vlan, outer_end, guessed = start
    cut = False
    for used in range(depth):
        parsed = ip_header(buf, ip_off, version, end, outer_end)
        if isinstance(parsed, Skip):
            return Skip.NOT_TCP if guessed else parsed
        proto, l4, ip_end, src, dst, fragment, route = parsed
        if route is not None:
            hops.append(route)
        if ip_end > outer_end:
            if guessed:
                return Skip.NOT_TCP
            ip_end, cut = outer_end, True
        if fragment is not None:
            if proto not in _REASSEMBLED:
                return Skip.NOT_TCP
            ident, frag_offset, more = fragment
            captured = min(ip_end, end) - l4
            piece = Fragment(
                (vlan, record.interface, src, dst, ident),
                frag_offset,
                more,
                l4,
                ip_end - l4,
                captured if captured > 0 else 0,
                record.frame,
                record.ts_ns,
                record.interface,
                vlan,
                src,
                dst,
                tuple(hops),
                proto,
            )
            return Cut(piece) if cut else piece
        if proto == IPPROTO_TCP:
            break
        inner = _through_tunnel(buf, proto, l4, min(ip_end, end), ip_end, src, dst, vlan, hops)
        if isinstance(inner, TunnelFragment):
            piece = _tunnel_fragment(record, inner, datagram_end(buf, l4), end, (vlan, src, dst), hops)
            return Cut(piece) if cut else piece
        if isinstance(inner, list):
            left = depth - used - 1
            return _several(
                _descend(buf, record, one, end, list(hops), left) if isinstance(one, tuple) else one
                for one in inner
            )
        if not isinstance(inner, tuple):
            return inner
        ip_off, version, vlan, outer_end, guessed = inner
    else:
        return Skip.NOT_TCP
    if l4 + 20 > end:
        return Skip.NOT_TCP if guessed else Skip.MALFORMED
    packet = _tcp_packet(record, buf, vlan, src, dst, l4, ip_end, end)
    if isinstance(packet, Cut):
        if guessed:  # not a sound packet: the datagram was plain UDP
            return Skip.NOT_TCP
        if hops and isinstance(packet.packet, TcpPacket):
            packet.packet.path = tuple(hops)
        return packet
    if isinstance(packet, TcpPacket) and hops:
        packet.path = tuple(hops)
    if guessed and packet is Skip.MALFORMED:
        return Skip.NOT_TCP
    return Cut(packet) if cut and isinstance(packet, TcpPacket) else packet


def _through_tunnel(
    buf: Buffer,
    proto: int,
    l4: int,
    end: int,
    ip_end: int,
    src: bytes,
    dst: bytes,
    vlan: tuple[int, ...],
    hops: list[str],
) -> Start | Skip | Undecoded | list[Start | Skip | Undecoded] | TunnelFragment:
    """Where the packet inside the tunnel of IP protocol ``proto`` at ``l4`` starts (its
    payload captured to ``end``, on the wire to ``ip_end``), or why there is none; for an
    802.11 A-MSDU, each of its packets'; for a piece of a CAPWAP packet, the piece."""
    tunnel = tunnel_of(buf, proto, l4, end, ip_end)
    if not isinstance(tunnel, tuple):
        return Skip.NOT_TCP if tunnel is None else Undecoded(tunnel)
    inner_off, inner_kind, name = tunnel
    guessed = proto == IPPROTO_UDP and name not in CONFIRMING_PORTS
    hops.append(tunnel_hop(name, src, dst))
    inner_bound = datagram_end(buf, l4) if proto == IPPROTO_UDP else ip_end
    if inner_kind is Next.CAPWAP_FRAGMENT:
        return capwap_fragment(buf, l4 + 8, inner_off)
    return _inner_of(buf, inner_off, inner_kind, end, inner_bound, vlan, hops, guessed)


def _inner_of(
    buf: Buffer,
    inner_off: int,
    inner_kind: Next,
    end: int,
    inner_bound: int,
    vlan: tuple[int, ...],
    hops: list[str],
    guessed: bool,
) -> Start | Skip | Undecoded | list[Start | Skip | Undecoded]:
    """Where the packet in the frame of kind ``inner_kind`` at ``inner_off`` starts (captured to
    ``end``, on the wire to ``inner_bound``); for an 802.11 A-MSDU, each of its packets'."""
    if inner_kind is Next.IEEE802_11 or inner_kind is Next.IEEE802_11_SWAPPED:
        wlan = ieee802_11(buf, inner_off, end - inner_off, inner_bound, inner_kind is Next.IEEE802_11_SWAPPED)
        if isinstance(wlan, Aggregate):
            return [_inner_start(one, vlan, hops, guessed) for one in wlan.links]
        inner = wlan
    else:
        inner = follow(buf, inner_off, inner_kind, end, NO_TAGS, inner_bound)
    return _inner_start(inner, vlan, hops, guessed)


def _inner_start(
    inner: LinkResult, vlan: tuple[int, ...], hops: list[str], guessed: bool
) -> Start | Skip | Undecoded:
    """Where the packet a tunnel carries starts, from the link header inside it."""
    if inner is None:
        return Skip.NOT_TCP
    if isinstance(inner, str):
        return Undecoded(inner)
    ip_off, version, inner_tags, outer_end = inner
    if ip_off < 0:
        return Skip.NOT_TCP if guessed else Skip.MALFORMED
    hops.extend(vlan_hops(inner_tags))
    return ip_off, version, (*vlan, *inner_tags), outer_end, guessed


def _tunnel_fragment(
    record: Record,
    piece: TunnelFragment,
    wire_end: int,
    end: int,
    where: tuple[tuple[int, ...], bytes, bytes],
    hops: list[str],
) -> Fragment:
    """A piece of a tunnel packet (CAPWAP's) as a Fragment, keyed by the tunnel's addresses and
    its fragment ID (tshark's key), ``wire_end`` where its datagram ends on the wire."""
    vlan, src, dst = where
    captured = min(wire_end, end) - piece.data
    return Fragment(
        (vlan, record.interface, src, dst, piece.ident), piece.offset, piece.more, piece.data,
        wire_end - piece.data, max(captured, 0), record.frame, record.ts_ns, record.interface, vlan, src, dst,
        tuple(hops), piece.kind,
    )  # fmt: skip


def tunnelled_packets(data: bytes, wire_len: int, completing: Fragment) -> list[TcpPacket | Fragment]:
    """The TCP packets and IP fragments inside a reassembled tunnel datagram
    (``fragments.InnerDecoder``): ``data`` holds its captured bytes from the transport header
    on, ``wire_len`` were on the wire.  Decoded as a frame would be from that header on, so
    both readers (which share the reassembler) agree: one packet, or each of an 802.11
    A-MSDU's (an Aruba tunnel's datagram is only whole, and its subframes only found, once
    reassembled); an inner fragment is handed back for the reassembler to take in turn."""
    record = Record(completing.frame, completing.ts_ns, 0, completing.interface, 0, len(data), wire_len)
    hops = list(completing.path)
    end = len(data)
    kind = CAPWAP_PAYLOADS.get(completing.proto)
    if kind is not None:  # a CAPWAP payload, whole: the data is the frame it carries
        inner = _inner_of(data, 0, kind, end, wire_len, completing.vlan, hops, True)
    else:
        tunnel = _through_tunnel(
            data, completing.proto, 0, end, wire_len, completing.src, completing.dst, completing.vlan, hops
        )
        if isinstance(tunnel, TunnelFragment):  # a piece of a CAPWAP packet, in an IP datagram
            where = (completing.vlan, completing.src, completing.dst)
            return [_tunnel_fragment(record, tunnel, datagram_end(data, 0), end, where, hops)]
        inner = tunnel
    found: list[TcpPacket | Fragment] = []
    for start in inner if isinstance(inner, list) else [inner]:
        if not isinstance(start, tuple):
            continue
        result = _descend(data, record, start, end, list(hops))
        for part in result.parts if isinstance(result, Several) else (result,):
            packet = part.packet if isinstance(part, Cut) else part
            if isinstance(packet, TcpPacket | Fragment):
                found.append(packet)
    return found


def reassembler() -> FragmentReassembler:
    """A fragment reassembler that also finds TCP in tunnels' datagrams."""
    return FragmentReassembler(tunnelled_packets)


def _tcp_packet(
    record: Record, buf: Buffer, vlan: tuple[int, ...], src: bytes, dst: bytes, l4: int, ip_end: int, end: int
) -> TcpPacket | Cut | Skip:
    """The TcpPacket for a TCP header at ``l4`` whose IP packet ends at ``ip_end`` on the wire
    (a ``Cut`` short one when that is inside the header but after the window field)."""
    sport, dport, seq, ack, off_flags, window = _tcp(buf, l4)
    doff = (off_flags >> 12) * 4
    if doff < 20:
        return Skip.MALFORMED
    payload = l4 + doff
    if payload > ip_end:
        if ip_end - l4 < _TCP_FIELDS:
            return Skip.MALFORMED
        short = TcpPacket(
            record.frame, record.ts_ns, record.interface, vlan, src, dst, sport, dport, seq, ack,
            off_flags & 0x1FF, window, min(ip_end, end), 0, 0,
        )  # fmt: skip
        return Cut(short, short=True)
    payload_len = ip_end - payload
    captured_end = min(ip_end, end)
    payload_caplen = captured_end - payload if captured_end > payload else 0
    if payload > end:
        # Snaplen cut into the TCP options: the header fields we need are intact.
        payload = end
    return TcpPacket(
        record.frame,
        record.ts_ns,
        record.interface,
        vlan,
        src,
        dst,
        sport,
        dport,
        seq,
        ack,
        off_flags & 0x1FF,
        window,
        payload,
        payload_caplen,
        payload_len,
    )
