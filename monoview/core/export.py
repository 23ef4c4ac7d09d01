"""Export sessions to files, and describe them in ``manifest.json``.

Per session: each direction's stream, each monologue as its own file, and the
conversation as one transcript with direction and time headers; as raw bytes,
a hex dump or escaped text; with gaps omitted, zero-filled or marked.  Every
file is written to a temporary name and renamed into place, so an interrupted
export never leaves half a file under the final name.  Nothing is overwritten
unless ``force`` is given.

The manifest uses the oracle's schema (``shared/tools/oracle.py``), so
``compare.py`` reads it directly; ``len``/``sha256`` describe the exported
direction file, so with the raw format and ``omit`` they equal the oracle's.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import IO, Any

from monoview import __version__
from monoview.core.analyse import Analysis
from monoview.core.errors import ExportError
from monoview.core.flows.info import SessionInfo
from monoview.core.packet import format_ip, format_ts
from monoview.core.paths import safe_name
from monoview.core.render import escape_text, hexdump_lines
from monoview.core.streambytes import DirectionLayout, GapPolicy, filler, monologue_chunks, zero_filled
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.records import GapCause
from monoview.core.tcp.session import Endpoint, TcpSession

DIRECTIONS = ("c2s", "s2c")
MANIFEST = "manifest.json"


class Format(Enum):
    """How exported bytes are written."""

    RAW = "raw"
    HEX = "hex"
    TEXT = "text"

    @property
    def suffix(self) -> str:
        """File name suffix for this format."""
        return {"raw": ".bin", "hex": ".hex", "text": ".txt"}[self.value]


class _Encoder:
    """Turns a stream of byte chunks into the output format, keeping hex offsets running."""

    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        self._pending = b""
        self._offset = 0

    def feed(self, chunk: bytes) -> bytes:
        """The encoded form of ``chunk`` (a hex dump holds back an incomplete last line)."""
        if self.fmt is Format.RAW:
            return chunk
        if self.fmt is Format.TEXT:
            return escape_text(chunk).encode("ascii")
        data = self._pending + chunk
        whole = len(data) - len(data) % 16
        self._pending = data[whole:]
        return self._lines(data[:whole])

    def finish(self) -> bytes:
        """Whatever ``feed`` held back."""
        if self.fmt is Format.HEX and self._pending:
            out = self._lines(self._pending)
            self._pending = b""
            return out
        return b""

    def _lines(self, data: bytes) -> bytes:
        if not data:
            return b""
        lines = hexdump_lines(data, self._offset)
        self._offset += len(data)
        return ("\n".join(lines) + "\n").encode("ascii")


@dataclass
class WrittenFile:
    """A file the export wrote: its path relative to the output folder, size and hash."""

    path: str
    length: int
    sha256: str


class AtomicWriter:
    """Write a file through a temporary sibling and ``os.replace`` it into place."""

    def __init__(self, root: Path, relative: str, force: bool) -> None:
        self.root = root
        self.relative = relative
        self.target = root / relative
        if self.target.exists() and not force:
            raise ExportError(f"{self.target} exists; use --force to overwrite it")
        self.target.parent.mkdir(parents=True, exist_ok=True)

    def write(self, chunks: Iterable[bytes]) -> WrittenFile:
        """Write all chunks, hashing them; return what was written."""
        digest = hashlib.sha256()
        length = 0
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=self.target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    if chunk:
                        handle.write(chunk)
                        digest.update(chunk)
                        length += len(chunk)
            os.replace(tmp, self.target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return WrittenFile(self.relative, length, digest.hexdigest())


def encoded(chunks: Iterable[bytes], fmt: Format) -> Iterator[bytes]:
    """``chunks`` converted to ``fmt``."""
    encoder = _Encoder(fmt)
    for chunk in chunks:
        yield encoder.feed(chunk)
    yield encoder.finish()


def endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    """``{"ip", "port"}`` as in the oracle."""
    return {"ip": format_ip(endpoint.ip), "port": endpoint.port}


def session_folder(session: TcpSession) -> str:
    """Folder name of a session's files: id, then client and server, OS-safe."""
    return safe_name(f"s{session.id:05d}_{session.client}_{session.server}")


