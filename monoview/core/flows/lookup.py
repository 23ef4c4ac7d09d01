"""Which session a frame belongs to: Wireshark's "Go to packet" for a list of sessions.

The index's rows are in capture order within each byte range, so a frame is
found by a binary search of each range's frame column (and of the rows made
from IP fragments); its flow's rows, in capture order, then say which of the
flow's sessions (a run of those rows) holds it.
"""

from __future__ import annotations

import numpy as np

from monoview.core.document import CaptureDocument


def flow_of_frame(document: CaptureDocument, frame: int) -> int | None:
    """The flow of the TCP packet in frame ``frame``, None if that frame is no indexed packet."""
    parts = document.parts
    for part, base, mapping in zip(parts.ranges, parts.bases, parts.mappings, strict=True):
        if not part.rows:
            continue
        frames = part.column("frame")
        i = int(np.searchsorted(frames, frame - base))
        if i < len(frames) and int(frames[i]) == frame - base:
            return int(mapping[int(part.column("flow")[i])])
    extra = parts.extra
    if extra is not None and len(extra["frame"]):
        hits = np.flatnonzero(extra["frame"] == frame)
        if len(hits):
            return int(extra["flow"][hits[0]])
    return None


def session_of_frame(document: CaptureDocument, frame: int) -> int | None:
    """The id of the session whose packets include frame ``frame``, None if none does."""
    flow = flow_of_frame(document, frame)
    if flow is None:
        return None
    frames = document.locator.select(document.parts, flow, ("frame",))["frame"]
    position = int(np.searchsorted(frames, frame))
    rows = document.rows
    for number in np.flatnonzero(rows["flow"] == flow).tolist():
        if int(rows["first_row"][number]) <= position < int(rows["stop_row"][number]):
            return number + 1
    return None


__all__ = ["flow_of_frame", "session_of_frame"]
