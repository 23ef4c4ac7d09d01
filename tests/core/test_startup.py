"""What a headless command costs before it reads anything (issue 6: start-up).

``monoview sessions`` on a 100 MB capture was mostly start-up: imports, and worker
processes that cost more than they saved on a capture that size.  Each probe runs
in a fresh interpreter: ``sys.modules`` is what the command imported, and
``os.fork`` is counted to see whether worker processes were started.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from monoview.core import document
from monoview.core.document import CaptureDocument
from monoview.core.flows.listing import table_lines

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "tests" / "data" / "chatter.pcap"

# Modules ``monoview sessions`` (no -a, no --dask) has no use for on a small capture.
NOT_FOR_SESSIONS = (
    "multiprocessing", "concurrent.futures.process", "tempfile", "socket",  # no worker processes
    "PySide6", "pyqtgraph", "monoview.gui",  # no window
    "monoview.core.http", "monoview.core.export", "monoview.core.flows.applications",  # not asked for
    "monoview.core.flows.query", "monoview.core.cluster", "pebble", "dask",
    "numpy.ma", "json", "uuid", "select",  # no masked arrays, no --json, a plain file, not a pipe
)  # fmt: skip

PROBE = """
import os, sys
os.cpu_count = lambda: 4  # as on a machine with cores to spare, whatever this one has
forks = []
real_fork = os.fork
def counted_fork():
    forks.append(1)
    return real_fork()
os.fork = counted_fork
from monoview.cli import main
status = main(["sessions", *sys.argv[1:]])
sys.stdout.flush()
modules = sorted(sys.modules)  # before the probe's own json
import json
print(json.dumps({"status": status, "forks": len(forks), "modules": modules}), file=sys.stderr)
"""


def _sessions(*args: str, workers: str | None = None) -> tuple[str, dict[str, object]]:
    """``monoview sessions ARGS`` in a fresh interpreter: its output and what it did."""
    env = {k: v for k, v in os.environ.items() if k != "MONOVIEW_WORKERS"}
    env["PYTHONPATH"] = str(REPO)
    if workers is not None:
        env["MONOVIEW_WORKERS"] = workers
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120
    )
    report: dict[str, object] = json.loads(result.stderr.strip().splitlines()[-1])
    assert report["status"] == 0, result.stderr
    return result.stdout, report


def test_sessions_imports_nothing_it_does_not_use() -> None:
    _out, report = _sessions(str(SMALL))
    modules = report["modules"]
    assert isinstance(modules, list)
    inside = tuple(f"{name}." for name in NOT_FOR_SESSIONS)
    loaded = sorted(m for m in modules if m in NOT_FOR_SESSIONS or m.startswith(inside))
    assert loaded == []


def test_a_small_capture_is_listed_in_this_process_with_the_same_output() -> None:
    out, report = _sessions("--json", str(SMALL))
    assert report["forks"] == 0  # no worker processes for a small capture
    forced, forced_report = _sessions("--json", str(SMALL), workers="2")
    assert isinstance(forced_report["forks"], int) and forced_report["forks"] > 0  # the probe counts them
    assert out == forced and json.loads(out)["sessions"]


def test_a_bigger_capture_indexed_here_keeps_small_columns_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above ``INLINE_COLUMNS_BYTES`` of capture, indexed in this process, the columns stay in
    memory while they are at most ``KEEP_COLUMNS_BYTES`` (the 100 MB synthetic capture's
    6.6 MB): no column file is written and mapped back, and the session list is the one the
    mapped files give."""
    monkeypatch.setattr(document, "INLINE_COLUMNS_BYTES", SMALL.stat().st_size // 4)  # "big"
    with CaptureDocument(SMALL, workers=1) as kept:
        assert kept.parts.folder is not None and os.listdir(kept.parts.folder) == []
        assert all(part.files is None for part in kept.parts.ranges)
        assert kept.flows.files is None
        monkeypatch.setattr(document, "KEEP_COLUMNS_BYTES", 0)
        with CaptureDocument(SMALL, workers=1) as mapped:
            assert mapped.parts.folder is not None and os.listdir(mapped.parts.folder) != []
            assert all(part.files is not None for part in mapped.parts.ranges)
            assert np.array_equal(kept.rows, mapped.rows) and len(kept.rows) > 0
            assert list(table_lines(kept.rows, kept.flows)) == list(table_lines(mapped.rows, mapped.flows))
