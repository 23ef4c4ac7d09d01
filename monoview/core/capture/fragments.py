"""IP fragment reassembly for TCP, as Wireshark does it by default.

A TCP segment whose IP datagram was fragmented arrives in several frames.  The
fragments are held until the datagram is complete, then become one TcpPacket
(at the frame of the fragment that completed it, as tshark reports it) whose
payload lies in several places of the file: nothing is copied.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import Final

from monoview.core.capture.records import Buffer
from monoview.core.packet import TcpPacket

# Datagrams waiting for fragments; beyond this the oldest is given up.
MAX_PENDING: Final = 4096
# Fragments older than this (capture time) belong to a datagram that will never
# complete; a new datagram reusing the IP identification must not splice them in.
MAX_AGE_NS: Final = 30 * 1_000_000_000
_tcp = struct.Struct(">HHIIHH").unpack_from

FragmentKey = tuple[tuple[int, ...], int, bytes, bytes, int]


@dataclass(frozen=True, slots=True)
class Fragment:
    """One fragment of an IP datagram carrying TCP, located in the file."""

    key: FragmentKey  # (VLAN context, interface, source, destination, identification)
    offset: int  # where this fragment's data goes in the datagram's payload
    more: bool  # more fragments follow (the last one has it clear)
    data_offset: int  # file offset of the fragment's data
    data_len: int  # its length on the wire
    data_caplen: int  # its captured length
    frame: int
    ts_ns: int
    interface: int
    vlan: tuple[int, ...]
    src: bytes
    dst: bytes


class FragmentReassembler:
    """Collects fragments per datagram and returns the TcpPacket once it is whole."""

    def __init__(self) -> None:
        self._pending: OrderedDict[FragmentKey, list[Fragment]] = OrderedDict()
        self.given_up = 0  # fragments of datagrams never completed (or evicted)

    def add(self, buf: Buffer, fragment: Fragment) -> TcpPacket | None:
        """Take a fragment; the reassembled packet if this one completed its datagram."""
        parts = self._pending.setdefault(fragment.key, [])
        if parts and fragment.ts_ns - parts[0].ts_ns > MAX_AGE_NS:
            self.given_up += len(parts)
            parts.clear()
        parts.append(fragment)
        packet = _assemble(buf, parts)
        if packet is not None:
            del self._pending[fragment.key]
        elif len(self._pending) > MAX_PENDING:
            _key, dropped = self._pending.popitem(last=False)
            self.given_up += len(dropped)
        return packet

    def finish(self) -> int:
        """End of capture: count the fragments of incomplete datagrams; return that count."""
        self.given_up += sum(len(parts) for parts in self._pending.values())
        self._pending.clear()
        return self.given_up


def _assemble(buf: Buffer, parts: list[Fragment]) -> TcpPacket | None:
    """The TcpPacket of a complete datagram, or None while bytes are missing."""
    last = next((f for f in parts if not f.more), None)
    if last is None:
        return None
    total = last.offset + last.data_len
    ordered = sorted(parts, key=lambda f: (f.offset, f.frame))
    pieces: list[tuple[int, int, int]] = []  # (file offset, captured, wire) in datagram order
    covered = 0
    for f in ordered:
        if f.offset >= total:
            break  # beyond the datagram's end, which the last fragment fixes
        if f.offset > covered:
            return None  # a hole: wait for the missing fragment
        skip = covered - f.offset
        end = min(f.offset + f.data_len, total)
        if end <= covered:
            continue
        cap = max(min(f.data_caplen - skip, end - covered), 0)
        pieces.append((f.data_offset + skip, cap, end - covered))
        covered = end
    if covered < total:
        return None
    # The TCP header may itself be split across fragments: read it from the pieces.
    head = _captured_prefix(buf, pieces, 20)
    if head is None:
        return None
    sport, dport, seq, ack, off_flags, window = _tcp(head, 0)
    doff = (off_flags >> 12) * 4
    if doff < 20 or _captured_prefix(buf, pieces, doff) is None:
        return None
    payload = _after(pieces, doff)
    first_offset = pieces[0][0]
    completing = max(parts, key=lambda f: f.frame)
    packet = TcpPacket(
        completing.frame,
        completing.ts_ns,
        completing.interface,
        completing.vlan,
        completing.src,
        completing.dst,
        sport,
        dport,
        seq,
        ack,
        off_flags & 0x1FF,
        window,
        payload[0][0] if payload else first_offset,
        sum(p[1] for p in payload),
        sum(p[2] for p in payload),
    )
    if len(payload) > 1:
        packet.payload_parts = tuple(payload)
    return packet


def _captured_prefix(buf: Buffer, pieces: list[tuple[int, int, int]], count: int) -> bytes | None:
    """The first ``count`` bytes of the datagram's payload, or None if they were not all captured."""
    out = bytearray()
    for file_offset, caplen, wirelen in pieces:
        take = min(caplen, count - len(out))
        out += buf[file_offset : file_offset + take]
        if len(out) >= count:
            return bytes(out)
        if caplen < wirelen:
            return None  # snaplen cut the header
    return None


def _after(pieces: list[tuple[int, int, int]], skip: int) -> list[tuple[int, int, int]]:
    """The pieces with their first ``skip`` bytes (the TCP header) removed."""
    out = []
    for file_offset, caplen, wirelen in pieces:
        if skip >= wirelen:
            skip -= wirelen
            continue
        out.append((file_offset + skip, max(caplen - skip, 0), wirelen - skip))
        skip = 0
    return out
