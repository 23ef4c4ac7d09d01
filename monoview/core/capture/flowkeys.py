"""Which flow each TCP row belongs to: both endpoints and the context, as one id.

A flow is the unordered pair of endpoints (address and port) within one
context (the VLAN tags, and the capture interface when interfaces are kept
apart).  Rows are grouped by a 64-bit hash of their canonical key (the lower
endpoint first), and every group is then checked field by field against its
first member, so a hash collision can never merge two flows: if one ever
happened the exact (slower) grouping by the key's fields takes over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from monoview.core.capture.scanrows import Rows

I64 = npt.NDArray[np.int64]
U64 = npt.NDArray[np.uint64]

KEY_FIELDS: Final = ("context", "family", "a_hi", "a_lo", "a_port", "b_hi", "b_lo", "b_port")
_MULT: Final = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class FlowKeys:
    """One row per flow: its canonical key and the row (or frame) where it first appears."""

    context: I64  # a context code: what names the flow besides its endpoints
    family: I64
    a_hi: U64
    a_lo: U64
    a_port: I64
    b_hi: U64
    b_lo: U64
    b_port: I64
    first: I64

    def __len__(self) -> int:
        return len(self.first)

    @classmethod
    def empty(cls) -> FlowKeys:
        """No flows."""
        i, u = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
        return cls(i, i, u, u, i, u, u, i, i)

    def take(self, index: npt.NDArray[np.intp]) -> FlowKeys:
        """The flows at ``index``."""
        return FlowKeys(*(getattr(self, name)[index] for name in (*KEY_FIELDS, "first")))

    @classmethod
    def concat(cls, parts: list[FlowKeys]) -> FlowKeys:
        """Flows of several parts, in order (duplicates are not merged here)."""
        return cls(*(np.concatenate([getattr(p, n) for p in parts]) for n in (*KEY_FIELDS, "first")))


def _mix(h: U64, column: npt.NDArray[np.int64] | U64) -> U64:
    """Fold one key column into the running hash (a multiply-xorshift round)."""
    h = (h ^ column.astype(np.uint64)) * _MULT
    out: U64 = h ^ (h >> np.uint64(29))
    return out


def _hash(columns: list[npt.NDArray[np.int64] | U64]) -> U64:
    h = np.full(len(columns[0]), 0x243F6A8885A308D3, dtype=np.uint64)
    for column in columns:
        h = _mix(h, column)
    return h


def group(columns: list[npt.NDArray[np.int64] | U64]) -> tuple[I64, I64]:
    """(first index, group id per element) of equal keys, ids in order of first appearance.

    ``columns`` are the key's fields, all of one length.
    """
    n = len(columns[0])
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _unique, first, inverse = np.unique(_hash(columns), return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    representative = first[inverse]
    if not all(np.array_equal(c, c[representative]) for c in columns):
        # A hash collision: group by the fields themselves.
        table = np.rec.fromarrays(columns)
        _unique, first, inverse = np.unique(table, return_index=True, return_inverse=True)
        inverse = inverse.ravel()
    # Renumber by first appearance, so ids never depend on hash values.
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(first), dtype=np.int64)
    rank[order] = np.arange(len(first))
    return first[order].astype(np.int64), rank[inverse]


def row_flows(rows: Rows, context: I64) -> tuple[FlowKeys, I64, npt.NDArray[np.bool_]]:
    """The flows of ``rows`` (in order of first row), each row's flow, and its direction.

    ``context`` is each row's context code.  Direction is True when the row
    was sent by the flow's second (higher) endpoint.
    """
    hi1, lo1, p1 = rows.src_hi, rows.src_lo, rows.sport
    hi2, lo2, p2 = rows.dst_hi, rows.dst_lo, rows.dport
    swap = (hi1 > hi2) | ((hi1 == hi2) & ((lo1 > lo2) | ((lo1 == lo2) & (p1 > p2))))
    a_hi, a_lo, a_port = np.where(swap, hi2, hi1), np.where(swap, lo2, lo1), np.where(swap, p2, p1)
    b_hi, b_lo, b_port = np.where(swap, hi1, hi2), np.where(swap, lo1, lo2), np.where(swap, p1, p2)
    columns = [context, rows.family, a_hi, a_lo, a_port, b_hi, b_lo, b_port]
    first, flow = group(columns)
    context, family = columns[0][first], columns[1][first]
    keys = FlowKeys(context, family, a_hi[first], a_lo[first], a_port[first], b_hi[first], b_lo[first],
                    b_port[first], first)  # fmt: skip
    return keys, flow, swap


def merge(parts: list[FlowKeys]) -> tuple[FlowKeys, list[I64]]:
    """Merge the flows of several parts (``first`` being global frame numbers there).

    Returns the merged flows, numbered by first appearance, and for each part
    the global id of each of its flows.
    """
    whole = FlowKeys.concat(parts)
    first_member, ids = group([getattr(whole, name) for name in KEY_FIELDS])
    earliest = np.full(len(first_member), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(earliest, ids, whole.first)
    order = np.argsort(earliest, kind="stable")
    renumber = np.empty(len(order), dtype=np.int64)
    renumber[order] = np.arange(len(order))
    merged = whole.take(first_member[order])
    merged.first = earliest[order]
    mapping = renumber[ids]
    out, start = [], 0
    for part in parts:
        out.append(mapping[start : start + len(part)])
        start += len(part)
    return merged, out
