"""The packet index: one row per TCP packet of a capture, as numpy columns.

Built in one pass by worker processes that each open the file themselves and
take a byte range of it (:func:`index_range`), then stitched together here:
ranges are checked against each other's handoffs (and re-walked where a
re-synchronisation was wrong), frame numbers and contexts made global, IP
fragments reassembled in frame order, and flows numbered by first appearance.
The result does not depend on how many workers built it.

Payload never leaves the file: a row says where its payload is (``payload``,
``caplen``, ``wirelen``); the rare payload reassembled from IP fragments lies
in several places, listed in ``PacketIndex.parts`` by frame.
"""

from __future__ import annotations

import dataclasses
import mmap
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture import flowkeys
from monoview.core.capture.flowkeys import FlowKeys
from monoview.core.capture.fragments import Fragment, FragmentReassembler
from monoview.core.capture.frames import find_start, walk_range, whole_file
from monoview.core.capture.layout import Layout
from monoview.core.capture.scan import Rows, Scanner, ScanStats
from monoview.core.capture.source import CaptureFile
from monoview.core.capture.walk import Damage
from monoview.core.executor import default_workers, local_executor

I64 = npt.NDArray[np.int64]
Array = npt.NDArray[np.generic]

# Below this a file is indexed in one piece: a worker costs more than it saves.
MIN_RANGE_BYTES: Final = 32 << 20
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
    "flow": np.int32,  # row of PacketIndex.flows
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
    columns: dict[str, Array] | None = None
    files: dict[str, str] | None = None

    def column(self, name: str) -> Array:
        """One of the range's columns (loaded from its file if it was saved)."""
        if self.columns is not None:
            return self.columns[name]
        assert self.files is not None
        loaded: Array = np.load(self.files[name], mmap_mode="r")
        return loaded


def index_range(task: RangeTask) -> RangePart:
    """Walk, decode and group one range of a capture (runs in a worker process)."""
    with mapped(task.path) as buf:
        return _index_mapped(task, buf)


def _index_mapped(task: RangeTask, buf: mmap.mmap) -> RangePart:
    start = task.start if task.exact else find_start(buf, task.layout, task.start, task.stop)
    scanner = Scanner(buf)
    if start is None:
        return _part(task, None, task.start, 0, None, False, 0, scanner, [], [])
    walk = walk_range(buf, task.layout, start, task.stop)
    pieces: list[dict[str, Array]] = []
    keys: list[FlowKeys] = []
    for batch in walk.batches():
        rows = scanner.scan(batch)
        if len(rows):
            piece, batch_keys = _compact(rows, task.split_interfaces)
            pieces.append(piece)
            keys.append(batch_keys)
    return _part(
        task, start, walk.handoff, walk.frames, walk.damage, walk.needs_whole,
        walk.clamped_timestamps, scanner, pieces, keys,
    )  # fmt: skip


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


def _compact(rows: Rows, split_interfaces: bool) -> tuple[dict[str, Array], FlowKeys]:
    """A batch's rows as the index's column types, with its flows (``first`` as frames)."""
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
    return columns, keys


def _part(
    task: RangeTask,
    start: int | None,
    handoff: int,
    frames: int,
    damage: Damage | None,
    needs_whole: bool,
    clamped: int,
    scanner: Scanner,
    pieces: list[dict[str, Array]],
    keys: list[FlowKeys],
) -> RangePart:
    """Join a range's batches: their flows merged into one numbering, columns concatenated."""
    if keys:
        merged, maps = flowkeys.merge(keys)
        for piece, mapping in zip(pieces, maps, strict=True):
            piece["flow"] = mapping[piece["flow"]].astype(np.int32)
    else:
        merged = FlowKeys.empty()
    columns = {
        name: np.concatenate([p[name] for p in pieces])
        if pieces
        else np.zeros(0, dtype=COLUMNS.get(name, np.int32))
        for name in _PART_COLUMNS
    }
    part = RangePart(
        task, start, handoff, frames, len(columns["frame"]), damage, needs_whole, clamped,
        scanner.stats, scanner.contexts, scanner.fragments, merged,
    )  # fmt: skip
    if task.folder is None:
        part.columns = columns
    else:
        part.files = {}
        for name, values in columns.items():
            target = os.path.join(task.folder, f"{task.label}-{name}.npy")
            np.save(target, values)
            part.files[name] = target
    return part


# -- the index ----------------------------------------------------------------------


@dataclass
class IndexStats:
    """Counts over every frame read (the capture summary)."""

    frames: int = 0
    tcp_packets: int = 0
    skipped: Counter[str] = field(default_factory=Counter)  # Skip reason -> frames
    unsupported_link_types: Counter[str] = field(default_factory=Counter)  # name -> frames
    incomplete_fragments: int = 0  # IP fragments of TCP datagrams never completed
    clamped_timestamps: int = 0  # timestamps beyond int64 nanoseconds

    @property
    def non_tcp(self) -> int:
        """Frames that produced no TCP packet, whatever the reason."""
        return self.frames - self.tcp_packets

    def warnings(self) -> list[str]:
        """One sentence per thing the user should know about skipped frames."""
        notes = [
            f"{count:,} frames of unsupported link type {name} were skipped"
            for name, count in self.unsupported_link_types.items()
        ]
        if self.incomplete_fragments:
            notes.append(
                f"{self.incomplete_fragments:,} IP fragments of TCP packets never completed a datagram"
            )
        if self.clamped_timestamps:
            notes.append(
                f"{self.clamped_timestamps:,} timestamps lie beyond the year 2262 and were clamped to it"
            )
        return notes


