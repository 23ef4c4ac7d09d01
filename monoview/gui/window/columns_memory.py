"""The session list's columns as the user left them: order, widths and which are shown.

Saved as JSON keyed by the columns' names, not as ``QHeaderView.saveState()``:
Qt's state is a list by position, so a column added in a later version is
shown wherever it lands, hidden-by-default or not, and a header restored from
an older state saves a state that hides it again on the next start.  By name,
a column the saved layout does not know keeps its default place and visibility,
and one the user showed stays shown.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import QHeaderView

from monoview.core.flows.columns import Column
from monoview.gui.views.session_tree import HIDDEN_BY_DEFAULT


def columns_json(header: QHeaderView) -> str:
    """The header's columns, in visual order: name, width, shown."""
    ordered = sorted(range(header.count()), key=header.visualIndex)
    return json.dumps(
        [
            {
                "column": Column(logical).name,
                "width": header.sectionSize(logical),
                "shown": not header.isSectionHidden(logical),
            }
            for logical in ordered
            if logical < len(Column)
        ]
    )


def restore_columns(header: QHeaderView, saved: str) -> bool:
    """Apply a layout from :func:`columns_json`; False (and nothing changed) if it cannot be read.

    Known columns take their saved order, width and visibility; the saved ones
    are placed first in their saved order, then the others keep their default
    relative order after them.
    """
    try:
        entries: list[dict[str, Any]] = json.loads(saved)
        known = [(Column[e["column"]], int(e["width"]), bool(e["shown"])) for e in entries]
    except (ValueError, KeyError, TypeError):
        return False
    for position, (column, width, shown) in enumerate(known):
        header.moveSection(header.visualIndex(column), position)
        header.setSectionHidden(column, not shown)
        if width > 0:
            header.resizeSection(column, width)
    return True


def hide_unknown_defaults(header: QHeaderView, known_sections: int) -> None:
    """After restoring an old ``saveState()`` of ``known_sections`` sections: columns added
    since keep their default visibility (Qt shows every section the state did not know)."""
    for column in HIDDEN_BY_DEFAULT:
        if column >= known_sections:
            header.setSectionHidden(column, True)
