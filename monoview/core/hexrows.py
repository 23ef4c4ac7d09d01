"""The rows of a hex dump with a ``[N bytes missing]`` row at every gap: byte <-> row.

A 2-px bar between two bytes is easy to miss, and a missing stretch spoils
what is read after it, so the hex view shows each gap as a row of its own, as
the text view and Follow TCP Stream do.  The bytes between two gaps are one
*run*, cut into rows of ``width`` from the run's first byte: the row after a
marker starts at the byte that follows the gap, so its offset continues right
where the bytes do (offsets count captured bytes; gaps take none).

Everything is in terms of a few sorted lists built once per blob, O(gaps),
and answered by bisection, so painting a screenful costs the same for a 40 MB
conversation as for a small one.  No Qt here: the view (``gui/views/hexview``)
asks this which row shows which bytes.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from monoview.core.blob import gap_marker


@dataclass(frozen=True)
class HexRow:
    """One visual row: ``count`` bytes from ``start``, or a gap marker (``missing`` > 0)
    standing before byte ``start``."""

    start: int
    count: int = 0
    missing: int = 0

    @property
    def is_gap(self) -> bool:
        """Whether this row is a ``[N bytes missing]`` marker."""
        return self.missing > 0

    @property
    def end(self) -> int:
        """One past the row's last byte (``start`` for a marker)."""
        return self.start + self.count

    @property
    def text(self) -> str:
        """The marker's words (empty for a row of bytes)."""
        return gap_marker(self.missing) if self.missing else ""


class HexRows:
    """Row layout of ``size`` bytes with ``gaps`` (``(position, missing)``, sorted) in line."""

    def __init__(self, size: int, gaps: Sequence[tuple[int, int]], width: int = 16) -> None:
        self.size = size
        self.width = width
        # Items in order, each a run of bytes (>= 1 row) or a marker (1 row): its first row.
        self._item_rows: list[int] = []
        self._items: list[tuple[int, int, int]] = []  # (start, length, missing): missing 0 = run
        self._run_starts: list[int] = []  # byte position of each run, for byte -> row
        self._run_items: list[int] = []
        rows, at = 0, 0
        for position, missing in [*sorted((min(max(p, 0), size), m) for p, m in gaps if m > 0), (size, 0)]:
            if position > at:
                self._run_starts.append(at)
                self._run_items.append(len(self._items))
                rows = self._add(rows, at, position - at, 0, -(-(position - at) // width))
                at = position
            if missing:
                rows = self._add(rows, position, 0, missing, 1)
        self.rows = rows

    def _add(self, rows: int, start: int, length: int, missing: int, count: int) -> int:
        self._item_rows.append(rows)
        self._items.append((start, length, missing))
        return rows + count

    def row(self, index: int) -> HexRow:
        """What visual row ``index`` (0 <= index < rows) shows."""
        k = bisect.bisect_right(self._item_rows, index) - 1
        start, length, missing = self._items[k]
        if missing:
            return HexRow(start, 0, missing)
        first = start + (index - self._item_rows[k]) * self.width
        return HexRow(first, min(self.width, start + length - first))

    def row_of(self, position: int) -> int:
        """The visual row that shows byte ``position`` (the last byte row for ``size``)."""
        i = bisect.bisect_right(self._run_starts, position) - 1
        if i < 0:
            return 0 if not self._run_starts else self._item_rows[self._run_items[0]]
        k = self._run_items[i]
        start, length, _missing = self._items[k]
        within = min(position, start + length - 1) - start
        return self._item_rows[k] + within // self.width

    def move(self, position: int, rows: int) -> int:
        """The byte ``rows`` byte rows above (< 0) or below ``position``, in its column
        (the row's last byte where that row is shorter), stepping over marker rows; past
        the first or last row of bytes, the start or the end of the data."""
        step = 1 if rows > 0 else -1
        target = self.row_of(position) + rows
        column = position - self.row(self.row_of(position)).start if self.rows else 0
        while 0 <= target < self.rows and self.row(target).is_gap:
            target += step
        if target < 0 or not self._run_starts:
            return 0
        if target >= self.rows:
            return self.size
        row = self.row(target)
        return row.start + min(column, row.count - 1)
