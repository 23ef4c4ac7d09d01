"""Frames as the fuzzer builds and edits them: link headers, IPv4/IPv6, TCP, tunnels.

Only what the mutators need: find the IP and TCP headers of a frame of the link
types monoview decodes, rebuild a frame around a changed IP packet, and make
headers from fields.  Checksums are not computed (monoview never checks them).
Stdlib only, and the reader's budget of stacked tags.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from monoview.core.capture.ethernet import MAX_LINK_STEPS

ETH_V4, ETH_V6 = 0x0800, 0x86DD
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100, 0x9200)


@dataclass
class View:
    """Where the layers of a TCP frame are (offsets into the frame)."""

    link_len: int  # bytes before the IP header
    version: int
    ip_len: int  # IP header bytes (IPv6: the fixed header only)
    l4: int  # TCP header offset
    doff: int  # TCP header length
    src: bytes
    dst: bytes
    sport: int
    dport: int
    seq: int
    ack: int
    flags: int

    @property
    def payload(self) -> int:
        """Offset of the TCP payload."""
        return self.l4 + self.doff

    def key(self) -> tuple[bytes, int, bytes, int]:
        """The sending side and the receiving side."""
        return self.src, self.sport, self.dst, self.dport


def link_ip(data: bytes | bytearray, link: int) -> tuple[int, int] | None:
    """(IP header offset, offset of the ethertype field or -1) of a frame, for the common links."""
    n = len(data)
    if link == 1:
        pos = 12
        # At most the reader's budget of stacked tags (a deeper frame is malformed to it, so
        # not a TCP frame to mutate): unbounded, the walk made building 41:656644 (10,000 tags
        # on 50 frames, 30,534 records, each viewed by seq_jump) take 177 CPU seconds.
        for _tag in range(MAX_LINK_STEPS + 1):
            if pos + 2 > n:
                return None
            (ethertype,) = struct.unpack_from(">H", data, pos)
            if ethertype in VLAN_TPIDS:
                pos += 4
                continue
            if ethertype in (ETH_V4, ETH_V6):
                return pos + 2, pos
            return None
        return None
    if link == 113:
        return (16, 14) if n >= 16 else None
    if link == 276:
        return (20, 0) if n >= 20 else None
    if link in (12, 14, 101, 228, 229):
        return 0, -1
    if link in (0, 108):
        return (4, -1) if n >= 4 else None
    return None


def view(data: bytes | bytearray, link: int) -> View | None:
    """The layers of an unfragmented TCP-over-IP frame (None for anything else)."""
    found = link_ip(data, link)
    if found is None:
        return None
    ip, _et = found
    if ip + 20 > len(data):
        return None
    version = data[ip] >> 4
    if version == 4:
        ihl = (data[ip] & 15) * 4
        frag = struct.unpack_from(">H", data, ip + 6)[0]
        if ihl < 20 or data[ip + 9] != 6 or frag & 0x3FFF:
            return None
        src, dst = bytes(data[ip + 12 : ip + 16]), bytes(data[ip + 16 : ip + 20])
        l4 = ip + ihl
    elif version == 6:
        if ip + 40 > len(data) or data[ip + 6] != 6:
            return None
        ihl = 40
        src, dst = bytes(data[ip + 8 : ip + 24]), bytes(data[ip + 24 : ip + 40])
        l4 = ip + 40
    else:
        return None
    if l4 + 20 > len(data):
        return None
    sport, dport, seq, ack, off_flags = struct.unpack_from(">HHIIH", data, l4)
    doff = (off_flags >> 12) * 4
    if doff < 20 or l4 + doff > len(data):
        return None
    return View(ip, version, ihl, l4, doff, src, dst, sport, dport, seq, ack, off_flags & 0x1FF)


def fix_ip_length(frame: bytearray, v: View) -> None:
    """Make the IP length fields agree with the frame (after the payload changed)."""
    ip = v.link_len
    if v.version == 4:
        struct.pack_into(">H", frame, ip + 2, min(len(frame) - ip, 0xFFFF))
    else:
        struct.pack_into(">H", frame, ip + 4, min(len(frame) - ip - 40, 0xFFFF))


def with_payload(frame: bytes | bytearray, v: View, payload: bytes) -> bytearray:
    """The frame with its TCP payload replaced (IP lengths fixed)."""
    out = bytearray(frame[: v.payload]) + payload
    fix_ip_length(out, v)
    return out


def set_tcp(frame: bytearray, v: View, **fields: int) -> None:
    """Set TCP fields in place: sport, dport, seq, ack, flags, window."""
    l4 = v.l4
    if "sport" in fields:
        struct.pack_into(">H", frame, l4, fields["sport"] & 0xFFFF)
    if "dport" in fields:
        struct.pack_into(">H", frame, l4 + 2, fields["dport"] & 0xFFFF)
    if "seq" in fields:
        struct.pack_into(">I", frame, l4 + 4, fields["seq"] & 0xFFFFFFFF)
    if "ack" in fields:
        struct.pack_into(">I", frame, l4 + 8, fields["ack"] & 0xFFFFFFFF)
    if "flags" in fields:
        off = struct.unpack_from(">H", frame, l4 + 12)[0] & 0xF000
        struct.pack_into(">H", frame, l4 + 12, off | (fields["flags"] & 0x1FF))
    if "window" in fields:
        struct.pack_into(">H", frame, l4 + 14, fields["window"] & 0xFFFF)


def replace_ip(frame: bytes | bytearray, link: int, ip_packet: bytes) -> bytearray | None:
    """The frame with its IP packet replaced (the ethertype or protocol field fixed)."""
    found = link_ip(frame, link)
    if found is None:
        return None
    ip, et = found
    out = bytearray(frame[:ip]) + ip_packet
    version = ip_packet[0] >> 4 if ip_packet else 4
    if et >= 0:
        struct.pack_into(">H", out, et, ETH_V6 if version == 6 else ETH_V4)
    return out


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, *, ident: int = 1, frag: int = 0) -> bytes:
    """An IPv4 packet without options."""
    return (
        struct.pack(
            ">BBHHHBBH4s4s",
            0x45,
            0,
            min(20 + len(payload), 0xFFFF),
            ident & 0xFFFF,
            frag & 0xFFFF,
            64,
            proto,
            0,
            src,
            dst,
        )
        + payload
    )


def ipv6(src: bytes, dst: bytes, nxt: int, payload: bytes) -> bytes:
    """An IPv6 packet (``payload`` starts with any extension headers)."""
    return struct.pack(">IHBB16s16s", 6 << 28, min(len(payload), 0xFFFF), nxt, 64, src, dst) + payload


def as_v6(address: bytes) -> bytes:
    """A 16-byte address for a 4-byte one (IPv4-mapped), or the address itself."""
    return address if len(address) == 16 else b"\x00" * 10 + b"\xff\xff" + address


def tcp(
    sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes = b"", window: int = 65535
) -> bytes:
    """A TCP segment without options."""
    return (
        struct.pack(
            ">HHIIHHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x5000 | flags, window, 0, 0
        )
        + payload
    )


def ethernet(ip_packet: bytes, tags: bytes = b"") -> bytes:
    """Ethernet II around an IP packet, with raw tag bytes after the addresses."""
    ethertype = ETH_V6 if ip_packet and ip_packet[0] >> 4 == 6 else ETH_V4
    return (
        b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb" + tags + struct.pack(">H", ethertype) + ip_packet
    )


def link_header(link: int, ip_packet: bytes) -> bytes:
    """A frame of ``link`` around an IP packet."""
    six = bool(ip_packet) and ip_packet[0] >> 4 == 6
    ethertype = ETH_V6 if six else ETH_V4
    if link == 1:
        return ethernet(ip_packet)
    if link == 113:  # Linux cooked v1: packet type, ARPHRD, address length, address, protocol
        return struct.pack(">HHH8sH", 0, 1, 6, b"\x00\x11\x22\x33\x44\x55\x00\x00", ethertype) + ip_packet
    if link == 276:  # v2: protocol, reserved, interface, ARPHRD, type, address length, address
        return (
            struct.pack(">HHIHBB8s", ethertype, 0, 2, 1, 0, 6, b"\x00\x11\x22\x33\x44\x55\x00\x00")
            + ip_packet
        )
    if link == 0:
        return struct.pack("<I", 30 if six else 2) + ip_packet
    if link == 108:
        return struct.pack(">I", 24 if six else 2) + ip_packet
    return ip_packet  # raw IP links


def ip_packet_of(frame: bytes | bytearray, link: int) -> bytes | None:
    """The IP packet inside a frame (None when the link header is not understood)."""
    found = link_ip(frame, link)
    return None if found is None else bytes(frame[found[0] :])
