"""Export sessions to files, and describe them in ``manifest.json``.

Per session: each direction's stream, each monologue as its own file, and the
conversation as one transcript with direction and time headers (or, with the
``directions`` layout, the streams only); as raw bytes, a hex dump or escaped
text; with gaps omitted, zero-filled or marked.  ``encode`` turns bytes into
the format, ``writer`` writes files atomically, ``session`` lays out one
session's files, ``manifest`` describes them, ``exporter`` runs the whole.
"""

from __future__ import annotations

from monoview.core.atomic import AtomicWriter, WrittenFile, write_chunks
from monoview.core.export.encode import Format, encoded
from monoview.core.export.exporter import Exporter
from monoview.core.export.manifest import DIRECTIONS, MANIFEST, stream_json
from monoview.core.export.options import ExportOptions, Layout
from monoview.core.export.session import session_folder, transcript_chunks
from monoview.core.streambytes import GapPolicy

__all__ = [
    "DIRECTIONS",
    "MANIFEST",
    "AtomicWriter",
    "ExportOptions",
    "Exporter",
    "Format",
    "GapPolicy",
    "Layout",
    "WrittenFile",
    "encoded",
    "session_folder",
    "stream_json",
    "transcript_chunks",
    "write_chunks",
]
