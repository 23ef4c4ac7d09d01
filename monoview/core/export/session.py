"""One session's files: its folder, direction streams, monologues and transcript."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from monoview.core.atomic import AtomicWriter, WrittenFile
from monoview.core.export.encode import Format, encoded
from monoview.core.export.manifest import DIRECTIONS, direction_json, item_line, stream_json
from monoview.core.export.options import ExportOptions, Layout
from monoview.core.flows.info import SessionInfo
from monoview.core.packet import format_ts
from monoview.core.paths import safe_name
from monoview.core.streambytes import Chunk, DirectionLayout, GapPolicy, filler, gap_fits, monologue_chunks
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.records import GapCause
from monoview.core.tcp.session import TcpSession


def session_folder(session: TcpSession | SessionInfo) -> str:
    """Folder name of a session's files: id, then client and server, OS-safe."""
    return safe_name(f"s{session.id:05d}_{session.client}_{session.server}")


def session_targets(session: TcpSession | SessionInfo, options: ExportOptions) -> list[str]:
    """The names (relative to the output folder) a session's files may take.

    ``full``: the session's folder.  ``directions``: one flat file per
    direction, ``FOLDER.c2s.bin`` and ``FOLDER.s2c.bin``, as tcpflow writes a
    file per direction into one folder (no folder per session to create).
    """
    folder = session_folder(session)
    if options.layout is Layout.FULL:
        return [folder]
    return [direction_file(folder, d, options) for d in DIRECTIONS]


def direction_file(folder: str, direction: str, options: ExportOptions) -> str:
    """Where a direction's stream goes under the options' layout."""
    if options.layout is Layout.FULL:
        return f"{folder}/{direction}{options.fmt.suffix}"
    return f"{folder}.{direction}{options.fmt.suffix}"


def _arrow(monologue: Monologue) -> str:
    session = monologue.session
    if monologue.direction == "c2s":
        return f"{session.client} -> {session.server}"
    return f"{session.server} -> {session.client}"


def transcript_chunks(session: TcpSession, fmt: Format, policy: GapPolicy) -> Iterator[Chunk]:
    """The conversation: a header line per monologue, then its bytes in ``fmt``.

    A gap just before a monologue's first byte is written (under ``policy``)
    at the start of its body; bytes missing after a direction's last captured
    byte get a header line of their own at the end.
    """
    previous_ts: int | None = None
    for monologue in session.monologues:
        facts = monologue.facts()
        delta = "" if previous_ts is None else f", +{(facts.first_ts_ns - previous_ts) / 1e9:.6f} s"
        gaps = monologue.gaps()
        missing = f", {sum(g.length for g in gaps):,} bytes missing" if gaps else ""
        header = (
            f"\n=== #{monologue.index} {monologue.direction} {_arrow(monologue)} "
            f"at {format_ts(facts.first_ts_ns)}{delta}, {facts.length:,} bytes{missing} ===\n"
        )
        previous_ts = facts.last_ts_ns
        yield header.encode("ascii")
        leading = [g for g in gaps if g.offset < monologue.offset]
        trailing = [g for g in gaps if g.offset >= monologue.end]
        stream = monologue.stream
        body = itertools.chain(
            *(filler(g.length, policy, gap_fits(stream, g)) for g in leading),
            monologue_chunks(monologue, policy),
            *(filler(g.length, policy, gap_fits(stream, g)) for g in trailing),
        )
        yield from encoded(body, fmt)
        if fmt is Format.RAW:
            yield b"\n"
    for direction in DIRECTIONS:
        stream = session.stream(direction)
        for gap in session.gaps(direction):
            if gap.cause is GapCause.END:
                acked = "acknowledged by the receiver" if gap.acked else "never acknowledged"
                yield (
                    f"\n=== {direction}: {gap.length:,} bytes missing after the last captured byte "
                    f"({acked}) ===\n"
                ).encode("ascii")
                yield from encoded(filler(gap.length, policy, gap_fits(stream, gap)), fmt)


