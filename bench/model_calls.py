"""Calls from Qt into the session model's Python methods when the session list is reset
(the whole list arrives) and when it is sorted: what a tree view's relayout of every row
cost, and what the flat table costs now.

Counts every method the model's own classes define (a method Qt answers in C++ is no call
into Python, and is not counted).  Prints one JSON line.  Run with the project's
virtualenv:

    .venv/bin/python bench/model_calls.py FILE
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from typing import Any

# What a view may call on its model (the virtuals a Python model may override).
VIRTUALS = (
    "index", "parent", "rowCount", "columnCount", "hasChildren", "data", "multiData", "headerData",
    "flags", "canFetchMore", "fetchMore", "sibling", "roleNames", "span",
)  # fmt: skip


def counting(model_class: type) -> tuple[type, Counter[str]]:
    """A subclass of ``model_class`` that counts calls to the virtuals it overrides."""
    calls: Counter[str] = Counter()
    ours = [klass for klass in model_class.__mro__ if klass.__module__.startswith("monoview")]
    own = {name for klass in ours for name in vars(klass)}
    namespace: dict[str, Any] = {}
    for name in VIRTUALS:
        if name in own:

            def wrapped(self: Any, *args: Any, _name: str = name) -> Any:
                calls[_name] += 1
                return getattr(super(counted, self), _name)(*args)

            namespace[name] = wrapped
    counted = type("Counted" + model_class.__name__, (model_class,), namespace)
    return counted, calls


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from monoview.core.document import CaptureDocument
    from monoview.core.flows.columns import Column, SessionColumns
    from monoview.gui.models.session_list import SessionListModel
    from monoview.gui.views.session_tree import SessionTreeView

    app = QApplication([])
    document = CaptureDocument(sys.argv[1])
    columns = SessionColumns(document.rows, document.flows)
    model_class, calls = counting(SessionListModel)
    model = model_class()
    view = SessionTreeView()
    view.setModel(model)
    view.lay_out_columns()
    view.resize(1000, 700)
    view.show()
    app.processEvents()
    figures: dict[str, Any] = {"sessions": len(columns), "view": type(view).__mro__[1].__name__}
    for step, act in (
        ("reset", lambda: model.set_columns(columns)),
        ("sort", lambda: view.sortByColumn(Column.S2C, Qt.SortOrder.DescendingOrder)),
    ):
        calls.clear()
        act()
        for _ in range(3):  # the delayed layout, then the paints it asks for
            app.processEvents()
        view.viewport().repaint()
        figures[step] = dict(calls.most_common()) | {"total": sum(calls.values())}
    print(json.dumps(figures))
    document.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
