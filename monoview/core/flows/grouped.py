"""Index rows grouped by flow, each flow's rows in capture order.

This is the shape both session paths read: numpy columns for the vectorised
one, Python lists of one flow at a time (``FlowRows``) for the exact replay.

The columns are kept compact (the index's own types, frame numbers and payload
offsets narrowed to int32 when every value fits): a shard's rows are all in a
worker's memory at once, and one flow may hold millions of them.  Whoever
computes on them takes int64 copies of a bounded number of rows (``wide``),
so no arithmetic ever wraps in a narrow type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import IndexParts, PacketIndex
from monoview.core.capture.records import PayloadParts
from monoview.core.tcp.replay import FlowRows

I64 = npt.NDArray[np.int64]
Array = npt.NDArray[np.generic]

# The columns a replay reads, in FlowRows' order.
REPLAY_COLUMNS: Final = ("frame", "ts", "flags", "seq", "ack", "payload", "caplen", "wirelen", "dir")


def as_q(values: npt.NDArray[np.int64]) -> memoryview:
    """``values`` as a memoryview: read from Python, an element is a plain int (a numpy
    element read builds a numpy scalar, several times slower), and nothing is copied."""
    return np.ascontiguousarray(values, dtype=np.int64).data


def compact_column(values: Array) -> Array:
    """``values`` in the narrowest of their own type and int32 that holds every one of them
    (int64 columns such as frame numbers and file offsets mostly fit in int32)."""
    fits = values.dtype == np.int64 and len(values)
    if fits and int(values.min()) >= -(1 << 31) and int(values.max()) < 1 << 31:
        return values.astype(np.int32)
    return values


def _grouping(column: Array) -> tuple[I64, I64, npt.NDArray[np.intp] | None]:
    """The flows present in a capture-order ``flow`` column, their groups' bounds, and the
    order that groups the rows (None when they already are: one flow, or flows in order).
    The column is read in its own integer type (no int64 copy of it)."""
    flow = cast(npt.NDArray[np.int64], column)
    present, counts = np.unique(flow, return_counts=True)
    bounds = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)])
    order = None if len(flow) < 2 or bool((flow[1:] >= flow[:-1]).all()) else np.argsort(flow, kind="stable")
    return present.astype(np.int64), bounds.astype(np.int64), order


@dataclass
class GroupedRows:
    """Rows of some flows: group ``g`` is flow ``flows[g]``, rows ``bounds[g]``..``bounds[g+1]``-1."""

    flows: I64
    bounds: I64
    columns: dict[str, Array]  # REPLAY_COLUMNS, compact types (``compact_column``), in grouped order
    parts: PayloadParts  # (frame, payload) -> pieces, for rows reassembled from IP fragments

    def __len__(self) -> int:
        return len(self.flows)

    @property
    def counts(self) -> I64:
        """Rows per group."""
        return np.diff(self.bounds)

    def slice(self, first: int, stop: int) -> GroupedRows:
        """Groups ``first``..``stop``-1 (their columns are views, nothing is copied)."""
        lo, hi = int(self.bounds[first]), int(self.bounds[stop])
        return GroupedRows(
            self.flows[first:stop],
            self.bounds[first : stop + 1] - lo,
            {name: values[lo:hi] for name, values in self.columns.items()},
            self.parts,
        )

    def keeping(self, kept: npt.NDArray[np.bool_]) -> GroupedRows:
        """The rows of the groups ``kept`` (per group) only; the others are left with none.
        Groups keep their numbers, and a kept group its rows.  The columns are replaced one
        at a time (this object's are dropped as their copies are made), so what is held at
        once is the rows kept and one column of the rest."""
        counts = np.where(kept, self.counts, 0)
        bounds = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)])
        rows = np.repeat(kept, self.counts)  # per row: its group is kept
        columns = {}
        for name in list(self.columns):
            columns[name] = self.columns.pop(name)[rows]
        return GroupedRows(self.flows, bounds, columns, self.parts)

    def wide(self, lo: int = 0, hi: int | None = None) -> dict[str, I64]:
        """Rows ``lo``..``hi``-1 (all by default) of every column as int64 copies."""
        return {name: values[lo:hi].astype(np.int64) for name, values in self.columns.items()}

    def chunks(self, rows: int) -> list[tuple[int, int]]:
        """Consecutive group ranges of about ``rows`` rows each (a bigger group alone)."""
        out = []
        first = 0
        while first < len(self):
            target = int(self.bounds[first]) + rows
            stop = int(np.searchsorted(self.bounds, target, side="right")) - 1
            stop = min(max(stop, first + 1), len(self))
            out.append((first, stop))
            first = stop
        return out

    @classmethod
    def of_index(cls, index: PacketIndex) -> GroupedRows:
        """Every flow of a capture-order index."""
        return cls.of_columns({name: index.columns[name] for name in (*REPLAY_COLUMNS, "flow")}, index.parts)

    @classmethod
    def of_parts(cls, parts: IndexParts, flows: I64 | None = None) -> GroupedRows:
        """The given flows (all if None) of an index in parts, read from its ranges.

        The flow column is read first, so that each other column is put in grouped
        order and narrowed as soon as it is read (``IndexParts.select``'s ``convert``):
        what is held at once is the grouped columns so far and the one being read.
        Reading them all in capture order first and grouping them after held both
        copies at once (a shard of the 1 GB capture: a 50 MB peak for 19 MB of rows,
        most of which the worker's heap kept after it was freed).
        """
        wanted = None
        if flows is not None:
            wanted = np.zeros(len(parts.flows), dtype=np.bool_)
            wanted[flows] = True
        flow = parts.select(wanted, ("flow",), convert=compact_column)["flow"]
        present, bounds, order = _grouping(flow)
        del flow

        def grouped(values: Array) -> Array:
            return compact_column(values if order is None else values[order])

        columns = parts.select(wanted, REPLAY_COLUMNS, convert=grouped)
        return cls(present, bounds, columns, parts.payload_parts)

    @classmethod
    def of_columns(cls, columns: dict[str, Array], parts: PayloadParts) -> GroupedRows:
        """Rows in capture order (with their ``flow``) grouped by flow."""
        present, bounds, order = _grouping(columns["flow"])
        grouped = {}
        for name in REPLAY_COLUMNS:
            values = columns[name]
            grouped[name] = compact_column(values if order is None else values[order])
        return cls(present, bounds, grouped, parts)

    def flow_rows(
        self, groups: npt.NDArray[np.intp] | list[int]
    ) -> tuple[FlowRows, list[tuple[int, int]], dict[str, I64]]:
        """The rows of the given groups, one after the other, where each group's lie, and
        the same columns as numpy arrays.

        The columns are memoryviews of numpy arrays (no Python object per value
        until a row is read), shared by all the groups.
        """
        groups = np.asarray(groups, dtype=np.intp)
        starts, stops = self.bounds[groups], self.bounds[groups + 1]
        lengths = stops - starts
        offsets = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lengths)])
        rows = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        picked = {name: self.columns[name][rows].astype(np.int64) for name in REPLAY_COLUMNS}
        columns = {name: as_q(values) for name, values in picked.items()}
        spans = list(zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True))
        return FlowRows(**columns, parts=self.parts), spans, picked

    def window(self, group: int, lo: int, hi: int) -> tuple[FlowRows, dict[str, I64]]:
        """Rows ``lo``..``hi``-1 of one group, as ``flow_rows`` gives a group's (a window of
        a giant flow, replayed a window at a time: ``replay.FlowReplay``)."""
        a, b = int(self.bounds[group]) + lo, int(self.bounds[group]) + hi
        picked = {name: self.columns[name][a:b].astype(np.int64) for name in REPLAY_COLUMNS}
        columns = {name: as_q(values) for name, values in picked.items()}
        return FlowRows(**columns, parts=self.parts), picked
