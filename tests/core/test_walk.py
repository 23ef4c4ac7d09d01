"""The batch record walker against the per-record readers it replaced, and walks
over ranges of a file stitched back together.

The reference (tests/reference/readers.py) is the old reader kept verbatim, so
frames, timestamps, lengths and every damage message are checked against an
implementation that shares no code with the walker.  Damaged variants of the
shared captures (cut anywhere, record and block lengths rewritten) must give
the same frames and the same error, except where the old reader crashed with
a struct error or let a timestamp overflow: those are bugs the walker fixes.
"""

from __future__ import annotations

import contextlib
import mmap
import random
import struct
from pathlib import Path

import pytest

from monoview.core.capture.frames import find_start, read_records, walk_range, whole_file
from monoview.core.capture.layout import Layout, read_layout
from monoview.core.capture.records import Record
from monoview.core.errors import CaptureFormatError, CaptureReadError, MonoviewError
from tests.conftest import CAPTURES, DATA
from tests.reference import readers

INT64 = 1 << 63


def _captures() -> list[Path]:
    found = sorted(DATA.glob("*.pcap*"))
    for folder in ("lab", "wild"):
        root = CAPTURES / folder
        if root.exists():
            found += sorted(p for p in root.iterdir() if p.suffix in (".pcap", ".pcapng"))
    return found


CAPTURE_FILES = _captures()


def _reference(buf: bytes, name: str) -> tuple[list[Record], object]:
    """Frames and the final error (or None) of the old reader; the error as comparable data."""
    frames: list[Record] = []
    (magic,) = struct.unpack_from("<I", buf, 0)
    reader = readers.read_pcapng if magic == readers.BLOCK_SHB else readers.read_pcap
    try:
        for record in reader(buf, name):
            frames.append(record)
    except CaptureReadError as exc:
        return frames, ("read", str(exc), exc.frame, exc.offset)
    except MonoviewError as exc:
        return frames, ("format", str(exc))
    except Exception as exc:  # noqa: BLE001 - the old reader's own crashes are part of what is compared
        return frames, ("crash", type(exc).__name__)
    return frames, None


def _walker(buf: bytes, name: str) -> tuple[list[Record], object]:
    frames: list[Record] = []
    try:
        layout = read_layout(buf, name)
        for record in read_records(buf, layout, name):
            frames.append(record)
    except CaptureReadError as exc:
        return frames, ("read", str(exc), exc.frame, exc.offset)
    except CaptureFormatError as exc:
        return frames, ("format", str(exc))
    return frames, None


def _agree(buf: bytes, name: str) -> None:
    if len(buf) < 4:
        assert _walker(buf, name)[1][0] == "format"  # type: ignore[index]
        return
    old_frames, old_end = _reference(buf, name)
    new_frames, new_end = _walker(buf, name)
    if isinstance(old_end, tuple) and old_end[0] == "crash":
        # The old reader crashed (a struct error on a truncated block): the walker must
        # report damage instead, after the same frames.
        assert isinstance(new_end, tuple) and new_end[0] == "read", (old_end, new_end)
        assert new_frames == old_frames
        return
    if (
        isinstance(old_end, tuple)
        and old_end[0] == "format"
        and new_end is not None
        and new_end[0] == "format"
    ):
        return  # a bad header: both refuse the file (the walker already when opening)
    if isinstance(new_end, tuple) and "too short for its header" in new_end[1]:
        # The old reader read such a block's header from the bytes after it; same place, better words.
        assert isinstance(old_end, tuple) and (new_end[0], *new_end[2:]) == (old_end[0], *old_end[2:])
        old_end = new_end
    clamped = [r for r in old_frames if not -INT64 < r.ts_ns < INT64]
    if clamped:
        assert len(new_frames) == len(old_frames)
        for old, new in zip(old_frames, new_frames, strict=True):
            if -INT64 < old.ts_ns < INT64:
                assert new == old
            else:
                assert new._replace(ts_ns=0) == old._replace(ts_ns=0) and abs(new.ts_ns) == INT64 - 1
        assert new_end == old_end
        return
    assert new_end == old_end
    assert new_frames == old_frames


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_every_capture_walks_as_the_old_reader_read_it(path: Path) -> None:
    _agree(path.read_bytes(), path.name)


