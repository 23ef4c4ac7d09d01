"""IP fragment reassembly for TCP, as Wireshark does it by default.

A TCP segment whose IP datagram was fragmented arrives in several frames.  The
fragments are held until the datagram is complete, then become one TcpPacket
(at the frame of the fragment that completed it, as tshark reports it) whose
payload lies in several places of the file: nothing is copied.

A tunnel's datagram (UDP, GRE, IP in IP...) that was fragmented on its way carries
its TCP packet whole inside the reassembled datagram: tshark reassembles it and decodes
the tunnel there (GTP-U and ERSPAN links fragment 1,500-byte user packets all the time).
Its headers may straddle fragments, so the datagram's captured bytes are copied once
(at most 64 KiB) for the caller's ``InnerDecoder`` to find the TCP packet in; the
packet's payload is then located back in the file's pieces.  Such a datagram may hold
several TCP packets (an 802.11 A-MSDU in an Aruba GRE tunnel): each is located so, and all
belong to the frame that completed the datagram.

The tunnel's inner IP datagram may itself be fragmented, each inner fragment in its own outer
datagram, itself fragmented (a tunnel endpoint that fragments the user's packet to fit the
tunnel's MTU, behind a path that fragments the tunnel's datagrams again): tshark reassembles
both levels.  An inner fragment found in a reassembled datagram is located back in the file's
pieces (``Fragment.parts``) and taken by the same reassembler, so the inner datagram completes
at the frame that completed the outer datagram holding its last fragment.
"""

from __future__ import annotations

import bisect
import struct
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from monoview.core.capture.records import Buffer
from monoview.core.packet import TcpPacket

# Datagrams waiting for fragments; beyond this the oldest is given up.
MAX_PENDING: Final = 4096
# A datagram of more fragments than this is given up (8-byte fragments of a 64 KiB datagram
# would be 8,192; real ones are a few dozen): each fragment that could change a datagram
# whose TCP header is missing means assembling it again.
MAX_FRAGMENTS: Final = 1024
MAX_TCP_HEADER: Final = 60
# Fragments found inside reassembled datagrams inside reassembled datagrams...: a crafted
# capture could nest them deeper than any tunnel stack (``decode.MAX_TUNNEL_DEPTH``).
MAX_NESTING: Final = 4
IPPROTO_TCP: Final = 6
# Fragments older than this (capture time) belong to a datagram that will never
# complete; a new datagram reusing the IP identification must not splice them in.
MAX_AGE_NS: Final = 30 * 1_000_000_000
_tcp = struct.Struct(">HHIIHH").unpack_from

Piece = tuple[int, int, int]  # (file offset, captured, wire) of a stretch of a datagram
FragmentKey = tuple[tuple[int, ...], int, bytes, bytes, int]


@dataclass(frozen=True, slots=True)
class Fragment:
    """One fragment of an IP datagram carrying TCP (or a tunnel: ``proto``), located in the file."""

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
    path: tuple[str, ...] = ()  # the outer path (``outerpath``)
    proto: int = IPPROTO_TCP  # the datagram's IP protocol (IPv6: the header after the fragment's)
    # Its frame gave a TCP packet of its own too (an 802.11 A-MSDU's whole subframe): what this
    # fragment completes is not its frame's first packet (``counts.SkipCounts.aggregated``).
    beside: bool = False
    # A fragment found inside a reassembled datagram: where its data lies in the file (several
    # stretches when it straddled the outer fragments; ``data_offset`` is the first's), the
    # frames of that outer datagram (Wireshark's "depends on" for what it completes), and how
    # many reassembled datagrams it lies in.
    parts: tuple[Piece, ...] | None = None
    depends: tuple[int, ...] = ()
    nesting: int = 0


# The TCP packets inside a reassembled tunnel datagram (mostly one; an 802.11 A-MSDU holds
# several), and the IP fragments in it, given the datagram's captured bytes (from its transport
# header on), its length on the wire and the fragment that completed it; each packet's payload
# offset, and each fragment's data offset, is into those bytes.
InnerDecoder = Callable[[bytes, int, Fragment], list[TcpPacket | Fragment]]


