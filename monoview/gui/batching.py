"""Batches from the loader, merged for the GUI and cut into slices it applies one per turn.

The window merges the batches that arrive while it is busy (one model update
per ``BATCH_APPLY_MS`` instead of one per batch) and then applies the result
in slices, so that no single turn of the event loop does all of it.  The last
batch of a capture is the big one: every session still open ends there, with
its last monologues, and inserting child rows under hundreds of sessions at
once kept the GUI thread busy for 20–40 ms.
"""

from __future__ import annotations

from monoview.core.analyse import Batch
from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession

# Sessions known before a batch that get new monologues, per slice: each one is a separate
# insertion of child rows (20–60 µs of work for the model, the proxy and the tree).
SESSIONS_PER_SLICE = 100


def merge_batches(batches: list[Batch]) -> Batch:
    """One batch with everything ``batches`` reported, in order."""
    last = batches[-1]
    if len(batches) == 1:
        return last
    return Batch(
        new_sessions=[s for b in batches for s in b.new_sessions],
        monologues=[m for b in batches for m in b.monologues],
        ended=[s for b in batches for s in b.ended],
        bytes_read=last.bytes_read,
        total_bytes=last.total_bytes,
        frames=last.frames,
        done=last.done,
        cancelled=last.cancelled,
        error=last.error,
    )


def split_batch(batch: Batch, sessions_per_slice: int | None = None) -> list[Batch]:
    """``batch`` as slices that, applied in order, change the model exactly as ``batch`` does.

    The first slice has every new session with its monologues (one insertion
    at the top level, so one relayout of the tree).  Monologues of sessions
    known before follow, each session's together and in order, at most
    ``sessions_per_slice`` (``SESSIONS_PER_SLICE`` unless given) sessions per
    slice.  The ended sessions and the batch's end state (``done``,
    ``cancelled``, ``error``) come with the last slice, after every monologue.
    """
    limit = SESSIONS_PER_SLICE if sessions_per_slice is None else sessions_per_slice
    new_ids = {s.id for s in batch.new_sessions}
    with_new: list[Monologue] = []
    known: dict[int, list[Monologue]] = {}  # by session id, in order of first appearance
    for monologue in batch.monologues:
        if monologue.session.id in new_ids:
            with_new.append(monologue)
        else:
            known.setdefault(monologue.session.id, []).append(monologue)
    groups = list(known.values())
    if len(groups) <= limit:
        return [batch]
    chunks = [groups[i : i + limit] for i in range(0, len(groups), limit)]
    parts = [with_new + _flatten(chunks[0])] + [_flatten(chunk) for chunk in chunks[1:]]
    slices = [_partial(batch, batch.new_sessions if k == 0 else [], part) for k, part in enumerate(parts)]
    slices[-1].ended = batch.ended
    slices[-1].done, slices[-1].cancelled, slices[-1].error = batch.done, batch.cancelled, batch.error
    return slices


def _flatten(groups: list[list[Monologue]]) -> list[Monologue]:
    return [m for group in groups for m in group]


def _partial(batch: Batch, new_sessions: list[TcpSession], monologues: list[Monologue]) -> Batch:
    """A slice of ``batch``: progress as of the whole batch, nothing ended, not the end."""
    return Batch(
        new_sessions=list(new_sessions),
        monologues=monologues,
        ended=[],
        bytes_read=batch.bytes_read,
        total_bytes=batch.total_bytes,
        frames=batch.frames,
    )
