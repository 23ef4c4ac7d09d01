"""Which sessions hold a phrase in their payload: the filter's ``"text"`` and ``frame contains``.

A phrase is looked for in each monologue's bytes (what one side sent before
the other answered), so it is found however the segments cut it, and not
across two messages.  Sessions are reassembled one at a time and not cached
(``conversation(keep=False)``): a search through a gigabyte must not push out
the conversations a person is reading.  ``search_in_workers`` does the same
in worker processes, in shards by flow (a gigabyte in about half the time on
two cores, and none of it holding the interpreter lock of a window).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from monoview.core.document import CaptureDocument
from monoview.core.executor import CANCEL_POLL_S
from monoview.core.flows.query import Phrase

if TYPE_CHECKING:
    from monoview.core.capture.index import IndexParts
    from monoview.core.document import DocumentOptions
    from monoview.core.flows.summary import SessionRows

# What a search found for one session: whether each phrase is in it.
Found = list[tuple[int, tuple[bool, ...]]]
REPORT_EVERY_S: Final = 0.3
# Shards per worker: each finished shard is a report, so several keep the matches coming.
SHARDS_PER_WORKER: Final = 8


def phrases_in(document: CaptureDocument, session_id: int, phrases: Sequence[Phrase]) -> tuple[bool, ...]:
    """Whether each phrase is in one of the session's monologues."""
    session = document.conversation(session_id, keep=False)
    found = [False] * len(phrases)
    for monologue in session.monologues:
        data = monologue.data()
        folded = data.lower() if any(not p.case_sensitive for p in phrases) else data
        for k, phrase in enumerate(phrases):
            if not found[k]:
                found[k] = phrase.text in data if phrase.case_sensitive else phrase.text.lower() in folded
        if all(found):
            break
    return tuple(found)


def search_sessions(
    document: CaptureDocument,
    ids: Sequence[int],
    phrases: Sequence[Phrase],
    *,
    cancel: Callable[[], bool] | None = None,
    report: Callable[[Found], None] | None = None,
) -> Found:
    """The phrases found in each session of ``ids``, in that order.

    ``report`` hears what was found since its last call, every
    ``REPORT_EVERY_S`` (a window shows matches as they come); the rest is
    returned.  ``cancel()`` turning true stops the search where it is.
    """
    pending: Found = []
    last = time.monotonic()
    for session_id in ids:
        if cancel is not None and cancel():
            break
        pending.append((session_id, phrases_in(document, session_id, phrases)))
        if report is not None and time.monotonic() - last >= REPORT_EVERY_S:
            report(pending)
            pending, last = [], time.monotonic()
    return pending


@dataclass(frozen=True)
class SearchShard:
    """Some sessions of a document and the phrases to look for in them."""

    path: str
    parts: IndexParts
    rows: SessionRows
    options: DocumentOptions
    ids: npt.NDArray[np.int64]
    phrases: tuple[Phrase, ...]


def search_shard(task: SearchShard) -> Found:
    """In a worker: the phrases found in each session of the shard."""
    from monoview.core.fanout import attach

    document = attach(task.path, task.parts, task.rows, task.options)
    try:
        phrases = task.phrases
        return [(session_id, phrases_in(document, session_id, phrases)) for session_id in task.ids.tolist()]
    finally:
        document.close()


def search_in_workers(
    document: CaptureDocument,
    ids: Sequence[int],
    phrases: Sequence[Phrase],
    executor: Executor,
    workers: int,
    *,
    cancel: Callable[[], bool] | None = None,
    report: Callable[[Found], None] | None = None,
) -> Found:
    """``search_sessions`` in ``executor``'s worker processes; ``report`` hears each shard as it
    finishes (in no particular order), and the return value is empty unless there is no
    ``report``.  ``cancel()`` turning true drops the shards not started."""
    from monoview.core.flows.table import session_shards

    chosen = np.asarray(ids, dtype=np.int64)
    if not len(chosen):
        return []
    shards = session_shards(document.rows, document.flows.rows, chosen, max(1, workers) * SHARDS_PER_WORKER)
    path, parts, rows, options = str(document.path), document.parts, document.rows, document.options
    futures: set[Future[Found]] = {
        executor.submit(search_shard, SearchShard(path, parts, rows, options, shard, tuple(phrases)))
        for shard in shards
    }
    kept: Found = []
    try:
        while futures:
            if cancel is not None and cancel():
                break
            done, futures = wait(futures, timeout=CANCEL_POLL_S, return_when=FIRST_COMPLETED)
            for future in done:
                if report is not None:
                    report(future.result())
                else:
                    kept.extend(future.result())
    finally:
        for future in futures:
            future.cancel()
    return sorted(kept)


__all__ = ["Found", "SearchShard", "phrases_in", "search_in_workers", "search_sessions", "search_shard"]
