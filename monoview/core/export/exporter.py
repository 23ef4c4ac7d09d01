"""Export sessions to a folder, with ``manifest.json``; in worker processes for a document.

Nothing is overwritten unless ``force`` is given, and that is checked for
every target before the first file is written.  A capture document's
sessions are exported by flow shards in worker processes (each replays its
sessions and writes their files); the manifest is assembled in session order,
so it is the same byte for byte whatever the number of workers.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import json
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from monoview.core.atomic import PART_SUFFIX, AtomicWriter, refuse_existing
from monoview.core.executor import default_workers, local_executor
from monoview.core.export.manifest import MANIFEST, CaptureInfo, file_sha256, json_chunks
from monoview.core.export.options import ExportOptions
from monoview.core.export.quiet import quiet, quiet_lines
from monoview.core.export.session import SessionFiles, session_targets
from monoview.core.export.spool import (
    LineSpool,
    SpooledLine,
    SpooledLines,
    live_spool,
    remove_spools,
    spool_tag,
)
from monoview.core.export.tiny import tiny_lines, tiny_sessions
from monoview.core.export.zeros import export_budget, row_budgets, session_budgets, zero_budgets
from monoview.core.streambytes import MAX_ZERO_FILL
from monoview.core.tcp.session import TcpSession

if TYPE_CHECKING:
    from monoview.core.analyse import Analysis
    from monoview.core.capture.index import IndexParts
    from monoview.core.document import CaptureDocument, DocumentOptions
    from monoview.core.flows.summary import SessionRows

I64 = npt.NDArray[np.int64]
Progress = Callable[[int, int], None]
# A document with fewer sessions than this is exported in this process.
PARALLEL_SESSIONS = 64


class Exporter:
    """Writes sessions of an analysed capture (or a capture document) into a folder."""

    def __init__(
        self,
        source: Analysis | CaptureDocument,
        out_dir: str | os.PathLike[str],
        options: ExportOptions,
        *,
        workers: int | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.source = source
        self.out = Path(out_dir)
        self.options = options
        self.workers = default_workers() if workers is None else workers
        self.executor = executor  # a document's shards run there (by default a pool of ``workers``)
        self._spools = spool_tag()  # this export's spool files in the folder

    # -- what gets written --------------------------------------------------------

    def _chosen(self, sessions: Sequence[TcpSession] | Sequence[int] | None) -> list[int]:
        if sessions is None:
            return list(range(1, self._count() + 1))
        return [s if isinstance(s, int) else s.id for s in sessions]

    def _count(self) -> int:
        from monoview.core.analyse import Analysis

        if isinstance(self.source, Analysis):
            return len(self.source.sessions)
        return len(self.source)

    def _targets(self, session_id: int) -> list[str]:
        return session_targets(self.source.session(session_id), self.options)

    def check_target(self, sessions: Sequence[TcpSession] | Sequence[int] | None = None) -> None:
        """Refuse before writing anything if the export would overwrite files.

        Every target is a direct child of the output folder, so one listing of
        it answers for all of them (and an empty or new folder at once).
        """
        if self.options.force:
            return
        names = itertools.chain([MANIFEST], (n for i in self._chosen(sessions) for n in self._targets(i)))
        refuse_existing(self.out, names)

    # -- writing ------------------------------------------------------------------

    def export(
        self,
        sessions: Sequence[TcpSession] | Sequence[int] | None = None,
        progress: Progress | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> dict[str, Any]:
        """Export ``sessions`` (all by default: TcpSessions or ids); write and return the manifest."""
        ids = sorted(set(self._chosen(sessions)))
        self.check_target(ids)
        self.out.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(self.out)
        info = CaptureInfo.of(self.source)
        digest: dict[str, str] = {}
        try:
            entries, lines = self._entries(
                ids, progress, cancel, meanwhile=lambda: digest.update(sha=file_sha256(info.paths))
            )
            manifest = self.manifest(info, digest["sha"], entries, complete=len(entries) == len(ids))
            encoded: dict[str, Sequence[str | SpooledLine]] | None = None
            if lines is not None:
                encoded = {"streams": lines}
            AtomicWriter(self.out, MANIFEST, force=True).write(json_chunks(manifest, encoded=encoded))
        finally:
            remove_spools(self.out, self._spools)
        if self.options.sync:
            os.sync()
        return manifest

    def describe(self, sessions: Sequence[TcpSession] | Sequence[int] | None = None) -> dict[str, Any]:
        """The manifest an export would write, computed in memory; no file is written.

        Only valid with ``directions``, ``monologues`` and ``transcript`` off
        (lengths and hashes are then computed without writing).
        """
        if self.options.writes:
            raise ValueError("describe() writes nothing: turn directions, monologues and transcript off")
        info = CaptureInfo.of(self.source)
        ids = sorted(set(self._chosen(sessions)))
        digest: dict[str, str] = {}
        # the entries are the answer (and there is no folder to spool into)
        options = dataclasses.replace(self.options, return_streams=True)
        entries, _lines = self._entries(
            ids, None, None, meanwhile=lambda: digest.update(sha=file_sha256(info.paths)), options=options
        )
        return self.manifest(info, digest["sha"], entries)

    def _entries(
        self,
        ids: list[int],
        progress: Progress | None,
        cancel: Callable[[], bool] | None,
        meanwhile: Callable[[], None],
        options: ExportOptions | None = None,
    ) -> tuple[list[dict[str, Any] | None], Sequence[str | SpooledLine] | None]:
        """The sessions' manifest entries, and their manifest lines if the workers encoded
        them; ``meanwhile`` runs while workers write.

        (In this thread, after the workers are forked: a thread started before
        would make the pool fall back to the slower forkserver.)
        """
        from monoview.core.analyse import Analysis

        options = self.options if options is None else options
        files = SessionFiles(self.out, options)
        budget = export_budget(*CaptureInfo.of(self.source).paths)
        if isinstance(self.source, Analysis):
            sessions = [self.source.session(i) for i in ids]
            entries: list[dict[str, Any] | None] = []
            shares = session_budgets(sessions, budget)
            for n, (session, budgets) in enumerate(zip(sessions, shares, strict=True)):
                if cancel is not None and cancel():
                    break
                with zero_budgets(session, budgets):
                    entries.append(files.export(session))
                if progress is not None:
                    progress(n + 1, len(ids))
            meanwhile()
            return entries, None
        return _document_entries(
            self.source, ids, options, self.out, self.workers, progress, cancel, meanwhile,
            self.executor, zero_budget=budget, spools=self._spools,
        )  # fmt: skip

    def manifest(
        self, info: CaptureInfo, sha256: str, entries: Sequence[dict[str, Any] | None], complete: bool = True
    ) -> dict[str, Any]:
        """The manifest document around the stream entries."""
        from monoview import __version__

        return {
            "schema": "monoview-manifest/1",
            "tool": {"monoview": __version__},
            "capture": info.json(sha256),
            "export": {
                "format": self.options.fmt.value,
                "gaps": self.options.gaps.value,
                "layout": self.options.layout.value,
                "complete": complete,
                # zeros in place of missing bytes, at most (``export.zeros``)
                "zero_fill": {
                    "per_direction": MAX_ZERO_FILL,
                    "per_export": export_budget(*info.paths),
                    "per": "kind of file (directions, monologues, transcripts), counted before encoding",
                },
            },
            "streams": entries,
        }


def _remove_leftovers(out: Path) -> None:
    """Temporary files an interrupted export left behind (``.NAME.PID.monoview-part``)."""
    for folder, _dirs, names in os.walk(out):
        for name in names:
            if name.startswith(".") and name.endswith(PART_SUFFIX) and not live_spool(name):
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    path.unlink(missing_ok=True)


# -- a document, in shards --------------------------------------------------------


@dataclass(frozen=True)
class ExportShard:
    """Export some sessions of a document (runs in a worker process)."""

    parts: IndexParts
    rows: SessionRows  # the shard's session rows: row k is session ids[k]
    ids: I64  # the sessions of this shard
    options: ExportOptions
    document: DocumentOptions
    out: str
    zero_budgets: I64  # (len(ids), 2): each session's zeros for c2s, s2c (``zeros.row_budgets``)
    spools: str  # the export's spool tag (``spool.spool_tag``)


def export_shard(task: ExportShard) -> list[tuple[int, dict[str, Any], str]] | SpooledLines:
    """Replay and write the shard's sessions; their manifest entries and lines by id.

    The lines are encoded here, in parallel, rather than by the main process
    once every worker is done (a second of JSON for 20,000 sessions).  Unless
    the caller wants the entries back (``return_streams``), each line goes to
    this worker's spool file as it is made, and only where they are comes back
    (``SpooledLines``: arrays, not an object per session).

    The cyclic collector stays off meanwhile: the entries pile up (a dict and
    lists per monologue) and each full collection would walk all of them
    again, for nothing (up to a tenth of the time).  The one cycle a session
    makes (it and its monologues) is cut once it is exported.
    """
    from monoview.core.capture.captureset import opened
    from monoview.core.flows.conversations import replay_sessions

    files = SessionFiles(Path(task.out), task.options)
    # The shard's own rows (not the document's whole list, pickled into every shard's task),
    # so its sessions are read at their positions there and named by ``ids``.
    positions = np.arange(1, len(task.ids) + 1, dtype=np.int64)
    out: list[tuple[int, dict[str, Any], str]] = []
    collecting = gc.isenabled()
    gc.disable()
    spool = None if task.options.return_streams else LineSpool(task.out, task.spools)

    def keep(session_id: int, pieces: Iterable[str], entry: dict[str, Any] | None = None) -> None:
        """The session's manifest line: to the spool as its pieces come (a session's files are
        written as they are consumed), or back to the caller with its entry (``entry`` if the
        line was made from it, else the line parsed)."""
        if spool is not None:
            spool.record(session_id, pieces)
        else:
            line = "".join(pieces)
            out.append((session_id, json.loads(line) if entry is None else entry, line))

    try:
        still = quiet(task.rows, positions)
        lines = quiet_lines(task.rows, task.parts.flows, positions[still], task.options, task.ids[still])
        for session_id, line in lines:
            keep(session_id, [line])
        with opened(task.parts.source or task.parts.path) as buf:
            rest = positions[~still]
            found = tiny_sessions(
                task.parts, buf, task.rows, rest, linger_ns=task.document.linger_ns,
                max_session_size=task.document.max_session_size,
            )  # fmt: skip
            names = task.ids[found.ids - 1]
            for session_id, line, entry in tiny_lines(found, task.rows, task.parts.flows, buf, files, names):
                keep(session_id, [line], entry)
            for replayed in replay_sessions(
                task.parts, buf, task.rows, rest[~found.tiny],
                max_session_size=task.document.max_session_size, linger_ns=task.document.linger_ns,
            ):  # fmt: skip
                position = replayed.session.id
                replayed.session.id = int(task.ids[position - 1])
                with zero_budgets(replayed.session, task.zero_budgets[position - 1].tolist()):
                    keep(replayed.session.id, files.encode(replayed.session))
                replayed.session.forget_monologues()
                del replayed
    finally:
        if spool is not None:
            spool.close()
        if collecting:
            gc.enable()
    return out if spool is None else spool.lines()


def _document_entries(
    document: CaptureDocument,
    ids: list[int],
    options: ExportOptions,
    out: Path,
    workers: int,
    progress: Progress | None,
    cancel: Callable[[], bool] | None,
    meanwhile: Callable[[], None],
    executor: Executor | None = None,
    *,
    zero_budget: int,
    spools: str,
) -> tuple[list[dict[str, Any] | None], Sequence[str | SpooledLine]]:
    """Export a document's sessions ``ids``, in shards by flow across ``workers`` processes
    (of ``executor`` if given); their entries and manifest lines, in order of ``ids``."""
    from monoview.core.flows.table import session_shards

    chosen = np.array(ids, dtype=np.int64)
    count = workers if len(ids) >= PARALLEL_SESSIONS else 1
    budgets = row_budgets(document.rows, chosen, zero_budget)  # by position in ``chosen`` (ascending)
    tasks = [
        ExportShard(
            document.parts, document.rows[shard - 1], shard, options, document.options, str(out),
            budgets[np.searchsorted(chosen, shard)].reshape(-1, 2), spools,
        )
        for shard in session_shards(document.rows, document.flows.rows, chosen, count)
    ]  # fmt: skip
    entries: dict[int, tuple[dict[str, Any] | None, str | SpooledLine]] = {}
    spooled: list[SpooledLines] = []
    done = 0
    pools = nullcontext(executor) if executor is not None else local_executor(min(count, len(tasks)))
    with pools as pool:
        futures = [pool.submit(export_shard, task) for task in tasks]
        meanwhile()
        for future in futures:
            if cancel is not None and cancel():
                for other in futures:
                    other.cancel()
                break
            result = future.result()
            if isinstance(result, SpooledLines):
                spooled.append(result)
            else:
                for session_id, entry, line in result:
                    entries[session_id] = entry, line
            done += 1
            if progress is not None:
                progress(sum(len(t.ids) for t in tasks[:done]), len(ids))
    if spooled:  # every shard spooled its lines: ids ascending, as ``ids`` are
        lines = SpooledLines.joined(spooled)
        return [None] * len(lines), lines
    done_ids = [i for i in ids if i in entries]
    return [entries[i][0] for i in done_ids], [entries[i][1] for i in done_ids]


__all__ = ["Exporter", "ExportShard", "export_shard"]
