"""Bad input gets a clear sentence and keeps every good session read before it."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monoview.core.analyse import analyse
from monoview.core.errors import CaptureFormatError
from monoview.core.export import Exporter, ExportOptions
from monoview.core.streambytes import MAX_ZERO_FILL, GapPolicy, direction_bytes
from tests.conftest import DATA
from tests.pcapgen import Conversation, pcap_bytes, write_pcap

CHATTER = DATA / "chatter.pcap"


def record_offsets(data: bytes) -> list[int]:
    """File offsets of each record header of a little-endian classic pcap."""
    offsets, pos = [], 24
    while pos + 16 <= len(data):
        offsets.append(pos)
        pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
    return offsets


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monoview", *args], capture_output=True, text=True, timeout=120
    )


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pcap"
    path.write_bytes(b"")
    with pytest.raises(CaptureFormatError, match="empty.pcap: the file is empty"):
        analyse(path)


def test_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "notes.pcap"
    path.write_text("these are my notes, not packets\n")
    with pytest.raises(CaptureFormatError, match="notes.pcap: not a pcap or pcapng capture"):
        analyse(path)
    result = run_cli("sessions", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "notes.pcap" in result.stderr


def test_cut_off_mid_packet_keeps_earlier_sessions(tmp_path: Path) -> None:
    data = CHATTER.read_bytes()
    offsets = record_offsets(data)
    cut = offsets[150] + 40  # inside frame 151
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:cut])
    whole = analyse(CHATTER).sessions[0]
    analysis = analyse(path)
    assert analysis.read_error == "cut.pcap: the file is cut off in the middle of frame 151"
    assert analysis.stats.frames == 150
    (session,) = analysis.sessions
    # The session is finished normally with everything read before the cut.
    assert session.finished and 0 < len(session.monologues) < len(whole.monologues)
    full = direction_bytes(whole, "c2s")
    assert full.startswith(direction_bytes(session, "c2s"))
    out = tmp_path / "out"
    result = run_cli("export", str(path), "--out", str(out))
    assert result.returncode == 3
    assert "frame 151" in result.stderr and "Traceback" not in result.stderr
    manifest = (out / "manifest.json").read_text()
    assert '"read_error": "cut.pcap: the file is cut off in the middle of frame 151"' in manifest


def test_record_claiming_four_gigabytes(tmp_path: Path) -> None:
    data = bytearray(CHATTER.read_bytes())
    offsets = record_offsets(bytes(data))
    struct.pack_into("<I", data, offsets[100] + 8, 0xFFFFFFF0)
    path = tmp_path / "huge.pcap"
    path.write_bytes(bytes(data))
    started = time.monotonic()
    analysis = analyse(path)
    assert time.monotonic() - started < 30  # nothing tries to read 4 GB
    assert (
        analysis.read_error
        == "huge.pcap: frame 101 claims 4,294,967,280 captured bytes; the record is corrupt"
    )
    assert len(analysis.sessions) == 1 and analysis.sessions[0].monologues


def test_garbage_inside_packets(tmp_path: Path) -> None:
    """Random bytes over the IP and TCP headers of some frames: they are skipped or
    become odd segments; the rest of the session is still reassembled."""
    data = bytearray(CHATTER.read_bytes())
    offsets = record_offsets(bytes(data))
    for i in range(20, 200, 17):
        start = offsets[i] + 16 + 14
        data[start : start + 30] = bytes((j * 37 + i) % 256 for j in range(30))
    path = tmp_path / "garbage.pcap"
    path.write_bytes(bytes(data))
    analysis = analyse(path)
    assert analysis.read_error is None
    assert analysis.stats.frames == len(offsets)
    assert any(s.monologues for s in analysis.sessions)


def test_header_only(tmp_path: Path) -> None:
    path = tmp_path / "h.pcap"
    path.write_bytes(pcap_bytes([]))
    analysis = analyse(path)
    assert analysis.sessions == [] and analysis.read_error is None


def test_huge_sequence_jump(tmp_path: Path) -> None:
    """A segment 1.5 GB ahead: a gap of that size, written as a marker, never as 1.5 GB of zeros."""
    conv = Conversation()
    conv.handshake()
    conv.segment(True, 0, b"first")
    conv.segment(True, 1_500_000_000, b"second")
    conv.close()
    path = write_pcap(tmp_path / "jump.pcap", conv.frames)
    analysis = analyse(path)
    (session,) = analysis.sessions
    assert direction_bytes(session, "c2s") == b"firstsecond"
    gap = session.gaps("c2s")[0]
    assert (gap.offset, gap.length) == (5, 1_500_000_000 - 5)
    assert gap.length > MAX_ZERO_FILL
    zero = direction_bytes(session, "c2s", GapPolicy.ZERO)
    assert zero == b"first" + b"[1499999995 bytes missing]" + b"second"
    manifest = Exporter(analysis, tmp_path / "o", ExportOptions(gaps=GapPolicy.ZERO)).export()
    assert manifest["streams"][0]["c2s"]["gaps"][0]["filled"] is False


@pytest.mark.parametrize("jump", [2**31 - 1, 2**31 - 100])
def test_the_largest_jump_ahead_is_a_hole_not_a_duplicate(tmp_path: Path, jump: int) -> None:
    """Half the sequence space ahead, less one: still ahead by TCP's serial arithmetic (RFC 1982), so the
    bytes after it are shown after a recorded hole, as tshark shows them, never dropped as old ones
    (they once vanished: no gap, no conflict).  Both paths: the per-packet one and the document's."""
    from monoview.core.document import CaptureDocument

    conv = Conversation()
    conv.handshake()
    conv.send(True, b"A" * 100)
    conv.segment(True, 100 + jump, b"B" * 100)
    conv.ack(False)
    conv.close()
    path = write_pcap(tmp_path / "jump.pcap", conv.frames)
    (per_packet,) = analyse(path).sessions
    with CaptureDocument(path, workers=1) as document:
        (info,) = document.sessions
        from_document = document.conversation(info.id)
        for session in (per_packet, from_document):
            assert direction_bytes(session, "c2s") == b"A" * 100 + b"B" * 100
            (gap,) = session.gaps("c2s")
            assert (gap.offset, gap.length) == (100, jump)


def test_many_jumps_share_one_budget_of_zeros(tmp_path: Path) -> None:
    """Gaps each under the cap, more than it together: zeros for those that fit, in stream
    order, a marker for the rest; the files, the transcript and the manifest agree."""
    conv = Conversation()
    conv.handshake()
    gap = 40 << 20
    for k in range(4):
        conv.segment(True, k * (gap + 1), b"x")
    conv.segment(True, 4 * (gap + 1), b"last")
    conv.close()
    path = write_pcap(tmp_path / "jumps.pcap", conv.frames)
    analysis = analyse(path)
    (session,) = analysis.sessions
    assert [g.length for g in session.gaps("c2s")] == [gap] * 4
    missing = b"[%d bytes missing]" % gap
    expected = b"x" + bytes(gap) + b"x" + missing + b"x" + missing + b"x" + missing + b"last"
    assert direction_bytes(session, "c2s", GapPolicy.ZERO) == expected
    out = tmp_path / "o"
    manifest = Exporter(analysis, out, ExportOptions(gaps=GapPolicy.ZERO)).export()
    assert [g["filled"] for g in manifest["streams"][0]["c2s"]["gaps"]] == [True, False, False, False]
    (folder,) = (p for p in out.iterdir() if p.is_dir())
    assert (folder / "c2s.bin").read_bytes() == expected
    assert (folder / "monologues" / "00000_c2s.bin").read_bytes() == expected
    transcript = (folder / "transcript.bin").read_bytes()
    assert transcript.count(missing) == 3 and transcript.count(bytes(gap)) == 1


@settings(
    max_examples=int(os.environ.get("MONOVIEW_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    cut=st.integers(24, 72574),
    flips=st.lists(st.tuples(st.integers(0, 72573), st.integers(0, 255)), max_size=30),
)
def test_damage_never_crashes(tmp_path: Path, cut: int, flips: list[tuple[int, int]]) -> None:
    """Any truncation and any bytes overwritten: a result or a clear error, never a crash."""
    data = bytearray(CHATTER.read_bytes()[:cut])
    for pos, value in flips:
        if 24 <= pos < len(data):
            data[pos] = value
    path = tmp_path / "fuzz.pcap"
    path.write_bytes(bytes(data))
    analysis = analyse(path)
    for session in analysis.sessions:
        for d in ("c2s", "s2c"):
            direction_bytes(session, d, GapPolicy.MARKER)
    if analysis.read_error is not None:
        assert analysis.read_error.startswith("fuzz.pcap: ")


@pytest.mark.parametrize(
    ("magic", "how"),
    [
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"BZh9", "bzip2"),
    ],
)
def test_a_compressed_capture_is_named_as_such(tmp_path: Path, magic: bytes, how: str) -> None:
    from monoview.core.document import CaptureDocument
    from monoview.core.errors import CaptureFormatError

    path = tmp_path / "x.pcap.packed"
    path.write_bytes(magic + bytes(100))
    damaged = f"x.pcap.packed: the {how}-compressed (capture cannot be decompressed|data ends early)"
    with pytest.raises(CaptureFormatError, match=damaged):
        CaptureDocument(path, workers=1)
