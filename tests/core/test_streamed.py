"""A flow fed a chunk of rows at a time (``flows.streamed``) gives what the whole pass gives.

Every choice of chunk must give the same session list and the same exported
sessions: chunk sizes of 1, 2, 3 and 7 rows cut every flow everywhere (between
the SYN and the SYN/ACK, inside a monologue, between a FIN and its ACK).  A
flow the chunked pass judges clean must be clean to ``flows.simple`` with the
same row, and the pass must really take flows (or the comparison proves
nothing).  Its memory is bounded by counting: the largest array the pass
allocates (tracemalloc sees numpy's buffers) does not grow with the flow.
"""

from __future__ import annotations

import functools
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given

from monoview.core.capture.ranges import mapped
from monoview.core.document import CaptureDocument
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.simple import clean_flows
from monoview.core.flows.streamed import streamed_flow
from monoview.core.flows.table import session_rows
from monoview.core.tcp.table import LINGER_NS
from tests.core.test_fast_path_properties import SETTINGS, connections
from tests.core.test_hydrate import DESCRIBE
from tests.core.test_session_table import SCENARIOS
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import Conversation, Frame, write_pcap

CHUNKS = (1, 2, 3, 7)


def _listing(path: Path, chunk: int | None) -> tuple[list[Any], int]:
    """The session list (whole pass when ``chunk`` is None), and how many flows the chunked
    pass judged clean, each checked against ``flows.simple``."""
    document = CaptureDocument(path, workers=1)
    try:
        grouped = GroupedRows.of_parts(document.parts)
        with mapped(str(path)) as buf:
            if chunk is None:
                return session_rows(grouped, buf, document.flows).tolist(), 0
            rows = session_rows(grouped, buf, document.flows, chunk=chunk)
            whole = clean_flows(grouped, LINGER_NS, buf)
        taken = 0
        for group in range(len(grouped)):
            fed = streamed_flow(grouped, group, LINGER_NS, chunk)
            if fed.ok:
                taken += 1
                assert whole.clean[group]
                assert fed.finish()[0] == whole.sessions[group]
        return rows.tolist(), taken
    finally:
        document.close()


def _exported(path: Path, chunk: int) -> list[Any]:
    """Every session exported in memory (manifest entries), hydrated with ``chunk``."""
    from monoview.core.export.session import SessionFiles
    from monoview.core.flows.conversations import replay_sessions

    document = CaptureDocument(path, workers=1)
    files = SessionFiles(Path("unused"), DESCRIBE)
    try:
        ids = np.arange(1, len(document) + 1, dtype=np.int64)
        with mapped(str(path)) as buf:
            return [
                files.export(r.session)
                for r in replay_sessions(document.parts, buf, document.rows, ids, chunk=chunk)
            ]
    finally:
        document.close()


def _same_every_way(path: Path) -> int:
    expected, _ = _listing(path, None)
    exported = _exported(path, 1 << 30)
    taken = 0
    for chunk in CHUNKS:
        rows, took = _listing(path, chunk)
        assert rows == expected, chunk
        assert _exported(path, chunk) == exported, chunk
        taken += took
    return taken


@functools.cache
def _corpus(path: Path) -> int:
    return _same_every_way(path)


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_chunked_pass_equals_the_whole_one_on_the_corpus(path: Path) -> None:
    _corpus(path)


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
def test_the_corpus_takes_the_chunked_pass() -> None:
    assert sum(_corpus(p) > 0 for p in CAPTURE_FILES) >= len(CAPTURE_FILES) // 4


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_edge_scenarios_chunked(name: str, tmp_path: Path) -> None:
    build, _clean = SCENARIOS[name]
    conv = Conversation()
    build(conv)
    _same_every_way(write_pcap(tmp_path / "x.pcap", conv.frames))


@SETTINGS
@given(frames=connections())
def test_random_connections_chunked(tmp_path: Path, frames: list[Frame]) -> None:
    if frames:
        _same_every_way(write_pcap(tmp_path / "p.pcap", frames))


def _monologues(tmp_path: Path, n: int) -> Path:
    conv = Conversation()
    conv.handshake()
    for k in range(n):
        conv.send(k % 2 == 0, b"x")
    conv.close()
    return write_pcap(tmp_path / f"m{n}.pcap", conv.frames)


def test_one_byte_monologues_take_the_chunked_pass(tmp_path: Path) -> None:
    """The shape the chunked pass is for: it is clean, and hydrated at every chunk size."""
    path = _monologues(tmp_path, 41)
    assert _same_every_way(path) == len(CHUNKS)


def _listing_peak(path: Path, chunk: int) -> tuple[int, int]:
    """Rows of the capture, and the peak of memory allocated (tracemalloc sees numpy's
    buffers) while its session list is made from the rows read; checks that the one
    session hydrates."""
    from monoview.core.flows.conversations import replay_sessions

    document = CaptureDocument(path, workers=1)
    try:
        grouped = GroupedRows.of_parts(document.parts)
        ids = np.arange(1, len(document) + 1, dtype=np.int64)
        with mapped(str(path)) as buf:
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                session_rows(grouped, buf, document.flows, chunk=chunk)
                peak = tracemalloc.get_traced_memory()[1] - base
            finally:
                tracemalloc.stop()
            (replayed,) = replay_sessions(document.parts, buf, document.rows, ids, chunk=chunk)
            assert not replayed.events  # hydrated, not replayed
        return len(document.parts), peak
    finally:
        document.close()


# The whole pass (no flow cut in chunks) holds a few hundred bytes per row at its peak.
WHOLE = 1 << 30


@pytest.mark.parametrize("chunk", [500, pytest.param(WHOLE, marks=pytest.mark.xfail(strict=True))])
def test_listing_memory_is_per_chunk_not_per_row(tmp_path: Path, chunk: int) -> None:
    """Four times the rows of one flow, the same chunk: the pass's peak stays put (it grows
    fourfold when every temporary is as long as the flow, as the whole pass shows)."""
    small_rows, small = _listing_peak(_monologues(tmp_path, 4_000), chunk)
    large_rows, large = _listing_peak(_monologues(tmp_path, 16_000), chunk)
    assert large_rows > 3.9 * small_rows
    assert large < 1.5 * small


def test_quiet_after_a_reset_across_a_chunk_boundary(tmp_path: Path) -> None:
    """A close, then a packet past the linger time: a new session, wherever the chunk cuts
    (the quiet time is measured from the previous chunk's last packet)."""
    conv = Conversation()
    conv.handshake().send(True, b"hello").send(False, b"world")
    conv.close()
    conv._t += LINGER_NS + 1_000_000_000
    conv.ack(False)
    _same_every_way(write_pcap(tmp_path / "x.pcap", conv.frames))
