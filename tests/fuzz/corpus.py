"""The captures the fuzzer starts from: the shared captures and small generated ones.

Generated captures (``tests/pcapgen.py``, frames made by dpkt) cover what the
shared ones have little of: every link type the decoder knows, both pcap byte
orders and resolutions, Kuznetsov's format, pcapng with several interfaces and
resolutions, IPv6 extension headers, fragments, tunnels, holes and conflicting
overlaps, and many small sessions.  All are deterministic.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz import frames as fr
from tests.fuzz.capmodel import Capture, parse
from tests.pcapgen import ACK, FIN, PSH, SYN, Conversation, Frame, pcap_bytes, pcapng_bytes

SHARED = Path(os.environ.get("MONOVIEW_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "captures"


@dataclass
class Base:
    """A starting capture: its name, its bytes, and its records."""

    name: str
    data: bytes
    cap: Capture
    weight: float


def _conversation(**kwargs: object) -> Conversation:
    conv = Conversation(**kwargs)  # type: ignore[arg-type]
    conv.handshake()
    conv.send(True, b"GET / HTTP/1.1\r\nHost: fuzz\r\n\r\n" * 20, mss=300)
    conv.send(False, bytes(range(256)) * 12, mss=700)
    conv.send(True, b"bye\n")
    conv.close()
    return conv


def _relinked(frames: list[Frame], link: int) -> list[Frame]:
    out = []
    for f in frames:
        ip = fr.ip_packet_of(f.data, 1)
        out.append(Frame(f.ts_ns, fr.link_header(link, ip) if ip is not None else f.data))
    return out


def _holes() -> list[Frame]:
    conv = Conversation()
    conv.handshake()
    conv.segment(True, 0, b"A" * 100)
    conv.segment(True, 300, b"C" * 100)  # a hole of 200
    conv.segment(True, 50, b"x" * 100)  # overlaps with other bytes: a conflict
    conv.segment(True, 100, b"B" * 200)
    conv.segment(True, 100, b"B" * 200)  # a retransmission
    conv.segment(False, 0, b"reply" * 30)
    conv.segment(False, 10_000, b"late")  # a hole to the end
    conv.close()
    return conv.frames


def _many_sessions(count: int) -> list[Frame]:
    frames: list[Frame] = []
    for n in range(count):
        conv = Conversation(
            client=(f"10.1.{n // 250}.{n % 250 + 1}", 30000 + n), start_ns=1_700_000_000_000_000_000 + n
        )
        conv.handshake()
        conv.send(True, b"x" * (n % 7 + 1))
        if n % 3:
            conv.close()
        frames.extend(conv.frames)
    frames.sort(key=lambda f: f.ts_ns)
    return frames


def _fragmented() -> list[Frame]:
    conv = _conversation()
    out = []
    for f in conv.frames:
        v = fr.view(f.data, 1)
        if v is None or len(f.data) - v.payload < 64:
            out.append(f)
            continue
        body = bytes(f.data[v.l4 :])
        half = (len(body) // 2) & ~7
        for offset, chunk, more in ((half, body[half:], False), (0, body[:half], True)):
            packet = fr.ipv4(
                v.src, v.dst, 6, chunk, ident=len(out), frag=(offset // 8) | (0x2000 if more else 0)
            )
            out.append(Frame(f.ts_ns, fr.ethernet(packet)))
    return out


def _tunnelled() -> list[Frame]:
    out = []
    for n, f in enumerate(_conversation().frames):
        ip = fr.ip_packet_of(f.data, 1)
        assert ip is not None
        outer_src, outer_dst = b"\xc0\x00\x02\x01", b"\xc0\x00\x02\x02"
        if n % 2:
            packet = fr.ipv4(outer_src, outer_dst, 47, b"\x00\x00\x08\x00" + ip)
        else:
            packet = fr.ipv4(outer_src, outer_dst, 4, ip)
        out.append(Frame(f.ts_ns, fr.ethernet(packet)))
    return out


def _extension_headers() -> list[Frame]:
    conv = _conversation(client=("2001:db8::1", 40000), server=("2001:db8::2", 80))
    out = []
    for f in conv.frames:
        v = fr.view(f.data, 1)
        assert v is not None
        segment = bytes(f.data[v.l4 :])
        chain = bytes([60, 0]) + bytes(6) + bytes([6, 1]) + bytes(14)  # hop-by-hop, then destination options
        out.append(Frame(f.ts_ns, fr.ethernet(fr.ipv6(v.src, v.dst, 0, chain + segment))))
    return out


def _storm(count: int) -> list[Frame]:
    out = []
    for n in range(count):
        flags = (FIN | ACK, ACK, SYN, PSH | ACK)[n % 4]
        packet = fr.ipv4(
            b"\x0a\x02\x00\x01", b"\x0a\x02\x00\x02", 6, fr.tcp(1024 + n, 443, n * 7919, 1, flags, b"q")
        )
        out.append(Frame(1_700_000_000_000_000_000 + n * 1000, fr.ethernet(packet)))
    return out


def generated() -> list[tuple[str, bytes]]:
    """The generated captures, by name."""
    plain = _conversation().frames
    v6 = _conversation(client=("2001:db8::1", 40000), server=("2001:db8::2", 80)).frames
    qinq = _conversation(vlans=(100, 200)).frames
    made = [
        ("gen_plain.pcap", pcap_bytes(plain)),
        ("gen_ns_be.pcap", pcap_bytes(plain, nanos=True, big_endian=True)),
        ("gen_modified.pcap", pcap_bytes(plain, modified=True)),
        ("gen_v6.pcap", pcap_bytes(v6)),
        ("gen_qinq.pcap", pcap_bytes(qinq)),
        ("gen_sll.pcap", pcap_bytes(_relinked(plain, 113), linktype=113)),
        ("gen_sll2.pcap", pcap_bytes(_relinked(v6, 276), linktype=276)),
        ("gen_raw.pcap", pcap_bytes(_relinked(plain, 101), linktype=101)),
        ("gen_null.pcap", pcap_bytes(_relinked(v6, 0), linktype=0)),
        ("gen_holes.pcap", pcap_bytes(_holes())),
        ("gen_many.pcap", pcap_bytes(_many_sessions(120))),
        ("gen_storm.pcap", pcap_bytes(_storm(400))),
        ("gen_frag.pcap", pcap_bytes(_fragmented())),
        ("gen_tunnel.pcap", pcap_bytes(_tunnelled())),
        ("gen_ext6.pcap", pcap_bytes(_extension_headers())),
    ]
    mixed = [Frame(f.ts_ns, f.data, interface=0) for f in plain] + [
        Frame(f.ts_ns + 1, f.data, interface=1) for f in _relinked(v6, 101)
    ]
    mixed.sort(key=lambda f: f.ts_ns)
    made += [
        ("gen_ng_two.pcapng", pcapng_bytes([([(1, 6), (101, 9)], mixed)])),
        ("gen_ng_be.pcapng", pcapng_bytes([([(1, 0x80 | 30)], plain)], big_endian=True)),
        (
            "gen_ng_sections.pcapng",
            pcapng_bytes([([(1, 6)], plain[:8]), ([(113, 9)], _relinked(plain[8:], 113))]),
        ),
    ]
    return made


# Generated captures of hundreds of sessions: each input made from them takes ten times longer.
MANY_SESSIONS = ("gen_many.pcap", "gen_storm.pcap")


def load(
    shared: bool = True, max_shared_bytes: int = 8 << 20, only_small: int | None = None, light: bool = False
) -> list[Base]:
    """The corpus: generated captures, and the shared ones (``only_small``: those up to that size;
    ``light``: the captures of many sessions less often)."""
    bases: list[Base] = []
    for name, data in generated():
        cap = parse(data)
        assert cap is not None, name
        bases.append(Base(name, data, cap, 1.0 if light and name in MANY_SESSIONS else 3.0))
    if shared and SHARED.exists():
        for path in sorted(SHARED.glob("*/*")):
            if path.suffix not in (".pcap", ".pcapng"):
                continue
            size = path.stat().st_size
            limit = only_small if only_small is not None else max_shared_bytes
            if size > limit:
                continue
            data = path.read_bytes()
            cap = parse(data)
            if cap is None:
                continue
            # Big files are slow to run and mostly walk the same code: fewer of them.
            weight = 1.0 if size < 200_000 else 0.3 if size < 2_000_000 else 0.1
            bases.append(Base(f"{path.parent.name}/{path.name}", data, cap, weight))
    return bases


def choose(bases: list[Base], rng: random.Random) -> Base:
    """A base, by weight."""
    return rng.choices(bases, [b.weight for b in bases])[0]
