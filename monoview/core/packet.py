"""The decoded TCP packet that flows through the dispatcher.

It holds header fields and *where* the payload lies in the capture file, never
the payload itself.  The TCP listener fills in ``session`` and ``kind`` before
other listeners see it (Net::Analysis "augments packets for downstream
listeners").
"""

from __future__ import annotations

import functools
import ipaddress
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monoview.core.tcp.session import TcpSession

FIN = 0x01
SYN = 0x02
RST = 0x04
PSH = 0x08
ACK = 0x10
URG = 0x20


class SegmentKind(Enum):
    """What a packet contributed to its direction's stream (Net::Analysis PKT_* classes)."""

    CONTROL = "control"  # no payload: handshake, ACK, FIN or RST only
    DATA = "data"  # new bytes delivered in order
    FUTURE = "future"  # bytes ahead of a hole, held until it fills
    DUPLICATE = "duplicate"  # only bytes already seen (retransmission)
    KEEPALIVE = "keepalive"  # a keep-alive probe's garbage byte
    FILL = "fill"  # bytes of a hole: before the first captured segment, or given up as lost
    LATE = "late"  # arrived after its session was finished; counted, not reassembled


@functools.lru_cache(maxsize=1 << 16)
def format_ip(raw: bytes) -> str:
    """Text form of a 4- or 16-byte address (IPv6 compressed, as Wireshark prints it).

    Cached: an export or a listing names every session's two addresses, and
    captures hold far fewer addresses than sessions.
    """
    return str(ipaddress.ip_address(raw))


def format_endpoint(raw_ip: bytes, port: int) -> str:
    """``1.2.3.4:80`` or ``[2001:db8::1]:80``."""
    ip = format_ip(raw_ip)
    return f"[{ip}]:{port}" if len(raw_ip) == 16 else f"{ip}:{port}"


def format_ts(ts_ns: int) -> str:
    """Epoch seconds with all nine nanosecond digits, as the oracle prints them."""
    return f"{ts_ns // 1_000_000_000}.{ts_ns % 1_000_000_000:09d}"


class TcpPacket:
    """One TCP segment as captured.

    ``payload_offset``/``payload_caplen`` locate the captured payload in the file;
    ``payload_len`` is its length on the wire (larger when snaplen cut it).
    ``vlan`` holds the VLAN ids outermost first; with ``interface`` it forms the
    context that keeps equal 4-tuples on different segments apart.
    """

    __slots__ = (
        "ack",
        "flags",
        "frame",
        "interface",
        "kind",
        "path",
        "payload_caplen",
        "payload_len",
        "payload_offset",
        "payload_parts",
        "seq",
        "session",
        "dport",
        "dst",
        "sport",
        "src",
        "ts_ns",
        "vlan",
        "window",
    )

    def __init__(
        self,
        frame: int,
        ts_ns: int,
        interface: int,
        vlan: tuple[int, ...],
        src: bytes,
        dst: bytes,
        sport: int,
        dport: int,
        seq: int,
        ack: int,
        flags: int,
        window: int,
        payload_offset: int,
        payload_caplen: int,
        payload_len: int,
    ) -> None:
        self.frame = frame
        self.ts_ns = ts_ns
        self.interface = interface
        self.vlan = vlan
        self.src = src
        self.dst = dst
        self.sport = sport
        self.dport = dport
        self.seq = seq
        self.ack = ack
        self.flags = flags
        self.window = window
        self.payload_offset = payload_offset
        self.payload_caplen = payload_caplen
        self.payload_len = payload_len
        self.session: TcpSession | None = None
        self.kind: SegmentKind | None = None
        # (file offset, captured, wire length) of each part, when the payload is not in
        # one place (a segment reassembled from IP fragments); None otherwise.
        self.payload_parts: tuple[tuple[int, int, int], ...] | None = None
        # What the packet came through (tunnels, VLAN tags, a source route): context, not key
        # (``capture.outerpath``); set by the decoder when there is any.
        self.path: tuple[str, ...] = ()

    @property
    def truncated(self) -> bool:
        """True when snaplen cut part of the payload off."""
        return self.payload_caplen < self.payload_len

    def flag_names(self) -> str:
        """Flags as tcpdump prints them: ``S``, ``S.``, ``F.``, ``R``, ``P.``."""
        names = "".join(
            c for bit, c in ((SYN, "S"), (FIN, "F"), (RST, "R"), (PSH, "P"), (URG, "U")) if self.flags & bit
        )
        return (names or "") + ("." if self.flags & ACK else "")

    def describe(self) -> str:
        """One trace line: frame, time, endpoints, flags, seq, ack, length."""
        return (
            f"#{self.frame} {format_ts(self.ts_ns)} {format_endpoint(self.src, self.sport)} > "
            f"{format_endpoint(self.dst, self.dport)} [{self.flag_names()}] seq {self.seq} "
            f"ack {self.ack} len {self.payload_len}"
        )

    def __repr__(self) -> str:
        return f"TcpPacket({self.describe()})"
