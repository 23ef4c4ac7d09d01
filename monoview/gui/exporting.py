"""The export work the GUI runs in a worker thread, on top of ``monoview.core.export``.

Every byte comes from the core (``monologue_chunks``, ``DirectionLayout``,
``transcript_chunks``, ``Exporter``), never from widget text, so a GUI export
equals a command-line export with the same options.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from monoview.core.document import CaptureDocument
from monoview.core.export import AtomicWriter, Exporter, ExportOptions, encoded, transcript_chunks
from monoview.core.streambytes import DirectionLayout, monologue_chunks
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.gui.dialogs.export import ExportKind, ExportRequest

Progress = Callable[[int, int], None]


def monologue_file_name(monologue: Monologue, suffix: str) -> str:
    """File name of a monologue exported on its own into a folder."""
    return f"s{monologue.session.id:05d}_m{monologue.index:05d}_{monologue.direction}{suffix}"


def clashes(
    request: ExportRequest,
    document: CaptureDocument,
    sessions: Sequence[TcpSession] | Sequence[int] | None,
    monologues: Sequence[Monologue],
) -> bool:
    """True when running ``request`` without force would overwrite something."""
    target = request.target
    if not request.to_folder:
        return target.exists()
    if request.kind is ExportKind.MONOLOGUES:
        return any((target / monologue_file_name(m, request.fmt.suffix)).exists() for m in monologues)
    exporter = Exporter(document, target, ExportOptions(fmt=request.fmt, gaps=request.gaps))
    try:
        exporter.check_target(sessions)
    except Exception:
        return True
    return False


def run_export(
    request: ExportRequest,
    document: CaptureDocument,
    sessions: Sequence[TcpSession] | Sequence[int] | None,
    monologues: Sequence[Monologue],
    progress: Progress,
    cancelled: threading.Event,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Write what ``request`` asks for (``sessions`` None: all of them); return a summary
    (``files``, ``target``, ``manifest``).  Whole sessions are written by the core's
    exporter in ``executor``'s worker processes."""
    fmt, gaps, force = request.fmt, request.gaps, request.force
    target = request.target
    if request.kind is ExportKind.MONOLOGUES:
        files = []
        for n, m in enumerate(monologues):
            if cancelled.is_set():
                break
            if request.to_folder:
                writer = AtomicWriter(target, monologue_file_name(m, fmt.suffix), force)
            else:
                writer = AtomicWriter(target.parent, target.name, force)
            files.append(writer.write(encoded(monologue_chunks(m, gaps), fmt)))
            progress(n + 1, len(monologues))
        return {"target": str(target), "files": files}
    if request.kind is ExportKind.SESSION and request.part != "all":
        assert sessions, "a session export names its session"
        first = sessions[0]
        session = first if isinstance(first, TcpSession) else document.conversation(first)
        if request.part == "transcript":
            chunks = transcript_chunks(session, fmt, gaps)
        else:
            chunks = encoded(DirectionLayout(session, request.part, gaps).chunks(), fmt)
        written = AtomicWriter(target.parent, target.name, force).write(chunks)
        progress(1, 1)
        return {"target": str(target), "files": [written]}
    options = ExportOptions(fmt=fmt, gaps=gaps, force=force)
    chosen = sessions or None  # a session, the selected ones, or all
    exporter = Exporter(document, target, options, executor=executor)
    manifest = exporter.export(chosen, progress=progress, cancel=cancelled.is_set)
    return {"target": str(target), "files": [], "manifest": manifest}


def target_path(request: ExportRequest) -> Path:
    """Where the result can be found (for the status message)."""
    return request.target
