"""What the fuzz campaign (``bench/fuzz.py``) found, each class pinned by a small generated capture."""

from __future__ import annotations

import dataclasses
import os
import random
import struct
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monoview.core.capture import ethernet, linktypes
from monoview.core.capture import fragments as fragments_module
from monoview.core.capture.decode import Skip, decode_any
from monoview.core.capture.fragments import Fragment, FragmentReassembler
from monoview.core.capture.records import Record
from monoview.core.document import CaptureDocument
from monoview.core.executor import InlineExecutor
from monoview.core.export import Exporter, ExportOptions, manifest
from monoview.core.packet import TcpPacket
from monoview.core.streambytes import GapPolicy, direction_bytes, filler_length, marker, zero_budget
from tests.fuzz.capmodel import idb_body, parse
from tests.pcapgen import Conversation, Frame, pcapng_bytes, write_pcap

MALFORMED = Skip.MALFORMED.value


def _tagged(frame: bytes, tags: int) -> bytes:
    """An Ethernet frame with ``tags`` more 802.1ad/802.1Q tags after its addresses."""
    stack = b"".join(struct.pack(">HH", 0x88A8 if k == 0 else 0x8100, k & 0xFFF) for k in range(tags))
    return frame[:12] + stack + frame[12:]


def test_vlan_tag_flood_is_malformed_and_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames with 1,000 stacked tags (issue 10: 50 of them took more than 10 s, each tag copying
    the tuple of tags so far) are malformed, and reading one costs a bounded number of steps."""
    conv = Conversation()
    conv.handshake()
    conv.send(True, b"hello")
    conv.close()
    frames = [Frame(f.ts_ns, _tagged(f.data, 1000)) for f in conv.frames]
    path = write_pcap(tmp_path / "tags.pcap", [*frames, *conv.frames])
    with CaptureDocument(path, workers=1) as document:
        assert document.stats.skipped[MALFORMED] == len(frames)
        (session,) = document.sessions
        assert session.packets == len(conv.frames)  # the untagged copies are kept
    reads = 0
    unpack = ethernet._u16

    def counting(buf: bytes, offset: int) -> tuple[int]:
        nonlocal reads
        reads += 1
        return unpack(buf, offset)

    monkeypatch.setattr(ethernet, "_u16", counting)
    data = _tagged(conv.frames[3].data, 10_000)
    assert decode_any(data, Record(1, 0, 1, 0, 0, len(data), len(data))) is Skip.MALFORMED
    # Two reads a tag, and one more for the FabricPath heuristic's look at the first EtherType.
    assert reads <= 2 * (linktypes.MAX_VLAN_TAGS + 1) + 1


@pytest.mark.parametrize("tags", [1, 2, 3, linktypes.MAX_VLAN_TAGS])
def test_stacks_up_to_the_cap_are_decoded(tmp_path: Path, tags: int) -> None:
    conv = Conversation(vlans=tuple(range(10, 10 + tags)))
    conv.handshake()
    conv.send(True, b"tagged")
    conv.close()
    path = write_pcap(tmp_path / "stack.pcap", conv.frames)
    with CaptureDocument(path, workers=1) as document:
        (session,) = document.sessions
        assert session.context == tuple(range(10, 10 + tags))
        assert document.conversation(1).streams[0].kept + document.conversation(1).streams[1].kept == 6


def _conversation_frames(client_port: int = 40000) -> list[Frame]:
    conv = Conversation(client=("10.0.0.1", client_port))
    conv.handshake()
    conv.send(True, b"request " * 40, mss=100)
    conv.send(False, b"response " * 60, mss=100)
    conv.close()
    return conv.frames


def _same_document(path: Path, workers: int, min_range: int, batch: int) -> None:
    """The document built in ranges (as worker processes build a big capture, here in this
    process) and in small batches equals the one built in one walk."""
    with (
        CaptureDocument(path, workers=1) as single,
        CaptureDocument(
            path, workers=workers, executor=InlineExecutor(), min_range=min_range, batch=batch
        ) as ranged,
    ):
        assert single.read_error is None and ranged.read_error is None
        assert single.rows.shape == ranged.rows.shape and (single.rows == ranged.rows).all()
        assert dataclasses.astuple(single.stats) == dataclasses.astuple(ranged.stats)
        assert [s.key for s in single.sessions] == [s.key for s in ranged.sessions]


@pytest.mark.parametrize(("workers", "batch"), [(2, 8192), (4, 3), (8, 1)])
def test_second_section_read_in_ranges(tmp_path: Path, workers: int, batch: int) -> None:
    """A later range that starts inside a second section (another link type) read its packets
    with the first section's interfaces: Linux cooked frames taken for Ethernet, "not IP"."""
    first = _conversation_frames(40000)
    cooked = [Frame(f.ts_ns, _cooked(f.data)) for f in _conversation_frames(40001)]
    path = tmp_path / "sections.pcapng"
    path.write_bytes(pcapng_bytes([([(1, 6)], first[:4]), ([(113, 9)], cooked)]))
    with CaptureDocument(path, workers=1) as single:
        assert len(single) == 2 and single.stats.tcp_packets == 4 + len(cooked)
    _same_document(path, workers, 512, batch)


