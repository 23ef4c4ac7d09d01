"""The GUI thread's worst wait while the window opens a big capture, sorts it and opens its
largest session, with two other CPU-bound processes running (as the responsiveness test does
on a small capture; this is the same on any file, for the note's figures).

A 10 ms QTimer on the GUI thread records the longest gap between its ticks.  Prints one JSON
line.  Run with the project's virtualenv:

    .venv/bin/python bench/window_ticks.py FILE [--no-hogs] [--trace]

``--trace FILE`` writes every thread's Python stack to FILE whenever the GUI timer has not
ticked for 50 ms (``faulthandler.dump_traceback_later``, re-armed at each tick: its watchdog
is a C thread that needs no GIL, so a stack is caught even while the GIL is held), each
block headed by the time since the start: where the GUI thread was during each long gap.
"""

from __future__ import annotations

import faulthandler
import json
import multiprocessing
import os
import sys
import time


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtCore import Qt, QTimer

    from monoview.core.flows.columns import Column
    from monoview.gui.app import make_application, settle, wait_for_conversation, wait_for_load
    from monoview.gui.mainwindow import MainWindow

    hogs = (
        []
        if "--no-hogs" in sys.argv
        else [
            multiprocessing.get_context("spawn").Process(target=_spin, args=(600.0,), daemon=True)
            for _ in range(2)
        ]
    )
    app = make_application([])
    window = MainWindow(remember=False)
    window.resize(1400, 880)
    window.show()
    settle(200)
    gaps: list[tuple[float, str]] = []
    phase = ["load"]
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(((now - last[0]) * 1000, phase[0]))
        last[0] = now
        if trace is not None:
            faulthandler.cancel_dump_traceback_later()
            faulthandler.dump_traceback_later(0.05, file=trace)

    trace = open(sys.argv[sys.argv.index("--trace") + 1], "w") if "--trace" in sys.argv else None  # noqa: SIM115

    for hog in hogs:
        hog.start()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    last[0] = time.perf_counter()
    timer.start()
    began = time.perf_counter()
    window.open_path(sys.argv[1])
    wait_for_load(window)
    loaded = time.perf_counter() - began
    phase[0] = "list shown"
    settle(150)
    phase[0] = "sort"
    window.tree.header().setSortIndicator(Column.S2C, Qt.SortOrder.DescendingOrder)
    settle(100)
    phase[0] = "largest session"
    columns = window.tree_model.columns
    assert columns is not None
    largest = int(np.argmax(columns.c2s_bytes + columns.s2c_bytes)) + 1
    window.select_session(largest)
    wait_for_conversation(window)
    window.scope.setCurrentIndex(window.scope.findData("session"))
    window.show_text()
    settle(300)
    timer.stop()
    for hog in hogs:
        hog.terminate()
    if trace is not None:
        faulthandler.cancel_dump_traceback_later()
        trace.close()
    worst = {
        name: round(max((g for g, p in gaps if p == name), default=0.0), 1)
        for name in ("load", "list shown", "sort", "largest session")
    }
    print(json.dumps({"sessions": window.tree_model.total, "load_s": round(loaded, 2), "hogs": len(hogs),
                      "ticks": len(gaps), "worst_gap_ms": worst,
                      "gaps_over_100_ms": sum(1 for g, _p in gaps if g > 100)}))  # fmt: skip
    window.close()
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
