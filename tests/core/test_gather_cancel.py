"""A cancelled ``gather`` returns only once the tasks its workers took are done, so that what
they were handed can be removed at once without breaking the pool.

A window keeps one pool for every capture it opens.  Cancelling an open in its list phase
removes the index's column files, which the list's tasks are handed by name (a task maps them
as it is unpickled); a task a worker had queued then found them gone while it was unpickled,
which ended that worker: every later open failed with a broken pool.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from monoview.core.errors import Cancelled
from monoview.core.executor import gather


class Handed:
    """A task's argument that reads a file as it is unpickled (as an index's columns are mapped)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.text = Path(path).read_text()

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path = state["path"]
        self.text = Path(self.path).read_text()  # gone: the worker that unpickles it ends


def _work(handed: Handed) -> str:
    time.sleep(0.2)
    return handed.text


def _double(value: int) -> int:
    return 2 * value


def test_a_cancelled_gather_leaves_the_pool_usable(tmp_path: Path) -> None:
    handed = tmp_path / "columns.txt"
    handed.write_text("columns")
    pool = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork"))
    try:
        assert list(pool.map(_double, [1, 2])) == [2, 4]  # both workers started
        polls = [0]

        def cancel() -> bool:
            polls[0] += 1
            return polls[0] > 2  # once the workers have taken tasks, and queued another

        with pytest.raises(Cancelled):
            gather(pool, _work, [Handed(str(handed))] * 12, cancel=cancel)
        handed.unlink()  # what a cancelled build does with its index at once
        assert pool.submit(_double, 21).result(timeout=60) == 42
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