class _Datagram:
    """The fragments of one datagram so far, and how much of it they cover from its start.

    Coverage is kept as merged intervals, so a fragment costs a bisection, not another
    sort and scan of all the fragments before it (5,000 fragments of one datagram took
    5 s).  The datagram is assembled when its first byte to its end are covered.
    """

    __slots__ = ("parts", "last", "starts", "ends", "tried")

    def __init__(self) -> None:
        self.parts: list[Fragment] = []  # in arrival order
        self.last: Fragment | None = None  # the first fragment to arrive without more-fragments
        self.starts: list[int] = []  # covered intervals: sorted, disjoint, not touching
        self.ends: list[int] = []
        self.tried = False  # assembled once with everything covered, and it failed

    def add(self, fragment: Fragment) -> None:
        self.parts.append(fragment)
        if self.last is None and not fragment.more:
            self.last = fragment
        lo, hi = fragment.offset, fragment.offset + fragment.data_len
        if hi <= lo:
            return
        starts, ends = self.starts, self.ends
        i = bisect.bisect_left(ends, lo)  # the first interval that ends at or after lo
        j = bisect.bisect_right(starts, hi)  # the intervals from i to j-1 touch [lo, hi)
        if i < j:
            lo, hi = min(lo, starts[i]), max(hi, ends[j - 1])
        starts[i:j] = [lo]
        ends[i:j] = [hi]

    def complete(self) -> bool:
        """Is every byte from the start to the end the last fragment fixes covered?"""
        if self.last is None:
            return False
        total = self.last.offset + self.last.data_len
        return total == 0 or (bool(self.starts) and self.starts[0] == 0 and self.ends[0] >= total)


class FragmentReassembler:
    """Collects fragments per datagram and returns its TCP packets once it is whole.

    ``inner`` finds the TCP packets in a tunnel's datagram (``decode.tunnelled_packets``);
    without one, only datagrams of TCP are reassembled.
    """

    def __init__(self, inner: InnerDecoder | None = None) -> None:
        self._inner = inner
        self._pending: OrderedDict[FragmentKey, _Datagram] = OrderedDict()
        self.given_up = 0  # fragments of datagrams never completed (or evicted)
        # The frames of the fragments of the datagram the last ``add`` completed (what
        # Wireshark's "depends on" names: ``export --pcap`` writes them with its packets).
        self.fragment_frames: tuple[int, ...] = ()

    def add(self, buf: Buffer, fragment: Fragment) -> tuple[TcpPacket, ...]:
        """Take a fragment; the packets of its datagram if this one completed it (a TCP
        datagram's one packet; those a tunnel's datagram carries), else none."""
        datagram = self._pending.setdefault(fragment.key, _Datagram())
        parts = datagram.parts
        if parts and fragment.ts_ns - parts[0].ts_ns > MAX_AGE_NS:
            self.given_up += len(parts)
            datagram = self._pending[fragment.key] = _Datagram()
        datagram.add(fragment)
        if len(datagram.parts) > MAX_FRAGMENTS:
            self.given_up += len(datagram.parts)
            del self._pending[fragment.key]
            return ()
        packet = None
        if fragment.proto != IPPROTO_TCP:
            if datagram.complete():
                assert datagram.last is not None
                pieces = _pieces(datagram.parts, datagram.last)
                if pieces is not None:  # whole: it holds TCP packets or it never will
                    del self._pending[fragment.key]
                    frames = _frames(datagram.parts)
                    completing = max(datagram.parts, key=lambda f: f.frame)
                    found, inner_frames = self._tunnelled(buf, pieces, completing, frames)
                    self.fragment_frames = tuple(sorted({*frames, *inner_frames}))
                    return found
            self._evict()
            return ()
        # Once everything is covered and assembling failed (the TCP header was not captured),
        # only a fragment within the header's reach can change that.
        if datagram.complete() and (not datagram.tried or fragment.offset < MAX_TCP_HEADER):
            assert datagram.last is not None
            packet = _assemble(buf, datagram.parts, datagram.last)
            datagram.tried = True
        if packet is not None:
            del self._pending[fragment.key]
            self.fragment_frames = _frames(datagram.parts)
            return (packet,)
        self._evict()
        return ()

    def _evict(self) -> None:
        """Give up the oldest datagram when too many wait."""
        if len(self._pending) > MAX_PENDING:
            _key, dropped = self._pending.popitem(last=False)
            self.given_up += len(dropped.parts)

    def _tunnelled(
        self, buf: Buffer, pieces: list[Piece], completing: Fragment, frames: tuple[int, ...]
    ) -> tuple[tuple[TcpPacket, ...], tuple[int, ...]]:
        """The TCP packets inside a whole tunnel datagram (of fragments in ``frames``), their
        payloads located in the file, with those of the inner datagrams its own fragments
        completed; and the frames of those inner datagrams' fragments."""
        if self._inner is None:
            return (), ()
        total = sum(p[2] for p in pieces)
        found: list[TcpPacket] = []
        inner_frames: set[int] = set()
        for part in self._inner(_captured(buf, pieces), total, completing):
            located = _span(pieces, *_placed(part))
            if isinstance(part, TcpPacket):
                part.payload_offset = located[0][0] if located else pieces[0][0]
                part.payload_caplen = sum(p[1] for p in located)
                part.payload_len = sum(p[2] for p in located)
                part.payload_parts = tuple(located) if len(located) > 1 else None
                found.append(part)
            elif completing.nesting < MAX_NESTING and located:
                inner = replace(
                    part,
                    data_offset=located[0][0],
                    data_caplen=sum(p[1] for p in located),
                    parts=tuple(located),
                    depends=frames,
                    nesting=completing.nesting + 1,
                )
                whole = self.add(buf, inner)
                if whole:
                    found.extend(whole)
                    inner_frames.update(self.fragment_frames)
            else:
                self.given_up += 1  # nested too deep (or nothing of it in the datagram)
        return tuple(found), tuple(inner_frames)

    def finish(self) -> int:
        """End of capture: count the fragments of incomplete datagrams; return that count."""
        self.given_up += sum(len(d.parts) for d in self._pending.values())
        self._pending.clear()
        return self.given_up


