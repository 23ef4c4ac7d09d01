"""The session list's record: one row per session, what the list and ``sessions`` show.

Every field comes from the exact reassembly (``summarise`` reads a replayed
TcpSession) or from the vectorised path for clean flows, which must give the
same values; ``tests/core/test_session_table.py`` checks the two agree.
Sides are the session's own: side 0 sent its first packet.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.tcp.records import Gap, GapCause
from monoview.core.tcp.session import ClientBasis, TcpSession

BASES: Final = (ClientBasis.SYN, ClientBasis.SYNACK, ClientBasis.PORT, ClientBasis.FIRST_PACKET)
ENDINGS: Final = ("capture end", "reset", "close", "reused")
NO_FRAME: Final = 0

FIELDS: Final = [
    ("flow", np.int64),  # row of the index's flow table
    ("first_row", np.int64),  # the session's rows are first_row..stop_row-1 of its flow
    ("stop_row", np.int64),
    ("flipped", np.uint8),  # side 0 is the flow's second endpoint
    ("client_side", np.uint8),
    ("client_basis", np.uint8),  # index into BASES
    ("packets", np.int64),
    ("first_frame", np.int64),
    ("last_frame", np.int64),
    ("first_ts", np.int64),
    ("last_ts", np.int64),
    ("data_packets0", np.int64),
    ("data_packets1", np.int64),
    ("kept0", np.int64),  # payload bytes reassembled
    ("kept1", np.int64),
    ("gaps0", np.int64),
    ("gaps1", np.int64),
    ("gap_bytes0", np.int64),
    ("gap_bytes1", np.int64),
    ("missing0", np.bool_),  # a gap that snaplen did not cause
    ("missing1", np.bool_),
    ("conflicts0", np.int64),
    ("conflicts1", np.int64),
    ("syn0", np.bool_),
    ("syn1", np.bool_),
    ("synack0", np.bool_),
    ("synack1", np.bool_),
    ("fin0", np.bool_),
    ("fin1", np.bool_),
    ("rst0", np.bool_),
    ("rst1", np.bool_),
    ("handshake", np.bool_),
    ("ended_by", np.uint8),  # index into ENDINGS
    ("truncated", np.bool_),
    ("monologues", np.int64),
]
SESSION: Final = np.dtype(FIELDS)
SessionRows = npt.NDArray[np.void]


def empty(count: int = 0) -> SessionRows:
    """``count`` zeroed session rows."""
    return np.zeros(count, dtype=SESSION)


def summarise(session: TcpSession, flow: int, first: int, stop: int, flipped: int) -> tuple[object, ...]:
    """One session row from a finished, replayed session."""
    s0, s1 = session.streams
    gaps0, gaps1 = s0.gaps, s1.gaps
    return (
        flow, first, stop, flipped, session.client_side, BASES.index(session.client_basis),
        session.packets, session.first_frame, session.last_frame, session.first_ts_ns, session.last_ts_ns,
        session.data_packets[0], session.data_packets[1], s0.kept, s1.kept,
        len(gaps0), len(gaps1), sum(g.length for g in gaps0), sum(g.length for g in gaps1),
        _missing(gaps0), _missing(gaps1),
        len(s0.conflicts), len(s1.conflicts),
        session.syn[0], session.syn[1], session.synack[0], session.synack[1],
        session.fin[0], session.fin[1], session.rst[0], session.rst[1],
        session.handshake, ENDINGS.index(session.ended_by or "capture end"), session.truncated,
        len(session.monologues),
    )  # fmt: skip


def _missing(gaps: list[Gap]) -> bool:
    return any(g.cause is not GapCause.SNAPLEN for g in gaps)
