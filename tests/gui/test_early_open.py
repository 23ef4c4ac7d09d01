"""The document's build started before Qt is imported (``core.opening.start_early``) and taken
over by the window's first open (issue 7: the workers build while the window's process
imports Qt and builds the window).

The build must be the only one (the window does not start a second), its beginning and its
progress must reach the window though they came before it listened, and cancel, damage and
opening another file must behave as for a build the window started itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from monoview.core import opening
from monoview.core.document import CaptureDocument
from monoview.gui.mainwindow import MainWindow
from monoview.gui.settings import Settings
from tests.gui.conftest import LOAD_TIMEOUT_MS, REPO, capture, load

SAMPLE = REPO / "resources" / "sample-http.pcap"

PROBE = """
import json
import sys
import threading

from monoview.core import opening

before_qt = []


class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" and not before_qt:
            before_qt.append(sorted(t.name for t in threading.enumerate() if t.name == "document-build"))
        return None


runs = []
real = opening.DocumentBuild.run


def counted(self):
    runs.append(threading.current_thread().name)
    return real(self)


opening.DocumentBuild.run = counted
sys.meta_path.insert(0, Watch())
from monoview.cli import main

status = main(["--screenshot", sys.argv[2], sys.argv[1]])
print(json.dumps({"before_qt": before_qt, "runs": runs, "status": status}))
"""


def test_the_build_starts_before_qt_and_is_the_only_one(tmp_path: Path) -> None:
    """``monoview FILE --screenshot`` builds the document once, in the thread started before
    Qt was imported; the window takes that build over."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO), "MONOVIEW_WORKERS": "2"}
    argv = [sys.executable, "-c", PROBE, str(SAMPLE), str(tmp_path / "shot.png")]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"before_qt": [["document-build"]], "runs": ["document-build"], "status": 0}
    assert (tmp_path / "shot.png").stat().st_size > 0


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The threads ``DocumentBuild.run`` ran in; an early build left unclaimed is dropped after."""
    seen: list[str] = []
    real = opening.DocumentBuild.run

    def counted(self: opening.DocumentBuild) -> CaptureDocument:
        seen.append(threading.current_thread().name)
        return real(self)

    monkeypatch.setattr(opening.DocumentBuild, "run", counted)
    yield seen
    early = opening.claim()
    if early is not None:
        early[1].discard()
        early[0].shutdown()


def _window(qtbot, settings: Settings) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.show()
    return window


def _builds_done(qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(
        lambda: not any(t.name == "document-build" for t in threading.enumerate()), timeout=LOAD_TIMEOUT_MS
    )


def test_the_window_takes_the_early_build_over(  # type: ignore[no-untyped-def]
    qtbot, settings: Settings, runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One build, the early one; its beginning (made before the window listened) is listed
    first, then the whole; the window's pool is the one started early."""
    monkeypatch.setattr(opening, "PREVIEW_BYTES", 20 << 10)
    monkeypatch.setattr(opening, "PREVIEW_FROM_BYTES", 0)
    pools: list[object] = []
    real_pool = opening.lasting_pool

    def counted_pool(*args, **kwargs):  # type: ignore[no-untyped-def]
        pools.append(real_pool(*args, **kwargs))
        return pools[-1]

    monkeypatch.setattr(opening, "lasting_pool", counted_pool)
    path = capture("http_many.pcap")
    assert opening.start_early(path, previews=True)
    _builds_done(qtbot)  # all of it done before the window exists: nothing may be lost
    window = _window(qtbot, settings)
    listed: list[list[int]] = []
    model = window.tree_model
    model.modelReset.connect(
        lambda: listed.append(model.columns.rows["first_frame"].tolist()) if model.rowCount() else None
    )
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(path)
    assert runs == ["document-build"]
    assert len(listed) == 2 and 0 < len(listed[0]) < len(listed[1]) == len(window.document)
    assert np.array_equal(listed[0], listed[1][: len(listed[0])])
    reference = CaptureDocument(path, workers=1)
    assert np.array_equal(window.document.rows, reference.rows)
    reference.close()
    assert window.opener.pool is pools[0] and len(pools) == 1
    assert opening.claim() is None
    window.close()


def test_another_file_opened_first_drops_the_early_build(  # type: ignore[no-untyped-def]
    qtbot, settings: Settings, runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[CaptureDocument] = []
    closed: list[CaptureDocument] = []
    real_init, real_close = CaptureDocument.__init__, CaptureDocument.close

    def init(self: CaptureDocument, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        real_init(self, *args, **kwargs)
        made.append(self)

    def close(self: CaptureDocument) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(CaptureDocument, "__init__", init)
    monkeypatch.setattr(CaptureDocument, "close", close)
    early, chosen = capture("http_many.pcap"), capture("chatter.pcap")
    assert opening.start_early(early, previews=True)
    window = _window(qtbot, settings)
    load(qtbot, window, chosen)
    _builds_done(qtbot)
    assert window.document is not None and window.document.path == chosen
    assert len(runs) == 2  # the early one, dropped, and the window's own
    assert all(d in closed for d in made if d.path == early), "the dropped build's documents are closed"
    window.close()


def test_an_early_build_is_cancelled_like_any(  # type: ignore[no-untyped-def]
    qtbot, settings: Settings, runs: list[str], big_capture: Path
) -> None:
    assert opening.start_early(big_capture, previews=True)
    window = _window(qtbot, settings)
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(big_capture)
        window.cancel_load()
    assert not window.loading and window.document is None
    assert "cancelled" in window.message_bar.text and big_capture.name in window.message_bar.text
    load(qtbot, window, big_capture)  # the early pool serves the next open
    assert runs[0] == "document-build" and len(runs) == 2
    assert window.tree_model.total > 0
    window.close()


def test_damage_found_by_an_early_build_is_said(qtbot, settings: Settings, runs: list[str]) -> None:  # type: ignore[no-untyped-def]
    name = "suricata_smtp-to-comma.pcap"
    assert opening.start_early(capture(name), previews=True)
    window = _window(qtbot, settings)
    load(qtbot, window, capture(name))
    assert runs == ["document-build"]
    assert window.message_bar.level == "error" and name in window.message_bar.text
    assert window.tree_model.rowCount() > 0
    window.close()


def test_no_early_build_of_what_is_no_plain_capture(tmp_path: Path) -> None:
    """The window says what is wrong with those (a sentence naming the file)."""
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"")
    assert not opening.start_early(bad, previews=True)
    assert not opening.start_early(tmp_path, previews=True)
    assert opening.claim() is None
