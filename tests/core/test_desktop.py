"""Desktop integration: a .desktop file the validator accepts, installed where XDG says."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from monoview import desktop
from monoview.shipped import resource_path


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_the_shipped_desktop_file_is_valid() -> None:
    done = subprocess.run(
        ["desktop-file-validate", str(resource_path("monoview.desktop"))], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_install_writes_the_entry_and_icons_and_uninstall_removes_them(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "monoview", "--install-desktop"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    entry = tmp_path / "applications" / "monoview.desktop"
    svg = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "monoview.svg"
    png = tmp_path / "icons" / "hicolor" / "256x256" / "apps" / "monoview.png"
    assert entry.exists() and svg.read_bytes() == resource_path("monoview.svg").read_bytes()
    assert png.read_bytes() == resource_path("monoview.png").read_bytes()
    exec_line = next(line for line in entry.read_text().splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(" %f") and "monoview" in exec_line
    if shutil.which("desktop-file-validate"):
        assert subprocess.run(["desktop-file-validate", str(entry)], capture_output=True).returncode == 0
    assert str(entry) in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "monoview", "--uninstall-desktop"], capture_output=True, text=True
    )
    assert done.returncode == 0 and not entry.exists() and not svg.exists() and not png.exists()


def test_data_home_follows_the_spec(monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "relative/path")  # not absolute: ignored, as the spec says
    assert desktop.data_home() == Path.home() / ".local" / "share"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert desktop.data_home() == Path.home() / ".local" / "share"
