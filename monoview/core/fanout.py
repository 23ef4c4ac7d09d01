"""Listeners over a document's sessions in worker processes, their results in session order.

``CaptureDocument.dispatch`` replays every session in this process.  A
listener whose results belong to sessions (HTTP transactions, say) can run in
worker processes instead: the sessions are split into shards by flow, as for
export; each worker attaches to the document's index, makes its own
listeners (``make``), dispatches its shard's sessions to them, and turns them
into ``(session id, result)`` pairs (``collect``).  The pairs come back in
order of session id, each session's in the order its worker collected them:
the order one dispatch in one process gives, whatever the number of workers.
Both functions must be module-level (they travel to the workers by name), and
so must what ``collect`` returns be picklable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from monoview.core.capture.locate import FlowLocator
from monoview.core.dispatcher import ListenerFailure
from monoview.core.executor import local_executor
from monoview.core.listener import Listener

if TYPE_CHECKING:
    from monoview.core.capture.index import IndexParts
    from monoview.core.document import CaptureDocument, DocumentOptions
    from monoview.core.flows.summary import SessionRows
    from monoview.core.tcp.session import TcpSession

I64 = npt.NDArray[np.int64]
Make = Callable[[], list[Listener]]
Collect = Callable[[list[Listener]], list[tuple[int, Any]]]
Failures = dict[tuple[str, str], ListenerFailure]
# A document with fewer sessions than this is dispatched in this process.
PARALLEL_SESSIONS = 64


@dataclass(frozen=True)
class ListenerShard:
    """Some sessions of a document, and how to make and read their listeners."""

    path: str
    parts: IndexParts
    rows: SessionRows
    options: DocumentOptions
    ids: I64
    make: Make
    collect: Collect


# The flow locator a worker made for the index its last shard came from: a worker runs
# several shards of one index, and each would otherwise sort the whole flow column again.
_located: dict[str, FlowLocator] = {}


def attach(path: str, parts: IndexParts, rows: SessionRows, options: DocumentOptions) -> CaptureDocument:
    """In a worker: a document on the index it was handed (close it after use), with the
    flow locator this worker made for that index before, if any."""
    from monoview.core.document import CaptureDocument

    prepare(path, parts)
    key = parts.folder or path
    return CaptureDocument.attached(path, parts, rows, options, _located[key])


def prepare(path: str, parts: IndexParts) -> None:
    """In a worker: make the flow locator of an index now (a sort of its whole flow column,
    a tenth of a second on a gigabyte, over a second on a busy machine), so that the first
    conversation asked of this worker does not wait for it."""
    key = parts.folder or path
    if key not in _located:
        _located.clear()
        _located[key] = FlowLocator.of(parts)


def run_shard(task: ListenerShard) -> tuple[list[tuple[int, Any]], Failures]:
    """Dispatch the shard's sessions to fresh listeners; their results and failures."""
    document = attach(task.path, task.parts, task.rows, task.options)
    try:
        listeners = task.make()
        dispatcher = document.dispatch(listeners, ids=task.ids.tolist())
        return task.collect(listeners), dispatcher.failures
    finally:
        document.close()


@dataclass(frozen=True)
class ConversationTask:
    """One session of a document, to be reassembled in a worker process."""

    path: str
    parts: IndexParts
    rows: SessionRows
    options: DocumentOptions
    session_id: int

    @classmethod
    def of(cls, document: CaptureDocument, session_id: int) -> ConversationTask:
        """The task for one session of ``document``."""
        return cls(str(document.path), document.parts, document.rows, document.options, session_id)


def reassemble(task: ConversationTask) -> TcpSession:
    """In a worker: the session's exact conversation, without the worker's mapping of the file
    (``CaptureDocument.adopt`` binds it to the asking process's).  A window asks for a big
    session here so that reassembling it never holds the window's interpreter lock."""
    document = attach(task.path, task.parts, task.rows, task.options)
    try:
        return document.conversation(task.session_id, keep=False)
    finally:
        document.close()


def map_sessions(
    document: CaptureDocument, make: Make, collect: Collect, *, workers: int | None = None
) -> tuple[list[Any], Failures]:
    """Every session's results, in order of session id; and the listeners' failures."""
    from monoview.core.executor import default_workers
    from monoview.core.flows.table import session_shards

    rows = document.rows
    count = default_workers() if workers is None else workers
    if count <= 1 or len(rows) < PARALLEL_SESSIONS:
        # In this process, on the document itself (no second mapping and flow locator).
        listeners = make()
        dispatcher = document.dispatch(listeners)
        return _in_order([collect(listeners)]), dict(dispatcher.failures)
    ids = np.arange(1, len(rows) + 1, dtype=np.int64)
    tasks = [
        ListenerShard(str(document.path), document.parts, rows, document.options, shard, make, collect)
        for shard in session_shards(rows, document.flows.rows, ids, count)
    ]
    shard_results: list[list[tuple[int, Any]]] = []
    failures: Failures = {}
    with local_executor(min(count, len(tasks))) as pool:
        for results, failed in (f.result() for f in [pool.submit(run_shard, t) for t in tasks]):
            shard_results.append(results)
            for key, failure in failed.items():
                if key in failures:
                    failures[key].count += failure.count
                else:
                    failures[key] = failure
    return _in_order(shard_results), failures


def _in_order(shard_results: list[list[tuple[int, Any]]]) -> list[Any]:
    """The results of all shards by session id, each session's in the order collected."""
    found = [
        (session_id, k, result) for results in shard_results for k, (session_id, result) in enumerate(results)
    ]
    found.sort(key=lambda item: (item[0], item[1]))
    return [result for _id, _k, result in found]


__all__ = ["ConversationTask", "ListenerShard", "attach", "map_sessions", "reassemble", "run_shard"]