def _damaged(rng: random.Random, data: bytes) -> bytes:
    """One random damage: a cut anywhere, or a length field rewritten where a record or block starts."""
    frames: list[Record] = []
    with contextlib.suppress(MonoviewError):
        frames = list(read_records(data, read_layout(data, "x"), "x"))
    what = rng.randrange(3)
    if what == 0 or not frames:
        return data[: rng.randrange(len(data))]
    out = bytearray(data)
    record = rng.choice(frames)
    pcapng = data[:4] == b"\x0a\x0d\x0d\x0a"
    # Offsets of the length fields in front of the frame's data.
    field = record.offset - (28 - 4 if pcapng else 8) if what == 1 else record.offset - (8 if pcapng else 4)
    if field < 0 or field + 4 > len(out):
        return data[: rng.randrange(len(data))]
    value = rng.choice(
        (0, 1, 3, 11, 12, 13, 31, 32, record.caplen + 1, 1 << 24, 0xFFFFFFFF, rng.randrange(1 << 32))
    )
    struct.pack_into("<I", out, field, value)
    return bytes(out)


def test_damaged_captures_walk_as_the_old_reader_read_them() -> None:
    rng = random.Random(20261201)
    sample = [p for p in CAPTURE_FILES if p.stat().st_size < 400_000] or CAPTURE_FILES
    for _ in range(600):
        path = rng.choice(sample)
        _agree(_damaged(rng, path.read_bytes()), path.name)


def _ranges(buf: bytes, layout: Layout, cuts: list[int]) -> list[Record] | None:
    """Walk each range from its re-synchronised start; where a start disagrees with the
    previous range's handoff, walk again from the handoff (what the index builder does).
    None when a range met a section header or interface description it cannot interpret."""
    frames: list[Record] = []
    bounds = [layout.first_record, *sorted(cuts), layout.size]
    handoff = None
    for start, stop in zip(bounds, bounds[1:], strict=False):
        if stop <= start:
            continue
        begin = find_start(buf, layout, start, stop) if handoff is None else handoff
        if begin is None:
            continue
        if handoff is not None and begin != handoff:
            begin = handoff
        walk = walk_range(buf, layout, begin, stop)
        for batch in walk.batches():
            frames.extend(batch.records(len(frames)))
        if walk.needs_whole:
            return None
        assert walk.damage is None
        handoff = walk.handoff
    return frames


@pytest.mark.skipif(not CAPTURES.exists(), reason="the shared captures are not beside the checkout")
def test_ranges_stitch_back_into_the_whole_file() -> None:
    rng = random.Random(5)
    checked = 0
    for path in CAPTURE_FILES:
        buf = path.read_bytes()
        layout = read_layout(buf, path.name)
        walk = whole_file(buf, layout)
        whole = [r for batch in walk.batches() for r in batch.records()]
        if walk.damage is not None or layout.size <= layout.first_record + 1:
            continue
        for _ in range(3):
            cuts = [rng.randrange(layout.first_record, layout.size) for _ in range(rng.randrange(1, 6))]
            stitched = _ranges(buf, layout, cuts)
            if stitched is None:
                # Only a file with more header blocks after its first packet may refuse.
                assert _late_header_blocks(buf, layout), path.name
                break
            assert stitched == whole, path.name
        checked += 1
    assert checked >= 20


def _late_header_blocks(buf: bytes, layout: Layout) -> bool:
    """Does a section header or interface description follow the first section's packets?"""
    offset = layout.first_record
    while offset + 8 <= len(buf):
        block_type, block_len = struct.unpack_from(layout.order + "II", buf, offset)
        if block_type in (0x0A0D0D0A, 1):
            return True
        if block_len < 12:
            return False
        offset += block_len
    return False


def test_resynchronisation_finds_the_next_record(tmp_path: Path) -> None:
    """From any offset inside a record, the start found is the next record's header."""
    path = DATA / "chatter.pcap"
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        layout = read_layout(buf, path.name)
        starts = [r.offset - layout.header_len for r in read_records(buf, layout, path.name)]
        for before, after in zip(starts, starts[1:], strict=False):
            for offset in (before + 1, (before + after) // 2, after - 1):
                assert find_start(buf, layout, offset, layout.size) == after
