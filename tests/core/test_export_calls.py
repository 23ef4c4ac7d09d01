"""An export of many tiny sessions makes each folder and file with few system calls (issue 10:
fuzz input 17:15105, 6,000 sessions of one data packet, and ``bench/tiny_sessions.py``).

Each session of one 1-byte segment writes three files (its direction, its
monologue, its transcript) in two folders (its own and ``monologues``).  Every
new folder used to make the output folder again and retry the folders above it
(a failed ``mkdir`` and an ``lstat`` each), and every file opened its folder
again to link itself into place: 179,024 system calls for 5,000 sessions, now
109,054.  Counted here, not timed; the files are the same, byte for byte.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from monoview.core.document import CaptureDocument
from monoview.core.export import Exporter, ExportOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.tiny_sessions import write as tiny_sessions  # noqa: E402

SESSIONS = 60


def _counting(monkeypatch: pytest.MonkeyPatch, calls: Counter[str]) -> None:
    for name in ("mkdir", "lstat", "open", "link"):
        original = getattr(os, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(os, name, counted)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_tiny_sessions_cost_a_few_calls_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    capture = tiny_sessions(tmp_path / "tiny.pcap", SESSIONS)
    out = tmp_path / "out"
    calls: Counter[str] = Counter()
    with CaptureDocument(capture, workers=1) as document:
        _counting(monkeypatch, calls)
        Exporter(document, out, ExportOptions(), workers=1).export()
        monkeypatch.undo()
        files = _tree(out)
        assert len(files) == 3 * SESSIONS + 1  # and the manifest
        assert sum(1 for p in out.rglob("*") if p.is_dir()) == 2 * SESSIONS
        # One mkdir per folder, one open per file (unnamed, then linked into place).
        assert calls["mkdir"] <= 2 * SESSIONS + 5, calls
        assert calls["lstat"] <= 5, calls
        assert calls["open"] <= 3 * SESSIONS + 10, calls
        assert calls["link"] == 3 * SESSIONS + 1, calls
        # The same files as an export that goes through the temporary siblings, renamed.
        again = tmp_path / "again"
        monkeypatch.setattr("monoview.core.atomic._Unnamed.works", False)
        Exporter(document, again, ExportOptions(), workers=1).export()
        assert _tree(again) == files
