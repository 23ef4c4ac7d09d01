"""When a fuzz worker is replaced by a fresh one, and when a memory finding is run again.

A worker is one long-lived process, and the peak RSS of an input is measured
from a reset (``/proc/self/clear_refs``) that cannot go below the process's
current RSS: whatever heap an input leaves behind (a 12.6 MB input that peaked
at 482 MB, and glibc kept the pages) is charged to every input after it.  Nine
false memory outliers of the campaign (41:224860-868, 88 MB each alone) were
that.  So a worker whose RSS after an input stays more than ``recycle_mb``
above its fresh RSS (what it had when forked) is replaced, and so is one that
has run ``recycle_every`` inputs (slow growth: 88 MB to 170 MB over 25,000
inputs; over 3,000 inputs of one worker, seed 41, malloc's bytes in use grew
24.6 -> 28.0 MB in the first 500 and 0.6 MB a thousand after, Python's live
objects not at all: mostly fragmentation, of malloc's heap (10-20 MB free and
kept) and of Python's object arenas, 22 -> 35-47 MB); a fork of the parent
costs a few milliseconds.  And, as a hang must
be killed twice, the second time in a fresh worker, a memory finding counts
only when the input ran in a fresh worker (its first input): otherwise the
input is run again in one, and that run's outcome is the one recorded.

The 482 MB of 41:224819 itself was not monoview's either, but the heap that
making the input left (``harness.build``: 3,000 VLAN tags on a frame, 30,000
conflicting copies of it, 360 MB of records serialized, then cut at 12 MiB):
glibc keeps the pages of small chunks freed in the middle of its heap, so the
worker's RSS stayed at 464 MB when the input began.  :func:`release_heap` gives
them back before the peak is reset (a few microseconds when there is nothing
to give back).
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

MB = 1 << 20
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        process = ctypes.CDLL(None)  # the symbols the process has loaded: its libc's among them
    except OSError:
        return None
    return getattr(process, "malloc_trim", None)  # glibc's alone


_TRIM = _malloc_trim()


def release_heap() -> bool:
    """Return the free pages the C heap holds to the system (False: not on this libc), so that
    what was freed before is not in the RSS a peak is measured from."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True


def rss_mb() -> float:
    """This process's resident set now, in MB (0 where ``/proc`` cannot tell; ``statm``: a
    tenth of the cost of ``status``)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE / MB
    except (OSError, IndexError, ValueError):
        return 0.0


def retire_reason(outcome: dict[str, Any], recycle_mb: float, recycle_every: int) -> str | None:
    """Why the worker that sent ``outcome`` is to be replaced before its next input (None:
    it is not): ``rss`` (its heap stayed high) or ``every`` (it ran its share of inputs)."""
    fresh, now = outcome.get("worker_fresh_mb"), outcome.get("worker_rss_mb")
    if fresh is not None and now is not None and now - fresh > recycle_mb:
        return "rss"
    if recycle_every > 0 and outcome.get("worker_inputs", 0) + 1 >= recycle_every:
        return "every"
    return None


def recheck(outcome: dict[str, Any], found: list[tuple[str, str]]) -> bool:
    """Is ``outcome`` a memory finding to run again in a fresh worker before it counts (it ran
    after other inputs in its worker, whose heap its peak may include)?"""
    return any(cls == "memory" for cls, _sig in found) and outcome.get("worker_inputs", 0) > 0
