"""Index rows grouped by flow, each flow's rows in capture order.

This is the shape both session paths read: numpy columns for the vectorised
one, Python lists of one flow at a time (``FlowRows``) for the exact replay.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import PacketIndex
from monoview.core.tcp.replay import FlowRows
from monoview.core.tcp.session import Parts

I64 = npt.NDArray[np.int64]
Array = npt.NDArray[np.generic]

# The columns a replay reads, in FlowRows' order.
REPLAY_COLUMNS: Final = ("frame", "ts", "flags", "seq", "ack", "payload", "caplen", "wirelen", "dir")


@dataclass
class GroupedRows:
    """Rows of some flows: group ``g`` is flow ``flows[g]``, rows ``bounds[g]``..``bounds[g+1]``-1."""

    flows: I64
    bounds: I64
    columns: dict[str, I64]  # REPLAY_COLUMNS, int64, in grouped order
    parts: dict[int, Parts]  # frame -> payload pieces, for rows reassembled from IP fragments

    def __len__(self) -> int:
        return len(self.flows)

    @property
    def counts(self) -> I64:
        """Rows per group."""
        return np.diff(self.bounds)

    @classmethod
    def of_index(cls, index: PacketIndex) -> GroupedRows:
        """Every flow of ``index``."""
        flow = index.columns["flow"]
        order = np.argsort(flow, kind="stable")
        counts = np.bincount(flow, minlength=len(index.flows)).astype(np.int64)
        bounds = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)])
        columns = {name: index.columns[name][order].astype(np.int64) for name in REPLAY_COLUMNS}
        return cls(np.arange(len(counts), dtype=np.int64), bounds, columns, index.parts)

    def flow_rows(self, groups: npt.NDArray[np.intp] | list[int]) -> tuple[FlowRows, list[tuple[int, int]]]:
        """The rows of the given groups, one after the other, and where each group's lie.

        The columns become ``array('q')`` (one copy at C speed, no Python
        object per value until a row is read), shared by all the groups.
        """
        groups = np.asarray(groups, dtype=np.intp)
        starts, stops = self.bounds[groups], self.bounds[groups + 1]
        lengths = stops - starts
        offsets = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lengths)])
        rows = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        columns = {name: array("q", self.columns[name][rows].tobytes()) for name in REPLAY_COLUMNS}
        spans = list(zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True))
        return FlowRows(**columns, parts=self.parts), spans
