"""``monoview --install-desktop``: the desktop menu entry and icons, for the current user.

The files go where the XDG specifications say a user's own applications and
icons live (``$XDG_DATA_HOME``, by default ``~/.local/share``): the ``.desktop``
file under ``applications/`` with ``Exec`` pointing at the ``monoview`` being run,
the icons under ``icons/hicolor/``.  That is what ``xdg-desktop-menu install
--mode user`` and ``xdg-icon-resource install --mode user`` do; writing the files
directly needs neither xdg-utils nor a running desktop, and the menu caches are
refreshed when their tools are installed.  ``--uninstall-desktop`` removes
exactly those files.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from monoview.shipped import resource_path

DESKTOP_FILE = "monoview.desktop"
ICONS = (("monoview.svg", "scalable"), ("monoview.png", "256x256"))


def data_home() -> Path:
    """``$XDG_DATA_HOME``, or ``~/.local/share`` when it is unset or not absolute (the spec's rule)."""
    configured = os.environ.get("XDG_DATA_HOME", "")
    return Path(configured) if os.path.isabs(configured) else Path.home() / ".local" / "share"


def command() -> str:
    """How a menu starts this monoview: the installed command if it is the one running,
    else this interpreter with ``-m monoview``."""
    script = shutil.which("monoview")
    if script is not None and Path(sys.argv[0]).name == "monoview":
        return shlex.quote(str(Path(script).resolve()))
    return f"{shlex.quote(sys.executable)} -m monoview"


def targets(home: Path) -> list[Path]:
    """Every file the installation writes under ``home``."""
    icons = [home / "icons" / "hicolor" / size / "apps" / name for name, size in ICONS]
    return [home / "applications" / DESKTOP_FILE, *icons]


def install(home: Path | None = None) -> list[Path]:
    """Write the menu entry and the icons; return the files written."""
    home = data_home() if home is None else home
    desktop, *icons = targets(home)
    text = resource_path(DESKTOP_FILE).read_text(encoding="utf-8")
    lines = [f"Exec={command()} %f" if line.startswith("Exec=") else line for line in text.splitlines()]
    desktop.parent.mkdir(parents=True, exist_ok=True)
    desktop.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for (name, _size), target in zip(ICONS, icons, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(resource_path(name), target)
    _refresh(home)
    return [desktop, *icons]


def uninstall(home: Path | None = None) -> list[Path]:
    """Remove what ``install`` wrote; return the files removed."""
    home = data_home() if home is None else home
    removed = []
    for target in targets(home):
        if target.exists():
            target.unlink()
            removed.append(target)
    _refresh(home)
    return removed


def _refresh(home: Path) -> None:
    """Tell the menu and the icon theme about the change, if their tools are here."""
    tools = (
        ("update-desktop-database", "-q", str(home / "applications")),
        ("gtk-update-icon-cache", "-q", "-t", str(home / "icons" / "hicolor")),
    )
    for tool, *args in tools:
        if shutil.which(tool) and Path(args[-1]).is_dir():
            subprocess.run([tool, *args], check=False, capture_output=True)


def main(argv: list[str]) -> int:
    """``--install-desktop`` or ``--uninstall-desktop``: do it and say what was done."""
    if argv[:1] == ["--uninstall-desktop"]:
        removed = uninstall()
        sys.stdout.write("".join(f"removed {path}\n" for path in removed) or "nothing to remove\n")
        return 0
    sys.stdout.write("".join(f"installed {path}\n" for path in install()))
    return 0
