"""Set operations on integer arrays that do not import ``numpy.ma``.

``np.unique(values)`` with no ``return_*`` flag asks ``np.ma.is_masked`` first, and
``numpy.ma`` is not imported with numpy: its first use imports it, some 15 ms of
a ``monoview sessions`` run that needs no masked array (so do ``np.setdiff1d``
and ``np.unique(..., axis=0)``, through the same call).  These give the same
arrays as numpy's own functions, for the integer columns the index is made of.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T", bound=np.generic)


def unique(values: npt.NDArray[T]) -> npt.NDArray[T]:
    """The sorted distinct values of ``values`` (flattened): ``np.unique(values)``."""
    ordered = np.sort(values, axis=None)
    keep = np.ones(len(ordered), dtype=np.bool_)
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    out: npt.NDArray[T] = ordered[keep]
    return out


def unique_rows(pairs: npt.NDArray[T]) -> npt.NDArray[T]:
    """The distinct rows of a 2-D array, sorted (lexicographically): ``np.unique(pairs, axis=0)``."""
    if len(pairs) == 0:
        return pairs.copy()
    order = np.lexsort(pairs.T[::-1])
    ordered = pairs[order]
    keep = np.ones(len(ordered), dtype=np.bool_)
    keep[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    out: npt.NDArray[T] = ordered[keep]
    return out


def setdiff(values: npt.NDArray[T], away: npt.NDArray[T]) -> npt.NDArray[T]:
    """The sorted distinct values of ``values`` not in ``away``: ``np.setdiff1d(values, away)``."""
    kept = unique(values)
    return kept[~np.isin(kept, away)]


def among(values: npt.NDArray[np.integer], members: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """Which of the integer ``values`` are one of a few constant ``members`` (an ethertype,
    a protocol number): ``np.isin(values, members)``, by numpy's lookup table, which
    needs no sort (the sorting way, numpy's choice for a small batch, calls ``np.unique``)."""
    if not members:
        return np.zeros(values.shape, dtype=np.bool_)
    return np.isin(values, np.array(members, dtype=np.int64), kind="table")
