"""A flow of more rows than a chunk, read from the index a chunk at a time (``flows.bigflows``):
the same sessions as when it is copied out of the index with the others, and memory that does
not grow with it."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from monoview.core.capture.captureset import opened
from monoview.core.capture.index import IndexParts, build_parts
from monoview.core.executor import InlineExecutor
from monoview.core.flows import bigflows
from monoview.core.flows.grouped import REPLAY_COLUMNS, GroupedRows
from monoview.core.flows.table import ShardTask, session_rows, shard_sessions
from tests.core.test_linear_time import _lossy_with_dup_acks
from tests.core.test_walk import CAPTURE_FILES


def _parts(path: Path, folder: Path, ranges: int = 3) -> IndexParts:
    """The index in ``ranges`` ranges, its columns in files (as worker processes leave them)."""
    size = path.stat().st_size
    folder.mkdir(exist_ok=True)
    return build_parts(
        path, workers=ranges, executor=InlineExecutor(), folder=folder, min_range=max(size // ranges, 1)
    )


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_big_flows_read_a_chunk_at_a_time_give_the_same_sessions(path: Path, tmp_path: Path) -> None:
    parts = _parts(path, tmp_path / "index")
    try:
        flows = np.arange(len(parts.flows), dtype=np.int64)
        with opened(parts.source or parts.path) as buf:
            for chunk, limit in ((64, None), (64, 3000)):
                grouped = GroupedRows.of_parts(parts, flows)
                expected = session_rows(grouped, buf, parts.flows, chunk=chunk, max_session_size=limit)
                got, _names = shard_sessions(ShardTask(parts, flows, max_session_size=limit, chunk=chunk))
                assert np.array_equal(got, expected)
                # a big flow's chunks are its rows, in order, whatever the block scanned
                for flow in np.flatnonzero(parts.flows.rows > chunk)[:3].tolist():
                    group = int(np.searchsorted(grouped.flows, flow))
                    whole = grouped.wide(int(grouped.bounds[group]), int(grouped.bounds[group + 1]))
                    pieces = list(bigflows.flow_chunks(parts, flow, 7))
                    assert all(len(p["frame"]) == 7 for p in pieces[:-1])
                    for name in REPLAY_COLUMNS:
                        assert np.array_equal(np.concatenate([p[name] for p in pieces]), whole[name])
    finally:
        parts.close()


def test_a_giant_flow_behind_a_hole_is_not_copied_out_of_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One lost segment, then n segments held behind it and n duplicate ACKs (the shape of
    ``bench/linear_shapes.py dup-acks``): a shard's peak per segment added from 4,000 to
    16,000, counted by tracemalloc, chunks of 256 rows.  Before: 165 B (the flow's rows
    copied out of the index, 35 B a row, and their int64 temporaries); now 87 (the segments
    waiting, 49 B each, and the delivered pieces, 40)."""
    monkeypatch.setattr(bigflows, "SCAN_ROWS", 256)  # blocks smaller than the flows compared

    def peak(n: int) -> int:
        path = _lossy_with_dup_acks(tmp_path, n)
        parts = _parts(path, tmp_path / f"index-{n}", ranges=1)
        flows = np.arange(len(parts.flows), dtype=np.int64)
        tracemalloc.start()
        try:
            rows, _names = shard_sessions(ShardTask(parts, flows, chunk=256))
            found = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            parts.close()
        assert len(rows) == 1 and int(rows["packets"][0]) == 2 * n + 5
        return found

    peak(500)  # imports and caches warmed up
    per_segment = (peak(16_000) - peak(4_000)) / 12_000
    assert per_segment < 120, f"{per_segment:.0f} B per segment at the shard's peak"
