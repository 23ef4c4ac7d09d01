"""The records reassembly produces besides bytes: gaps and conflicts."""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple


class GapCause(Enum):
    """Why bytes of a stream are absent from the capture."""

    NOT_CAPTURED = "not captured"  # the segment never reached the capture point
    SNAPLEN = "snaplen"  # the segment was captured, its tail cut by snaplen
    END = "end"  # after the last captured byte: the sender's FIN or the peer's ACK says more was sent


class Gap(NamedTuple):
    """``length`` bytes missing at stream ``offset`` (offsets count every byte on the wire).

    ``acked`` is true when the peer acknowledged past the hole, i.e. the
    receiver got bytes that the capture did not.
    """

    offset: int
    length: int
    acked: bool
    cause: GapCause


class Conflict(NamedTuple):
    """Two copies of the same stream bytes that differ.

    The first copy is the one kept in the stream; both can be read back from
    the capture file at their file offsets.
    """

    offset: int
    length: int
    kept_frame: int
    kept_file_offset: int
    other_frame: int
    other_file_offset: int
