"""Tiny sessions exported straight from their rows: no session object, no layout walk.

A session is *tiny* here when each direction carried at most one data packet
and its flow is plain (``flows.hydrate``: clean, no hole, nothing missing,
no conflicting bytes, not cut by the snap length) and holds no other
session.  Its bytes are then at most two slices of the capture at known
offsets: each direction's stream is its one slice, each monologue is one of
those slices, and every other field of its manifest entry is in its
session-list row.  An export of 5,000 such sessions (issue 6; fuzz input
17:15105 of issue 10 holds 6,000) built a session object with two streams
and their monologues for each, and walked the general layout for gaps that
cannot be there: three quarters of its time.  Here a session is a dozen
numbers, read for all of them at once, and the writing of its files.

``tests/core/test_tiny_export.py`` checks that an export with this path
forced off (``ENABLED``) writes the same files, bytes, modes and manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.index import FlowTable, IndexParts
from monoview.core.capture.records import PayloadBuffer, part_frames
from monoview.core.export.encode import Format, encoded
from monoview.core.export.manifest import item_line
from monoview.core.export.options import Layout
from monoview.core.export.session import SessionFiles, direction_file
from monoview.core.flows.grouped import GroupedRows
from monoview.core.flows.hydrate import PLAIN_ROWS, plain_flows
from monoview.core.flows.listing import session_columns, stream_entries
from monoview.core.flows.summary import SessionRows
from monoview.core.flows.table import CHUNK_ROWS
from monoview.core.packet import format_ts
from monoview.core.paths import safe_name
from monoview.core.sets import unique

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
# Off: every session goes the general way (tests compare the two; benchmarks time them).
ENABLED = True
# A piece's columns in ``PlainFlows.columns``.
PIECE: Final = ("start", "length", "file", "frame", "ts")


@dataclass(frozen=True)
class TinySessions:
    """Which of some sessions are tiny, and the one piece of each side of those.

    ``pieces[name]`` is an (n, 2) array by session side (0, 1) of the tiny
    sessions, ``has`` whether that side has a piece, ``first_side`` the side
    of the first monologue, ``cut`` whether ``max_session_size`` cut that side's
    piece (a lone packet's: ``pieces["length"]`` is then the bytes kept of it).
    """

    tiny: Mask  # over the ids asked about
    ids: I64  # the tiny ones, in the order asked
    has: npt.NDArray[np.bool_]
    pieces: dict[str, I64]
    first_side: I64
    cut: npt.NDArray[np.bool_]

    @classmethod
    def none(cls, count: int) -> TinySessions:
        """None of ``count`` sessions is tiny."""
        empty, no = np.zeros((0, 2), dtype=np.int64), np.zeros((0, 2), dtype=np.bool_)
        return cls(np.zeros(count, dtype=np.bool_), np.zeros(0, dtype=np.int64), no,
                   {name: empty for name in PIECE}, np.zeros(0, dtype=np.int64), no)  # fmt: skip


def _candidates(chosen: SessionRows) -> Mask:
    """Rows that may be tiny: one or two monologues, at most a data packet a side, nothing
    missing, cut or conflicting (the pieces then decide); a lone packet may be cut (by
    ``max_session_size``: ``_lone`` tells that from a cut by the snap length)."""
    mask: Mask = (~chosen["truncated"] | (chosen["packets"] == 1)) & (chosen["monologues"] >= 1)
    mask &= chosen["monologues"] <= 2
    for side in (0, 1):
        mask &= (chosen[f"data_packets{side}"] <= 1) & (chosen[f"gaps{side}"] == 0)
        mask &= (chosen[f"conflicts{side}"] == 0) & ~chosen[f"missing{side}"]
    return mask


def tiny_sessions(
    parts: IndexParts,
    buf: PayloadBuffer,
    rows: SessionRows,
    ids: I64,
    *,
    linger_ns: int,
    max_session_size: int | None = None,
) -> TinySessions:
    """Which of the sessions ``ids`` (1-based) are tiny, and their pieces.

    With ``max_session_size``, only a session whose pieces add up to no more
    than it: a bigger one's streams may be cut, which the session must then
    say (the limit is a budget of kept bytes shared by a session's directions,
    ``tcp.stream.Budget``, so one that holds both pieces cuts nothing).  A lone
    packet is the exception: its one piece is cut where its row says (``kept``),
    and that is all the cut changes (fuzz 41:184938: 6,300 lone packets under a
    limit of one byte, every one replayed).  None is with ``ENABLED`` off.
    """
    if not ENABLED or not len(ids):
        return TinySessions.none(len(ids))
    chosen = rows[ids - 1]
    candidate = np.flatnonzero(_candidates(chosen))
    if not len(candidate):
        return TinySessions.none(len(ids))
    picked = chosen[candidate]
    grouped = GroupedRows.of_parts(parts, unique(picked["flow"]))
    counts = grouped.counts
    group = np.searchsorted(grouped.flows, picked["flow"])
    whole = (picked["first_row"] == 0) & (picked["stop_row"] == counts[group]) & (counts[group] <= CHUNK_ROWS)
    count = len(grouped)
    ok = np.zeros(count, dtype=np.bool_)
    has = np.zeros((count, 2), dtype=np.bool_)
    pieces = {name: np.zeros((count, 2), dtype=np.int64) for name in PIECE}
    first_side = np.zeros(count, dtype=np.int64)
    lone = _lone(grouped, picked, group, whole, max_session_size)
    alone = np.zeros(count, dtype=np.bool_)
    alone[group[lone]] = True
    for a, b in grouped.chunks(PLAIN_ROWS):
        if (b == a + 1 and counts[a] > CHUNK_ROWS) or alone[a:b].all():
            continue  # no tiny session there (``whole`` says so), or lone packets only
        found = plain_flows(grouped.slice(a, b), linger_ns, buf)
        found.plain &= ~alone[a:b]  # their pieces are the rows themselves (``_lone``)
        bounds = np.array(found.side_bounds, dtype=np.int64).reshape(-1, 3)
        sizes = np.diff(bounds, axis=1)  # pieces of side 0, side 1
        run_bounds = np.array(found.run_bounds, dtype=np.int64)
        runs = np.diff(run_bounds)
        ok[a:b] = found.plain & (sizes <= 1).all(axis=1) & (runs == sizes.sum(axis=1)) & (runs >= 1)
        has[a:b] = sizes == 1
        columns = {name: np.frombuffer(found.columns[name], dtype=np.int64) for name in PIECE}
        for side in (0, 1):
            at = np.where(sizes[:, side] == 1, bounds[:, side], 0)
            for name, values in columns.items():
                if len(values):
                    pieces[name][a:b, side] = np.where(sizes[:, side] == 1, values[at], 0)
        ok[a:b] &= ~(has[a:b] & (pieces["length"][a:b] <= 0)).any(axis=1)  # a piece is bytes
        if len(found.run_side):
            first = np.minimum(run_bounds[:-1], len(found.run_side) - 1)
            first_side[a:b] = np.where(runs >= 1, found.run_side[first], 0)
    single = group[lone]  # a lone packet's piece is the packet
    sides = np.stack([picked["data_packets0"][lone], picked["data_packets1"][lone]], axis=1) == 1
    ok[single], has[single], first_side[single] = True, sides, sides[:, 1]
    for name, column in (("file", "payload"), ("frame", "frame"), ("ts", "ts")):
        values = grouped.columns[column][grouped.bounds[single]].astype(np.int64)
        pieces[name][single] = values[:, None] * sides
    kept = np.stack([picked["kept0"][lone], picked["kept1"][lone]], axis=1).astype(np.int64)
    pieces["length"][single] = kept * sides  # the row's kept bytes (all, unless cut)
    cut = np.zeros((count, 2), dtype=np.bool_)
    cut[single] = sides & picked["truncated"][lone][:, None]
    tiny = np.zeros(len(ids), dtype=np.bool_)
    mine = whole & ok[group] & (picked["monologues"] == has[group].sum(axis=1))
    mine &= lone | ~picked["truncated"]
    if max_session_size is not None:  # fuzz 41:50498: 6,000 sessions, limit 64 kB
        mine &= pieces["length"][group].sum(axis=1) <= max_session_size
    tiny[candidate[mine]] = True
    at = group[mine]
    chosen_pieces = {name: values[at] for name, values in pieces.items()}
    return TinySessions(tiny, ids[tiny], has[at], chosen_pieces, first_side[at], cut[at])


def _lone(
    grouped: GroupedRows, picked: SessionRows, group: I64, whole: Mask, max_session_size: int | None
) -> Mask:
    """Which of the sessions ``picked`` are one packet with data and nothing else: every byte
    captured, none from IP fragments, and kept (or the first ``max_session_size`` of them:
    its row is then ``truncated``, and its stream is cut there).  Its stream starts at its
    one segment, offset 0, with a SYN or without (the SYN's ISN+1 is its first byte's
    sequence number).  Scans and storms are made of them (fuzz 17:15105: 5,999 lone RSTs
    with 64 bytes each; 41:50498: 3,000 with random flags, SYN among them), and
    ``flows.simple`` leaves them to the replay, as it does every flow that does not open
    with a handshake."""
    at = grouped.bounds[group]
    c = {name: grouped.columns[name][at].astype(np.int64) for name in ("caplen", "wirelen", "frame")}
    kept = np.where(picked["data_packets0"] == 1, picked["kept0"], picked["kept1"]).astype(np.int64)
    allowed = c["caplen"] if max_session_size is None else np.minimum(c["caplen"], max_session_size)
    mask: Mask = whole & (grouped.counts[group] == 1) & (c["caplen"] > 0) & (kept > 0)
    mask &= (c["caplen"] == c["wirelen"]) & (kept == allowed) & (picked["packets"] == 1)
    mask &= picked["truncated"] == (kept < c["caplen"])
    mask &= (picked["data_packets0"] + picked["data_packets1"] == 1) & (picked["monologues"] == 1)
    if grouped.parts:
        mask &= ~np.isin(c["frame"], np.fromiter(part_frames(grouped.parts), dtype=np.int64))
    return mask


def tiny_lines(
    found: TinySessions,
    rows: SessionRows,
    flows: FlowTable,
    buf: PayloadBuffer,
    files: SessionFiles,
    names: I64 | None = None,
) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """Write the files of the tiny sessions ``found`` and yield ``(id, manifest line, entry)``
    of each, as ``SessionFiles.encode`` writes and describes them (the line is the entry's
    ``item_line``, so a caller that wants the entry need not parse the line back: a fuzz
    storm's ``describe`` spent a tenth of its time in ``json.loads``).  ``found.ids`` are
    positions in ``rows`` from 1; the sessions' ids are ``names``, by default the same (as in
    ``quiet.quiet_lines``)."""
    if not len(found.ids):
        return
    opts = files.options
    fmt, suffix = opts.fmt, opts.fmt.suffix
    full = opts.layout is Layout.FULL
    empty = b"".join(encoded(iter(()), fmt))
    empty_sha = hashlib.sha256(empty).hexdigest()
    columns = session_columns(rows[found.ids - 1], flows)
    data_packets = (columns.fields["data_packets0"], columns.fields["data_packets1"])
    has, cut = found.has.tolist(), found.cut.tolist()
    piece = {name: values.tolist() for name, values in found.pieces.items()}
    first_sides = found.first_side.tolist()
    named = (found.ids if names is None else names).tolist()
    for i, (session_id, entry) in enumerate(zip(named, stream_entries(columns), strict=True)):
        entry["id"] = session_id
        del entry["c2s_bytes"], entry["s2c_bytes"]
        client, server = columns.endpoint(i, True), columns.endpoint(i, False)
        folder = safe_name(f"s{session_id:05d}_{client}_{server}")
        client_side = columns.client_side[i]
        data: dict[int, bytes] = {}
        for direction, side in (("c2s", client_side), ("s2c", 1 - client_side)):
            captured = piece["length"][i][side] if has[i][side] else 0
            info: dict[str, Any] = {
                "packets": data_packets[side][i], "captured": captured, "gaps": [], "conflicts": [],
                "truncated_at": captured if cut[i][side] else None,
            }  # fmt: skip
            if captured:
                start = piece["file"][i][side]
                data[side] = _encode(bytes(buf[start : start + captured]), fmt)
                if opts.directions:
                    written = files.write(direction_file(folder, direction, opts), [data[side]])
                    info.update(len=written.length, sha256=written.sha256, file=written.path)
                else:
                    info.update(len=len(data[side]), sha256=hashlib.sha256(data[side]).hexdigest(), file=None)
            else:
                info.update(len=len(empty), sha256=empty_sha, file=None)
            entry[direction] = info
        order = [first_sides[i], 1 - first_sides[i]] if len(data) == 2 else list(data)
        monologues = []
        for index, side in enumerate(order):
            direction = "c2s" if side == client_side else "s2c"
            length: int | None = None
            sha: str | None = None
            path: str | None = None
            if full:
                if opts.monologues:
                    name = f"{folder}/monologues/{index:05d}_{direction}{suffix}"
                    written = files.write(name, [data[side]])
                    length, sha, path = written.length, written.sha256, written.path
                else:
                    length, sha = len(data[side]), hashlib.sha256(data[side]).hexdigest()
            ts = piece["ts"][i][side]
            monologues.append({
                "index": index, "dir": direction, "offset": piece["start"][i][side],
                "stream_offset": piece["start"][i][side], "captured": piece["length"][i][side],
                "len": length, "sha256": sha, "first_ts": format_ts(ts), "first_ts_f": ts / 1e9,
                "last_ts_f": ts / 1e9, "packets": 1, "frames": [piece["frame"][i][side]], "gaps": [],
                "file": path,
            })  # fmt: skip
        entry["monologues"] = monologues
        if full and opts.transcript:
            chunks = _transcript(order, client_side, client, server, piece, i, data, fmt)
            entry["transcript"] = files.write(f"{folder}/transcript{suffix}", chunks).path
        yield session_id, item_line(entry), entry


def _encode(raw: bytes, fmt: Format) -> bytes:
    """One slice in the export's format (a direction's stream, or a monologue: the same)."""
    return raw if fmt is Format.RAW else b"".join(encoded([raw], fmt))


def _transcript(
    order: list[int],
    client_side: int,
    client: str,
    server: str,
    piece: dict[str, list[list[int]]],
    i: int,
    data: dict[int, bytes],
    fmt: Format,
) -> list[bytes]:
    """The conversation of tiny session ``i``, as ``session.transcript_chunks`` writes it (no
    gap can be before, between or after its monologues)."""
    out: list[bytes] = []
    previous_ts: int | None = None
    for index, side in enumerate(order):
        ts = piece["ts"][i][side]
        c2s = side == client_side
        arrow = f"{client} -> {server}" if c2s else f"{server} -> {client}"
        delta = "" if previous_ts is None else f", +{(ts - previous_ts) / 1e9:.6f} s"
        out.append(
            f"\n=== #{index} {'c2s' if c2s else 's2c'} {arrow} at {format_ts(ts)}{delta}, "
            f"{piece['length'][i][side]:,} bytes ===\n".encode("ascii")
        )
        previous_ts = ts
        out.append(data[side])
        if fmt is Format.RAW:
            out.append(b"\n")
    return out


__all__ = ["ENABLED", "TinySessions", "tiny_lines", "tiny_sessions"]
