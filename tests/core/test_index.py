"""The packet index against the per-packet pipeline, and against itself built in pieces.

Every TCP packet the per-packet decoder (with fragment reassembly) finds must
be a row of the index with the same fields, in the same order, with the same
endpoints and context; the frame counts, skipped frames and read errors must
agree.  Built from several ranges, in this process or in worker processes,
the index must be identical to the one built in one piece.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from monoview.core.capture.counts import CaptureStats
from monoview.core.capture.decode import Cut, Skip, decode, reassembler
from monoview.core.capture.fragments import Fragment
from monoview.core.capture.index import PacketIndex, build_index, build_parts
from monoview.core.capture.linktypes import linktype_name
from monoview.core.capture.source import CaptureFile
from monoview.core.errors import CaptureReadError
from monoview.core.executor import InlineExecutor, local_executor
from monoview.core.packet import TcpPacket
from tests.core.test_walk import CAPTURE_FILES


def _old_pipeline(path: Path, split: bool = False) -> tuple[list[tuple[object, ...]], dict[str, object]]:
    """Packets and counts the way Analysis read them before the index."""
    capture = CaptureFile.open(path)
    buf = capture.buffer
    fragments = reassembler()
    packets: list[tuple[object, ...]] = []
    skipped: Counter[str] = Counter()
    links: Counter[str] = Counter()
    notes = CaptureStats()  # cut packets, undecoded encapsulations, first frames
    frames = 0
    error = None
    try:
        for record in capture.records():
            frames += 1
            result = decode(buf, record)
            if isinstance(result, Cut):
                notes.cut_packet(record.frame, result.short)
                result = result.packet
            if isinstance(result, Fragment):
                whole = fragments.add(buf, result)
                if not whole:
                    skipped[Skip.FRAGMENT.value] += 1
                    continue
                (result,) = whole
            if isinstance(result, TcpPacket):
                context = (*result.vlan, -1 - result.interface) if split else result.vlan
                packets.append(
                    (
                        result.frame, result.ts_ns, result.payload_offset, result.payload_caplen,
                        result.payload_len, result.seq, result.ack, result.flags, result.window,
                        result.interface, context, (result.src, result.sport), (result.dst, result.dport),
                        result.payload_parts,
                    )
                )  # fmt: skip
            else:
                skipped[result.value] += 1
                if result is Skip.UNSUPPORTED_LINK:
                    links[linktype_name(record.linktype)] += 1
                notes.skip(result, record.frame, record.linktype)
    except CaptureReadError as exc:
        error = str(exc)
    counts = {
        "frames": frames,
        "skipped": skipped,
        "links": links,
        "incomplete": fragments.finish(),
        "error": error,
        "notes": (notes.cut, notes.undecoded, notes.first_frames),
    }
    capture.close()
    return packets, counts


def _rows(index: PacketIndex) -> list[tuple[object, ...]]:
    columns = {name: values.tolist() for name, values in index.columns.items()}
    flows = index.flows
    out = []
    for i in range(len(index)):
        c = {name: values[i] for name, values in columns.items()}
        a, b = flows.endpoints(c["flow"])
        sender, receiver = (b, a) if c["dir"] else (a, b)
        out.append(
            (
                c["frame"], c["ts"], c["payload"], c["caplen"], c["wirelen"], c["seq"], c["ack"], c["flags"],
                c["window"], c["interface"], flows.context(c["flow"]), sender, receiver,
                index.parts.get((c["frame"], c["payload"])),
            )
        )  # fmt: skip
    return out


def _counts(index: PacketIndex) -> dict[str, object]:
    stats = index.stats
    return {
        "frames": stats.frames,
        "skipped": stats.skipped,
        "links": stats.unsupported_link_types,
        "incomplete": stats.incomplete_fragments,
        "error": index.read_error,
        "notes": (stats.cut, stats.undecoded, stats.first_frames),
    }


def _same(one: PacketIndex, other: PacketIndex) -> None:
    assert one.columns.keys() == other.columns.keys()
    for name in one.columns:
        assert np.array_equal(one.columns[name], other.columns[name]), name
    for name in ("context", "family", "a_hi", "a_lo", "a_port", "b_hi", "b_lo", "b_port", "first"):
        assert np.array_equal(getattr(one.flows.keys, name), getattr(other.flows.keys, name)), name
    assert [one.flows.context(f) for f in range(len(one.flows))] == [
        other.flows.context(f) for f in range(len(other.flows))
    ]
    assert one.parts == other.parts
    assert _counts(one) == _counts(other)


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_index_holds_every_packet_the_decoder_finds(path: Path) -> None:
    packets, counts = _old_pipeline(path)
    index = build_index(path, workers=1)
    assert _rows(index) == packets
    assert _counts(index) == counts
    flows_in_order = index.columns["flow"]
    if len(flows_in_order):
        # Flows are numbered by first appearance.
        firsts = np.unique(flows_in_order, return_index=True)[1]
        assert np.all(np.diff(firsts) > 0)


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
def test_index_keeps_interfaces_apart_when_asked() -> None:
    for path in CAPTURE_FILES:
        if path.suffix == ".pcapng":
            packets, _counts_ = _old_pipeline(path, split=True)
            assert _rows(build_index(path, workers=1, split_interfaces=True)) == packets


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
def test_index_built_from_ranges_is_the_same() -> None:
    rng = random.Random(3)
    for path in CAPTURE_FILES:
        one = build_index(path, workers=1)
        size = path.stat().st_size
        for workers in (1, 2):  # 1 and RANGES_PER_WORKER * 2 ranges
            other = build_index(
                path, workers=workers, executor=InlineExecutor(), min_range=max(size // 50, 1), folder=None
            )
            _same(one, other)
        if rng.random() < 0.1:
            with local_executor(2) as pool:
                other = build_index(path, workers=2, executor=pool, min_range=1)
            _same(one, other)


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
def test_ranges_smaller_than_a_block_give_the_same_index() -> None:
    """Many ranges of a few bytes: most hold no record start, and a range walked again
    from where the previous one handed off may meet an interface block (only a walk
    from the start reads those: the whole file is then walked once)."""
    pcapng = [p for p in CAPTURE_FILES if p.suffix == ".pcapng" or p.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"]
    for path in pcapng[:6] + [p for p in CAPTURE_FILES if p not in pcapng][:3]:
        one = build_index(path, workers=1)
        size = path.stat().st_size
        other = build_index(path, workers=8, executor=InlineExecutor(), min_range=max(size // 64, 1))
        _same(one, other)


def test_index_of_a_cut_capture_reports_where_from_any_range(tmp_path: Path) -> None:
    source = next((p for p in CAPTURE_FILES if p.stat().st_size > 200_000), None)
    if source is None:
        pytest.skip("no capture big enough")
    data = source.read_bytes()
    rng = random.Random(8)
    for _ in range(5):
        cut = tmp_path / f"cut{rng.randrange(10**6)}{source.suffix}"
        cut.write_bytes(data[: rng.randrange(len(data) // 3, len(data))])
        packets, counts = _old_pipeline(cut)
        one = build_index(cut, workers=1)
        assert _rows(one) == packets and _counts(one) == counts
        assert one.read_error is not None
        many = build_index(cut, workers=4, executor=InlineExecutor(), min_range=1)
        _same(one, many)


def test_worker_processes_leave_no_files_behind(tmp_path: Path) -> None:
    path = CAPTURE_FILES[0] if CAPTURE_FILES else pytest.skip("no captures")
    with local_executor(2) as pool:
        index = build_index(path, workers=2, executor=pool, min_range=1, folder=tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert len(index) > 0


def test_a_range_holds_a_batch_of_its_rows_not_all_of_them(tmp_path: Path) -> None:
    """A range indexed to files (as every worker process indexes one) holds one batch of its
    rows at a time: its peak per row added from 8,000 to 32,000 rows, counted by tracemalloc.
    Before: 135 B (every batch's columns held to the range's end, 57 B a row, then joined
    into a second copy, then saved); now 6 (what the flows' merge keeps of a batch)."""
    import tracemalloc

    from tests.core.test_linear_time import _lossy_with_dup_acks

    def peak(n: int) -> int:
        path = _lossy_with_dup_acks(tmp_path, n)
        folder = tmp_path / f"index-{n}"
        folder.mkdir()
        tracemalloc.start()
        try:
            parts = build_parts(path, workers=1, executor=InlineExecutor(), folder=folder, batch=256)
            found = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        try:
            assert len(parts) == 2 * n + 5 and parts.ranges[0].files is not None
        finally:
            parts.close()
        return found

    peak(500)  # imports and caches warmed up
    per_row = (peak(16_000) - peak(4_000)) / 24_000
    assert per_row < 30, f"{per_row:.0f} B per row at the index's peak"
