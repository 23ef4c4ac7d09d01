"""The index's stitched parts and what they describe: the flow table, and the whole index.

:class:`IndexParts` is what ``index.build_parts`` hands back: the ranges the
workers built (their columns in files, or in memory), the bases that make
their frame numbers and payload offsets global, and the flow table.  It is
small and picklable, so worker processes are handed it and read the rows of
their own flows (``select``, or ``locate.FlowLocator``) without the parent
copying any column.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from monoview.core.capture.captureset import CaptureSet
from monoview.core.capture.counts import CaptureStats
from monoview.core.capture.flowkeys import KEY_FIELDS, FlowKeys
from monoview.core.capture.outerpath import NO_PATH, OuterPath, known_paths, no_pairs, paths_text
from monoview.core.capture.ranges import COLUMNS, RangePart
from monoview.core.capture.records import PayloadParts
from monoview.core.terminate import untracked

I64 = npt.NDArray[np.int64]
Array = npt.NDArray[np.generic]


IndexStats = CaptureStats  # the index counts what the analysis counts
# The column of ``IndexParts.extra`` that says where in its frame each row's packet was
# completed (the completing fragment's data offset), for ``merged_order``.
SUBFRAME_POSITION = "position"


def _concatenated(pieces: list[Array]) -> Array:
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int64)


def merged_order(
    range_frames: Array, extra_frames: Array, range_payload: Callable[[], Array], extra_position: Array
) -> npt.NDArray[np.intp]:
    """The order that merges the rows made from IP fragments into the ranges' rows (both in
    capture order; the ranges' frames first): by frame, and in a frame that has both (an
    802.11 A-MSDU frame of whole packets and the last fragment of a datagram) by where in
    the frame each packet lies (a whole packet's payload offset, the completing fragment's
    data offset), so its packets come in subframe order, as the per-packet analysis and
    tshark take them; by frame alone, the whole packets always came first.  The ranges'
    payload column is read only for such a frame."""
    frames = np.concatenate([range_frames, extra_frames])
    at = np.searchsorted(range_frames, extra_frames)
    shared = at < len(range_frames)
    shared[shared] = range_frames[at[shared]] == extra_frames[shared]
    if not shared.any():
        return np.argsort(frames, kind="stable")
    position = np.concatenate([range_payload().astype(np.int64), extra_position.astype(np.int64)])
    return np.lexsort((position, frames))


_KEY_ARRAYS = (*KEY_FIELDS, "first")


@dataclass
class FlowTable:
    """One row per flow (both endpoints and a context), in order of first appearance."""

    keys: FlowKeys
    contexts: list[tuple[int, ...]]  # VLAN tag tuples; a key's context is vlan << 32 | interface + 1
    split_interfaces: bool
    rows: I64  # index rows of each flow
    # The outer paths seen (``outerpath``), and the flows' distinct (flow, path) pairs
    # sorted by flow: how each flow's packets arrived (context, not key).
    paths: list[OuterPath] = field(default_factory=lambda: [NO_PATH])
    outer: I64 = field(default_factory=no_pairs)
    # The arrays (keys, rows, outer) saved as files and mapped (``saved``): None while in memory.
    files: dict[str, str] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def saved(self, folder: str) -> FlowTable:
        """This table with its arrays in files of ``folder`` (the index's), mapped read-only.

        A flow is some 100 bytes of arrays; a capture of many small flows (300,000 SYNs to
        distinct tuples) has one per session.  Mapped, they are the page cache's, not the
        process's own memory, and a worker task that is handed the index (every shard of the
        session list or of an export) pickles the files' names instead of the arrays.
        """
        arrays = {f"key_{name}": getattr(self.keys, name) for name in _KEY_ARRAYS}
        arrays["rows"], arrays["outer"] = self.rows, self.outer
        stem = os.path.join(folder, f"flows-{os.urandom(6).hex()}")  # no uuid module to import
        files = {}
        for name, values in arrays.items():
            files[name] = f"{stem}-{name}.npy"
            np.save(files[name], values)
        table = dataclasses.replace(self, files=files)
        table._map()
        return table

    def _map(self) -> None:
        assert self.files is not None
        # a plain view of the mapping: what is taken or pickled from it is an ordinary array
        arrays = {name: np.load(path, mmap_mode="r").view(np.ndarray) for name, path in self.files.items()}
        self.keys = FlowKeys(*(arrays[f"key_{name}"] for name in _KEY_ARRAYS))
        self.rows, self.outer = arrays["rows"], arrays["outer"]

    def __getstate__(self) -> dict[str, object]:
        """Pickle a saved table without its arrays (the receiver maps the files)."""
        state = dict(self.__dict__)
        if self.files is not None:
            state.update(keys=None, rows=None, outer=None)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        if self.files is not None:
            self._map()

    def remove_files(self) -> None:
        """Remove the saved arrays' files (the mapped arrays stay readable until let go)."""
        for file in (self.files or {}).values():
            Path(file).unlink(missing_ok=True)

    def outer_paths(self, flow: int) -> list[OuterPath]:
        """The ways the flow's packets arrived (``outerpath.known_paths``): each its hops,
        outermost first; [] when every packet came plain."""
        lo, hi = np.searchsorted(self.outer[:, 0], [flow, flow + 1]).tolist()
        return known_paths(self.paths[path] for path in self.outer[lo:hi, 1].tolist())

    def outer_path_set(self, flow: int) -> set[OuterPath]:
        """The flow's outer paths as a session keeps them (``TcpSession.path_set``)."""
        return set(self.outer_paths(flow)) if self.has_outer_paths else set()

    def outer_text(self, flow: int) -> str:
        """The flow's outer paths as one line (``outerpath.paths_text``)."""
        return paths_text(self.outer_paths(flow))

    @cached_property
    def has_outer_paths(self) -> bool:
        """Some flow came through a tunnel, VLAN tags or a source route."""
        return bool(self.outer[:, 1].any())

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
    """Every TCP packet of a capture as columns (see ``ranges.COLUMNS``), in capture order."""

    path: Path
    size: int
    format: str
    columns: dict[str, Array]
    flows: FlowTable
    parts: PayloadParts  # (frame, payload) -> (file offset, captured, wire) per piece
    stats: IndexStats
    read_error: str | None = None

    def __len__(self) -> int:
        return len(self.columns["frame"])


