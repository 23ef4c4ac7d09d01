"""Numeric series for the plots: a timeline of sessions and bytes over time.

Pure numpy, no Qt, so the plot view only hands arrays to pyqtgraph and the
numbers can be tested on their own.  Times are seconds relative to a base
timestamp (the capture's first packet) because float64 seconds since the epoch
lose the microseconds a plot of a short exchange needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from monoview.core.tcp.monologue import Monologue
from monoview.core.tcp.session import TcpSession
from monoview.core.verdict import VERDICTS, session_verdict

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

STATES = ("open", "half-closed", "closed", "reset")


@dataclass(frozen=True)
class Timeline:
    """One bar per session: ``start[i]``..``end[i]`` seconds after ``base_ns``."""

    ids: IntArray
    start: FloatArray
    end: FloatArray
    verdict: IntArray  # index into verdict.VERDICTS: the bar's colour, the list's dot
    base_ns: int


def base_time_ns(sessions: Sequence[TcpSession]) -> int:
    """Earliest first packet of ``sessions`` (0 when there are none)."""
    return min((s.first_ts_ns for s in sessions), default=0)


def session_timeline(sessions: Sequence[TcpSession], base_ns: int | None = None) -> Timeline:
    """Start, end and verdict of every session, in the order given."""
    base = base_time_ns(sessions) if base_ns is None else base_ns
    n = len(sessions)
    ids = np.fromiter((s.id for s in sessions), dtype=np.int64, count=n)
    start = np.fromiter((s.first_ts_ns - base for s in sessions), dtype=np.float64, count=n) / 1e9
    end = np.fromiter((s.last_ts_ns - base for s in sessions), dtype=np.float64, count=n) / 1e9
    verdict = np.fromiter((VERDICTS.index(session_verdict(s)) for s in sessions), dtype=np.int64, count=n)
    return Timeline(ids, start, end, verdict, base)


@dataclass(frozen=True)
class ByteSeries:
    """Cumulative captured bytes of one direction at each delivery time."""

    seconds: FloatArray
    cumulative: IntArray


def bytes_over_time(session: TcpSession, direction: str, base_ns: int) -> ByteSeries:
    """Captured bytes of ``direction`` summed over the capture time of their packets.

    Pieces are ordered by time (retransmitted or reordered bytes are counted
    when their packet was captured), so the curve never goes down.
    """
    stream = session.stream(direction)
    count = len(stream.p_len)
    ts = np.frombuffer(stream.p_ts, dtype=np.int64, count=count).copy()
    lengths = np.frombuffer(stream.p_len, dtype=np.int64, count=count).copy()
    order = np.argsort(ts, kind="stable")
    seconds = (ts[order] - base_ns).astype(np.float64) / 1e9
    return ByteSeries(seconds, np.cumsum(lengths[order]))


def monologue_starts(monologues: Sequence[Monologue], base_ns: int) -> FloatArray:
    """Seconds after ``base_ns`` at which each monologue's first packet was captured."""
    return (
        np.fromiter((m.first_ts_ns - base_ns for m in monologues), dtype=np.float64, count=len(monologues))
        / 1e9
    )
