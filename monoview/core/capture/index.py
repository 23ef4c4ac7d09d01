"""The packet index: one row per TCP packet of a capture, as numpy columns.

``build_parts`` cuts the file into byte ranges, has each indexed by a worker
(``ranges.index_range``), then stitches them: every range must begin where
the previous one handed off (a wrong re-synchronisation is walked again),
frame numbers and contexts become global, IP fragments are reassembled in
frame order, and flows are numbered by first appearance.  The ranges' columns
stay where the workers left them; :class:`IndexParts` reads them as a whole
(``assemble``, the capture-order :class:`PacketIndex`) or flow by flow
(``select``), so the parent never copies what it does not need.  Nothing
depends on how many workers built it.

Payload never leaves the file: a row says where its payload is (``payload``,
``caplen``, ``wirelen``); a payload reassembled from IP fragments lies in
several places, listed in ``payload_parts`` by frame and payload offset (one frame may
complete several datagrams: ``records.PayloadParts``).

A set of files (``captureset.CaptureSet``) is one capture: every member's
ranges are indexed in the same pool, each member is stitched on its own
(damage in one loses only the rest of that one), and the merge numbers frames
and flows across all of them; a range's ``payload_base`` (its member's place
in the set) turns its file offsets into the set's.  The containers are in
``indexparts``.
"""

from __future__ import annotations

import dataclasses
import os
from array import array
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture import flowkeys
from monoview.core.capture.captureset import CaptureSet
from monoview.core.capture.decode import reassembler
from monoview.core.capture.flowkeys import FlowKeys
from monoview.core.capture.indexparts import SUBFRAME_POSITION, FlowTable, IndexParts, IndexStats, PacketIndex
from monoview.core.capture.layout import Layout
from monoview.core.capture.oneway import one_way_joins
from monoview.core.capture.outerpath import PathTable, distinct, no_pairs
from monoview.core.capture.ranges import RangePart, RangeTask, compact, index_range
from monoview.core.capture.scan import Scanner
from monoview.core.capture.source import CaptureFile
from monoview.core.capture.walk import BATCH_RECORDS
from monoview.core.executor import Progress, default_workers, gather, local_executor
from monoview.core.packet import TcpPacket
from monoview.core.terminate import tracked, untracked

I64 = npt.NDArray[np.int64]
Array = npt.NDArray[np.generic]

# Below this a file is indexed in one piece: a worker costs more than it saves.
MIN_RANGE_BYTES: Final = 32 << 20
# Ranges per worker process when the index is built in parallel.
RANGES_PER_WORKER: Final = 4


