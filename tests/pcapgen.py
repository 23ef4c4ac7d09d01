"""Write small synthetic captures with dpkt, for tests that need an exact scenario.

Each builder returns frame bytes; ``write_pcap``/``write_pcapng`` put them in a
file.  Checksums are computed by dpkt, so the frames are what a real stack sends.
"""

from __future__ import annotations

import io
import socket
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dpkt

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
CLIENT = ("10.0.0.1", 40000)
SERVER = ("10.0.0.2", 80)


def ip_bytes(addr: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6 if ":" in addr else socket.AF_INET, addr)


def tcp_ip(
    src: tuple[str, int],
    dst: tuple[str, int],
    seq: int,
    ack: int,
    flags: int,
    payload: bytes = b"",
    *,
    window: int = 65535,
    options: bytes = b"",
) -> bytes:
    """An IPv4 or IPv6 packet carrying one TCP segment (``options``: raw TCP options, padded to 4)."""
    options += b"\x00" * (-len(options) % 4)
    tcp = dpkt.tcp.TCP(
        sport=src[1], dport=dst[1], seq=seq % 2**32, ack=ack % 2**32, flags=flags, win=window, data=payload,
        off=5 + len(options) // 4, opts=options,
    )  # fmt: skip
    if ":" in src[0]:
        ip6 = dpkt.ip6.IP6(
            src=ip_bytes(src[0]), dst=ip_bytes(dst[0]), nxt=dpkt.ip.IP_PROTO_TCP, hlim=64, data=tcp
        )
        ip6.plen = len(bytes(tcp))
        tcp.sum = 0
        return bytes(ip6)
    ip = dpkt.ip.IP(src=ip_bytes(src[0]), dst=ip_bytes(dst[0]), p=dpkt.ip.IP_PROTO_TCP, ttl=64, data=tcp)
    ip.len = 20 + len(bytes(tcp))
    return bytes(ip)


def ethernet(ip_packet: bytes, vlans: Sequence[int] = ()) -> bytes:
    """Wrap an IP packet in Ethernet II, with 802.1Q tags outermost first."""
    ethertype = 0x86DD if ip_packet[0] >> 4 == 6 else 0x0800
    header = b"\x00\x11\x22\x33\x44\x55" + b"\x66\x77\x88\x99\xaa\xbb"
    tags = b""
    for i, vid in enumerate(vlans):
        tpid = 0x88A8 if i == 0 and len(vlans) > 1 else 0x8100
        tags += struct.pack(">HH", tpid, vid)
    return header + tags + struct.pack(">H", ethertype) + ip_packet


@dataclass
class Frame:
    ts_ns: int
    data: bytes
    origlen: int | None = None
    interface: int = 0


@dataclass
class Conversation:
    """Builds the frames of one TCP connection, keeping sequence numbers for you."""

    client: tuple[str, int] = CLIENT
    server: tuple[str, int] = SERVER
    client_isn: int = 1000
    server_isn: int = 5000
    start_ns: int = 1_700_000_000_000_000_000
    step_ns: int = 1_000_000
    vlans: tuple[int, ...] = ()
    frames: list[Frame] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.c_next = self.client_isn + 1
        self.s_next = self.server_isn + 1
        self._t = self.start_ns

    def _frame(self, ip_packet: bytes) -> Frame:
        self._t += self.step_ns
        frame = Frame(self._t, ethernet(ip_packet, self.vlans))
        self.frames.append(frame)
        return frame

    def handshake(self) -> Conversation:
        self._frame(tcp_ip(self.client, self.server, self.client_isn, 0, SYN))
        self._frame(tcp_ip(self.server, self.client, self.server_isn, self.client_isn + 1, SYN | ACK))
        self._frame(tcp_ip(self.client, self.server, self.c_next, self.s_next, ACK))
        return self

    def segment(self, from_client: bool, offset: int, payload: bytes, flags: int = PSH | ACK) -> Frame:
        """A data segment at stream ``offset`` of that direction (not advancing anything)."""
        if from_client:
            return self._frame(
                tcp_ip(self.client, self.server, self.client_isn + 1 + offset, self.s_next, flags, payload)
            )
        return self._frame(
            tcp_ip(self.server, self.client, self.server_isn + 1 + offset, self.c_next, flags, payload)
        )

    def send(self, from_client: bool, payload: bytes, mss: int = 1000) -> Conversation:
        """Send ``payload`` in order, in segments of at most ``mss``, then an ACK from the peer."""
        for i in range(0, len(payload), mss):
            part = payload[i : i + mss]
            if from_client:
                self.segment(True, self.c_next - self.client_isn - 1, part)
                self.c_next += len(part)
            else:
                self.segment(False, self.s_next - self.server_isn - 1, part)
                self.s_next += len(part)
        self.ack(not from_client)
        return self

    def ack(self, from_client: bool) -> Frame:
        if from_client:
            return self._frame(tcp_ip(self.client, self.server, self.c_next, self.s_next, ACK))
        return self._frame(tcp_ip(self.server, self.client, self.s_next, self.c_next, ACK))

    def close(self) -> Conversation:
        self._frame(tcp_ip(self.client, self.server, self.c_next, self.s_next, FIN | ACK))
        self.c_next += 1
        self._frame(tcp_ip(self.server, self.client, self.s_next, self.c_next, FIN | ACK))
        self.s_next += 1
        self._frame(tcp_ip(self.client, self.server, self.c_next, self.s_next, ACK))
        return self