@pytest.mark.parametrize(("workers", "batch"), [(2, 8192), (4, 3), (8, 1)])
def test_interface_described_after_packets_read_in_ranges(tmp_path: Path, workers: int, batch: int) -> None:
    """An interface description after the first packets (allowed anywhere in a section): later
    ranges did not know it, and their packets naming it were "damage" ("frame 9 names interface
    1, but only 1 are described"), the rest of the capture dropped."""
    ethernet_frames = _conversation_frames(40000)
    raw = [Frame(f.ts_ns + 1, f.data[14:], interface=1) for f in _conversation_frames(40001)]
    data = bytearray(pcapng_bytes([([(1, 6), (101, 6)], [*ethernet_frames[:3], *raw])]))
    # Move the second interface description after the first three packets.
    shb_len = struct.unpack_from("<I", data, 4)[0]
    idb1_len = struct.unpack_from("<I", data, shb_len + 4)[0]
    idb2_at = shb_len + idb1_len
    idb2_len = struct.unpack_from("<I", data, idb2_at + 4)[0]
    idb2 = bytes(data[idb2_at : idb2_at + idb2_len])
    del data[idb2_at : idb2_at + idb2_len]
    at = idb2_at
    for _ in range(3):
        at += struct.unpack_from("<I", data, at + 4)[0]
    data[at:at] = idb2
    path = tmp_path / "late_idb.pcapng"
    path.write_bytes(bytes(data))
    with CaptureDocument(path, workers=1) as single:
        assert single.read_error is None and single.stats.tcp_packets == 3 + len(raw)
    _same_document(path, workers, 512, batch)


@pytest.mark.parametrize("batch", [1, 3, 8192])
def test_clamped_timestamps_are_counted_one_by_one(tmp_path: Path, batch: int) -> None:
    """One timestamp of 2^64-1 microseconds among 17 was counted as 17 clamped timestamps
    (every frame of its batch), a count that changed with the batch size."""
    frames = _conversation_frames()
    data = bytearray(pcapng_bytes([([(1, 6)], frames)]))
    cap = parse(bytes(data))
    assert cap is not None
    cap.set_ts_ticks(cap.records[cap.packet_indices()[5]], 2**64 - 1)
    path = tmp_path / "clamped.pcapng"
    path.write_bytes(cap.serialize()[0])
    with CaptureDocument(path, workers=1, batch=batch) as document:
        assert document.stats.clamped_timestamps == 1
        assert "1 timestamps lie beyond the year 2262" in document.stats.warnings()[0]
        assert document.stats.tcp_packets == len(frames)


def _cooked(frame: bytes) -> bytes:
    """An Ethernet frame as Linux cooked capture v1 (the same IP packet)."""
    return (
        struct.pack(">HHH8sH", 0, 1, 6, frame[6:12] + b"\x00\x00", struct.unpack_from(">H", frame, 12)[0])
        + frame[14:]
    )


