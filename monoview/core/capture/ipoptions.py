"""IPv4 options: the destination a source route leads to, and options tshark cannot read.

Both walks follow Wireshark's IPv4 dissector (``packet-ip.c``, as tshark 4.0 runs it),
because a packet's session and whether it counts at all must be what tshark says.

tshark reads each option it knows with a dissector of its own, given the option's
bytes and no more.  A dissector that reads a field past the option's stated length
raises an exception, which ends the whole packet ("Malformed Packet"): the TCP
segment inside is never dissected, so it belongs to no stream.  An option walk
that merely stops (a length byte missing, a length under 2 or past the header's
end, an unknown option) is only a warning, and the segment counts.  The reads
each dissector makes before it checks anything are below (``_NEEDS``, CIPSO and
Quick-Start); ``tests/core/test_ip_options.py`` holds them against tshark for
every option it knows, at every length.
"""

from __future__ import annotations

from typing import Final

from monoview.core.capture.ethernet import Buffer
from monoview.core.capture.outerpath import route_hop

_END: Final = 0
_NOP: Final = 1
_SOURCE_ROUTES: Final = (0x83, 0x89)  # loose and strict source and record route
_CIPSO: Final = 134
_QUICK_START: Final = 25
# Quick-Start functions whose fields run to the option's 8th byte (rate request, rate report).
_QS_WHOLE: Final = frozenset({0, 8})
_QS_WHOLE_LENGTH: Final = 8
# The option length (type and length bytes included) under which tshark's dissector of that
# option reads past the option's end: the first field it reads unconditionally.
_NEEDS: Final = {
    130: 3,  # Security: its first byte (RFC 1108 classification, or RFC 791's when 11 long)
    131: 3,  # loose source route: the pointer
    137: 3,  # strict source route: the pointer
    7: 3,  # record route: the pointer
    68: 4,  # timestamp: pointer, overflow and flags
    133: 3,  # extended security: the format code
    134: 6,  # CIPSO: the domain of interpretation, then its tags (``_cipso_malformed``)
    136: 4,  # stream identifier
    11: 4,  # MTU probe
    12: 4,  # MTU reply
    82: 12,  # traceroute: id, outbound and return hop counts, originator
    148: 4,  # router alert
    25: 3,  # Quick-Start: the function, then more for some (``_QS_WHOLE``)
}
_CIPSO_TAG_MAX: Final = 34
_CIPSO_RANGED: Final = (1, 2, 5)  # bitmap, enumerated and ranged categories
_CIPSO_PLAIN: Final = (6, 7)  # permissive categories, free form


def options_malformed(buf: Buffer, pos: int, end: int) -> bool:
    """Whether tshark's reading of the IPv4 options in ``buf[pos:end]`` ends in an exception
    (so that it dissects nothing inside the packet)."""
    while pos < end:
        kind = buf[pos]
        if kind in (_END, _NOP):
            pos += 1
            if kind == _END:
                return False
            continue
        if pos + 2 > end:
            return False  # the length byte is missing: a warning, the walk stops
        length = buf[pos + 1]
        if length < 2 or pos + length > end:
            return False  # too short, or past the header: a warning, the walk stops
        if length < _NEEDS.get(kind, 0):
            return True
        if kind == _QUICK_START and buf[pos + 2] >> 4 in _QS_WHOLE and length < _QS_WHOLE_LENGTH:
            return True
        if kind == _CIPSO and _cipso_malformed(buf, pos, length):
            return True
        pos += length
    return False


def _cipso_malformed(buf: Buffer, start: int, length: int) -> bool:
    """Whether tshark's CIPSO tag walk reads past the option (``length`` bytes at ``start``).

    Its bound checks let a tag end one byte past the option, and the tag's last field
    is then read there; an unknown tag type in the option's last byte has its length
    read past it.  Enumerated and ranged categories of an odd tag length leave the
    last byte unread, and the next tag starts on it, as tshark's walk does."""
    offset = 6
    while offset < length:
        tag = buf[start + offset]
        tag_length = buf[start + offset + 1] if offset + 1 < length else 1
        if tag == 0:  # padding
            offset += 1
            continue
        if tag in _CIPSO_RANGED or tag in _CIPSO_PLAIN:
            shortest = 2 if tag == 7 else 4
            if tag_length < shortest or tag_length > _CIPSO_TAG_MAX or offset + tag_length - 1 > length:
                return False  # reported as a malformed tag; the walk stops
            if tag in (2, 5):  # categories two bytes at a time: an odd last byte is not read
                read = 4 + (tag_length - 4) // 2 * 2
                if offset + read > length:
                    return True
                offset += read
                continue
            if offset + tag_length > length:
                return True
            offset += tag_length
            continue
        return offset + 1 == length  # an unknown tag: its length is read, then the walk stops
    return False


def source_routed(buf: Buffer, pos: int, end: int, dst: bytes) -> tuple[bytes, str | None]:
    """The destination a loose or strict source route still leads to, else the header's; and
    the route as an outer-path hop (None: no source route).

    The header's destination of a source-routed packet is the next hop; while the
    option's pointer has not passed its end, its last address is where the packet
    goes.  tshark names (and keys) the packet by that one, so both directions of a
    source-routed connection are one session, and the header's address is "via".
    Its rules (Wireshark's ``get_dst_offset``) are copied as they are: the first source
    route decides; a pointer below 4, not at a whole address or past the option's end
    means the header's destination; else the option's last 4 bytes are the destination,
    whole address or not.
    """
    while pos < end:
        kind = buf[pos]
        if kind == _END:
            break
        if kind == _NOP:
            pos += 1
            continue
        if pos + 2 > end or buf[pos + 1] < 2 or pos + buf[pos + 1] > end:
            break
        length = buf[pos + 1]
        if kind in _SOURCE_ROUTES:
            pointer, route = buf[pos + 2], route_hop(buf, kind, pos, length, dst)
            if pointer < 4 or pointer & 3 or pointer > length:
                return dst, route
            return bytes(buf[pos + length - 4 : pos + length]), route
        pos += length
    return dst, None
