"""The window imports a tab's modules only when the tab is first shown (issue 7: start-up).

Every module imported before the first rows is time the user waits for them: the
HTTP reader and its pane, the plots (pyqtgraph), the filter language and payload
search, the application recognisers (which run in the worker processes that name
the sessions while they list them).  Each probe runs in a fresh interpreter,
where ``sys.modules`` is what the window itself imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "resources" / "sample-http.pcap"

# Imported only once their tab is shown (or their work is asked for).
HTTP = ("monoview.core.http", "monoview.core.http_session", "monoview.core.http_reader",
        "monoview.gui.views.http_pane", "monoview.gui.models.http_model")  # fmt: skip
PLOTS = ("pyqtgraph", "monoview.gui.views.plots", "monoview.gui.views.stream_graphs")
FILTER = ("monoview.core.flows.query", "monoview.core.flows.search")
# The Application and Stream columns come with the list: what merges the workers' names and
# streams is imported with a capture; the recognisers stay in the workers.
NAMING = ("monoview.core.flows.shardnames", "monoview.core.flows.tcpstream")
RECOGNISERS = ("monoview.core.flows.applications", "monoview.core.appnames")
# Not imported to show the window (the resources' folder is found without importlib.resources,
# hashes are only for files written).
STDLIB = ("importlib.resources", "hashlib")

PROBE = """
import json, sys, time
from PySide6.QtCore import QCoreApplication
from monoview.gui.app import make_application, settle, wait_for_load
from monoview.gui.mainwindow import MainWindow

watched = json.loads(sys.argv[2])
seen = {}
def note(when):
    seen[when] = sorted(m for m in watched if m in sys.modules)

app = make_application([])
window = MainWindow(remember=False)
window.show()
QCoreApplication.processEvents()
note("window")
window.open_path(sys.argv[1])
wait_for_load(window)
deadline = time.monotonic() + 60
def busy():
    return window.namer.busy or window.reassembling or window.current_session is None
while busy() and time.monotonic() < deadline:
    settle(10)
note("loaded")
window.detail_tabs.setCurrentWidget(window.http.pane)
while (window.http.busy or window.http.model.rowCount() == 0) and time.monotonic() < deadline:
    settle(10)
note("http")
seen["http_rows"] = window.http.model.rowCount()
seen["http_current"] = window.detail_tabs.currentWidget() is window.http.pane
window.close()
print(json.dumps(seen))
"""


def _probe() -> dict[str, object]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)}
    watched = json.dumps([*HTTP, *PLOTS, *FILTER, *NAMING, *RECOGNISERS, *STDLIB])
    argv = [sys.executable, "-c", PROBE, str(SAMPLE), watched]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    found: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_tabs_modules_wait_for_their_tab() -> None:
    seen = _probe()
    assert seen["window"] == [], "imported before any capture was opened"
    assert isinstance(seen["loaded"], list) and isinstance(seen["http"], list)
    # (the worker processes' authentication may bring hashlib once a capture is read)
    loaded = [m for m in seen["loaded"] if m not in STDLIB]
    http = [m for m in seen["http"] if m not in STDLIB]
    assert loaded == sorted(NAMING), "only the namer's modules come with a capture"
    assert http == sorted([*NAMING, *HTTP]), "the HTTP tab brings the HTTP modules, nothing else"
    assert seen["http_current"] and isinstance(seen["http_rows"], int) and seen["http_rows"] > 0


FORK_SERVER_PROBE = """
import json
import sys
from multiprocessing import forkserver

seen = []


class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" and not seen:
            seen.append(forkserver._forkserver._forkserver_pid is not None)
        return None


sys.meta_path.insert(0, Watch())
from monoview.cli import main

status = main(["--screenshot", sys.argv[2], sys.argv[1]])
print(json.dumps({"started_before_qt": seen, "status": status}))
"""


def test_the_fork_server_starts_before_qt_is_imported(tmp_path: Path) -> None:
    """``monoview FILE`` starts the fork server its workers come from before it imports Qt
    (``cli.window``): the server imports the core while the window's process imports Qt,
    instead of after the window is up (issue 7: half a second of the screenshot's)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO), "MONOVIEW_WORKERS": "2"}
    argv = [sys.executable, "-c", FORK_SERVER_PROBE, str(SAMPLE), str(tmp_path / "shot.png")]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found == {"started_before_qt": [True], "status": 0}
    assert (tmp_path / "shot.png").stat().st_size > 0
