"""``manifest.json``: what an export wrote, in the oracle's schema (``shared/tools/oracle.py``).

``compare.py`` reads it directly; ``len``/``sha256`` describe the exported
direction file, so with the raw format and ``omit`` they equal the oracle's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from monoview.core.export.spool import SpooledLine, SpooledLines
from monoview.core.packet import format_ip, format_ts
from monoview.core.streambytes import DirectionLayout, zero_filled
from monoview.core.tcp.session import Endpoint, TcpSession

if TYPE_CHECKING:
    from monoview.core.analyse import Analysis
    from monoview.core.document import CaptureDocument
    from monoview.core.flows.info import SessionInfo

DIRECTIONS = ("c2s", "s2c")
MANIFEST = "manifest.json"
# A direction lists at most this many conflicts, each with the hashes of both versions, and
# counts the rest: 100,000 one-byte segments that each re-send the bytes before them with
# other content make 244,000 conflicts, and listing them all took 340 MB (fuzz, issue 10).
MAX_LISTED_CONFLICTS: Final = 10_000


@dataclass(frozen=True)
class CaptureInfo:
    """The manifest's ``capture`` section: which file, and what reading it found."""

    name: str
    path: Path
    format: str
    frames: int
    frames_non_tcp: int
    skipped: dict[str, int]
    warnings: list[str]
    read_error: str | None
    files: tuple[Path, ...] = ()  # a set's files in capture order (empty for one file)

    @property
    def paths(self) -> tuple[Path, ...]:
        """Every file the capture is made of, in order (what its hash covers)."""
        return self.files or (self.path,)

    @classmethod
    def of(cls, source: Analysis | CaptureDocument) -> CaptureInfo:
        """From a per-packet analysis or a capture document."""
        from monoview.core.analyse import Analysis

        if isinstance(source, Analysis):
            capture, stats = source.capture, source.stats
            return cls(capture.name, capture.path, capture.format, stats.frames, stats.non_tcp,
                       dict(stats.skipped), stats.warnings(), source.read_error)  # fmt: skip
        found = source.stats
        files = tuple(source.files) if len(source.files) > 1 else ()
        return cls(source.name, source.path, source.format, found.frames, found.non_tcp, dict(found.skipped),
                   found.warnings(), source.read_error, files)  # fmt: skip

    def _members(self) -> dict[str, Any]:
        """A set's files, in capture order (the sha256 covers them one after another)."""
        if not self.files:
            return {}
        return {"files": [{"file": p.name, "bytes": p.stat().st_size} for p in self.files]}

    def json(self, sha256: str) -> dict[str, Any]:
        """The section, with the capture file's hash."""
        return {
            "file": self.name,
            "sha256": sha256,
            "format": self.format,
            "frames": self.frames,
            "frames_non_tcp": self.frames_non_tcp,
            "skipped": self.skipped,
            "warnings": self.warnings,
            "read_error": self.read_error,
            **(
                {"files": [{"file": p.name, "bytes": p.stat().st_size} for p in self.files]}
                if self.files
                else {}
            ),
        }


def endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    """``{"ip", "port"}`` as in the oracle."""
    return {"ip": format_ip(endpoint.ip), "port": endpoint.port}


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
        # What the session came through (tunnels, VLAN tags, a source route), each path its hops
        # outermost first; [] for plain packets (``capture.outerpath``).
        "outer_path": [list(path) for path in session.outer_paths],
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
    """Gaps and conflicts of one direction, positions as exported under the layout's policy.

    At most ``MAX_LISTED_CONFLICTS`` conflicts are listed; ``conflicts_not_listed``
    (only present then) counts the rest.
    """
    session, direction, policy = layout.session, layout.direction, layout.policy
    stream = session.stream(direction)
    side = session.client_side if direction == "c2s" else 1 - session.client_side
    info = {
        "packets": session.data_packets[side],
        "captured": stream.kept,
        "gaps": [
            {
                "offset": pos,
                "missing": gap.length,
                "acked": gap.acked,
                "cause": gap.cause.value,
                "stream_offset": gap.offset,
                "filled": zero_filled(stream, gap, policy),
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
            for c in session.conflicts(direction, MAX_LISTED_CONFLICTS)
        ],
    }
    unlisted = session.conflict_count(direction) - MAX_LISTED_CONFLICTS
    if unlisted > 0:
        info["conflicts_not_listed"] = unlisted
    info["truncated_at"] = None if stream.cut_at is None else stream.cut_at - stream.origin()
    return info


def item_line(item: Any) -> str:
    """One item of a list member (a stream) as its line of the manifest."""
    return json.dumps(item, separators=(", ", ": "))


def json_chunks(
    document: dict[str, Any],
    block: int = 1 << 16,
    encoded: dict[str, Sequence[str | SpooledLine]] | None = None,
) -> Iterator[bytes]:
    """``document`` as JSON: its small members indented, each item of a list
    member (the streams) on one line of its own; in blocks of about 64 KiB.
    ``encoded`` gives the lines (``item_line``) of a list member already
    encoded (by the worker processes that made its items).

    One line per stream keeps the manifest readable and greppable, and lets
    the C encoder do the work: the indenting encoder is pure Python, seconds
    for the manifest of thousands of sessions, and ``json.dumps`` with an
    indent holds every token of the text in memory at once.
    """
    parts: list[str] = ["{"]
    size = 0
    members = list(document.items())
    for n, (key, value) in enumerate(members):
        parts.append(f"\n {json.dumps(key)}: ")
        if isinstance(value, list) and value:
            parts.append("[")
            lines = encoded.get(key) if encoded else None
            spooled = lines.each() if isinstance(lines, SpooledLines) else None
            try:
                for k, item in enumerate(value):
                    got: str | bytes | SpooledLine | Iterator[bytes]
                    if spooled is not None:
                        got = next(spooled)
                    else:
                        got = lines[k] if lines is not None else item_line(item)
                    after = "," if k + 1 < len(value) else ""
                    if isinstance(got, bytes):  # a short line from a worker's spool (ASCII)
                        got = got.decode("ascii")
                    if not isinstance(got, str):  # a long one, copied a block at a time
                        parts.append("\n  ")
                        yield "".join(parts).encode("utf-8")
                        yield from got.blocks() if isinstance(got, SpooledLine) else got
                        parts, size = [after], 0
                        continue
                    parts.append(f"\n  {got}{after}")
                    size += len(got)
                    if size >= block:
                        yield "".join(parts).encode("utf-8")
                        parts, size = [], 0
            finally:
                if spooled is not None:
                    spooled.close()
            parts.append("\n ]")
        else:
            parts.append(json.dumps(value, indent=1).replace("\n", "\n "))
        if n + 1 < len(members):
            parts.append(",")
    parts.append("\n}\n")
    yield "".join(parts).encode("utf-8")


def file_sha256(path: Path | Sequence[Path]) -> str:
    """sha256 of a file (or of a set's files one after another, as the set reads them), read
    in 1 MiB blocks."""
    digest = hashlib.sha256()
    for one in [path] if isinstance(path, Path) else path:
        with one.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):  # noqa: B023 (used at once)
                digest.update(block)
    return digest.hexdigest()
