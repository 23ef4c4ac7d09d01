"""Custom item data roles shared by the models and the views that read them."""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import Qt


class Role(IntEnum):
    """Roles above ``Qt.UserRole``: the objects behind a row and its sort key."""

    SESSION = Qt.ItemDataRole.UserRole + 1  # TcpSession of the row (or of the monologue's session)
    MONOLOGUE = Qt.ItemDataRole.UserRole + 2  # Monologue, None on session rows
    SORT = Qt.ItemDataRole.UserRole + 3  # number or string used by the proxy to sort
