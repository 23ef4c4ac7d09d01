"""The mutators: what the fuzzer does to a capture, layer by layer.

Structural mutators edit a parsed :class:`~tests.fuzz.capmodel.Capture` (its
records, their frames) and the file is written back with lengths that agree;
byte-level mutators then edit the written bytes, knowing where every record
starts, so they can lie about exactly the lengths a reader trusts.  Every
mutator takes a ``random.Random`` and returns a short description of what it
did (the plan recorded with a finding).  Values are drawn from "interesting"
lists (type boundaries, the reader's own limits) as often as at random.

Layers: container (pcap record headers, pcapng blocks, options, sections,
interfaces, timestamps and their resolution), link (Ethernet with 802.1Q/802.1ad
stacks, MPLS, PPPoE, Linux cooked v1/v2, raw IP, BSD loopback), IP (IPv4 and
IPv6 header fields, fragments, IPv6 extension chains, IP-in-IP, 6in4, GRE,
VXLAN) and TCP (header fields, sequence jumps, storms of one-packet sessions,
conflicting overlaps).
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable

from tests.fuzz import frames as fr
from tests.fuzz.capmodel import (
    EPB,
    IDB,
    ISB,
    NRB,
    OPB,
    SHB,
    SPB,
    Capture,
    Mark,
    Record,
    epb,
    idb_body,
    shb_body,
    to_pcapng,
)

U8 = [0, 1, 0x7F, 0x80, 0xFE, 0xFF]
U16 = [0, 1, 4, 5, 8, 19, 20, 39, 40, 60, 1500, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF]
U32 = [
    0,
    1,
    3,
    4,
    11,
    12,
    16,
    27,
    28,
    31,
    32,
    0x7FFFFFFF,
    0x80000000,
    0xFFFFFFFE,
    0xFFFFFFFF,
    65535,
    65536,
    262144,
    16 << 20,
    (16 << 20) + 1,
    (16 << 20) + 4096,
    (16 << 20) + 4100,
]
U64 = [0, 1, 2**31, 2**32 - 1, 2**32, 2**53, 2**62, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 2, 2**64 - 1]
TSRESOL = [
    0xBC,
    0xFF,
    0xFE,
    0x7F,
    0x80,
    0x81,
    0xBF,
    0xC0,
    0x00,
    0x01,
    0x09,
    0x0C,
    0x12,
    0x13,
    0x14,
    0x3F,
    0x40,
    0x64,
]
SEQ_DELTAS = [
    1,
    2**31 - 1,
    2**31,
    2**31 + 1,
    2**32 - 1,
    2**32 - 2,
    1 << 24,
    1 << 26,
    1 << 27,
    100_000_000,
    1_500_000_000,
    -1,
    -1000,
]

Other = Callable[[], Capture]
Structural = Callable[[Capture, random.Random, Other], str]
Bytewise = Callable[[bytearray, list[Mark], random.Random], str]


# The test suite's short run sets this: storms, floods and chains stay small (a few thousand
# inputs must take seconds); the campaign runs the full sizes.
LIGHT = False


def _n(rng: random.Random, full: list[int], light: list[int], weights: list[float] | None = None) -> int:
    """A size for a heavy mutation: from ``full``, or ``light`` in the short run."""
    if LIGHT:
        return rng.choice(light)
    return rng.choices(full, weights)[0] if weights else rng.choice(full)


def interesting(rng: random.Random, values: list[int], bits: int) -> int:
    """A boundary value half the time, any value of ``bits`` bits otherwise."""
    if rng.random() < 0.6:
        return rng.choice(values)
    return rng.getrandbits(bits)


def _count(rng: random.Random, total: int) -> int:
    """How many packets a mutator touches: one, a few, or all."""
    if total <= 1:
        return total
    r = rng.random()
    if r < 0.45:
        return 1
    if r < 0.8:
        return min(total, rng.randint(2, 8))
    return total


def _packets(cap: Capture, rng: random.Random) -> list[int]:
    indices = cap.packet_indices()
    if not indices:
        return []
    return sorted(rng.sample(indices, _count(rng, len(indices))))


def _tcp_packets(cap: Capture, rng: random.Random) -> list[tuple[int, fr.View]]:
    found = []
    for i in cap.packet_indices():
        v = fr.view(cap.records[i].data, cap.records[i].link)
        if v is not None:
            found.append((i, v))
    if not found:
        return []
    return sorted(rng.sample(found, _count(rng, len(found))), key=lambda p: p[0])


def _clone(rec: Record) -> Record:
    return Record(
        bytearray(rec.head),
        bytearray(rec.data),
        rec.btype,
        bytearray(rec.body),
        rec.order,
        rec.link,
        rec.tail,
    )


# -- link layer ------------------------------------------------------------------------


def vlan_flood(cap: Capture, rng: random.Random, _other: Other) -> str:
    """Stack many 802.1Q/802.1ad tags on Ethernet frames (issue 10: 1,000 tags on 50 frames)."""
    n = _n(rng, [2, 3, 7, 64, 300, 1000, 1000, 3000, 10000], [2, 3, 7, 64, 1000])
    mixed = rng.random() < 0.5
    touched = 0
    targets = [i for i in cap.packet_indices() if cap.records[i].link == 1]
    rng.shuffle(targets)
    limit = _n(rng, [1, 5, 50, 50, 500], [1, 5, 20])
    for i in targets[:limit]:
        data = cap.records[i].data
        if n > 300 and touched >= 50:
            break
        tags = bytearray()
        for k in range(n):
            tpid = rng.choice(fr.VLAN_TPIDS) if mixed else (0x88A8 if k == 0 else 0x8100)
            tags += struct.pack(">HH", tpid, rng.getrandbits(16))
        cap.records[i].data = data[:12] + tags + data[12:]
        touched += 1
    return f"vlan_flood(n={n}, frames={touched})"


def link_garbage(cap: Capture, rng: random.Random, _other: Other) -> str:
    """MPLS stacks without a bottom, PPPoE headers, odd ethertypes and tags at the frame's end."""
    targets = [i for i in cap.packet_indices() if cap.records[i].link == 1]
    if not targets:
        return "link_garbage(none)"
    how = rng.choice(["mpls", "mpls_bottom", "pppoe", "ethertype", "tag_at_end"])
    for i in rng.sample(targets, _count(rng, len(targets))):
        data = cap.records[i].data
        if how.startswith("mpls"):
            depth = _n(rng, [1, 50, 2000], [1, 50, 300])
            labels = b"".join(struct.pack(">I", rng.getrandbits(32) & ~0x100) for _ in range(depth))
            if how == "mpls_bottom":
                labels += struct.pack(">I", 0x100)
            cap.records[i].data = data[:12] + struct.pack(">H", 0x8847) + labels + data[14:]
        elif how == "pppoe":
            proto = rng.choice([0x0021, 0x0057, 0x21, 0xFF03, rng.getrandbits(16)])
            cap.records[i].data = (
                data[:12] + struct.pack(">HBBHHH", 0x8864, 0x11, 0, 1, len(data) & 0xFFFF, proto) + data[14:]
            )
        elif how == "ethertype":
            struct.pack_into(
                ">H", data, 12, interesting(rng, [0x8100, 0x88A8, 0x86DD, 0x0800, 0x8864, 0x8847], 16)
            )
        else:
            cap.records[i].data = data[:12] + struct.pack(">H", 0x8100)
    return f"link_garbage({how})"


