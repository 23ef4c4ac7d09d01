"""How many bytes of zeros an export may write for holes, and how they are shared out.

Each direction may fill its holes with at most ``MAX_ZERO_FILL`` zeros, but
that alone does not bound an export: a hostile kilobyte can describe thousands
of sessions, each with a hole just under the limit.  So an export also has a
budget of its own, the capture's size (at least ``MAX_ZERO_FILL``): zeros never
make a kind of file (direction streams, monologues, transcripts) larger in all
than the capture they came from, beyond that floor.

The budget is shared out before any worker starts, in session order and by
what each direction could use (its hole bytes, up to its own limit), so the
result does not depend on how the sessions were split among workers.  A hole
that does not fit in what its direction was given gets the marker instead, and
the manifest says so (``filled: false``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt

from monoview.core.flows.summary import SessionRows
from monoview.core.streambytes import MAX_ZERO_FILL
from monoview.core.tcp.session import TcpSession

I64 = npt.NDArray[np.int64]
DIRECTIONS = ("c2s", "s2c")


def export_budget(*capture: str | os.PathLike[str]) -> int:
    """Zeros one export may write, per kind of file: the capture's size (all its files'), at
    least ``MAX_ZERO_FILL``."""
    return max(MAX_ZERO_FILL, sum(os.path.getsize(path) for path in capture))


def share_out(wanted: I64, budget: int) -> I64:
    """Each direction's zero budget, for directions wanting ``wanted`` bytes in order (their
    hole bytes): all it wants, up to ``MAX_ZERO_FILL``, while the export's ``budget`` lasts, the
    rest of it to the one that exhausts it, then none.  Never more than it wants, so the
    budgets add up to ``budget`` at most even if a direction's holes were miscounted."""
    wanted = np.minimum(wanted, MAX_ZERO_FILL)
    before = np.cumsum(wanted) - wanted
    given: I64 = np.minimum(np.maximum(budget - before, 0), wanted).astype(np.int64)
    return given


def row_budgets(rows: SessionRows, ids: I64, budget: int) -> I64:
    """Zero budgets of sessions ``ids`` (in that order), as an (n, 2) array of c2s, s2c."""
    chosen = rows[ids - 1]
    client = chosen["client_side"].astype(bool)
    by_side = np.stack([chosen["gap_bytes0"], chosen["gap_bytes1"]], axis=1).astype(np.int64)
    c2s = np.where(client, by_side[:, 1], by_side[:, 0])
    s2c = np.where(client, by_side[:, 0], by_side[:, 1])
    wanted = np.stack([c2s, s2c], axis=1).reshape(-1)
    return share_out(wanted, budget).reshape(-1, 2)


def session_budgets(sessions: Iterable[TcpSession], budget: int) -> I64:
    """As ``row_budgets``, for replayed sessions (their hole bytes counted from their gaps)."""
    wanted = [sum(g.length for g in s.gaps(d)) for s in sessions for d in DIRECTIONS]
    return share_out(np.array(wanted, dtype=np.int64), budget).reshape(-1, 2)


@contextmanager
def zero_budgets(session: TcpSession, budgets: Iterable[int]) -> Iterator[TcpSession]:
    """``session`` with its directions' zero budgets set to ``budgets`` (c2s, s2c) while it is
    written; put back afterwards, because a session may be shared with a window or a cache."""
    streams = [session.stream(d) for d in DIRECTIONS]
    before = [s.zero_budget for s in streams]
    for stream, value in zip(streams, budgets, strict=True):
        stream.zero_budget = int(value)
    try:
        yield session
    finally:
        for stream, value in zip(streams, before, strict=True):
            stream.zero_budget = value
