"""802.11 data frames: where the IP packet is, or each packet of an A-MSDU aggregate.

An 802.11n QoS data frame may carry an aggregate MSDU (the QoS control's "A-MSDU
present" bit): a run of subframes, each a destination and source address, a
big-endian length and that many bytes of LLC/SNAP and packet, padded to a multiple
of 4 bytes from the aggregate's start.  One frame then holds several IP packets
(Zeek's ``tunnels/gre-aruba-amsdu``: two TLS segments in one frame of an Aruba
access point's tunnel).  tshark walks them as Wireshark's ``packet-ieee80211.c``
does: a subframe after each, while more than a subframe header's 14 bytes remain
of the frame; a subframe whose length runs past the frame holds what the frame
has (tshark decodes the packet in it); one whose header was not captured is
malformed, and ends the walk.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from monoview.core.capture.ethernet import MALFORMED_LINK, NO_TAGS, Buffer, LinkResult, by_ethertype

_LLC_SNAP: Final = b"\xaa\xaa\x03\x00\x00\x00"
_u16 = struct.Struct(">H").unpack_from
_MAC_HEADER: Final = 24
_FOURTH_ADDRESS: Final = 6
_QOS_DATA: Final = 0x80  # subtype bit of the frame control's first byte
_AMSDU_PRESENT: Final = 0x80  # bit 7 of the QoS control field (its first byte, little-endian)
_SUBFRAME_HEADER: Final = 14  # destination, source, length
# No frame holds more subframes than this (the largest A-MSDU, 11,454 bytes, in the
# smallest useful subframes); a bound for the walk, whatever the lengths say.
MAX_SUBFRAMES: Final = 1024


class Aggregate(NamedTuple):
    """The subframes of an A-MSDU, each a ``LinkResult`` (the last may be ``MALFORMED_LINK``:
    its header was not captured)."""

    links: tuple[LinkResult, ...]


WlanResult = LinkResult | Aggregate


def ieee802_11(buf: Buffer, offset: int, caplen: int, wire_end: int, swapped: bool = False) -> WlanResult:
    """An 802.11 data frame's IP packet (LLC/SNAP), or its A-MSDU's subframes; protected,
    management and control frames are not IP.  ``swapped``: the frame control's two bytes
    are in the other order (Wireshark's "byte-swapped FC", as CAPWAP's are read)."""
    if caplen < _MAC_HEADER:
        return None
    fc0, fc1 = buf[offset], buf[offset + 1]
    if swapped:
        fc0, fc1 = fc1, fc0
    if (fc0 >> 2) & 3 != 2 or fc1 & 0x40 or fc0 & 0x40:  # not data, protected, or no payload
        return None
    header = _MAC_HEADER
    if fc1 & 0x03 == 0x03:  # to and from the distribution system: a fourth address
        header += _FOURTH_ADDRESS
    aggregate = False
    if fc0 & _QOS_DATA:  # QoS control, and an HT control field when the order bit is set
        aggregate = header + 2 <= caplen and bool(buf[offset + header] & _AMSDU_PRESENT)
        header += 2 + (4 if fc1 & 0x80 else 0)
    if aggregate:
        return _subframes(buf, offset + header, offset + caplen, wire_end)
    return _llc_snap(buf, offset + header, offset + caplen, wire_end)


def _llc_snap(buf: Buffer, pos: int, end: int, bound: int) -> LinkResult:
    if pos + 8 > end or bytes(buf[pos : pos + 6]) != _LLC_SNAP:
        return None
    return by_ethertype(_u16(buf, pos + 6)[0], pos + 8, NO_TAGS, bound)


def _subframes(buf: Buffer, start: int, end: int, wire_end: int) -> Aggregate | LinkResult:
    """Each subframe of the A-MSDU at ``start`` (captured to ``end``, on the wire to
    ``wire_end``); a single subframe is returned as itself."""
    links: list[LinkResult] = []
    pos = start
    while len(links) < MAX_SUBFRAMES:
        if pos + _SUBFRAME_HEADER > end:
            links.append(MALFORMED_LINK)  # its header was not captured
            break
        msdu = pos + _SUBFRAME_HEADER
        msdu_end = msdu + _u16(buf, pos + 12)[0]
        bound = min(msdu_end, wire_end)
        links.append(_llc_snap(buf, msdu, min(bound, end), bound))
        pos = start + (msdu_end - start + 3) // 4 * 4
        if wire_end - pos <= _SUBFRAME_HEADER:
            break
    return links[0] if len(links) == 1 else Aggregate(tuple(links))
