"""The IPv4 or IPv6 header of a packet: its protocol, where its payload starts and ends,
its addresses, whether it is a fragment, and the source route it follows (``ipoptions``)."""

from __future__ import annotations

import struct
from typing import Final

from monoview.core.capture.decoded import Skip
from monoview.core.capture.ethernet import Buffer
from monoview.core.capture.ipoptions import options_malformed, source_routed
from monoview.core.capture.tunnels import IPPROTO_UDP, TUNNEL_PROTOCOLS

IPPROTO_TCP: Final = 6
# Headers that end IPv6's extension chain: TCP, and what a tunnel may carry.
_TRANSPORTS: Final = frozenset({IPPROTO_TCP, IPPROTO_UDP, *TUNNEL_PROTOCOLS})
_ipv6_fragment = struct.Struct(">HI").unpack_from
# IPv6 extension headers that are (next, length-in-8-octet-units) shaped.
_IPV6_EXTENSIONS: Final = frozenset({0, 43, 60, 135, 139, 140})
_IPV6_FRAGMENT: Final = 44
_IPV6_AH: Final = 51
_ipv4 = struct.Struct(">BBHHHBBH4s4s").unpack_from
_ipv6 = struct.Struct(">IHBB16s16s").unpack_from


# (identification, offset of the fragment's data, more fragments follow)
FragmentField = tuple[int, int, bool] | None


def ip_header(
    buf: Buffer, ip_off: int, version: int, end: int, wire_end: int
) -> tuple[int, int, int, bytes, bytes, FragmentField, str | None] | Skip:
    """(protocol, transport offset, IP end as the header says, source, destination, fragment,
    the source route as an outer-path hop or None)."""
    if ip_off >= end:
        return Skip.MALFORMED
    if version == 0:
        version = buf[ip_off] >> 4
    if version == 4:
        if ip_off + 20 > end:
            return Skip.MALFORMED
        vihl, _tos, total, ident, frag, _ttl, proto, _sum, src, dst = _ipv4(buf, ip_off)
        ihl = (vihl & 0x0F) * 4
        if vihl >> 4 != 4 or ihl < 20:
            return Skip.MALFORMED
        fragment: FragmentField = None
        if frag & 0x3FFF:  # more-fragments flag or a fragment offset
            fragment = (ident, (frag & 0x1FFF) * 8, bool(frag & 0x2000))
        l4 = ip_off + ihl
        route = None
        if ihl > 20:
            if options_malformed(buf, ip_off + 20, min(l4, end)):
                return Skip.MALFORMED  # tshark's option dissector fails: it reads nothing inside
            dst, route = source_routed(buf, ip_off + 20, min(l4, end), dst)
        # total == 0: TSO/BIG TCP packets leave the length to the link layer.
        if total and total < ihl:
            return Skip.BAD_IP_LENGTH
        ip_end = ip_off + total if total else wire_end
    elif version == 6:
        if ip_off + 40 > end:
            return Skip.MALFORMED
        _vtc, plen, nxt, _hop, src, dst = _ipv6(buf, ip_off)
        l4 = ip_off + 40
        fragment, route = None, None
        while nxt not in _TRANSPORTS:
            if nxt in _IPV6_EXTENSIONS:
                if l4 + 8 > end:
                    return Skip.MALFORMED
                nxt, hlen = buf[l4], (buf[l4 + 1] + 1) * 8
            elif nxt == _IPV6_FRAGMENT:
                if l4 + 8 > end:
                    return Skip.MALFORMED
                frag, ident = _ipv6_fragment(buf, l4 + 2)
                if frag & 0xFFF9:  # offset or more-fragments set: not a whole datagram
                    fragment = (ident, frag & 0xFFF8, bool(frag & 1))
                nxt, hlen = buf[l4], 8
                if fragment is not None:
                    l4 += hlen
                    break  # what follows is a piece of the datagram, not a header
            elif nxt == _IPV6_AH:
                if l4 + 8 > end:
                    return Skip.MALFORMED
                nxt, hlen = buf[l4], (buf[l4 + 1] + 2) * 4
            else:
                return Skip.NOT_TCP
            l4 += hlen
        proto = nxt
        ip_end = ip_off + 40 + plen if plen else wire_end
    else:
        return Skip.NOT_IP
    return proto, l4, ip_end, bytes(src), bytes(dst), fragment, route
