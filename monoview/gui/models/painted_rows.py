"""What the session model answers besides its structure: the cells of painted rows, kept,
and the roles a view asks for now and then (tooltips, headers, the session of a row).

A repaint (every selection change, scroll or sort) asks for the cells of every row on
screen; they are made once (``session_cells``) and kept here under what the row shows
(its session), so a repaint costs dictionary lookups, not formatting, and a sort back
and forth finds rows already made.
"""

from __future__ import annotations

from typing import Any, Final

from PySide6.QtCore import Qt

from monoview.core import display as fmt
from monoview.core.flows.columns import HEADERS, NUMERIC, TOOLTIPS, Column, SessionColumns
from monoview.core.verdict import MEANINGS, VERDICTS
from monoview.gui.models.roles import Role
from monoview.gui.models.session_cells import RIGHT, Cell, session_row_cells

# Painted rows kept (their cells' texts): far more than a screenful, few enough to stay small.
PAINT_CACHE_ROWS: Final = 4096


class PaintedRows:
    """The cells of the rows painted so far, by session number; forgotten wholesale past
    ``PAINT_CACHE_ROWS`` (made again as they are painted: cheaper than keeping an order of use)."""

    def __init__(self) -> None:
        self._sessions: dict[int, list[Cell]] = {}

    def clear(self) -> None:
        """Forget every row (another document, or a column the rows show changed)."""
        self._sessions = {}

    def session(self, columns: SessionColumns | None, number: int) -> list[Cell]:
        """The cells of session ``number``'s row (0-based)."""
        cells = self._sessions.get(number)
        if cells is None:
            if len(self._sessions) >= PAINT_CACHE_ROWS:
                self._sessions.clear()
            cells = self._sessions[number] = session_row_cells(columns, number)
        return cells


def header_data(section: int, orientation: Qt.Orientation, role: int) -> Any:
    """A column header's text, alignment and tooltip."""
    if orientation == Qt.Orientation.Horizontal and 0 <= section < len(HEADERS):
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC:
            return RIGHT
        if role == Qt.ItemDataRole.ToolTipRole:
            return TOOLTIPS.get(Column(section))
    return None


def session_data(c: SessionColumns | None, number: int, role: int) -> Any:
    """A session row's roles that are not painted: its id, its tooltip."""
    assert c is not None
    if role == Role.SESSION:
        return number + 1
    if role == Qt.ItemDataRole.ToolTipRole:
        verdict = VERDICTS[int(c.verdict[number])]
        client, server = c.endpoint(number, True), c.endpoint(number, False)
        return (
            f"Session {number + 1}: {client} ⇄ {server}\n"
            f"started {fmt.date_time(int(c.rows['first_ts'][number]))}\n"
            + ", ".join(c.flags(number))
            + f"\n● {verdict} ({MEANINGS[verdict]})"
        )
    return None