@dataclass
class IndexParts:
    """The stitched ranges of a capture's index: what is needed to read any of its rows.

    Picklable and small (the columns are in files, or in memory when the
    index was built in this process), so worker processes can be handed it
    and read the rows of their flows themselves.
    """

    path: Path
    size: int
    format: str
    ranges: list[RangePart]
    bases: list[int]  # frames before each range
    mappings: list[I64]  # each range's flow numbers -> global flow
    extra: dict[str, Array] | None  # rows reassembled from IP fragments (global frames and flows)
    flows: FlowTable
    payload_parts: PayloadParts
    stats: IndexStats
    read_error: str | None = None
    folder: str | None = None  # the temporary folder of the ranges' files, if this index owns one
    source: CaptureSet | None = None  # the files, when the capture is a set of them (``path``: the first)
    # (frame, fragment frame) pairs, by frame: the frames of the fragments of every datagram a
    # frame completed (Wireshark's "depends on"), which ``export --pcap`` writes with it.
    fragment_frames: I64 = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    def __len__(self) -> int:
        return self.stats.tcp_packets

    def select(
        self,
        wanted: npt.NDArray[np.bool_] | None,
        names: tuple[str, ...],
        convert: Callable[[Array], Array] | None = None,
    ) -> dict[str, Array]:
        """Columns ``names`` of the rows whose flow is ``wanted`` (all if None), in capture order,
        each passed through ``convert`` (e.g. a narrower type) as soon as it is read.

        One column at a time: what is held at once is the columns done so far and
        the one being read, not every column twice.
        """
        keep: list[npt.NDArray[np.bool_] | None] = []  # per range: its rows to take (None: all)
        for part, mapping in zip(self.ranges, self.mappings, strict=True):
            keep.append(None if wanted is None or not part.rows else wanted[mapping[part.column("flow")]])
        order = None
        chosen_extra = None
        extra = self.extra
        if extra is not None:  # the fragments' rows are merged in by frame (``merged_order``)
            chosen_extra = None if wanted is None else np.flatnonzero(wanted[extra["flow"]])
            picked = {
                name: extra[name] if chosen_extra is None else extra[name][chosen_extra]
                for name in ("frame", SUBFRAME_POSITION)
            }
            order = merged_order(
                _concatenated([self._range_column(k, "frame", keep[k]) for k in self._filled()]),
                picked["frame"],
                lambda: _concatenated([self._range_column(k, "payload", keep[k]) for k in self._filled()]),
                picked[SUBFRAME_POSITION],
            )
            del picked
        out = {}
        for name in names:
            pieces = [self._range_column(k, name, keep[k]) for k in self._filled()]
            if self.extra is not None:
                pieces.append(self.extra[name] if chosen_extra is None else self.extra[name][chosen_extra])
            if not pieces:
                joined: Array = np.zeros(0, dtype=np.int64)
            elif len(pieces) == 1 and order is None:
                joined = np.array(pieces[0])  # a copy: a range's column may be its mapped file
            else:
                joined = np.concatenate(pieces)
            del pieces
            if order is not None:
                joined = joined[order]
            out[name] = joined if convert is None else convert(joined)
        return out

    def _filled(self) -> list[int]:
        """The ranges that hold rows."""
        return [k for k, part in enumerate(self.ranges) if part.rows]

    def _range_column(self, k: int, name: str, keep: npt.NDArray[np.bool_] | None) -> Array:
        """Column ``name`` of range ``k``'s rows ``keep`` (all if None), as the capture numbers it."""
        part = self.ranges[k]
        values = self.mappings[k][part.column("flow")] if name == "flow" else part.column(name)
        return part.in_capture(name, values if keep is None else values[keep], self.bases[k])

    def assemble(self) -> PacketIndex:
        """The whole index in capture order (frame and payload narrowed to int32 where they fit)."""
        columns = self.select(None, tuple(COLUMNS))
        types = dict(COLUMNS)
        if self.stats.frames < 1 << 31:
            types["frame"] = np.int32
        if self.size < 1 << 31:
            types["payload"] = np.int32
        columns = {name: values.astype(types[name]) for name, values in columns.items()}
        return PacketIndex(
            self.path,
            self.size,
            self.format,
            columns,
            self.flows,
            self.payload_parts,
            self.stats,
            self.read_error,
        )

    def close(self) -> None:
        """Remove the ranges' files (and the folder, if this index made it)."""
        for part in self.ranges:
            part.unmap()
            for file in (part.files or {}).values():
                Path(file).unlink(missing_ok=True)
        self.flows.remove_files()
        if self.folder is not None:
            import shutil  # only an index with a folder has one to remove

            shutil.rmtree(self.folder, ignore_errors=True)
            untracked(self.folder)
            self.folder = None