def _placed(part: TcpPacket | Fragment) -> tuple[int, int]:
    """Where a packet's payload, or a fragment's data, lies in the datagram's bytes."""
    if isinstance(part, TcpPacket):
        return part.payload_offset, part.payload_len
    return part.data_offset, part.data_len


def _frames(parts: list[Fragment]) -> tuple[int, ...]:
    """The frames a datagram's fragments came in (and those of the datagrams that held them,
    for fragments found inside reassembled ones), each once, in order."""
    return tuple(sorted({f.frame for f in parts}.union(*(f.depends for f in parts))))


def _pieces(parts: list[Fragment], last: Fragment) -> list[Piece] | None:
    """Where a datagram's bytes lie in the file, in order (``last`` fixes its end; the first
    copy of a byte wins), or None while bytes are missing."""
    total = last.offset + last.data_len
    ordered = sorted(parts, key=lambda f: (f.offset, f.frame))
    pieces: list[Piece] = []
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
        if f.parts is None:
            cap = max(min(f.data_caplen - skip, end - covered), 0)
            pieces.append((f.data_offset + skip, cap, end - covered))
        else:
            pieces.extend(_span(list(f.parts), skip, end - covered))
        covered = end
    return pieces if covered >= total else None


def _assemble(buf: Buffer, parts: list[Fragment], last: Fragment) -> TcpPacket | None:
    """The TcpPacket of a complete datagram (``last`` fixes its end), or None while bytes are
    missing or its TCP header was not captured."""
    pieces = _pieces(parts, last)
    if pieces is None:
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
    packet.path = completing.path
    if len(payload) > 1:
        packet.payload_parts = tuple(payload)
    return packet


def _captured(buf: Buffer, pieces: list[Piece]) -> bytes:
    """The datagram's bytes up to the first that snaplen cut off."""
    out = bytearray()
    for file_offset, caplen, wirelen in pieces:
        out += buf[file_offset : file_offset + caplen]
        if caplen < wirelen:
            break
    return bytes(out)


def _span(pieces: list[Piece], start: int, length: int) -> list[Piece]:
    """The pieces of the datagram's bytes ``start`` to ``start + length``."""
    out = []
    for file_offset, caplen, wirelen in _after(pieces, start):
        if length <= 0:
            break
        take = min(wirelen, length)
        out.append((file_offset, min(caplen, take), take))
        length -= take
    return out


def _captured_prefix(buf: Buffer, pieces: list[Piece], count: int) -> bytes | None:
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


def _after(pieces: list[Piece], skip: int) -> list[Piece]:
    """The pieces with their first ``skip`` bytes (the TCP header) removed."""
    out = []
    for file_offset, caplen, wirelen in pieces:
        if skip >= wirelen:
            skip -= wirelen
            continue
        out.append((file_offset + skip, max(caplen - skip, 0), wirelen - skip))
        skip = 0
    return out
