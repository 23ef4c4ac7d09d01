"""What the session list's cells say: texts made at paint time, and the status dot.

The model (``session_list``) asks for these only for the cells being
painted, so 20,000 sessions cost what the 40 rows on screen cost.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap

from monoview.core import display as fmt
from monoview.core.flows.columns import NUMERIC, Column, SessionColumns
from monoview.core.verdict import VERDICTS
from monoview.gui.views import palette

DISPLAY: Final = int(Qt.ItemDataRole.DisplayRole)
DECORATION: Final = int(Qt.ItemDataRole.DecorationRole)
ALIGNMENT: Final = int(Qt.ItemDataRole.TextAlignmentRole)
FOREGROUND: Final = int(Qt.ItemDataRole.ForegroundRole)
RIGHT: Final = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
COLUMNS: Final = len(Column)
# What a cell shows: its non-empty display, decoration, alignment and foreground roles.
Cell = dict[int, Any]


def session_row_cells(c: SessionColumns | None, number: int) -> list[Cell]:
    """Every cell of a session's row, by column (the model keeps them once painted)."""
    assert c is not None
    cells: list[Cell] = [{DISPLAY: session_text(c, number, column)} for column in range(COLUMNS)]
    cells[Column.STATUS][DECORATION] = verdict_icon(VERDICTS[int(c.verdict[number])])
    return _aligned(cells)


def _aligned(cells: list[Cell]) -> list[Cell]:
    """Numbers right-aligned, as in Wireshark's lists."""
    for column in NUMERIC:
        cells[column][ALIGNMENT] = RIGHT
    return cells


def session_text(c: SessionColumns | None, number: int, column: int) -> str:
    """The text of a session's cell (made when it is painted)."""
    assert c is not None
    if column == Column.ID:
        return str(number + 1)
    if column in (Column.CLIENT, Column.SERVER):
        return str(c.endpoint(number, column == Column.CLIENT))
    if column == Column.START:
        return fmt.clock(int(c.rows["first_ts"][number]))
    if column == Column.DURATION:
        return fmt.duration(int(c.duration_ns[number]))
    if column == Column.PACKETS:
        return fmt.size(int(c.rows["packets"][number]))
    if column == Column.C2S:
        return fmt.size(int(c.c2s_bytes[number]))
    if column == Column.S2C:
        return fmt.size(int(c.s2c_bytes[number]))
    if column == Column.STATUS:
        return ", ".join(c.flags(number))
    if column == Column.STREAM:
        return c.stream_text(number)
    if column == Column.BYTES:
        return fmt.size(int(c.c2s_bytes[number] + c.s2c_bytes[number]))
    if column == Column.DATA_C2S:
        return fmt.size(int(c.c2s_data_packets[number]))
    if column == Column.DATA_S2C:
        return fmt.size(int(c.s2c_data_packets[number]))
    if column == Column.APPLICATION:
        return c.application(number)
    if column == Column.OUTER_PATH:
        return c.outer_path_text(number)
    return c.context_text(number)


@cache
def verdict_icon(verdict: str) -> QIcon:
    """A filled circle in the colour of ``verdict``, as the timeline's bars (made once each)."""
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(palette.verdict_colour(verdict))
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)
