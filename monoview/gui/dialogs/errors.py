"""Showing errors: a message box for what the user can act on, a hook for bugs."""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget


def show_error(parent: QWidget | None, title: str, message: str, details: str = "") -> None:
    """A modal warning with ``message`` (one sentence from the core) and optional details."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setDetailedText(details)
    box.exec()


def install_excepthook() -> None:
    """Show unexpected exceptions in a dialog instead of losing them on a terminal.

    Only the application installs this; tests keep pytest-qt's own hook.
    """

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.__stderr__.write(text) if sys.__stderr__ else None
        if QApplication.instance() is not None:
            show_error(
                None, "monoview: internal error", f"Something went wrong inside monoview: {value}", text
            )

    sys.excepthook = hook