LINKS = [1, 113, 276, 101, 12, 14, 228, 229, 0, 108]


def link_convert(cap: Capture, rng: random.Random, _other: Other) -> str:
    """Every frame's link header rewritten for another link type (cooked, raw IP, loopback)."""
    link = rng.choice(LINKS)
    for i in cap.packet_indices():
        rec = cap.records[i]
        ip = fr.ip_packet_of(rec.data, rec.link)
        if ip is not None:
            rec.data = bytearray(fr.link_header(link, ip))
        rec.link = link
    if cap.kind == "pcap":
        struct.pack_into(cap.order + "I", cap.head, 20, link)
    else:
        for rec in cap.records:
            if rec.btype == IDB and len(rec.body) >= 2:
                struct.pack_into(rec.order + "H", rec.body, 0, link)
    return f"link_convert({link})"


def linktype_lie(cap: Capture, rng: random.Random, _other: Other) -> str:
    """The file's (or an interface's) link type replaced, frames left as they are."""
    link = rng.choice(
        [*LINKS, 9, 50, 104, 105, 109, 117, 127, 192, 239, rng.getrandbits(16), rng.getrandbits(32)]
    )
    if cap.kind == "pcap":
        struct.pack_into(cap.order + "I", cap.head, 20, link & 0xFFFFFFFF)
    else:
        idbs = [r for r in cap.records if r.btype == IDB and len(r.body) >= 2]
        if idbs:
            struct.pack_into(idbs[0].order + "H", rng.choice(idbs).body, 0, link & 0xFFFF)
    return f"linktype_lie({link})"


# -- IP layer --------------------------------------------------------------------------


def ip_field(cap: Capture, rng: random.Random, _other: Other) -> str:
    """A random IPv4 or IPv6 header field (version, IHL, lengths, fragment bits, protocol...)."""
    done = []
    for i, v in _tcp_packets(cap, rng):
        data = cap.records[i].data
        ip = v.link_len
        if v.version == 4:
            which = rng.choice(["vihl", "total", "frag", "proto", "ident", "all"])
            if which == "vihl":
                data[ip] = interesting(rng, [0x45, 0x44, 0x46, 0x4F, 0x40, 0x65, 0x05], 8)
            elif which == "total":
                struct.pack_into(">H", data, ip + 2, interesting(rng, U16 + [len(data) - ip + 1], 16))
            elif which == "frag":
                struct.pack_into(
                    ">H", data, ip + 6, interesting(rng, [0x2000, 0x1FFF, 0x3FFF, 0x4000, 0x0001, 0xBFFF], 16)
                )
            elif which == "proto":
                data[ip + 9] = rng.choice([4, 41, 47, 17, 6, 0, 255, rng.getrandbits(8)])
            elif which == "ident":
                struct.pack_into(">H", data, ip + 4, rng.getrandbits(16))
            else:
                data[ip : ip + 20] = rng.randbytes(20)
            done.append(which)
        else:
            which = rng.choice(["plen", "nxt", "version", "all"])
            if which == "plen":
                struct.pack_into(">H", data, ip + 4, interesting(rng, U16, 16))
            elif which == "nxt":
                data[ip + 6] = rng.choice(
                    [0, 43, 44, 50, 51, 59, 60, 135, 139, 140, 4, 41, 47, 17, rng.getrandbits(8)]
                )
            elif which == "version":
                data[ip] = (data[ip] & 0x0F) | (rng.getrandbits(4) << 4)
            else:
                data[ip : ip + 40] = rng.randbytes(40)
            done.append(which)
    return f"ip_field({','.join(sorted(set(done)))})"


