"""The text view's colours as extra selections: direction, conflicts, gap markers, find matches.

Only the window the editor holds is marked (a few chunks), so their number stays
small whatever the blob's size; each list is capped at ``LIMIT`` all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from PySide6.QtGui import QTextCharFormat, QTextCursor, QTextDocument
from PySide6.QtWidgets import QTextEdit

from monoview.gui.views import palette

LIMIT: Final = 2000
Range = tuple[int, int]


def _mark(document: QTextDocument, start: int, end: int, fmt: QTextCharFormat) -> QTextEdit.ExtraSelection:
    cursor = QTextCursor(document)
    cursor.setPosition(start)
    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
    extra = QTextEdit.ExtraSelection()
    extra.cursor = cursor
    extra.format = fmt
    return extra


def marks(
    document: QTextDocument,
    char: Callable[[int], int],
    window: Range,
    spans: Sequence[tuple[int, int, str]],
    conflicts: Sequence[Range],
    markers: Sequence[Range],
    matches: Sequence[Range],
) -> list[QTextEdit.ExtraSelection]:
    """Extra selections for byte ranges (``char`` maps a blob byte to the editor's text; each
    range is cut to ``window``) and for the gap markers' text ranges."""
    low, high = window

    def text_range(start: int, end: int) -> Range:
        return char(max(start, low)), char(min(end, high))

    out = []
    for start, end, direction in spans[:LIMIT]:
        fmt = QTextCharFormat()
        fmt.setForeground(palette.foreground(direction))
        fmt.setBackground(palette.background(direction))
        out.append(_mark(document, *text_range(start, end), fmt))
    for start, end in conflicts[:LIMIT]:
        fmt = QTextCharFormat()
        fmt.setBackground(palette.CONFLICT_BG)
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
        fmt.setUnderlineColor(palette.CONFLICT)
        fmt.setToolTip("A retransmission carried different bytes here; the first copy is shown")
        out.append(_mark(document, *text_range(start, end), fmt))
    for start, end in markers[:LIMIT]:  # text ranges already
        fmt = QTextCharFormat()
        fmt.setForeground(palette.GAP_FG)
        fmt.setBackground(palette.GAP_BG)
        fmt.setFontItalic(True)
        out.append(_mark(document, start, end, fmt))
    for start, end in matches[:LIMIT]:
        fmt = QTextCharFormat()
        fmt.setBackground(palette.FIND_BG)
        out.append(_mark(document, *text_range(start, end), fmt))
    return out