class SessionFiles:
    """Writes one session's files into its folder and describes them for the manifest.

    ``layout`` ``full``: each direction, each monologue and the transcript in
    the session's folder; ``directions``: only each direction's stream, flat in
    the output folder (as tcpflow writes them), the monologues described
    without files or hashes.  A direction with no
    bytes to write gets no file; the manifest still describes it.
    """

    def __init__(self, root: Path, options: ExportOptions, *, checked: bool = True) -> None:
        self.root = root
        self.options = options
        self.checked = checked  # the exporter refused existing targets before writing anything
        self.made: set[str] = set()  # folders created so far

    def write(self, relative: str, chunks: Iterable[Chunk]) -> WrittenFile:
        """Write one file of the export (``relative`` to its folder), atomically."""
        writer = AtomicWriter(self.root, relative, self.options.force, checked=self.checked, made=self.made)
        return writer.write(chunks)

    def export(self, session: TcpSession) -> dict[str, Any]:
        """Write the session's files (``write`` off: only describe them); return its manifest entry."""
        entry: dict[str, Any] = json.loads("".join(self.encode(session)))
        return entry

    def encode(self, session: TcpSession) -> Iterator[str]:
        """Write the session's files and yield its manifest line (``manifest.item_line`` of its
        entry, byte for byte) in pieces: the session and its directions, then one piece per
        monologue as its file is written.  A session of 200,000 monologues is never held as
        200,000 dicts, nor its line as one string, by a caller that writes the pieces away."""
        opts = self.options
        full = opts.layout is Layout.FULL
        folder = session_folder(session)
        entry = stream_json(session)
        layouts = {d: DirectionLayout(session, d, opts.gaps) for d in DIRECTIONS}
        for direction, layout in layouts.items():
            info = direction_json(layout)
            chunks = encoded(layout.chunks(), opts.fmt)
            stream = session.stream(direction)
            if opts.directions and (stream.kept or (opts.gaps is not GapPolicy.OMIT and stream.gaps)):
                written = self.write(direction_file(folder, direction, opts), chunks)
                info.update(len=written.length, sha256=written.sha256, file=written.path)
            else:
                data = b"".join(chunks)
                info.update(len=len(data), sha256=hashlib.sha256(data).hexdigest(), file=None)
            entry[direction] = info
        head = item_line(entry)
        yield head[:-1] + ', "monologues": ['  # json.dumps' own text, its closing brace held back
        for k, monologue in enumerate(session.monologues):
            record = self._monologue(folder, monologue, layouts[monologue.direction], full)
            yield (", " if k else "") + item_line(record)
        yield "]"
        if full and opts.transcript:
            # A session in which nobody said anything and nothing is missing (a lone RST, a
            # SYN never answered) gets no transcript, and so no folder: a storm of 20,000 of
            # them would otherwise make 20,000 folders of one empty file each.
            path = None
            if len(session.monologues) or any(stream.gaps for stream in session.streams):
                chunks = transcript_chunks(session, opts.fmt, opts.gaps)
                path = self.write(f"{folder}/transcript{opts.fmt.suffix}", chunks).path
            yield f", {item_line('transcript')}: {item_line(path)}"
        yield "}"

    def _monologue(
        self, folder: str, monologue: Monologue, layout: DirectionLayout, full: bool
    ) -> dict[str, Any]:
        opts = self.options
        length: int | None = None
        sha: str | None = None
        path: str | None = None
        if full:
            chunks = encoded(monologue_chunks(monologue, opts.gaps), opts.fmt)
            if opts.monologues:
                name = f"{folder}/monologues/{monologue.index:05d}_{monologue.direction}{opts.fmt.suffix}"
                written = self.write(name, chunks)
                length, sha, path = written.length, written.sha256, written.path
            else:
                data = b"".join(chunks)
                length, sha = len(data), hashlib.sha256(data).hexdigest()
        facts = monologue.facts()
        return {
            "index": monologue.index,
            "dir": monologue.direction,
            "offset": layout.position(monologue.offset),
            "stream_offset": monologue.offset,
            "captured": facts.length,
            "len": length,
            "sha256": sha,
            "first_ts": format_ts(facts.first_ts_ns),
            "first_ts_f": facts.first_ts_ns / 1e9,
            "last_ts_f": facts.last_ts_ns / 1e9,
            "packets": facts.packets,
            "frames": facts.frames,
            # Positions in the exported stream, as the monologue's own "offset".
            "gaps": [
                {"offset": layout.position(g.offset), "missing": g.length, "stream_offset": g.offset}
                for g in monologue.gaps()
            ],
            "file": path,
        }
