"""Which sessions a frame belongs to: Wireshark's "Go to packet" for a list of sessions.

The index's rows are in capture order within each byte range, so a frame's rows are
found by a binary search of each range's frame column (and of the rows made from IP
fragments); their flows' rows, in capture order, then say which of each flow's sessions
(a run of those rows) holds them.  One frame may hold packets of several sessions: an
802.11 A-MSDU's subframes, a tunnel datagram of several packets, fragments completing
several datagrams, a FIN and the next SYN of one 4-tuple.  Every one is returned, in the
order their packets lie in the frame, so a caller can show them all or choose.
"""

from __future__ import annotations

import numpy as np

from monoview.core.capture.indexparts import SUBFRAME_POSITION
from monoview.core.document import CaptureDocument


def flows_of_frame(document: CaptureDocument, frame: int) -> list[int]:
    """The flows of the TCP packets in frame ``frame``, each once, in the order the frame
    holds them (by the packet's payload offset, or the completing fragment's); empty if the
    frame is no indexed packet."""
    parts = document.parts
    found: list[tuple[int, int]] = []  # (where in the frame, flow)
    for part, base, mapping in zip(parts.ranges, parts.bases, parts.mappings, strict=True):
        if not part.rows:
            continue
        frames = part.column("frame")
        lo = int(np.searchsorted(frames, frame - base, side="left"))
        hi = int(np.searchsorted(frames, frame - base, side="right"))
        if lo < hi:
            flows = mapping[part.column("flow")[lo:hi]].tolist()
            found.extend(zip(part.column("payload")[lo:hi].tolist(), flows, strict=True))
    extra = parts.extra
    if extra is not None and len(extra["frame"]):
        hits = np.flatnonzero(extra["frame"] == frame)
        found.extend(zip(extra[SUBFRAME_POSITION][hits].tolist(), extra["flow"][hits].tolist(), strict=True))
    found.sort(key=lambda pair: pair[0])
    return list(dict.fromkeys(int(flow) for _, flow in found))


def flow_of_frame(document: CaptureDocument, frame: int) -> int | None:
    """The flow of the first TCP packet in frame ``frame``, None if that frame is no indexed packet."""
    flows = flows_of_frame(document, frame)
    return flows[0] if flows else None


def sessions_of_frame(document: CaptureDocument, frame: int) -> list[int]:
    """The ids of every session with a packet in frame ``frame``, in the order the frame
    holds them; empty if none has."""
    rows = document.rows
    ids: list[int] = []
    for flow in flows_of_frame(document, frame):
        frames = document.locator.select(document.parts, flow, ("frame",))["frame"]
        lo = int(np.searchsorted(frames, frame, side="left"))
        hi = int(np.searchsorted(frames, frame, side="right"))
        for number in np.flatnonzero(rows["flow"] == flow).tolist():
            if int(rows["first_row"][number]) < hi and lo < int(rows["stop_row"][number]):
                ids.append(number + 1)
    return list(dict.fromkeys(ids))


def session_of_frame(document: CaptureDocument, frame: int) -> int | None:
    """The id of the first session with a packet in frame ``frame`` (``sessions_of_frame``
    gives them all), None if none has."""
    ids = sessions_of_frame(document, frame)
    return ids[0] if ids else None


__all__ = ["flow_of_frame", "flows_of_frame", "session_of_frame", "sessions_of_frame"]
