"""Manifest lines spooled by the export's workers, read back into ``manifest.json``.

The main process copies them in session order: each spool is opened once and a
run of short lines that follow one another in it is read at once (an export of
20,000 tiny sessions opened, read and closed a spool for every line).  The bytes
must be those written, whatever the lines' sizes and the spools' interleaving.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import monoview.core.export.spool as spool_module
from monoview.core.document import CaptureDocument
from monoview.core.export import Exporter, ExportOptions, Layout
from monoview.core.export.spool import SPOOL_PREFIX, LineSpool, SpooledLines
from tests.pcapgen import Conversation, write_pcap


def _lines(each: SpooledLines) -> list[bytes]:
    out = []
    for line in each.each(window=5):
        out.append(line if isinstance(line, bytes) else b"".join(line))
    return out


def test_spooled_lines_read_back_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines shorter and longer than a block, in two spools, taken in an order that jumps
    between them and back: each comes back whole, and each spool is opened once."""
    monkeypatch.setattr(spool_module, "BLOCK", 64)
    sizes = [1, 10, 63, 64, 65, 200, 3, 5, 0, 40, 30, 129, 7]
    written: dict[int, bytes] = {}
    spools = [LineSpool(tmp_path, "t"), LineSpool(tmp_path, "t")]
    for session_id, size in enumerate(sizes, start=1):
        text = "".join(chr(ord("a") + (session_id + k) % 26) for k in range(size))
        spools[session_id % 3 == 0].record(session_id, [text[: size // 2], text[size // 2 :]])
        written[session_id] = text.encode("ascii")
    for s in spools:
        s.close()
    lines = SpooledLines.joined([s.lines() for s in spools])
    assert lines.ids.tolist() == sorted(written)
    opened: list[str] = []
    real_open = os.open

    def counted(path: str, *args: object, **kwargs: object) -> int:
        opened.append(path)
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(spool_module.os, "open", counted)
    assert _lines(lines) == [written[i] for i in sorted(written)]
    assert sorted(opened) == sorted(s.path for s in spools)
    # A stretch of the lines (what ``__getitem__`` gives) reads the same.
    assert [line.text().encode("ascii") for line in lines[2:9]] == [written[i] for i in range(3, 10)]
    empty = SpooledLines((), *(np.zeros(0, dtype=np.int64) for _ in range(4)))
    assert _lines(empty) == []


def test_a_storm_export_opens_each_spool_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """300 tiny sessions exported with their lines spooled: the manifest is the one returned
    by the workers, byte for byte, and the spool was opened once to be copied, not once a
    session (fails before: 300)."""
    frames = []
    for i in range(300):
        client = (f"10.2.{i >> 8}.{i & 255}", 2000 + i)
        conversation = Conversation(client=client, start_ns=10**18 + i * 10**8)
        frames += conversation.handshake().send(True, bytes([65 + i % 26])).close().frames
    frames.sort(key=lambda f: f.ts_ns)  # one after another in time
    path = write_pcap(tmp_path / "storm.pcap", frames)
    document = CaptureDocument(path, workers=1)
    options = ExportOptions(layout=Layout.DIRECTIONS, return_streams=True)
    Exporter(document, tmp_path / "returned", options, workers=1).export()
    opened: list[str] = []
    real_open = os.open

    def counted(path: str, *args: object, **kwargs: object) -> int:
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(spool_module.os, "open", counted)
    spooled = ExportOptions(layout=Layout.DIRECTIONS, return_streams=False)
    Exporter(document, tmp_path / "spooled", spooled, workers=1).export()
    document.close()
    manifest = (tmp_path / "spooled" / "manifest.json").read_bytes()
    assert manifest == (tmp_path / "returned" / "manifest.json").read_bytes()
    assert manifest.count(b'"c2s": {') == 300
    reads = [p for p in opened if os.path.basename(p).startswith(SPOOL_PREFIX)]
    assert len(reads) == 2, reads  # made by the worker, opened once for the manifest