@dataclass
class FlowTable:
    """One row per flow (both endpoints and a context), in order of first appearance."""

    keys: FlowKeys
    contexts: list[tuple[int, ...]]  # VLAN tag tuples; a key's context is vlan << 32 | interface + 1
    split_interfaces: bool

    def __len__(self) -> int:
        return len(self.keys)

    def context(self, flow: int) -> tuple[int, ...]:
        """The flow's context: VLAN tags outermost first, then ``-1 - interface`` when split."""
        code = int(self.keys.context[flow])
        vlan = self.contexts[code >> 32]
        if self.split_interfaces:
            return (*vlan, -1 - ((code & 0xFFFFFFFF) - 1))
        return vlan

    def endpoints(self, flow: int) -> tuple[tuple[bytes, int], tuple[bytes, int]]:
        """The flow's two endpoints, (address bytes, port), the lower one first."""
        k = self.keys
        six = int(k.family[flow]) == 6

        def address(hi: int, lo: int) -> bytes:
            return hi.to_bytes(8, "big") + lo.to_bytes(8, "big") if six else lo.to_bytes(4, "big")

        a = (address(int(k.a_hi[flow]), int(k.a_lo[flow])), int(k.a_port[flow]))
        b = (address(int(k.b_hi[flow]), int(k.b_lo[flow])), int(k.b_port[flow]))
        return a, b


@dataclass
class PacketIndex:
    """Every TCP packet of a capture as columns (see COLUMNS), and the flows they form."""

    path: Path
    size: int
    format: str
    columns: dict[str, Array]
    flows: FlowTable
    parts: dict[int, tuple[tuple[int, int, int], ...]]  # frame -> (file offset, captured, wire) per piece
    stats: IndexStats
    read_error: str | None = None

    def __len__(self) -> int:
        return len(self.columns["frame"])

    def __getattr__(self, name: str) -> Array:
        columns = self.__dict__.get("columns")
        if columns is not None and name in columns:
            column: Array = columns[name]
            return column
        raise AttributeError(name)

    def close(self) -> None:
        """Drop the columns."""
        self.columns = {}