def _arrow(monologue: Monologue) -> str:
    session = monologue.session
    if monologue.direction == "c2s":
        return f"{session.client} -> {session.server}"
    return f"{session.server} -> {session.client}"


def transcript_chunks(session: TcpSession, fmt: Format, policy: GapPolicy) -> Iterator[bytes]:
    """The conversation: a header line per monologue, then its bytes in ``fmt``.

    A gap just before a monologue's first byte is written (under ``policy``)
    at the start of its body; bytes missing after a direction's last captured
    byte get a header line of their own at the end.
    """
    previous_ts: int | None = None
    for monologue in session.monologues:
        delta = "" if previous_ts is None else f", +{(monologue.first_ts_ns - previous_ts) / 1e9:.6f} s"
        gaps = monologue.gaps()
        missing = f", {sum(g.length for g in gaps):,} bytes missing" if gaps else ""
        header = (
            f"\n=== #{monologue.index} {monologue.direction} {_arrow(monologue)} "
            f"at {format_ts(monologue.first_ts_ns)}{delta}, {monologue.length:,} bytes{missing} ===\n"
        )
        previous_ts = monologue.last_ts_ns
        yield header.encode("ascii")
        leading = [g for g in gaps if g.offset < monologue.offset]
        trailing = [g for g in gaps if g.offset >= monologue.end]
        body = itertools.chain(
            *(filler(g.length, policy) for g in leading),
            monologue_chunks(monologue, policy),
            *(filler(g.length, policy) for g in trailing),
        )
        yield from encoded(body, fmt)
        if fmt is Format.RAW:
            yield b"\n"
    for direction in DIRECTIONS:
        for gap in session.gaps(direction):
            if gap.cause is GapCause.END:
                acked = "acknowledged by the receiver" if gap.acked else "never acknowledged"
                yield (
                    f"\n=== {direction}: {gap.length:,} bytes missing after the last captured byte "
                    f"({acked}) ===\n"
                ).encode("ascii")
                yield from encoded(filler(gap.length, policy), fmt)


def stream_json(session: TcpSession | SessionInfo) -> dict[str, Any]:
    """The oracle-schema fields of a session that do not depend on export options."""
    return {
        "id": session.id,
        "key": session.key,
        "endpoints": [endpoint_json(session.client), endpoint_json(session.server)],
        "client": endpoint_json(session.client),
        "server": endpoint_json(session.server),
        "client_basis": session.client_basis,
        "vlan": list(session.context),
        "packets": session.packets,
        "first_ts": format_ts(session.first_ts_ns),
        "last_ts": format_ts(session.last_ts_ns),
        "first_ts_f": session.first_ts_ns / 1e9,
        "last_ts_f": session.last_ts_ns / 1e9,
        "state": session.state,
        "ended_by": session.ended_by,
        "handshake": session.handshake,
        "flags": {
            "syn": session.syn[session.client_side],
            "synack": session.synack[1 - session.client_side],
            "fin_c2s": session.fin[session.client_side],
            "fin_s2c": session.fin[1 - session.client_side],
            "rst_c2s": session.rst[session.client_side],
            "rst_s2c": session.rst[1 - session.client_side],
        },
        # Bytes cut by snaplen are reported by "truncated", as in the oracle.
        "missing_data": session.missing_data,
        "truncated": session.truncated,
    }


