"""Custom item data roles shared by the models and the views that read them."""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import Qt


class Role(IntEnum):
    """Roles above ``Qt.UserRole``: what is behind a row."""

    SESSION = Qt.ItemDataRole.UserRole + 1  # id of the row's session