def build_index(
    path: str | os.PathLike[str],
    *,
    split_interfaces: bool = False,
    workers: int | None = None,
    executor: Executor | None = None,
    folder: str | os.PathLike[str] | None = None,
    min_range: int = MIN_RANGE_BYTES,
) -> PacketIndex:
    """Index the capture at ``path``; raise CaptureFormatError if it is no capture.

    Damage in the file is reported by ``read_error``; everything before it is
    indexed.  The file is cut into ``workers`` ranges of at least ``min_range``
    bytes, indexed in ``executor`` (by default a local pool of that many
    processes).  Worker processes hand their columns over as files in
    ``folder`` (by default a temporary folder, removed at the end).
    """
    capture = CaptureFile.open(path)
    try:
        layout = capture.layout
        count = max(1, min(default_workers() if workers is None else workers, layout.size // min_range))
        if layout.format == "pcapng" and not layout.interfaces:
            count = 1  # the interfaces come later in the file: only a walk from the start knows them
        owns = folder is None and (count > 1 or executor is not None)
        where = (
            Path(tempfile.mkdtemp(prefix="monoview-index-")) if owns else (Path(folder) if folder else None)
        )
        try:
            tasks = _tasks(capture, layout, count, split_interfaces, None if where is None else str(where))
            if executor is not None:
                parts = [f.result() for f in [executor.submit(index_range, t) for t in tasks]]
            else:
                with local_executor(len(tasks)) as pool:
                    parts = [f.result() for f in [pool.submit(index_range, t) for t in tasks]]
            return _assemble(capture, _stitched(parts, capture, layout), split_interfaces)
        finally:
            if owns and where is not None:
                shutil.rmtree(where, ignore_errors=True)
    finally:
        capture.close()


def _tasks(
    capture: CaptureFile, layout: Layout, count: int, split: bool, folder: str | None
) -> list[RangeTask]:
    start = 0 if layout.format == "pcapng" else layout.first_record
    bounds = [start] + [layout.size * k // count for k in range(1, count)] + [layout.size]
    return [
        RangeTask(
            str(capture.path),
            layout,
            a,
            b,
            exact=k == 0,
            split_interfaces=split,
            folder=folder,
            label=f"range{k}",
        )  # fmt: skip
        for k, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False))
    ]


def _stitched(parts: list[RangePart], capture: CaptureFile, layout: Layout) -> list[RangePart]:
    """The parts that make up the file, in order: each range must begin where the previous
    one handed off; one that does not (a wrong re-synchronisation) is walked again from
    there, and anything after damage is dropped."""
    if any(p.needs_whole for p in parts):
        whole = dataclasses.replace(parts[0].task, start=0, stop=layout.size, exact=True, label="whole")
        if layout.format != "pcapng":
            whole = dataclasses.replace(whole, start=layout.first_record)
        return [index_range(whole)]
    out = [parts[0]]
    for part in parts[1:]:
        previous = out[-1]
        if previous.damage is not None:
            break
        expected = previous.handoff
        if expected >= part.task.stop:
            continue  # one record spans the whole range
        if part.start != expected:
            part = index_range(
                dataclasses.replace(part.task, start=expected, exact=True, label=part.task.label + "b")
            )
        out.append(part)
    return out


def _assemble(capture: CaptureFile, parts: list[RangePart], split: bool) -> PacketIndex:
    """One index from the stitched parts."""
    stats = IndexStats()
    bases = np.cumsum([0] + [p.frames for p in parts]).tolist()
    stats.frames = bases[-1]
    contexts: list[tuple[int, ...]] = [()]
    known: dict[tuple[int, ...], int] = {(): 0}

    def context_id(tags: tuple[int, ...]) -> int:
        if tags not in known:
            known[tags] = len(contexts)
            contexts.append(tags)
        return known[tags]

    vlan_maps: list[I64] = []
    key_parts: list[FlowKeys] = []
    for part, base in zip(parts, bases, strict=False):
        stats.skipped.update(part.stats.skipped)
        stats.unsupported_link_types.update(part.stats.unsupported_link_types)
        stats.clamped_timestamps += part.clamped_timestamps
        vlan_map = np.array([context_id(c) for c in part.contexts], dtype=np.int64)
        vlan_maps.append(vlan_map)
        keys = dataclasses.replace(part.keys)
        keys.context = vlan_map[keys.context >> 32] << 32 | (keys.context & 0xFFFFFFFF)
        keys.first = keys.first + base
        key_parts.append(keys)
    # IP fragments, in frame order across all ranges.
    buf = capture.buffer
    reassembler = FragmentReassembler()
    scanner = Scanner(buf)
    whole = []
    for part, base in zip(parts, bases, strict=False):
        for fragment in part.fragments:
            packet = reassembler.add(buf, dataclasses.replace(fragment, frame=fragment.frame + base))
            if packet is None:
                stats.skipped["IP fragment"] += 1
            else:
                whole.append(packet)
    stats.incomplete_fragments = reassembler.finish()
    fragment_rows = scanner.packet_rows(whole)
    fragment_columns: dict[str, Array] | None = None
    if len(fragment_rows):
        fragment_rows.vlan = np.array([context_id(c) for c in scanner.contexts], dtype=np.int64)[
            fragment_rows.vlan
        ]
        fragment_columns, keys = _compact(fragment_rows, split)
        key_parts.append(keys)
    flows, mappings = flowkeys.merge(key_parts)
    total = sum(p.rows for p in parts) + (0 if fragment_columns is None else len(fragment_columns["frame"]))
    columns = _allocate(total, stats.frames, capture.size)
    at = 0
    for k, (part, base) in enumerate(zip(parts, bases, strict=False)):
        n = part.rows
        for name, target in columns.items():
            source = part.column(name)
            if name == "frame":
                target[at : at + n] = source + base
            elif name == "flow":
                target[at : at + n] = mappings[k][source]
            else:
                target[at : at + n] = source
        at += n
    parts_by_frame: dict[int, tuple[tuple[int, int, int], ...]] = {}
    if fragment_columns is not None:
        for name, target in columns.items():
            source = fragment_columns[name]
            target[at:] = mappings[-1][source] if name == "flow" else source
        order = np.argsort(columns["frame"], kind="stable")
        for name in columns:
            columns[name][:] = columns[name][order]
        parts_by_frame = {p.frame: p.payload_parts for p in whole if p.payload_parts is not None}
    for part in parts:
        for file in (part.files or {}).values():
            Path(file).unlink(missing_ok=True)
    stats.tcp_packets = total
    damaged = next((p for p in parts if p.damage is not None), None)
    read_error = None
    if damaged is not None and damaged.damage is not None:
        read_error = str(damaged.damage.error(capture.name, bases[parts.index(damaged)]))
    return PacketIndex(
        capture.path, capture.size, capture.format, columns, FlowTable(flows, contexts, split),
        parts_by_frame, stats, read_error,
    )  # fmt: skip


def _allocate(rows: int, frames: int, size: int) -> dict[str, Array]:
    """Empty index columns (in memory: large numpy arrays get transparent huge pages,
    far cheaper to fill than fresh pages of a memory-mapped file)."""
    types = dict(COLUMNS)
    if frames < 1 << 31:
        types["frame"] = np.int32
    if size < 1 << 31:
        types["payload"] = np.int32
    return {name: np.empty(rows, dtype=dtype) for name, dtype in types.items()}


__all__ = ["COLUMNS", "FlowTable", "IndexStats", "PacketIndex", "build_index", "index_range", "whole_file"]
