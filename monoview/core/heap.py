"""Freed memory given back to the system: glibc's malloc kept from hoarding numpy's arrays.

glibc serves an allocation above its mmap threshold (128 KiB) with a mapping of its own,
returned to the system when freed; but each such free raises the threshold to the freed
block's size (up to 32 MiB), so the next arrays of that size come from the heap, and a heap
only shrinks from its top.  A process that makes and frees arrays of a few MB by the
hundred (indexing, summarising and listing 300,000 sessions) then keeps what it freed:
the process listing 300,000 SYNs held 203 MB of its own memory where the arrays it still
used were 60 MB; with the threshold fixed at its default it held 130 MB at its peak.
Setting the threshold (``mallopt``) is what stops the raise.  Elsewhere (another C library,
another system) nothing is done.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Final

M_MMAP_THRESHOLD: Final = -3  # glibc's malloc.h
MMAP_THRESHOLD_BYTES: Final = 128 << 10  # glibc's default, kept from rising


def keep_big_blocks_mapped() -> bool:
    """Have glibc serve every block above ``MMAP_THRESHOLD_BYTES`` with a mapping of its own
    from now on, in this process and the ones it forks (True when it was set)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt to speak of)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


__all__ = ["keep_big_blocks_mapped"]