EXTENSIONS = [0, 43, 60, 135, 139, 140, 51, 44]


def ipv6_chain(cap: Capture, rng: random.Random, _other: Other) -> str:
    """TCP packets made IPv6 with a chain of extension headers (some lying about their length)."""
    n = _n(rng, [1, 2, 5, 30, 500, 4000], [1, 2, 5, 30, 300])
    count = 0
    picked = _tcp_packets(cap, rng)
    for i, v in picked[: 20 if n >= 500 else None]:
        rec = cap.records[i]
        segment = bytes(rec.data[v.l4 :])
        room = 60000 - len(segment)
        first = kind = rng.choice(EXTENSIONS)
        chain = bytearray()
        for k in range(n):
            nxt = rng.choice(EXTENSIONS) if k + 1 < n else 6
            if rng.random() < 0.05:
                nxt = rng.getrandbits(8)
            if kind == 44:
                offset_flags = rng.choice([0, 0, 1, 8, 0xFFF8, 0xFFF9]) if rng.random() < 0.3 else 0
                chain += struct.pack(">BBHI", nxt, 0, offset_flags, rng.getrandbits(32))
            elif kind == 51:
                units = rng.choice([1, 1, 2, 255])
                chain += bytes([nxt, units]) + bytes((units + 2) * 4 - 2)
            else:
                units = rng.choice([0, 0, 1, 255])
                chain += bytes([nxt, units]) + bytes((units + 1) * 8 - 2)
            kind = nxt
            if len(chain) >= room:
                del chain[room:]
                break
        packet = fr.ipv6(fr.as_v6(v.src), fr.as_v6(v.dst), first, bytes(chain) + segment)
        new = fr.replace_ip(rec.data, rec.link, packet)
        if new is not None:
            rec.data = new
            count += 1
    return f"ipv6_chain(n={n}, frames={count})"


