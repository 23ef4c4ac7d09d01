"""What an export worker holds while it replays (issue 6), and that holding less changes nothing.

``conversations.replay_sessions`` judges the shard's flows plain a batch of
``PLAIN_ROWS`` rows at a time, hydrates the plain ones from their pieces and
replays the rest.  The grouped rows of a flow hydrated whole, and a batch's
pieces once its last session is hydrated, are let go: what is held while the
other flows replay is their rows, not the shard's.  The files are the same
whatever the batches (every shared capture).
"""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from monoview.core.capture.captureset import opened
from monoview.core.document import CaptureDocument
from monoview.core.export import Exporter, ExportOptions
from monoview.core.flows import conversations
from monoview.core.flows.conversations import replay_sessions
from monoview.core.flows.grouped import GroupedRows
from tests.core.test_walk import CAPTURE_FILES
from tests.pcapgen import Conversation, write_pcap


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _capture(path: Path, plain: int) -> Path:
    """``plain`` clean connections of 20 data segments each, then one with a lost segment
    (not plain: replayed), which starts last."""
    frames = []
    for k in range(plain + 1):
        conv = Conversation(client=("10.0.0.1", 10000 + k), start_ns=1_700_000_000_000_000_000 + k * 10**9)
        conv.handshake()
        if k < plain:
            for _ in range(20):
                conv.send(True, b"x" * 100)
        else:
            conv.segment(True, 100, b"y" * 100)  # bytes 0..99 never captured
            conv.c_next += 200
            conv.ack(False)
        conv.close()
        frames += conv.frames
    return write_pcap(path, frames)


def _held_at_the_replayed_session(path: Path) -> tuple[int, int]:
    """Bytes traced while the last (replayed) session is made, beyond what was held before the
    replay began; and the rows of the capture."""
    with CaptureDocument(path, workers=1) as document:
        ids = np.arange(1, len(document) + 1, dtype=np.int64)
        rows = document.rows
        with opened(document.parts.path) as buf:
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                held = 0
                for replayed in replay_sessions(document.parts, buf, rows, ids):
                    if replayed.events:  # the replayed one (hydrated sessions have no events)
                        held = tracemalloc.get_traced_memory()[0] - before
                    del replayed
            finally:
                tracemalloc.stop()
        return held, int(document.parts.stats.frames)


def test_the_replay_holds_no_rows_or_pieces_of_the_plain_flows_done(tmp_path: Path) -> None:
    """While the one replayed flow is replayed, the 400 plain flows before it are done: neither
    their grouped rows (some 35 bytes a row) nor their pieces (40 bytes a data row) are held.
    Measured: 77 B a row before (both held to the end), 16 now (what is left is per session:
    the shard's session rows and the replay's bookkeeping of each)."""
    held, packets = _held_at_the_replayed_session(_capture(tmp_path / "plain.pcap", 400))
    assert packets > 15_000
    assert held < 35 * packets, (held, packets)


def test_keeping_groups_keeps_their_rows_and_numbers(tmp_path: Path) -> None:
    """``GroupedRows.keeping``: a kept group has its rows, under its number; the others none."""
    with CaptureDocument(_capture(tmp_path / "few.pcap", 5), workers=1) as document:
        grouped = GroupedRows.of_parts(document.parts)
        whole = {name: values.copy() for name, values in grouped.columns.items()}
        bounds = grouped.bounds.copy()
        kept = np.array([k % 2 == 0 for k in range(len(grouped))])
        some = grouped.keeping(kept)
    assert np.array_equal(some.flows, grouped.flows)
    for g in range(len(kept)):
        lo, hi = int(some.bounds[g]), int(some.bounds[g + 1])
        if not kept[g]:
            assert lo == hi
            continue
        a, b = int(bounds[g]), int(bounds[g + 1])
        for name, values in some.columns.items():
            assert np.array_equal(values[lo:hi], whole[name][a:b]), name


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_the_same_export_whatever_rows_are_judged_plain_at_once(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flows are judged plain (for hydration, and for tiny sessions) ``PLAIN_ROWS`` rows at a
    time; one flow a batch and all of them at once write the same files and manifest."""
    from monoview.core.export import tiny

    with CaptureDocument(path, workers=1) as document:
        for module in (conversations, tiny):
            monkeypatch.setattr(module, "PLAIN_ROWS", 1 << 62)
        Exporter(document, tmp_path / "whole", ExportOptions(), workers=1).export()
        for module in (conversations, tiny):
            monkeypatch.setattr(module, "PLAIN_ROWS", 1)
        Exporter(document, tmp_path / "batched", ExportOptions(), workers=1).export()
    assert _tree(tmp_path / "batched") == _tree(tmp_path / "whole")
