"""GUI test set-up: offscreen Qt, UTC, throw-away QSettings, capture paths, windows.

The platform and time zone are set before any QApplication exists (pytest-qt
creates it lazily), QSettings is pointed at a temporary folder so no test
reads or writes the developer's own settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["TZ"] = "UTC"
time.tzset()

from PySide6.QtCore import QCoreApplication, QSettings  # noqa: E402

import monoview.gui  # noqa: E402, F401  (PySide6 before pyqtgraph)
from monoview.gui.mainwindow import MainWindow  # noqa: E402
from monoview.gui.settings import Settings  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("MONOVIEW_SHARED", REPO.parent / "shared"))
LAB = SHARED / "captures" / "lab"
WILD = SHARED / "captures" / "wild"
MAKE_BIG = SHARED / "tools" / "make_big_capture.py"
DATA = REPO / "tests" / "data"  # small copies, so the basic tests run without shared/
LOAD_TIMEOUT_MS = 60_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in tests/gui needs Qt: mark it."""
    for item in items:
        if "tests/gui" in str(item.path):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path) -> None:
    """QSettings() anywhere in the program writes under tmp_path."""
    QCoreApplication.setOrganizationName("monoview-tests")
    QCoreApplication.setApplicationName("monoview-tests")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


def capture(name: str) -> Path:
    """A capture by file name: shared lab, then wild, then the copies in tests/data"""
    for folder in (LAB, WILD, DATA):
        if (folder / name).exists():
            return folder / name
    pytest.skip(f"shared capture {name} not available")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings in a file of their own."""
    return Settings(QSettings(str(tmp_path / "monoview.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(qtbot, settings: Settings) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """A shown main window; closed (threads stopped) after the test."""
    w = MainWindow(settings)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    yield w
    w.close()


def load(qtbot, window: MainWindow, path: Path) -> None:  # type: ignore[no-untyped-def]
    """Open ``path``, wait until it is read and its first session is current (the window
    makes it current an event-loop turn after the list is shown)."""
    with qtbot.waitSignal(window.load_finished, timeout=LOAD_TIMEOUT_MS):
        assert window.open_path(path)
    if window.tree_model.rowCount():
        qtbot.waitUntil(lambda: window.tree.currentIndex().isValid(), timeout=LOAD_TIMEOUT_MS)


def _generate(out: Path, size: str, sessions: int, bulk: int, seed: int) -> Path:
    if not MAKE_BIG.exists():
        pytest.skip("shared/tools/make_big_capture.py not available")
    subprocess.run(
        [
            sys.executable,
            str(MAKE_BIG),
            "-o",
            str(out),
            "--size",
            size,
            "--sessions",
            str(sessions),
            "--bulk",
            str(bulk),
            "--seed",
            str(seed),
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="session")
def big_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 30 MB generated capture with 600 sessions (for cancelling half-way)."""
    return _generate(tmp_path_factory.mktemp("big") / "x.pcap", "30M", 600, 5, 3)


@pytest.fixture(scope="session")
def huge_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60 MB generated capture with a few bulk sessions of many MB (responsiveness)."""
    return _generate(tmp_path_factory.mktemp("huge") / "y.pcap", "60M", 1000, 2, 5)


@pytest.fixture(scope="session")
def fifty_mb_session_capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture whose one bulk session carries about 54 MB."""
    return _generate(tmp_path_factory.mktemp("bulk") / "z.pcap", "56M", 10, 1, 7)
