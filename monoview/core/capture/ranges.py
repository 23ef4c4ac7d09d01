"""One byte range of a capture, indexed by a worker process.

Each worker opens the file itself, re-synchronises on a record boundary after
its range's start, walks and scans the records that start in the range and
groups its TCP rows into flows (numbered within the range).  It hands back
small facts and its columns as ``.npy`` files in a folder the caller chose
(or, in the calling process, as arrays), never Python objects per packet.
``index.build_parts`` stitches the ranges together.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture import flowkeys
from monoview.core.capture.columnfiles import ColumnFiles, spooled_paths
from monoview.core.capture.flowkeys import FlowKeys
from monoview.core.capture.fragments import Fragment
from monoview.core.capture.frames import find_start, walk_range
from monoview.core.capture.layout import Layout
from monoview.core.capture.outerpath import OuterPath, distinct, flow_paths, no_pairs
from monoview.core.capture.scan import Scanner, ScanStats
from monoview.core.capture.scanrows import Rows
from monoview.core.capture.walk import BATCH_RECORDS, Damage

Array = npt.NDArray[np.generic]

# The index's columns and their types (frame and payload are narrowed to int32 when they fit).
COLUMNS: Final = {
    "frame": np.int64,  # frame number, 1-based, across the whole file
    "ts": np.int64,  # capture time, ns since the epoch
    "payload": np.int64,  # file offset of the first payload byte
    "caplen": np.int32,  # payload bytes captured
    "wirelen": np.int32,  # payload bytes on the wire
    "seq": np.uint32,
    "ack": np.uint32,
    "flags": np.uint16,
    "window": np.uint16,
    "interface": np.int32,
    "flow": np.int32,  # row of the flow table
    "dir": np.uint8,  # 1 when sent by the flow's second endpoint
}
_PART_COLUMNS: Final = ("frame", "ts", "payload", "caplen", "wirelen", "seq", "ack", "flags", "window",
                        "interface", "vlan", "flow", "dir")  # fmt: skip


@dataclass(frozen=True)
class RangeTask:
    """Index the records that start in ``[start, stop)`` of the capture at ``path``.

    ``exact``: ``start`` is known to be a record boundary (else one is looked
    for).  ``folder``: where to leave the columns as ``.npy`` files (None:
    return them in the result, for work done in this process).
    """

    path: str
    layout: Layout
    start: int
    stop: int
    exact: bool
    split_interfaces: bool
    folder: str | None = None
    label: str = "part"
    batch: int = BATCH_RECORDS  # records walked and scanned at a time
    # Columns of at most this many bytes stay in the result even with a folder (work done in
    # this process: writing them out and mapping them back would only cost time).
    keep_bytes: int = 0


@dataclass
class RangePart:
    """What indexing one range found; frame numbers count from the range's first frame."""

    task: RangeTask
    start: int | None  # the record boundary the walk began at (None: no record starts in the range)
    handoff: int
    frames: int
    rows: int
    damage: Damage | None
    needs_whole: bool
    clamped_timestamps: int
    stats: ScanStats
    contexts: list[tuple[int, ...]]
    fragments: list[Fragment]
    keys: FlowKeys  # the range's flows; ``context`` holds vlan << 32 | (interface + 1 when split)
    counts: npt.NDArray[np.int64]  # rows of each of the range's flows
    # The outer paths seen (``outerpath``), and the flows' distinct (flow, path) pairs.
    paths: list[OuterPath] = field(default_factory=lambda: [()])
    outer: npt.NDArray[np.int64] = field(default_factory=no_pairs)
    columns: dict[str, Array] | None = None
    files: dict[str, str] | None = None
    # Saved columns mapped so far in this process (never pickled: a worker maps its own).
    _mapped: dict[str, Array] = field(default_factory=dict, repr=False, compare=False)
    # Where the file begins in a set's virtual offsets (added to ``payload`` when read).
    payload_base: int = 0

    def in_capture(self, name: str, values: Array, frame_base: int) -> Array:
        """``values`` of column ``name`` as the whole capture numbers them: frames counted
        from ``frame_base`` (the frames before this range), payload offsets in a set's
        virtual address space (``payload_base``)."""
        if name == "frame":
            return values + frame_base
        if name == "payload" and self.payload_base:
            return values + self.payload_base
        return values

    def column(self, name: str) -> Array:
        """One of the range's columns (its file mapped once per process, if it was saved)."""
        if self.columns is not None:
            return self.columns[name]
        found = self._mapped.get(name)
        if found is None:
            assert self.files is not None
            found = self._mapped[name] = np.load(self.files[name], mmap_mode="r")
        return found

    def __getstate__(self) -> dict[str, object]:
        """Pickle without the mapped columns (they would travel as whole arrays)."""
        state = dict(self.__dict__)
        state["_mapped"] = {}
        return state

    def forget_merged(self) -> None:
        """Let go of what the merge into the whole index has taken over (the range's flow keys,
        their row counts and outer paths, its fragments): the index keeps every range for its
        life and pickles it into every worker task, and the keys are some 100 bytes a flow
        (300,000 SYNs to distinct tuples: 30 MB held twice, and sent with each task)."""
        self.keys, self.outer, self.fragments = FlowKeys.empty(), no_pairs(), []
        self.counts = np.zeros(0, dtype=np.int64)

    def unmap(self) -> None:
        """Forget the mapped columns (before their files are removed)."""
        self._mapped.clear()