def direction_json(layout: DirectionLayout) -> dict[str, Any]:
    """Gaps and conflicts of one direction, positions as exported under the layout's policy."""
    session, direction, policy = layout.session, layout.direction, layout.policy
    stream = session.stream(direction)
    side = session.client_side if direction == "c2s" else 1 - session.client_side
    return {
        "packets": session.data_packets[side],
        "captured": stream.kept,
        "gaps": [
            {
                "offset": pos,
                "missing": gap.length,
                "acked": gap.acked,
                "cause": gap.cause.value,
                "stream_offset": gap.offset,
                "filled": zero_filled(gap, policy),
            }
            for gap, pos in zip(layout.gaps, layout.gap_positions(), strict=True)
        ],
        "conflicts": [
            {
                "offset": c.offset,
                "length": c.length,
                "kept_frame": c.kept_frame,
                "other_frame": c.other_frame,
                "kept_sha256": hashlib.sha256(session.read(c.kept_file_offset, c.length)).hexdigest(),
                "other_sha256": hashlib.sha256(session.read(c.other_file_offset, c.length)).hexdigest(),
            }
            for c in session.conflicts(direction)
        ],
        "truncated_at": None if stream.cut_at is None else stream.cut_at - stream.origin(),
    }


@dataclass
class ExportOptions:
    """What to write."""

    fmt: Format = Format.RAW
    gaps: GapPolicy = GapPolicy.OMIT
    directions: bool = True
    monologues: bool = True
    transcript: bool = True
    force: bool = False


