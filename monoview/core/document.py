"""The capture document: one capture's index, session list and conversations.

The command line (and, next, the window) works on this object.  Opening it
indexes the capture in worker processes and summarises every session
(``flows.table``); a conversation (the exact reassembly of one session, with
its monologues, gaps, conflicts and byte-to-frame map) is built on demand from
the session's own rows and cached.  Listeners get the Net::Analysis events
session by session, in order of session start.
"""

from __future__ import annotations

import mmap
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from monoview.core.capture.captureset import CaptureSet, SetBuffer
from monoview.core.capture.index import MIN_RANGE_BYTES, FlowTable, IndexParts, IndexStats, build_parts
from monoview.core.capture.locate import FlowLocator
from monoview.core.capture.members import CaptureFiles
from monoview.core.capture.records import part_frames
from monoview.core.capture.walk import BATCH_RECORDS
from monoview.core.dispatcher import Dispatcher
from monoview.core.errors import CaptureFormatError, UnknownSessionError
from monoview.core.executor import default_workers, local_executor, workers_for
from monoview.core.flows.grouped import REPLAY_COLUMNS, GroupedRows
from monoview.core.flows.hints import run_hints
from monoview.core.flows.info import SessionInfo, session_infos
from monoview.core.flows.summary import SessionRows
from monoview.core.flows.table import build_sessions, endpoints_of
from monoview.core.listener import Listener
from monoview.core.packet import SegmentKind
from monoview.core.tcp.replay import FlowRows, Replayed, replay_flow
from monoview.core.tcp.session import TcpSession
from monoview.core.tcp.table import LINGER_NS

if TYPE_CHECKING:
    from monoview.core.flows.shardnames import SessionNames

# Conversations kept for reuse, counted in delivered pieces (about 40 bytes each).
CACHE_PIECES: Final = 2_000_000
# The share of building a document that indexing takes (the rest is summarising sessions).
INDEX_SHARE: Final = 0.6
# At most this many bytes indexed (the capture, or its prefix) in this process: the index
# columns stay in memory.
INLINE_COLUMNS_BYTES: Final = 4 << 20
# A bigger capture indexed in this process keeps its columns in memory too while they are at
# most this big (some 57 bytes a TCP packet: 8 MiB is about 150,000 packets, the 100 MB
# synthetic capture's 116,000 take 6.6 MB); writing a dozen column files, then mapping them
# back, cost 20 to 30 ms of the 230 to 250 ms of CPU that capture's index and list take.  Own
# memory stays bounded whatever the packets' sizes: more columns than this go to files.
KEEP_COLUMNS_BYTES: Final = 8 << 20


@dataclass(frozen=True)
class DocumentOptions:
    """How a capture is read (the TCP listener's options that change sessions)."""

    split_interfaces: bool = False
    max_session_size: int | None = None
    linger_ns: int = LINGER_NS