def build_parts(
    path: str | os.PathLike[str] | CaptureSet,
    *,
    split_interfaces: bool = False,
    workers: int | None = None,
    executor: Executor | None = None,
    folder: str | os.PathLike[str] | None = None,
    min_range: int = MIN_RANGE_BYTES,
    batch: int = BATCH_RECORDS,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
    prefix: int | None = None,
    keep_bytes: int = 0,
) -> IndexParts:
    """Index the capture at ``path`` (or the files of a set, as one capture) in ranges; raise
    CaptureFormatError if it is no capture.

    Damage in the file is reported by ``read_error``; everything before it is
    indexed (in a set, the damaged member's rest is lost, the other members are
    read).  Each file is cut into ``workers`` ranges of at least
    ``min_range`` bytes (walked ``batch`` records at a time), indexed in
    ``executor`` (by default a local pool of that many processes).  Worker
    processes leave their columns as files in ``folder`` (by default a
    temporary folder, removed by ``close``).  ``progress`` and ``cancel`` are
    as for ``executor.gather``.  ``prefix``: index only the records that start in
    the first ``prefix`` bytes of each file (the capture's beginning, which a
    window shows while the whole is read: the same index a capture cut there
    would have).  ``keep_bytes``: a range whose columns are no bigger keeps them in
    memory, folder or not (for an index built in this process: see ``RangeTask``).
    """
    source = path if isinstance(path, CaptureSet) else None
    if isinstance(path, CaptureSet):
        paths, bases = list(path.paths), list(path.bases)
    else:
        paths, bases = [Path(path)], [0]
    members: list[CaptureFile] = []
    try:
        for member in paths:
            members.append(CaptureFile.open(member))
        workers = default_workers() if workers is None else workers
        # A few ranges per worker: a range's columns are in its worker's memory at once.
        wanted = workers * RANGES_PER_WORKER if workers > 1 else 1
        ends = [m.layout.size if prefix is None else min(m.layout.size, prefix) for m in members]
        counts = [_range_count(m.layout, e, wanted, min_range) for m, e in zip(members, ends, strict=True)]
        parallel = sum(counts) > 1 or executor is not None
        owned = _index_folder() if parallel and folder is None else None
        where = owned or (os.fspath(folder) if folder is not None else None)
        tasks = [
            dataclasses.replace(
                t, batch=batch, label=t.label if source is None else f"m{k}-{t.label}", keep_bytes=keep_bytes
            )
            for k, (m, end, count) in enumerate(zip(members, ends, counts, strict=True))
            for t in _tasks(m, m.layout, end, count, split_interfaces, where)
        ]
        try:
            if executor is not None:
                ranges = gather(executor, index_range, tasks, progress=progress, cancel=cancel)
            else:
                with local_executor(min(len(tasks), workers)) as pool:
                    ranges = gather(pool, index_range, tasks, progress=progress, cancel=cancel)
            stitched, at = [], 0
            for m, end, count, base in zip(members, ends, counts, bases, strict=True):
                own = _stitched(ranges[at : at + count], m.layout, end)
                for part in own:
                    part.payload_base = base
                stitched.append(own)
                at += count
            parts = _merged(members, stitched, split_interfaces, source)
            # beside the ranges' columns, and mapped as they are (none: all kept in memory)
            if where is not None and any(p.files for own in stitched for p in own):
                parts.flows = parts.flows.saved(where)
        except BaseException:
            if owned is not None:
                import shutil  # only here, and in ``IndexParts.close``

                shutil.rmtree(owned, ignore_errors=True)
                untracked(owned)
            raise
        parts.folder = owned
        return parts
    finally:
        for m in members:
            m.close()


def _index_folder() -> str:
    """A new temporary folder for the workers' column files (removed by ``IndexParts.close``);
    ``tempfile`` imported only here, as one process indexing a small capture needs none."""
    import tempfile

    return tracked(tempfile.mkdtemp(prefix="monoview-index-"))