class Exporter:
    """Writes sessions of an analysed capture into a folder, with its manifest."""

    def __init__(self, analysis: Analysis, out_dir: str | os.PathLike[str], options: ExportOptions) -> None:
        self.analysis = analysis
        self.out = Path(out_dir)
        self.options = options

    def _writer(self, relative: str) -> AtomicWriter:
        return AtomicWriter(self.out, relative, self.options.force)

    def check_target(self, sessions: Sequence[TcpSession]) -> None:
        """Refuse before writing anything if the export would overwrite files."""
        if self.options.force:
            return
        clashes = [self.out / MANIFEST] + [self.out / session_folder(s) for s in sessions]
        existing = [str(p) for p in clashes if p.exists()]
        if existing:
            raise ExportError(
                f"{existing[0]} exists"
                + (f" (and {len(existing) - 1} more)" if len(existing) > 1 else "")
                + "; use --force to overwrite"
            )

    def export_session(self, session: TcpSession) -> dict[str, Any]:
        """Write one session's files; return its manifest entry."""
        opts = self.options
        folder = session_folder(session)
        entry = stream_json(session)
        layouts = {d: DirectionLayout(session, d, opts.gaps) for d in DIRECTIONS}
        for direction, layout in layouts.items():
            info = direction_json(layout)
            written = (
                self._writer(f"{folder}/{direction}{opts.fmt.suffix}").write(
                    encoded(layout.chunks(), opts.fmt)
                )
                if opts.directions
                else None
            )
            if written is None:
                data = b"".join(encoded(layout.chunks(), opts.fmt))
                info.update(len=len(data), sha256=hashlib.sha256(data).hexdigest(), file=None)
            else:
                info.update(len=written.length, sha256=written.sha256, file=written.path)
            entry[direction] = info
        entry["monologues"] = [self._monologue(folder, m, layouts[m.direction]) for m in session.monologues]
        if opts.transcript:
            written = self._writer(f"{folder}/transcript{opts.fmt.suffix}").write(
                transcript_chunks(session, opts.fmt, opts.gaps)
            )
            entry["transcript"] = written.path
        return entry

    def _monologue(self, folder: str, monologue: Monologue, layout: DirectionLayout) -> dict[str, Any]:
        opts = self.options
        chunks = encoded(monologue_chunks(monologue, opts.gaps), opts.fmt)
        if opts.monologues:
            name = f"{folder}/monologues/{monologue.index:05d}_{monologue.direction}{opts.fmt.suffix}"
            written = self._writer(name).write(chunks)
            length, sha, path = written.length, written.sha256, written.path
        else:
            data = b"".join(chunks)
            length, sha, path = len(data), hashlib.sha256(data).hexdigest(), None
        return {
            "index": monologue.index,
            "dir": monologue.direction,
            "offset": layout.position(monologue.offset),
            "stream_offset": monologue.offset,
            "captured": monologue.length,
            "len": length,
            "sha256": sha,
            "first_ts": format_ts(monologue.first_ts_ns),
            "first_ts_f": monologue.first_ts_ns / 1e9,
            "last_ts_f": monologue.last_ts_ns / 1e9,
            "packets": monologue.packets,
            "frames": monologue.frames,
            # Positions in the exported stream, as the monologue's own "offset".
            "gaps": [
                {"offset": layout.position(g.offset), "missing": g.length, "stream_offset": g.offset}
                for g in monologue.gaps()
            ],
            "file": path,
        }

    def export(
        self,
        sessions: Sequence[TcpSession] | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> dict[str, Any]:
        """Export ``sessions`` (all by default); write and return the manifest."""
        chosen = list(self.analysis.sessions if sessions is None else sessions)
        self.check_target(chosen)
        self.out.mkdir(parents=True, exist_ok=True)
        entries = []
        for n, session in enumerate(chosen):
            if cancel is not None and cancel():
                break
            entries.append(self.export_session(session))
            if progress is not None:
                progress(n + 1, len(chosen))
        manifest = self.manifest(entries, complete=len(entries) == len(chosen))
        AtomicWriter(self.out, MANIFEST, force=True).write(json_chunks(manifest))
        return manifest

    def describe(self, sessions: Sequence[TcpSession] | None = None) -> dict[str, Any]:
        """The manifest an export would write, computed in memory; no file is written.

        Only valid with ``directions``, ``monologues`` and ``transcript`` off
        (lengths and hashes are then computed without writing).
        """
        opts = self.options
        if opts.directions or opts.monologues or opts.transcript:
            raise ValueError("describe() writes nothing: turn directions, monologues and transcript off")
        chosen = list(self.analysis.sessions if sessions is None else sessions)
        return self.manifest([self.export_session(s) for s in chosen])

    def manifest(self, entries: list[dict[str, Any]], complete: bool = True) -> dict[str, Any]:
        """The manifest document around the stream entries."""
        analysis = self.analysis
        capture = analysis.capture
        stats = analysis.stats
        return {
            "schema": "monoview-manifest/1",
            "tool": {"monoview": __version__},
            "capture": {
                "file": capture.name,
                "sha256": file_sha256(capture.path),
                "format": capture.format,
                "frames": stats.frames,
                "frames_non_tcp": stats.non_tcp,
                "skipped": dict(stats.skipped),
                "warnings": stats.warnings(),
                "read_error": analysis.read_error,
            },
            "export": {
                "format": self.options.fmt.value,
                "gaps": self.options.gaps.value,
                "complete": complete,
            },
            "streams": entries,
        }


def json_chunks(document: Any, block: int = 1 << 16) -> Iterator[bytes]:
    """``document`` as indented JSON, in blocks of about 64 KiB.

    ``json.dumps`` with an indent builds a list of every token before joining
    them, several times the size of the text: for the manifest of a gigabyte
    capture, hundreds of megabytes.  Encoding incrementally keeps one block.
    """
    parts: list[str] = []
    size = 0
    for part in json.JSONEncoder(indent=1).iterencode(document):
        parts.append(part)
        size += len(part)
        if size >= block:
            yield "".join(parts).encode("utf-8")
            parts, size = [], 0
    parts.append("\n")
    yield "".join(parts).encode("utf-8")


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_chunks(handle: IO[bytes], chunks: Iterable[bytes]) -> int:
    """Write chunks to an open binary stream (stdout for ``follow``); return the byte count."""
    total = 0
    for chunk in chunks:
        handle.write(chunk)
        total += len(chunk)
    return total


__all__ = [
    "DIRECTIONS",
    "ExportOptions",
    "Exporter",
    "Format",
    "GapPolicy",
    "transcript_chunks",
]
