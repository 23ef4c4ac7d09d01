"""CAPWAP's data channel (RFC 5415/5416, UDP 5247): where the frame it carries starts.

A CAPWAP access point sends its clients' frames to its controller: a native 802.11 frame
(LLC/SNAP) or an Ethernet frame after a header of its own, which may be cut into CAPWAP
fragments when the frame does not fit the path.  ``capwap_data`` is ``tunnels``' decoder
for the port; a fragment is described by ``capwap_fragment`` for ``decode`` to reassemble
with the IP fragments' reassembler, keyed apart from them.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from monoview.core.capture.records import Buffer
from monoview.core.capture.tunnelkind import Next, TunnelResult

_u16x2 = struct.Struct(">HH").unpack_from

_CAPWAP_DTLS: Final = 1  # the preamble's type: a DTLS record follows, not a CAPWAP header
_CAPWAP_KEEP_ALIVE: Final = 0x08  # K: a keep-alive, no user data
_CAPWAP_FRAGMENT: Final = 0x80  # F: one fragment of a CAPWAP packet
_CAPWAP_IEEE802_11: Final = 1  # the wireless binding ID of IEEE 802.11


def capwap_data(buf: Buffer, pos: int, end: int, wire_end: int) -> TunnelResult:
    """The CAPWAP data channel (RFC 5415/5416, UDP 5247): an access point's clients' frames
    to its controller.  The preamble's version 0, the header's length (HLEN, in 4-byte words,
    the radio MAC and wireless information included) at least 8 bytes and inside the
    datagram; with the T bit, a native 802.11 frame (wireless binding 1), else an Ethernet
    frame.  tshark reads the 802.11 frame's control field byte-swapped (its default "Swap
    Frame Control", for Cisco's access points), and so does monoview, to see what tshark sees.
    A DTLS-encrypted payload is named.  A CAPWAP packet of several fragments (F) is
    reassembled as tshark does (``capwap_fragment``); its reserved bits must be clear, or a
    random datagram to the port would wait as a fragment that never completes."""
    if pos + 8 > end or buf[pos] >> 4:
        return None
    if buf[pos] & 0x0F == _CAPWAP_DTLS:
        return "CAPWAP (DTLS)"
    hlen, flags = buf[pos + 1] >> 3, buf[pos + 3]
    inner = pos + 4 * hlen
    if buf[pos] & 0x0F or hlen < 2 or inner > wire_end or flags & _CAPWAP_KEEP_ALIVE:
        return None
    native, wbid = buf[pos + 2] & 0x01, (buf[pos + 2] >> 1) & 0x1F
    if native and wbid != _CAPWAP_IEEE802_11:
        return None
    if flags & _CAPWAP_FRAGMENT:
        reserved = flags & 0x07 or buf[pos + 7] & 0x07
        return None if reserved else (inner, Next.CAPWAP_FRAGMENT)
    return inner, Next.IEEE802_11_SWAPPED if native else Next.ETHERNET


class TunnelFragment(NamedTuple):
    """A piece of a tunnel's own fragmentation (CAPWAP's), reassembled as IP fragments are."""

    ident: int  # the fragment ID, above every IP identification: never mixed with one
    offset: int  # where its data goes in the whole payload
    more: bool  # more pieces follow (the last has CAPWAP's L flag)
    data: int  # where its data starts
    kind: int  # what the whole payload is, as a pseudo IP protocol (``CAPWAP_PAYLOADS``)


_TUNNEL_IDENT: Final = 1 << 32  # IPv6 identifications have 32 bits
# Pseudo IP protocols (above 255) of a reassembled CAPWAP payload, and what it is.
CAPWAP_PAYLOADS: Final = {
    0x100 | Next.IEEE802_11_SWAPPED: Next.IEEE802_11_SWAPPED,
    0x100 | Next.ETHERNET: Next.ETHERNET,
}


def capwap_fragment(buf: Buffer, pos: int, data: int) -> TunnelFragment:
    """The CAPWAP fragment whose header (checked by ``_capwap``) is at ``pos``, its data at
    ``data``: the fragment ID, the offset (in 8-byte units) and the L (last) flag."""
    fragment_id, word = _u16x2(buf, pos + 4)
    kind = Next.IEEE802_11_SWAPPED if buf[pos + 2] & 0x01 else Next.ETHERNET
    return TunnelFragment(
        _TUNNEL_IDENT | fragment_id, (word >> 3) * 8, not buf[pos + 3] & 0x40, data, 0x100 | kind
    )
