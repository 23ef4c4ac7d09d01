"""A session's packets straight from the index: their columns, and a packet's TCP header.

What the stream graphs plot (times, sequence numbers, windows) needs no
reassembly: the session's rows are a run of its flow's rows in the index.
The index keeps no header offset, so a header (for the window-scale option of
a SYN) is found backwards from the payload in the mapped file.
"""

from __future__ import annotations

import numpy as np

from monoview.core.document import CaptureDocument


def packet_columns(
    document: CaptureDocument, session_id: int, names: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """Index columns (``ranges.COLUMNS``: ``ts``, ``seq``, ``window``...) of the session's packets,
    in capture order, and ``from_client`` (True for the client's packets)."""
    row = document.session_row(session_id)
    first, stop = int(row["first_row"]), int(row["stop_row"])
    wanted = tuple(dict.fromkeys((*names, "dir")))
    columns = document.locator.select(document.parts, int(row["flow"]), wanted)
    picked = {name: np.asarray(columns[name][first:stop]) for name in wanted}
    client_dir = 0 if int(row["flipped"]) == int(row["client_side"]) else 1
    picked["from_client"] = picked["dir"] == client_dir
    return picked


def tcp_header(document: CaptureDocument, session_id: int, payload_offset: int) -> bytes | None:
    """The TCP header (options included) of a packet of the session whose payload starts at
    ``payload_offset`` in the file: the one 20-60 bytes long whose data-offset field says so
    and whose ports are the session's; None if there is none."""
    (_a, a_port), (_b, b_port) = document.flows.endpoints(int(document.session_row(session_id)["flow"]))
    ports = {(a_port, b_port), (b_port, a_port)}
    buffer = document.buffer
    for length in range(20, 64, 4):
        start = payload_offset - length
        if start < 0 or payload_offset > len(buffer):
            break
        if buffer[start + 12] >> 4 != length // 4:
            continue
        source, destination = buffer[start : start + 2], buffer[start + 2 : start + 4]
        if (int.from_bytes(source, "big"), int.from_bytes(destination, "big")) in ports:
            return bytes(buffer[start:payload_offset])
    return None


__all__ = ["packet_columns", "tcp_header"]
