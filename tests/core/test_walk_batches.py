"""Batches stay large whatever blocks a pcapng file is made of (issue 10: fuzz input 17:646).

Obsolete (OPB) and simple (SPB) packet blocks, a custom block between every
two packets, or a lying block length before a range's start all leave the
walker's fast loop; each such frame used to reach the scanner as a batch of
its own, and a batch costs a few dozen numpy calls whatever its size (5,712
batches for one 461 kB file: 12 s).  These tests count batches and scanner
calls, never time; the frames and the error are checked against the old
per-record reader kept in ``tests/reference/readers.py``, which shares no
code with the walker.
"""

from __future__ import annotations

import math
import random
import struct
from pathlib import Path

import pytest

from monoview.core.capture import scan
from monoview.core.capture.frames import find_start, read_records, walk_range, whole_file
from monoview.core.capture.index import build_parts
from monoview.core.capture.layout import read_layout
from monoview.core.capture.records import Record
from monoview.core.errors import CaptureReadError
from monoview.core.executor import InlineExecutor
from tests.pcapgen import ipv4_tcp_frame, raw_pcap
from tests.reference import readers

CLIENT, SERVER = 0x0A000001, 0x0A000002


def _block(block_type: int, body: bytes) -> bytes:
    body += b"\x00" * (-len(body) % 4)
    return struct.pack("<II", block_type, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def mixed_pcapng(packets: int, seed: int, corrupt_after: int | None = None) -> bytes:
    """One interface (Ethernet, microseconds); each packet in an EPB, OPB or SPB, custom
    blocks sprinkled between them, and (``corrupt_after``) a block that claims 3 bytes
    after that many packets, followed by more obsolete packet blocks."""
    rng = random.Random(seed)
    out = [
        _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
        _block(1, struct.pack("<HHI", 1, 0, 262144)),
    ]
    seq = 1000
    for k in range(packets):
        if corrupt_after is not None and k == corrupt_after:
            out.append(struct.pack("<II", 0x0BAD, 3))
        data = bytes([k % 256]) * rng.randrange(1, 40)
        frame = ipv4_tcp_frame(CLIENT, 40000, SERVER, 80, seq, 1, 0x18, data)
        seq += len(data)
        ticks = 1_700_000_000_000_000 + k * 1000
        kind = (
            "opb" if corrupt_after is not None and k >= corrupt_after else rng.choice(["epb", "opb", "spb"])
        )
        if kind == "epb":
            head = struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame))
            out.append(_block(6, head + frame))
        elif kind == "opb":
            head = struct.pack("<HHIIII", 0, 0, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame))
            out.append(_block(2, head + frame))
        else:
            out.append(_block(3, struct.pack("<I", len(frame)) + frame))
        if rng.random() < 0.3:
            out.append(_block(0x0BAD, rng.randbytes(rng.choice([0, 4, 16]))))
    return b"".join(out)


def _reference(buf: bytes) -> tuple[list[Record], str | None]:
    frames: list[Record] = []
    try:
        frames.extend(readers.read_pcapng(buf, "mixed.pcapng"))
    except CaptureReadError as exc:
        return frames, str(exc)
    return frames, None


@pytest.mark.parametrize("size", [1, 7, 64, 8192])
def test_mixed_packet_blocks_walk_in_full_batches(size: int) -> None:
    buf = mixed_pcapng(600, seed=size)
    layout = read_layout(buf, "mixed.pcapng")
    walk = whole_file(buf, layout, size)
    batches = list(walk.batches())
    frames = [r for b in batches for r in b.records()]
    assert (frames, None) == _reference(buf)
    assert len(frames) == 600
    assert len(batches) <= math.ceil(600 / size)
    assert all(len(b) >= size for b in batches[:-1])
    assert [b.first_frame for b in batches] == [
        1 + sum(len(p) for p in batches[:i]) for i in range(len(batches))
    ]


def test_damage_after_mixed_blocks_is_reported_after_the_same_frames() -> None:
    buf = mixed_pcapng(500, seed=3, corrupt_after=321)
    layout = read_layout(buf, "mixed.pcapng")
    expected_frames, expected_error = _reference(buf)
    assert expected_error is not None and len(expected_frames) == 321
    walk = whole_file(buf, layout)
    batches = list(walk.batches())
    assert len(batches) == 1
    assert [r for b in batches for r in b.records()] == expected_frames
    assert walk.damage is not None
    assert str(walk.damage.error("mixed.pcapng")) == expected_error
    with pytest.raises(CaptureReadError, match="claims 3 bytes"):
        list(read_records(buf, layout, "mixed.pcapng"))


