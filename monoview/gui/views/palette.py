"""Colours and fonts every view shares, so client and server look the same everywhere.

Client text is dark red on light pink and server text dark blue on light blue:
Wireshark's Follow Stream defaults, which network engineers already read
without thinking.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtGui import QColor, QFont, QFontDatabase

CLIENT_FG: Final = QColor(127, 0, 0)
CLIENT_BG: Final = QColor(251, 237, 237)
SERVER_FG: Final = QColor(0, 0, 127)
SERVER_BG: Final = QColor(237, 237, 251)
CLIENT_STRIPE: Final = QColor(214, 96, 96)
SERVER_STRIPE: Final = QColor(96, 96, 214)
GAP_FG: Final = QColor(110, 110, 110)
GAP_BG: Final = QColor(238, 238, 238)
GAP_MARK: Final = QColor(207, 34, 46)
CONFLICT: Final = QColor(230, 140, 0)
CONFLICT_BG: Final = QColor(255, 236, 200)
FIND_BG: Final = QColor(255, 221, 0)
# One colour per session verdict (core/verdict.py), the same in the session list's dot, the
# timeline and the legends: red is "bytes missing" here as it is for a gap in every view.
VERDICT_COLOURS: Final = {
    "complete": QColor(46, 160, 67),
    "no handshake": QColor(120, 144, 156),
    "open": QColor(219, 150, 0),
    "reset": QColor(142, 68, 173),
    "bytes missing": GAP_MARK,
}


def foreground(direction: str) -> QColor:
    """Text colour of a direction."""
    return CLIENT_FG if direction == "c2s" else SERVER_FG


def background(direction: str) -> QColor:
    """Background colour of a direction."""
    return CLIENT_BG if direction == "c2s" else SERVER_BG


def stripe(direction: str) -> QColor:
    """Stronger accent colour of a direction (left border, plot curves)."""
    return CLIENT_STRIPE if direction == "c2s" else SERVER_STRIPE


def verdict_colour(verdict: str) -> QColor:
    """The colour of a session verdict (``core.verdict.VERDICTS``)."""
    return VERDICT_COLOURS[verdict]


def mono_font() -> QFont:
    """The system's fixed-width font."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.TypeWriter)
    return font
