"""Manifest lines of quiet sessions, from the session list alone: no replay, no file.

A quiet session carried no payload either way, misses nothing and was not cut
by the snap length: a lone RST or FIN, a SYN never answered, a handshake and
a close.  Its export is a manifest entry and nothing else (no direction file,
no monologue, no transcript: ``SessionFiles.encode``), and every field of that
entry is in its session-list row.  A storm of 20,000 such sessions (a port
scan's answers, a flood of resets) was replayed one by one, each a Python
session object and a pass through the file writer, for lines that follow
from the rows; here they are written straight from the rows.
``tests/core/test_quiet_export.py`` checks, line for line, that they are what
the replay gives.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import FlowTable
from monoview.core.export.encode import encoded
from monoview.core.export.manifest import item_line
from monoview.core.export.options import ExportOptions, Layout
from monoview.core.flows.listing import BLOCK_ROWS, session_columns, stream_entries
from monoview.core.flows.summary import SessionRows

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


def quiet(rows: SessionRows, ids: I64) -> Mask:
    """Which of the sessions ``ids`` (1-based) are quiet."""
    chosen = rows[ids - 1]
    mask: Mask = (chosen["monologues"] == 0) & ~chosen["truncated"]
    for side in (0, 1):
        for name in ("kept", "gaps", "conflicts", "data_packets"):
            mask &= chosen[f"{name}{side}"] == 0
        mask &= ~chosen[f"missing{side}"]
    return mask


def quiet_lines(
    rows: SessionRows, flows: FlowTable, ids: I64, options: ExportOptions, names: I64 | None = None
) -> Iterator[tuple[int, str]]:
    """``(id, manifest line)`` of each quiet session ``ids`` (positions in ``rows`` from 1; their
    session ids are ``names``, by default the same), as ``SessionFiles.encode`` writes it."""
    if not len(ids):
        return
    empty = b"".join(encoded(iter(()), options.fmt))
    direction = {
        "packets": 0, "captured": 0, "gaps": [], "conflicts": [], "truncated_at": None,
        "len": len(empty), "sha256": hashlib.sha256(empty).hexdigest(), "file": None,
    }  # fmt: skip
    tail = "]"
    if options.layout is Layout.FULL and options.transcript:
        tail += f", {item_line('transcript')}: {item_line(None)}"
    named = ids if names is None else names
    for start in range(0, len(ids), BLOCK_ROWS):  # Python values of a block at a time
        block = ids[start : start + BLOCK_ROWS]
        columns = session_columns(rows[block - 1], flows)
        names_here = named[start : start + BLOCK_ROWS].tolist()
        for session_id, entry in zip(names_here, stream_entries(columns), strict=True):
            entry["id"] = session_id
            del entry["c2s_bytes"], entry["s2c_bytes"]
            entry["c2s"] = entry["s2c"] = direction
            yield session_id, item_line(entry)[:-1] + ', "monologues": [' + tail + "}"


__all__ = ["quiet", "quiet_lines"]
