"""The About box: what this is and which versions it runs on (for bug reports)."""

from __future__ import annotations

import platform
import sys

import PySide6
from PySide6.QtCore import qVersion
from PySide6.QtWidgets import QMessageBox, QWidget

from monoview import __version__


def _version(distribution: str) -> str:
    from importlib import metadata  # a twentieth of a second: when the box is opened, not at start

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """Name -> version of everything that matters for a bug report."""
    return {
        "monoview": __version__,
        "Python": f"{platform.python_version()} ({sys.implementation.name})",
        "Qt": qVersion(),
        "PySide6": PySide6.__version__,
        "pyqtgraph": _version("pyqtgraph"),
        "numpy": _version("numpy"),
        "dpkt": _version("dpkt"),
    }


def show_about(parent: QWidget | None) -> None:
    """Show the About box."""
    rows = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;{v}</td></tr>" for name, v in versions().items())
    QMessageBox.about(
        parent,
        "About monoview",
        "<h3>monoview</h3>"
        "<p>Opens a packet capture, reassembles every TCP session and shows each conversation "
        "as its <i>monologues</i>: all the data one side sent before the other side answered.</p>"
        f"<table>{rows}</table><p>MIT licence.</p>",
    )


def shortcuts_html(rows: list[tuple[str, str]]) -> str:
    """An HTML table of (command, keys) rows."""
    body = "".join(f"<tr><td>{name}</td><td>&nbsp;&nbsp;<b>{keys}</b></td></tr>" for name, keys in rows)
    return f"<table>{body}</table>"


def show_shortcuts(parent: QWidget | None, rows: list[tuple[str, str]]) -> None:
    """List every command that has a key (built from the action table)."""
    QMessageBox.information(parent, "Keyboard shortcuts", shortcuts_html(rows))
