"""The vectorised scanner against the per-packet decoder, frame by frame.

For every frame of every shared capture, and of variants whose link, IP and
TCP header bytes and wire lengths were damaged at random, the scanner must
find exactly the TCP packets ``decode_any`` finds (every field), the same
fragments, and the same count of every kind of skipped frame.
"""

from __future__ import annotations

import dataclasses
import random
import struct
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from monoview.core.analyse import analyse
from monoview.core.capture.counts import CUT, SHORT_TCP_HEADER
from monoview.core.capture.decode import Cut, Several, Skip, Undecoded, decode_any
from monoview.core.capture.fragments import Fragment
from monoview.core.capture.frames import whole_file
from monoview.core.capture.layout import read_layout
from monoview.core.capture.linktypes import linktype_name
from monoview.core.capture.scan import Scanner
from monoview.core.capture.scanrows import Rows
from monoview.core.document import CaptureDocument
from monoview.core.errors import MonoviewError
from monoview.core.export import Exporter, ExportOptions
from monoview.core.packet import TcpPacket
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import SYN, Frame, ethernet, tcp_ip, write_pcap


def _address(family: int, hi: int, lo: int) -> bytes:
    return (hi.to_bytes(8, "big") + lo.to_bytes(8, "big")) if family == 6 else lo.to_bytes(4, "big")


def _row_tuples(
    rows: Rows, contexts: list[tuple[int, ...]], paths: list[tuple[str, ...]]
) -> list[tuple[object, ...]]:
    columns = {name: getattr(rows, name).tolist() for name in rows.__dataclass_fields__}
    out = []
    for i in range(len(rows)):
        c = {name: values[i] for name, values in columns.items()}
        out.append(
            (
                c["frame"], c["ts"], c["interface"], contexts[c["vlan"]],
                _address(c["family"], c["src_hi"], c["src_lo"]),
                _address(c["family"], c["dst_hi"], c["dst_lo"]),
                c["sport"], c["dport"], c["seq"], c["ack"], c["flags"], c["window"],
                c["payload"], c["caplen"], c["wirelen"], paths[c["path"]],
            )
        )  # fmt: skip
    return out


def _packet_tuple(p: TcpPacket) -> tuple[object, ...]:
    return (
        p.frame, p.ts_ns, p.interface, p.vlan, p.src, p.dst, p.sport, p.dport, p.seq, p.ack, p.flags,
        p.window, p.payload_offset, p.payload_caplen, p.payload_len, p.path,
    )  # fmt: skip


def _compare(buf: bytes | bytearray, name: str) -> int:
    try:
        layout = read_layout(buf, name)
    except MonoviewError:
        return 0
    walk = whole_file(buf, layout, batch=512)
    scanner = Scanner(buf)
    rows: list[Rows] = []
    expected: list[tuple[object, ...]] = []
    fragments: list[Fragment] = []
    skipped: Counter[str] = Counter()
    links: Counter[str] = Counter()
    undecoded: Counter[str] = Counter()
    first: dict[str, int] = {}
    cut = short = aggregated = 0
    for batch in walk.batches():
        rows.append(scanner.scan(batch))
        for record in batch.records():
            decoded = decode_any(buf, record)
            # A frame of several packets (an A-MSDU): each one as a frame's, the frame skipped
            # (by its first reason) only when none is a packet or fragment.
            parts = decoded.parts if isinstance(decoded, Several) else (decoded,)
            taken = [p for p in parts if not isinstance(p, Skip | Undecoded)]
            aggregated += max(sum(isinstance(p, TcpPacket | Cut) for p in taken) - 1, 0)
            # A fragment beside a packet of its frame's own: what it completes is not the first.
            beside = any(isinstance(p.packet if isinstance(p, Cut) else p, TcpPacket) for p in taken)
            for result in taken or parts[:1]:
                if isinstance(result, Cut):
                    if result.short:
                        short += 1
                        first.setdefault(SHORT_TCP_HEADER, record.frame)
                    else:
                        cut += 1
                        first.setdefault(CUT, record.frame)
                    result = result.packet
                if isinstance(result, TcpPacket):
                    expected.append(_packet_tuple(result))
                    continue
                if isinstance(result, Fragment):
                    fragments.append(dataclasses.replace(result, beside=True) if beside else result)
                    continue
                skipped[result.value] += 1
                if result.value == "unsupported link type":
                    links[linktype_name(record.linktype)] += 1
                key = result.name if isinstance(result, Undecoded) else result.value
                if isinstance(result, Undecoded):
                    undecoded[key] += 1
                if isinstance(result, Undecoded) or result is Skip.BAD_IP_LENGTH:
                    first.setdefault(key, record.frame)
    assert _row_tuples(Rows.concat(rows), scanner.contexts, scanner.paths.paths) == expected
    assert scanner.fragments == fragments
    assert scanner.stats.skipped == skipped
    assert scanner.stats.unsupported_link_types == links
    assert scanner.stats.undecoded == undecoded
    assert scanner.stats.cut == cut
    assert scanner.stats.short_headers == short
    assert scanner.stats.aggregated == aggregated
    assert scanner.stats.first_frames == first
    return len(expected)


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_scanner_finds_what_the_decoder_finds(path: Path) -> None:
    _compare(path.read_bytes(), path.name)


