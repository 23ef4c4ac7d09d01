"""How long the session list takes to repaint a screenful of rows: every row kept as a
pixmap already (a selection or focus change), and every row new (after a sort or a new
capture; the paint budget lifted so that one paint makes them all).  Median of the runs,
in milliseconds; prints one JSON line.  Run with the project's virtualenv:

    .venv/bin/python bench/list_paint.py FILE [RUNS]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from monoview.gui.app import make_application, settle, wait_for_load
    from monoview.gui.mainwindow import MainWindow
    from monoview.gui.views import row_pixmaps

    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    app = make_application([])
    window = MainWindow(remember=False)
    window.resize(1400, 880)
    window.show()
    settle(200)
    window.open_path(sys.argv[1])
    wait_for_load(window)
    settle(500)
    row_pixmaps.PAINT_BUDGET_S = 3600.0
    view = window.tree
    figures: dict[str, object] = {"view": type(view).__mro__[1].__name__, "runs": runs}
    for case in ("kept", "new"):
        times = []
        for _ in range(runs):
            if case == "new":
                view._rows.clear()
                view._rows.texts = row_pixmaps.TextCache()
            else:
                view.viewport().repaint()
            start = time.perf_counter()
            view.viewport().repaint()
            times.append((time.perf_counter() - start) * 1000)
        figures[f"{case}_ms"] = round(statistics.median(times), 2)
    figures["rows"] = view._rows.made
    print(json.dumps(figures))
    window.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