def pcap_bytes(
    frames: Iterable[Frame],
    linktype: int = 1,
    nanos: bool = False,
    big_endian: bool = False,
    modified: bool = False,
) -> bytes:
    """A classic pcap file (``modified``: Kuznetsov's format, 8 more bytes per record header)."""
    order = ">" if big_endian else "<"
    magic = 0xA1B2CD34 if modified else 0xA1B23C4D if nanos else 0xA1B2C3D4
    out = io.BytesIO()
    out.write(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype))
    for f in frames:
        sec, frac = divmod(f.ts_ns, 1_000_000_000)
        if not nanos:
            frac //= 1000
        origlen = f.origlen if f.origlen is not None else len(f.data)
        out.write(struct.pack(order + "IIII", sec, frac, len(f.data), origlen))
        if modified:
            out.write(struct.pack(order + "IHBB", 2, 0x0800, 0, 0))
        out.write(f.data)
    return out.getvalue()


def write_pcap(path: Path, frames: Iterable[Frame], **kwargs: object) -> Path:
    path.write_bytes(pcap_bytes(frames, **kwargs))  # type: ignore[arg-type]
    return path


def _block(order: str, block_type: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack(order + "II", block_type, length) + body + struct.pack(order + "I", length)


def pcapng_bytes(
    sections: Sequence[tuple[Sequence[tuple[int, int]], Sequence[Frame]]], big_endian: bool = False
) -> bytes:
    """A pcapng file: per section, interfaces as (linktype, tsresol byte) and frames naming them."""
    order = ">" if big_endian else "<"
    out = io.BytesIO()
    for interfaces, frames in sections:
        out.write(_block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1)))
        for linktype, tsresol in interfaces:
            opts = (
                struct.pack(order + "HH", 9, 1)
                + bytes([tsresol])
                + b"\x00\x00\x00"
                + struct.pack(order + "HH", 0, 0)
            )
            out.write(_block(order, 1, struct.pack(order + "HHI", linktype, 0, 262144) + opts))
        for f in frames:
            resol = interfaces[f.interface][1]
            units = 10**resol if not resol & 0x80 else 2 ** (resol & 0x7F)
            ticks = f.ts_ns * units // 1_000_000_000
            origlen = f.origlen if f.origlen is not None else len(f.data)
            body = (
                struct.pack(
                    order + "IIIII", f.interface, ticks >> 32, ticks & 0xFFFFFFFF, len(f.data), origlen
                )
                + f.data
            )
            out.write(_block(order, 6, body))
    return out.getvalue()


def raw_pcap(path: Path, frames: Iterable[bytes], step_ns: int = 10_000) -> Path:
    """A classic pcap of ``frames`` (Ethernet), ``step_ns`` apart: fast for millions of frames."""
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        t = 1_700_000_000_000_000_000
        for data in frames:
            t += step_ns
            out.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(data), len(data)))
            out.write(data)
    return path


def ipv4_tcp_frame(
    src: int, sport: int, dst: int, dport: int, seq: int, ack: int, flags: int, data: bytes
) -> bytes:
    """An Ethernet/IPv4/TCP frame by struct (checksums left zero: monoview, like tshark by
    default, does not check them)."""
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq % 2**32, ack % 2**32, 5 << 4, flags, 65535, 0, 0) + data
    ip = struct.pack(">BBHHHBBHII", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, src, dst) + tcp
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip
