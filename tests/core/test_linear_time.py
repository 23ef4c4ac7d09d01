"""Work grows linearly with the input on the shapes that used to be quadratic.

Each test builds a small capture of a shape at two sizes and counts every
Python and C function call made while it is analysed (``sys.setprofile``), a
measure of work that does not depend on the machine or its load.  Doubling
the input must not much more than double the count.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from monoview.core.analyse import analyse
from monoview.core.streambytes import direction_bytes
from tests.pcapgen import Conversation, write_pcap

# Doubling the input may cost at most this much more work (constant set-up, small logs).
GROWTH = 2.3


def calls(work: Callable[[], object]) -> int:
    """Function calls (Python and C) made while running ``work``."""
    count = 0

    def profile(frame: FrameType, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def _growth(make: Callable[[int], Path], n: int) -> float:
    small, large = make(n), make(2 * n)
    return calls(lambda: analyse(large)) / calls(lambda: analyse(small))


def _lossy_with_dup_acks(tmp: Path, n: int, reverse: bool = False) -> Path:
    """One segment lost (sent last), then ``n`` segments each answered by a duplicate ACK."""
    conv = Conversation()
    conv.handshake()
    size = 100
    data = bytes(range(256)) * ((n + 1) * size // 256 + 1)
    order = list(range(1, n + 1))
    if reverse:
        order.reverse()
    for k in order:
        conv.segment(True, k * size, data[k * size : (k + 1) * size])
        conv.ack(False)  # the server still asks for byte 0: a duplicate ACK
    conv.segment(True, 0, data[:size])
    conv.c_next += (n + 1) * size
    conv.ack(False)
    return write_pcap(tmp / f"loss-{n}-{reverse}.pcap", conv.frames)


def test_duplicate_acks_behind_a_hole_cost_linear_work(tmp_path: Path) -> None:
    path = _lossy_with_dup_acks(tmp_path, 300)
    (session,) = analyse(path).sessions
    assert len(direction_bytes(session, "c2s")) == 301 * 100 and session.gaps("c2s") == []
    assert _growth(lambda n: _lossy_with_dup_acks(tmp_path, n), 400) < GROWTH


def test_reversed_segments_with_duplicate_acks_cost_linear_work(tmp_path: Path) -> None:
    assert _growth(lambda n: _lossy_with_dup_acks(tmp_path, n, reverse=True), 400) < GROWTH


def _monologues_after_holes(tmp: Path, n: int) -> Path:
    """``n`` exchanges; each request starts after 10 bytes never captured (the server ACKs
    past them), so each of its monologues owns a gap."""
    conv = Conversation()
    conv.handshake()
    for _ in range(n):
        conv.c_next += 10  # the hole
        conv.send(True, b"request!")  # the server's ACK covers the hole: it becomes a gap
        conv.send(False, b"answer")
    return write_pcap(tmp / f"holes-{n}.pcap", conv.frames)


def test_monologues_find_their_gaps_in_linear_work(tmp_path: Path) -> None:
    """Each monologue asks for its own gaps (export, transcripts): not a scan of all of them."""

    def gap_calls(n: int) -> int:
        (session,) = analyse(_monologues_after_holes(tmp_path, n)).sessions
        assert len(session.gaps("c2s")) == n and len(session.monologues) == 2 * n
        owned = [m.gaps() for m in session.monologues if m.direction == "c2s"]
        assert [len(g) for g in owned] == [1] * n  # each request owns the hole before it
        return calls(lambda: [m.gaps() for m in session.monologues])

    assert gap_calls(1600) / gap_calls(800) < GROWTH


def opcodes(work: Callable[[], object]) -> int:
    """Bytecode instructions executed while running ``work`` (Python code only, every loop
    iteration counted: finer than ``calls``, which sees a comprehension as one call)."""
    count = 0

    def trace(frame: FrameType, event: str, arg: object) -> Callable[..., object]:
        nonlocal count
        frame.f_trace_opcodes = True
        if event == "opcode":
            count += 1
        return trace

    sys.settrace(trace)
    try:
        work()
    finally:
        sys.settrace(None)
    return count


def test_exporting_monologues_after_holes_costs_linear_work(tmp_path: Path) -> None:
    """The full export (each monologue's file, the transcript) of the shape above."""
    from monoview.core.export import Exporter, ExportOptions

    def export_opcodes(n: int) -> int:
        analysis = analyse(_monologues_after_holes(tmp_path, n))
        options = ExportOptions(directions=False, monologues=False, transcript=False)
        return opcodes(lambda: Exporter(analysis, tmp_path / f"out-{n}", options).describe())

    assert export_opcodes(400) / export_opcodes(200) < GROWTH


def _syn_storm(path: Path, n: int) -> Path:
    """``n`` SYNs to distinct 4-tuples and nothing else."""
    from tests.pcapgen import SYN, ipv4_tcp_frame, raw_pcap

    frames = (
        ipv4_tcp_frame(0x0A000000 + (k >> 8), 1024 + (k & 0xFF), 0xC0000201, 80, k, 0, SYN, b"")
        for k in range(n)
    )
    return raw_pcap(path, frames)


def test_syn_only_sessions_cost_a_few_hundred_bytes(tmp_path: Path) -> None:
    """A session that is only a handshake attempt: a few hundred bytes held once the capture is
    indexed and listed (300,000 of them once took 1.41 GB), and the same per session at twice
    the count.  Counted by tracemalloc, which sees numpy's arrays as well as Python objects."""
    import tracemalloc

    from monoview.core.document import CaptureDocument
    from monoview.core.flows.listing import table_lines

    def held(n: int) -> tuple[float, float]:
        path = _syn_storm(tmp_path / f"syn-{n}.pcap", n)
        tracemalloc.start()
        try:
            with CaptureDocument(path, workers=1) as document:
                assert len(document) == n
                assert sum(1 for _ in table_lines(document.rows, document.flows)) == n + 1
                current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return current / n, peak / n

    small, large = held(5_000), held(10_000)
    assert large[0] < 600 and large[1] < 1500, f"{large[0]:.0f} B held, {large[1]:.0f} B at peak per session"
    assert large[0] < small[0] * 1.25 and large[1] < small[1] * 1.25


def test_a_listed_syn_only_session_costs_a_few_hundred_bytes(tmp_path: Path, monkeypatch: object) -> None:
    """300,000 SYNs to distinct tuples: a session that is only a handshake attempt must cost a
    few hundred bytes, held and at the peaks, listed as a table and as JSON.  Counted by
    tracemalloc (numpy's arrays as well as Python objects), per session added from 2,000 to
    8,000 (what every capture pays once cancels out; a first run warms up imports and caches).
    Before: 424 B a session held (the ranges' flow keys kept beside the flow table's), 1,165 B
    at the build's peak (the session rows copied four times over), 417 B more at the listing's
    (Python lists and the table's texts of every session at once); now 328 (the session row
    is 168, its flow 96, its packet 50 in this small capture's columns in memory), 884 (the
    index's temporaries, a packet here being a session) and none: the listing is made a block
    of sessions at a time."""
    import tracemalloc
    from collections import deque

    import pytest

    from monoview.core.document import CaptureDocument
    from monoview.core.flows import listing
    from monoview.core.flows.jsonlist import listing_chunks

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(listing, "BLOCK_ROWS", 256)  # blocks smaller than the counts compared

    def figures(n: int) -> tuple[int, int, int]:
        path = _syn_storm(tmp_path / f"syn-{n}.pcap", n)
        tracemalloc.start()
        try:
            with CaptureDocument(path, workers=1) as document:
                assert len(document) == n
                held, build_peak = tracemalloc.get_traced_memory()
                tracemalloc.reset_peak()
                assert sum(1 for _ in listing.table_lines(document.rows, document.flows)) == n + 1
                entries = listing.session_entries(document.rows, document.flows)
                deque(listing_chunks({"capture": path.name}, "sessions", entries), maxlen=0)
                listing_peak = tracemalloc.get_traced_memory()[1] - held
        finally:
            tracemalloc.stop()
        return held, build_peak, listing_peak

    figures(2_000)
    small, large = figures(2_000), figures(8_000)
    held, build, listed = ((b - a) / 6_000 for a, b in zip(small, large, strict=True))
    assert held < 380, f"{held:.0f} B held per session"
    assert build < 1000, f"{build:.0f} B per session at the build's peak"
    assert listed < 50, f"{listed:.0f} B more per session while listing"


def test_an_exported_syn_only_session_costs_a_few_hundred_bytes(tmp_path: Path) -> None:
    """The export of the same storm, its manifest lines spooled as the command spools them:
    its peak per session added from 2,000 to 8,000, counted by tracemalloc (the document
    built before).  Before: 1,182 B (a tuple and a SpooledLine per session sent back and kept
    in a dict, a dict of zero budgets, the quiet sessions' Python lists all at once); now
    781 (the shard's own rows, 168 B, are among them)."""
    import shutil
    import tracemalloc

    from monoview.core.document import CaptureDocument
    from monoview.core.export import Exporter, ExportOptions
    from monoview.core.export.options import Layout

    def peak(n: int) -> int:
        path = _syn_storm(tmp_path / f"syn-{n}.pcap", n)
        out = tmp_path / f"out-{n}"
        shutil.rmtree(out, ignore_errors=True)
        options = ExportOptions(layout=Layout.DIRECTIONS, return_streams=False)
        with CaptureDocument(path, workers=1) as document:
            tracemalloc.start()
            try:
                manifest = Exporter(document, out, options, workers=1).export()
                found = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
        assert len(manifest["streams"]) == n
        return found

    peak(2_000)  # imports and caches warmed up
    per_session = (peak(8_000) - peak(2_000)) / 6_000
    assert per_session < 950, f"{per_session:.0f} B per session at the export's peak"