def fragment(cap: Capture, rng: random.Random, _other: Other) -> str:
    """TCP packets cut into IPv4 or IPv6 fragments: overlapping, reordered, duplicated, missing,
    beyond 64 KiB, zero-length, or with a lying last fragment."""
    style = rng.choice(
        ["clean", "overlap", "shuffle", "duplicate", "drop", "huge", "empty", "badlast", "flood"]
    )
    six = rng.random() < 0.3
    touched = 0
    new_records: list[Record] = []
    picked = dict(_tcp_packets(cap, rng)[: 3 if style == "flood" else None])
    for i, rec in enumerate(cap.records):
        v = picked.get(i)
        if v is None:
            new_records.append(rec)
            continue
        touched += 1
        body = bytes(rec.data[v.l4 :])
        ident = rng.getrandbits(32 if six else 16)
        pieces: list[tuple[int, bytes, bool]] = []
        pos = 0
        step = rng.choice([8, 16, 24, 64, 512])
        while pos < len(body):
            size = min(len(body) - pos, step * rng.randint(1, 3))
            pieces.append((pos, body[pos : pos + size], pos + size < len(body)))
            pos += size
        if not pieces:
            pieces = [(0, b"", False)]
        if style == "overlap":
            extra = []
            for off, chunk, more in pieces:
                if off >= 8 and rng.random() < 0.5:
                    extra.append((off - 8, rng.randbytes(len(chunk) + 8), more))
            pieces += extra
        elif style == "shuffle":
            rng.shuffle(pieces)
        elif style == "duplicate":
            pieces += [rng.choice(pieces) for _ in range(rng.randint(1, 20))]
        elif style == "drop" and len(pieces) > 1:
            pieces.pop(rng.randrange(len(pieces)))
        elif style == "huge":
            pieces.append(
                (0xFFF8 if not six else 0xFFF8, rng.randbytes(rng.choice([8, 1000])), rng.random() < 0.5)
            )
        elif style == "empty":
            pieces.insert(rng.randrange(len(pieces) + 1), (8 * rng.randint(0, 20), b"", rng.random() < 0.5))
        elif style == "badlast":
            pieces.append((8 * rng.randint(0, 4), rng.randbytes(8), False))
        elif style == "flood":
            flood = _n(rng, [100, 2000], [50, 300])
            pieces += [(8 * rng.randint(0, 8000), rng.randbytes(8), True) for _ in range(flood)]
        for n, (off, chunk, more) in enumerate(pieces):
            frag_ident = ident + (n if style == "flood" and n % 2 else 0)
            if six:
                header = struct.pack(">BBHI", 6, 0, (off & 0xFFF8) | int(more), frag_ident & 0xFFFFFFFF)
                packet = fr.ipv6(fr.as_v6(v.src), fr.as_v6(v.dst), 44, header + chunk)
            else:
                packet = fr.ipv4(
                    v.src,
                    v.dst,
                    6,
                    chunk,
                    ident=frag_ident,
                    frag=((off // 8) & 0x1FFF) | (0x2000 if more else 0),
                )
            frame = fr.replace_ip(rec.data, rec.link, packet)
            if frame is None:
                continue
            piece = _clone(rec)
            piece.data = frame
            new_records.append(piece)
    cap.records = new_records
    return f"fragment({style}, v{'6' if six else '4'}, frames={touched})"


def tunnel(cap: Capture, rng: random.Random, _other: Other) -> str:
    """TCP packets wrapped in IP-in-IP, IPv6-in-IPv4, GRE (v0 and PPTP's v1) or VXLAN, up to 7 deep."""
    depth = rng.choice([1, 1, 2, 4, 5, 6, 7])
    kinds = []
    for i, v in _tcp_packets(cap, rng):
        rec = cap.records[i]
        packet = bytes(rec.data[v.link_len :])
        for _ in range(depth):
            kind = rng.choice(["ipip", "6in4", "gre", "gre_eth", "gre_ppp", "vxlan", "ip6ip6"])
            kinds.append(kind)
            src, dst = b"\xc0\x00\x02\x01", b"\xc0\x00\x02\x02"
            inner_six = packet[0] >> 4 == 6
            if kind == "ipip" or (kind == "6in4" and inner_six):
                packet = fr.ipv4(src, dst, 41 if inner_six else 4, packet)
            elif kind == "6in4":
                packet = fr.ipv4(src, dst, 4, packet)
            elif kind == "ip6ip6":
                packet = fr.ipv6(fr.as_v6(src), fr.as_v6(dst), 41 if inner_six else 4, packet)
            elif kind == "gre":
                flags = rng.choice([0, 0x8000, 0x2000, 0x1000, 0xB000, rng.getrandbits(16)])
                extra = bytes(4 * (bool(flags & 0x8000) + bool(flags & 0x2000) + bool(flags & 0x1000)))
                gre = struct.pack(">HH", flags, 0x86DD if inner_six else 0x0800) + extra
                packet = fr.ipv4(src, dst, 47, gre + packet)
            elif kind == "gre_eth":
                gre = struct.pack(">HH", 0, 0x6558)
                packet = fr.ipv4(src, dst, 47, gre + fr.ethernet(packet))
            elif kind == "gre_ppp":
                flags = 0x2001 | rng.choice([0, 0x1000, 0x0080])
                extra = bytes(4 * (bool(flags & 0x1000) + bool(flags & 0x0080)))
                gre = struct.pack(">HHHH", flags, 0x880B, min(len(packet), 0xFFFF), 0) + extra
                ppp = b"\xff\x03" + struct.pack(">H", 0x0057 if inner_six else 0x0021)
                packet = fr.ipv4(src, dst, 47, gre + ppp + packet)
            else:
                udp = struct.pack(
                    ">HHHH", rng.getrandbits(16), 4789, min(8 + 8 + 14 + len(packet), 0xFFFF), 0
                )
                packet = fr.ipv4(
                    src, dst, 17, udp + b"\x08\x00\x00\x00\x00\x00\x01\x00" + fr.ethernet(packet)
                )
        new = fr.replace_ip(rec.data, rec.link, packet)
        if new is not None:
            rec.data = new
    return f"tunnel(depth={depth}, {','.join(sorted(set(kinds)))})"


# -- TCP layer -------------------------------------------------------------------------


def tcp_field(cap: Capture, rng: random.Random, _other: Other) -> str:
    """A random TCP header field: data offset, flags, window, urgent pointer, ports, seq, ack."""
    done = []
    for i, v in _tcp_packets(cap, rng):
        data = cap.records[i].data
        l4 = v.l4
        which = rng.choice(["doff", "flags", "window", "urgent", "ports", "seq", "ack", "options", "all"])
        if which == "doff":
            off = struct.unpack_from(">H", data, l4 + 12)[0]
            struct.pack_into(">H", data, l4 + 12, (off & 0x0FFF) | (rng.getrandbits(4) << 12))
        elif which == "flags":
            fr.set_tcp(
                data,
                v,
                flags=rng.choice(
                    [0x02, 0x12, 0x04, 0x14, 0x01, 0x11, 0x03, 0x07, 0x3F, 0x1FF, 0, rng.getrandbits(9)]
                ),
            )
        elif which == "window":
            fr.set_tcp(data, v, window=interesting(rng, U16, 16))
        elif which == "urgent":
            struct.pack_into(">H", data, l4 + 18, interesting(rng, U16, 16))
            fr.set_tcp(data, v, flags=v.flags | 0x20)
        elif which == "ports":
            fr.set_tcp(data, v, sport=interesting(rng, U16, 16), dport=interesting(rng, U16, 16))
        elif which == "seq":
            fr.set_tcp(data, v, seq=interesting(rng, U32, 32))
        elif which == "ack":
            fr.set_tcp(data, v, ack=interesting(rng, U32, 32))
        elif which == "options" and v.doff > 20:
            data[l4 + 20 : l4 + v.doff] = rng.randbytes(v.doff - 20)
        else:
            data[l4 : l4 + 20] = rng.randbytes(20)
        done.append(which)
    return f"tcp_field({','.join(sorted(set(done)))})"


def seq_jump(cap: Capture, rng: random.Random, _other: Other) -> str:
    """Every later segment of one direction moved by a jump in sequence space (and the
    peer's acknowledgements with it, sometimes)."""
    tcps = [(i, fr.view(cap.records[i].data, cap.records[i].link)) for i in cap.packet_indices()]
    found = [(i, v) for i, v in tcps if v is not None]
    if not found:
        return "seq_jump(none)"
    _i0, chosen = rng.choice(found)
    key = chosen.key()
    delta = rng.choice(SEQ_DELTAS) if rng.random() < 0.7 else rng.getrandbits(32)
    start = rng.randrange(len(found))
    acks = rng.random() < 0.5
    jumps = rng.choice([1, 1, 1, 2, 10, 100])
    moved = 0
    for n, (i, v) in enumerate(found[start:]):
        shift = delta * (1 + n * (jumps - 1) // max(1, len(found) - start)) if jumps > 1 else delta
        if v.key() == key:
            fr.set_tcp(cap.records[i].data, v, seq=v.seq + shift)
            moved += 1
        elif acks and (v.dst, v.dport, v.src, v.sport) == key:
            fr.set_tcp(cap.records[i].data, v, ack=v.ack + shift)
    return f"seq_jump(delta={delta}, jumps={jumps}, moved={moved})"


def storm(cap: Capture, rng: random.Random, _other: Other) -> str:
    """Thousands of one-packet sessions (RSTs, FINs, SYNs, ACKs, data for tuples never seen)."""
    tcps = [(i, fr.view(cap.records[i].data, cap.records[i].link)) for i in cap.packet_indices()]
    found = [(i, v) for i, v in tcps if v is not None]
    if not found:
        return "storm(none)"
    i, v = rng.choice(found)
    template = cap.records[i]
    n = _n(rng, [50, 300, 1000, 3000, 6000], [20, 50, 300], [4, 3, 2, 1, 0.5])
    flags = rng.choice([0x04, 0x14, 0x11, 0x02, 0x10, 0x18, None])
    for k in range(n):
        rec = _clone(template)
        fr.set_tcp(
            rec.data,
            v,
            sport=1024 + k % 60000,
            dport=(k // 60000) + 1 + v.dport,
            seq=rng.getrandbits(32),
            flags=flags if flags is not None else rng.getrandbits(9),
        )
        cap.records.append(rec)
    return f"storm(n={n}, flags={flags})"


def conflicts(cap: Capture, rng: random.Random, _other: Other) -> str:
    """Many short segments each re-sending the previous 0-8 bytes with different content
    (issue 10: 100,000 conflicts took 391 MB)."""
    tcps = [(i, fr.view(cap.records[i].data, cap.records[i].link)) for i in cap.packet_indices()]
    found = [(i, v) for i, v in tcps if v is not None and len(cap.records[i].data) > v.payload]
    if not found:
        found = [(i, v) for i, v in tcps if v is not None]
    if not found:
        return "conflicts(none)"
    i, v = rng.choice(found)
    template = cap.records[i]
    n = _n(rng, [10, 200, 2000, 10000, 30000, 100000], [10, 200, 1000], [4, 3, 2, 1, 0.5, 0.1])
    seq = v.seq
    at = rng.randrange(len(cap.records) + 1)
    made = []
    for _ in range(n):
        back = rng.randint(0, 8)
        payload = rng.randbytes(back + 1)
        rec = _clone(template)
        rec.data = fr.with_payload(template.data, v, payload)
        fr.set_tcp(rec.data, v, seq=seq - back, flags=0x18)
        seq += 1
        made.append(rec)
    cap.records[at:at] = made
    return f"conflicts(n={n})"


def duplicate_segments(cap: Capture, rng: random.Random, _other: Other) -> str:
    """Segments re-sent many times, some with their payload changed (retransmission storms)."""
    copies = _n(rng, [1, 5, 100, 1000], [1, 5, 100])
    picked = _tcp_packets(cap, rng)[: 5 if copies >= 100 else None]
    for i, v in reversed(picked):
        rec = cap.records[i]
        made = []
        for _ in range(copies):
            twin = _clone(rec)
            if rng.random() < 0.5 and len(twin.data) > v.payload:
                twin.data = fr.with_payload(rec.data, v, rng.randbytes(len(rec.data) - v.payload))
            made.append(twin)
        cap.records[i + 1 : i + 1] = made
    return f"duplicate_segments(copies={copies}, frames={len(picked)})"


# -- records, timestamps, container ----------------------------------------------------


def shuffle_records(cap: Capture, rng: random.Random, _other: Other) -> str:
    """Packets reordered, dropped or duplicated (other blocks stay in place)."""
    indices = cap.packet_indices()
    if len(indices) < 2:
        return "shuffle_records(none)"
    how = rng.choice(["swap", "window", "reverse", "drop", "dup"])
    recs = cap.records
    if how == "swap":
        for _ in range(rng.randint(1, 10)):
            a, b = rng.sample(indices, 2)
            recs[a], recs[b] = recs[b], recs[a]
    elif how == "window":
        a = rng.randrange(len(indices))
        window = indices[a : a + rng.randint(2, 50)]
        moved = [recs[i] for i in window]
        rng.shuffle(moved)
        for i, rec in zip(window, moved, strict=True):
            recs[i] = rec
    elif how == "reverse":
        moved = [recs[i] for i in indices][::-1]
        for i, rec in zip(indices, moved, strict=True):
            recs[i] = rec
    elif how == "drop":
        for i in sorted(rng.sample(indices, _count(rng, len(indices))), reverse=True):
            del recs[i]
    else:
        for i in sorted(rng.sample(indices, _count(rng, len(indices))), reverse=True):
            recs.insert(i, _clone(recs[i]))
    return f"shuffle_records({how})"


def timestamps(cap: Capture, rng: random.Random, _other: Other) -> str:
    """Huge, zero, backward or random timestamps (2^63, 2^64-1 units; pcap fractions past a second)."""
    how = rng.choice(["value", "value", "backward", "random", "frac"])
    picked = _packets(cap, rng)
    value = interesting(rng, U64, 64)
    for n, i in enumerate(picked):
        rec = cap.records[i]
        if how == "value":
            cap.set_ts_ticks(rec, value)
        elif how == "backward":
            cap.set_ts_ticks(rec, max(0, cap.ts_ticks(rec) - (n + 1) * rng.choice([1, 1000, 10**9, 2**32])))
        elif how == "random":
            cap.set_ts_ticks(rec, rng.getrandbits(64))
        elif cap.kind == "pcap":
            struct.pack_into(
                rec.order + "I",
                rec.head,
                4,
                interesting(rng, U32 + [999_999, 1_000_000, 999_999_999, 10**9], 32),
            )
        else:
            cap.set_ts_ticks(rec, value)
    return f"timestamps({how}, value={value if how == 'value' else '-'}, frames={len(picked)})"


def tsresol(cap: Capture, rng: random.Random, _other: Other) -> str:
    """An interface's if_tsresol (0xBC: 2^-60 s, 10^-19...) and if_tsoffset replaced; with
    huge timestamps on some packets. A classic pcap is made pcapng first."""
    if cap.kind == "pcap":
        cap = _become_pcapng(cap, rng)
    resol = rng.choice(TSRESOL) if rng.random() < 0.8 else rng.getrandbits(8)
    offset = (
        interesting(rng, [0, 1, -1, 2**62, 2**63 - 1, -(2**63), 10**10], 64) if rng.random() < 0.4 else None
    )
    if offset is not None and offset >= 2**63:
        offset -= 2**64
    for rec in cap.records:
        if rec.btype == IDB and len(rec.body) >= 8:
            link = struct.unpack_from(rec.order + "H", rec.body, 0)[0]
            rec.body = bytearray(idb_body(rec.order, link, resol, offset))
    if rng.random() < 0.6:
        value = interesting(rng, U64, 64)
        for i in _packets(cap, rng):
            cap.set_ts_ticks(cap.records[i], value)
    return f"tsresol(resol={resol:#x}, offset={offset})"


def _become_pcapng(cap: Capture, rng: random.Random) -> Capture:
    new = to_pcapng(cap, rng.choice("<>"), rng.choice([6, 9, 0x80 | 20, 3]))
    cap.kind, cap.order, cap.head, cap.records, cap.trailer = new.kind, new.order, new.head, new.records, b""
    return cap


def pcapng_blocks(cap: Capture, rng: random.Random, _other: Other) -> str:
    """pcapng structure: unknown and custom blocks, a second section (other byte order), an
    interface described after packets, Simple and obsolete packet blocks, interface ids out of
    range, option garbage. A classic pcap is made pcapng first."""
    if cap.kind == "pcap":
        cap = _become_pcapng(cap, rng)
    how = rng.choice(
        ["unknown", "section", "late_idb", "spb", "opb", "iface", "options", "isb_nrb", "shb_len"]
    )
    recs = cap.records
    packets = cap.packet_indices()
    order = cap.order
    if how == "unknown":
        for _ in range(rng.randint(1, 5)):
            btype = rng.choice([0xBAD, 0x40000BAD, 0x0A, 7, 8, 0x80000001, rng.getrandbits(32)])
            recs.insert(
                rng.randrange(len(recs) + 1),
                Record(btype=btype, body=bytearray(rng.randbytes(rng.choice([0, 4, 64]))), order=order),
            )
    elif how == "section" and packets:
        other = ">" if order == "<" else "<"
        at = rng.choice(packets)
        new = [
            Record(btype=SHB, body=bytearray(shb_body(other)), order=other),
            Record(
                btype=IDB,
                body=bytearray(idb_body(other, rng.choice([1, 1, 101, 113]), rng.choice([6, 9, 0xBC]))),
                order=other,
            ),
        ]
        for i in packets[packets.index(at) :]:
            rec = recs[i]
            twin = epb(other, rng.choice([0, 0, 1]), cap.ts_ticks(rec), bytes(rec.data))
            twin.link = rec.link
            new.append(twin)
        recs[at:] = new
    elif how == "late_idb" and packets:
        at = rng.choice(packets)
        recs.insert(
            at,
            Record(
                btype=IDB,
                body=bytearray(idb_body(order, rng.choice([1, 101, 276]), rng.choice([6, 9]))),
                order=order,
            ),
        )
        for i in packets:
            if i >= at and recs[i + 1].btype == EPB and rng.random() < 0.5:
                struct.pack_into(
                    order + "I",
                    recs[i + 1].body,
                    0,
                    (struct.unpack_from(order + "I", recs[i + 1].body, 0)[0] + 1) & 0xFFFFFFFF,
                )
    elif how in ("spb", "opb") and packets:
        for i in rng.sample(packets, _count(rng, len(packets))):
            rec = recs[i]
            if how == "spb":
                recs[i] = Record(btype=SPB, data=bytearray(rec.data), order=rec.order, link=rec.link)
            elif rec.btype == EPB:
                hi, lo = struct.unpack_from(rec.order + "II", rec.body, 4)
                fixed = struct.pack(
                    rec.order + "HHIIII",
                    struct.unpack_from(rec.order + "I", rec.body, 0)[0] & 0xFFFF,
                    0,
                    hi,
                    lo,
                    len(rec.data),
                    len(rec.data),
                )
                recs[i] = Record(
                    btype=OPB, body=bytearray(fixed), data=bytearray(rec.data), order=rec.order, link=rec.link
                )
    elif how == "iface" and packets:
        for i in rng.sample(packets, _count(rng, len(packets))):
            if recs[i].btype == EPB:
                struct.pack_into(
                    recs[i].order + "I",
                    recs[i].body,
                    0,
                    interesting(rng, [1, 2, 255, 0xFFFF, 0xFFFFFFFF], 32),
                )
    elif how == "options":
        targets = [r for r in recs if r.btype in (EPB, IDB, SHB)]
        for rec in rng.sample(targets, _count(rng, len(targets))) if targets else []:
            opts = bytearray()
            for _ in range(rng.randint(1, 6)):
                code = rng.choice([0, 1, 2, 9, 14, 0x8000, rng.getrandbits(16)])
                length = interesting(rng, [0, 1, 4, 8, 0xFFFF], 16)
                opts += struct.pack(rec.order + "HH", code, length) + rng.randbytes(
                    min(length, 32) + (-min(length, 32) % 4)
                )
            if rec.btype == EPB:
                rec.tail = bytes(opts)
            elif rec.btype == IDB:
                rec.body = rec.body[:8] + opts
            else:
                rec.body = rec.body[:16] + opts
    elif how == "isb_nrb":
        for _ in range(rng.randint(1, 4)):
            btype = rng.choice([ISB, NRB, 0xA])
            recs.insert(
                rng.randrange(1, len(recs) + 1),
                Record(btype=btype, body=bytearray(rng.randbytes(rng.choice([4, 20, 200]))), order=order),
            )
    elif how == "shb_len":
        for rec in recs:
            if rec.btype == SHB and len(rec.body) >= 16:
                struct.pack_into(rec.order + "q", rec.body, 8, interesting(rng, [0, 8, 2**62], 63))
    return f"pcapng_blocks({how})"


def splice(cap: Capture, rng: random.Random, other: Other) -> str:
    """Frames of another capture inserted (same link type for pcap; any for pcapng, with its interface)."""
    donor = other()
    frames = [donor.records[i] for i in donor.packet_indices()]
    if not frames:
        return "splice(none)"
    start = rng.randrange(len(frames))
    taken = frames[start : start + _n(rng, [1, 10, 100, 1000], [1, 10, 100])]
    at = rng.randrange(len(cap.records) + 1)
    if cap.kind == "pcap":
        hlen = len(cap.records[0].head) if cap.records else 16
        made = []
        for rec in taken:
            if rec.link != cap.linktype:
                ip = fr.ip_packet_of(rec.data, rec.link)
                if ip is None:
                    continue
                data = bytearray(fr.link_header(cap.linktype, ip))
            else:
                data = bytearray(rec.data)
            ticks = donor.ts_ticks(rec) if donor.kind == "pcap" else 0
            head = bytearray(
                struct.pack(cap.order + "IIII", ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data))
            )
            head += bytes(hlen - 16)
            made.append(Record(head, data, order=cap.order, link=cap.linktype))
        cap.records[at:at] = made
        return f"splice(frames={len(made)})"
    idbs = [r for r in cap.records if r.btype == IDB]
    links = [struct.unpack_from(r.order + "H", r.body, 0)[0] for r in idbs]
    made = []
    for rec in taken:
        if rec.link not in links:
            new_idb = Record(btype=IDB, body=bytearray(idb_body(cap.order, rec.link, 9)), order=cap.order)
            first_packet = next(iter(cap.packet_indices()), len(cap.records))
            cap.records.insert(first_packet, new_idb)
            at = at + 1 if at >= first_packet else at
            links.append(rec.link)
        twin = epb(cap.order, links.index(rec.link), rng.getrandbits(40), bytes(rec.data))
        twin.link = rec.link
        made.append(twin)
    cap.records[at:at] = made
    return f"splice(frames={len(made)})"


def snaplen(cap: Capture, rng: random.Random, _other: Other) -> str:
    """Frames cut short (caplen < origlen), or origlen lies (below caplen, or huge)."""
    how = rng.choice(["cut", "cut", "origlen_small", "origlen_huge"])
    picked = _packets(cap, rng)
    keep = rng.choice([0, 1, 14, 34, 54, 60, 96])
    for i in picked:
        rec = cap.records[i]
        if how == "cut":
            # serialize() keeps origlen - caplen: the frame's wire length stays what it was
            rec.data = rec.data[: min(len(rec.data), keep + rng.randint(0, 8))]
        else:
            value = rng.randint(0, len(rec.data)) if how == "origlen_small" else interesting(rng, U32, 32)
            if cap.kind == "pcap":
                struct.pack_into(rec.order + "I", rec.head, 12, value)
            elif rec.btype in (EPB, OPB):
                struct.pack_into(rec.order + "I", rec.body, 16, value)
    return f"snaplen({how}, frames={len(picked)})"


def pcap_format(cap: Capture, rng: random.Random, _other: Other) -> str:
    """A classic pcap's magic changed: nanosecond, other byte order, Kuznetsov's modified format."""
    if cap.kind != "pcap":
        return "pcap_format(none)"
    magic = rng.choice([0xA1B2C3D4, 0xA1B23C4D, 0xA1B2CD34])
    order = rng.choice("<>")
    link = cap.linktype
    head = bytearray(cap.head)
    cap.head = bytearray(struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 262144, link))
    del head
    hlen = 24 if magic == 0xA1B2CD34 else 16
    for rec in cap.records:
        fields = struct.unpack_from(rec.order + "IIII", rec.head, 0)
        rec.head = bytearray(struct.pack(order + "IIII", *fields) + bytes(hlen - 16))
        rec.order = order
    cap.order, cap.nanos = order, magic == 0xA1B23C4D
    return f"pcap_format({magic:#x}, {order})"


STRUCTURAL: list[tuple[Structural, int]] = [
    (vlan_flood, 4),
    (link_garbage, 3),
    (link_convert, 3),
    (linktype_lie, 1),
    (ip_field, 6),
    (ipv6_chain, 3),
    (fragment, 5),
    (tunnel, 4),
    (tcp_field, 6),
    (seq_jump, 6),
    (storm, 1),
    (conflicts, 2),
    (duplicate_segments, 2),
    (shuffle_records, 4),
    (timestamps, 5),
    (tsresol, 4),
    (pcapng_blocks, 5),
    (splice, 3),
    (snaplen, 4),
    (pcap_format, 2),
]


# -- bytes -----------------------------------------------------------------------------


def bit_flips(buf: bytearray, marks: list[Mark], rng: random.Random) -> str:
    """A few bits flipped anywhere, or in record and packet headers (where readers look)."""
    if not buf:
        return "bit_flips(empty)"
    n = rng.choice([1, 1, 2, 4, 16, 64])
    near = rng.random() < 0.6 and marks
    for _ in range(n):
        if near:
            mark = rng.choice(marks)
            pos = mark.offset + rng.randrange(min(mark.length, 96))
        else:
            pos = rng.randrange(len(buf))
        if pos < len(buf):
            buf[pos] ^= 1 << rng.randrange(8)
    return f"bit_flips(n={n}, headers={bool(near)})"


def overwrite(buf: bytearray, marks: list[Mark], rng: random.Random) -> str:
    """A 1, 2, 4 or 8-byte boundary value written at a header position or anywhere."""
    if not buf:
        return "overwrite(empty)"
    width = rng.choice([1, 2, 4, 8])
    value = interesting(rng, {1: U8, 2: U16, 4: U32, 8: U64}[width], width * 8)
    if marks and rng.random() < 0.7:
        mark = rng.choice(marks)
        pos = mark.offset + rng.randrange(0, min(mark.length, 80), 2)
    else:
        pos = rng.randrange(len(buf))
    order = rng.choice("<>")
    fmt = {1: "B", 2: "H", 4: "I", 8: "Q"}[width]
    if pos + width <= len(buf):
        struct.pack_into(order + fmt, buf, pos, value)
    return f"overwrite(width={width}, value={value})"


def length_lie(buf: bytearray, marks: list[Mark], rng: random.Random) -> str:
    """A record's or block's length fields lie: pcap caplen/origlen, pcapng block length (head or
    trailer), an Enhanced Packet Block's captured length."""
    if not marks:
        return "length_lie(none)"
    mark = rng.choice(marks)
    o = mark.order
    if mark.kind == "pcap":
        field_at = mark.offset + rng.choice([8, 8, 12])
        value = interesting(rng, U32 + [mark.length - 16 + d for d in (-1, 1, 4, 100)], 32)
        where = "caplen" if field_at - mark.offset == 8 else "origlen"
    else:
        where = rng.choice(
            ["head", "trailer", "both", "epb_caplen"] if mark.btype == EPB else ["head", "trailer", "both"]
        )
        value = interesting(rng, U32 + [mark.length + d for d in (-4, 4, -1, 1, 8, -8)], 32)
        if where == "epb_caplen":
            field_at = mark.offset + 20
            value = interesting(rng, U32 + [mark.length - 32 + d for d in (-1, 1, 4, 5)], 32)
        elif where == "trailer":
            field_at = mark.offset + mark.length - 4
        else:
            field_at = mark.offset + 4
            if where == "both" and mark.offset + mark.length <= len(buf):
                struct.pack_into(o + "I", buf, mark.offset + mark.length - 4, value & 0xFFFFFFFF)
    if field_at + 4 <= len(buf):
        struct.pack_into(o + "I", buf, field_at, value & 0xFFFFFFFF)
    return f"length_lie({where}, {value})"


def truncate(buf: bytearray, marks: list[Mark], rng: random.Random) -> str:
    """The file cut: at a record boundary, just after one, inside a record header, inside its data."""
    if not buf:
        return "truncate(empty)"
    how = rng.choice(["boundary", "near", "header", "data", "anywhere"])
    if marks and how != "anywhere":
        mark = rng.choice(marks)
        if how == "boundary":
            cut = mark.offset
        elif how == "near":
            cut = mark.offset + rng.choice([1, 2, 3, 4, 7, 8, 11, 12, 15, 16, 20, 27, 28, 31])
        elif how == "header":
            cut = mark.offset + rng.randrange(1, 33)
        else:
            cut = mark.offset + rng.randrange(1, max(2, mark.length))
    else:
        cut = rng.randrange(len(buf) + 1)
    del buf[min(cut, len(buf)) :]
    return f"truncate({how}, at={cut})"


def chunk_edit(buf: bytearray, marks: list[Mark], rng: random.Random) -> str:
    """A run of bytes deleted, duplicated, or random bytes inserted (every later record shifts)."""
    if len(buf) < 2:
        return "chunk_edit(small)"
    how = rng.choice(["delete", "duplicate", "insert"])
    start = (
        rng.choice(marks).offset + rng.randrange(40)
        if marks and rng.random() < 0.5
        else rng.randrange(len(buf))
    )
    start = min(start, len(buf) - 1)
    size = rng.choice([1, 2, 3, 4, 8, 16, 100, 4096])
    if how == "delete":
        del buf[start : start + size]
    elif how == "duplicate":
        buf[start:start] = buf[start : start + size]
    else:
        buf[start:start] = rng.randbytes(size)
    return f"chunk_edit({how}, {size})"


BYTEWISE: list[tuple[Bytewise, int]] = [
    (bit_flips, 6),
    (overwrite, 4),
    (length_lie, 5),
    (truncate, 4),
    (chunk_edit, 2),
]


def pick(rng: random.Random, table: list[tuple[object, int]]) -> object:
    """A weighted choice from a mutator table."""
    functions = [f for f, _w in table]
    weights = [w for _f, w in table]
    return rng.choices(functions, weights)[0]
