"""From a batch of frames to TCP rows, vectorised: link layer, IP, TCP in numpy.

The frames nearly every capture is made of (Ethernet with up to two VLAN
tags, and PPPoE sessions carrying IP, bounded by the PPPoE length; Linux
cooked, raw IP, BSD loopback; IPv4 without options, IPv6 without extension
headers; TCP) are decoded for the whole batch at once by gathering
fixed-size header blocks at computed offsets.  Frames that are plainly not
TCP (ARP, UDP, ICMP, spanning tree...) are counted the same way.  Everything
else, whatever could need a judgement (tunnels, fragments, IP options, extension headers,
MPLS, LLC/SNAP, FabricPath, odd link types, headers cut short), goes through
``decode.decode_any`` frame by frame (ESP and L2TPv3 are only counted, by name,
here), so every frame gets exactly the answer
the per-packet decoder gives: ``tests/core/test_scan.py`` holds the two
against each other on every shared capture and on damaged variants of them.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.counts import BAD_IP_LENGTH, SkipCounts
from monoview.core.capture.decode import Cut, Several, Skip, Undecoded, decode_any
from monoview.core.capture.ethernet import (
    ETH_FABRICPATH,
    ETH_MPLS,
    ETH_PPPOE_SESSION,
    MAX_8023_LENGTH,
    Buffer,
)
from monoview.core.capture.fragments import Fragment
from monoview.core.capture.outerpath import PathTable, vlan_hops
from monoview.core.capture.scanrows import (
    FrameColumns,
    Rows,
    be16,
    be32,
    be64,
    ethertype_version,
    packet_rows,
)
from monoview.core.capture.tunnels import (
    PER_FRAME_ETHERTYPES,
    TUNNEL_PROTOCOLS,
    UDP_PORTS,
    UNDECODED_IP_PROTOCOLS,
)
from monoview.core.capture.walk import FrameBatch, header_view
from monoview.core.packet import TcpPacket
from monoview.core.sets import among, unique

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]
Bool = npt.NDArray[np.bool_]

_VLAN_TPIDS: Final = (0x8100, 0x88A8, 0x9100, 0x9200)
_AF_INET6: Final = (10, 24, 28, 30)
# Tunnels go one by one; the encapsulations only named (ESP, L2TPv3) are counted here by name.
_NAMED_PROTOS: Final = tuple(UNDECODED_IP_PROTOCOLS)
_SLOW_IPV4_PROTOS: Final = tuple(p for p in TUNNEL_PROTOCOLS if p not in UNDECODED_IP_PROTOCOLS)
_SLOW_IPV6_NEXT: Final = (0, 43, 60, 135, 139, 140, 44, 51, *_SLOW_IPV4_PROTOS)  # extension headers, tunnels
# MPLS, FabricPath, shims, NSH: one by one.
_SLOW_ETHERTYPES: Final = (*ETH_MPLS, ETH_FABRICPATH, *PER_FRAME_ETHERTYPES)
_LLC_IP_SAPS: Final = (0xAA, 0x06)  # SNAP, the IP SAP
_PPP_IPV4: Final = 0x0021
_PPP_IPV6: Final = 0x0057
# (IP offset, IP version or 0, VLAN context, wire end bound, not IP, unsure) per frame
Linked = tuple[I64, I64, I64, I64, Bool, Bool]
_UDP: Final = 17
_TUNNEL_PORTS: Final = tuple(UDP_PORTS)
_TCP_FIELDS: Final = 16  # a TCP header whose IP packet holds this much is decoded (``decode.Cut``)


# Ethernet II + IPv4 without options + the TCP fixed header, from the frame's first byte.
_PLAIN: Final = np.dtype(
    {
        "names": ["ethertype", "vihl", "total", "frag", "proto", "src", "dst", "sport", "dport", "seq", "ack",
                  "off_flags", "window"],
        "formats": [">u2", "u1", ">u2", ">u2", "u1", ">u4", ">u4", ">u2", ">u2", ">u4", ">u4", ">u2", ">u2"],
        "offsets": [12, 14, 16, 20, 23, 26, 30, 34, 36, 38, 42, 46, 48],
        "itemsize": 54,
    }
)  # fmt: skip

_PLAIN_INT: Final = np.dtype([(name, np.int64) for name in _PLAIN.names or ()])

ScanStats = SkipCounts  # what the frames that were not TCP packets were


class Scanner:
    """Decodes frame batches of one capture into TCP rows.

    Fragments are collected in ``fragments`` (in frame order) for the caller to
    reassemble: one datagram's pieces may lie in different batches, or in
    different workers' ranges.
    """

    def __init__(self, buf: Buffer) -> None:
        self._buf = buf
        self._bytes = np.frombuffer(buf, dtype=np.uint8)
        self.stats = ScanStats()
        self.fragments: list[Fragment] = []
        self.contexts: list[tuple[int, ...]] = [()]
        self._context_ids: dict[tuple[int, ...], int] = {(): 0}
        # Outer paths (``outerpath``); the bulk paths decode no tunnel or source route, so a
        # row's path there is its VLAN tags', kept per context id.
        self.paths = PathTable()
        self._context_paths: list[int] = [0]
        self._views: dict[int, npt.NDArray[np.void]] = {}

    def scan(self, batch: FrameBatch, frames_before: int = 0) -> Rows:
        """The TCP rows of ``batch`` (frame numbers offset by ``frames_before``)."""
        frames = FrameColumns.of(batch, frames_before)
        found: list[Rows] = []
        slow = np.zeros(len(frames), dtype=np.bool_)
        for linktype in unique(batch.linktype).tolist():
            chosen = batch.linktype == linktype
            where = np.arange(len(frames)) if chosen.all() else np.flatnonzero(chosen)
            part = frames if len(where) == len(frames) else frames.take(where)
            if linktype == 1:
                rows, plain = self._plain_ethernet(part)
                found.append(rows)
                where, part = where[~plain], part.take(np.flatnonzero(~plain))
                if not len(where):
                    continue
            link = self._link(part, linktype)
            if link is None:
                slow[where] = True
                continue
            rows, unsure = self._ip_tcp(part, *link)
            found.append(rows)
            slow[where[unsure]] = True
        rows = Rows.concat([r for r in found if len(r)])
        if slow.any():
            rows = Rows.concat([rows, self._one_by_one(frames.take(np.flatnonzero(slow)))])
        if len(found) > 1 or slow.any():
            rows = rows.take(np.argsort(rows.frame, kind="stable"))
        return rows

    def _plain_ethernet(self, frames: FrameColumns) -> tuple[Rows, Bool]:
        """Untagged Ethernet, IPv4 without options, not a fragment, TCP with a sane header:
        nearly every frame of most captures, read through one structured view of their
        first 54 bytes (the fused path of ``decode.decode``).  Returns the rows and which
        frames they came from; the others go the general way."""
        fields = self._gather(frames.data, _PLAIN.itemsize).view(_PLAIN).ravel().astype(_PLAIN_INT)
        plain = (fields["ethertype"] == 0x0800) & (fields["vihl"] == 0x45) & (fields["proto"] == 6)
        plain &= (fields["frag"] & 0x3FFF == 0) & (frames.caplen >= _PLAIN.itemsize)
        data, end, wire_end = frames.data, frames.end, frames.wire_end
        total, off_flags = fields["total"], fields["off_flags"]
        ip_end = np.where(total != 0, data + 14 + total, wire_end)
        payload = data + 34 + (off_flags >> 12) * 4
        plain &= ((off_flags >> 12) >= 5) & (payload <= ip_end) & (ip_end <= wire_end)

        def pick(column: I64) -> I64:
            return column if every else column[plain]

        every = bool(plain.all())
        payload, end, ip_end, off_flags = pick(payload), pick(end), pick(ip_end), pick(off_flags)
        zeros = np.zeros(len(payload), dtype=np.int64)
        rows = Rows(
            frame=pick(frames.frame),
            ts=pick(frames.ts),
            payload=np.minimum(payload, end),
            caplen=np.maximum(np.minimum(ip_end, end) - payload, 0),
            wirelen=ip_end - payload,
            seq=pick(fields["seq"]),
            ack=pick(fields["ack"]),
            flags=off_flags & 0x1FF,
            window=pick(fields["window"]),
            interface=pick(frames.interface),
            vlan=zeros,
            family=zeros + 4,
            src_hi=zeros.astype(np.uint64),
            src_lo=pick(fields["src"]).astype(np.uint64),
            dst_hi=zeros.astype(np.uint64),
            dst_lo=pick(fields["dst"]).astype(np.uint64),
            sport=pick(fields["sport"]),
            dport=pick(fields["dport"]),
            path=zeros,
        )
        return rows, plain

    # -- gathering -----------------------------------------------------------------

    def _gather(self, offsets: I64, width: int) -> npt.NDArray[np.uint8]:
        """``width`` bytes at each offset as a (n, width) array, zeros past the end of the file.

        An item that starts in the file's last ``width - 1`` bytes keeps the bytes
        it has: the last frame's short IP header (a 36-byte fragment, a 28-byte
        ICMP packet) is read, not taken for zeros (which made a malformed frame of
        it, and lost the datagram of a last fragment).
        """
        view = self._views.get(width)
        if view is None:
            view = self._views[width] = header_view(self._buf, width)
        limit = len(view) - 1
        inside = offsets <= limit
        if limit < 0:
            out = np.zeros((len(offsets), width), dtype=np.uint8)
        else:
            out = view[np.where(inside, offsets, 0)].view(np.uint8).reshape(len(offsets), width)
        if not inside.all():
            out[~inside] = 0
            size = len(self._buf)
            for row in np.flatnonzero(~inside & (offsets < size)).tolist():
                start = int(offsets[row])
                tail = np.frombuffer(self._buf[start:size], dtype=np.uint8)
                out[row, : len(tail)] = tail
        return out

    # -- link layers ---------------------------------------------------------------

    def _link(self, frames: FrameColumns, linktype: int) -> Linked | None:
        """(IP offset, IP version or 0, VLAN context, wire end bound, not IP, unsure) per frame;
        None: all one by one."""
        n = len(frames)
        data, caplen, bound = frames.data, frames.caplen, frames.wire_end
        no = np.zeros(n, dtype=np.bool_)
        zero = np.zeros(n, dtype=np.int64)
        if linktype == 1:
            return self._ethernet(frames)
        if linktype in (12, 14, 101, 228, 229):
            version = {228: 4, 229: 6}.get(linktype, 0)
            return data, np.full(n, version, dtype=np.int64), zero, bound, no, caplen <= 0
        if linktype == 113:  # Linux cooked v1
            head = self._gather(data, 16)
            proto = be16(head, 14)
            return (
                data + 16,
                ethertype_version(proto),
                zero,
                bound,
                ~among(proto, (0x0800, 0x86DD)),
                ((caplen < 16) | among(proto, _VLAN_TPIDS)),
            )
        if linktype == 276:  # Linux cooked v2
            proto = be16(self._gather(data, 2), 0)
            not_ip = ~among(proto, (0x0800, 0x86DD))
            return data + 20, ethertype_version(proto), zero, bound, not_ip, caplen < 20
        if linktype in (0, 108):  # BSD loopback (host order), OpenBSD loop (network order)
            head = self._gather(data, 4).astype(np.int64)
            big = head[:, 0] << 24 | head[:, 1] << 16 | head[:, 2] << 8 | head[:, 3]
            if linktype == 0:
                little = head[:, 3] << 24 | head[:, 2] << 16 | head[:, 1] << 8 | head[:, 0]
                family = np.where(little > 0xFFFF, big, little)
            else:
                family = big
            by_family = np.where(family == 2, 4, np.where(among(family, _AF_INET6), 6, 0))
            return data + 4, by_family, zero, bound, by_family == 0, caplen < 4
        return None

    def _ethernet(self, frames: FrameColumns) -> Linked:
        """Ethernet II with at most two VLAN tags, then IP or a PPPoE session carrying IP;
        deeper stacks, LLC/SNAP, MPLS, shims and PPP framed otherwise are unsure."""
        data, caplen = frames.data, frames.caplen
        head = self._gather(data, 22)
        first = be16(head, 12)
        tagged = among(first, _VLAN_TPIDS)
        second = be16(head, 16)
        double = tagged & among(second, _VLAN_TPIDS)
        third = be16(head, 20)
        ethertype = np.where(double, third, np.where(tagged, second, first))
        tags = tagged.astype(np.int64) + double
        needed = 14 + 4 * tags
        unsure = (caplen < needed) | (double & among(third, _VLAN_TPIDS))
        unsure |= among(ethertype, _SLOW_ETHERTYPES)
        vlan = self._vlan_contexts(tags, be16(head, 14) & 0xFFF, be16(head, 18) & 0xFFF)
        version = ethertype_version(ethertype)
        bound = frames.wire_end.copy()
        ip_off = data + needed
        # An 802.3 length: LLC, which may be SNAP or the IP SAP, one by one; the rest is not IP.
        length = ethertype <= MAX_8023_LENGTH
        if length.any():
            sap = self._gather(ip_off[length], 1)[:, 0]
            unsure[length] |= among(sap, _LLC_IP_SAPS)
        pppoe = ethertype == ETH_PPPOE_SESSION
        if pppoe.any():
            self._pppoe(frames, np.flatnonzero(pppoe), ip_off, version, bound, unsure)
        not_ip = ~among(ethertype, (0x0800, 0x86DD)) & ~pppoe
        return ip_off, version, vlan, bound, not_ip, unsure

    def _pppoe(
        self,
        frames: FrameColumns,
        at: npt.NDArray[np.intp],
        ip_off: I64,
        version: I64,
        bound: I64,
        unsure: Bool,
    ) -> None:
        """PPPoE sessions (version 1, type 1, code 0) whose PPP protocol field is IPv4's or
        IPv6's, in place: the IP packet follows the 8 bytes, bounded by the PPPoE payload's
        length; any other (HDLC framing, a compressed field, MPLS, LCP...) is unsure."""
        header = ip_off[at]
        session = self._gather(header, 8)
        proto = be16(session, 6)
        sound = (session[:, 0] == 0x11) & (session[:, 1] == 0) & among(proto, (_PPP_IPV4, _PPP_IPV6))
        sound &= frames.caplen[at] >= header - frames.data[at] + 8
        unsure[at] |= ~sound
        ip_off[at] = header + 8
        version[at] = np.where(proto == _PPP_IPV6, 6, 4)
        bound[at] = np.minimum(bound[at], header + 6 + be16(session, 4))

    def _vlan_contexts(self, tags: I64, outer: I64, inner: I64) -> I64:
        """Context ids for frames with 0, 1 or 2 VLAN tags."""
        if not tags.any():
            return np.zeros(len(tags), dtype=np.int64)
        code = tags << 24 | np.where(tags > 0, outer, 0) << 12 | np.where(tags > 1, inner, 0)
        unique, inverse = np.unique(code, return_inverse=True)
        ids = []
        for value in unique.tolist():
            count, a, b = value >> 24, (value >> 12) & 0xFFF, value & 0xFFF
            ids.append(self._context((a, b)[:count]))
        return np.asarray(ids, dtype=np.int64)[inverse]

    def _context(self, tags: tuple[int, ...]) -> int:
        found = self._context_ids.get(tags)
        if found is None:
            found = self._context_ids[tags] = len(self.contexts)
            self.contexts.append(tags)
            self._context_paths.append(self.paths.id(vlan_hops(tags)))
        return found

    # -- IP and TCP ------------------------------------------------------------------

    def _ip_tcp(
        self,
        frames: FrameColumns,
        ip_off: I64,
        version: I64,
        vlan: I64,
        bound: I64,
        not_ip: Bool,
        unsure: Bool,
    ) -> tuple[Rows, Bool]:
        """The TCP rows among ``frames`` decoded in bulk, and which frames must go one by one;
        ``bound`` is where each IP packet must end on the wire (the frame's end, or a PPPoE
        payload's)."""
        end, wire_end = frames.end, bound
        skipped = self.stats.skipped
        ip = self._gather(ip_off, 40)
        candidate = ~unsure & ~not_ip
        version = np.where(version == 0, ip[:, 0] >> 4, version)
        malformed = candidate & (ip_off >= end)
        candidate &= ~malformed
        is4 = candidate & (version == 4)
        is6 = candidate & (version == 6)
        bad_version = candidate & ~is4 & ~is6  # a version nibble that is neither: not IP
        # IPv4
        vihl = ip[:, 0].astype(np.int64)
        ihl = (vihl & 0x0F) * 4
        total = be16(ip, 2)
        frag = be16(ip, 6)
        proto4 = ip[:, 9].astype(np.int64)
        bad4 = is4 & ((ip_off + 20 > end) | (vihl >> 4 != 4) | (ihl < 20))
        is4 &= ~bad4
        # Fragments; options, which may hold a source route that names the destination.
        one_by_one = is4 & ((frag & 0x3FFF != 0) | (ihl > 20))
        is4 &= ~one_by_one
        # IPv6
        plen = be16(ip, 4)
        nxt = ip[:, 6].astype(np.int64)
        bad6 = is6 & (ip_off + 40 > end)
        is6 &= ~bad6
        proto = np.where(is6, nxt, proto4)
        l4 = np.where(is6, ip_off + 40, ip_off + ihl)
        length = np.where(is6, plen, total)
        header = np.where(is6, 40, 0)
        ip_end = np.where(length != 0, ip_off + header + length, wire_end)
        ipv = is4 | is6
        tunnel = ipv & np.where(is6, among(nxt, _SLOW_IPV6_NEXT), among(proto4, _SLOW_IPV4_PROTOS))
        ipv &= ~tunnel
        bad_length = ipv & is4 & (total != 0) & (total < ihl)
        ipv &= ~bad_length
        named = ipv & among(proto, _NAMED_PROTOS)  # decode_any: Undecoded, cut short or not
        if named.any():
            self._count_named(frames.frame, proto, named)
            ipv &= ~named
        # Longer than the frame: decode_any decodes and counts it (IPv6's past the header chain).
        cut = ipv & (ip_end > wire_end) & (is4 | among(nxt, (6, _UDP)))
        ipv &= ~cut
        if bad_length.any():
            self.stats.first(BAD_IP_LENGTH, int(frames.frame[bad_length].min()))
        udp = ipv & (proto == _UDP)
        tunnel_port = udp & (l4 + 8 <= np.minimum(ip_end, end))
        if tunnel_port.any():
            ports = self._gather(l4[tunnel_port], 4)
            tunnel_port[tunnel_port] = among(be16(ports, 0), _TUNNEL_PORTS) | among(
                be16(ports, 2), _TUNNEL_PORTS
            )
        tcp = ipv & (proto == 6)
        not_tcp = ipv & ~tcp & ~tunnel_port
        # TCP
        short_tcp = tcp & (l4 + 20 > end)
        tcp &= ~short_tcp
        rows_at = np.flatnonzero(tcp)
        head = self._gather(l4[rows_at], 20)
        off_flags = be16(head, 12)
        payload = l4[rows_at] + (off_flags >> 12) * 4
        their_end = ip_end[rows_at]
        bad_tcp = ((off_flags >> 12) < 5) | (payload > their_end)
        # A header past its IP packet's end but with its fields inside it: decode_any's (``Cut``).
        short = np.zeros(len(frames), dtype=np.bool_)
        short[rows_at] = bad_tcp & ((off_flags >> 12) >= 5) & (their_end - l4[rows_at] >= _TCP_FIELDS)
        bad_tcp &= ~short[rows_at]
        count = Counter(
            {
                Skip.NOT_IP.value: int(np.count_nonzero(not_ip & ~unsure) + np.count_nonzero(bad_version)),
                Skip.NOT_TCP.value: int(np.count_nonzero(not_tcp)),
                Skip.MALFORMED.value: int(
                    np.count_nonzero(malformed | bad4 | bad6 | short_tcp) + np.count_nonzero(bad_tcp)
                ),
                BAD_IP_LENGTH: int(np.count_nonzero(bad_length)),
            }
        )
        skipped.update({k: v for k, v in count.items() if v})
        good = ~bad_tcp & ~short[rows_at]
        rows_at, head, payload, their_end = rows_at[good], head[good], payload[good], their_end[good]
        captured_end = np.minimum(their_end, end[rows_at])
        src = ip[rows_at]
        six = is6[rows_at]
        rows = Rows(
            frame=frames.frame[rows_at],
            ts=frames.ts[rows_at],
            payload=np.minimum(payload, end[rows_at]),
            caplen=np.maximum(captured_end - payload, 0),
            wirelen=their_end - payload,
            seq=be32(head, 4),
            ack=be32(head, 8),
            flags=off_flags[good] & 0x1FF,
            window=be16(head, 14),
            interface=frames.interface[rows_at],
            vlan=vlan[rows_at],
            family=np.where(six, 6, 4),
            src_hi=np.where(six, be64(src, 8), np.uint64(0)),
            src_lo=np.where(six, be64(src, 16), be32(src, 12).astype(np.uint64)),
            dst_hi=np.where(six, be64(src, 24), np.uint64(0)),
            dst_lo=np.where(six, be64(src, 32), be32(src, 16).astype(np.uint64)),
            sport=be16(head, 0),
            dport=be16(head, 2),
            path=np.asarray(self._context_paths, dtype=np.int64)[vlan[rows_at]],
        )
        return rows, unsure | one_by_one | tunnel | tunnel_port | cut | short

    def _count_named(self, frame: I64, proto: I64, named: Bool) -> None:
        """Count the frames of encapsulations only named (``decode.Undecoded``) by name, the
        first of each by its frame number, as ``SkipCounts.skip`` counts them one by one."""
        for number, name in UNDECODED_IP_PROTOCOLS.items():
            these = named & (proto == number)
            count = int(np.count_nonzero(these))
            if count:
                self.stats.skipped[Undecoded.value] += count
                self.stats.undecoded[name] += count
                self.stats.first(name, int(frame[these].min()))

    # -- one by one ------------------------------------------------------------------

    def _one_by_one(self, frames: FrameColumns) -> Rows:
        """Frames the bulk path leaves to ``decode_any``, exactly as the per-packet reader did."""
        buf = self._buf
        packets: list[TcpPacket] = []
        stats = self.stats
        for record in frames.records():
            try:
                result = decode_any(buf, record)
            except Exception:  # noqa: BLE001 - a decoder bug costs its frame (malformed), not the load
                result = Skip.MALFORMED
            if isinstance(result, Cut):
                stats.cut_packet(record.frame, result.short)
                result = result.packet
            if isinstance(result, TcpPacket):
                packets.append(result)
            elif isinstance(result, Fragment):
                self.fragments.append(result)
            elif isinstance(result, Several):  # an 802.11 A-MSDU: several packets of one frame
                for part in stats.several(result, record.frame, record.linktype):
                    if isinstance(part, TcpPacket):
                        packets.append(part)
                    else:
                        self.fragments.append(part)
            else:
                stats.skip(result, record.frame, record.linktype)
        return self.packet_rows(packets)

    def packet_rows(self, packets: list[TcpPacket]) -> Rows:
        """Rows for decoded packets (the one-by-one path, reassembled fragments)."""
        return packet_rows(packets, self._context, self.paths.id)
