"""Times of the window on one capture, measured inside one process (offscreen):

* ``rows_s``: from the start of this process to the first rows of the session tree;
* ``sort_s``: each column sorted by a header click, descending then ascending, until the
  tree has painted (the worst of them), once the window is idle: the first session's
  conversation shown.  Since the names come with the list, a sort at once would also time
  that conversation's display, which shares the event loop (``busy_sort_ms``: the first
  sort made at once, before the window is idle, for comparison);
* ``largest_s``: the largest session selected until its conversation is shown (painted),
  once the sessions' application names are in (their naming is work of its own, which
  ``names_s`` times from the list's end).

The window is started as ``monoview FILE`` starts it: what the command line starts before
Qt is imported (the fork server, the document's build) is started first, by the tree
measured (a tree from before ``cli.window.start_before_qt``: the fork server alone, as its
command line did).

Prints one JSON line.  Run with the project's virtualenv:

    .venv/bin/python bench/window_time.py FILE
"""

from __future__ import annotations

import time

START = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def start_as_the_command(path: str) -> None:
    """What ``monoview FILE`` starts before it imports Qt, in the tree measured."""
    try:
        from monoview.cli.window import parse_args, start_before_qt
    except ImportError:  # before start_before_qt: the command line started the fork server
        from monoview.core.executor import start_fork_server

        start_fork_server()
        return
    start_before_qt(parse_args([path]))


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    start_as_the_command(sys.argv[1])
    import numpy as np
    from PySide6.QtCore import QCoreApplication, Qt

    from monoview.core.flows.columns import HEADERS
    from monoview.gui.app import make_application, settle, wait_for_load
    from monoview.gui.mainwindow import MainWindow

    app = make_application([])
    window = MainWindow(remember=False)
    window.resize(1400, 880)
    window.show()
    rows: list[float] = []
    window.tree_model.modelReset.connect(
        lambda: rows.append(time.perf_counter()) if window.tree_model.rowCount() and not rows else None
    )
    window.open_path(sys.argv[1])
    wait_for_load(window)
    QCoreApplication.processEvents()
    loaded = time.perf_counter()
    rows_s = rows[0] - START if rows else None
    while window.namer.busy:
        settle(10)
    names_s = time.perf_counter() - loaded

    def painted() -> None:
        window.tree.viewport().repaint()
        QCoreApplication.processEvents()

    header = window.tree.header()
    began = time.perf_counter()
    header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)
    painted()
    busy_sort_s = time.perf_counter() - began
    header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    painted()
    while window.reassembling:
        settle(5)
    settle(50)
    sorts = []
    for column in range(1, len(HEADERS)):
        for order in (Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder):
            began = time.perf_counter()
            header.setSortIndicator(column, order)
            painted()
            sorts.append(time.perf_counter() - began)
    header.setSortIndicator(0, Qt.SortOrder.AscendingOrder)
    painted()
    columns = window.tree_model.columns
    assert columns is not None
    largest = int(np.argmax(columns.c2s_bytes + columns.s2c_bytes)) + 1
    began = time.perf_counter()
    window.select_session(largest)
    while window.reassembling:
        settle(5)
    window.conversation.viewport().repaint()
    window.hex.viewport().repaint()
    QCoreApplication.processEvents()
    largest_s = time.perf_counter() - began
    shown = window.current_session
    print(
        json.dumps(
            {
                "sessions": window.tree_model.total,
                "rows_s": round(rows_s, 3) if rows_s is not None else None,
                "loaded_s": round(loaded - START, 3),
                "names_s": round(names_s, 3),
                "sort_s": round(max(sorts), 4),
                "sorts_ms": [round(s * 1000) for s in sorts],
                "busy_sort_ms": round(busy_sort_s * 1000),
                "largest_session": largest,
                "largest_bytes": int(columns.c2s_bytes[largest - 1] + columns.s2c_bytes[largest - 1]),
                "largest_s": round(largest_s, 3),
                "largest_shown": shown is not None and shown.id == largest,
            }
        )
    )
    window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