def _mutate(rng: random.Random, data: bytes) -> bytearray:
    """Damage the headers of a few frames in place: bytes of the first 80, and wire lengths."""
    out = bytearray(data)
    try:
        layout = read_layout(data, "x")
        records = [r for batch in whole_file(data, layout).batches() for r in batch.records()]
    except MonoviewError:
        return out
    if not records:
        return out
    for record in rng.sample(records, min(len(records), 8)):
        what = rng.randrange(4)
        if what == 3 and layout.format != "pcapng":
            # origlen is the last field of the record header, just before the data
            origlen = rng.choice((0, record.caplen - 1, record.caplen + rng.randrange(1, 3000))) % 2**32
            struct.pack_into(layout.order + "I", out, record.offset - layout.header_len + 12, origlen)
            continue
        for _ in range(rng.randrange(1, 4)):
            at = record.offset + rng.randrange(0, min(max(record.caplen, 1), 80))
            if at < len(out):
                out[at] = rng.choice((0x00, 0x06, 0x11, 0x2F, 0x45, 0x46, 0x4F, 0x60, 0x81, 0x86, 0x88, 0xFF,
                                      rng.randrange(256)))  # fmt: skip
    return out


def test_scanner_finds_what_the_decoder_finds_in_damaged_frames() -> None:
    rng = random.Random(11)
    sample = [p for p in CAPTURE_FILES if p.stat().st_size < 300_000]
    if not sample:
        pytest.skip("no small captures")
    found = 0
    for _ in range(500):
        path = rng.choice(sample)
        found += _compare(_mutate(rng, path.read_bytes()), path.name)
    assert found > 1000


def test_rows_select_and_concatenate() -> None:
    empty = Rows.empty()
    assert len(Rows.concat([empty, empty])) == 0
    assert len(empty.take(np.zeros(0, dtype=np.intp))) == 0


def _ipv4(payload: bytes, proto: int, ident: int = 1, frag: int = 0) -> bytes:
    """An IPv4 header (checksum left 0: nothing here checks it) and ``payload``."""
    header = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0,
                         bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))  # fmt: skip
    return header + payload


def test_a_short_last_frame_is_read_not_taken_for_zeros(tmp_path: Path) -> None:
    """The scanner gathers 40 bytes of IP header; the last frame of a file can have fewer.
    zeek's ipv4/fragmented-syn: the SYN's second fragment (36 bytes of IP) ends the file, and
    the document lost the SYN (the fragment counted malformed); a 28-byte ICMP ends others."""

    def describe(source: object) -> dict[str, object]:
        options = ExportOptions(directions=False, monologues=False, transcript=False)
        return Exporter(source, "unused", options).describe()  # type: ignore[arg-type]

    tcp = tcp_ip(("10.0.0.1", 40000), ("10.0.0.2", 80), 1000, 0, SYN, options=b"\x02\x04\x05\xb4" * 5)[20:]
    first, second = tcp[:24], tcp[24:]
    fragmented = [
        Frame(1_000, ethernet(_ipv4(first, 6, frag=0x2000))),
        Frame(2_000, ethernet(_ipv4(second, 6, frag=24 // 8))),
    ]
    icmp = [Frame(1_000, ethernet(tcp_ip(("10.0.0.1", 1), ("10.0.0.2", 2), 0, 0, SYN))),
            Frame(2_000, ethernet(_ipv4(b"\x08\x00" + b"\x00" * 6, 1)))]  # fmt: skip
    for name, frames in (("fragmented.pcap", fragmented), ("icmp.pcap", icmp)):
        path = write_pcap(tmp_path / name, frames)
        _compare(path.read_bytes(), name)
        assert describe(CaptureDocument(path, workers=1)) == describe(analyse(path))
    assert len(CaptureDocument(tmp_path / "fragmented.pcap", workers=1).rows) == 1
