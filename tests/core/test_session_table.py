"""The session list: the vectorised path for clean flows, the fast lane and the
exact replay give the same rows as each other and as the per-packet sessions,
on every shared capture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monoview.core.analyse import analyse
from monoview.core.capture.index import build_index
from monoview.core.capture.source import CaptureFile
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.summary import SESSION, SessionRows, summarise
from monoview.core.flows.table import session_rows
from tests.core.test_walk import CAPTURE_FILES

# What the per-packet path cannot know: where in its flow's rows a session lies.
_PLACEMENT = ("flow", "first_row", "stop_row", "flipped")


def _comparable(rows: SessionRows) -> list[tuple[object, ...]]:
    names = [n for n in SESSION.names or () if n not in _PLACEMENT]
    return [tuple(r[n].item() for n in names) for r in rows]


def _all_paths(path: Path) -> tuple[SessionRows, SessionRows, SessionRows]:
    index = build_index(path, workers=1)
    capture = CaptureFile.open(path)
    grouped = GroupedRows.of_index(index)
    paths = [
        session_rows(grouped, capture.buffer, index.flows, vectorised=v, fast=f)
        for v, f in ((True, True), (False, True), (False, False))
    ]
    return paths[0], paths[1], paths[2]


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_every_path_gives_the_per_packet_sessions(path: Path) -> None:
    fast, lane, exact = _all_paths(path)
    assert np.array_equal(fast, exact)
    assert np.array_equal(lane, exact)
    reference = np.array([summarise(s, 0, 0, 0, 0) for s in analyse(path).sessions], dtype=SESSION)
    assert _comparable(exact) == _comparable(reference)