def _conflicting_segments(path: Path, count: int) -> Path:
    """One-byte segments, each re-sending the 0-8 bytes before it with other content (issue 10:
    100,000 of them took 391 MB; the fuzz campaign's 100,000 took 550-790 MB)."""
    conv = Conversation()
    conv.handshake()
    rng = random.Random(7)
    for i in range(count):
        back = rng.randint(0, 8) if i >= 8 else 0
        conv.segment(True, i - back, rng.randbytes(back + 1))
    conv.close()
    return write_pcap(path, conv.frames)


def test_conflicts_are_small_records(tmp_path: Path) -> None:
    """A conflict is six integers in columns (about 400 bytes of Python memory each before:
    a tuple of six ints in the stream, for every replay that kept it)."""
    path = _conflicting_segments(tmp_path / "conflicts.pcap", 10_000)
    tracemalloc.start()
    try:
        with CaptureDocument(path, workers=1) as document:
            session = document.conversation(1)
            count = session.conflict_count("c2s")
            _current, peak = tracemalloc.get_traced_memory()
            conflicts = session.conflicts("c2s")
            assert len(conflicts) == count and conflicts[:3] == session.conflicts("c2s", 3)
            first = conflicts[0]
            kept = session.read(first.kept_file_offset, first.length)
            other = session.read(first.other_file_offset, first.length)
            assert kept != other  # both versions are read back from the file
    finally:
        tracemalloc.stop()
    assert count > 25_000
    assert peak / count < 250, f"{peak / count:.0f} bytes per conflict"


