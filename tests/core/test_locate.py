"""Reading one flow through the locator gives exactly what masking the whole index gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monoview.core.capture.index import build_parts
from monoview.core.capture.locate import FlowLocator
from monoview.core.executor import InlineExecutor
from tests.core.test_walk import CAPTURE_FILES

NAMES = ("frame", "ts", "flow", "seq", "payload", "caplen", "dir", "window", "interface")


@pytest.mark.skipif(not CAPTURE_FILES, reason="no captures")
@pytest.mark.parametrize("path", CAPTURE_FILES, ids=[p.name for p in CAPTURE_FILES])
def test_each_flow_is_its_rows_in_capture_order(path: Path, tmp_path: Path) -> None:
    _check_every_flow(path, tmp_path)


@pytest.mark.parametrize("v6", [False, True])
def test_rows_made_from_ip_fragments_are_found_too(v6: bool, tmp_path: Path) -> None:
    from tests.core.test_fragments import fragmented_capture

    path, _pieces = fragmented_capture(tmp_path, v6, shuffle=True)
    (tmp_path / "parts").mkdir()
    assert _check_every_flow(path, tmp_path / "parts") > 0


def _check_every_flow(path: Path, folder: Path) -> int:
    """Compare every flow; return how many rows came from fragments."""
    # Several ranges saved as files, as worker processes leave them.
    parts = build_parts(path, workers=3, executor=InlineExecutor(), folder=folder, min_range=1)
    try:
        locator = FlowLocator.of(parts)
        every = parts.select(None, ("flow",))["flow"]
        extra = 0 if parts.extra is None else len(parts.extra["flow"])
        assert int(locator.bounds[-1]) + extra == len(every)
        for flow in range(len(parts.flows)):
            wanted = np.zeros(len(parts.flows), dtype=np.bool_)
            wanted[flow] = True
            expected = parts.select(wanted, NAMES)
            found = locator.select(parts, flow, NAMES)
            for name in NAMES:
                assert np.array_equal(found[name], expected[name]), (flow, name)
        return 0 if parts.extra is None else len(parts.extra["flow"])
    finally:
        parts.close()