class CaptureDocument:
    """A capture, its sessions, and the conversation of any of them.

    Raises CaptureFormatError when the file is no capture; damage later in
    the file is reported by ``read_error`` (everything before it is kept).
    ``workers`` processes index it (by default one per core, or only this process
    for a capture under ``executor.ONE_PROCESS_BYTES``; ranges of at least ``min_range`` bytes,
    ``batch`` records at a time) and summarise it; none of that changes what
    the document holds.  ``progress(fraction)`` hears how far that is, and
    ``cancel()`` turning true stops it with ``Cancelled``.  ``prefix``: read
    only the records that start in the capture's first ``prefix`` bytes: the
    document of the capture cut there (a window lists it while the whole is
    read; its sessions are the whole capture's first ones, with the same ids,
    but one still going at the cut has only the packets before it).

    Conversations may be asked for from several threads (a window reassembles
    a big session off its GUI thread while it shows small ones at once): the
    cache is locked, the reassembly is not (two threads asking for one session
    at once both reassemble it).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        options: DocumentOptions | None = None,
        *,
        workers: int | None = None,
        executor: Executor | None = None,
        min_range: int = MIN_RANGE_BYTES,
        batch: int = BATCH_RECORDS,
        progress: Callable[[float], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        prefix: int | None = None,
        names: bool = False,
    ) -> None:
        self.names: SessionNames | None = None
        self._wants_names = names
        # a compressed capture or a pipe is read from a decompressed temporary copy; several
        # files or a folder are one capture (a set)
        self._files: CaptureFiles | None = CaptureFiles(path, cancel)
        self.path, self.source = self._files.path, self._files.source
        self._progress, self._cancel = progress, cancel
        self.options = options or DocumentOptions()
        self._min_range, self._batch, self.prefix = min_range, batch, prefix
        if workers is not None:
            count = workers
        else:  # one process for a small capture, unless a caller's executor does the work
            count = default_workers() if executor is not None else workers_for(self._indexed_bytes())
        try:
            if executor is not None:
                self._parts = self._build(executor, count)
            else:
                with local_executor(count) as pool:
                    self._parts = self._build(pool, count, own=True)
            self._owns_parts = True
            self._open_conversations()
        except CaptureFormatError as exc:
            note = self._note
            self._close_local()
            if note is None:
                raise
            raise CaptureFormatError(f"{note}. {exc}") from None  # the cut explains the damage
        except BaseException:
            self._close_local()
            raise

    @property
    def _note(self) -> str | None:
        """What decompressing found (compressed data that ended early), files left out."""
        return self._files.note if self._files is not None else None

    def _close_local(self) -> None:
        if self._files is not None:
            self._files.close()

    @classmethod
    def attached(
        cls,
        path: str | os.PathLike[str],
        parts: IndexParts,
        rows: SessionRows,
        options: DocumentOptions,
        locator: FlowLocator | None = None,
    ) -> CaptureDocument:
        """A document on an index built elsewhere (in a worker process: what it was handed),
        with the index's flow locator if one was made already.

        It maps the file itself; closing it leaves the index to its owner.
        """
        document = cls.__new__(cls)
        document.path, document.options, document._files = Path(path), options, None
        document.source = parts.source if parts.source is not None else document.path
        document._parts, document.rows, document._owns_parts = parts, rows, False
        document.prefix, document.names = None, None
        if locator is not None:
            document._locator = locator
        document._open_conversations()
        return document

    def _open_conversations(self) -> None:
        self._cache: OrderedDict[int, tuple[TcpSession, int]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._cached_pieces = 0
        # Conversations read their bytes from the file as long as the document lives.
        if isinstance(self.source, CaptureSet):
            self._buffer: mmap.mmap | SetBuffer = SetBuffer(self.source)
        else:
            with open(self.path, "rb") as handle:
                self._buffer = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)

    def _build(self, executor: Executor, count: int, own: bool = False) -> IndexParts:
        # Built here, in one range, of a small file: the columns stay in memory (``build_parts``
        # without an executor).  Saving and mapping a dozen column files per document cost more
        # than indexing a small capture; a caller's executor, which may hand the index to other
        # processes later (the window's pool), still gets them as files.  Columns in memory are
        # the process's own (anonymous) memory, some 50 bytes a packet: only below
        # ``INLINE_COLUMNS_BYTES`` of capture, where that is a few MB whatever the packets' sizes;
        # above, the columns still stay in memory up to ``KEEP_COLUMNS_BYTES`` (the range finds
        # out once it is walked), and mapped files hold any more.
        inline = own and count <= 1 and self._indexed_bytes() <= INLINE_COLUMNS_BYTES
        keep = KEEP_COLUMNS_BYTES if own and count <= 1 else 0
        parts = build_parts(
            self.source, split_interfaces=self.options.split_interfaces, workers=count,
            executor=None if inline else executor,
            min_range=self._min_range, batch=self._batch, progress=self._phase(0.0, INDEX_SHARE),
            cancel=self._cancel, prefix=self.prefix, keep_bytes=keep,
        )  # fmt: skip
        try:
            self.rows: SessionRows
            self.rows, self.names = build_sessions(
                parts, executor, count, max_session_size=self.options.max_session_size,
                linger_ns=self.options.linger_ns, progress=self._phase(INDEX_SHARE, 1.0),
                cancel=self._cancel, names=self._wants_names,
            )  # fmt: skip
        except BaseException:
            parts.close()
            raise
        return parts

    def _indexed_bytes(self) -> int:
        """The capture's bytes that are indexed: every file's (of a set), each up to ``prefix``
        (a window's preview of a gigabyte indexes 4 MiB: its columns stay in memory)."""
        paths = self.source.paths if isinstance(self.source, CaptureSet) else [self.path]
        sizes = [os.path.getsize(p) for p in paths]
        return sum(sizes if self.prefix is None else [min(size, self.prefix) for size in sizes])

    def _phase(self, start: float, end: float) -> Callable[[int, int], None] | None:
        """Progress of one phase of the build, as a fraction of the whole."""
        report = self._progress
        if report is None:
            return None
        return lambda done, total: report(start + (end - start) * done / max(total, 1))

    def __enter__(self) -> CaptureDocument:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- the capture ------------------------------------------------------------

    @property
    def name(self) -> str:
        """The file's base name, used in every message about it (a set's: its first file's
        and how many follow)."""
        return self.source.name

    @property
    def files(self) -> list[Path]:
        """The capture's files, in capture order (one, unless it is a set)."""
        return list(self.source.paths) if isinstance(self.source, CaptureSet) else [self.path]

    def where(self, offset: int) -> tuple[Path, int]:
        """The file an offset of the buffer lies in, and the offset in that file (a set's
        offsets are virtual: each member's bytes follow the previous member's)."""
        if isinstance(self.source, CaptureSet):
            return self.source.where(offset)
        return self.path, offset

    def offset_text(self, offset: int) -> str:
        """How the window names where a byte is: ``file offset 0x...`` in one file, the
        member's name and its offset in a set."""
        if isinstance(self.source, CaptureSet):
            path, local = self.source.where(offset)
            return f"{path.name} offset 0x{local:x}"
        return f"file offset 0x{offset:x}"

    @property
    def format(self) -> str:
        """``pcap``, ``pcap-ns`` or ``pcapng``."""
        return self._parts.format

    @property
    def stats(self) -> IndexStats:
        """Frames read, TCP packets, what was skipped and why."""
        return self._parts.stats

    @property
    def read_error(self) -> str | None:
        """The one-sentence message about damage in the file, if any (compressed data that ended
        early is damage too, even where it ended between two records)."""
        cut = self._note
        found = self._parts.read_error
        if cut is not None and found is not None:
            return f"{cut}. {found}"
        return found if cut is None else f"{cut}."

    @property
    def parts(self) -> IndexParts:
        """The index, in the ranges its workers built (what worker tasks are handed)."""
        return self._parts

    @property
    def flows(self) -> FlowTable:
        """Every flow (both endpoints and a context)."""
        return self._parts.flows

    # -- sessions ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.rows)

    @cached_property
    def sessions(self) -> list[SessionInfo]:
        """Every session, ids from 1 in order of first packet."""
        return session_infos(self.rows, self.flows)

    def sessions_frame(self, applications: bool = True) -> Any:
        """The session list as a pandas DataFrame (``flows.frame``; pandas is an optional
        extra, ``pip install 'monoview[pandas]'``)."""
        from monoview.core.flows.frame import sessions_frame

        return sessions_frame(self, applications=applications)

    def session(self, session_id: int) -> SessionInfo:
        """The session with this id."""
        self._check(session_id)
        return self.sessions[session_id - 1]

    def session_row(self, session_id: int) -> np.void:
        """The session's row of the list (``flows.summary.SESSION``)."""
        self._check(session_id)
        row: np.void = self.rows[session_id - 1]
        return row

    def _check(self, session_id: int) -> None:
        if not 1 <= session_id <= len(self.rows):
            raise UnknownSessionError(f"{self.name} has no session {session_id} (it has {len(self.rows)})")

    # -- conversations ------------------------------------------------------------

    def conversation(self, session_id: int, *, keep: bool = True) -> TcpSession:
        """The exact reassembly of one session (cached; with ``keep`` false a conversation
        not cached yet is made without caching it: a search through every session must not
        push out the ones a person is reading)."""
        cached = self.cached_conversation(session_id)
        if cached is not None:
            return cached
        replayed, _rows = self._replay(session_id)
        session = replayed.session
        if not keep:
            return session
        return self._keep(session_id, session)

    def adopt(self, session: TcpSession) -> TcpSession:
        """A conversation of this document reassembled by a worker process (``fanout.
        reassemble``): read from this process's mapping from now on, and cached."""
        self._check(session.id)
        session.rebind(self._buffer)
        return self._keep(session.id, session)

    def _keep(self, session_id: int, session: TcpSession) -> TcpSession:
        """Cache a conversation (the one already cached if another thread was first)."""
        pieces = sum(len(s.p_start) for s in session.streams)
        with self._cache_lock:
            if session_id in self._cache:  # another thread made it meanwhile
                return self._cache[session_id][0]
            self._cache[session_id] = (session, pieces)
            self._cached_pieces += pieces
            while self._cached_pieces > CACHE_PIECES and len(self._cache) > 1:
                _old, (_session, count) = self._cache.popitem(last=False)
                self._cached_pieces -= count
        return session

    def cached_conversation(self, session_id: int) -> TcpSession | None:
        """The conversation of a session if it was reassembled and is still cached."""
        with self._cache_lock:
            found = self._cache.get(session_id)
            if found is None:
                return None
            self._cache.move_to_end(session_id)
            return found[0]

    def packets_by_direction(self, session_id: int) -> tuple[int, int]:
        """Packets the client sent and packets the server sent (with payload or not), counted
        on the index's direction column (numpy: a window asks on its GUI thread)."""
        row = self.session_row(session_id)
        first, stop = int(row["first_row"]), int(row["stop_row"])
        directions = self._locator.select(self._parts, int(row["flow"]), ("dir",))["dir"][first:stop]
        client_dir = 0 if int(row["flipped"]) == int(row["client_side"]) else 1
        client = int(np.count_nonzero(directions == client_dir))
        return client, stop - first - client

    def conversations(self, ids: Iterable[int] | None = None) -> Iterator[TcpSession]:
        """The conversations of ``ids`` (all by default), in the order given."""
        for session_id in range(1, len(self.rows) + 1) if ids is None else ids:
            yield self.conversation(session_id)

    @cached_property
    def _locator(self) -> FlowLocator:
        return FlowLocator.of(self._parts)

    @property
    def locator(self) -> FlowLocator:
        """Where each flow's rows are in the index (made on first use)."""
        return self._locator

    @property
    def buffer(self) -> mmap.mmap | SetBuffer:
        """The capture file, mapped read-only (what conversations read their bytes from; a
        set's files as one buffer, by virtual offset)."""
        return self._buffer

    def _flow_rows(self, flow: int) -> tuple[FlowRows, dict[str, np.ndarray]]:
        columns = self._locator.select(self._parts, flow, (*REPLAY_COLUMNS, "flow"))
        grouped = GroupedRows.of_columns(columns, self._parts.payload_parts)
        rows, _spans, picked = grouped.flow_rows([0])
        return rows, picked

    def _replay(
        self,
        session_id: int,
        *,
        fast: bool = True,
        rows: FlowRows | None = None,
        on_row: Callable[[Replayed, int, SegmentKind], None] | None = None,
    ) -> tuple[Replayed, FlowRows]:
        """Replay one session from its flow's ``rows`` (read from the index when not given)."""
        self._check(session_id)
        row = self.rows[session_id - 1]
        flow, first, stop = int(row["flow"]), int(row["first_row"]), int(row["stop_row"])
        if rows is None:
            rows, columns = self._flow_rows(flow)
            hints = run_hints(columns, [(0, len(rows))], part_frames(rows.parts)) if fast else None
        else:
            hints = None
        reason = "reused" if stop < len(rows) else "capture end"
        (replayed,) = replay_flow(
            self._buffer, rows, self.flows.context(flow), endpoints_of(self.flows, flow), start=first,
            stop=stop, max_session_size=self.options.max_session_size, linger_ns=self.options.linger_ns,
            end_reason=reason, fast=fast, hints=hints, on_row=on_row,
        )  # fmt: skip
        replayed.session.id = session_id
        replayed.session.path_set = self.flows.outer_path_set(flow)
        return replayed, rows

    # -- events -----------------------------------------------------------------

    def dispatch(
        self,
        listeners: Iterable[Listener],
        dispatcher: Dispatcher | None = None,
        ids: Iterable[int] | None = None,
    ) -> Dispatcher:
        """Replay every session's events (or those of ``ids``, ascending) to ``listeners``,
        session by session in order of start.

        Each session is replayed packet by packet and its events are handed on
        as they happen, so a listener sees the session as it was then (at its
        start, a session is still open).  A listener that takes ``tcp_packet``
        gets every packet (with its session and kind) before the events it
        caused, as the per-packet path emits them.
        """
        from monoview.core.session_events import dispatch_sessions  # it reads this document's rows

        dispatcher = dispatcher or Dispatcher()
        for listener in listeners:
            dispatcher.add_listener(listener)
        dispatcher.emit("setup")
        chosen = np.arange(1, len(self.rows) + 1) if ids is None else np.array(sorted(ids), dtype=np.int64)
        for session_id in chosen.tolist():
            self._check(session_id)
        dispatch_sessions(self, dispatcher, chosen)
        dispatcher.emit("teardown")
        return dispatcher

    def close(self) -> None:
        """Release the index's files, the cached conversations and the mapped file."""
        self._cache.clear()
        if self._owns_parts:
            self._parts.close()
        with suppress(BufferError):
            self._buffer.close()
        self._close_local()  # only once the index's files are closed too