def _range_count(layout: Layout, end: int, wanted: int, min_range: int) -> int:
    if layout.format == "pcapng" and not layout.interfaces:
        return 1  # the interfaces come later in the file: only a walk from the start knows them
    return max(1, min(wanted, end // min_range))


def build_index(path: str | os.PathLike[str], **options: object) -> PacketIndex:
    """The whole index of ``path`` in capture order (``build_parts`` options)."""
    parts = build_parts(path, **options)  # type: ignore[arg-type]
    try:
        return parts.assemble()
    finally:
        parts.close()


def _tasks(
    capture: CaptureFile, layout: Layout, end: int, count: int, split: bool, folder: str | None
) -> list[RangeTask]:
    """``count`` ranges of the file's records that start before byte ``end``."""
    start = 0 if layout.format == "pcapng" else layout.first_record
    bounds = [start] + [end * k // count for k in range(1, count)] + [end]
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


def _stitched(parts: list[RangePart], layout: Layout, end: int) -> list[RangePart]:
    """The ranges that make up the file, in order: each must begin where the previous one
    handed off; one that does not (a wrong re-synchronisation) is walked again from
    there, and anything after damage is dropped.  A range that meets what only a walk
    from the start can read (a pcapng section header or interface block), even when
    walked again, makes it one walk of the whole file."""

    def whole() -> list[RangePart]:
        start = 0 if layout.format == "pcapng" else layout.first_record
        task = dataclasses.replace(parts[0].task, start=start, stop=end, exact=True, label="whole")
        return [index_range(task)]

    if any(p.needs_whole for p in parts):
        return whole()
    out = [parts[0]]
    for part in parts[1:]:
        previous = out[-1]
        if previous.damage is not None:
            break
        expected = previous.handoff
        if expected >= part.task.stop:
            continue  # one record spans the whole range
        if part.start != expected:
            again = dataclasses.replace(part.task, start=expected, exact=True, label=part.task.label + "b")
            part = index_range(again)
            if part.needs_whole:
                return whole()
        out.append(part)
    return out


def _merged(
    members: list[CaptureFile], stitched: list[list[RangePart]], split: bool, source: CaptureSet | None
) -> IndexParts:
    """Global frames, contexts and flows for the stitched ranges of every member (one flow
    table across the files of a set), and their fragments reassembled (within each file)."""
    stats = IndexStats()
    ranges = [part for own in stitched for part in own]
    bases = np.cumsum([0] + [p.frames for p in ranges]).tolist()
    stats.frames = bases[-1]
    contexts: list[tuple[int, ...]] = [()]
    known: dict[tuple[int, ...], int] = {(): 0}

    def context_id(tags: tuple[int, ...]) -> int:
        if tags not in known:
            known[tags] = len(contexts)
            contexts.append(tags)
        return known[tags]

    key_parts: list[FlowKeys] = []
    counts: list[I64] = []
    paths = PathTable()
    outer: list[I64] = []  # (range flow, global path) per range, then the fragments'
    for part, base in zip(ranges, bases, strict=False):
        path_map = np.array([paths.id(p) for p in part.paths], dtype=np.int64)
        outer.append(np.stack([part.outer[:, 0], path_map[part.outer[:, 1]]], axis=1))
        stats.merge(part.stats, base)
        stats.clamped_timestamps += part.clamped_timestamps
        vlan_map = np.array([context_id(c) for c in part.contexts], dtype=np.int64)
        keys = dataclasses.replace(part.keys)
        keys.context = vlan_map[keys.context >> 32] << 32 | (keys.context & 0xFFFFFFFF)
        keys.first = keys.first + base
        key_parts.append(keys)
        counts.append(part.counts)
    # IP fragments, in frame order across all ranges (a datagram is whole within one file).
    whole: list[TcpPacket] = []
    depends = array("q")  # (completing frame, a fragment's frame), flat: 16 bytes a fragment
    positions = array("q")  # per packet of ``whole``: where in its frame the completing fragment is
    at, completed = 0, -1  # completed: the frame that completed the last datagram
    for member, own in zip(members, stitched, strict=True):
        buf, fragments = member.buffer, reassembler()
        for part in own:
            for fragment in part.fragments:
                frame = fragment.frame + bases[at]
                packets = fragments.add(buf, dataclasses.replace(fragment, frame=frame))
                if not packets:
                    stats.skipped["IP fragment"] += 1
                    continue
                # Packets after their frame's first (``aggregated``): one frame may complete
                # several datagrams, a datagram may hold several packets (an A-MSDU's).
                first = not fragment.beside and frame != completed
                stats.aggregated += len(packets) - first
                completed = frame
                whole.extend(_shifted(packet, part.payload_base) for packet in packets)
                positions.extend([fragment.data_offset + part.payload_base] * len(packets))
                for fragment_frame in fragments.fragment_frames:
                    depends.extend((frame, fragment_frame))
            at += 1
        stats.incomplete_fragments += fragments.finish()
    scanner = Scanner(members[0].buffer)
    extra = None
    fragment_rows = scanner.packet_rows(whole)
    if len(fragment_rows):
        fragment_rows.vlan = np.array([context_id(c) for c in scanner.contexts], dtype=np.int64)[
            fragment_rows.vlan
        ]
        fragment_rows.path = np.array([paths.id(p) for p in scanner.paths.paths], dtype=np.int64)[
            fragment_rows.path
        ]
        extra, keys, extra_outer = compact(fragment_rows, split)
        extra[SUBFRAME_POSITION] = np.frombuffer(positions, dtype=np.int64).copy()
        outer.append(extra_outer)
        key_parts.append(keys)
        counts.append(np.bincount(extra["flow"], minlength=len(keys)).astype(np.int64))
    flows, mappings = flowkeys.merge(key_parts)
    for found, mapping in zip(outer, mappings, strict=True):
        found[:, 0] = mapping[found[:, 0]]
    pairs = distinct(np.concatenate(outer)) if outer else no_pairs()
    rows = np.zeros(len(flows), dtype=np.int64)
    for mapping, count in zip(mappings, counts, strict=True):
        np.add.at(rows, mapping, count)
    if extra is not None:
        extra["flow"] = mappings[-1][extra["flow"]]
        mappings = mappings[:-1]
    stats.tcp_packets = int(rows.sum())
    errors, at = [], 0
    for member, own in zip(members, stitched, strict=True):
        for part in own:
            if part.damage is not None:
                error = str(part.damage.error(member.name, bases[at]))
                if source is not None:  # which part of which file is lost
                    lost = f"bytes {part.damage.offset:,} to {member.size:,} of {member.name}"
                    error = f"{error.rstrip('.')}; {lost} are not read, the other files are."
                errors.append(error)
            at += 1
    read_error = " ".join(errors) if errors else None
    payload_parts = {(p.frame, p.payload_offset): p.payload_parts for p in whole if p.payload_parts}
    for part in ranges:
        part.forget_merged()
    formats = list(dict.fromkeys(m.format for m in members))
    size = sum(m.size for m in members)
    parts = IndexParts(
        members[0].path, size, "+".join(formats), ranges, bases[:-1], mappings, extra,
        FlowTable(flows, contexts, split, rows, paths.paths, pairs), payload_parts, stats, read_error,
        source=source, fragment_frames=np.frombuffer(depends, dtype=np.int64).reshape(-1, 2).copy(),
    )  # fmt: skip
    renumbered = one_way_joins(flows, lambda wanted: parts.select(wanted, ("frame", "dir", "flow")))
    return parts if renumbered is None else _joined(parts, renumbered)


def _shifted(packet: TcpPacket, base: int) -> TcpPacket:
    """A reassembled packet with its payload's offsets in the set's virtual offsets."""
    if base:
        packet.payload_offset += base
        if packet.payload_parts is not None:
            packet.payload_parts = tuple((o + base, c, w) for o, c, w in packet.payload_parts)
    return packet


def _joined(parts: IndexParts, renumbered: I64) -> IndexParts:
    """``parts`` with flows renumbered (a one-way flow takes the number of the flow it joined)."""
    flows = parts.flows
    _numbers, kept = np.unique(renumbered, return_index=True)  # each number's first flow: the joined one
    keys = flows.keys.take(kept)
    rows = np.bincount(renumbered, weights=flows.rows, minlength=len(kept)).astype(np.int64)
    extra = parts.extra
    if extra is not None:
        extra = {**extra, "flow": renumbered[extra["flow"]]}
    outer = flows.outer.copy()
    outer[:, 0] = renumbered[outer[:, 0]]
    return dataclasses.replace(
        parts,
        mappings=[renumbered[m] for m in parts.mappings],
        extra=extra,
        flows=FlowTable(keys, flows.contexts, flows.split_interfaces, rows, flows.paths, distinct(outer)),
    )


__all__ = [
    "MIN_RANGE_BYTES", "RANGES_PER_WORKER", "FlowTable", "IndexParts", "IndexStats", "PacketIndex",
    "build_index", "build_parts",
]  # fmt: skip