def index_range(task: RangeTask) -> RangePart:
    """Walk, decode and group one range of a capture (runs in a worker process)."""
    with mapped(task.path) as buf:
        return _index_mapped(task, buf)


def _index_mapped(task: RangeTask, buf: mmap.mmap) -> RangePart:
    start = task.start if task.exact else find_start(buf, task.layout, task.start, task.stop)
    scanner = Scanner(buf)
    # Columns to be saved go to their files batch by batch (``columnfiles``) once they are more
    # than ``keep_bytes``: only a batch is held then.
    pieces: list[dict[str, Array]] | ColumnFiles = []
    held = 0
    if start is None:
        return _part(task, None, task.start, 0, None, False, 0, scanner, pieces, [], [])
    walk = walk_range(buf, task.layout, start, task.stop, task.batch)
    keys: list[FlowKeys] = []
    outer: list[npt.NDArray[np.int64]] = []
    try:
        for batch in walk.batches():
            rows = scanner.scan(batch)
            if len(rows):
                piece, batch_keys, batch_outer = compact(rows, task.split_interfaces)
                pieces.append(piece)
                held += sum(values.nbytes for values in piece.values())
                del piece
                if task.folder is not None and isinstance(pieces, list) and held > task.keep_bytes:
                    spilled = ColumnFiles(spooled_paths(task.folder, task.label, _PART_COLUMNS))
                    for kept in pieces:
                        spilled.append(kept)
                    pieces = spilled
                keys.append(batch_keys)
                outer.append(batch_outer)
        return _part(
            task, start, walk.handoff, walk.frames, walk.damage, walk.needs_whole,
            walk.clamped_timestamps, scanner, pieces, keys, outer,
        )  # fmt: skip
    finally:
        if isinstance(pieces, ColumnFiles):
            pieces.close()


@contextmanager
def mapped(path: str | os.PathLike[str]) -> Iterator[mmap.mmap]:
    """The file at ``path`` mapped read-only for the duration of a ``with`` block.

    Arrays that still view the map when the block ends (a traceback keeping a
    frame alive) keep it open until they are gone, instead of failing the close.
    """
    with open(path, "rb") as handle:
        buf = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        try:
            yield buf
        finally:
            with suppress(BufferError):
                buf.close()


def compact(rows: Rows, split_interfaces: bool) -> tuple[dict[str, Array], FlowKeys, npt.NDArray[np.int64]]:
    """A batch's rows as the index's column types, with its flows (``first`` as frames) and
    their distinct (flow, outer path) pairs (``outerpath.flow_paths``)."""
    context = rows.vlan << 32
    if split_interfaces:
        context = context | (rows.interface + 1)
    keys, flow, swapped = flowkeys.row_flows(rows, context)
    keys.first = rows.frame[keys.first]
    columns: dict[str, Array] = {
        name: getattr(rows, name).astype(COLUMNS.get(name, np.int64))
        for name in (
            "frame",
            "ts",
            "payload",
            "caplen",
            "wirelen",
            "seq",
            "ack",
            "flags",
            "window",
            "interface",
        )
    }
    columns["vlan"] = rows.vlan.astype(np.int32)
    columns["flow"] = flow.astype(np.int32)
    columns["dir"] = swapped.astype(np.uint8)
    return columns, keys, flow_paths(flow.astype(np.int64), rows.path, len(keys))


def _part(
    task: RangeTask,
    start: int | None,
    handoff: int,
    frames: int,
    damage: Damage | None,
    needs_whole: bool,
    clamped: int,
    scanner: Scanner,
    pieces: list[dict[str, Array]] | ColumnFiles,
    keys: list[FlowKeys],
    outer: list[npt.NDArray[np.int64]],
) -> RangePart:
    """Join a range's batches: their flows merged into one numbering, columns concatenated
    (or, spooled to files, finished there)."""
    pairs = no_pairs()
    maps: list[npt.NDArray[np.int64]] = []
    if keys:
        merged, maps = flowkeys.merge(keys)
        for found, mapping in zip(outer, maps, strict=True):
            found[:, 0] = mapping[found[:, 0]]
        pairs = distinct(np.concatenate(outer))
    else:
        merged = FlowKeys.empty()
    empty = {name: np.dtype(COLUMNS.get(name, np.int32)) for name in _PART_COLUMNS}
    if isinstance(pieces, ColumnFiles):
        files = pieces.finish(empty)
        counts = pieces.remap("flow", maps, len(merged))
        rows, columns = pieces.rows, None
    else:
        for piece, mapping in zip(pieces, maps, strict=True):
            piece["flow"] = mapping[piece["flow"]].astype(np.int32)
        columns = {
            name: np.concatenate([p[name] for p in pieces]) if pieces else np.zeros(0, dtype=empty[name])
            for name in _PART_COLUMNS
        }
        counts = np.bincount(columns["flow"], minlength=len(merged)).astype(np.int64)
        rows, files = len(columns["frame"]), None
    part = RangePart(
        task, start, handoff, frames, rows, damage, needs_whole, clamped,
        scanner.stats, scanner.contexts, scanner.fragments, merged, counts, scanner.paths.paths, pairs,
    )  # fmt: skip
    part.columns, part.files = columns, files
    return part