def test_a_range_of_obsolete_blocks_after_damage_is_one_batch() -> None:
    """What the fuzz input did: ranges beyond the lying length re-synchronise on obsolete
    packet blocks and walked them one batch each."""
    buf = mixed_pcapng(500, seed=4, corrupt_after=100)
    layout = read_layout(buf, "mixed.pcapng")
    start = len(buf) // 2
    start += -start % 4
    begin = find_start(buf, layout, start, len(buf))
    assert begin is not None
    walk = walk_range(buf, layout, begin, len(buf))
    batches = list(walk.batches())
    assert len(batches) == 1 and len(batches[0]) > 100
    assert walk.damage is None and walk.handoff == len(buf)


def test_ranged_build_scans_few_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index built in 8 ranges of a file of obsolete and simple packet blocks with damage
    in the middle: a handful of scanner calls, not one per frame, and the same index as one
    walk builds."""
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(mixed_pcapng(2000, seed=5, corrupt_after=900))
    calls = 0
    original = scan.Scanner.scan

    def counted(self: scan.Scanner, *args: object, **kwargs: object) -> object:
        nonlocal calls
        calls += 1
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan.Scanner, "scan", counted)
    single = build_parts(path, workers=1, executor=InlineExecutor())
    single_calls, calls = calls, 0
    ranged = build_parts(path, workers=2, executor=InlineExecutor(), min_range=path.stat().st_size // 8)
    try:
        assert len(ranged.ranges) >= 2
        assert single_calls == 1
        assert calls <= 2 * 8  # at most one batch per range and per range walked again
        assert ranged.read_error == single.read_error and ranged.read_error is not None
        assert "claims 3 bytes" in ranged.read_error
        assert ranged.stats.frames == single.stats.frames == 900
        a, b = single.assemble(), ranged.assemble()
        assert all((a.columns[n] == b.columns[n]).all() for n in a.columns)
    finally:
        single.close()
        ranged.close()


def test_zero_filled_frames_are_no_place_to_resynchronise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fuzz inputs 31:9232 and 31:17836: a few big frames whose bytes are mostly zeros (an
    IPv6 extension-header chain's padding), cut into many small ranges walked one record at a
    time.  Sixteen zero bytes pass for a record (no time, no bytes), so every range began on
    one and walked a hundred false records to its end, each a scanner call, before the
    handoff check threw them away: thousands of calls for a few frames.  Counted, not timed."""
    frames = [
        ipv4_tcp_frame(CLIENT, 40000, SERVER, 80, 1 + k * 20_000, 1, 0x18, bytes(20_000)) for k in range(4)
    ]
    path = raw_pcap(tmp_path / "zeros.pcap", frames)
    size = path.stat().st_size
    walked = 0
    original = scan.Scanner.scan

    def counted(self: scan.Scanner, batch: object, *args: object, **kwargs: object) -> object:
        nonlocal walked
        walked += len(batch)  # type: ignore[arg-type]
        return original(self, batch, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scan.Scanner, "scan", counted)
    single = build_parts(path, workers=1, executor=InlineExecutor())
    walked_once, walked = walked, 0
    ranged = build_parts(path, workers=8, executor=InlineExecutor(), min_range=size // 32, batch=1)
    try:
        assert walked_once == len(frames)
        assert len(ranged.ranges) >= 4
        # Each real frame once, and again at most once per range walked again (false records: 0).
        assert walked <= 2 * len(frames), walked
        assert ranged.stats.frames == single.stats.frames == len(frames)
        a, b = single.assemble(), ranged.assemble()
        assert all((a.columns[n] == b.columns[n]).all() for n in a.columns)
    finally:
        single.close()
        ranged.close()


def test_resynchronisation_skips_zeros_to_the_next_record() -> None:
    """After a zero-filled stretch the next true record is still found (the zeros are skipped
    in chunks, whatever their length), and a range of zeros alone has no start."""
    frames = [
        ipv4_tcp_frame(CLIENT, 40000, SERVER, 80, 1 + k, 1, 0x18, bytes(n))
        for k, n in enumerate((60_000, 10, 20, 5) * 5)
    ]
    buf = b"".join(
        [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1)]
        + [struct.pack("<IIII", 1_700_000_000 + k, k, len(f), len(f)) + f for k, f in enumerate(frames)]
    )
    layout = read_layout(buf, "zeros.pcap")
    second = 24 + 16 + len(frames[0])
    assert find_start(buf, layout, 24 + 100, len(buf)) == second
    assert find_start(buf, layout, 24 + 100, second - 1) is None