def test_manifest_lists_a_bounded_number_of_conflicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every conflict listed with two hashes took 340 MB for 244,000 of them; the manifest lists
    the first ``MAX_LISTED_CONFLICTS`` and counts the rest."""
    monkeypatch.setattr(manifest, "MAX_LISTED_CONFLICTS", 100)
    path = _conflicting_segments(tmp_path / "conflicts.pcap", 300)
    with CaptureDocument(path, workers=1) as document:
        total = document.conversation(1).conflict_count("c2s")
        options = ExportOptions(directions=False, monologues=False, transcript=False)
        described = Exporter(document, tmp_path / "out", options, workers=1).describe()
    c2s = described["streams"][0]["c2s"]
    assert total > 100
    assert len(c2s["conflicts"]) == 100 and c2s["conflicts_not_listed"] == total - 100
    assert "conflicts_not_listed" not in described["streams"][0]["s2c"]  # none: the key is absent
    keys = list(c2s)
    assert keys.index("conflicts_not_listed") == keys.index("conflicts") + 1


def test_zero_fill_of_a_small_capture_is_bounded(tmp_path: Path) -> None:
    """Sequence jumps just under the per-gap cap, one after another: a 1 kB capture whose
    ``--gaps zero`` export wrote 264 MB of zeros (four gaps of 63 MiB).  A direction's zeros
    are now bounded in all (``MAX_ZERO_FILL``): the first gap is zeros, the others markers."""
    conv = Conversation()
    conv.handshake()
    for k in range(5):
        conv.segment(True, k * 63 * 2**20, b"x")
    conv.close()
    path = write_pcap(tmp_path / "jumps.pcap", conv.frames)
    with CaptureDocument(path, workers=1) as document:
        gaps = document.conversation(1).gaps("c2s")
    fits = zero_budget(g.length for g in gaps)
    written = sum(filler_length(g.length, GapPolicy.ZERO, f) for g, f in zip(gaps, fits, strict=True))
    assert path.stat().st_size < 2000
    assert len(gaps) == 4 and fits == [True, False, False, False]
    assert written <= 64 * 2**20
    with CaptureDocument(path, workers=1) as document:
        exported = direction_bytes(document.conversation(1), "c2s", GapPolicy.ZERO)
    assert len(exported) == written + 5 == 63 * 2**20 - 1 + 3 * len(marker(63 * 2**20 - 1)) + 5


def _sessions_with_holes(path: Path, sessions: int, hole: int) -> Path:
    """``sessions`` connections, each a byte, a hole of ``hole`` bytes, a byte: a few kB in all."""
    frames = []
    for n in range(sessions):
        conv = Conversation(client=("10.0.0.1", 20000 + n), start_ns=1_700_000_000_000_000_000 + n * 10**8)
        conv.handshake()
        conv.segment(True, 0, b"a")
        conv.segment(True, hole + 1, b"b")
        conv.c_next += hole + 2
        conv.ack(False)
        frames += conv.close().frames
    return write_pcap(path, frames)


@pytest.mark.parametrize("per_packet", [False, True])
def test_zero_fill_of_an_export_is_bounded_by_the_capture(tmp_path: Path, per_packet: bool) -> None:
    """Many sessions, each with one hole well under a direction's cap: the export's zeros in all
    stay within its own budget (the capture's size, 64 MiB at least), shared out in session
    order whatever the workers; the manifest says which holes were filled and states the budget."""
    from monoview.core.analyse import analyse
    from monoview.core.export.options import Layout
    from monoview.core.export.zeros import export_budget
    from monoview.core.streambytes import MAX_ZERO_FILL

    hole = 3 << 20
    path = _sessions_with_holes(tmp_path / "holes.pcap", 70, hole)
    assert path.stat().st_size < 100_000 and export_budget(path) == MAX_ZERO_FILL
    options = ExportOptions(gaps=GapPolicy.ZERO, layout=Layout.DIRECTIONS)
    out = tmp_path / "out"
    if per_packet:
        written = Exporter(analyse(path), out, options).export()
    else:
        with CaptureDocument(path, workers=2) as document:
            written = Exporter(document, out, options, workers=2).export()
    filled = [g["filled"] for s in written["streams"] for g in s["c2s"]["gaps"]]
    fit = MAX_ZERO_FILL // hole
    assert filled == [True] * fit + [False] * (70 - fit)
    on_disk = sum(f.stat().st_size for f in out.iterdir() if f.name != "manifest.json")
    assert on_disk == fit * (hole + 2) + (70 - fit) * (2 + len(marker(hole)))
    assert written["export"]["zero_fill"]["per_export"] == MAX_ZERO_FILL


@pytest.mark.parametrize(
    ("resol", "tsoffset", "ticks", "expected"),
    [
        (0, -(2**63), 2**63 - 1, -(10**9)),  # a huge offset cancels huge ticks: -1 s exactly
        (0, -(2**63), 2**63, 0),
        (0, 2**63 - 1, 0, 2**63 - 1),  # beyond int64 nanoseconds: clamped
        (6, -(2**62), 2**64 - 1, -(2**63 - 1)),
        (0xBC, -(2**63), 2**64 - 1, -(2**63 - 1)),
    ],
)
def test_huge_interface_time_offsets(
    tmp_path: Path, resol: int, tsoffset: int, ticks: int, expected: int
) -> None:
    """An if_tsoffset of -2^63 s with ticks near 2^63: the vectorised conversion took the sum
    of the two (small, as they cancel) as a sign that both fit, and ``OverflowError: Python int
    too large to convert to C long`` escaped the reader."""
    frames = _conversation_frames()
    cap = parse(pcapng_bytes([([(1, 6)], frames)]))
    assert cap is not None
    for rec in cap.records:
        if rec.btype == 1:  # the interface: another resolution and offset
            rec.body = bytearray(idb_body("<", 1, resol, tsoffset))
    for i in cap.packet_indices():
        cap.set_ts_ticks(cap.records[i], ticks)
    path = tmp_path / "offset.pcapng"
    path.write_bytes(cap.serialize()[0])
    with CaptureDocument(path, workers=1) as document:
        assert document.read_error is None
        assert document.stats.tcp_packets == len(frames)
        (session,) = document.sessions
        assert session.row["first_ts"] == expected
        clamped = abs(expected) == 2**63 - 1
        assert document.stats.clamped_timestamps == (len(frames) if clamped else 0)


def _fragment(
    buf: bytes, offset: int, length: int, more: bool, frame: int, caplen: int | None = None
) -> Fragment:
    key = ((), 0, b"\x0a\x00\x00\x01", b"\x0a\x00\x00\x02", 7)
    return Fragment(
        key,
        offset,
        more,
        100 + offset,
        length,
        length if caplen is None else caplen,
        frame,
        frame,
        0,
        (),
        key[2],
        key[3],
    )


def _reference(buf: bytes, fragments: list[Fragment]) -> list[TcpPacket | None]:
    """What the reassembler did before (every fragment: sort and scan them all again)."""
    parts: list[Fragment] = []
    out: list[TcpPacket | None] = []
    for f in fragments:
        parts.append(f)
        if len(parts) > fragments_module.MAX_FRAGMENTS:
            out.append(None)
            parts.clear()
            continue
        last = next((p for p in parts if not p.more), None)
        packet = None if last is None else fragments_module._assemble(buf, parts, last)
        out.append(packet)
        if packet is not None:
            parts.clear()
    return out


def _packet_fields(packet: TcpPacket | None) -> object:
    if packet is None:
        return None
    return (packet.frame, packet.seq, packet.payload_offset, packet.payload_caplen, packet.payload_len,
            packet.payload_parts)  # fmt: skip


@given(
    pieces=st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 6), st.booleans(), st.integers(0, 3)),
        min_size=1,
        max_size=40,
    )
)
@settings(max_examples=int(os.environ.get("MONOVIEW_EXAMPLES", "300")), deadline=None)
def test_fragments_assemble_as_before(pieces: list[tuple[int, int, bool, int]]) -> None:
    """Coverage kept as merged intervals gives what sorting and scanning every fragment again gave
    (at every fragment: which one completes the datagram, and its pieces)."""
    header = struct.pack(">HHIIHHHH", 1, 2, 3, 4, 0x5018, 5, 0, 0)
    buf = bytes(100) + header + bytes(range(256)) * 2
    fragments = []
    for n, (unit, units, more, cut) in enumerate(pieces):
        length = 8 * units
        caplen = length if cut == 0 else max(length - 8 * cut, 0)  # snaplen cut some
        fragments.append(_fragment(buf, 8 * unit, length, more, n + 1, caplen))
    reassembler = FragmentReassembler()
    found = [next(iter(reassembler.add(buf, f)), None) for f in fragments]
    assert [_packet_fields(p) for p in found] == [_packet_fields(p) for p in _reference(buf, fragments)]


def test_many_fragments_of_one_datagram_are_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """5,000 fragments of one datagram whose last fragment came first took 5 s (every fragment
    sorted and scanned all before it); now one is assembled only when it can be complete."""
    header = struct.pack(">HHIIHHHH", 1, 2, 3, 4, 0x5018, 5, 0, 0)
    buf = bytes(100) + header + bytes(70_000)
    calls = 0
    assemble = fragments_module._assemble

    def counting(*args: object) -> object:
        nonlocal calls
        calls += 1
        return assemble(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(fragments_module, "_assemble", counting)
    reassembler = FragmentReassembler()
    count = 1000
    order = [count - 1, *range(count - 1)]  # the last fragment first, then the others in order
    results = [
        reassembler.add(buf, _fragment(buf, 8 * k, 8, k != count - 1, n + 1)) for n, k in enumerate(order)
    ]
    assert results[-1] and not any(results[:-1])
    assert calls == 1


def test_a_datagram_of_too_many_fragments_is_given_up() -> None:
    buf = bytes(100) + bytes(70_000)
    reassembler = FragmentReassembler()
    count = fragments_module.MAX_FRAGMENTS + 10
    for n in range(count):  # all at offset 8: the datagram never starts
        assert not reassembler.add(buf, _fragment(buf, 8, 8, True, n + 1))
    assert reassembler.finish() == count
